/*
 * The portmidi:NAME MIDI output and the shared PortMidi session against a
 * PortMidi stand-in (tests/fake_portmidi.c, linked instead of the library
 * in tests/pm_fake): what the machine without MIDI devices cannot show with
 * the real library.  The output connects to its device by name, sends each
 * message at its time and never before, with latency 0; a device unplugged
 * makes the link reconnect (by name, after a change of the device
 * directory) and counts a new generation; a rescan for one port reopens the
 * stream of another (an input keeps reading).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "fake_portmidi.h"
#include "dev/midi_out.h"
#include "dev/midi_pm.h"
#include "rt/rtclock.h"
#include "testlib.h"

#define WAIT_NS (5 * NS_PER_SEC)

static char dir[256], seq[300], snd[300];

static void nap(void)
{
	struct timespec ts = {0, 2 * 1000000};
	nanosleep(&ts, NULL);
}

static void add_device(int i, const char *name, int in, int out)
{
	snprintf(fake_pm.dev[i].name, sizeof fake_pm.dev[i].name, "%s", name);
	fake_pm.dev[i].input = in;
	fake_pm.dev[i].output = out;
	fake_pm.dev[i].plugged = 1;
}

/* A device came or went: the directory's time moves, as /dev/snd's does. */
static void touch_snd(void)
{
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	struct timespec before;
	struct stat st;
	stat(snd, &st);
	before = st.st_mtim;
	do {
		nap();
		utimensat(AT_FDCWD, snd, ts, 0);
		stat(snd, &st);
	} while (st.st_mtim.tv_sec == before.tv_sec && st.st_mtim.tv_nsec == before.tv_nsec);
}

static int setup(void)
{
	snprintf(dir, sizeof dir, "%s/pmfake", testlib_tmpdir());
	if (mkdir(dir, 0700) != 0)
		return -1;
	snprintf(seq, sizeof seq, "%s/seq", dir);
	snprintf(snd, sizeof snd, "%s/snd", dir);
	int fd = open(seq, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || mkdir(snd, 0700) != 0)
		return -1;
	close(fd);
	midi_pm_set_paths(seq, snd);
	memset(&fake_pm, 0, sizeof fake_pm);
	add_device(0, "Midi Through Port-0", 1, 1);
	add_device(1, "Volca Beats", 0, 1);
	add_device(2, "Teensy MIDI", 1, 0);
	return 0;
}

static int cleanup(void)
{
	unlink(seq);
	rmdir(snd);
	rmdir(dir);
	return 0;
}

static int wait_state(struct midi_out *mo, enum link_state s)
{
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	while (midi_out_state(mo) != s && rtclock_mono_ns() < end)
		nap();
	return midi_out_state(mo) == s;
}

/* Pumps like the worker until the schedule is empty. */
static void pump_all(struct midi_out *mo)
{
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	while (midi_out_next_due(mo) != INT64_MAX && rtclock_mono_ns() < end) {
		midi_out_pump(mo, rtclock_mono_ns());
		nap();
	}
}

static int wait_written(int dev, int n)
{
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	while (fake_pm.dev[dev].n_out < n && rtclock_mono_ns() < end)
		nap();
	return fake_pm.dev[dev].n_out >= n;
}

static void test_output_sends_on_time_and_reconnects(void)
{
	struct midi_out_options o = {.backoff_first_ns = NS_PER_MS,
	                             .backoff_max_ns = 8 * NS_PER_MS};
	struct midi_out *mo = midi_out_open("portmidi:volca", &o, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mo);
	CU_ASSERT_TRUE_FATAL(wait_state(mo, LINK_CONNECTED));
	CU_ASSERT_EQUAL(fake_pm.last_latency, 0); /* sent at once, no PortMidi queue */
	CU_ASSERT_EQUAL(fake_pm.dev[1].opens, 1);

	/* a note on, a clock pulse, the note off: each at its time, in order */
	int64_t t0 = rtclock_mono_ns() + 200 * NS_PER_MS;
	const uint8_t on[3] = {0x90, 60, 100}, off[3] = {0x80, 60, 0}, clk = 0xF8;
	midi_out_send(mo, t0 + 10 * NS_PER_MS, off, 3);
	midi_out_send(mo, t0, on, 3);
	midi_out_send(mo, t0 + 5 * NS_PER_MS, &clk, 1);
	midi_out_pump(mo, rtclock_mono_ns()); /* nothing due yet */
	CU_ASSERT_EQUAL(fake_pm.dev[1].n_out, 0);
	pump_all(mo);
	CU_ASSERT_TRUE_FATAL(wait_written(1, 3));
	const struct fake_pm_device *d = &fake_pm.dev[1];
	CU_ASSERT_EQUAL(d->out[0], Pm_Message(0x90, 60, 100));
	CU_ASSERT_EQUAL(d->out[1], Pm_Message(0xF8, 0, 0));
	CU_ASSERT_EQUAL(d->out[2], Pm_Message(0x80, 60, 0));
	CU_ASSERT_TRUE(d->out_t[0] >= t0); /* never early */
	CU_ASSERT_TRUE(d->out_t[1] >= t0 + 5 * NS_PER_MS);
	CU_ASSERT_TRUE(d->out_t[2] >= t0 + 10 * NS_PER_MS);
	struct midi_out_stats st;
	midi_out_get_stats(mo, &st);
	CU_ASSERT_EQUAL(st.messages, 3);
	CU_ASSERT_EQUAL(st.bytes, 7);
	CU_ASSERT_EQUAL(hist_count(midi_out_lateness(mo)), 3);
	uint64_t gen = midi_out_generation(mo);

	/* unplugged: the next write fails, the link reconnects by name once
	 * the device is back and the device directory moved */
	fake_pm.dev[1].plugged = 0;
	midi_out_send(mo, rtclock_mono_ns(), &clk, 1);
	pump_all(mo);
	CU_ASSERT_TRUE(wait_state(mo, LINK_RECONNECTING));
	midi_out_send(mo, rtclock_mono_ns(), &clk, 1);
	pump_all(mo); /* due while away: dropped and counted */
	fake_pm.dev[1].plugged = 1;
	touch_snd();
	CU_ASSERT_TRUE_FATAL(wait_state(mo, LINK_CONNECTED));
	CU_ASSERT_EQUAL(fake_pm.dev[1].opens, 2);
	midi_out_send(mo, rtclock_mono_ns(), on, 3);
	pump_all(mo);
	CU_ASSERT_TRUE(wait_written(1, 4));
	CU_ASSERT_EQUAL(fake_pm.dev[1].out[3], Pm_Message(0x90, 60, 100));
	CU_ASSERT_EQUAL(midi_out_generation(mo), gen + 1); /* the clock resends its position */
	midi_out_get_stats(mo, &st);
	CU_ASSERT_EQUAL(st.reconnects, 1);
	CU_ASSERT_EQUAL(st.dropped_offline, 2);
	midi_out_close(mo);
}

/* A rescan for one port ends every stream: the session reopens the others
 * by name, and an input keeps reading. */
static void test_rescan_keeps_other_ports(void)
{
	char name[MIDI_PM_NAME_MAX], why[512];
	struct midi_pm_port *in = midi_pm_open(false, "teensy", name, sizeof name, why, sizeof why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_STRING_EQUAL(name, "Teensy MIDI");
	int opens = fake_pm.dev[2].opens, scans = fake_pm.scans;

	/* a device not plugged in: no rescan without a change, and the error
	 * lists the outputs there are */
	add_device(3, "Korg Minilogue", 0, 1);
	fake_pm.dev[3].plugged = 0;
	CU_ASSERT_PTR_NULL(midi_pm_open(true, "minilogue", name, sizeof name, why, sizeof why));
	CU_ASSERT_STRING_EQUAL(why, "no PortMidi output matches \"minilogue\" (outputs: "
	                            "\"Midi Through Port-0\", \"Volca Beats\")");
	CU_ASSERT_EQUAL(fake_pm.scans, scans);

	/* plugged in: the directory moves, the rescan finds it and reopens the
	 * input's stream, which reads on */
	fake_pm.dev[3].plugged = 1;
	touch_snd();
	struct midi_pm_port *out =
	    midi_pm_open(true, "minilogue", name, sizeof name, why, sizeof why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(fake_pm.scans, scans + 1);
	CU_ASSERT_EQUAL(fake_pm.dev[2].opens, opens + 1);
	fake_pm.dev[2].in[fake_pm.dev[2].n_in++] = Pm_Message(0xB0, 21, 127);
	uint32_t msg[4];
	CU_ASSERT_EQUAL(midi_pm_read(in, msg, 4, why, sizeof why), 1);
	CU_ASSERT_EQUAL(msg[0], (uint32_t)Pm_Message(0xB0, 21, 127));
	const uint8_t b[3] = {0x90, 64, 90};
	CU_ASSERT_EQUAL(midi_pm_write(out, b, 3, why, sizeof why), 0);

	/* the input's device gone at the next rescan: its read says so */
	fake_pm.dev[2].plugged = 0;
	CU_ASSERT_EQUAL(midi_pm_read(in, msg, 4, why, sizeof why), -1);
	midi_pm_close(in);
	midi_pm_close(out);
	fake_pm.dev[2].plugged = 1;
	fake_pm.dev[3].name[0] = '\0';
}

TEST_SUITE(midi_pm_fake, setup, cleanup, TEST_CASE(test_output_sends_on_time_and_reconnects),
           TEST_CASE(test_rescan_keeps_other_ports))
