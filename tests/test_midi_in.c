/*
 * Tests of the MIDI input thread with the real thread and a pty standing in
 * for the Teensy: messages arrive stamped in the queue, the link reconnects
 * when the pty goes away and comes back at the same path, garbage is
 * survived, FIFOs work, and a missing PortMidi device only makes it wait.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg/config.h"
#include "dev/midi_in.h"
#include "rt/rtclock.h"
#include "testlib.h"

#define WAIT_NS (5 * NS_PER_SEC) /* generous: sanitizers and valgrind are slow */

static void nap(void)
{
	struct timespec ts = {0, 2000000};
	nanosleep(&ts, NULL);
}

static int wait_state(struct midi_in *mi, enum link_state s)
{
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	while (midi_in_state(mi) != s)
		if (rtclock_mono_ns() > end)
			return 0;
		else
			nap();
	return 1;
}

/* Drains until want inputs arrived (or the wait is over); returns how many. */
static size_t drain_n(struct inq *q, struct engine_input *out, size_t want)
{
	size_t got = 0;
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	while (got < want && rtclock_mono_ns() < end) {
		got += inq_drain(q, out + got, want - got);
		if (got < want)
			nap();
	}
	return got;
}

/* A new pty; the symlink at link_path points at its device side. */
static int new_pty_at(const char *link_path)
{
	char slave[128], tmp[600];
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave, sizeof slave) != 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.new", link_path);
	unlink(tmp);
	if (symlink(slave, tmp) < 0 || rename(tmp, link_path) < 0)
		return -1;
	return m;
}

static void link_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", testlib_tmpdir(), name);
}

static void test_specs(void)
{
	CU_ASSERT_EQUAL(config_check_midi_spec("auto"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("none"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("portmidi:Teensy MIDI"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("raw:/dev/snd/midiC1D0"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("raw:/dev/ttyAMA0@38400"), 0);
	const char *bad[] = {"",          "portmidi:", "raw:", "raw:/dev/x@fast",
	                     "alsa:hw:1", "Auto",      "raw"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(config_check_midi_spec(bad[i]), -1);
	CU_ASSERT_EQUAL(config_check_midi_spec(NULL), -1);

	struct inq *q = inq_new(16);
	enum midi_in_err err;
	CU_ASSERT_PTR_NULL(midi_in_start("serial:/dev/ttyACM0", q, NULL, &err));
	CU_ASSERT_EQUAL(err, MIDI_IN_ERR_SPEC);
	CU_ASSERT_PTR_NOT_NULL(strstr(midi_in_strerror(err), "raw:PATH[@BAUD]"));
	inq_free(q);
}

static void test_name_matching(void)
{
	CU_ASSERT_TRUE(midi_in_name_matches("Teensy MIDI", "teensy"));
	CU_ASSERT_TRUE(midi_in_name_matches("Teensy MIDI", "MIDI"));
	CU_ASSERT_FALSE(midi_in_name_matches("Teensy MIDI", "Launchpad"));
	/* auto: anything but a Through port */
	CU_ASSERT_FALSE(midi_in_name_matches("Midi Through Port-0", NULL));
	CU_ASSERT_FALSE(midi_in_name_matches("MIDI THROUGH", ""));
	CU_ASSERT_TRUE(midi_in_name_matches("Teensy MIDI", NULL));
	CU_ASSERT_FALSE(midi_in_name_matches(NULL, "x"));
}

/* What the Teensy plays reaches the queue, parsed and stamped. */
static void test_raw_pty_messages(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char path[512];
	link_path(path, sizeof path, "teensy-msgs");
	int m = new_pty_at(path);
	CU_ASSERT_FATAL(m >= 0);
	struct inq *q = inq_new(256);
	char spec[600];
	snprintf(spec, sizeof spec, "raw:%s", path);
	enum midi_in_err err;
	struct midi_in *mi = midi_in_start(spec, q, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
	CU_ASSERT_TRUE_FATAL(wait_state(mi, LINK_CONNECTED));
	char name[600];
	midi_in_port_name(mi, name, sizeof name);
	CU_ASSERT_STRING_EQUAL(name, path);

	const uint8_t bytes[] = {
	    0xB0, 0x01, 0x40, /* CC 1 = 64 on channel 1 */
	    0x90, 0x3C, 0x64, /* note on 60 */
	    0xF8,             /* clock */
	    0xFE,             /* active sensing: counted, not queued */
	    0xFA, 0xFB, 0xFC, /* start, continue, stop */
	    0x3C, 0x00,       /* running status: note on 60 velocity 0 = note off */
	    0xE1, 0x00, 0x40, /* pitch bend centre on channel 2 */
	};
	int64_t before = rtclock_mono_ns();
	CU_ASSERT_EQUAL_FATAL(write(m, bytes, sizeof bytes), (ssize_t)sizeof bytes);
	struct engine_input out[16];
	size_t n = drain_n(q, out, 8);
	int64_t after = rtclock_mono_ns();
	CU_ASSERT_EQUAL_FATAL(n, 8);
	const int kinds[] = {MIDI_CC,       MIDI_NOTE_ON, MIDI_CLOCK,    MIDI_START,
	                     MIDI_CONTINUE, MIDI_STOP,    MIDI_NOTE_OFF, MIDI_PITCH_BEND};
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(out[i].kind, INPUT_MIDI);
		CU_ASSERT_EQUAL(out[i].u.midi.kind, kinds[i]);
		CU_ASSERT_TRUE(out[i].t >= before && out[i].t <= after);
		if (i > 0)
			CU_ASSERT_TRUE(out[i].t >= out[i - 1].t);
	}
	CU_ASSERT_EQUAL(out[0].u.midi.number, 1);
	CU_ASSERT_EQUAL(out[0].u.midi.value, 64);
	CU_ASSERT_EQUAL(out[1].u.midi.number, 60);
	CU_ASSERT_EQUAL(out[1].u.midi.value, 100);
	CU_ASSERT_EQUAL(out[7].u.midi.channel, 2);
	CU_ASSERT_EQUAL(out[7].u.midi.value, 8192);

	struct midi_in_stats st;
	midi_in_get_stats(mi, &st);
	CU_ASSERT_EQUAL(st.messages[MIDI_CLOCK], 1);
	CU_ASSERT_EQUAL(st.messages[MIDI_START], 1);
	CU_ASSERT_EQUAL(st.messages[MIDI_STOP], 1);
	CU_ASSERT_EQUAL(st.messages[MIDI_CONTINUE], 1);
	CU_ASSERT_EQUAL(st.ignored, 1);
	CU_ASSERT_EQUAL(st.bytes, sizeof bytes);
	CU_ASSERT_EQUAL(st.connects, 1);
	midi_in_stop(mi);
	inq_free(q);
	close(m);
}

/* Unplug and replug: the link goes to reconnecting and comes back by path. */
static void test_raw_pty_reconnect(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char path[512];
	link_path(path, sizeof path, "teensy-replug");
	int m = new_pty_at(path);
	CU_ASSERT_FATAL(m >= 0);
	struct inq *q = inq_new(64);
	char spec[600];
	snprintf(spec, sizeof spec, "raw:%s", path);
	struct midi_in_options o = {.backoff_first_ns = 5 * NS_PER_MS,
	                            .backoff_max_ns = 20 * NS_PER_MS};
	struct midi_in *mi = midi_in_start(spec, q, &o, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
	CU_ASSERT_TRUE_FATAL(wait_state(mi, LINK_CONNECTED));

	close(m);
	CU_ASSERT_TRUE_FATAL(wait_state(mi, LINK_RECONNECTING));
	m = new_pty_at(path);
	CU_ASSERT_FATAL(m >= 0);
	CU_ASSERT_TRUE_FATAL(wait_state(mi, LINK_CONNECTED));
	CU_ASSERT_EQUAL(write(m, "\x90\x3c\x50", 3), 3);
	struct engine_input out[4];
	CU_ASSERT_EQUAL_FATAL(drain_n(q, out, 1), 1);
	CU_ASSERT_EQUAL(out[0].u.midi.kind, MIDI_NOTE_ON);
	CU_ASSERT_EQUAL(out[0].u.midi.value, 0x50);

	struct midi_in_stats st;
	midi_in_get_stats(mi, &st);
	CU_ASSERT_EQUAL(st.connects, 2);
	CU_ASSERT_EQUAL(st.disconnects, 1);
	midi_in_stop(mi);
	inq_free(q);
	close(m);
}

/* Line noise: random bytes never stop the input; a clean message after them gets through. */
static void test_raw_random_bytes(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char path[512];
	link_path(path, sizeof path, "teensy-noise");
	int m = new_pty_at(path);
	CU_ASSERT_FATAL(m >= 0);
	struct inq *q = inq_new(1024);
	char spec[600];
	snprintf(spec, sizeof spec, "raw:%s", path);
	struct midi_in *mi = midi_in_start(spec, q, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
	CU_ASSERT_TRUE_FATAL(wait_state(mi, LINK_CONNECTED));
	unsigned s = 99;
	uint8_t buf[1024];
	struct engine_input out[1024];
	for (int round = 0; round < 64; round++) {
		for (size_t i = 0; i < sizeof buf; i++) {
			s = s * 1664525u + 1013904223u;
			buf[i] = (uint8_t)(s >> 24);
		}
		CU_ASSERT_EQUAL(write(m, buf, sizeof buf), (ssize_t)sizeof buf);
		/* keep up like the worker does: drain until the thread has read it all */
		struct midi_in_stats st;
		int64_t end = rtclock_mono_ns() + WAIT_NS;
		do {
			inq_drain(q, out, 1024);
			midi_in_get_stats(mi, &st);
			if (st.bytes < (uint64_t)(round + 1) * sizeof buf)
				nap();
		} while (st.bytes < (uint64_t)(round + 1) * sizeof buf && rtclock_mono_ns() < end);
		inq_drain(q, out, 1024);
	}
	/* end any SysEx, then a note that must arrive intact */
	CU_ASSERT_EQUAL(write(m, "\xF7\x91\x40\x7F", 4), 4);
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	int found = 0;
	while (!found && rtclock_mono_ns() < end) {
		size_t n = inq_drain(q, out, 1024);
		for (size_t i = 0; i < n; i++)
			if (out[i].u.midi.kind == MIDI_NOTE_ON && out[i].u.midi.channel == 2 &&
			    out[i].u.midi.number == 0x40 && out[i].u.midi.value == 0x7F)
				found = 1;
		nap();
	}
	CU_ASSERT_TRUE(found);
	CU_ASSERT_EQUAL(midi_in_state(mi), LINK_CONNECTED);
	struct midi_in_stats st;
	midi_in_get_stats(mi, &st);
	CU_ASSERT_EQUAL(st.bytes, 64 * 1024 + 4);
	CU_ASSERT_TRUE(st.parse_errors > 0);
	CU_ASSERT_EQUAL(st.disconnects, 0);
	midi_in_stop(mi);
	inq_free(q);
	close(m);
}

static void test_raw_fifo(void)
{
	char path[512];
	link_path(path, sizeof path, "midi-fifo");
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	struct inq *q = inq_new(64);
	char spec[600];
	snprintf(spec, sizeof spec, "raw:%s", path);
	struct midi_in *mi = midi_in_start(spec, q, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
	CU_ASSERT_TRUE_FATAL(wait_state(mi, LINK_CONNECTED));
	for (int k = 0; k < 2; k++) { /* two writers one after the other */
		int w = open(path, O_WRONLY);
		CU_ASSERT_FATAL(w >= 0);
		CU_ASSERT_EQUAL(write(w, "\xB0\x07\x11", 3), 3);
		close(w);
		struct engine_input out[2];
		CU_ASSERT_EQUAL_FATAL(drain_n(q, out, 1), 1);
		CU_ASSERT_EQUAL(out[0].u.midi.kind, MIDI_CC);
		CU_ASSERT_EQUAL(out[0].u.midi.value, 0x11);
	}
	CU_ASSERT_EQUAL(midi_in_state(mi), LINK_CONNECTED);
	midi_in_stop(mi);
	inq_free(q);
	unlink(path);
}

/* A raw path that does not exist yet: waiting, then connected when it appears. */
static void test_raw_waits_for_device(void)
{
	char path[512];
	link_path(path, sizeof path, "teensy-later");
	unlink(path);
	struct inq *q = inq_new(64);
	char spec[600];
	snprintf(spec, sizeof spec, "raw:%s", path);
	struct midi_in_options o = {.backoff_first_ns = NS_PER_MS, .backoff_max_ns = 8 * NS_PER_MS};
	struct midi_in *mi = midi_in_start(spec, q, &o, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
	CU_ASSERT_EQUAL(midi_in_state(mi), LINK_WAITING);
	int m = new_pty_at(path);
	CU_ASSERT_FATAL(m >= 0);
	if (!testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		CU_ASSERT_TRUE(wait_state(mi, LINK_CONNECTED));
	midi_in_stop(mi);
	inq_free(q);
	close(m);
}

/*
 * No PortMidi device here: the input waits, rescans on its backoff schedule
 * (doubling up to the cap) and never crashes or exits.
 */
static void test_portmidi_missing_waits(void)
{
	struct inq *q = inq_new(16);
	struct midi_in_options o = {.backoff_first_ns = NS_PER_MS, .backoff_max_ns = 4 * NS_PER_MS};
	struct midi_in *mi = midi_in_start("portmidi:No Such Keyboard", q, &o, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	struct midi_in_stats st;
	do {
		nap();
		midi_in_get_stats(mi, &st);
	} while (st.attempts < 6 && rtclock_mono_ns() < end);
	CU_ASSERT_TRUE(st.attempts >= 6);
	CU_ASSERT_EQUAL(st.connects, 0);
	CU_ASSERT_EQUAL(midi_in_state(mi), LINK_WAITING);
	midi_in_stop(mi);

	/* with the default 2 s cap, a stop still ends the wait at once */
	mi = midi_in_start("auto", q, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
	CU_ASSERT_EQUAL(midi_in_state(mi), LINK_WAITING);
	midi_in_stop(mi);
	inq_free(q);
}

static void test_none(void)
{
	struct inq *q = inq_new(16);
	struct midi_in *mi = midi_in_start("none", q, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
	CU_ASSERT_EQUAL(midi_in_state(mi), LINK_OFF);
	CU_ASSERT_STRING_EQUAL(link_state_name(midi_in_state(mi)), "off");
	midi_in_stop(mi);
	inq_free(q);
}

/* The backoff schedule: doubling from first, capped at max. */
static void test_backoff(void)
{
	struct devlink_backoff b;
	devlink_backoff_init(&b, 0, 0);
	int64_t d[8];
	for (int i = 0; i < 8; i++)
		d[i] = devlink_backoff_next(&b);
	CU_ASSERT_EQUAL(d[0], DEVLINK_BACKOFF_FIRST_NS);
	CU_ASSERT_EQUAL(d[1], 2 * DEVLINK_BACKOFF_FIRST_NS);
	CU_ASSERT_EQUAL(d[5], 32 * DEVLINK_BACKOFF_FIRST_NS); /* 1.6 s */
	CU_ASSERT_EQUAL(d[6], DEVLINK_BACKOFF_MAX_NS);        /* 3.2 s capped at 2 s */
	CU_ASSERT_EQUAL(d[7], DEVLINK_BACKOFF_MAX_NS);
	devlink_backoff_reset(&b);
	CU_ASSERT_EQUAL(devlink_backoff_next(&b), DEVLINK_BACKOFF_FIRST_NS);
	CU_ASSERT_STRING_EQUAL(link_state_name(LINK_RECONNECTING), "reconnecting");
}

TEST_SUITE(midi_in, NULL, NULL, TEST_CASE(test_specs), TEST_CASE(test_name_matching),
           TEST_CASE(test_raw_pty_messages), TEST_CASE(test_raw_pty_reconnect),
           TEST_CASE(test_raw_random_bytes), TEST_CASE(test_raw_fifo),
           TEST_CASE(test_raw_waits_for_device), TEST_CASE(test_portmidi_missing_waits),
           TEST_CASE(test_none), TEST_CASE(test_backoff))
