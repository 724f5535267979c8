/*
 * Tests of engine_resync(), what the live worker does after a stall: no
 * step of the stall is played late, playing resumes on the step grid it
 * left (tempo phase and the pattern's place kept), a knob turned during the
 * stall still applies, and an engine that never stalls is not touched.
 */
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "testlib.h"

#define S NS_PER_SEC
#define MS NS_PER_MS
#define CAP 4096
#define TOL (40 * MS)   /* lateness tolerated before a resync */
#define AHEAD (50 * MS) /* the live look-ahead */

static struct event a[CAP], b[CAP];

/* Steady playing: no mutation, no idle, no drift (the grid stays one tempo). */
static void steady(struct engine_config *cfg, double swing)
{
	testlib_default_config(cfg);
	cfg->mutation_enabled = false;
	cfg->idle_timeout_ms = 0;
	cfg->drift = 0;
	cfg->swing = swing;
	cfg->density = 1;
}

/* Advances like the live worker: every 10 ms to now + look-ahead, with a
 * resync first; appends what came out to ev. */
static size_t play(struct engine *e, int64_t from, int64_t to, struct event *ev, size_t n,
                   int64_t *skipped)
{
	for (int64_t now = from; now <= to; now += 10 * MS) {
		int64_t k = engine_resync(e, now - TOL, now + AHEAD);
		if (skipped)
			*skipped += k;
		n += engine_advance(e, now + AHEAD, ev + n, CAP - n);
	}
	return n;
}

static size_t only_steps(const struct event *ev, size_t n, struct event *out, int64_t after)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == EV_STEP && ev[i].t >= after)
			out[m++] = ev[i];
	return m;
}

/* Without a stall the live loop with resync plays exactly what it plays without. */
static void test_no_stall_no_change(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg); /* swing, mutation, idle: all on */
	struct engine *e1 = engine_new(&cfg, 42), *e2 = engine_new(&cfg, 42);
	int64_t skipped = 0;
	size_t n1 = play(e1, 0, 20 * S, a, 0, &skipped);
	size_t n2 = 0;
	for (int64_t now = 0; now <= 20 * S; now += 10 * MS)
		n2 += engine_advance(e2, now + AHEAD, b + n2, CAP - n2);
	CU_ASSERT_EQUAL(skipped, 0);
	CU_ASSERT_EQUAL_FATAL(n1, n2);
	CU_ASSERT(n1 > 100);
	CU_ASSERT_EQUAL(memcmp(a, b, n1 * sizeof a[0]), 0);
	engine_free(e1);
	engine_free(e2);
}

/*
 * A 7 s stall: nothing of it comes out late, and after it the steps fall
 * on the times and pattern places of an engine that never stalled.
 */
static void check_stall(double swing)
{
	struct engine_config cfg;
	steady(&cfg, swing);
	struct engine *ref = engine_new(&cfg, 7), *e = engine_new(&cfg, 7);
	size_t nr = play(ref, 0, 20 * S, a, 0, NULL);
	int64_t skipped = 0;
	size_t n = play(e, 0, 5 * S, b, 0, &skipped);
	CU_ASSERT_EQUAL(skipped, 0);
	size_t before = n;
	int64_t resume = 12 * S; /* the owner was stopped from 5 s to 12 s */
	n = play(e, resume, 20 * S, b, n, &skipped);

	/* Skipped: every step the reference played in the stall, up to the
	 * resume point plus look-ahead. */
	int64_t last_before = 0;
	for (size_t i = 0; i < before; i++)
		if (b[i].type == EV_STEP)
			last_before = b[i].t;
	int64_t want = 0;
	for (size_t i = 0; i < nr; i++)
		want += a[i].type == EV_STEP && a[i].t > last_before && a[i].t < resume + AHEAD;
	CU_ASSERT_EQUAL(skipped, want);
	CU_ASSERT(skipped > 50);

	/* Nothing after the stall is late. */
	for (size_t i = before; i < n; i++)
		if (b[i].type == EV_NOTE || b[i].type == EV_STEP)
			CU_ASSERT(b[i].t >= resume + AHEAD);

	/* On the grid: the same step times and pattern places as the reference. */
	static struct event sr[CAP], se[CAP];
	size_t mr = only_steps(a, nr, sr, resume + AHEAD);
	size_t me = only_steps(b + before, n - before, se, resume + AHEAD);
	CU_ASSERT_EQUAL_FATAL(mr, me);
	CU_ASSERT(me > 30);
	for (size_t i = 0; i < me; i++) {
		CU_ASSERT_EQUAL(se[i].t, sr[i].t);
		CU_ASSERT_EQUAL(se[i].u.step.step, sr[i].u.step.step);
	}
	engine_free(ref);
	engine_free(e);
}

static void test_stall_resumes_on_grid(void)
{
	check_stall(0);
}

static void test_stall_resumes_on_grid_swung(void)
{
	check_stall(0.3);
}

/* A knob turned during the stall applies, at its own time. */
static void test_stall_keeps_inputs(void)
{
	struct engine_config cfg;
	steady(&cfg, 0);
	struct engine *e = engine_new(&cfg, 3);
	size_t n = play(e, 0, 2 * S, b, 0, NULL);
	struct engine_input in = {.kind = INPUT_COMMAND, .t = 3 * S};
	in.u.cmd = (struct command){
	    .type = CMD_SET_PARAM, .source = SRC_API, .param = P_FILTER_CUTOFF, .value = 900};
	engine_input(e, &in);
	size_t before = n;
	CU_ASSERT(engine_resync(e, 6 * S - TOL, 6 * S + AHEAD) > 0);
	n += engine_advance(e, 6 * S + AHEAD, b + n, CAP - n);
	bool seen = false;
	for (size_t i = before; i < n; i++)
		if (b[i].type == EV_PARAM && b[i].u.param.id == P_FILTER_CUTOFF) {
			seen = true;
			CU_ASSERT_EQUAL(b[i].t, 3 * S);
			CU_ASSERT_EQUAL(b[i].u.param.value, 900);
		}
	CU_ASSERT(seen);
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.value[P_FILTER_CUTOFF], 900);
	engine_free(e);
}

/* Paused, or late by less than the tolerance: nothing moves. */
static void test_no_resync_when_paused_or_on_time(void)
{
	struct engine_config cfg;
	steady(&cfg, 0);
	struct engine *e = engine_new(&cfg, 5);
	size_t n = play(e, 0, S, b, 0, NULL);
	/* The next step is due within the look-ahead: on time. */
	CU_ASSERT_EQUAL(engine_resync(e, S, S + AHEAD), 0);
	struct engine_input in = {.kind = INPUT_COMMAND, .t = S};
	in.u.cmd = (struct command){.type = CMD_PAUSE, .source = SRC_KEY};
	engine_input(e, &in);
	n += engine_advance(e, S + AHEAD, b + n, CAP - n);
	CU_ASSERT_EQUAL(engine_resync(e, 9 * S, 9 * S), 0);
	(void)n;
	engine_free(e);
}

TEST_SUITE(engine_resync, NULL, NULL, TEST_CASE(test_no_stall_no_change),
           TEST_CASE(test_stall_resumes_on_grid), TEST_CASE(test_stall_resumes_on_grid_swung),
           TEST_CASE(test_stall_keeps_inputs), TEST_CASE(test_no_resync_when_paused_or_on_time))
