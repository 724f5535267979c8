/*
 * Tests of the music over hours, through the whole engine: the walk keeps
 * every parameter around its home and inside its range, idle has its own
 * character (the ambient pad, phrases, softer notes), no silence outlasts
 * max_gap_ms, the pattern is rewritten as chaos_lock allows, scale and root
 * moves come on bar lines, drift wanders without jumps, a press wakes at
 * once.  What a listener over a gallery day would notice.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/router.h"
#include "core/scale.h"
#include "testlib.h"

#define S NS_PER_SEC
#define MS NS_PER_MS
#define CAP 8192

static struct event evs[CAP];

static struct engine_input cmd(int64_t t, int type, int param, double value)
{
	struct engine_input in = {.kind = INPUT_COMMAND, .t = t};
	in.u.cmd = (struct command){
	    .type = (uint8_t)type, .source = SRC_KEY, .param = (uint8_t)param, .value = value};
	return in;
}

static struct engine_input midi(int64_t t, int kind, int number, int value)
{
	struct engine_input in = {.kind = INPUT_MIDI, .t = t};
	in.u.midi = (struct midi_msg){.kind = (uint8_t)kind,
	                              .channel = 1,
	                              .number = (uint8_t)number,
	                              .value = (uint16_t)value};
	return in;
}

/* Calls f on every event up to `to`, in chunks of one second. */
static void each(struct engine *e, int64_t from, int64_t to,
                 void (*f)(const struct event *, void *), void *ctx)
{
	for (int64_t t = from + S; t <= to; t += S) {
		size_t n;
		while ((n = engine_advance(e, t, evs, CAP)) > 0) {
			for (size_t i = 0; i < n; i++)
				f(&evs[i], ctx);
			if (n < CAP)
				break;
		}
	}
}

/* ---- the walk through the engine ---- */

struct walk_seen {
	const struct engine_config *cfg;
	bool idle;
	int outside;
	double log_cutoff_idle, tempo_idle;
	int n_idle;
	double log_cutoff_home;
	int n_home;
	double value[P_COUNT];
};

static void on_walk(const struct event *ev, void *ctx)
{
	struct walk_seen *w = ctx;
	if (ev->type == EV_IDLE)
		w->idle = ev->u.idle.on;
	if (ev->type == EV_PARAM) {
		int id = ev->u.param.id;
		double v = ev->u.param.value;
		const struct engine_mutation *m = &w->cfg->mut[id];
		w->value[id] = v;
		if (m->weight > 0 && (v < m->min || v > m->max)) {
			if (w->outside++ < 5)
				fprintf(stderr, "\n  %s = %g (source %d) outside %g..%g",
				        param_table[id].name, v, ev->u.param.source, m->min,
				        m->max);
		}
	}
	if (ev->type == EV_STEP) {
		/* time averages, one sample per step */
		if (w->idle) {
			w->log_cutoff_idle += log(w->value[P_FILTER_CUTOFF]);
			w->tempo_idle += w->value[P_TEMPO];
			w->n_idle++;
		} else {
			w->log_cutoff_home += log(w->value[P_FILTER_CUTOFF]);
			w->n_home++;
		}
	}
}

/*
 * Ten hours without input: no walked parameter leaves its range, and while
 * idle the walk stays around the ambient profile's values (its homes).
 * Then a performer's knob makes a new home the walk returns to.
 */
static void test_walk_stays_home(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.interval_min_s = 10; /* a busy walk: more moves to go astray */
	cfg.interval_max_s = 20;
	const struct engine_profile *amb = &cfg.profiles[cfg.ambient_profile];
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct engine *e = engine_new(&cfg, seed);
		struct walk_seen w = {.cfg = &cfg};
		struct engine_state st;
		engine_get_state(e, &st);
		memcpy(w.value, st.value, sizeof w.value);
		each(e, 0, 36000 * S, on_walk, &w);
		CU_ASSERT_EQUAL(w.outside, 0);
		CU_ASSERT_FATAL(w.n_idle > 100000);
		double cutoff = exp(w.log_cutoff_idle / w.n_idle);
		double tempo = w.tempo_idle / w.n_idle;
		/* the ambient home is 1200 Hz and 72 BPM */
		CU_ASSERT(cutoff > amb->value[P_FILTER_CUTOFF] / 1.5 &&
		          cutoff < amb->value[P_FILTER_CUTOFF] * 1.5);
		CU_ASSERT(tempo > amb->value[P_TEMPO] * 0.85 && tempo < amb->value[P_TEMPO] * 1.15);
		engine_get_state(e, &st);
		CU_ASSERT(st.idle);
		CU_ASSERT_DOUBLE_EQUAL(st.home[P_FILTER_CUTOFF], amb->value[P_FILTER_CUTOFF], 1e-9);
		engine_free(e);
	}

	/* A performer's value is the new home: the walk wanders around 500 Hz. */
	cfg.idle_timeout_ms = 0;
	struct engine *e = engine_new(&cfg, 7);
	struct engine_input in = cmd(S, CMD_SET_PARAM, P_FILTER_CUTOFF, 500);
	in.u.cmd.source = SRC_API;
	engine_input(e, &in);
	struct walk_seen w = {.cfg = &cfg};
	struct engine_state st;
	engine_get_state(e, &st);
	memcpy(w.value, st.value, sizeof w.value);
	each(e, 0, 10800 * S, on_walk, &w);
	double cutoff = exp(w.log_cutoff_home / w.n_home);
	CU_ASSERT(cutoff > 500 / 1.5 && cutoff < 500 * 1.5);
	engine_get_state(e, &st);
	CU_ASSERT_DOUBLE_EQUAL(st.home[P_FILTER_CUTOFF], 500, 1e-9);
	CU_ASSERT(st.mutations > 300);
	engine_free(e);
}

/* ---- silence ---- */

struct gap_seen {
	int64_t last, longest, after; /* last: the last onset, or the start */
	int notes, notes_after;
};

/* The longest silence up to `end`, the one still running included. */
static int64_t longest(const struct gap_seen *g, int64_t end)
{
	return end - g->last > g->longest ? end - g->last : g->longest;
}

static void on_gap(const struct event *ev, void *ctx)
{
	struct gap_seen *g = ctx;
	if (ev->type != EV_NOTE)
		return;
	if (ev->t - g->last > g->longest)
		g->longest = ev->t - g->last;
	g->last = ev->t;
	g->notes++;
	g->notes_after += ev->t > g->after;
}

/*
 * A sparse, frozen pattern (density 0.02, chaos_lock 1) would leave long
 * silences; max_gap_ms bounds them.  Density 0 is the musician's silence.
 */
static void test_longest_silence(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.mutation_enabled = false;
	cfg.idle_timeout_ms = 0;
	cfg.density = 0.02;
	cfg.chaos_lock = 1;
	int64_t without = 0, with = 0;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		cfg.max_gap_ms = 0;
		struct engine *e = engine_new(&cfg, seed);
		struct gap_seen g = {.last = 0, .after = INT64_MAX};
		each(e, 0, 3600 * S, on_gap, &g);
		without = longest(&g, 3600 * S) > without ? longest(&g, 3600 * S) : without;
		engine_free(e);

		cfg.max_gap_ms = 10000;
		e = engine_new(&cfg, seed);
		g = (struct gap_seen){.last = 0, .after = INT64_MAX};
		each(e, 0, 3600 * S, on_gap, &g);
		with =
		    longest(&g, 3600 * S - 10 * S) > with ? longest(&g, 3600 * S - 10 * S) : with;
		CU_ASSERT(g.notes > 360);
		engine_free(e);
	}
	fprintf(stderr, "\n    longest silence: %.1f s without the limit, %.2f s with it ",
	        (double)without / S, (double)with / S);
	CU_ASSERT(without > 20 * S);
	CU_ASSERT(with <= 10 * S);
	CU_ASSERT(with > 5 * S); /* it is a limit, not a metronome */

	/* density 0 set by the musician: silence, however long */
	cfg.density = 0.85;
	struct engine *e = engine_new(&cfg, 1);
	struct engine_input in = cmd(10 * S, CMD_SET_PARAM, P_DENSITY, 0);
	engine_input(e, &in);
	struct gap_seen g = {.last = 0, .after = 11 * S};
	each(e, 0, 120 * S, on_gap, &g);
	CU_ASSERT(g.notes > 20);
	CU_ASSERT_EQUAL(g.notes_after, 0);
	engine_free(e);
}

/* ---- the pattern's own change ---- */

static uint64_t rewrites_in_an_hour(double chaos)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.idle_timeout_ms = 0;
	cfg.moves_per_hour = 0;
	struct engine *e = engine_new(&cfg, 21);
	/* held by the keyboard: the walk leaves chaos_lock alone */
	struct engine_input in = cmd(0, CMD_SET_PARAM, P_CHAOS_LOCK, chaos);
	engine_input(e, &in);
	for (int64_t t = S; t <= 3600 * S; t += S)
		engine_advance(e, t, evs, CAP);
	struct engine_state st;
	engine_get_state(e, &st);
	engine_free(e);
	return st.rewrites;
}

/*
 * Rewrites come at rewrites_per_min x (1 - chaos_lock) a minute: none when
 * locked, about 120 an hour when free (the default 2 a minute), half that
 * at 0.5.  Each shows as a pattern line whose degrees differ from the last
 * in the rewritten step only.
 */
static void test_rewrites(void)
{
	uint64_t locked = rewrites_in_an_hour(1), half = rewrites_in_an_hour(0.5),
	         free = rewrites_in_an_hour(0);
	fprintf(stderr, "\n    rewrites an hour: %llu locked, %llu at 0.5, %llu free ",
	        (unsigned long long)locked, (unsigned long long)half, (unsigned long long)free);
	CU_ASSERT_EQUAL(locked, 0);
	CU_ASSERT(free > 90 && free < 150);
	CU_ASSERT(half > 35 && half < 85);

	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.idle_timeout_ms = 0;
	cfg.rewrites_per_min = 20;
	cfg.interval_min_s = cfg.interval_max_s = 86400; /* no length moves */
	struct engine *e = engine_new(&cfg, 4);
	struct engine_input in = cmd(0, CMD_SET_PARAM, P_CHAOS_LOCK, 0);
	engine_input(e, &in);
	int8_t last[EVENT_PATTERN_STEPS];
	int rewrites = 0, neighbours = 0, bad = 0;
	bool have = false;
	for (int64_t t = S; t <= 600 * S; t += S) {
		size_t n = engine_advance(e, t, evs, CAP);
		for (size_t i = 0; i < n; i++) {
			if (evs[i].type != EV_PATTERN)
				continue;
			const int8_t *d = evs[i].u.pattern.degree;
			if (have && evs[i].u.pattern.cause == PATTERN_REWRITE) {
				int k = evs[i].u.pattern.step, changed = 0;
				for (int j = 0; j < EVENT_PATTERN_STEPS; j++)
					changed += d[j] != last[j];
				bad += changed != 1 || d[k] == last[k];
				neighbours += abs(d[k] - last[k]) <= 2;
				rewrites++;
			}
			memcpy(last, d, sizeof last);
			have = true;
		}
	}
	CU_ASSERT(rewrites > 100);
	CU_ASSERT_EQUAL(bad, 0);
	/* gently: most rewrites move a step by one or two degrees */
	CU_ASSERT(neighbours > rewrites / 2);
	engine_free(e);
}

/* ---- scale and root moves ---- */

struct move_seen {
	int64_t steps;
	int scales, off_bar, roots_moved, scales_moved;
	int root_seen[128], scale_seen[SCALE_COUNT];
	int last_root, last_scale;
};

static void on_move(const struct event *ev, void *ctx)
{
	struct move_seen *m = ctx;
	if (ev->type == EV_STEP)
		m->steps++;
	if (ev->type != EV_SCALE || ev->t == 0)
		return;
	m->scales++;
	/* the scale line comes just before the step it starts with */
	m->off_bar += m->steps % 16 != 0;
	m->root_seen[ev->u.scale.root]++;
	m->scale_seen[ev->u.scale.scale]++;
	m->roots_moved += ev->u.scale.root != m->last_root;
	m->scales_moved += ev->u.scale.scale != m->last_scale;
	m->last_root = ev->u.scale.root;
	m->last_scale = ev->u.scale.scale;
}

/*
 * Scale and root moves come about moves_per_hour an hour, each on a bar
 * line (even with quantize "immediate", which is for performers), among
 * the configured scales and roots, and half the time back home.  Zero
 * switches them off.
 */
static void test_moves_on_bar_lines(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.idle_timeout_ms = 0;
	cfg.quantize_scale_changes = QUANTIZE_IMMEDIATE;
	cfg.moves_per_hour = 6;
	struct engine *e = engine_new(&cfg, 12);
	struct move_seen m = {.last_root = cfg.root, .last_scale = cfg.scales[0]};
	each(e, 0, 20 * 3600 * S, on_move, &m);
	fprintf(stderr, "\n    %d scale lines in 20 h at 6 moves an hour ", m.scales);
	CU_ASSERT(m.scales > 80 && m.scales < 170);
	CU_ASSERT_EQUAL(m.off_bar, 0);
	CU_ASSERT(m.roots_moved > 10 && m.scales_moved > 10);
	for (int r = 0; r < 128; r++)
		if (m.root_seen[r])
			CU_ASSERT(r == 60 || r == 65 || r == 67);
	for (int s = 0; s < SCALE_COUNT; s++)
		if (m.scale_seen[s])
			CU_ASSERT(s == SCALE_MAJOR || s == SCALE_MINOR || s == SCALE_PENTATONIC);
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT(st.moves >= (uint64_t)m.scales);
	engine_free(e);

	cfg.moves_per_hour = 0;
	e = engine_new(&cfg, 12);
	m = (struct move_seen){.last_root = cfg.root, .last_scale = cfg.scales[0]};
	each(e, 0, 10 * 3600 * S, on_move, &m);
	CU_ASSERT_EQUAL(m.scales, 0);
	engine_free(e);
}

/* ---- idle's own character ---- */

struct idle_seen {
	bool idle;
	int64_t since;
	double vel_play, vel_idle;
	int n_play, n_idle, phrases, shifted;
	double attack, release;
};

static void on_idle(const struct event *ev, void *ctx)
{
	struct idle_seen *s = ctx;
	if (ev->type == EV_IDLE) {
		s->idle = ev->u.idle.on;
		s->since = ev->t;
	}
	if (ev->type == EV_NOTE && !ev->live) {
		if (!s->idle) {
			s->vel_play += ev->u.note.velocity;
			s->n_play++;
		} else if (ev->t > s->since + 10 * S) {
			s->vel_idle += ev->u.note.velocity;
			s->n_idle++;
		}
	}
	if (ev->type == EV_PATTERN && ev->u.pattern.cause == PATTERN_PHRASE) {
		s->phrases++;
		s->shifted += ev->u.pattern.shift != 0;
	}
	if (ev->type == EV_PARAM && ev->u.param.id == P_ATTACK)
		s->attack = ev->u.param.value;
	if (ev->type == EV_PARAM && ev->u.param.id == P_RELEASE)
		s->release = ev->u.param.value;
}

/*
 * Idle is an airy pad: the ambient profile's slow attack and long release,
 * softer notes, phrases that move the pattern by a few degrees; waking
 * brings the performer's sound back.
 */
static void test_idle_character(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.mutation_enabled = false;
	struct engine *e = engine_new(&cfg, 5);
	struct idle_seen s = {.attack = cfg.attack, .release = cfg.release};
	each(e, 0, 600 * S, on_idle, &s);
	CU_ASSERT(s.idle);
	CU_ASSERT_DOUBLE_EQUAL(s.attack, 0.15, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.release, 2.0, 1e-9);
	CU_ASSERT_FATAL(s.n_play > 50 && s.n_idle > 500);
	double play = s.vel_play / s.n_play, idle = s.vel_idle / s.n_idle;
	fprintf(stderr, "\n    mean velocity %.1f playing, %.1f idle; %d phrases, %d moved ", play,
	        idle, s.phrases, s.shifted);
	CU_ASSERT(idle < 0.85 * play);
	/* 570 s of idle at 72 BPM: a 4-bar phrase every 13.3 s, most moving the pattern */
	CU_ASSERT(s.phrases > 10);
	CU_ASSERT(s.shifted > 5);

	/* a press wakes it at once; the sound comes back */
	struct engine_input in = midi(601 * S, MIDI_NOTE_ON, 61, 90);
	engine_input(e, &in);
	each(e, 600 * S, 605 * S, on_idle, &s);
	CU_ASSERT_FALSE(s.idle);
	CU_ASSERT_EQUAL(s.since, 601 * S);
	CU_ASSERT_DOUBLE_EQUAL(s.attack, cfg.attack, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.release, cfg.release, 1e-9);
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.phrase_shift, 0);
	CU_ASSERT_STRING_EQUAL(st.playing, "default");
	engine_free(e);
}

/*
 * One button press wakes an idle instrument at its own time, a live note
 * at the same time; a single knob message does not (that is what the
 * hysteresis is for).
 */
static void test_press_wakes_at_once(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	struct engine *e = engine_new(&cfg, 6);
	for (int64_t t = S; t <= 40 * S; t += S)
		engine_advance(e, t, evs, CAP);
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT_FATAL(st.idle);
	CU_ASSERT_STRING_EQUAL(st.playing, "ambient");
	struct engine_input knob = midi(41 * S, MIDI_CC, 21, 70);
	engine_input(e, &knob);
	engine_advance(e, 42 * S, evs, CAP);
	engine_get_state(e, &st);
	CU_ASSERT(st.idle);
	int64_t t = 42 * S + 123456;
	struct engine_input press = midi(t, MIDI_NOTE_ON, 64, 100);
	engine_input(e, &press);
	size_t n = engine_advance(e, t + 1, evs, CAP);
	int exits = 0, notes = 0;
	for (size_t i = 0; i < n; i++) {
		if (evs[i].type == EV_IDLE && !evs[i].u.idle.on) {
			exits++;
			CU_ASSERT_EQUAL(evs[i].t, t);
		}
		if (evs[i].type == EV_NOTE && evs[i].live) {
			notes++;
			CU_ASSERT_EQUAL(evs[i].t, t);
			CU_ASSERT_EQUAL(evs[i].u.note.velocity, 100);
		}
	}
	CU_ASSERT_EQUAL(exits, 1);
	CU_ASSERT_EQUAL(notes, 1);
	engine_get_state(e, &st);
	CU_ASSERT_FALSE(st.idle);
	engine_free(e);
}

/* ---- drift ---- */

/*
 * Drift turned from 0 to 20 % at once does not jump the tempo: the depth
 * follows at 1 % a second and the wander is smooth, yet within two minutes
 * the tempo has moved by several percent.
 */
static void test_drift_no_jump(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.mutation_enabled = false;
	cfg.idle_timeout_ms = 0;
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct engine *e = engine_new(&cfg, seed);
		engine_advance(e, 60 * S, evs, CAP);
		struct engine_input in = cmd(60 * S, CMD_SET_PARAM, P_DRIFT, 20);
		in.u.cmd.source = SRC_API;
		engine_input(e, &in);
		double prev = 110, lo = 1e9, hi = 0, worst = 0;
		for (int64_t t = 60 * S + 100 * MS; t <= 600 * S; t += 100 * MS) {
			engine_advance(e, t, evs, CAP);
			struct engine_state st;
			engine_get_state(e, &st);
			if (t % S == 0) {
				double step = fabs(st.tempo_now - prev) / 110;
				worst = step > worst ? step : worst;
				prev = st.tempo_now;
			}
			lo = st.tempo_now < lo ? st.tempo_now : lo;
			hi = st.tempo_now > hi ? st.tempo_now : hi;
		}
		/* at most 3 % of the tempo in any second; a wander of 8 % or more */
		CU_ASSERT(worst < 0.03);
		CU_ASSERT(hi - lo > 0.08 * 110);
		CU_ASSERT(lo >= 110 * 0.8 - 1e-9 && hi <= 110 * 1.2 + 1e-9);
		engine_free(e);
	}
}

/*
 * Mutation switched on by a reload after two hours off: the walk and the
 * moves start from the reload, none of them dated in the past.
 */
static void test_reload_switches_mutation_on(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.idle_timeout_ms = 0;
	cfg.moves_per_hour = 30;
	cfg.mutation_enabled = false;
	struct engine *e = engine_new(&cfg, 8);
	for (int64_t t = S; t <= 7200 * S; t += S)
		engine_advance(e, t, evs, CAP);
	cfg.mutation_enabled = true;
	engine_reconfigure(e, &cfg);
	int early = 0, mutations = 0;
	for (int64_t t = 7201 * S; t <= 9000 * S; t += S) {
		size_t n = engine_advance(e, t, evs, CAP);
		for (size_t i = 0; i < n; i++) {
			if (evs[i].type != EV_MUTATION)
				continue;
			mutations++;
			early += evs[i].t < 7200 * S;
		}
	}
	CU_ASSERT_EQUAL(early, 0);
	CU_ASSERT(mutations > 10);
	engine_free(e);
}

TEST_SUITE(music, NULL, NULL, TEST_CASE(test_walk_stays_home), TEST_CASE(test_longest_silence),
           TEST_CASE(test_rewrites), TEST_CASE(test_moves_on_bar_lines),
           TEST_CASE(test_idle_character), TEST_CASE(test_press_wakes_at_once),
           TEST_CASE(test_drift_no_jump), TEST_CASE(test_reload_switches_mutation_on))
