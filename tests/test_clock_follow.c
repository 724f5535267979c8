/*
 * Tests of MIDI clock in and out: the pulse filter (clock_follow) with
 * seeded jitter, and the engine following an external clock (steps on the
 * pulses, Start/Stop/Continue, falling back after a gap) and sending one
 * (24 pulses a beat on the unswung grid).  Time is simulated: the loop
 * feeds each pulse at its arrival time and advances the engine the way the
 * worker does (to now + look-ahead, every millisecond).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock_follow.h"
#include "core/engine.h"
#include "core/rng.h"
#include "testlib.h"

#define PULSE_NS(bpm) (60e9 / ((bpm)*24.0))

/* Feeds pulses at bpm with +-jitter_ms uniform noise; returns the filter's
 * tempo after `seconds`. */
static double follow_for(struct clock_follow *f, struct rng *r, double bpm, double seconds,
                         double jitter_ms, double *t_ideal)
{
	double period = PULSE_NS(bpm);
	int n = (int)(seconds * 1e9 / period);
	for (int i = 0; i < n; i++) {
		*t_ideal += period;
		clock_follow_pulse(
		    f, (int64_t)llround(*t_ideal + rng_range(r, -1, 1) * jitter_ms * 1e6));
	}
	return clock_follow_bpm(f);
}

static void test_settles_under_jitter(void)
{
	double worst = 0, worst_raw = 0;
	for (uint64_t seed = 1; seed <= 50; seed++) {
		struct clock_follow f;
		struct rng r;
		rng_seed(&r, seed, 0);
		clock_follow_reset(&f);
		double t = 1e9;
		double bpm = follow_for(&f, &r, 120, 2.0, 1.0, &t);
		double err = fabs(bpm / 120 - 1);
		worst = err > worst ? err : worst;
		/* the last interval alone, which the fit replaces, is far off */
		int last = (f.head + CLOCK_FOLLOW_WINDOW - 1) % CLOCK_FOLLOW_WINDOW;
		int prev = (f.head + CLOCK_FOLLOW_WINDOW - 2) % CLOCK_FOLLOW_WINDOW;
		double raw = 60e9 / (24.0 * (double)(f.t[last] - f.t[prev]));
		double rerr = fabs(raw / 120 - 1);
		worst_raw = rerr > worst_raw ? rerr : worst_raw;
		/* the jitter shown: uniform +-1 ms has an rms of 0.577 ms */
		CU_ASSERT(f.jitter > 0.4e6 && f.jitter < 0.75e6);
	}
	CU_ASSERT(worst < 0.001);
	CU_ASSERT(worst_raw > 0.01);
}

static void test_tempo_step_no_overshoot(void)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct clock_follow f;
		struct rng r;
		rng_seed(&r, seed, 0);
		clock_follow_reset(&f);
		double t = 0;
		follow_for(&f, &r, 120, 3.0, 1.0, &t);
		double period = PULSE_NS(140), lo = 1e9, hi = 0, at_1s = 0;
		for (int i = 1; i * period <= 1.5e9; i++) {
			t += period;
			clock_follow_pulse(&f, (int64_t)llround(t + rng_range(&r, -1, 1) * 1e6));
			double b = clock_follow_bpm(&f);
			lo = b < lo ? b : lo;
			hi = b > hi ? b : hi;
			if (i * period <= 1e9)
				at_1s = b;
		}
		CU_ASSERT(fabs(at_1s / 140 - 1) < 0.01);
		CU_ASSERT(hi <= 140 * 1.01);
		CU_ASSERT(lo >= 120 * 0.99);
	}
}

/* ---- the engine ---- */

struct sim {
	struct engine *e;
	struct event ev[512];
	int64_t steps[4096];
	int n_steps;
	int64_t pulses[8192];
	int64_t pulse_idx[8192];
	int n_pulses;
	int syncs_on, syncs_off, paused, running;
	double held_bpm;
};

static void collect(struct sim *s, int64_t to)
{
	size_t n;
	while ((n = engine_advance(s->e, to, s->ev, 512)) > 0)
		for (size_t i = 0; i < n; i++) {
			const struct event *ev = &s->ev[i];
			if (ev->type == EV_STEP && s->n_steps < 4096)
				s->steps[s->n_steps++] = ev->t;
			if (ev->type == EV_CLOCK && s->n_pulses < 8192) {
				s->pulse_idx[s->n_pulses] = ev->u.clock.pulse;
				s->pulses[s->n_pulses++] = ev->t;
			}
			if (ev->type == EV_CLOCK_SYNC) {
				if (ev->u.sync.on)
					s->syncs_on++;
				else
					s->syncs_off++;
			}
			if (ev->type == EV_TRANSPORT) {
				if (ev->u.transport.running)
					s->running++;
				else
					s->paused++;
			}
			if (ev->type == EV_PARAM && ev->u.param.id == P_TEMPO)
				s->held_bpm = ev->u.param.value;
		}
}

static void feed(struct sim *s, int64_t t, int kind)
{
	struct engine_input in = {.kind = INPUT_MIDI, .t = t};
	in.u.midi.kind = (uint8_t)kind;
	engine_input(s->e, &in);
}

#define LOOKAHEAD (50 * NS_PER_MS)

/* Runs the engine from `from` to `to` (ns) in 1 ms ticks while pulses at
 * bpm (+-jitter) arrive from t_first on; returns the ideal time of the next
 * pulse.  ideal[] gets the ideal time of every pulse (index from t_first). */
static double run_pulses(struct sim *s, struct rng *r, int64_t from, int64_t to, double t_first,
                         double bpm, double jitter_ms, double *ideal, int *n_ideal)
{
	double next = t_first;
	for (int64_t now = from; now < to; now += NS_PER_MS) {
		while (next <= (double)now) {
			int64_t at = (int64_t)llround(next + rng_range(r, -1, 1) * jitter_ms * 1e6);
			if (ideal)
				ideal[(*n_ideal)++] = next;
			feed(s, at < now - NS_PER_MS ? now - NS_PER_MS : at, MIDI_CLOCK);
			next += PULSE_NS(bpm);
		}
		collect(s, now + LOOKAHEAD);
	}
	return next;
}

static struct engine *follow_engine(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.clock_source = CLOCK_SOURCE_MIDI;
	cfg.clock_timeout_ms = 500;
	cfg.bpm = 100; /* the internal tempo differs from the external one */
	cfg.swing = 0; /* swing would move every second step off its pulse */
	struct engine *e = engine_new(&cfg, 77);
	engine_start(e, 0);
	return e;
}

static void test_engine_follows_start_and_locks(void)
{
	static double ideal[4096];
	struct sim *s = calloc(1, sizeof *s);
	struct rng r;
	rng_seed(&r, 5, 0);
	s->e = follow_engine();
	collect(s, 200 * NS_PER_MS);
	int before = s->n_steps;
	CU_ASSERT(before > 0); /* the internal clock plays until a Start */
	s->n_steps = 0;
	/* Start at 0.5 s, the first pulse 1 ms later */
	feed(s, 500 * NS_PER_MS, MIDI_START);
	int n_ideal = 0;
	run_pulses(s, &r, 200 * NS_PER_MS, 10 * NS_PER_SEC, 501e6, 120, 1.0, ideal, &n_ideal);
	CU_ASSERT(s->syncs_on == 1);
	struct engine_state st;
	engine_get_state(s->e, &st);
	CU_ASSERT(st.clock_following);
	CU_ASSERT(fabs(st.clock_bpm / 120 - 1) < 0.001);
	CU_ASSERT(fabs(st.tempo_now / 120 - 1) < 0.001);
	/* every step sounds on a pulse 6k (k from the Start): within 1 ms of its
	 * ideal time from 2 s on; steps already handed out before the Start
	 * (a look-ahead's worth) come first */
	double worst = 0, step = 6 * PULSE_NS(120);
	int checked = 0, first = -1;
	for (int i = 0; i < s->n_steps; i++) {
		if (s->steps[i] < 500 * NS_PER_MS + LOOKAHEAD && first < 0 &&
		    fabs((double)s->steps[i] - ideal[0]) > 2e6)
			continue;
		if (first < 0)
			first = i;
		long k = lround(((double)s->steps[i] - ideal[0]) / step);
		CU_ASSERT_FATAL(k >= 0);
		if (6 * k >= n_ideal)
			break; /* handed out a look-ahead before its pulse was fed */
		double d = fabs((double)s->steps[i] - ideal[6 * k]);
		if (ideal[6 * k] >= 2.5e9) {
			worst = d > worst ? d : worst;
			checked++;
		}
	}
	CU_ASSERT(checked > 55);
	CU_ASSERT(worst < 1e6);
	/* the first step after Start lands on the first pulse */
	CU_ASSERT_FATAL(first >= 0);
	CU_ASSERT(fabs((double)s->steps[first] - ideal[0]) < 1.5e6);
	/* and then one step every 6 pulses, none missed nor doubled */
	int want = (int)((10e9 + LOOKAHEAD - ideal[0]) / step) + 1;
	CU_ASSERT(s->n_steps - first >= want - 1 && s->n_steps - first <= want + 1);
	engine_free(s->e);
	free(s);
}

static void test_engine_gap_falls_back_and_returns(void)
{
	struct sim *s = calloc(1, sizeof *s);
	struct rng r;
	rng_seed(&r, 9, 0);
	s->e = follow_engine();
	/* pulses at 132 BPM without a Start (joining a running clock) */
	double next = run_pulses(s, &r, 0, 3 * NS_PER_SEC, 10e6, 132, 0.5, NULL, NULL);
	(void)next;
	CU_ASSERT(s->syncs_on == 1);
	/* silence: after the 500 ms timeout the internal clock holds 132 */
	int steps_before = s->n_steps;
	collect(s, 5 * NS_PER_SEC);
	CU_ASSERT(s->syncs_off == 1);
	CU_ASSERT(fabs(s->held_bpm / 132 - 1) < 0.002);
	struct engine_state st;
	engine_get_state(s->e, &st);
	CU_ASSERT(!st.clock_following);
	CU_ASSERT(st.clock_gaps == 1);
	/* it kept playing through the gap at the held tempo: 2 s at 132 BPM */
	int during = s->n_steps - steps_before;
	CU_ASSERT(during >= 2 * 132 * 4 / 60 - 2 && during <= 2 * 132 * 4 / 60 + 4);
	/* pulses come back at 90 BPM: it follows again */
	run_pulses(s, &r, 5 * NS_PER_SEC, 8 * NS_PER_SEC, 5.0e9, 90, 0.5, NULL, NULL);
	CU_ASSERT(s->syncs_on == 2);
	engine_get_state(s->e, &st);
	CU_ASSERT(st.clock_following);
	CU_ASSERT(fabs(st.tempo_now / 90 - 1) < 0.002);
	int64_t last = s->steps[s->n_steps - 1], prev = s->steps[s->n_steps - 2];
	CU_ASSERT(llabs((last - prev) - (int64_t)llround(60e9 / 90 / 4)) < NS_PER_MS);
	engine_free(s->e);
	free(s);
}

static void test_engine_stop_continue(void)
{
	struct sim *s = calloc(1, sizeof *s);
	struct rng r;
	rng_seed(&r, 3, 0);
	s->e = follow_engine();
	feed(s, 0, MIDI_START);
	double next = run_pulses(s, &r, 0, 2 * NS_PER_SEC, 1e6, 120, 0.2, NULL, NULL);
	feed(s, 2 * NS_PER_SEC, MIDI_STOP);
	collect(s, 2 * NS_PER_SEC + LOOKAHEAD);
	int at_stop = s->n_steps;
	/* the clock keeps running while stopped (drum machines do): no steps */
	next = run_pulses(s, &r, 2 * NS_PER_SEC, 3 * NS_PER_SEC, next, 120, 0.2, NULL, NULL);
	CU_ASSERT(s->paused == 1);
	/* steps already handed out before the Stop may lie a look-ahead past it */
	CU_ASSERT(s->n_steps - at_stop == 0);
	struct engine_state st;
	engine_get_state(s->e, &st);
	CU_ASSERT(st.paused);
	feed(s, 3 * NS_PER_SEC, MIDI_CONTINUE);
	run_pulses(s, &r, 3 * NS_PER_SEC, 4 * NS_PER_SEC, next, 120, 0.2, NULL, NULL);
	CU_ASSERT(s->running == 1);
	CU_ASSERT(s->n_steps - at_stop >= 7);
	/* the first step after Continue is on the first pulse after it */
	CU_ASSERT(s->steps[at_stop] >= 3 * NS_PER_SEC && s->steps[at_stop] < next);
	engine_free(s->e);
	free(s);
}

static void test_engine_ignores_clock_when_internal(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	struct sim *s = calloc(1, sizeof *s);
	struct rng r;
	rng_seed(&r, 1, 0);
	s->e = engine_new(&cfg, 77);
	engine_start(s->e, 0);
	feed(s, 0, MIDI_STOP);
	run_pulses(s, &r, 0, 2 * NS_PER_SEC, 1e6, 150, 0.2, NULL, NULL);
	struct engine_state st;
	engine_get_state(s->e, &st);
	CU_ASSERT(!st.clock_following && !st.paused && s->syncs_on == 0);
	CU_ASSERT(fabs(st.tempo_now - cfg.bpm) < 1e-9);
	engine_free(s->e);
	free(s);
}

/* Clock out: 24 pulses a beat on the unswung grid. */
static void test_clock_out_pulses(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.clock_out = true;
	cfg.bpm = 120;
	cfg.drift = 0;
	cfg.swing = 0.3;
	cfg.mutation_enabled = false;
	struct sim *s = calloc(1, sizeof *s);
	s->e = engine_new(&cfg, 5);
	engine_start(s->e, 0);
	collect(s, 2 * NS_PER_SEC);
	/* 2 s at 120 BPM: 4 beats, 96 pulses, at exact multiples of 1/48 s */
	CU_ASSERT_EQUAL(s->n_pulses, 96);
	for (int i = 0; i < s->n_pulses; i++) {
		CU_ASSERT_FATAL(s->pulse_idx[i] == i);
		CU_ASSERT_FATAL(llabs(s->pulses[i] - (int64_t)llround(i * PULSE_NS(120))) <= 1);
	}
	/* a tempo change: from the next step on, pulses follow 60 BPM */
	struct engine_input in = {.kind = INPUT_COMMAND, .t = 2 * NS_PER_SEC};
	in.u.cmd.type = CMD_SET_PARAM;
	in.u.cmd.param = P_TEMPO;
	in.u.cmd.value = 60;
	in.u.cmd.source = SRC_KEY;
	engine_input(s->e, &in);
	int from = s->n_pulses;
	collect(s, 6 * NS_PER_SEC);
	int64_t d_last = s->pulses[s->n_pulses - 1] - s->pulses[s->n_pulses - 2];
	CU_ASSERT(llabs(d_last - (int64_t)llround(PULSE_NS(60))) <= 1);
	for (int i = from; i < s->n_pulses; i++)
		CU_ASSERT_FATAL(s->pulses[i] > s->pulses[i - 1] && s->pulse_idx[i] == i);
	/* pause: no pulses; resume: the index goes on from the next step */
	in.t = 6 * NS_PER_SEC;
	in.u.cmd.type = CMD_PAUSE;
	engine_input(s->e, &in);
	int at_pause = s->n_pulses;
	collect(s, 8 * NS_PER_SEC);
	CU_ASSERT(s->n_pulses - at_pause <= 3); /* those within the look-ahead */
	in.t = 8 * NS_PER_SEC;
	engine_input(s->e, &in);
	int at_resume = s->n_pulses;
	collect(s, 9 * NS_PER_SEC);
	CU_ASSERT(s->n_pulses - at_resume >= 23);
	CU_ASSERT(s->pulse_idx[at_resume] % 6 == 0);
	CU_ASSERT(s->pulses[at_resume] >= 8 * NS_PER_SEC);
	engine_free(s->e);
	free(s);
}

/* With the clock out off (the default) no pulse is emitted: the event list,
 * and so renders and logs, stay as they were. */
static void test_clock_out_off(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	struct sim *s = calloc(1, sizeof *s);
	s->e = engine_new(&cfg, 5);
	collect(s, 5 * NS_PER_SEC);
	CU_ASSERT(s->n_pulses == 0 && s->n_steps > 10);
	engine_free(s->e);
	free(s);
}

TEST_SUITE(clock_follow, NULL, NULL, TEST_CASE(test_settles_under_jitter),
           TEST_CASE(test_tempo_step_no_overshoot), TEST_CASE(test_engine_follows_start_and_locks),
           TEST_CASE(test_engine_gap_falls_back_and_returns), TEST_CASE(test_engine_stop_continue),
           TEST_CASE(test_engine_ignores_clock_when_internal), TEST_CASE(test_clock_out_pulses),
           TEST_CASE(test_clock_out_off))
