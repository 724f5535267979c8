/*
 * Tests of the LED cue bus: frames read from a pty (the Teensy's side)
 * decode with the firmware's own decoder (contrib/teensy/me_cue_decoder.h),
 * also after corruption on the wire; the rate limit and per-parameter
 * coalescing; note order; a full port never blocks the worker; the port is
 * reopened after an unplug; UDP cues are JSON.  Time is injected.
 */
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../contrib/teensy/me_cue_decoder.h"
#include "core/engine.h"
#include "core/param.h"
#include "cfg/config.h"
#include "dev/led.h"
#include "rt/rtclock.h"
#include "testlib.h"

#define WAIT_NS (5 * NS_PER_SEC)
#define T0 (100 * NS_PER_SEC)

static struct event ev_note(int pitch, int vel)
{
	struct event e = {.type = EV_NOTE};
	e.u.note.pitch = (uint8_t)pitch;
	e.u.note.velocity = (uint8_t)vel;
	e.u.note.step = -1;
	e.u.note.dur = 100 * NS_PER_MS;
	return e;
}

static struct event ev_param(int id, double v)
{
	struct event e = {.type = EV_PARAM};
	e.u.param.id = (uint8_t)id;
	e.u.param.source = SRC_MIDI;
	e.u.param.value = v;
	return e;
}

static struct event ev_mode(int mode)
{
	struct event e = {.type = EV_MODE};
	e.u.mode.mode = (uint8_t)mode;
	return e;
}

static void nap(void)
{
	struct timespec ts = {0, 2000000};
	nanosleep(&ts, NULL);
}

static int new_pty_at(const char *link_path)
{
	char slave[128], tmp[600];
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave, sizeof slave) != 0)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.new", link_path);
	unlink(tmp);
	if (symlink(slave, tmp) < 0 || rename(tmp, link_path) < 0)
		return -1;
	return m;
}

/* Bytes the Teensy side has received so far (appended to buf). */
static size_t read_avail(int m, uint8_t *buf, size_t len, size_t cap)
{
	for (;;) {
		struct pollfd p = {.fd = m, .events = POLLIN};
		if (len == cap || poll(&p, 1, 20) <= 0)
			return len;
		ssize_t r = read(m, buf + len, cap - len);
		if (r <= 0)
			return len;
		len += (size_t)r;
	}
}

struct decoded {
	struct me_cue cue[4096];
	int n;
	struct me_cue_decoder dec;
};

static void decode(struct decoded *d, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (me_cue_decoder_feed(&d->dec, buf[i], &d->cue[d->n]) && d->n < 4095)
			d->n++;
}

/* Opens serial LEDs on a fresh pty and waits until the worker side has the port. */
static struct led *open_on_pty(const char *name, int rate, int *master, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", testlib_tmpdir(), name);
	*master = new_pty_at(path);
	if (*master < 0)
		return NULL;
	char spec[600];
	snprintf(spec, sizeof spec, "serial:%s", path);
	struct led_options o = {.backoff_first_ns = 2 * NS_PER_MS,
	                        .backoff_max_ns = 10 * NS_PER_MS};
	enum led_err err;
	struct led *l = led_open(spec, rate, &o, &err);
	if (!l)
		return NULL;
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	while (led_state(l) != LINK_CONNECTED && rtclock_mono_ns() < end)
		nap();
	return l;
}

static void test_specs(void)
{
	const char *good[] = {"none",
	                      "serial:/dev/ttyACM0",
	                      "serial:/dev/ttyACM0@9600",
	                      "udp:127.0.0.1:9000",
	                      "udp:[::1]:9000",
	                      "udp:teensy.local:7000"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CU_ASSERT_EQUAL(config_check_led_spec(good[i]), 0);
	const char *bad[] = {"",
	                     "serial:",
	                     "serial:/dev/x@fast",
	                     "udp:host",
	                     "udp::9000",
	                     "udp:h:0",
	                     "udp:h:70000",
	                     "udp:h:9x",
	                     "udp:[::1:9000",
	                     "tcp:x:1",
	                     "Serial:/dev/ttyACM0"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(config_check_led_spec(bad[i]), -1);
	enum led_err err;
	CU_ASSERT_PTR_NULL(led_open("none", 0, NULL, &err));
	CU_ASSERT_EQUAL(err, LED_ERR_RATE);
	CU_ASSERT_PTR_NULL(led_open("udp:127.0.0.1", 200, NULL, &err));
	CU_ASSERT_EQUAL(err, LED_ERR_SPEC);
	CU_ASSERT_PTR_NOT_NULL(strstr(led_strerror(LED_ERR_SPEC), "udp:HOST:PORT"));

	struct led *l = led_open("none", 200, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(led_state(l), LINK_OFF);
	struct event e = ev_note(60, 100);
	led_events(l, &e, 1, T0);
	led_close(l);
}

/* A note, a parameter and a mode reach the Teensy as the decoder's cues. */
static void test_serial_frames_decode(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char path[512];
	int m;
	struct led *l = open_on_pty("leds-decode", 200, &m, path, sizeof path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(led_state(l), LINK_CONNECTED);
	struct event ev[3] = {ev_note(60, 100), ev_param(P_TEMPO, 120.0), ev_mode(2)};
	int64_t now = T0;
	led_events(l, ev, 3, now);
	for (int i = 0; i < 20; i++) {
		now += 5 * NS_PER_MS;
		led_events(l, NULL, 0, now);
	}
	static uint8_t buf[4096];
	size_t len = read_avail(m, buf, 0, sizeof buf);
	static struct decoded d;
	memset(&d, 0, sizeof d);
	decode(&d, buf, len);
	CU_ASSERT_EQUAL_FATAL(d.n, 3);
	CU_ASSERT_EQUAL(d.cue[0].type, ME_CUE_NOTE);
	CU_ASSERT_EQUAL(d.cue[0].pitch, 60);
	CU_ASSERT_EQUAL(d.cue[0].velocity, 100);
	CU_ASSERT_EQUAL(d.cue[1].type, ME_CUE_PARAM);
	CU_ASSERT_EQUAL(d.cue[1].param, ME_CUE_PARAM_TEMPO);
	CU_ASSERT_DOUBLE_EQUAL(d.cue[1].value, 120.0, 1e-4);
	CU_ASSERT_EQUAL(d.cue[2].type, ME_CUE_MODE);
	CU_ASSERT_EQUAL(d.cue[2].index, 2);
	CU_ASSERT_EQUAL(d.dec.crc_errors + d.dec.framing_errors, 0);

	/* damage on the wire costs the damaged frame only */
	struct event more[4] = {ev_note(61, 1), ev_note(62, 2), ev_note(63, 3), ev_note(64, 4)};
	led_events(l, more, 4, now);
	for (int i = 0; i < 20; i++) {
		now += 5 * NS_PER_MS;
		led_events(l, NULL, 0, now);
	}
	len = read_avail(m, buf, 0, sizeof buf);
	/* each: 0x00, COBS code, type, pitch, velocity, CRC-8, 0x00 */
	CU_ASSERT_EQUAL_FATAL(len, 4 * 7);
	CU_ASSERT_EQUAL(buf[3], 61);
	buf[3] ^= 0x10;                        /* a bit flip in the pitch of note 61 */
	memmove(buf + 10, buf + 11, len - 11); /* note 62 loses its pitch byte */
	len--;
	memset(&d, 0, sizeof d);
	decode(&d, buf, len);
	CU_ASSERT_EQUAL_FATAL(d.n, 2);
	CU_ASSERT_EQUAL(d.cue[0].pitch, 63);
	CU_ASSERT_EQUAL(d.cue[1].pitch, 64);
	CU_ASSERT_EQUAL(d.dec.crc_errors + d.dec.framing_errors, 2);
	led_close(l);
	close(m);
}

/*
 * 1000 parameter moves in one burst: at most one frame per 1/max_rate, each
 * parameter's last value delivered; a burst of notes keeps its order.
 */
static void test_rate_limit_and_coalescing(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char path[512];
	int m;
	const int rate = 200;
	struct led *l = open_on_pty("leds-rate", rate, &m, path, sizeof path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	const int params[5] = {P_TEMPO, P_FILTER_CUTOFF, P_REVERB_MIX, P_SWING, P_DENSITY};
	double last[5];
	static struct event ev[1000];
	for (int i = 0; i < 1000; i++) {
		int k = i % 5;
		double lo = param_table[params[k]].min, hi = param_table[params[k]].max;
		last[k] = lo + (hi - lo) * (i / 5) / 199.0;
		ev[i] = ev_param(params[k], last[k]);
	}
	for (int i = 0; i < 40; i++)
		ev[1000 - 40 + i] = ev_note(20 + i, 64); /* last 40: notes */
	for (int k = 0; k < 5; k++) { /* the last param values before the notes */
		double lo = param_table[params[k]].min, hi = param_table[params[k]].max;
		int i = 959 - (4 - k);
		last[(i % 5)] = lo + (hi - lo) * (i / 5) / 199.0;
	}
	int64_t now = T0;
	led_events(l, ev, 1000, now);
	struct led_stats st;
	led_get_stats(l, &st);
	CU_ASSERT_EQUAL(st.cues, 1000);
	CU_ASSERT_EQUAL(st.frames, 1); /* one frame at once, not a burst */
	CU_ASSERT_TRUE(st.queued <= 5 + 40);
	CU_ASSERT_EQUAL(st.dropped_param + st.dropped_note, 0);

	/* 1 ms worker cycles for 300 ms: frames sent never exceed the rate */
	uint64_t sent_at_start = st.frames;
	for (int ms = 1; ms <= 300; ms++) {
		now += NS_PER_MS;
		led_events(l, NULL, 0, now);
		led_get_stats(l, &st);
		uint64_t allowed = sent_at_start + (uint64_t)ms * rate / 1000;
		if (st.frames > allowed) {
			CU_FAIL("more frames than max_rate allows");
			break;
		}
	}
	led_get_stats(l, &st);
	CU_ASSERT_EQUAL(st.queued, 0);
	CU_ASSERT_EQUAL(st.frames, 5 + 40);
	CU_ASSERT_EQUAL(st.coalesced, 960 - 5);

	static uint8_t buf[8192];
	size_t len = read_avail(m, buf, 0, sizeof buf);
	static struct decoded d;
	memset(&d, 0, sizeof d);
	decode(&d, buf, len);
	CU_ASSERT_EQUAL_FATAL(d.n, 45);
	for (int k = 0; k < 5; k++) {
		CU_ASSERT_EQUAL(d.cue[k].type, ME_CUE_PARAM);
		CU_ASSERT_EQUAL(d.cue[k].param, params[k]);
		CU_ASSERT_DOUBLE_EQUAL(d.cue[k].value, last[k], fabs(last[k]) * 1e-6 + 1e-6);
	}
	for (int i = 0; i < 40; i++) {
		CU_ASSERT_EQUAL(d.cue[5 + i].type, ME_CUE_NOTE);
		CU_ASSERT_EQUAL(d.cue[5 + i].pitch, 20 + i);
	}
	led_close(l);
	close(m);
}

/*
 * Nobody reads the port: the worker is never blocked, refusals are counted,
 * the queue stays bounded (oldest parameter cues go first), and once the
 * Teensy reads again every frame that went out is intact.
 */
static void test_port_full_never_blocks(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char path[512];
	int m;
	struct led *l = open_on_pty("leds-full", LED_RATE_MAX, &m, path, sizeof path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	int64_t now = T0;
	struct led_stats st;
	int i = 0;
	for (; i < 200000; i++) {
		struct event e[2] = {ev_note(i % 128, 1 + i % 127), ev_param(i % 6, 0.5)};
		led_events(l, e, 2, now);
		now += NS_PER_MS;
		led_get_stats(l, &st);
		if (st.port_full > 0 && st.dropped_note > 0)
			break;
	}
	CU_ASSERT_TRUE(st.port_full > 0);
	CU_ASSERT_TRUE(st.dropped_note > 0);
	CU_ASSERT_TRUE(st.dropped_param > 0); /* params went first */
	CU_ASSERT_TRUE(st.queued <= LED_QUEUE_DEFAULT);
	uint64_t frames_before = st.frames;

	static uint8_t buf[1 << 20];
	size_t len = 0;
	for (int k = 0; k < 2000; k++) {
		len = read_avail(m, buf, len, sizeof buf);
		now += NS_PER_MS;
		led_events(l, NULL, 0, now);
		led_get_stats(l, &st);
		if (st.queued == 0)
			break;
	}
	len = read_avail(m, buf, len, sizeof buf);
	CU_ASSERT_EQUAL(st.queued, 0);
	CU_ASSERT_TRUE(st.frames > frames_before);
	static struct decoded d;
	memset(&d, 0, sizeof d);
	decode(&d, buf, len);
	CU_ASSERT_EQUAL(d.dec.crc_errors + d.dec.framing_errors, 0);
	CU_ASSERT_EQUAL((uint64_t)d.dec.frames_ok, st.frames);
	led_close(l);
	close(m);
}

/* Unplugged: notes are dropped while away, the port reopens, state catches up. */
static void test_serial_reconnect(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char path[512];
	int m;
	struct led *l = open_on_pty("leds-replug", 200, &m, path, sizeof path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	int64_t now = T0;
	struct event n1 = ev_note(60, 1);
	led_events(l, &n1, 1, now);
	close(m);
	now += 10 * NS_PER_MS;
	struct event n2 = ev_note(61, 1);
	led_events(l, &n2, 1, now); /* the write finds the port gone */
	CU_ASSERT_EQUAL(led_state(l), LINK_RECONNECTING);
	struct event p = ev_param(P_REVERB_MIX, 0.75);
	struct event n3 = ev_note(62, 1);
	led_events(l, &p, 1, now);
	led_events(l, &n3, 1, now);
	struct led_stats st;
	led_get_stats(l, &st);
	CU_ASSERT_TRUE(st.dropped_offline >= 1);
	/* the state waits for the port: a worker that sleeps until next_due
	 * looks again within a second, or nothing would carry it out after
	 * the replug until the next event (minutes on a silent instrument) */
	int64_t due = led_next_due(l);
	CU_ASSERT(due > now && due <= now + NS_PER_SEC);

	m = new_pty_at(path);
	CU_ASSERT_FATAL(m >= 0);
	int64_t end = rtclock_mono_ns() + WAIT_NS;
	while (led_state(l) != LINK_CONNECTED && rtclock_mono_ns() < end)
		nap();
	CU_ASSERT_EQUAL_FATAL(led_state(l), LINK_CONNECTED);
	struct event n4 = ev_note(63, 1);
	for (int i = 0; i < 10; i++) {
		now += 10 * NS_PER_MS;
		led_events(l, i == 0 ? &n4 : NULL, i == 0, now);
	}
	static uint8_t buf[1024];
	size_t len = read_avail(m, buf, 0, sizeof buf);
	static struct decoded d;
	memset(&d, 0, sizeof d);
	decode(&d, buf, len);
	CU_ASSERT_EQUAL_FATAL(d.n, 2);
	CU_ASSERT_EQUAL(d.cue[0].type, ME_CUE_PARAM); /* the state waited */
	CU_ASSERT_EQUAL(d.cue[0].param, ME_CUE_PARAM_REVERB_MIX);
	CU_ASSERT_EQUAL(d.cue[1].type, ME_CUE_NOTE);
	CU_ASSERT_EQUAL(d.cue[1].pitch, 63);
	led_get_stats(l, &st);
	CU_ASSERT_EQUAL(st.reconnects, 1);
	led_close(l);
	close(m);
}

/* led_close() leaves the Teensy in its idle animation. */
static void test_close_sends_idle(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char path[512];
	int m;
	struct led *l = open_on_pty("leds-close", 200, &m, path, sizeof path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	led_events(l, NULL, 0, T0); /* adopt the port */
	led_close(l);
	uint8_t buf[64];
	size_t len = read_avail(m, buf, 0, sizeof buf);
	static struct decoded d;
	memset(&d, 0, sizeof d);
	decode(&d, buf, len);
	CU_ASSERT_EQUAL_FATAL(d.n, 1);
	CU_ASSERT_EQUAL(d.cue[0].type, ME_CUE_IDLE);
	CU_ASSERT_EQUAL(d.cue[0].on, 1);
	close(m);
}

/* A serial port that is not there yet: waiting, and the worker carries on. */
static void test_serial_missing_waits(void)
{
	char spec[600];
	snprintf(spec, sizeof spec, "serial:%s/no-teensy-here", testlib_tmpdir());
	enum led_err err;
	struct led *l = led_open(spec, 200, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(led_state(l), LINK_WAITING);
	struct event e = ev_note(60, 1);
	led_events(l, &e, 1, T0);
	struct led_stats st;
	led_get_stats(l, &st);
	CU_ASSERT_EQUAL(st.dropped_offline, 1);
	led_close(l);
}

/* UDP: each cue is one datagram holding one JSON object. */
static void test_udp_json(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CU_ASSERT_FATAL(s >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	CU_ASSERT_EQUAL_FATAL(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t al = sizeof a;
	getsockname(s, (struct sockaddr *)&a, &al);
	char spec[64];
	snprintf(spec, sizeof spec, "udp:127.0.0.1:%d", ntohs(a.sin_port));
	const char *modes[] = {"calm", "drive", "storm", NULL};
	struct led_options o = {.mode_names = modes};
	struct led *l = led_open(spec, 1000, &o, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(led_state(l), LINK_CONNECTED);
	struct event ev[3] = {ev_note(64, 90), ev_param(P_FILTER_CUTOFF, 1500.0), ev_mode(1)};
	int64_t now = T0;
	led_events(l, ev, 3, now);
	for (int i = 0; i < 5; i++) {
		now += NS_PER_MS;
		led_events(l, NULL, 0, now);
	}
	json_t *got[3] = {NULL, NULL, NULL};
	for (int i = 0; i < 3; i++) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, 1000) <= 0)
			break;
		char buf[512];
		ssize_t n = recv(s, buf, sizeof buf - 1, 0);
		CU_ASSERT_FATAL(n > 0);
		buf[n] = '\0';
		json_error_t je;
		got[i] = json_loads(buf, 0, &je);
		CU_ASSERT_PTR_NOT_NULL(got[i]);
		CU_ASSERT_TRUE(got[i] && json_is_object(got[i]));
	}
	CU_ASSERT_FATAL(got[0] && got[1] && got[2]);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(got[0], "type")), "note");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(got[0], "pitch")), 64);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(got[0], "velocity")), 90);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(got[1], "type")), "param");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(got[1], "name")),
	                       param_table[P_FILTER_CUTOFF].name);
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(got[1], "value")), 1500.0, 1e-6);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(got[2], "mode")), "drive");
	for (int i = 0; i < 3; i++)
		json_decref(got[i]);
	struct led_stats st;
	led_get_stats(l, &st);
	CU_ASSERT_EQUAL(st.frames, 3);
	led_close(l);
	close(s);
}

/*
 * A worker that sleeps until led_next_due() (injected time, no fixed cycle)
 * still sends every queued cue, one per frame spacing, never sooner; with
 * nothing queued there is nothing to wake for.
 */
static void test_next_due_drains_at_rate(void)
{
	char path[512];
	int m;
	const int rate = 100; /* one frame per 10 ms */
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	struct led *l = open_on_pty("leds-due", rate, &m, path, sizeof path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	int64_t now = T0;
	led_events(l, NULL, 0, now); /* adopt the port */
	CU_ASSERT_EQUAL(led_next_due(l), INT64_MAX);
	struct event ev[12];
	for (int i = 0; i < 12; i++)
		ev[i] = ev_note(40 + i, 64);
	led_events(l, ev, 12, now);
	int wakes = 0;
	int64_t prev = now;
	while (led_next_due(l) != INT64_MAX && wakes < 100) {
		int64_t due = led_next_due(l);
		CU_ASSERT(due >= prev + NS_PER_SEC / rate);
		prev = now = due;
		led_events(l, NULL, 0, now);
		wakes++;
	}
	CU_ASSERT_EQUAL(wakes, 11); /* the first frame left at once */
	struct led_stats st;
	led_get_stats(l, &st);
	CU_ASSERT_EQUAL(st.frames, 12);
	CU_ASSERT_EQUAL(st.queued, 0);
	static uint8_t buf[4096];
	size_t len = read_avail(m, buf, 0, sizeof buf);
	static struct decoded d;
	memset(&d, 0, sizeof d);
	decode(&d, buf, len);
	CU_ASSERT_EQUAL_FATAL(d.n, 12);
	for (int i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(d.cue[i].pitch, 40 + i);
	led_close(l);
	close(m);
}

TEST_SUITE(led, NULL, NULL, TEST_CASE(test_specs), TEST_CASE(test_serial_frames_decode),
           TEST_CASE(test_rate_limit_and_coalescing), TEST_CASE(test_port_full_never_blocks),
           TEST_CASE(test_serial_reconnect), TEST_CASE(test_close_sends_idle),
           TEST_CASE(test_serial_missing_waits), TEST_CASE(test_udp_json),
           TEST_CASE(test_next_due_drains_at_rate))
