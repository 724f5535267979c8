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
	struct worker_options o = {.lookahead_ns = 50 * NS_PER_MS};
	struct worker *w = worker_new(*e, cfg, q, &o);
	struct worker_sink s = {.name = "capture",
	                        .events = cap_events,
	                        .fill = cap_fill,
	                        .shutdown = cap_shutdown,
	                        .ctx = &cap};
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
	struct command c = {
	    .type = CMD_SET_PARAM, .source = SRC_KEY, .param = P_TEMPO, .value = 133};
	CU_ASSERT(worker_command(w, WORKER_CMD_CONSOLE, &c));
	/* polled (at most 5 s), not timed: a busy machine may not run the
	 * worker within 100 ms */
	struct snapshot s;
	for (int i = 0; i < 500 && !(worker_snapshot(w, &s) && s.eng.value[P_TEMPO] == 133 &&
	                             atomic_load(&cap.fills) > 0);
	     i++)
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
	for (int i = 0; i < 500 && !(worker_snapshot(w, &s) && s.eng.source[P_TEMPO] == SRC_MIDI);
	     i++)
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
			found = cap.ev[i].u.param.value == 150; /* the tempo knob's top */
	CU_ASSERT(found);
	worker_free(w);
	engine_free(e);
	inq_free(q);
}

/* The wake-up decision, with injected times: one look-ahead before the
 * engine's next unit, a sink's wish or the heartbeat, whichever is first. */
static void test_next_wake(void)
{
	int64_t now = 1000 * NS_PER_SEC;
	struct worker_wake ww = {.now = now,
	                         .engine_due = now + 125 * NS_PER_MS,
	                         .lookahead_ns = 50 * NS_PER_MS,
	                         .sink_due = INT64_MAX,
	                         .heartbeat_ns = NS_PER_SEC};
	/* just after due - look-ahead, so the advance to now + look-ahead takes it */
	CU_ASSERT_EQUAL(worker_next_wake(&ww), now + 75 * NS_PER_MS + 1);
	ww.sink_due = now + 30 * NS_PER_MS; /* an LED frame waiting */
	CU_ASSERT_EQUAL(worker_next_wake(&ww), now + 30 * NS_PER_MS);
	ww.sink_due = INT64_MAX;
	ww.engine_due = INT64_MAX; /* paused: only the heartbeat */
	CU_ASSERT_EQUAL(worker_next_wake(&ww), now + NS_PER_SEC);
	ww.engine_due = now + 10 * NS_PER_MS; /* inside the look-ahead: at once */
	CU_ASSERT_EQUAL(worker_next_wake(&ww), now);
	ww.engine_due = now - NS_PER_SEC; /* events waiting */
	CU_ASSERT_EQUAL(worker_next_wake(&ww), now);
	ww.engine_due = INT64_MAX;
	ww.heartbeat_ns = INT64_MAX; /* no overflow */
	CU_ASSERT_EQUAL(worker_next_wake(&ww), INT64_MAX);
}

static struct worker *start_slow(struct engine **e, struct engine_config *cfg, double bpm,
                                 int64_t heartbeat_ns, struct inq *q)
{
	memset(&cap, 0, sizeof cap);
	testlib_default_config(cfg);
	cfg->mutation_enabled = false;
	cfg->idle_timeout_ms = 0;
	cfg->bpm = bpm;
	cfg->steps_per_beat = 1;
	cfg->swing = 0;
	cfg->drift = 0;
	*e = engine_new(cfg, 42);
	struct worker_options o = {.lookahead_ns = 50 * NS_PER_MS, .heartbeat_ns = heartbeat_ns};
	struct worker *w = worker_new(*e, cfg, q, &o);
	struct worker_sink s = {.name = "capture",
	                        .events = cap_events,
	                        .fill = cap_fill,
	                        .shutdown = cap_shutdown,
	                        .ctx = &cap};
	CU_ASSERT_EQUAL(worker_add_sink(w, &s), 0);
	CU_ASSERT_EQUAL(worker_start(w), 0);
	return w;
}

/* Waits up to ms for an event of type t (from index from on); its index or -1. */
static long wait_event(enum event_type t, size_t from, int ms)
{
	for (int i = 0; i <= ms; i++) {
		size_t n = atomic_load(&cap.n);
		for (size_t k = from; k < n; k++)
			if (cap.ev[k].type == t)
				return (long)k;
		sleep_ms(1);
	}
	return -1;
}

/* No fixed period: at 60 BPM, one step a second, the worker loops about
 * once a step (plus the heartbeat), not 100 times a second; each step is
 * still handed out before its time and never more than one look-ahead
 * early. */
static void test_sleeps_until_due(void)
{
	struct engine *e;
	struct engine_config cfg;
	struct worker *w = start_slow(&e, &cfg, 60, NS_PER_SEC, NULL);
	sleep_ms(100);
	uint64_t hb0 = worker_heartbeat(w);
	sleep_ms(2000);
	uint64_t loops = worker_heartbeat(w) - hb0;
	worker_stop(w);
	CU_ASSERT(loops >= 2); /* the steps */
	CU_ASSERT(loops <= 8); /* a 10 ms period: 200 */
	size_t n = atomic_load(&cap.n), steps = 0;
	for (size_t i = 0; i < n; i++)
		steps += cap.ev[i].type == EV_STEP;
	CU_ASSERT(steps >= 2);
	worker_free(w);
	engine_free(e);
}

/* Paused (nothing due, heartbeat 10 s), a command and a MIDI message that
 * arrive while it sleeps are taken at once: the doorbell and the input
 * queue's wake-up cut the sleep short. */
static void test_input_wakes_a_long_sleep(void)
{
	struct engine *e;
	struct engine_config cfg;
	struct inq *q = inq_new(256);
	struct worker *w = start_slow(&e, &cfg, 60, 10 * NS_PER_SEC, q);
	struct command c = {.type = CMD_PAUSE, .source = SRC_KEY};
	CU_ASSERT(worker_command(w, WORKER_CMD_CONSOLE, &c));
	CU_ASSERT(wait_event(EV_TRANSPORT, 0, 2000) >= 0);
	sleep_ms(200); /* asleep now, until the heartbeat 10 s away */
	uint64_t hb = worker_heartbeat(w);
	size_t from = atomic_load(&cap.n);
	c = (struct command){
	    .type = CMD_SET_PARAM, .source = SRC_KEY, .param = P_TEMPO, .value = 91};
	int64_t t0 = rtclock_mono_ns();
	CU_ASSERT(worker_command(w, WORKER_CMD_CONSOLE, &c));
	long k = wait_event(EV_PARAM, from, 2000);
	CU_ASSERT(k >= 0);
	CU_ASSERT(rtclock_mono_ns() - t0 < 2 * NS_PER_SEC);
	CU_ASSERT(worker_heartbeat(w) > hb);
	/* MIDI: the input thread pushes and the queue's own eventfd wakes it */
	from = atomic_load(&cap.n);
	struct midi_msg m = {.kind = MIDI_CC, .channel = 1, .number = 20, .value = 0};
	CU_ASSERT(inq_push(q, &m, rtclock_mono_ns()));
	k = wait_event(EV_PARAM, from, 2000);
	CU_ASSERT(k >= 0);
	if (k >= 0)
		CU_ASSERT_EQUAL(cap.ev[k].u.param.source, SRC_MIDI);
	CU_ASSERT(hist_count(worker_latency(w)) >= 1);
	/* resumed: steps come every second again at once, not after the 10 s
	 * sleep it had planned while paused */
	from = atomic_load(&cap.n);
	c = (struct command){.type = CMD_PAUSE, .source = SRC_KEY};
	CU_ASSERT(worker_command(w, WORKER_CMD_CONSOLE, &c));
	k = wait_event(EV_STEP, from, 2000);
	CU_ASSERT(k >= 0);
	CU_ASSERT(k >= 0 && wait_event(EV_STEP, (size_t)k + 1, 3000) >= 0);
	worker_stop(w);
	worker_free(w);
	engine_free(e);
	inq_free(q);
}

/* A faster tempo shortens the sleep: at 30 BPM (2 s a step) the tempo
 * knob's top (150 BPM, 0.4 s) makes the steps after the one already on its
 * way come every 0.4 s, not 2 s: five steps within 5 s of the first (3.2 s
 * after it; at 30 BPM three). */
static void test_tempo_change_shortens_sleep(void)
{
	struct engine *e;
	struct engine_config cfg;
	struct worker *w = start_slow(&e, &cfg, 30, 10 * NS_PER_SEC, NULL);
	long k = wait_event(EV_STEP, 0, 2000); /* the first step */
	CU_ASSERT(k >= 0);
	struct command c = {
	    .type = CMD_SET_PARAM, .source = SRC_KEY, .param = P_TEMPO, .value = 150};
	CU_ASSERT(worker_command(w, WORKER_CMD_CONSOLE, &c));
	/* the step on its way, then 0.4 s apart */
	for (int i = 0; i < 4 && k >= 0; i++)
		k = wait_event(EV_STEP, (size_t)k + 1, 5000);
	worker_stop(w);
	size_t n = atomic_load(&cap.n), steps = 0;
	int64_t first = 0, last = 0, gap_min = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		if (cap.ev[i].type != EV_STEP)
			continue;
		if (!steps)
			first = cap.ev[i].t;
		if (steps++ && cap.ev[i].t - last < gap_min)
			gap_min = cap.ev[i].t - last;
		last = cap.ev[i].t;
	}
	CU_ASSERT(steps >= 5);
	CU_ASSERT(last - first < 5 * NS_PER_SEC); /* at 30 BPM: 8 s */
	CU_ASSERT(gap_min < 500 * NS_PER_MS);
	worker_free(w);
	engine_free(e);
}

/* A reader gets a snapshot published after it asked (at most
 * snapshot_period_ns old) although the worker has nothing else to do, and
 * a command sent just before shows in it. */
static void test_snapshot_on_request(void)
{
	struct engine *e;
	struct engine_config cfg;
	struct worker *w = start_slow(&e, &cfg, 20, 10 * NS_PER_SEC, NULL);
	struct snapshot s;
	CU_ASSERT(worker_snapshot(w, &s));
	sleep_ms(300); /* older than snapshot_period_ns (33 ms) */
	int64_t asked = rtclock_mono_ns();
	struct command c = {
	    .type = CMD_SET_PARAM, .source = SRC_KEY, .param = P_REVERB_MIX, .value = 0.31};
	CU_ASSERT(worker_command(w, WORKER_CMD_CONSOLE, &c));
	uint64_t seq = s.seq;
	CU_ASSERT(worker_snapshot(w, &s));
	CU_ASSERT(s.seq > seq);
	CU_ASSERT(worker_base(w) + s.uptime_ns >= asked);
	CU_ASSERT_DOUBLE_EQUAL(s.eng.value[P_REVERB_MIX], 0.31, 1e-9);
	/* a second read within snapshot_period_ns may share it */
	seq = s.seq;
	CU_ASSERT(worker_snapshot(w, &s));
	CU_ASSERT(s.seq >= seq);
	/* stopped: the last one, at once */
	worker_stop(w);
	CU_ASSERT(worker_snapshot(w, &s));
	worker_free(w);
	engine_free(e);
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
	/* Applied, and the worker goes on beating (polled, not timed: on a
	 * loaded machine or under an emulator 80 ms may hold few loops). */
	struct snapshot s;
	for (int i = 0;
	     i < 500 && !(worker_snapshot(w, &s) && s.n_scales == 2 && worker_heartbeat(w) > 10);
	     i++)
		sleep_ms(10);
	CU_ASSERT(worker_snapshot(w, &s));
	CU_ASSERT_EQUAL(s.n_scales, 2);
	uint64_t hb = worker_heartbeat(w);
	worker_wait_loops(w, 2);
	CU_ASSERT(worker_heartbeat(w) >= hb + 2);
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
	struct worker_options o = {.lookahead_ns = 50 * NS_PER_MS, .heartbeat_ns = 2 * NS_PER_MS};
	struct worker *w = worker_new(e, &cfg, NULL, &o);
	struct worker_sink s = {.name = "reload", .reconfigure = cap_reconfigure};
	memset(&rc_seen, 0, sizeof rc_seen);
	CU_ASSERT_EQUAL(worker_add_sink(w, &s), 0);
	CU_ASSERT_EQUAL(worker_start(w), 0);
	next = cfg;
	next.n_scales = 2;
	int token; /* stands for the program's whole configuration */
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

TEST_SUITE(worker, NULL, NULL, TEST_CASE(test_plays_ahead), TEST_CASE(test_command_and_snapshot),
           TEST_CASE(test_midi_path), TEST_CASE(test_reconfigure),
           TEST_CASE(test_reconfigure_sinks), TEST_CASE(test_next_wake),
           TEST_CASE(test_sleeps_until_due), TEST_CASE(test_input_wakes_a_long_sleep),
           TEST_CASE(test_tempo_change_shortens_sleep), TEST_CASE(test_snapshot_on_request))
