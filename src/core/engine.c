/*
 * engine: the instrument's core; ties router, params, clock, seq, scale,
 * mutate and idle together behind engine_input() and engine_advance().
 *
 * Design: engine_input() only copies the input into a bounded queue.
 * engine_advance(to) then runs "units" in time order until nothing is due
 * before `to`: a queued input, the idle timeout, an idle fade tick, a
 * mutation, or the next step.  Each unit writes its events into a bounded
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
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
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
#define DRIFT_SPAN_BARS 32	/* bars per move of the drift curve */

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

	struct rng rng_seq, rng_mut;
	struct seq seq;
	struct clock clock;
	struct clock_drift drift;
	int64_t k_next;		/* global index of the next step */
	int64_t last_step_t;	/* time of the last step played, INT64_MIN before */
	int play_step;
	int64_t step_fired_t[ENGINE_MAX_STEPS];
	bool paused;

	int scale, root;			/* active */
	int scale_prev, root_prev;		/* active before scale_since */
	int64_t scale_since;
	bool scale_pending;
	int scale_want, root_want;

	int64_t mut_next;

	struct idle idle;
	struct fade fade;
	double saved[P_COUNT];
	uint32_t saved_mask;	/* what leaving idle restores */

	double chaos_prev;

	uint64_t notes, unmapped, filtered, rejected, dropped, mutations, idle_transitions,
	    inputs;

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
	c->n_buttons = clampi(c->n_buttons, 0, ENGINE_MAX_BUTTONS);
	c->steps = clampi(c->steps, 1, ENGINE_MAX_STEPS);
	c->bpm = param_clamp(P_TEMPO, c->bpm);
	c->swing = param_clamp(P_SWING, c->swing);
	c->density = param_clamp(P_DENSITY, c->density);
	c->drift = param_clamp(P_DRIFT, c->drift);
	c->chaos_lock = param_clamp(P_CHAOS_LOCK, c->chaos_lock);
	c->filter_cutoff = param_clamp(P_FILTER_CUTOFF, c->filter_cutoff);
	c->reverb_mix = param_clamp(P_REVERB_MIX, c->reverb_mix);
	c->master_volume = param_clamp(P_MASTER_VOLUME, c->master_volume);
	c->steps_per_beat = clampi(c->steps_per_beat, 1, 16);
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

/* Asks for a scale; it comes at the configured boundary (at once when paused). */
static void request_scale(struct engine *e, int scale, int root, int64_t t, bool live)
{
	e->scale_want = scale;
	e->root_want = root;
	e->scale_pending = true;
	if (e->cfg.quantize_scale_changes == QUANTIZE_IMMEDIATE || e->paused)
		apply_scale(e, after_played(e, t), live);
}

static int steps_per_boundary(const struct engine *e)
{
	int q = e->cfg.steps_per_beat;
	if (e->cfg.quantize_scale_changes == QUANTIZE_BAR)
		q *= e->cfg.beats_per_bar;
	return q;
}

/* ---- parameters ---- */

static double effective_tempo(struct engine *e, int64_t k)
{
	double x = clock_drift_at(&e->drift, k);
	double drift = e->value[P_DRIFT];
	if (!(drift > 0))
		return e->value[P_TEMPO];
	return e->value[P_TEMPO] * (1 + drift / 100 * x);
}

/* Gives the clock the current tempo from the next step on. */
static void retempo(struct engine *e)
{
	double bpm = effective_tempo(e, e->k_next);
	if (bpm != e->clock.bpm)
		clock_set_tempo(&e->clock, e->k_next, bpm);
}

static void set_param(struct engine *e, int id, double v, int src, int64_t t, bool live);

static void apply_mode(struct engine *e, int mode, int64_t t, bool live)
{
	if (mode < 0 || mode >= e->cfg.n_modes)
		return;
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
		/* A performer's value wins over fades and is kept on waking. */
		e->fade.mask &= ~(1u << id);
		e->saved_mask &= ~(1u << id);
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
		break;
	case P_SCALE_SELECT:
		request_scale(e, e->cfg.scales[(int)v], e->cfg.root, t, live);
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

static void enter_idle(struct engine *e, int64_t t, bool live)
{
	e->idle_transitions++;
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
		if ((e->saved_mask & 1u << k) && e->source[k] != SRC_KEY)
			mask |= 1u << k;
	e->saved_mask = 0;
	e->fade.active = false;
	e->fade.mask = 0;
	start_fade(e, t, e->cfg.fade_out_ms * NS_PER_MS, mask, e->saved, live);
}

/* A semantic action at t: restarts the idle timeout, may wake. */
static void action(struct engine *e, int64_t t, bool deliberate)
{
	if (idle_action(&e->idle, t, deliberate) == IDLE_EXIT)
		leave_idle(e, t, true);
}

/* ---- inputs ---- */

static void trigger(struct engine *e, int k, int velocity, int64_t t)
{
	struct engine_step *st = &e->seq.step[k];
	st->on = !st->on;
	struct event *ev = emit(e, EV_STEP_EDIT, t, true);
	ev->u.step_edit.step = (int16_t)k;
	ev->u.step_edit.on = st->on;
	/* Sound it in the scale active at t, even if a change was already played. */
	bool before = t < e->scale_since;
	int scale = before ? e->scale_prev : e->scale;
	int root = before ? e->root_prev : e->root;
	ev = emit(e, EV_NOTE, t, true);
	ev->u.note.pitch = (uint8_t)degree_note(e, scale, root, st->degree);
	ev->u.note.velocity = (uint8_t)clampi(velocity, 1, 127);
	ev->u.note.step = (int16_t)k;
	ev->u.note.dur = llround(st->length * e->clock.step_ns);
	e->notes++;
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
		if (r.step >= ENGINE_MAX_STEPS) {
			e->unmapped++;
			break;
		}
		action(e, t, false);
		trigger(e, r.step, m->value, t);
		break;
	case ROUTE_FILTERED:
		e->filtered++;
		break;
	case ROUTE_UNMAPPED:
		e->unmapped++;
		break;
	default:
		break;		/* release, reserved, realtime: nothing to do */
	}
}

static void step_edit(struct engine *e, int k, int64_t t)
{
	struct event *ev = emit(e, EV_STEP_EDIT, t, true);
	ev->u.step_edit.step = (int16_t)k;
	ev->u.step_edit.on = e->seq.step[k].on;
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
	    ((c->type == CMD_SET_STEP || c->type == CMD_TOGGLE_STEP) && !step_ok)) {
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
	case CMD_TOGGLE_STEP:
		e->seq.step[c->step].on = !e->seq.step[c->step].on;
		step_edit(e, c->step, t);
		break;
	case CMD_SET_STEP:
		seq_set_step(&e->seq, c->step, &c->step_data);
		step_edit(e, c->step, t);
		break;
	case CMD_PAUSE:
		e->paused = !e->paused;
		if (!e->paused)
			clock_restart(&e->clock, e->k_next, after_played(e, t));
		emit(e, EV_TRANSPORT, t, true)->u.transport.running = !e->paused;
		if (!e->paused && e->scale_pending)
			apply_scale(e, after_played(e, t), true);
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

static void run_step(struct engine *e)
{
	int64_t k = e->k_next;
	int64_t t = clock_step_time(&e->clock, k, e->value[P_SWING]);
	if (e->scale_pending && k % steps_per_boundary(e) == 0)
		apply_scale(e, t, false);
	struct seq_hit hit;
	seq_play(&e->seq, &e->rng_seq, e->value[P_DENSITY], e->value[P_CHAOS_LOCK], e->scale,
	    e->cfg.octaves, &hit);
	struct event *ev = emit(e, EV_STEP, t, false);
	ev->u.step.step = (int16_t)hit.pos;
	ev->u.step.fired = hit.fired;
	e->play_step = hit.pos;
	e->last_step_t = t;
	if (hit.fired) {
		ev = emit(e, EV_NOTE, t, false);
		ev->u.note.pitch = (uint8_t)degree_note(e, e->scale, e->root, hit.degree);
		ev->u.note.velocity = (uint8_t)hit.velocity;
		ev->u.note.step = (int16_t)hit.pos;
		ev->u.note.dur = llround(hit.length * e->clock.step_ns);
		e->step_fired_t[hit.pos] = t;
		e->notes++;
	}
	e->k_next = k + 1;
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
	int n = mutate_draw(&e->rng_mut, e->value, eligible, e->cfg.max_changes_per_cycle, ch);
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

enum unit { U_NONE, U_INPUT, U_IDLE, U_FADE, U_MUTATION, U_STEP };

/* Runs the earliest unit due before `to`; false when none is. */
static bool run_one(struct engine *e, int64_t to)
{
	enum unit u = U_NONE;
	int64_t best = to;
	/* Ties go to the earlier line: inputs, idle, fades, mutation, steps. */
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
	if (!e->paused) {
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
		e->value[k] = clamp_value(e, k, config_value(&e->cfg, k));
		e->source[k] = SRC_CONFIG;
	}
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
	clock_drift_init(&e->drift, seed,
	    DRIFT_SPAN_BARS * e->cfg.steps_per_beat * e->cfg.beats_per_bar);
	e->scale = e->scale_prev = e->scale_want = e->cfg.scales[0];
	e->root = e->root_prev = e->root_want = e->cfg.root;
	e->scale_since = INT64_MIN;
	seq_init(&e->seq, &e->rng_seq, e->cfg.steps, e->scale, e->cfg.octaves,
	    e->cfg.steps_per_beat);
	clock_init(&e->clock, 0, effective_tempo(e, 0), e->cfg.steps_per_beat);
	e->last_step_t = INT64_MIN;
	e->play_step = -1;
	for (int k = 0; k < ENGINE_MAX_STEPS; k++)
		e->step_fired_t[k] = -1;
	e->mut_next = e->cfg.mutation_enabled
	    ? mutate_interval(&e->rng_mut, e->cfg.interval_min_s, e->cfg.interval_max_s)
	    : INT64_MAX;
	idle_init(&e->idle, 0, e->cfg.idle_timeout_ms * NS_PER_MS,
	    e->cfg.wake_activity_ms * NS_PER_MS);
	e->chaos_prev = e->value[P_CHAOS_LOCK];
	/* The log starts with the scale in force. */
	struct event *ev = emit(e, EV_SCALE, 0, false);
	ev->u.scale.scale = (uint8_t)e->scale;
	ev->u.scale.root = (uint8_t)e->root;
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
	if (e->mut_next != INT64_MAX)
		e->mut_next += d;
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
		st->step_note[k] = (uint8_t)degree_note(e, e->scale, e->root, e->seq.step[k].degree);
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
	}
	/* What the performer set stays; what came from the config follows it. */
	for (int k = 0; k < P_COUNT; k++) {
		if (e->source[k] == SRC_CONFIG)
			set_param(e, k, config_value(&e->cfg, k), SRC_CONFIG, t, true);
		else if (selector(k) && clamp_value(e, k, e->value[k]) != e->value[k])
			set_param(e, k, e->value[k], e->source[k], t, true);
	}
	int sel = (int)e->value[P_SCALE_SELECT];
	if (e->cfg.scales[sel] != e->scale || e->cfg.root != e->root)
		request_scale(e, e->cfg.scales[sel], e->cfg.root, t, true);

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
	return skipped;
}
