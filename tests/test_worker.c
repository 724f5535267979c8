/*
 * Tests of the real-time worker with the real core: commands reach the
 * engine and come back as events to every sink, the snapshot follows, a new
 * configuration applies live, and stopping silences the sinks.
 */
#include <pthread.h>
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
	testlib_default_config(cfg);
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
	sleep_ms(400);
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
	sleep_ms(100);
	struct snapshot s;
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
	sleep_ms(50);
	struct snapshot s;
	CU_ASSERT(worker_snapshot(w, &s));
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
	worker_reconfigure(w, &next, NULL);
	sleep_ms(80);
	struct snapshot s;
	CU_ASSERT(worker_snapshot(w, &s));
	CU_ASSERT_EQUAL(s.n_scales, 2);
	CU_ASSERT(worker_heartbeat(w) > 10);
	worker_stop(w);
	worker_free(w);
	engine_free(e);
}

/* A reload reaches every sink on the worker's thread, once, with the new
 * engine configuration and the whole configuration it came with. */
static struct {
	atomic_int calls;
	int n_scales;
	const struct config *whole;
	pthread_t thread;
} rc_seen;

static void cap_reconfigure(void *ctx, const struct engine_config *eng, const struct config *cfg)
{
	(void)ctx;
	rc_seen.n_scales = eng->n_scales;
	rc_seen.whole = cfg;
	rc_seen.thread = pthread_self();
	atomic_fetch_add(&rc_seen.calls, 1);
}

static void test_reconfigure_sinks(void)
{
	struct engine_config cfg, next;
	testlib_default_config(&cfg);
	struct engine *e = engine_new(&cfg, 42);
	struct worker_options o = {.lookahead_ns = 50 * NS_PER_MS, .period_ns = 2 * NS_PER_MS};
	struct worker *w = worker_new(e, &cfg, NULL, &o);
	struct worker_sink s = {.name = "reload", .reconfigure = cap_reconfigure};
	memset(&rc_seen, 0, sizeof rc_seen);
	CU_ASSERT_EQUAL(worker_add_sink(w, &s), 0);
	CU_ASSERT_EQUAL(worker_start(w), 0);
	next = cfg;
	next.n_scales = 2;
	int token;	/* stands for the program's whole configuration */
	worker_reconfigure(w, &next, (const struct config *)(void *)&token);
	/* applied when worker_reconfigure returns */
	CU_ASSERT_EQUAL(atomic_load(&rc_seen.calls), 1);
	CU_ASSERT_EQUAL(rc_seen.n_scales, 2);
	CU_ASSERT_PTR_EQUAL(rc_seen.whole, (void *)&token);
	CU_ASSERT_FALSE(pthread_equal(rc_seen.thread, pthread_self()));
	worker_stop(w);
	/* stopped: the caller's thread applies it */
	next.n_scales = 1;
	worker_reconfigure(w, &next, NULL);
	CU_ASSERT_EQUAL(atomic_load(&rc_seen.calls), 2);
	CU_ASSERT_EQUAL(rc_seen.n_scales, 1);
	CU_ASSERT_PTR_NULL(rc_seen.whole);
	worker_free(w);
	engine_free(e);
}

TEST_SUITE(worker, NULL, NULL,
    TEST_CASE(test_plays_ahead),
    TEST_CASE(test_command_and_snapshot),
    TEST_CASE(test_midi_path),
    TEST_CASE(test_reconfigure),
    TEST_CASE(test_reconfigure_sinks))
