/*
 * engine_input: what an input does to the engine (see engine_impl.h).  A
 * MIDI message goes through the router to a parameter change, a step
 * button or a trigger note; a command (from the keyboard, HTTP, a preset)
 * sets, nudges or edits; every input counts as activity for idle.
 * Single-threaded, like the engine.
 */
#include <math.h>
#include <string.h>

#include "core/engine_impl.h"
#include "core/router.h"
#include "core/scale.h"

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Tells readers (log, LEDs, console) what a step is now. */
void engine_step_edit(struct engine *e, int k, int src, int64_t t, bool live)
{
	const struct engine_step *st = &e->seq.step[k];
	struct event *ev = engine_emit(e, EV_STEP_EDIT, t, live);
	ev->u.step_edit.step = (int16_t)k;
	ev->u.step_edit.on = st->on;
	ev->u.step_edit.velocity = st->velocity;
	ev->u.step_edit.prob = st->prob;
	ev->u.step_edit.source = (uint8_t)src;
}

/* An edit that changed what a step plays (its degree or its switch) shows in the pattern. */
static void edited(struct engine *e, int k, const struct engine_step *was, int src, int64_t t)
{
	engine_step_edit(e, k, src, t, true);
	const struct engine_step *st = &e->seq.step[k];
	if (st->degree != was->degree || st->on != was->on)
		engine_emit_pattern(e, engine_after_played(e, t), PATTERN_EDIT, k, true);
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
		st->velocity = (uint8_t)clampi(
		    st->velocity + ACCENT_UP < ACCENT_MIN ? ACCENT_MIN : st->velocity + ACCENT_UP,
		    1, 127);
		break;
	}
	edited(e, k, &was, SRC_MIDI, t);
	/* Sound it in the scale active at t, even if a change was already played. */
	bool before = t < e->scale_since;
	int scale = before ? e->scale_prev : e->scale;
	int root = before ? e->root_prev : e->root;
	struct event *ev = engine_emit(e, EV_NOTE, t, true);
	ev->u.note.pitch = (uint8_t)engine_degree_note(e, scale, root, st->degree + e->shift);
	ev->u.note.velocity = (uint8_t)clampi(velocity, 1, 127);
	ev->u.note.step = (int16_t)k;
	ev->u.note.dur = llround(st->length * e->clock.step_ns);
	e->notes++;
	if (t > e->last_note_t)
		e->last_note_t = t;
}

static void midi_input(struct engine *e, const struct midi_msg *m, int64_t t)
{
	struct route r;
	router_resolve(&e->cfg, m, &r);
	if (r.kind != ROUTE_REALTIME)
		engine_emit(e, EV_INPUT, t, true)->u.input = *m;
	switch (r.kind) {
	case ROUTE_PARAM:
		engine_action(e, t, false);
		engine_set_param(e, r.param, r.value, SRC_MIDI, t, true);
		break;
	case ROUTE_TRIGGER:
		/* A press is deliberate: it wakes the instrument at once. */
		engine_action(e, t, true);
		trigger(e, r.step, m->value, t);
		break;
	case ROUTE_FILTERED:
		e->filtered++;
		break;
	case ROUTE_UNMAPPED:
		e->unmapped++;
		break;
	case ROUTE_REALTIME:
		engine_clock_input(e, m, t);
		break;
	default:
		break; /* release, reserved: nothing to do */
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
		engine_action(e, t, true);
	switch (c->type) {
	case CMD_SET_PARAM:
		engine_set_param(e, c->param, c->value, src, t, true);
		break;
	case CMD_NUDGE_PARAM:
		engine_set_param(e, c->param, nudged(e, c->param, c->value), src, t, true);
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
		engine_set_paused(e, !e->paused, t);
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
			engine_set_paused(e, c->value != 0, t);
		break;
	case CMD_NEXT_SCALE:
		engine_set_param(e, P_SCALE_SELECT,
		                 ((int)e->value[P_SCALE_SELECT] + 1) % e->cfg.n_scales, src, t,
		                 true);
		break;
	case CMD_NEXT_MODE:
		if (e->cfg.n_modes > 0)
			engine_set_param(e, P_MODE, ((int)e->value[P_MODE] + 1) % e->cfg.n_modes,
			                 src, t, true);
		break;
	case CMD_CHAOS_TOGGLE:
		if (e->value[P_CHAOS_LOCK] < 1) {
			e->chaos_prev = e->value[P_CHAOS_LOCK];
			engine_set_param(e, P_CHAOS_LOCK, 1, src, t, true);
		} else {
			double back = e->chaos_prev < 1       ? e->chaos_prev
			              : e->cfg.chaos_lock < 1 ? e->cfg.chaos_lock
			                                      : 0;
			engine_set_param(e, P_CHAOS_LOCK, back, src, t, true);
		}
		break;
	case CMD_IDLE_TOGGLE:
		if (idle_force(&e->idle, t, !e->idle.on) == IDLE_ENTER)
			engine_enter_idle(e, t, true);
		else
			engine_leave_idle(e, t, true);
		break;
	default:
		break;
	}
}

void engine_run_input(struct engine *e, const struct engine_input *in)
{
	e->inputs++;
	if (in->kind == INPUT_MIDI)
		midi_input(e, &in->u.midi, in->t);
	else if (in->kind == INPUT_COMMAND)
		command(e, &in->u.cmd, in->t);
	else
		e->rejected++;
}
