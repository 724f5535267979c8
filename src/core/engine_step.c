/*
 * engine_step: the sequenced units of the engine and the loop that runs
 * every unit in time order (see engine_impl.h): a step (its rewrite, its
 * gate draw, an idle phrase, its note), a move of the mutation walk, a
 * scale or root move; engine_run_one() picks the earliest unit due before
 * `to`, inputs first on equal times, and engine_next_due() tells when the
 * first one is.  Single-threaded, like the engine.
 */
#include <math.h>
#include <string.h>

#include "core/engine_impl.h"
#include "core/mutate.h"
#include "core/router.h"
#include "core/scale.h"

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

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

/* Degree shifts of idle phrases and their weights: mostly home, sometimes a step or a fifth away.
 */
static const int phrase_shift[] = {0, 1, -1, 2, -2, 4, -3};
static const double phrase_w[] = {4, 1.5, 1.5, 1, 1, 1, 1};

/* At the start of each idle phrase: a new shift of the pattern. */
static void idle_phrase(struct engine *e, int64_t k, int64_t t)
{
	int64_t len = (int64_t)engine_steps_per_bar(e) * e->cfg.phrase_bars;
	if (len <= 0 || k % len != 0)
		return;
	int i = rng_weighted(&e->rng_struct, phrase_w, (int)(sizeof phrase_w / sizeof phrase_w[0]));
	int shift = i < 0 ? 0 : phrase_shift[i];
	if (shift != e->shift) {
		e->shift = shift;
		engine_emit_pattern(e, t, PATTERN_PHRASE, -1, false);
	}
}

/*
 * Loudness of a note in idle: the configured idle velocity, swelling and
 * ebbing over each phrase (0.75 at its ends, 1 in its middle), reached
 * gradually over the fade into idle.
 */
static double idle_loudness(const struct engine *e, int64_t k, int64_t t)
{
	int64_t len = (int64_t)engine_steps_per_bar(e) * e->cfg.phrase_bars;
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
	if (e->scale_pending && k % engine_steps_per_boundary(e) == 0)
		engine_apply_scale(e, t, false);
	if (e->idle.on)
		idle_phrase(e, k, t);
	/* One draw a step whatever the chance, so the stream does not depend on it. */
	if (rng_unit(&e->rng_struct) < rewrite_chance(e)) {
		int pos = e->seq.pos;
		struct engine_step was = e->seq.step[pos];
		seq_rewrite(&e->seq, &e->rng_struct, pos, e->scale, e->cfg.octaves,
		            e->cfg.steps_per_beat);
		e->rewrites++;
		engine_emit_pattern(e, t, PATTERN_REWRITE, pos, false);
		/* what the LEDs show of a step (its probability, its velocity) changed too */
		const struct engine_step *st = &e->seq.step[pos];
		if (st->prob != was.prob || st->velocity != was.velocity)
			engine_step_edit(e, pos, SRC_MUTATION, t, false);
	}
	bool force = gap_due(e, t);
	struct seq_hit hit;
	seq_play(&e->seq, &e->rng_seq, e->value[P_DENSITY], e->value[P_CHAOS_LOCK], e->scale,
	         e->cfg.octaves, force, &hit);
	struct event *ev = engine_emit(e, EV_STEP, t, false);
	ev->u.step.step = (int16_t)hit.pos;
	ev->u.step.fired = hit.fired;
	e->play_step = hit.pos;
	e->last_step_t = t;
	if (hit.fired) {
		int velocity = hit.velocity;
		if (e->idle.on)
			velocity = clampi((int)lround(velocity * idle_loudness(e, k, t)), 1, 127);
		ev = engine_emit(e, EV_NOTE, t, false);
		ev->u.note.pitch =
		    (uint8_t)engine_degree_note(e, e->scale, e->root, hit.degree + e->shift);
		ev->u.note.velocity = (uint8_t)velocity;
		ev->u.note.step = (int16_t)hit.pos;
		ev->u.note.dur = llround(hit.length * e->clock.step_ns);
		e->step_fired_t[hit.pos] = t;
		e->notes++;
		if (t > e->last_note_t)
			e->last_note_t = t;
	}
	e->k_next = k + 1;
	engine_slew_drift(e);
	engine_retempo(e);
}

static void run_mutation(struct engine *e)
{
	int64_t t = e->mut_next;
	e->mut_next =
	    t + mutate_interval(&e->rng_mut, e->cfg.interval_min_s, e->cfg.interval_max_s);
	bool eligible[P_COUNT];
	for (int k = 0; k < P_COUNT; k++)
		eligible[k] = e->source[k] != SRC_KEY && !(e->fade.mask & 1u << k);
	struct event_change ch[EVENT_MUT_MAX];
	int n = mutate_draw(&e->rng_mut, e->value, e->home, eligible, e->cfg.mut, e->cfg.pull,
	                    e->cfg.max_changes_per_cycle, ch);
	if (n == 0 || e->paused)
		return;
	e->mutations++;
	struct event *ev = engine_emit(e, EV_MUTATION, t, false);
	ev->u.mutation.n = (uint8_t)n;
	/* Field by field: the event stays zeroed in its padding, so equal
	 * event lists compare equal byte for byte. */
	for (int i = 0; i < n; i++) {
		ev->u.mutation.ch[i].param = ch[i].param;
		ev->u.mutation.ch[i].from = ch[i].from;
		ev->u.mutation.ch[i].to = ch[i].to;
	}
	for (int i = 0; i < n; i++)
		engine_set_param(e, ch[i].param, ch[i].to, SRC_MUTATION, t, false);
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
	int home = (int)engine_clamp_value(e, P_SCALE_SELECT, e->home[P_SCALE_SELECT]);
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
		struct event *ev = engine_emit(e, EV_MUTATION, t, false);
		ev->u.mutation.n = 1;
		ev->u.mutation.ch[0].param = P_SCALE_SELECT;
		ev->u.mutation.ch[0].from = e->value[P_SCALE_SELECT];
		ev->u.mutation.ch[0].to = sel;
		engine_set_param(e, P_SCALE_SELECT, sel, SRC_MUTATION, t, false);
	} else {
		engine_request_scale(e, e->cfg.scales[sel], engine_current_root(e), t, false, true);
	}
}

enum unit { U_NONE, U_INPUT, U_IDLE, U_FADE, U_MUTATION, U_MOVE, U_CLOCK_GAP, U_PULSE, U_STEP };

/* The earliest unit due before *best (which it lowers to that unit's time);
 * U_NONE when none is.  Changes nothing but the clock out's pulse counter
 * after a skip (engine_pulse_time()), which the next unit would settle anyway. */
static enum unit next_unit(struct engine *e, int64_t *best_io)
{
	enum unit u = U_NONE;
	int64_t best = *best_io;
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
	due = engine_clock_gap_due(e);
	if (due < best) {
		best = due;
		u = U_CLOCK_GAP;
	}
	if (e->cfg.clock_out && !e->paused && !e->ext_armed) {
		int64_t tp = engine_pulse_time(e);
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
	*best_io = best;
	return u;
}

/* Runs the earliest unit due before `to`; false when none is. */
bool engine_run_one(struct engine *e, int64_t to)
{
	int64_t best = to;
	enum unit u = next_unit(e, &best);
	switch (u) {
	case U_INPUT: {
		struct engine_input in = e->in[e->in_head];
		e->in_head = (e->in_head + 1) % ENGINE_IN_QUEUE;
		e->in_count--;
		engine_run_input(e, &in);
		break;
	}
	case U_IDLE:
		if (idle_poll(&e->idle, best) == IDLE_ENTER)
			engine_enter_idle(e, best, false);
		break;
	case U_FADE:
		engine_fade_tick(e);
		break;
	case U_MUTATION:
		run_mutation(e);
		break;
	case U_MOVE:
		run_move(e);
		break;
	case U_CLOCK_GAP:
		engine_clock_gap(e, best);
		break;
	case U_PULSE:
		engine_run_pulse(e, best);
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

int64_t engine_next_due(struct engine *e)
{
	if (e->out_count > 0)
		return e->horizon;
	int64_t best = INT64_MAX;
	next_unit(e, &best);
	return best;
}
