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
 * may call it.  This file: the output ring, the scale, the parameters, idle
 * and its fades, the API; engine_input.c and engine_step.c the rest
 * (engine_impl.h).
 */
#include "core/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_impl.h"
#include "core/mutate.h"
#include "core/router.h"
#include "core/scale.h"

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

double engine_clamp_value(const struct engine *e, int id, double v)
{
	v = param_clamp((enum param_id)id, v);
	if (param_is_choice(id)) {
		int n = router_choices(&e->cfg, id);
		if (v > n - 1)
			v = n > 0 ? n - 1 : 0;
	}
	return v;
}

/* ---- output ring ---- */

struct event *engine_emit(struct engine *e, int type, int64_t t, bool live)
{
	struct event *ev;
	if (e->out_count == ENGINE_OUT_RING) {
		e->dropped++;
		ev = &e->scratch;
	} else {
		ev = &e->out[(e->out_head + e->out_count) % ENGINE_OUT_RING];
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
		e->out_head = (e->out_head + 1) % ENGINE_OUT_RING;
		e->out_count--;
	}
	return n;
}

/* ---- scale ---- */

/* The note a degree plays, wrapped into the configured octaves. */
int engine_degree_note(const struct engine *e, int scale, int root, int degree)
{
	int span = scale_table[scale].n * e->cfg.octaves;
	int d = degree % span;
	if (d < 0)
		d += span;
	return scale_degree_note(scale, root, d);
}

/* Earliest time a change may take so no note already played contradicts it. */
int64_t engine_after_played(const struct engine *e, int64_t t)
{
	return e->last_step_t == INT64_MIN || t > e->last_step_t ? t : e->last_step_t + 1;
}

void engine_apply_scale(struct engine *e, int64_t t, bool live)
{
	e->scale_pending = false;
	if (e->scale_want == e->scale && e->root_want == e->root)
		return;
	e->scale_prev = e->scale;
	e->root_prev = e->root;
	e->scale_since = t;
	e->scale = e->scale_want;
	e->root = e->root_want;
	struct event *ev = engine_emit(e, EV_SCALE, t, live);
	ev->u.scale.scale = (uint8_t)e->scale;
	ev->u.scale.root = (uint8_t)e->root;
}

/* The root in force: the configured one moved by the current root move. */
int engine_current_root(const struct engine *e)
{
	return clampi(e->cfg.root + e->root_off, 0, 127);
}

/*
 * Asks for a scale; it comes at the configured boundary, or at the next bar
 * line when at_bar (the mutation's moves), at once when paused.
 */
void engine_request_scale(struct engine *e, int scale, int root, int64_t t, bool live, bool at_bar)
{
	e->scale_want = scale;
	e->root_want = root;
	e->scale_pending = true;
	e->scale_at_bar = at_bar;
	if ((!at_bar && e->cfg.quantize_scale_changes == QUANTIZE_IMMEDIATE) || e->paused)
		engine_apply_scale(e, engine_after_played(e, t), live);
}

int engine_steps_per_bar(const struct engine *e)
{
	return e->cfg.steps_per_beat * e->cfg.beats_per_bar;
}

int engine_steps_per_boundary(const struct engine *e)
{
	if (e->scale_at_bar || e->cfg.quantize_scale_changes == QUANTIZE_BAR)
		return engine_steps_per_bar(e);
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
void engine_slew_drift(struct engine *e)
{
	double want = e->value[P_DRIFT], d = want - e->drift_depth;
	double most = DRIFT_SLEW * e->clock.step_ns / 1e9;
	e->drift_depth = fabs(d) <= most ? want : e->drift_depth + (d > 0 ? most : -most);
}

/* Gives the clock the current tempo from the next step on (an external
 * clock being followed sets it instead). */
void engine_retempo(struct engine *e)
{
	if (e->following)
		return;
	double bpm = effective_tempo(e, e->k_next);
	if (bpm != e->clock.bpm)
		clock_set_tempo(&e->clock, e->k_next, bpm);
}

/* Emits the pattern as it now plays (the log's and the console's view). */
void engine_emit_pattern(struct engine *e, int64_t t, int cause, int step, bool live)
{
	struct event *ev = engine_emit(e, EV_PATTERN, t, live);
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
	struct event *ev = engine_emit(e, EV_MODE, t, live);
	ev->u.mode.mode = (uint8_t)mode;
	const struct engine_profile *p = &e->cfg.profiles[e->cfg.modes[mode]];
	for (int k = 0; k < P_COUNT; k++)
		if (k != P_MODE && (p->mask & 1u << k))
			engine_set_param(e, k, p->value[k], SRC_MODE, t, live);
}

/* Sets a parameter (clamped), emits the change and applies its consequences. */
void engine_set_param(struct engine *e, int id, double v, int src, int64_t t, bool live)
{
	v = engine_clamp_value(e, id, v);
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
	struct event *ev = engine_emit(e, EV_PARAM, t, live);
	ev->u.param.id = (uint8_t)id;
	ev->u.param.source = (uint8_t)src;
	ev->u.param.value = v;
	switch (id) {
	case P_TEMPO:
	case P_DRIFT:
		engine_retempo(e);
		break;
	case P_SEQUENCE_LENGTH:
		seq_set_length(&e->seq, (int)v);
		engine_emit_pattern(e, engine_after_played(e, t), PATTERN_LENGTH, -1, live);
		break;
	case P_SCALE_SELECT:
		engine_request_scale(e, e->cfg.scales[(int)v], engine_current_root(e), t, live,
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
static void start_fade(struct engine *e, int64_t t, int64_t dur, uint32_t mask, const double *to,
                       bool live)
{
	struct fade *f = &e->fade;
	f->active = false;
	f->mask = 0;
	for (int k = 0; k < P_COUNT; k++) {
		if (!(mask & 1u << k))
			continue;
		if (param_table[k].curve == CURVE_STEPPED || dur <= 0) {
			engine_set_param(e, k, to[k], SRC_IDLE, t, live);
			continue;
		}
		f->from[k] = e->value[k];
		f->to[k] = engine_clamp_value(e, k, to[k]);
		f->mask |= 1u << k;
	}
	if (!f->mask)
		return;
	f->active = true;
	f->t_start = t;
	f->dur = dur;
	f->next_tick = t + (dur < FADE_TICK_NS ? dur : FADE_TICK_NS);
}

void engine_fade_tick(struct engine *e)
{
	struct fade *f = &e->fade;
	int64_t t = f->next_tick;
	double x = (double)(t - f->t_start) / (double)f->dur;
	bool last = t >= f->t_start + f->dur;
	for (int k = 0; k < P_COUNT; k++)
		if (f->mask & 1u << k)
			engine_set_param(e, k, last ? f->to[k] : interp(k, f->from[k], f->to[k], x),
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
void engine_enter_idle(struct engine *e, int64_t t, bool live)
{
	e->idle_transitions++;
	e->idle_since = t;
	engine_emit(e, EV_IDLE, t, live)->u.idle.on = 1;
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
		e->home[k] = engine_clamp_value(e, k, p->value[k]);
		mask |= 1u << k;
	}
	e->saved_mask = mask;
	start_fade(e, t, e->cfg.fade_in_ms * NS_PER_MS, mask, p->value, live);
}

void engine_leave_idle(struct engine *e, int64_t t, bool live)
{
	e->idle_transitions++;
	engine_emit(e, EV_IDLE, t, live)->u.idle.on = 0;
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
		engine_emit_pattern(e, engine_after_played(e, t), PATTERN_PHRASE, -1, live);
	}
}

/* A semantic action at t: restarts the idle timeout, may wake. */
void engine_action(struct engine *e, int64_t t, bool deliberate)
{
	if (idle_action(&e->idle, t, deliberate) == IDLE_EXIT)
		engine_leave_idle(e, t, true);
}

/* ---- the API ---- */

static void reset_params(struct engine *e)
{
	for (int k = 0; k < P_COUNT; k++) {
		e->value[k] = e->home[k] =
		    engine_clamp_value(e, k, engine_config_value(&e->cfg, k));
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
	engine_config_sanitize(&e->cfg);
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
	e->mut_next = e->cfg.mutation_enabled ? mutate_interval(&e->rng_mut, e->cfg.interval_min_s,
	                                                        e->cfg.interval_max_s)
	                                      : INT64_MAX;
	e->move_next = mutate_poisson(&e->rng_struct, e->cfg.moves_per_hour);
	idle_init(&e->idle, 0, e->cfg.idle_timeout_ms * NS_PER_MS,
	          e->cfg.wake_activity_ms * NS_PER_MS);
	e->chaos_prev = e->value[P_CHAOS_LOCK];
	/* The log starts with the scale and the pattern in force. */
	struct event *ev = engine_emit(e, EV_SCALE, 0, false);
	ev->u.scale.scale = (uint8_t)e->scale;
	ev->u.scale.root = (uint8_t)e->root;
	engine_emit_pattern(e, 0, PATTERN_START, -1, false);
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
		e->out[(e->out_head + i) % ENGINE_OUT_RING].t += d;
}

void engine_input(struct engine *e, const struct engine_input *in)
{
	if (e->in_count == ENGINE_IN_QUEUE) {
		e->dropped++;
		return;
	}
	e->in[(e->in_head + e->in_count) % ENGINE_IN_QUEUE] = *in;
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
		while (more && ENGINE_OUT_RING - e->out_count >= 2 * UNIT_MAX)
			more = engine_run_one(e, to);
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
		st->step_note[k] = (uint8_t)engine_degree_note(e, e->scale, e->root,
		                                               e->seq.step[k].degree + e->shift);
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
	engine_config_sanitize(&e->cfg);
	int64_t t = engine_after_played(e, e->horizon);

	if (e->cfg.steps_per_beat != old.steps_per_beat) {
		clock_set_tempo(&e->clock, e->k_next, e->clock.bpm);
		e->clock.steps_per_beat = e->cfg.steps_per_beat;
		e->clock.step_ns = clock_step_ns(e->clock.bpm, e->clock.steps_per_beat);
		e->base_k = -1;
		e->ext_mapped = false;
	}
	if (e->cfg.steps_per_beat != old.steps_per_beat || (e->cfg.clock_out && !old.clock_out))
		engine_pulse_rewind(e);
	if (e->cfg.clock_source != CLOCK_SOURCE_MIDI && e->following) {
		e->following = false;
		e->ext_mapped = false;
		struct event *ev = engine_emit(e, EV_CLOCK_SYNC, e->horizon, true);
		ev->u.sync.on = false;
		ev->u.sync.bpm = e->clock.bpm;
	}
	if (e->cfg.clock_source != CLOCK_SOURCE_MIDI)
		e->ext_armed = false;
	/* What the performer set stays; what came from the config follows it. */
	for (int k = 0; k < P_COUNT; k++) {
		if (e->source[k] == SRC_CONFIG)
			engine_set_param(e, k, engine_config_value(&e->cfg, k), SRC_CONFIG, t,
			                 true);
		else if (param_is_choice(k) && engine_clamp_value(e, k, e->value[k]) != e->value[k])
			engine_set_param(e, k, e->value[k], e->source[k], t, true);
	}
	int sel = (int)e->value[P_SCALE_SELECT];
	bool root_ok = false;
	for (int i = 0; i < e->cfg.n_roots; i++)
		root_ok |= e->cfg.roots[i] == e->root_off;
	if (!root_ok)
		e->root_off = 0;
	if (e->cfg.scales[sel] != e->scale || engine_current_root(e) != e->root)
		engine_request_scale(e, e->cfg.scales[sel], engine_current_root(e), t, true, false);
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
		e->mut_next =
		    t + mutate_interval(&e->rng_mut, e->cfg.interval_min_s, e->cfg.interval_max_s);
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
	engine_retempo(e);
	engine_pulse_rewind(e);
	return skipped;
}
