/*
 * Tests of the whole engine: determinism, scale changes on the bar, notes in
 * the scale, exact step times over hours, lookahead inputs, small buffers,
 * commands, and a ten-hour run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "core/scale.h"
#include "testlib.h"

#define S NS_PER_SEC
#define MS NS_PER_MS
#define CAP 8192

static struct event evs[CAP];

static struct engine_input cc_in(int64_t t, int num, int val)
{
	struct engine_input in = {.kind = INPUT_MIDI, .t = t};
	in.u.midi = (struct midi_msg){
	    .kind = MIDI_CC, .channel = 1, .number = (uint8_t)num, .value = (uint16_t)val};
	return in;
}

static struct engine_input cmd_in(int64_t t, int type, int param, double value)
{
	struct engine_input in = {.kind = INPUT_COMMAND, .t = t};
	in.u.cmd = (struct command){
	    .type = (uint8_t)type, .source = SRC_KEY, .param = (uint8_t)param, .value = value};
	return in;
}

/* A quiet config: no mutation, no idle, no swing, unless a test wants them. */
static void plain(struct engine_config *cfg)
{
	testlib_default_config(cfg);
	cfg->mutation_enabled = false;
	cfg->idle_timeout_ms = 0;
	cfg->swing = 0;
}

/* A scripted performance: knobs, buttons, scale and mode changes. */
static void script(struct engine *e, int64_t t_end, uint64_t seed, struct event *log, size_t *n_log,
                   size_t log_cap, size_t chunk)
{
	srand((unsigned)seed);
	int64_t t = 0, next_in = S;
	*n_log = 0;
	while (t < t_end) {
		t += 20 * MS;
		while (next_in < t) {
			int r = rand() % 6;
			struct engine_input in;
			if (r == 0)
				in = cc_in(next_in, 51, rand() % 128);
			else if (r == 1)
				in = cc_in(next_in, 20, rand() % 128);
			else if (r == 2)
				in = cc_in(next_in, 60, rand() % 128);
			else if (r == 3)
				in = cc_in(next_in, 24, rand() % 128);
			else if (r == 4) {
				in = cc_in(next_in, 0, 0);
				in.u.midi = (struct midi_msg){.kind = MIDI_NOTE_ON,
				                              .channel = 1,
				                              .number = (uint8_t)(60 + rand() % 12),
				                              .value = 100};
			} else
				in = cmd_in(next_in, CMD_NEXT_SCALE, 0, 0);
			engine_input(e, &in);
			next_in += (int64_t)(rand() % 4000 + 100) * MS;
		}
		for (;;) {
			size_t want = log_cap - *n_log < chunk ? log_cap - *n_log : chunk;
			size_t n = engine_advance(e, t, log + *n_log, want);
			*n_log += n;
			if (n < want || *n_log == log_cap)
				break;
		}
	}
}

static struct event run_a[60000], run_b[60000];

static void test_determinism(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.interval_min_s = 3;
	cfg.interval_max_s = 9;
	cfg.idle_timeout_ms = 5000;
	size_t na, nb;
	struct engine *a = engine_new(&cfg, 1234);
	script(a, 600 * S, 5, run_a, &na, 60000, 4096);
	/* A small output buffer changes nothing but the number of calls. */
	struct engine *b = engine_new(&cfg, 1234);
	script(b, 600 * S, 5, run_b, &nb, 60000, 3);
	CU_ASSERT(na > 1000 && na < 60000);
	CU_ASSERT_EQUAL_FATAL(na, nb);
	CU_ASSERT(memcmp(run_a, run_b, na * sizeof run_a[0]) == 0);
	engine_free(a);
	engine_free(b);
	/* Another seed, other music. */
	struct engine *c = engine_new(&cfg, 1235);
	script(c, 600 * S, 5, run_b, &nb, 60000, 4096);
	size_t ia = 0, ib = 0, same = 0, compared = 0;
	for (; compared < 500; compared++) {
		while (ia < na && run_a[ia].type != EV_NOTE)
			ia++;
		while (ib < nb && run_b[ib].type != EV_NOTE)
			ib++;
		if (ia >= na || ib >= nb)
			break;
		same += run_a[ia++].u.note.pitch == run_b[ib++].u.note.pitch;
	}
	CU_ASSERT(compared == 500 && same < compared / 2);
	engine_free(c);
}

/* Every note sounds in the scale active at its time, whatever happens. */
static void test_notes_in_scale(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.interval_min_s = 2;
	cfg.interval_max_s = 6;
	cfg.idle_timeout_ms = 7000;
	cfg.n_scales = 5;
	cfg.scales[3] = SCALE_WHOLE_TONE;
	cfg.scales[4] = SCALE_HARMONIC_MINOR;
	cfg.root = 57;
	for (int q = 0; q < 3; q++) {
		cfg.quantize_scale_changes = (enum quantize_when)q;
		struct engine *e = engine_new(&cfg, 40 + q);
		size_t n;
		script(e, 600 * S, 9 + q, run_a, &n, 60000, 4096);
		CU_ASSERT(n < 60000);
		/* Scale changes in time order (the log may list a live note earlier). */
		int64_t sc_t[4096];
		int sc_id[4096], sc_root[4096], n_sc = 0, notes = 0, bad = 0;
		for (size_t i = 0; i < n && n_sc < 4096; i++)
			if (run_a[i].type == EV_SCALE) {
				CU_ASSERT(n_sc == 0 || run_a[i].t >= sc_t[n_sc - 1]);
				sc_t[n_sc] = run_a[i].t;
				sc_id[n_sc] = run_a[i].u.scale.scale;
				sc_root[n_sc++] = run_a[i].u.scale.root;
			}
		CU_ASSERT(n_sc > 10);
		for (size_t i = 0; i < n; i++) {
			if (run_a[i].type != EV_NOTE)
				continue;
			int j = n_sc - 1;
			while (j > 0 && sc_t[j] > run_a[i].t)
				j--;
			notes++;
			bad += !scale_contains(sc_id[j], sc_root[j], run_a[i].u.note.pitch);
		}
		CU_ASSERT(notes > 500);
		CU_ASSERT_EQUAL(bad, 0);
		engine_free(e);
	}
}

/* Times of the steps (EV_STEP) from one advance to `to`. */
static size_t step_times(struct engine *e, int64_t to, int64_t *t, size_t cap)
{
	size_t m = 0, n;
	while ((n = engine_advance(e, to, evs, CAP)) > 0)
		for (size_t i = 0; i < n; i++)
			if (evs[i].type == EV_STEP && m < cap)
				t[m++] = evs[i].t;
	return m;
}

static int64_t exact(int64_t j, int64_t bpm)
{
	return (j * INT64_C(30000000000) + bpm) / (2 * bpm);
}

static void test_scale_on_next_bar(void)
{
	const int quantize[] = {QUANTIZE_BAR, QUANTIZE_BEAT, QUANTIZE_IMMEDIATE};
	const int every[] = {16, 4, 0};
	for (int q = 0; q < 3; q++) {
		struct engine_config cfg;
		plain(&cfg);
		cfg.swing = 0.2;
		cfg.quantize_scale_changes = (enum quantize_when)quantize[q];
		struct engine *e = engine_new(&cfg, 2);
		int64_t t[64];
		/* 21 steps played (one bar and a bit); then minor is asked for mid-bar. */
		size_t m = step_times(e, 2800 * MS, t, 64);
		CU_ASSERT_FATAL(m == 21);
		struct engine_input in = cc_in(2790 * MS, 51, 64);
		engine_input(e, &in);
		int64_t scale_t = -1;
		size_t n = engine_advance(e, 6 * S, evs, CAP);
		int64_t first_step_after = -1, boundary = -1;
		int64_t k = 21;
		for (size_t i = 0; i < n; i++) {
			if (evs[i].type == EV_SCALE) {
				scale_t = evs[i].t;
				CU_ASSERT_EQUAL(evs[i].u.scale.scale, SCALE_MINOR);
			}
			if (evs[i].type == EV_STEP) {
				if (first_step_after < 0)
					first_step_after = evs[i].t;
				if (every[q] && k % every[q] == 0 && boundary < 0)
					boundary = evs[i].t;
				k++;
			}
		}
		if (every[q]) {
			CU_ASSERT_EQUAL(scale_t, boundary);
		} else {
			CU_ASSERT(scale_t > t[20] && scale_t < first_step_after);
		}
		if (q == 0) {
			CU_ASSERT_EQUAL(boundary, exact(32, 110)); /* step 32 at 110 BPM */
		}
		engine_free(e);
	}
}

/* Ten hours of steps, each where the arithmetic puts it, tempo changing hourly. */
static void test_ten_hours_exact(void)
{
	static const int64_t tempos[] = {110, 97, 124, 72, 133, 110, 61, 300, 20, 88};
	struct engine_config cfg;
	plain(&cfg);
	struct engine *e = engine_new(&cfg, 8);
	int64_t k = 0, seg_k = 0, seg_t = 0, bpm = 110;
	int64_t errors = 0, steps = 0;
	for (int h = 0; h < 10; h++) {
		if (h > 0) {
			struct engine_input in =
			    cmd_in(h * 3600 * S, CMD_SET_PARAM, P_TEMPO, (double)tempos[h]);
			engine_input(e, &in);
		}
		for (int64_t to = h * 3600 * S + S; to <= (h + 1) * 3600 * S; to += S) {
			size_t n = engine_advance(e, to, evs, CAP);
			for (size_t i = 0; i < n; i++) {
				if (evs[i].type == EV_PARAM && evs[i].u.param.id == P_TEMPO) {
					/* The new tempo runs from the next step on. */
					seg_t += exact(k - seg_k, bpm);
					seg_k = k;
					bpm = llround(evs[i].u.param.value);
				}
				if (evs[i].type != EV_STEP)
					continue;
				errors += evs[i].t != seg_t + exact(k - seg_k, bpm);
				k++;
				steps++;
			}
		}
	}
	CU_ASSERT_EQUAL(errors, 0);
	CU_ASSERT(steps > 100000);
	engine_free(e);

	/* With a constant tempo, step 264000 is exactly ten hours in. */
	e = engine_new(&cfg, 8);
	int64_t last = -1, count = 0;
	for (int64_t to = 600 * S; to <= 36000 * S + 1; to += 600 * S) {
		size_t n;
		while ((n = engine_advance(e, to + (to == 36000 * S), evs, CAP)) > 0)
			for (size_t i = 0; i < n; i++)
				if (evs[i].type == EV_STEP) {
					last = evs[i].t;
					count++;
				}
	}
	CU_ASSERT_EQUAL(count, 264001);
	CU_ASSERT_EQUAL(last, 36000 * S);
	engine_free(e);
}

/* An input older than what was already played changes only what comes next. */
static void test_lookahead_input(void)
{
	struct engine_config cfg;
	plain(&cfg);
	struct engine *e = engine_new(&cfg, 8);
	int64_t t[64];
	size_t m = step_times(e, S, t, 64); /* steps 0..7 */
	CU_ASSERT_EQUAL_FATAL(m, 8);
	struct engine_input in = cc_in(900 * MS, 20, 127); /* 150 BPM, the knob's top */
	engine_input(e, &in);
	size_t n = engine_advance(e, 2 * S, evs, CAP);
	CU_ASSERT_FATAL(n > 2);
	CU_ASSERT_EQUAL(evs[0].type, EV_INPUT);
	CU_ASSERT_EQUAL(evs[0].t, 900 * MS);
	CU_ASSERT_EQUAL(evs[1].type, EV_PARAM);
	CU_ASSERT_EQUAL(evs[1].t, 900 * MS);
	int64_t prev = t[7];
	int k = 8;
	for (size_t i = 2; i < n; i++) {
		if (evs[i].type != EV_STEP)
			continue;
		int64_t want = k == 8 ? exact(8, 110) : prev + 100 * MS;
		CU_ASSERT_EQUAL(evs[i].t, want);
		CU_ASSERT(evs[i].t >= S || k == 8);
		prev = evs[i].t;
		k++;
	}
	CU_ASSERT(k > 16);
	engine_free(e);
}

static void test_commands(void)
{
	struct engine_config cfg;
	plain(&cfg);
	struct engine *e = engine_new(&cfg, 8);
	struct engine_state st;
	struct engine_input in = cmd_in(S, CMD_NUDGE_PARAM, P_REVERB_MIX, 5);
	engine_input(e, &in);
	in = cmd_in(S, CMD_NUDGE_PARAM, P_TEMPO, -10);
	engine_input(e, &in);
	in = cmd_in(S, CMD_NUDGE_PARAM, P_SEQUENCE_LENGTH, 3);
	engine_input(e, &in);
	in = cmd_in(S, CMD_CHAOS_TOGGLE, 0, 0);
	engine_input(e, &in);
	engine_advance(e, 2 * S, evs, CAP);
	engine_get_state(e, &st);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_REVERB_MIX], 0.35, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_TEMPO], 110 * pow(1.01, -10), 1e-9);
	CU_ASSERT_EQUAL(st.n_steps, 11);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_CHAOS_LOCK], 1, 1e-9);
	CU_ASSERT_EQUAL(st.source[P_CHAOS_LOCK], SRC_KEY);
	in = cmd_in(2 * S, CMD_CHAOS_TOGGLE, 0, 0);
	engine_input(e, &in);
	/* The next mode applies its profile: mystic is minor, slower, darker. */
	in = cmd_in(2 * S, CMD_NEXT_MODE, 0, 0);
	engine_input(e, &in);
	size_t n = engine_advance(e, 3 * S, evs, CAP);
	engine_get_state(e, &st);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_CHAOS_LOCK], 0.5, 1e-9);
	CU_ASSERT_EQUAL(st.mode, 1);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_TEMPO], 100, 1e-9);
	CU_ASSERT_EQUAL(st.source[P_TEMPO], SRC_MODE);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_FILTER_CUTOFF], 1400, 1e-9);
	int modes = 0;
	for (size_t i = 0; i < n; i++)
		modes += evs[i].type == EV_MODE && evs[i].u.mode.mode == 1;
	CU_ASSERT_EQUAL(modes, 1);
	engine_advance(e, 6 * S, evs, CAP);
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.scale, SCALE_MINOR);
	/* Steps from a preset and from the keyboard. */
	in = cmd_in(6 * S, CMD_SET_STEP, 0, 0);
	in.u.cmd.step = 3;
	in.u.cmd.step_data =
	    (struct engine_step){.prob = 0.25, .degree = 4, .velocity = 90, .length = 1.5, .on = 1};
	engine_input(e, &in);
	in = cmd_in(6 * S, CMD_TOGGLE_STEP, 0, 0);
	in.u.cmd.step = 5;
	engine_input(e, &in);
	in = cmd_in(6 * S, CMD_TOGGLE_STEP, 0, 0);
	in.u.cmd.step = 500;
	engine_input(e, &in);
	in = cmd_in(6 * S, CMD_SET_PARAM, 200, 0);
	engine_input(e, &in);
	engine_advance(e, 7 * S, evs, CAP);
	engine_get_state(e, &st);
	CU_ASSERT_DOUBLE_EQUAL(st.steps[3].prob, 0.25, 1e-9);
	CU_ASSERT_EQUAL(st.steps[3].degree, 4);
	CU_ASSERT_EQUAL(st.step_note[3], scale_degree_note(SCALE_MINOR, 60, 4));
	CU_ASSERT_EQUAL(st.steps[5].on, 0);
	CU_ASSERT_EQUAL(st.rejected, 2);
	/* Next scale cycles the configured scales. */
	in = cmd_in(7 * S, CMD_NEXT_SCALE, 0, 0);
	engine_input(e, &in);
	engine_advance(e, 10 * S, evs, CAP);
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.scale, SCALE_PENTATONIC);
	engine_free(e);
}

static void test_pause(void)
{
	struct engine_config cfg;
	plain(&cfg);
	struct engine *e = engine_new(&cfg, 8);
	engine_advance(e, S, evs, CAP);
	struct engine_input in = cmd_in(S, CMD_PAUSE, 0, 0);
	engine_input(e, &in);
	size_t n = engine_advance(e, 5 * S, evs, CAP);
	int transport = 0, steps = 0;
	for (size_t i = 0; i < n; i++) {
		if (evs[i].type == EV_TRANSPORT) {
			transport++;
			CU_ASSERT_EQUAL(evs[i].u.transport.running, 0);
			CU_ASSERT_EQUAL(evs[i].t, S);
		}
		steps += evs[i].type == EV_STEP;
	}
	CU_ASSERT_EQUAL(transport, 1);
	CU_ASSERT_EQUAL(steps, 0);
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT(st.paused);
	in.t = 5 * S;
	engine_input(e, &in);
	n = engine_advance(e, 6 * S, evs, CAP);
	int64_t first = -1;
	for (size_t i = 0; i < n; i++)
		if (evs[i].type == EV_STEP && first < 0)
			first = evs[i].t;
	CU_ASSERT_EQUAL(first, 5 * S);
	engine_free(e);
}

/* A remote surface's pause and step toggles say what they want, so a
 * repeated message (a resend, two surfaces) leaves the state as wanted
 * rather than flipping it back. */
static void test_set_pause_and_step_on(void)
{
	struct engine_config cfg;
	plain(&cfg);
	struct engine *e = engine_new(&cfg, 8);
	engine_advance(e, S, evs, CAP);
	struct engine_input in = cmd_in(S, CMD_SET_PAUSE, 0, 1);
	engine_input(e, &in);
	engine_input(e, &in);
	in = cmd_in(S, CMD_STEP_ON, 0, 0);
	in.u.cmd.step = 2;
	engine_input(e, &in);
	engine_input(e, &in);
	size_t n = engine_advance(e, 2 * S, evs, CAP);
	int transport = 0;
	for (size_t i = 0; i < n; i++)
		transport += evs[i].type == EV_TRANSPORT;
	CU_ASSERT_EQUAL(transport, 1);
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT(st.paused);
	CU_ASSERT_EQUAL(st.steps[2].on, 0);
	in = cmd_in(2 * S, CMD_SET_PAUSE, 0, 0);
	engine_input(e, &in);
	in = cmd_in(2 * S, CMD_STEP_ON, 0, 1);
	in.u.cmd.step = 2;
	engine_input(e, &in);
	in.u.cmd.step = ENGINE_MAX_STEPS;
	engine_input(e, &in);
	engine_advance(e, 3 * S, evs, CAP);
	engine_get_state(e, &st);
	CU_ASSERT(!st.paused);
	CU_ASSERT_EQUAL(st.steps[2].on, 1);
	CU_ASSERT_EQUAL(st.rejected, 1);
	engine_free(e);
}

/* Drift keeps the tempo within +-drift % of the set tempo, moving smoothly. */
static void test_drift(void)
{
	struct engine_config cfg;
	plain(&cfg);
	cfg.drift = 10;
	struct engine *e = engine_new(&cfg, 8);
	double lo = 1e9, hi = 0, prev = 110;
	int big_jumps = 0;
	for (int64_t to = S; to <= 3600 * S; to += S) {
		engine_advance(e, to, evs, CAP);
		struct engine_state st;
		engine_get_state(e, &st);
		lo = st.tempo_now < lo ? st.tempo_now : lo;
		hi = st.tempo_now > hi ? st.tempo_now : hi;
		big_jumps += fabs(st.tempo_now - prev) > 1.0;
		prev = st.tempo_now;
	}
	CU_ASSERT(lo >= 99 - 1e-9 && hi <= 121 + 1e-9);
	CU_ASSERT(hi - lo > 8); /* it does move */
	CU_ASSERT_EQUAL(big_jumps, 0);
	engine_free(e);
}

static void test_reconfigure(void)
{
	struct engine_config cfg;
	plain(&cfg);
	struct engine *e = engine_new(&cfg, 8);
	struct engine_input in = cc_in(S, 22, 127);
	engine_input(e, &in);
	engine_advance(e, 2 * S, evs, CAP);
	struct engine_state before, after;
	engine_get_state(e, &before);
	cfg.bpm = 90;
	cfg.reverb_mix = 0.1;
	cfg.n_scales = 1;
	cfg.scales[0] = SCALE_DORIAN;
	engine_reconfigure(e, &cfg);
	engine_advance(e, 5 * S, evs, CAP);
	engine_get_state(e, &after);
	CU_ASSERT_DOUBLE_EQUAL(after.value[P_TEMPO], 90, 1e-9);       /* from the config */
	CU_ASSERT_DOUBLE_EQUAL(after.value[P_REVERB_MIX], 0.9, 1e-9); /* the performer's */
	CU_ASSERT_EQUAL(after.scale, SCALE_DORIAN);
	CU_ASSERT(memcmp(before.steps, after.steps, sizeof before.steps) == 0);
	CU_ASSERT(after.play_step >= 0);
	engine_free(e);
}

/* Ten hours with the default config: a figure for the report, not a gate. */
static void test_ten_hours_run(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.drift = 5;
	struct engine *e = engine_new(&cfg, 99);
	clock_t c0 = clock();
	uint64_t events = 0, notes = 0;
	for (int64_t to = 0; to <= 36000 * S; to += 50 * MS) {
		size_t n = engine_advance(e, to, evs, CAP);
		events += n;
		for (size_t i = 0; i < n; i++)
			notes += evs[i].type == EV_NOTE;
	}
	double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.notes, notes);
	CU_ASSERT(notes > 20000);
	CU_ASSERT(st.mutations > 100);
	CU_ASSERT(st.idle);
	CU_ASSERT_EQUAL(st.dropped, 0);
	fprintf(stderr, "\n    10 h simulated: %llu events, %llu notes, %.2f s CPU\n",
	        (unsigned long long)events, (unsigned long long)notes, cpu);
	engine_free(e);
}

/* Advances e to `to` in chunks of `step`, feeding ins[] at their times,
 * and appends every event to log; returns the count. */
static size_t run_chunked(struct engine *e, int64_t to, int64_t step,
                          const struct engine_input *ins, size_t n_ins, struct event *log,
                          size_t cap)
{
	size_t n = 0, k = 0;
	for (int64_t t = step; t <= to; t += step) {
		while (k < n_ins && ins[k].t < t)
			engine_input(e, &ins[k++]);
		n += engine_advance(e, t, log + n, cap - n);
	}
	return n;
}

/* The same, but only ever advancing to engine_next_due(): what a worker that
 * sleeps until something is due does.  Checks on the way that nothing comes
 * out before the due time and something is done at it. */
static size_t run_due(struct engine *e, int64_t to, const struct engine_input *ins, size_t n_ins,
                      struct event *log, size_t cap, size_t *wakes)
{
	size_t n = engine_advance(e, 0, log, cap), k = 0; /* the start's scale and pattern */
	*wakes = 0;
	for (;;) {
		int64_t due = engine_next_due(e);
		if (k < n_ins && ins[k].t <= due) {
			/* an input arrives while it sleeps: it is what is due now */
			engine_input(e, &ins[k]);
			CU_ASSERT(engine_next_due(e) <= ins[k].t);
			k++;
			continue;
		}
		if (due >= to)
			break;
		CU_ASSERT_EQUAL(engine_advance(e, due, log + n, cap - n), 0);
		size_t got = engine_advance(e, due + 1, log + n, cap - n);
		n += got;
		CU_ASSERT(engine_next_due(e) > due);
		(*wakes)++;
	}
	n += engine_advance(e, to, log + n, cap - n);
	return n;
}

static struct event due_log[CAP];

/* Sleeping until engine_next_due() misses nothing and changes nothing: over
 * ten minutes with mutation, drift, swing, idle (entered, faded, left) and
 * a performer's knobs, buttons and scale changes, the events are those of
 * advancing every 10 ms, and there are about as many wakes as steps. */
static void test_next_due(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.drift = 5;
	cfg.swing = 0.2;
	cfg.idle_timeout_ms = 60000;
	cfg.interval_min_s = 5;
	cfg.interval_max_s = 20;
	struct engine_input ins[80];
	size_t n_ins = 0;
	srand(11);
	for (int64_t t = 3 * S; n_ins < 64 && t < 400 * S; t += (rand() % 9000 + 50) * MS) {
		int r = rand() % 4;
		if (r == 0)
			ins[n_ins] = cc_in(t, 20, rand() % 128); /* tempo */
		else if (r == 1)
			ins[n_ins] = cc_in(t, 51, rand() % 128);
		else if (r == 2) {
			ins[n_ins] = cc_in(t, 0, 0);
			ins[n_ins].u.midi = (struct midi_msg){.kind = MIDI_NOTE_ON,
			                                      .channel = 1,
			                                      .number = (uint8_t)(60 + rand() % 12),
			                                      .value = 100};
		} else
			ins[n_ins] = cmd_in(t, CMD_NEXT_SCALE, 0, 0);
		n_ins++;
	}
	/* idle from about a minute after the last of those; a visitor wakes it */
	for (int i = 0; i < 12; i++) {
		ins[n_ins] = cc_in(540 * S + i * 700 * MS, 0, 0);
		ins[n_ins++].u.midi = (struct midi_msg){.kind = MIDI_NOTE_ON,
		                                        .channel = 1,
		                                        .number = (uint8_t)(60 + i % 8),
		                                        .value = 90};
	}
	int64_t end = 600 * S;
	struct engine *a = engine_new(&cfg, 21), *b = engine_new(&cfg, 21);
	size_t na = run_chunked(a, end, 10 * MS, ins, n_ins, evs, CAP);
	size_t wakes;
	size_t nb = run_due(b, end, ins, n_ins, due_log, CAP, &wakes);
	CU_ASSERT(na > 1000);
	CU_ASSERT_EQUAL(na, nb);
	size_t same = 0;
	for (size_t i = 0; i < na && i < nb; i++)
		same += evs[i].type == due_log[i].type && evs[i].t == due_log[i].t &&
		        memcmp(&evs[i].u, &due_log[i].u, sizeof evs[i].u) == 0;
	CU_ASSERT_EQUAL(same, na);
	struct engine_state st;
	engine_get_state(b, &st);
	CU_ASSERT(st.idle_transitions >= 2);
	CU_ASSERT(st.mutations > 10);
	/* every step is a unit; mutations, fade ticks and inputs add a few */
	size_t steps = 0;
	for (size_t i = 0; i < nb; i++)
		steps += due_log[i].type == EV_STEP;
	CU_ASSERT(wakes >= steps);
	CU_ASSERT(wakes < steps + steps / 2);
	engine_free(a);
	engine_free(b);

	/* With MIDI clock out, every pulse (24 a beat) is due too. */
	cfg.clock_out = true;
	end = 60 * S;
	a = engine_new(&cfg, 22);
	b = engine_new(&cfg, 22);
	na = run_chunked(a, end, 10 * MS, ins, n_ins, evs, CAP);
	nb = run_due(b, end, ins, n_ins, due_log, CAP, &wakes);
	CU_ASSERT_EQUAL(na, nb);
	same = 0;
	size_t pulses = 0;
	for (size_t i = 0; i < na && i < nb; i++) {
		same += evs[i].type == due_log[i].type && evs[i].t == due_log[i].t &&
		        memcmp(&evs[i].u, &due_log[i].u, sizeof evs[i].u) == 0;
		pulses += due_log[i].type == EV_CLOCK;
	}
	CU_ASSERT_EQUAL(same, na);
	CU_ASSERT(pulses > 1000);
	CU_ASSERT(wakes >= pulses);
	engine_free(a);
	engine_free(b);
}

/* A tempo change makes the next step come sooner, and engine_next_due()
 * says so at once; paused with nothing else scheduled, nothing is due. */
static void test_next_due_tempo_and_pause(void)
{
	struct engine_config cfg;
	plain(&cfg);
	cfg.bpm = 30;
	cfg.steps_per_beat = 1; /* a step every 2 s */
	struct engine *e = engine_new(&cfg, 3);
	engine_advance(e, S, evs, CAP);
	CU_ASSERT_EQUAL(engine_next_due(e), 2 * S);
	struct engine_input in = cmd_in(S + 100 * MS, CMD_SET_PARAM, P_TEMPO, 300);
	engine_input(e, &in);
	CU_ASSERT_EQUAL(engine_next_due(e), S + 100 * MS);
	engine_advance(e, S + 100 * MS + 1, evs, CAP);
	/* the step already on its way keeps its time; the new tempo runs from it */
	CU_ASSERT_EQUAL(engine_next_due(e), 2 * S);
	engine_advance(e, 2 * S + 1, evs, CAP);
	CU_ASSERT_EQUAL(engine_next_due(e), 2 * S + 200 * MS); /* not 4 s */

	in = cmd_in(3 * S, CMD_PAUSE, 0, 0);
	engine_input(e, &in);
	engine_advance(e, 3 * S + 1, evs, CAP);
	CU_ASSERT_EQUAL(engine_next_due(e), INT64_MAX);
	in.t = 60 * S;
	engine_input(e, &in);
	CU_ASSERT_EQUAL(engine_next_due(e), 60 * S);
	size_t n = engine_advance(e, 60 * S + 1, evs, CAP);
	CU_ASSERT(n > 0);
	CU_ASSERT(engine_next_due(e) <= 60 * S + 200 * MS);
	engine_free(e);
}

TEST_SUITE(engine, NULL, NULL, TEST_CASE(test_determinism), TEST_CASE(test_notes_in_scale),
           TEST_CASE(test_scale_on_next_bar), TEST_CASE(test_ten_hours_exact),
           TEST_CASE(test_lookahead_input), TEST_CASE(test_commands), TEST_CASE(test_pause),
           TEST_CASE(test_set_pause_and_step_on), TEST_CASE(test_drift),
           TEST_CASE(test_reconfigure), TEST_CASE(test_next_due),
           TEST_CASE(test_next_due_tempo_and_pause), TEST_CASE(test_ten_hours_run))
