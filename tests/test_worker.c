/*
 * Tests of the real-time worker with the real core: commands reach the
 * engine and come back as events to every sink, the snapshot follows, a new
 * configuration applies live, and stopping silences the sinks.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "rt/inq.h"
#include "rt/rtclock.h"
#include "rt/worker.h"
#include "testlib.h"

#define CAP 4096

struct capture {
	struct event ev[CAP];
	atomic_size_t n;
	atomic_int shutdowns;
	atomic_int fills;
};

static void cap_events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	struct capture *c = ctx;
	(void)now;
	for (size_t i = 0; i < n; i++) {
		size_t k = atomic_load(&c->n);
		if (k < CAP) {
			c->ev[k] = ev[i];
			atomic_store(&c->n, k + 1);
		}
	}
}

static void cap_fill(void *ctx, struct snapshot *s)
{
	struct capture *c = ctx;
	(void)s;
	atomic_fetch_add(&c->fills, 1);
}

static void cap_shutdown(void *ctx)
{
	struct capture *c = ctx;
	atomic_fetch_add(&c->shutdowns, 1);
}

static struct capture cap;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static struct worker *start(struct engine **e, struct engine_config *cfg, struct inq *q)
{
	memset(&cap, 0, sizeof cap);
	engine_config_default(cfg);
	cfg->mutation_enabled = false;
	*e = engine_new(cfg, 42);
	struct worker_options o = {.lookahead_ns = 50 * NS_PER_MS, .period_ns = 2 * NS_PER_MS};
	struct worker *w = worker_new(*e, cfg, q, &o);
	struct worker_sink s = {.name = "capture", .events = cap_events, .fill = cap_fill,
				.shutdown = cap_shutdown, .ctx = &cap};
	CU_ASSERT_EQUAL(worker_add_sink(w, &s), 0);
	CU_ASSERT_EQUAL(worker_start(w), 0);
	return w;
}

static size_t count(enum event_type t)
{
	size_t k = 0, n = atomic_load(&cap.n);
	for (size_t i = 0; i < n; i++)
		k += cap.ev[i].type == t;
	return k;
}

/* The sequencer plays on its own: notes arrive ahead of their time. */
static void test_plays_ahead(void)
{
	struct engine *e;
	struct engine_config cfg;
	struct worker *w = start(&e, &cfg, NULL);
	/* 400 ms of playing, or longer on a machine too busy to run the
	 * worker: until it has handed out a note (at most 10 s) */
	sleep_ms(400);
	for (int i = 0; i < 960 && count(EV_NOTE) == 0; i++)
		sleep_ms(10);
	size_t n = atomic_load(&cap.n);
	int64_t now = rtclock_mono_ns();
	worker_stop(w);
	CU_ASSERT(count(EV_NOTE) > 0);
	/* every event is handed out before its time, at most look-ahead early */
	for (size_t i = 0; i < n; i++)
		if (cap.ev[i].type == EV_NOTE && !cap.ev[i].live)
			CU_ASSERT(cap.ev[i].t <= now + 60 * NS_PER_MS);
	CU_ASSERT_EQUAL(atomic_load(&cap.shutdowns), 1);
	worker_free(w);
	engine_free(e);
}

/* A key command becomes a parameter event with source key, and the
 * snapshot shows the new value. */
static void test_command_and_snapshot(void)
{
	struct engine *e;
	struct engine_config cfg;
	struct worker *w = start(&e, &cfg, NULL);
	struct command c = {.type = CMD_SET_PARAM, .source = SRC_KEY, .param = P_TEMPO, .value = 133};
	CU_ASSERT(worker_command(w, WORKER_CMD_CONSOLE, &c));
	/* polled (at most 5 s), not timed: a busy machine may not run the
	 * worker within 100 ms */
	struct snapshot s;
	for (int i = 0; i < 500 && !(worker_snapshot(w, &s) && s.eng.value[P_TEMPO] == 133 &&
	    atomic_load(&cap.fills) > 0); i++)
		sleep_ms(10);
	CU_ASSERT(worker_snapshot(w, &s));
	CU_ASSERT_DOUBLE_EQUAL(s.eng.value[P_TEMPO], 133, 1e-9);
	CU_ASSERT_EQUAL(s.eng.source[P_TEMPO], SRC_KEY);
	CU_ASSERT_EQUAL(s.n_scales, 3);
	CU_ASSERT_STRING_EQUAL(s.scale_names[2], "pentatonic");
	CU_ASSERT(atomic_load(&cap.fills) > 0);
	worker_stop(w);
	size_t n = atomic_load(&cap.n);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		if (cap.ev[i].type == EV_PARAM && cap.ev[i].u.param.id == P_TEMPO &&
		    cap.ev[i].u.param.source == SRC_KEY)
			found = cap.ev[i].u.param.value == 133;
	CU_ASSERT(found);
	worker_free(w);
	engine_free(e);
}

/* MIDI from the input queue reaches the engine and its latency is measured. */
static void test_midi_path(void)
{
	struct engine *e;
	struct engine_config cfg;
	struct inq *q = inq_new(256);
	struct worker *w = start(&e, &cfg, q);
	struct midi_msg m = {.kind = MIDI_CC, .channel = 1, .number = 20, .value = 127};
	CU_ASSERT(inq_push(q, &m, rtclock_mono_ns()));
	worker_doorbell(w);
	struct snapshot s;
	for (int i = 0; i < 500 && !(worker_snapshot(w, &s) && s.eng.source[P_TEMPO] == SRC_MIDI); i++)
		sleep_ms(10);
	CU_ASSERT(worker_snapshot(w, &s));
	CU_ASSERT_EQUAL(s.eng.source[P_TEMPO], SRC_MIDI);
	worker_stop(w);
	CU_ASSERT(hist_count(worker_latency(w)) >= 1);
	int found = 0;
	size_t n = atomic_load(&cap.n);
	for (size_t i = 0; i < n; i++)
		if (cap.ev[i].type == EV_PARAM && cap.ev[i].u.param.id == P_TEMPO &&
		    cap.ev[i].u.param.source == SRC_MIDI)
			found = cap.ev[i].u.param.value == 150;	/* the tempo knob's top */
	CU_ASSERT(found);
	worker_free(w);
	engine_free(e);
	inq_free(q);
}

/* A reloaded configuration applies without stopping the worker. */
static void test_reconfigure(void)
{
	struct engine *e;
	struct engine_config cfg, next;
	struct worker *w = start(&e, &cfg, NULL);
	next = cfg;
	next.n_scales = 2;
	worker_reconfigure(w, &next);
	/* Applied, and the worker goes on beating (polled, not timed: on a
	 * loaded machine or under an emulator 80 ms may hold few loops). */
	struct snapshot s;
	for (int i = 0; i < 500 && !(worker_snapshot(w, &s) && s.n_scales == 2 &&
	    worker_heartbeat(w) > 10); i++)
		sleep_ms(10);
	CU_ASSERT(worker_snapshot(w, &s));
	CU_ASSERT_EQUAL(s.n_scales, 2);
	CU_ASSERT(worker_heartbeat(w) > 10);
	worker_stop(w);
	worker_free(w);
	engine_free(e);
}

TEST_SUITE(worker, NULL, NULL,
    TEST_CASE(test_plays_ahead),
    TEST_CASE(test_command_and_snapshot),
    TEST_CASE(test_midi_path),
    TEST_CASE(test_reconfigure))
