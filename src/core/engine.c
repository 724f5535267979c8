/*
 * engine: the instrument's core; ties router, params, clock, seq, scale,
 * mutate and idle together behind engine_input() and engine_advance().
 *
 * Design: engine_input() only copies the input into a bounded queue.
 * engine_advance(to) then runs "units" in time order until nothing is due
 * before `to`: a queued input, the idle timeout, an idle fade tick, a
 * mutation (the parameter walk), a scale or root move, or the next step.
 * A step may also rewrite itself (the pattern's slow change), start an idle
 * phrase, or sound against its gate draw so that no silence between notes
 * lasts longer than sequencer.max_gap_ms.  Every parameter has a home (what
 * someone chose: configuration, mode, ambient profile, performer) that the
 * walk returns to.  Each unit writes its events into a bounded
 * output ring; units run only while the ring has room for the largest unit,
 * so a small `cap` never loses events: the rest come with the next call.
 * An input older than what was already played (live lookahead) is the
 * earliest thing due, so it runs first and changes only the steps not yet
 * played.  Every buffer lives in struct engine, allocated once by
 * engine_new(); engine_input() and engine_advance() never allocate.
 * Single-threaded: only the owner of the engine (worker, renderer, test)
 * may call it.
 */
#include "core/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/clock_follow.h"
#include "core/idle.h"
#include "core/mutate.h"
#include "core/rng.h"
#include "core/router.h"
#include "core/scale.h"
#include "core/seq.h"

#define IN_QUEUE 256
#define OUT_RING 1024
#define UNIT_MAX 64		/* most events one unit can write */
#define FADE_TICK_NS (100 * NS_PER_MS)
#define DRIFT_SLEW 1.0		/* drift depth follows its control at most 1 % a second */
#define MOVE_HOME 0.5		/* chance that a move away from home goes back home */

_Static_assert(ENGINE_MAX_STEPS == EVENT_PATTERN_STEPS, "a pattern event carries every step");
_Static_assert(P_COUNT <= 32, "profile masks and fade masks are 32 bits");

struct fade {
	bool active;
	int64_t t_start, dur, next_tick;
	uint32_t mask;		/* parameters still fading */
	double from[P_COUNT], to[P_COUNT];
};

struct engine {
	struct engine_config cfg;
	int64_t origin;
	int64_t horizon;	/* every unit before it has run */
	bool started;		/* engine_advance() has run */

	double value[P_COUNT];
	uint8_t source[P_COUNT];
	double home[P_COUNT];	/* where the walk returns */

	struct rng rng_seq, rng_mut, rng_struct;
	struct seq seq;
	struct clock clock;
	struct clock_drift drift;
	double drift_depth;	/* drift % in force, following P_DRIFT smoothly */
	int64_t k_next;		/* global index of the next step */
	int64_t last_step_t;	/* time of the last step played, INT64_MIN before */
	int64_t last_note_t;	/* onset of the last note, sequenced or live */
	int play_step;
	int64_t step_fired_t[ENGINE_MAX_STEPS];
	bool paused;

	/* MIDI clock out: EV_CLOCK pulses between the unswung step times */
	int64_t pulse_next;	/* index of the next pulse (24 a beat from step 0) */
	int64_t pulse_last_t;	/* time of the last pulse, INT64_MIN before */
	int64_t base_k, base_t;	/* the last step played and its unswung time */

	/* MIDI clock in (cfg.clock_source == CLOCK_SOURCE_MIDI) */
	struct clock_follow follow;
	bool following;		/* steps are anchored to the pulses' fit */
	bool ext_armed;		/* Start or Continue came: steps wait for the next pulse */
	bool ext_restart;	/* that was a Start: the pattern begins again at step 1 */
	bool ext_mapped;	/* ext_k0 holds */
	int64_t ext_k0;		/* step index at external pulse 0 */
	uint64_t pulses_in, clock_gaps;

	int scale, root;			/* active */
	int scale_prev, root_prev;		/* active before scale_since */
	int64_t scale_since;
	bool scale_pending;
	int scale_want, root_want;
	bool scale_at_bar;	/* the pending change waits for a bar line */
	int root_off;		/* semitones a root move put the root from cfg.root */

	int64_t mut_next;
	int64_t move_next;	/* next scale or root move, INT64_MAX: none */

	struct idle idle;
	int64_t idle_since;
	struct fade fade;
	double saved[P_COUNT], saved_home[P_COUNT];
	uint32_t saved_mask;	/* what leaving idle restores */
	int shift;		/* degrees the current idle phrase adds */
	int mode_applied;	/* mode whose profile was last applied, -1 none */

	double chaos_prev;

	uint64_t notes, unmapped, filtered, rejected, dropped, mutations, idle_transitions,
	    inputs, rewrites, moves;

	struct engine_input in[IN_QUEUE];
	size_t in_head, in_count;
	struct event out[OUT_RING];
	size_t out_head, out_count;
	struct event scratch;	/* written instead when the ring is full */
};

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static bool selector(int id)
{
	return id == P_SCALE_SELECT || id == P_MODE || id == P_PALETTE;
}

/* Makes any configuration safe to run: every count and index in range. */
static void sanitize(struct engine_config *c)
{
	if (c->midi_channel < 0 || c->midi_channel > 16)
		c->midi_channel = 0;
	for (int i = 0; i < 128; i++)
		if (c->cc_param[i] >= P_COUNT ||
		    (c->cc_param[i] < 0 && c->cc_param[i] != CC_RESERVED))
			c->cc_param[i] = CC_UNMAPPED;
	for (int i = 0; i < 128; i++) {
		struct engine_cc_range *r = &c->cc_range[i];
		if (!r->set)
			continue;
		int p = c->cc_param[i];
		if (p < 0 || selector(p)) {
			r->set = false;
			continue;
		}
		r->min = param_clamp((enum param_id)p, r->min);
		r->max = param_clamp((enum param_id)p, r->max);
		if (r->curve > CURVE_STEPPED)
			r->curve = param_table[p].curve;
		if (r->curve == CURVE_EXP && !(r->min > 0))
			r->curve = CURVE_LINEAR;
	}
	c->n_buttons = clampi(c->n_buttons, 0, ENGINE_MAX_BUTTONS);
	if (c->button_press != PRESS_ADD && c->button_press != PRESS_TOGGLE)
		c->button_press = PRESS_ACCENT;
	c->steps = clampi(c->steps, 1, ENGINE_MAX_STEPS);
	c->bpm = param_clamp(P_TEMPO, c->bpm);
	c->swing = param_clamp(P_SWING, c->swing);
	c->density = param_clamp(P_DENSITY, c->density);
	c->drift = param_clamp(P_DRIFT, c->drift);
	c->chaos_lock = param_clamp(P_CHAOS_LOCK, c->chaos_lock);
	c->filter_cutoff = param_clamp(P_FILTER_CUTOFF, c->filter_cutoff);
	c->reverb_mix = param_clamp(P_REVERB_MIX, c->reverb_mix);
	c->master_volume = param_clamp(P_MASTER_VOLUME, c->master_volume);
	c->attack = param_clamp(P_ATTACK, c->attack);
	c->release = param_clamp(P_RELEASE, c->release);
	if (!(c->max_gap_ms > 0))
		c->max_gap_ms = 0;
	else if (c->max_gap_ms < 2000)
		c->max_gap_ms = 2000;
	if (!(c->drift_period_s >= 1))
		c->drift_period_s = 1;
	if (c->drift_period_s > 3600)
		c->drift_period_s = 3600;
	c->steps_per_beat = clampi(c->steps_per_beat, 1, 16);
	if (c->clock_source != CLOCK_SOURCE_MIDI)
		c->clock_source = CLOCK_SOURCE_INTERNAL;
	if (c->clock_timeout_ms < 50)
		c->clock_timeout_ms = 50;
	c->beats_per_bar = clampi(c->beats_per_bar, 1, 16);
	c->root = clampi(c->root, 0, 127);
	c->octaves = clampi(c->octaves, 1, 4);
	if (c->quantize_scale_changes != QUANTIZE_IMMEDIATE &&
	    c->quantize_scale_changes != QUANTIZE_BEAT)
		c->quantize_scale_changes = QUANTIZE_BAR;
	c->n_scales = clampi(c->n_scales, 0, ENGINE_MAX_SCALES);
	for (int i = 0; i < c->n_scales; i++)
		if (c->scales[i] < 0 || c->scales[i] >= SCALE_COUNT)
			c->scales[i] = SCALE_CHROMATIC;
	if (c->n_scales == 0) {
		c->scales[0] = SCALE_MAJOR;
		c->n_scales = 1;
	}
	if (!(c->interval_min_s >= 1))
		c->interval_min_s = 1;
	if (!(c->interval_max_s >= c->interval_min_s))
		c->interval_max_s = c->interval_min_s;
	c->max_changes_per_cycle = clampi(c->max_changes_per_cycle, 0, EVENT_MUT_MAX);
	if (!(c->pull >= 0))
		c->pull = 0;
	if (c->pull > 1)
		c->pull = 1;
	for (int k = 0; k < P_COUNT; k++) {
		struct engine_mutation *m = &c->mut[k];
		m->min = param_clamp((enum param_id)k, m->min);
		m->max = param_clamp((enum param_id)k, m->max);
		if (!(m->weight > 0) || selector(k) || !(m->max > m->min))
			m->weight = 0;
		if (!(m->step > 0))
			m->step = 0;
		if (m->step > 1)
			m->step = 1;
	}
	if (!(c->rewrites_per_min >= 0))
		c->rewrites_per_min = 0;
	if (c->rewrites_per_min > 600)
		c->rewrites_per_min = 600;
	if (!(c->moves_per_hour >= 0))
		c->moves_per_hour = 0;
	if (c->moves_per_hour > 3600)
		c->moves_per_hour = 3600;
	c->n_roots = clampi(c->n_roots, 0, ENGINE_MAX_ROOTS);
	for (int i = 0; i < c->n_roots; i++)
		c->roots[i] = clampi(c->roots[i], -12, 12);
	if (c->fade_in_ms < 0)
		c->fade_in_ms = 0;
	if (c->fade_out_ms < 0)
		c->fade_out_ms = 0;
	if (c->wake_activity_ms < 0)
		c->wake_activity_ms = 0;
	c->n_profiles = clampi(c->n_profiles, 0, ENGINE_MAX_PROFILES);
	for (int i = 0; i < c->n_profiles; i++) {
		struct engine_profile *p = &c->profiles[i];
		p->name[ENGINE_NAME_MAX - 1] = 0;
		p->mask &= (1u << P_COUNT) - 1;
		for (int k = 0; k < P_COUNT; k++)
			if (p->mask & 1u << k)
				p->value[k] = param_clamp((enum param_id)k, p->value[k]);
	}
	if (c->ambient_profile >= c->n_profiles || c->ambient_profile < 0)
		c->ambient_profile = -1;
	c->phrase_bars = clampi(c->phrase_bars, 0, 64);
	if (!(c->idle_velocity > 0.05))
		c->idle_velocity = 0.05;
	if (c->idle_velocity > 1)
		c->idle_velocity = 1;
	int n = 0;
	for (int i = 0; i < c->n_modes && i < ENGINE_MAX_PROFILES; i++)
		if (c->modes[i] >= 0 && c->modes[i] < c->n_profiles)
			c->modes[n++] = c->modes[i];
	c->n_modes = n;
	c->n_palettes = clampi(c->n_palettes, 0, ENGINE_MAX_PALETTES);
	for (int i = 0; i < c->n_palettes; i++)
		c->palettes[i][ENGINE_NAME_MAX - 1] = 0;
}

/* The value a parameter starts with under the configuration. */
static double config_value(const struct engine_config *c, int id)
{
	switch (id) {
	case P_TEMPO:
		return c->bpm;
	case P_FILTER_CUTOFF:
		return c->filter_cutoff;
	case P_REVERB_MIX:
		return c->reverb_mix;
	case P_SWING:
		return c->swing;
	case P_DENSITY:
		return c->density;
	case P_MASTER_VOLUME:
		return c->master_volume;
	case P_SEQUENCE_LENGTH:
		return c->steps;
	case P_CHAOS_LOCK:
		return c->chaos_lock;
	case P_DRIFT:
		return c->drift;
	case P_ATTACK:
		return c->attack;
	case P_RELEASE:
		return c->release;
	default:
		return 0;	/* scale_select, mode, palette: the first entry */
	}
}

static double clamp_value(const struct engine *e, int id, double v)
{
	v = param_clamp((enum param_id)id, v);
	if (selector(id)) {
		int n = router_choices(&e->cfg, id);
		if (v > n - 1)
			v = n > 0 ? n - 1 : 0;
	}
	return v;
}

/* ---- output ring ---- */

static struct event *emit(struct engine *e, int type, int64_t t, bool live)
{
	struct event *ev;
	if (e->out_count == OUT_RING) {
		e->dropped++;
		ev = &e->scratch;
	} else {
		ev = &e->out[(e->out_head + e->out_count) % OUT_RING];
		e->out_count++;
	}
	memset(ev, 0, sizeof *ev);
	ev->type = (uint8_t)type;
	ev->t = t;
	ev->live = live;
	return ev;
}

static size_t drain(struct engine *e, struct event *out, size_t cap)
{
	size_t n = 0;
	while (n < cap && e->out_count > 0) {
		out[n++] = e->out[e->out_head];
		e->out_head = (e->out_head + 1) % OUT_RING;
		e->out_count--;
	}
	return n;
}

/* ---- scale ---- */

/* The note a degree plays, wrapped into the configured octaves. */
static int degree_note(const struct engine *e, int scale, int root, int degree)
{
	int span = scale_table[scale].n * e->cfg.octaves;
	int d = degree % span;
	if (d < 0)
		d += span;
	return scale_degree_note(scale, root, d);
}

/* Earliest time a change may take so no note already played contradicts it. */
static int64_t after_played(const struct engine *e, int64_t t)
{
	return e->last_step_t == INT64_MIN || t > e->last_step_t ? t : e->last_step_t + 1;
}

static void apply_scale(struct engine *e, int64_t t, bool live)
{
	e->scale_pending = false;
	if (e->scale_want == e->scale && e->root_want == e->root)
		return;
	e->scale_prev = e->scale;
	e->root_prev = e->root;
	e->scale_since = t;
	e->scale = e->scale_want;
	e->root = e->root_want;
	struct event *ev = emit(e, EV_SCALE, t, live);
	ev->u.scale.scale = (uint8_t)e->scale;
	ev->u.scale.root = (uint8_t)e->root;
}

/* The root in force: the configured one moved by the current root move. */
static int current_root(const struct engine *e)
{
	return clampi(e->cfg.root + e->root_off, 0, 127);
}

/*
 * Asks for a scale; it comes at the configured boundary, or at the next bar
 * line when at_bar (the mutation's moves), at once when paused.
 */
static void request_scale(struct engine *e, int scale, int root, int64_t t, bool live,
    bool at_bar)
{
	e->scale_want = scale;
	e->root_want = root;
	e->scale_pending = true;
	e->scale_at_bar = at_bar;
	if ((!at_bar && e->cfg.quantize_scale_changes == QUANTIZE_IMMEDIATE) || e->paused)
		apply_scale(e, after_played(e, t), live);
}

static int steps_per_bar(const struct engine *e)
{
	return e->cfg.steps_per_beat * e->cfg.beats_per_bar;
}

static int steps_per_boundary(const struct engine *e)
{
	if (e->scale_at_bar || e->cfg.quantize_scale_changes == QUANTIZE_BAR)
		return steps_per_bar(e);
	return e->cfg.steps_per_beat;
}

/* ---- parameters ---- */

static double effective_tempo(struct engine *e, int64_t k)
{
	double x = clock_drift_at(&e->drift, k);
	double drift = e->drift_depth;
	if (!(drift > 0))
		return e->value[P_TEMPO];
	return e->value[P_TEMPO] * (1 + drift / 100 * x);
}

/* Moves the drift depth towards its control, DRIFT_SLEW % a second at most. */
static void slew_drift(struct engine *e)
{
	double want = e->value[P_DRIFT], d = want - e->drift_depth;
	double most = DRIFT_SLEW * e->clock.step_ns / 1e9;
	e->drift_depth = fabs(d) <= most ? want : e->drift_depth + (d > 0 ? most : -most);
}

/* Gives the clock the current tempo from the next step on (an external
 * clock being followed sets it instead). */
static void retempo(struct engine *e)
{
	if (e->following)
		return;
	double bpm = effective_tempo(e, e->k_next);
	if (bpm != e->clock.bpm)
		clock_set_tempo(&e->clock, e->k_next, bpm);
}

static void set_param(struct engine *e, int id, double v, int src, int64_t t, bool live);

/* Emits the pattern as it now plays (the log's and the console's view). */
static void emit_pattern(struct engine *e, int64_t t, int cause, int step, bool live)
{
	struct event *ev = emit(e, EV_PATTERN, t, live);
	ev->u.pattern.cause = (uint8_t)cause;
	ev->u.pattern.len = (uint8_t)e->seq.len;
	ev->u.pattern.shift = (int8_t)e->shift;
	ev->u.pattern.step = (int16_t)step;
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		ev->u.pattern.degree[k] = e->seq.step[k].degree;
		if (!e->seq.step[k].on)
			ev->u.pattern.off |= UINT64_C(1) << k;
	}
}

static void apply_mode(struct engine *e, int mode, int64_t t, bool live)
{
	if (mode < 0 || mode >= e->cfg.n_modes)
		return;
	e->mode_applied = mode;
	struct event *ev = emit(e, EV_MODE, t, live);
	ev->u.mode.mode = (uint8_t)mode;
	const struct engine_profile *p = &e->cfg.profiles[e->cfg.modes[mode]];
	for (int k = 0; k < P_COUNT; k++)
		if (k != P_MODE && (p->mask & 1u << k))
			set_param(e, k, p->value[k], SRC_MODE, t, live);
}

/* Sets a parameter (clamped), emits the change and applies its consequences. */
static void set_param(struct engine *e, int id, double v, int src, int64_t t, bool live)
{
	v = clamp_value(e, id, v);
	if (src != SRC_IDLE && src != SRC_MUTATION && src != SRC_DRIFT) {
		/* A performer's value wins over fades and is kept on waking; it
		 * is the new home of the walk. */
		e->fade.mask &= ~(1u << id);
		e->saved_mask &= ~(1u << id);
		e->home[id] = v;
	}
	e->source[id] = (uint8_t)src;
	if (v == e->value[id])
		return;
	e->value[id] = v;
	struct event *ev = emit(e, EV_PARAM, t, live);
	ev->u.param.id = (uint8_t)id;
	ev->u.param.source = (uint8_t)src;
	ev->u.param.value = v;
	switch (id) {
	case P_TEMPO:
	case P_DRIFT:
		retempo(e);
		break;
	case P_SEQUENCE_LENGTH:
		seq_set_length(&e->seq, (int)v);
		emit_pattern(e, after_played(e, t), PATTERN_LENGTH, -1, live);
		break;
	case P_SCALE_SELECT:
		request_scale(e, e->cfg.scales[(int)v], current_root(e), t, live,
		    src == SRC_MUTATION);
		break;
	case P_MODE:
		apply_mode(e, (int)v, t, live);
		break;
	default:
		break;
	}
}

/* ---- idle and fades ---- */

static double interp(int id, double from, double to, double f)
{
	if (param_table[id].curve == CURVE_EXP && from > 0 && to > 0)
		return from * pow(to / from, f);
	return from + (to - from) * f;
}

/*
 * Moves the parameters in mask towards to[] over dur: selectors and other
 * stepped parameters jump at once, the rest glide in ticks of 100 ms.
 */
static void start_fade(struct engine *e, int64_t t, int64_t dur, uint32_t mask,
    const double *to, bool live)
{
	struct fade *f = &e->fade;
	f->active = false;
	f->mask = 0;
	for (int k = 0; k < P_COUNT; k++) {
		if (!(mask & 1u << k))
			continue;
		if (param_table[k].curve == CURVE_STEPPED || dur <= 0) {
			set_param(e, k, to[k], SRC_IDLE, t, live);
			continue;
		}
		f->from[k] = e->value[k];
		f->to[k] = clamp_value(e, k, to[k]);
		f->mask |= 1u << k;
	}
	if (!f->mask)
		return;
	f->active = true;
	f->t_start = t;
	f->dur = dur;
	f->next_tick = t + (dur < FADE_TICK_NS ? dur : FADE_TICK_NS);
}

static void fade_tick(struct engine *e)
{
	struct fade *f = &e->fade;
	int64_t t = f->next_tick;
	double x = (double)(t - f->t_start) / (double)f->dur;
	bool last = t >= f->t_start + f->dur;
	for (int k = 0; k < P_COUNT; k++)
		if (f->mask & 1u << k)
			set_param(e, k, last ? f->to[k] : interp(k, f->from[k], f->to[k], x),
			    SRC_IDLE, t, false);
	if (last || !f->mask) {
		f->active = false;
		f->mask = 0;
	} else {
		f->next_tick = t + FADE_TICK_NS;
		if (f->next_tick > f->t_start + f->dur)
			f->next_tick = f->t_start + f->dur;
	}
}

/*
 * Idle: the ambient profile's values become the homes and the parameters
 * fade there; what played before (values and homes) is kept for waking.
 */
static void enter_idle(struct engine *e, int64_t t, bool live)
{
	e->idle_transitions++;
	e->idle_since = t;
	emit(e, EV_IDLE, t, live)->u.idle.on = 1;
	e->saved_mask = 0;
	if (e->cfg.ambient_profile < 0)
		return;
	const struct engine_profile *p = &e->cfg.profiles[e->cfg.ambient_profile];
	uint32_t mask = 0;
	for (int k = 0; k < P_COUNT; k++) {
		if (!(p->mask & 1u << k) || k == P_MODE || e->source[k] == SRC_KEY)
			continue;
		e->saved[k] = e->value[k];
		e->saved_home[k] = e->home[k];
		e->home[k] = clamp_value(e, k, p->value[k]);
		mask |= 1u << k;
	}
	e->saved_mask = mask;
	start_fade(e, t, e->cfg.fade_in_ms * NS_PER_MS, mask, p->value, live);
}

static void leave_idle(struct engine *e, int64_t t, bool live)
{
	e->idle_transitions++;
	emit(e, EV_IDLE, t, live)->u.idle.on = 0;
	uint32_t mask = 0;
	for (int k = 0; k < P_COUNT; k++)
		if ((e->saved_mask & 1u << k) && e->source[k] != SRC_KEY) {
			mask |= 1u << k;
			e->home[k] = e->saved_home[k];
		}
	e->saved_mask = 0;
	e->fade.active = false;
	e->fade.mask = 0;
	start_fade(e, t, e->cfg.fade_out_ms * NS_PER_MS, mask, e->saved, live);
	if (e->shift != 0) {
		e->shift = 0;
		emit_pattern(e, after_played(e, t), PATTERN_PHRASE, -1, live);
	}
}

/* A semantic action at t: restarts the idle timeout, may wake. */
static void action(struct engine *e, int64_t t, bool deliberate)
{
	if (idle_action(&e->idle, t, deliberate) == IDLE_EXIT)
		leave_idle(e, t, true);
}

/* ---- inputs ---- */

/* Tells readers (log, LEDs, console) what a step is now. */
static void step_edit(struct engine *e, int k, int src, int64_t t, bool live)
{
	const struct engine_step *st = &e->seq.step[k];
	struct event *ev = emit(e, EV_STEP_EDIT, t, live);
	ev->u.step_edit.step = (int16_t)k;
	ev->u.step_edit.on = st->on;
	ev->u.step_edit.velocity = st->velocity;
	ev->u.step_edit.prob = st->prob;
	ev->u.step_edit.source = (uint8_t)src;
}

/* An edit that changed what a step plays (its degree or its switch) shows in the pattern. */
static void edited(struct engine *e, int k, const struct engine_step *was, int src, int64_t t)
{
	step_edit(e, k, src, t, true);
	const struct engine_step *st = &e->seq.step[k];
	if (st->degree != was->degree || st->on != was->on)
		emit_pattern(e, after_played(e, t), PATTERN_EDIT, k, true);
}

/* Velocity an accented step gets: louder by ACCENT_UP, at least ACCENT_MIN. */
#define ACCENT_UP 16
#define ACCENT_MIN 100

/*
 * A visitor pressed the button of step k: it sounds at once (a live note,
 * with the press's velocity, in the scale active at t), and the step takes
 * the configured press action.  A button past the pattern's length edits
 * the step it lands on counting round the pattern, so every press is heard
 * in the loop.
 */
static void trigger(struct engine *e, int k, int velocity, int64_t t)
{
	k %= e->seq.len;
	struct engine_step *st = &e->seq.step[k];
	struct engine_step was = *st;
	switch (e->cfg.button_press) {
	case PRESS_TOGGLE:
		st->on = !st->on;
		break;
	case PRESS_ADD:
		st->on = 1;
		st->prob = 1;
		break;
	default:
		st->on = 1;
		st->prob = 1;
		st->velocity = (uint8_t)clampi(st->velocity + ACCENT_UP < ACCENT_MIN
		    ? ACCENT_MIN : st->velocity + ACCENT_UP, 1, 127);
		break;
	}
	edited(e, k, &was, SRC_MIDI, t);
	/* Sound it in the scale active at t, even if a change was already played. */
	bool before = t < e->scale_since;
	int scale = before ? e->scale_prev : e->scale;
	int root = before ? e->root_prev : e->root;
	struct event *ev = emit(e, EV_NOTE, t, true);
	ev->u.note.pitch = (uint8_t)degree_note(e, scale, root, st->degree + e->shift);
	ev->u.note.velocity = (uint8_t)clampi(velocity, 1, 127);
	ev->u.note.step = (int16_t)k;
	ev->u.note.dur = llround(st->length * e->clock.step_ns);
	e->notes++;
	if (t > e->last_note_t)
		e->last_note_t = t;
}

/* ---- MIDI clock in and out ---- */

static double pulses_per_step(const struct engine *e)
{
	return (double)CLOCK_FOLLOW_PPQN / e->cfg.steps_per_beat;
}

/* The clock out's next pulse is the first at or after the next step. */
static void pulse_rewind(struct engine *e)
{
	e->pulse_next = (int64_t)ceil((double)e->k_next * pulses_per_step(e) - 1e-9);
}

static void set_paused(struct engine *e, bool paused, int64_t t)
{
	if (e->paused == paused)
		return;
	e->paused = paused;
	if (!paused) {
		clock_restart(&e->clock, e->k_next, after_played(e, t));
		pulse_rewind(e);
	}
	emit(e, EV_TRANSPORT, t, true)->u.transport.running = !paused;
	if (!paused && e->scale_pending)
		apply_scale(e, after_played(e, t), true);
}

static void emit_sync(struct engine *e, int64_t t, bool on, double bpm)
{
	struct event *ev = emit(e, EV_CLOCK_SYNC, t, true);
	ev->u.sync.on = on;
	ev->u.sync.bpm = bpm;
}

/* Binds the next step to the external pulse (a multiple of a step's pulses)
 * nearest to where the internal clock would play it, and after t. */
static void map_nearest(struct engine *e, int64_t t)
{
	double pps = pulses_per_step(e);
	double step = e->follow.period * pps;
	double x = (double)(clock_base_time(&e->clock, e->k_next) - clock_follow_time(&e->follow, 0));
	int64_t m = llround(x / step);
	while (clock_follow_time(&e->follow, (double)m * pps) <= t)
		m++;
	e->ext_k0 = e->k_next - m;
	e->ext_mapped = true;
}

/* The next step sounds at its pulse's ideal time, at the followed tempo. */
static void anchor(struct engine *e, int64_t t)
{
	double pps = pulses_per_step(e);
	if (!e->ext_mapped)
		map_nearest(e, t);
	int64_t k = e->k_next;
	int64_t tk = clock_follow_time(&e->follow, (double)(k - e->ext_k0) * pps);
	/* more than half a step behind (a pause, a lost pulse): bind anew */
	if (tk < t - (int64_t)(e->follow.period * pps / 2)) {
		map_nearest(e, t);
		tk = clock_follow_time(&e->follow, (double)(k - e->ext_k0) * pps);
	}
	double bpm = clock_follow_bpm(&e->follow);
	clock_restart(&e->clock, k, after_played(e, tk));
	e->clock.bpm = bpm;
	e->clock.step_ns = clock_step_ns(bpm, e->clock.steps_per_beat);
}

static void clock_pulse_in(struct engine *e, int64_t t)
{
	e->pulses_in++;
	if (e->ext_armed) {
		/* the first pulse after Start or Continue is step k_next's */
		e->ext_armed = false;
		clock_follow_restart(&e->follow);
		if (e->ext_restart)
			e->seq.pos = 0;
		e->ext_k0 = e->k_next;
		e->ext_mapped = true;
		set_paused(e, false, t);
		clock_restart(&e->clock, e->k_next, after_played(e, t));
		pulse_rewind(e);
	}
	clock_follow_pulse(&e->follow, t);
	if (!e->follow.valid)
		return;
	if (!e->following) {
		e->following = true;
		emit_sync(e, t, true, clock_follow_bpm(&e->follow));
	}
	if (!e->paused)
		anchor(e, t);
}

/* Start, Continue, Stop and the pulses, when the clock source is MIDI. */
static void clock_input(struct engine *e, const struct midi_msg *m, int64_t t)
{
	if (e->cfg.clock_source != CLOCK_SOURCE_MIDI)
		return;
	switch (m->kind) {
	case MIDI_CLOCK:
		clock_pulse_in(e, t);
		break;
	case MIDI_START:
	case MIDI_CONTINUE:
		e->ext_armed = true;
		e->ext_restart = m->kind == MIDI_START;
		break;
	case MIDI_STOP:
		e->ext_armed = false;
		set_paused(e, true, t);
		break;
	default:
		break;
	}
}

/* No pulse for clock_timeout_ms: the internal clock goes on at the tempo
 * followed last, and the tempo parameter takes it. */
static void clock_gap(struct engine *e, int64_t t)
{
	double bpm = clock_follow_bpm(&e->follow);
	e->following = false;
	e->ext_mapped = false;
	e->clock_gaps++;
	clock_follow_restart(&e->follow);
	e->follow.last_t = INT64_MIN;
	emit_sync(e, t, false, bpm);
	if (bpm > 0)
		set_param(e, P_TEMPO, bpm, SRC_MIDI, t, true);
}

static int64_t clock_gap_due(const struct engine *e)
{
	if (!e->following || e->follow.last_t == INT64_MIN)
		return INT64_MAX;
	return e->follow.last_t + e->cfg.clock_timeout_ms * NS_PER_MS;
}

/* Time of the clock out's next pulse: between the unswung times of the
 * step it falls in and the next, so tempo changes and drift are in it and
 * swing is not. */
static int64_t pulse_time(struct engine *e)
{
	double pps = pulses_per_step(e);
	int64_t k = (int64_t)floor((double)e->pulse_next / pps + 1e-9);
	if (k < e->k_next - 1) {	/* behind the steps (a skip): catch up */
		pulse_rewind(e);
		k = e->k_next;
	}
	double frac = (double)e->pulse_next / pps - (double)k;
	if (frac < 1e-9)
		frac = 0;
	int64_t a = k == e->base_k ? e->base_t : clock_base_time(&e->clock, k);
	int64_t b = clock_base_time(&e->clock, k + 1);
	int64_t t = a + llround((double)(b - a) * frac);
	return t < e->pulse_last_t ? e->pulse_last_t : t;
}

static void run_pulse(struct engine *e, int64_t t)
{
	emit(e, EV_CLOCK, t, false)->u.clock.pulse = e->pulse_next;
	e->pulse_last_t = t;
	e->pulse_next++;
}

static void midi_input(struct engine *e, const struct midi_msg *m, int64_t t)
{
	struct route r;
	router_resolve(&e->cfg, m, &r);
	if (r.kind != ROUTE_REALTIME)
		emit(e, EV_INPUT, t, true)->u.input = *m;
	switch (r.kind) {
	case ROUTE_PARAM:
		action(e, t, false);
		set_param(e, r.param, r.value, SRC_MIDI, t, true);
		break;
	case ROUTE_TRIGGER:
		/* A press is deliberate: it wakes the instrument at once. */
		action(e, t, true);
		trigger(e, r.step, m->value, t);
		break;
	case ROUTE_FILTERED:
		e->filtered++;
		break;
	case ROUTE_UNMAPPED:
		e->unmapped++;
		break;
	case ROUTE_REALTIME:
		clock_input(e, m, t);
		break;
	default:
		break;		/* release, reserved: nothing to do */
	}
}

static double nudged(const struct engine *e, int id, double steps)
{
	const struct param_info *p = &param_table[id];
	double v = e->value[id];
	switch (p->curve) {
	case CURVE_EXP:
		return v * pow(1.01, steps);
	case CURVE_STEPPED:
		return v + steps;
	default:
		return v + steps * (p->max - p->min) / 100;
	}
}

static void command(struct engine *e, const struct command *c, int64_t t)
{
	int src = c->source < SRC_COUNT ? c->source : SRC_API;
	bool param_ok = c->param < P_COUNT;
	bool step_ok = c->step >= 0 && c->step < ENGINE_MAX_STEPS;
	if (c->type >= CMD_TYPE_COUNT ||
	    ((c->type == CMD_SET_PARAM || c->type == CMD_NUDGE_PARAM) && !param_ok) ||
	    ((c->type == CMD_SET_STEP || c->type == CMD_TOGGLE_STEP || c->type == CMD_STEP_ON) &&
		!step_ok)) {
		e->rejected++;
		return;
	}
	if (c->type != CMD_IDLE_TOGGLE)
		action(e, t, true);
	switch (c->type) {
	case CMD_SET_PARAM:
		set_param(e, c->param, c->value, src, t, true);
		break;
	case CMD_NUDGE_PARAM:
		set_param(e, c->param, nudged(e, c->param, c->value), src, t, true);
		break;
	case CMD_TOGGLE_STEP: {
		struct engine_step was = e->seq.step[c->step];
		e->seq.step[c->step].on = !was.on;
		edited(e, c->step, &was, src, t);
		break;
	}
	case CMD_SET_STEP: {
		struct engine_step was = e->seq.step[c->step];
		seq_set_step(&e->seq, c->step, &c->step_data);
		edited(e, c->step, &was, src, t);
		break;
	}
	case CMD_PAUSE:
		set_paused(e, !e->paused, t);
		break;
	case CMD_STEP_ON: {
		struct engine_step was = e->seq.step[c->step];
		e->seq.step[c->step].on = c->value != 0;
		if (e->seq.step[c->step].on != was.on)
			edited(e, c->step, &was, src, t);
		break;
	}
	case CMD_SET_PAUSE:
		if ((c->value != 0) != e->paused)
			set_paused(e, c->value != 0, t);
		break;
	case CMD_NEXT_SCALE:
		set_param(e, P_SCALE_SELECT, ((int)e->value[P_SCALE_SELECT] + 1) % e->cfg.n_scales,
		    src, t, true);
		break;
	case CMD_NEXT_MODE:
		if (e->cfg.n_modes > 0)
			set_param(e, P_MODE, ((int)e->value[P_MODE] + 1) % e->cfg.n_modes, src, t,
			    true);
		break;
	case CMD_CHAOS_TOGGLE:
		if (e->value[P_CHAOS_LOCK] < 1) {
			e->chaos_prev = e->value[P_CHAOS_LOCK];
			set_param(e, P_CHAOS_LOCK, 1, src, t, true);
		} else {
			double back = e->chaos_prev < 1 ? e->chaos_prev
			    : e->cfg.chaos_lock < 1 ? e->cfg.chaos_lock : 0;
			set_param(e, P_CHAOS_LOCK, back, src, t, true);
		}
		break;
	case CMD_IDLE_TOGGLE:
		if (idle_force(&e->idle, t, !e->idle.on) == IDLE_ENTER)
			enter_idle(e, t, true);
		else
			leave_idle(e, t, true);
		break;
	default:
		break;
	}
}

static void run_input(struct engine *e, const struct engine_input *in)
{
	e->inputs++;
	if (in->kind == INPUT_MIDI)
		midi_input(e, &in->u.midi, in->t);
	else if (in->kind == INPUT_COMMAND)
		command(e, &in->u.cmd, in->t);
	else
		e->rejected++;
}

/* ---- sequenced units ---- */

/* Steps from the playhead's step to the next step that is on (1..len), 0 if none is. */
static int steps_to_next_on(const struct engine *e, int pos)
{
	for (int d = 1; d <= e->seq.len; d++)
		if (e->seq.step[(pos + d) % e->seq.len].on)
			return d;
	return 0;
}

/*
 * Whether the step at t must sound so that no silence between onsets
 * outlasts max_gap: if it stays silent, the next chance comes `ahead` steps
 * later, plus a step of margin for swing and tempo moves.  Density 0 is a
 * musician's silence and is respected.
 */
static bool gap_due(const struct engine *e, int64_t t)
{
	if (e->cfg.max_gap_ms <= 0 || !(e->value[P_DENSITY] > 0))
		return false;
	int ahead = steps_to_next_on(e, e->seq.pos);
	if (ahead == 0)
		return false;
	double wait = (ahead + 1) * e->clock.step_ns;
	return (double)(t - e->last_note_t) + wait > (double)(e->cfg.max_gap_ms * NS_PER_MS);
}

/* Chance that a visit rewrites its step: rewrites_per_min x (1 - chaos_lock), per minute. */
static double rewrite_chance(const struct engine *e)
{
	if (!e->cfg.mutation_enabled)
		return 0;
	double free = 1 - e->value[P_CHAOS_LOCK];
	return e->cfg.rewrites_per_min * (free > 0 ? free : 0) * e->clock.step_ns / 60e9;
}

/* Degree shifts of idle phrases and their weights: mostly home, sometimes a step or a fifth away. */
static const int phrase_shift[] = {0, 1, -1, 2, -2, 4, -3};
static const double phrase_w[] = {4, 1.5, 1.5, 1, 1, 1, 1};

/* At the start of each idle phrase: a new shift of the pattern. */
static void idle_phrase(struct engine *e, int64_t k, int64_t t)
{
	int64_t len = (int64_t)steps_per_bar(e) * e->cfg.phrase_bars;
	if (len <= 0 || k % len != 0)
		return;
	int i = rng_weighted(&e->rng_struct, phrase_w, (int)(sizeof phrase_w / sizeof phrase_w[0]));
	int shift = i < 0 ? 0 : phrase_shift[i];
	if (shift != e->shift) {
		e->shift = shift;
		emit_pattern(e, t, PATTERN_PHRASE, -1, false);
	}
}

/*
 * Loudness of a note in idle: the configured idle velocity, swelling and
 * ebbing over each phrase (0.75 at its ends, 1 in its middle), reached
 * gradually over the fade into idle.
 */
static double idle_loudness(const struct engine *e, int64_t k, int64_t t)
{
	int64_t len = (int64_t)steps_per_bar(e) * e->cfg.phrase_bars;
	double arc = 1;
	if (len > 0)
		arc = 0.75 + 0.25 * sin(3.14159265358979323846 * (double)(k % len) / (double)len);
	double f = e->cfg.idle_velocity * arc;
	int64_t fade = e->cfg.fade_in_ms * NS_PER_MS;
	if (fade > 0 && t - e->idle_since < fade) {
		double x = (double)(t - e->idle_since) / (double)fade;
		f = 1 + (f - 1) * (x < 0 ? 0 : x);
	}
	return f;
}

static void run_step(struct engine *e)
{
	int64_t k = e->k_next;
	int64_t t = clock_step_time(&e->clock, k, e->value[P_SWING]);
	e->base_k = k;
	e->base_t = clock_base_time(&e->clock, k);
	if (e->scale_pending && k % steps_per_boundary(e) == 0)
		apply_scale(e, t, false);
	if (e->idle.on)
		idle_phrase(e, k, t);
	/* One draw a step whatever the chance, so the stream does not depend on it. */
	if (rng_unit(&e->rng_struct) < rewrite_chance(e)) {
		int pos = e->seq.pos;
		struct engine_step was = e->seq.step[pos];
		seq_rewrite(&e->seq, &e->rng_struct, pos, e->scale, e->cfg.octaves,
		    e->cfg.steps_per_beat);
		e->rewrites++;
		emit_pattern(e, t, PATTERN_REWRITE, pos, false);
		/* what the LEDs show of a step (its probability, its velocity) changed too */
		const struct engine_step *st = &e->seq.step[pos];
		if (st->prob != was.prob || st->velocity != was.velocity)
			step_edit(e, pos, SRC_MUTATION, t, false);
	}
	bool force = gap_due(e, t);
	struct seq_hit hit;
	seq_play(&e->seq, &e->rng_seq, e->value[P_DENSITY], e->value[P_CHAOS_LOCK], e->scale,
	    e->cfg.octaves, force, &hit);
	struct event *ev = emit(e, EV_STEP, t, false);
	ev->u.step.step = (int16_t)hit.pos;
	ev->u.step.fired = hit.fired;
	e->play_step = hit.pos;
	e->last_step_t = t;
	if (hit.fired) {
		int velocity = hit.velocity;
		if (e->idle.on)
			velocity = clampi((int)lround(velocity * idle_loudness(e, k, t)), 1, 127);
		ev = emit(e, EV_NOTE, t, false);
		ev->u.note.pitch = (uint8_t)degree_note(e, e->scale, e->root, hit.degree + e->shift);
		ev->u.note.velocity = (uint8_t)velocity;
		ev->u.note.step = (int16_t)hit.pos;
		ev->u.note.dur = llround(hit.length * e->clock.step_ns);
		e->step_fired_t[hit.pos] = t;
		e->notes++;
		if (t > e->last_note_t)
			e->last_note_t = t;
	}
	e->k_next = k + 1;
	slew_drift(e);
	retempo(e);
}

static void run_mutation(struct engine *e)
{
	int64_t t = e->mut_next;
	e->mut_next = t + mutate_interval(&e->rng_mut, e->cfg.interval_min_s, e->cfg.interval_max_s);
	bool eligible[P_COUNT];
	for (int k = 0; k < P_COUNT; k++)
		eligible[k] = e->source[k] != SRC_KEY && !(e->fade.mask & 1u << k);
	struct event_change ch[EVENT_MUT_MAX];
	int n = mutate_draw(&e->rng_mut, e->value, e->home, eligible, e->cfg.mut, e->cfg.pull,
	    e->cfg.max_changes_per_cycle, ch);
	if (n == 0 || e->paused)
		return;
	e->mutations++;
	struct event *ev = emit(e, EV_MUTATION, t, false);
	ev->u.mutation.n = (uint8_t)n;
	/* Field by field: the event stays zeroed in its padding, so equal
	 * event lists compare equal byte for byte. */
	for (int i = 0; i < n; i++) {
		ev->u.mutation.ch[i].param = ch[i].param;
		ev->u.mutation.ch[i].from = ch[i].from;
		ev->u.mutation.ch[i].to = ch[i].to;
	}
	for (int i = 0; i < n; i++)
		set_param(e, ch[i].param, ch[i].to, SRC_MUTATION, t, false);
}

/* Roots a move may go to: the configured offsets other than the current one. */
static int root_choices(const struct engine *e, int *out)
{
	int n = 0;
	for (int i = 0; i < e->cfg.n_roots; i++) {
		bool dup = false;
		for (int j = 0; j < n; j++)
			dup |= out[j] == e->cfg.roots[i];
		if (!dup && e->cfg.roots[i] != e->root_off)
			out[n++] = e->cfg.roots[i];
	}
	return n;
}

/*
 * A scale or root move, on the next bar line.  Home is the scale_select
 * someone chose and the configured root; away from home, a move goes back
 * with probability MOVE_HOME, else elsewhere.  Logged as a mutation of
 * scale_select (a root move shows in the scale line at the bar).
 */
static void run_move(struct engine *e)
{
	int64_t t = e->move_next;
	int64_t d = mutate_poisson(&e->rng_struct, e->cfg.moves_per_hour);
	e->move_next = d > INT64_MAX - t ? INT64_MAX : t + d;
	if (e->paused || e->source[P_SCALE_SELECT] == SRC_KEY ||
	    (e->fade.mask & 1u << P_SCALE_SELECT))
		return;
	int sel = (int)e->value[P_SCALE_SELECT];
	int home = (int)clamp_value(e, P_SCALE_SELECT, e->home[P_SCALE_SELECT]);
	int off = e->root_off, roots[ENGINE_MAX_ROOTS];
	int n_roots = root_choices(e, roots), n_scales = e->cfg.n_scales - 1;
	struct rng *r = &e->rng_struct;
	bool away = sel != home || off != 0;
	if (away && rng_unit(r) < MOVE_HOME) {
		sel = home;
		off = 0;
	} else if (n_scales > 0 && (n_roots == 0 || rng_unit(r) < 0.5)) {
		int i = (int)rng_below(r, (uint32_t)n_scales);
		sel = i >= sel ? i + 1 : i;
	} else if (n_roots > 0) {
		off = roots[rng_below(r, (uint32_t)n_roots)];
	} else {
		return;
	}
	if (sel == (int)e->value[P_SCALE_SELECT] && off == e->root_off)
		return;
	e->moves++;
	e->root_off = off;
	if (sel != (int)e->value[P_SCALE_SELECT]) {
		e->mutations++;
		struct event *ev = emit(e, EV_MUTATION, t, false);
		ev->u.mutation.n = 1;
		ev->u.mutation.ch[0].param = P_SCALE_SELECT;
		ev->u.mutation.ch[0].from = e->value[P_SCALE_SELECT];
		ev->u.mutation.ch[0].to = sel;
		set_param(e, P_SCALE_SELECT, sel, SRC_MUTATION, t, false);
	} else {
		request_scale(e, e->cfg.scales[sel], current_root(e), t, false, true);
	}
}

enum unit { U_NONE, U_INPUT, U_IDLE, U_FADE, U_MUTATION, U_MOVE, U_CLOCK_GAP, U_PULSE, U_STEP };

/* Runs the earliest unit due before `to`; false when none is. */
static bool run_one(struct engine *e, int64_t to)
{
	enum unit u = U_NONE;
	int64_t best = to;
	/* Ties go to the earlier line: inputs, idle, fades, mutation, moves,
	 * clock gap, clock pulses, steps. */
	if (e->in_count > 0 && e->in[e->in_head].t < best) {
		best = e->in[e->in_head].t;
		u = U_INPUT;
	}
	int64_t due = idle_due(&e->idle);
	if (due < best) {
		best = due;
		u = U_IDLE;
	}
	if (e->fade.active && e->fade.next_tick < best) {
		best = e->fade.next_tick;
		u = U_FADE;
	}
	if (e->cfg.mutation_enabled && e->mut_next < best) {
		best = e->mut_next;
		u = U_MUTATION;
	}
	if (e->cfg.mutation_enabled && e->move_next < best) {
		best = e->move_next;
		u = U_MOVE;
	}
	due = clock_gap_due(e);
	if (due < best) {
		best = due;
		u = U_CLOCK_GAP;
	}
	if (e->cfg.clock_out && !e->paused && !e->ext_armed) {
		int64_t tp = pulse_time(e);
		if (tp < best) {
			best = tp;
			u = U_PULSE;
		}
	}
	if (!e->paused && !e->ext_armed) {
		int64_t ts = clock_step_time(&e->clock, e->k_next, e->value[P_SWING]);
		if (ts < best) {
			best = ts;
			u = U_STEP;
		}
	}
	switch (u) {
	case U_INPUT: {
		struct engine_input in = e->in[e->in_head];
		e->in_head = (e->in_head + 1) % IN_QUEUE;
		e->in_count--;
		run_input(e, &in);
		break;
	}
	case U_IDLE:
		if (idle_poll(&e->idle, best) == IDLE_ENTER)
			enter_idle(e, best, false);
		break;
	case U_FADE:
		fade_tick(e);
		break;
	case U_MUTATION:
		run_mutation(e);
		break;
	case U_MOVE:
		run_move(e);
		break;
	case U_CLOCK_GAP:
		clock_gap(e, best);
		break;
	case U_PULSE:
		run_pulse(e, best);
		break;
	case U_STEP:
		run_step(e);
		break;
	case U_NONE:
		return false;
	}
	if (best > e->horizon)
		e->horizon = best;
	return true;
}

/* ---- the API ---- */

static void reset_params(struct engine *e)
{
	for (int k = 0; k < P_COUNT; k++) {
		e->value[k] = e->home[k] = clamp_value(e, k, config_value(&e->cfg, k));
		e->source[k] = SRC_CONFIG;
	}
}

/* Drift wander: one move every drift_period_s at the configured tempo. */
static int drift_span(const struct engine_config *c)
{
	double steps = c->drift_period_s * c->bpm * c->steps_per_beat / 60;
	return steps < 1 ? 1 : steps > 1e6 ? 1000000 : (int)lround(steps);
}

struct engine *engine_new(const struct engine_config *cfg, uint64_t seed)
{
	struct engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->cfg = *cfg;
	sanitize(&e->cfg);
	reset_params(e);
	rng_seed(&e->rng_seq, seed, 1);
	rng_seed(&e->rng_mut, seed, 2);
	rng_seed(&e->rng_struct, seed, 3);
	clock_drift_init(&e->drift, seed, drift_span(&e->cfg));
	e->drift_depth = e->value[P_DRIFT];
	e->mode_applied = -1;
	e->scale = e->scale_prev = e->scale_want = e->cfg.scales[0];
	e->root = e->root_prev = e->root_want = e->cfg.root;
	e->scale_since = INT64_MIN;
	seq_init(&e->seq, &e->rng_seq, e->cfg.steps, e->scale, e->cfg.octaves,
	    e->cfg.steps_per_beat);
	clock_init(&e->clock, 0, effective_tempo(e, 0), e->cfg.steps_per_beat);
	e->last_step_t = INT64_MIN;
	e->last_note_t = 0;
	e->pulse_last_t = INT64_MIN;
	e->base_k = -1;
	clock_follow_reset(&e->follow);
	e->play_step = -1;
	for (int k = 0; k < ENGINE_MAX_STEPS; k++)
		e->step_fired_t[k] = -1;
	e->mut_next = e->cfg.mutation_enabled
	    ? mutate_interval(&e->rng_mut, e->cfg.interval_min_s, e->cfg.interval_max_s)
	    : INT64_MAX;
	e->move_next = mutate_poisson(&e->rng_struct, e->cfg.moves_per_hour);
	idle_init(&e->idle, 0, e->cfg.idle_timeout_ms * NS_PER_MS,
	    e->cfg.wake_activity_ms * NS_PER_MS);
	e->chaos_prev = e->value[P_CHAOS_LOCK];
	/* The log starts with the scale and the pattern in force. */
	struct event *ev = emit(e, EV_SCALE, 0, false);
	ev->u.scale.scale = (uint8_t)e->scale;
	ev->u.scale.root = (uint8_t)e->root;
	emit_pattern(e, 0, PATTERN_START, -1, false);
	return e;
}

void engine_free(struct engine *e)
{
	free(e);
}

void engine_start(struct engine *e, int64_t t0)
{
	int64_t d = t0 - e->origin;
	if (e->started || d == 0)
		return;
	e->origin = t0;
	e->horizon += d;
	e->clock.t0 += d;
	e->idle.last_action += d;
	e->last_note_t += d;
	if (e->mut_next != INT64_MAX)
		e->mut_next += d;
	if (e->move_next != INT64_MAX)
		e->move_next = e->move_next > INT64_MAX - d ? INT64_MAX : e->move_next + d;
	for (size_t i = 0; i < e->out_count; i++)
		e->out[(e->out_head + i) % OUT_RING].t += d;
}

void engine_input(struct engine *e, const struct engine_input *in)
{
	if (e->in_count == IN_QUEUE) {
		e->dropped++;
		return;
	}
	e->in[(e->in_head + e->in_count) % IN_QUEUE] = *in;
	e->in_count++;
}

size_t engine_advance(struct engine *e, int64_t to, struct event *out, size_t cap)
{
	size_t n = 0;
	bool more = true;
	e->started = true;
	if (!out)
		cap = 0;
	for (;;) {
		while (more && OUT_RING - e->out_count >= 2 * UNIT_MAX)
			more = run_one(e, to);
		n += drain(e, out + n, cap - n);
		if (n >= cap || !more)
			break;
	}
	if (!more && to > e->horizon)
		e->horizon = to;
	return n;
}

void engine_get_state(const struct engine *e, struct engine_state *st)
{
	memset(st, 0, sizeof *st);
	st->t = e->horizon;
	memcpy(st->value, e->value, sizeof st->value);
	memcpy(st->source, e->source, sizeof st->source);
	st->tempo_now = e->clock.bpm;
	st->n_steps = e->seq.len;
	memcpy(st->steps, e->seq.step, sizeof st->steps);
	for (int k = 0; k < ENGINE_MAX_STEPS; k++)
		st->step_note[k] =
		    (uint8_t)degree_note(e, e->scale, e->root, e->seq.step[k].degree + e->shift);
	st->play_step = e->play_step;
	memcpy(st->step_fired_t, e->step_fired_t, sizeof st->step_fired_t);
	st->scale = (uint8_t)e->scale;
	st->root = (uint8_t)e->root;
	st->mode = (int)e->value[P_MODE];
	st->palette = (int)e->value[P_PALETTE];
	st->idle = e->idle.on;
	st->paused = e->paused;
	st->notes = e->notes;
	st->unmapped = e->unmapped;
	st->mutations = e->mutations;
	st->idle_transitions = e->idle_transitions;
	st->inputs = e->inputs;
	st->filtered = e->filtered;
	st->rejected = e->rejected;
	st->dropped = e->dropped;
	st->pending_scale = e->scale_pending ? e->scale_want : -1;
	st->next_mutation_t = e->cfg.mutation_enabled ? e->mut_next : INT64_MAX;
	memcpy(st->home, e->home, sizeof st->home);
	st->root_offset = e->root_off;
	st->phrase_shift = e->shift;
	st->rewrites = e->rewrites;
	st->moves = e->moves;
	const char *playing = "default";
	if (e->idle.on && e->cfg.ambient_profile >= 0)
		playing = e->cfg.profiles[e->cfg.ambient_profile].name;
	else if (e->mode_applied >= 0 && e->mode_applied < e->cfg.n_modes)
		playing = e->cfg.profiles[e->cfg.modes[e->mode_applied]].name;
	snprintf(st->playing, sizeof st->playing, "%s", playing);
	st->clock_source = (uint8_t)e->cfg.clock_source;
	st->clock_following = e->following;
	st->clock_bpm = clock_follow_bpm(&e->follow);
	st->clock_jitter_ns = e->follow.jitter;
	st->clock_pulses = e->pulses_in;
	st->clock_gaps = e->clock_gaps;
}

void engine_reconfigure(struct engine *e, const struct engine_config *cfg)
{
	struct engine_config old = e->cfg;
	e->cfg = *cfg;
	sanitize(&e->cfg);
	int64_t t = after_played(e, e->horizon);

	if (e->cfg.steps_per_beat != old.steps_per_beat) {
		clock_set_tempo(&e->clock, e->k_next, e->clock.bpm);
		e->clock.steps_per_beat = e->cfg.steps_per_beat;
		e->clock.step_ns = clock_step_ns(e->clock.bpm, e->clock.steps_per_beat);
		e->base_k = -1;
		e->ext_mapped = false;
	}
	if (e->cfg.steps_per_beat != old.steps_per_beat || (e->cfg.clock_out && !old.clock_out))
		pulse_rewind(e);
	if (e->cfg.clock_source != CLOCK_SOURCE_MIDI && e->following) {
		e->following = false;
		e->ext_mapped = false;
		emit_sync(e, e->horizon, false, e->clock.bpm);
	}
	if (e->cfg.clock_source != CLOCK_SOURCE_MIDI)
		e->ext_armed = false;
	/* What the performer set stays; what came from the config follows it. */
	for (int k = 0; k < P_COUNT; k++) {
		if (e->source[k] == SRC_CONFIG)
			set_param(e, k, config_value(&e->cfg, k), SRC_CONFIG, t, true);
		else if (selector(k) && clamp_value(e, k, e->value[k]) != e->value[k])
			set_param(e, k, e->value[k], e->source[k], t, true);
	}
	int sel = (int)e->value[P_SCALE_SELECT];
	bool root_ok = false;
	for (int i = 0; i < e->cfg.n_roots; i++)
		root_ok |= e->cfg.roots[i] == e->root_off;
	if (!root_ok)
		e->root_off = 0;
	if (e->cfg.scales[sel] != e->scale || current_root(e) != e->root)
		request_scale(e, e->cfg.scales[sel], current_root(e), t, true, false);
	if (e->mode_applied >= e->cfg.n_modes)
		e->mode_applied = -1;
	if (e->cfg.drift_period_s != old.drift_period_s || e->cfg.bpm != old.bpm)
		clock_drift_set_span(&e->drift, drift_span(&e->cfg));

	struct idle was = e->idle;
	idle_init(&e->idle, was.last_action, e->cfg.idle_timeout_ms * NS_PER_MS,
	    e->cfg.wake_activity_ms * NS_PER_MS);
	e->idle.on = was.on;
	e->idle.wake_start = was.wake_start;
	if (!e->cfg.mutation_enabled)
		e->mut_next = INT64_MAX;
	else if (!old.mutation_enabled || e->mut_next == INT64_MAX)
		e->mut_next = t + mutate_interval(&e->rng_mut, e->cfg.interval_min_s,
		    e->cfg.interval_max_s);
	if (e->cfg.moves_per_hour != old.moves_per_hour || e->move_next == INT64_MAX ||
	    (e->cfg.mutation_enabled && !old.mutation_enabled)) {
		int64_t d = mutate_poisson(&e->rng_struct, e->cfg.moves_per_hour);
		e->move_next = d > INT64_MAX - t ? INT64_MAX : t + d;
	}
	e->chaos_prev = e->chaos_prev < 1 ? e->chaos_prev : e->cfg.chaos_lock;
}

int64_t engine_resync(struct engine *e, int64_t late, int64_t at)
{
	double swing = e->value[P_SWING];
	int64_t k = e->k_next;
	if (e->paused || clock_step_time(&e->clock, k, swing) >= late)
		return 0;
	/* An estimate from the unswung grid, then exact: swing < 1 step keeps
	 * step times increasing. */
	double ahead = floor((double)(at - clock_base_time(&e->clock, k)) / e->clock.step_ns);
	if (ahead > 1)
		k += (int64_t)ahead - 1;
	while (clock_step_time(&e->clock, k, swing) < at)
		k++;
	int64_t skipped = k - e->k_next;
	e->seq.pos = (int)((e->seq.pos + skipped % e->seq.len) % e->seq.len);
	e->k_next = k;
	retempo(e);
	pulse_rewind(e);
	return skipped;
}
