/*
 * engine_clock: MIDI clock in and out (see engine_impl.h).  Following an
 * external clock (sequencer.clock_source = "midi"): the pulses are fitted
 * (core/clock_follow), and each step is bound to the pulse nearest to where
 * the internal clock would play it; Start, Continue and Stop move the
 * transport; no pulse for clock_timeout_ms and the internal clock goes on
 * at the tempo followed last.  Sending clock (midi.clock_out): EV_CLOCK
 * pulses, 24 a beat, between the unswung step times, so tempo changes and
 * drift are in them and swing is not.  Single-threaded, like the engine.
 */
#include <math.h>

#include "core/engine_impl.h"

static double pulses_per_step(const struct engine *e)
{
	return (double)CLOCK_FOLLOW_PPQN / e->cfg.steps_per_beat;
}

/* The clock out's next pulse is the first at or after the next step. */
void engine_pulse_rewind(struct engine *e)
{
	e->pulse_next = (int64_t)ceil((double)e->k_next * pulses_per_step(e) - 1e-9);
}

void engine_set_paused(struct engine *e, bool paused, int64_t t)
{
	if (e->paused == paused)
		return;
	e->paused = paused;
	if (!paused) {
		clock_restart(&e->clock, e->k_next, engine_after_played(e, t));
		engine_pulse_rewind(e);
	}
	engine_emit(e, EV_TRANSPORT, t, true)->u.transport.running = !paused;
	if (!paused && e->scale_pending)
		engine_apply_scale(e, engine_after_played(e, t), true);
}

static void emit_sync(struct engine *e, int64_t t, bool on, double bpm)
{
	struct event *ev = engine_emit(e, EV_CLOCK_SYNC, t, true);
	ev->u.sync.on = on;
	ev->u.sync.bpm = bpm;
}

/* Binds the next step to the external pulse (a multiple of a step's pulses)
 * nearest to where the internal clock would play it, and after t. */
static void map_nearest(struct engine *e, int64_t t)
{
	double pps = pulses_per_step(e);
	double step = e->follow.period * pps;
	double x =
	    (double)(clock_base_time(&e->clock, e->k_next) - clock_follow_time(&e->follow, 0));
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
	clock_restart(&e->clock, k, engine_after_played(e, tk));
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
		engine_set_paused(e, false, t);
		clock_restart(&e->clock, e->k_next, engine_after_played(e, t));
		engine_pulse_rewind(e);
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
void engine_clock_input(struct engine *e, const struct midi_msg *m, int64_t t)
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
		engine_set_paused(e, true, t);
		break;
	default:
		break;
	}
}

/* No pulse for clock_timeout_ms: the internal clock goes on at the tempo
 * followed last, and the tempo parameter takes it. */
void engine_clock_gap(struct engine *e, int64_t t)
{
	double bpm = clock_follow_bpm(&e->follow);
	e->following = false;
	e->ext_mapped = false;
	e->clock_gaps++;
	clock_follow_restart(&e->follow);
	e->follow.last_t = INT64_MIN;
	emit_sync(e, t, false, bpm);
	if (bpm > 0)
		engine_set_param(e, P_TEMPO, bpm, SRC_MIDI, t, true);
}

int64_t engine_clock_gap_due(const struct engine *e)
{
	if (!e->following || e->follow.last_t == INT64_MIN)
		return INT64_MAX;
	return e->follow.last_t + e->cfg.clock_timeout_ms * NS_PER_MS;
}

/* Time of the clock out's next pulse: between the unswung times of the
 * step it falls in and the next, so tempo changes and drift are in it and
 * swing is not. */
int64_t engine_pulse_time(struct engine *e)
{
	double pps = pulses_per_step(e);
	int64_t k = (int64_t)floor((double)e->pulse_next / pps + 1e-9);
	if (k < e->k_next - 1) { /* behind the steps (a skip): catch up */
		engine_pulse_rewind(e);
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

void engine_run_pulse(struct engine *e, int64_t t)
{
	engine_emit(e, EV_CLOCK, t, false)->u.clock.pulse = e->pulse_next;
	e->pulse_last_t = t;
	e->pulse_next++;
}
