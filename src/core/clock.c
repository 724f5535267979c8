/*
 * clock: step times from tempo segments, and the drift curve.
 *
 * The only floating-point product is (k - k0) * step_ns, rounded once to
 * whole ns; segment starts are whole ns, so nothing accumulates.  At 110 BPM
 * the product stays below 2^53 ns for centuries.  Pure functions over the
 * caller's state; any thread that owns it.
 */
#include "core/clock.h"

#include <math.h>

double clock_step_ns(double bpm, int steps_per_beat)
{
	if (!(bpm > 0))
		bpm = 1;
	if (steps_per_beat < 1)
		steps_per_beat = 1;
	return 60.0e9 / (bpm * steps_per_beat);
}

void clock_init(struct clock *c, int64_t t0, double bpm, int steps_per_beat)
{
	c->t0 = t0;
	c->k0 = 0;
	c->bpm = bpm;
	c->steps_per_beat = steps_per_beat < 1 ? 1 : steps_per_beat;
	c->step_ns = clock_step_ns(bpm, c->steps_per_beat);
}

int64_t clock_base_time(const struct clock *c, int64_t k)
{
	return c->t0 + llround((double)(k - c->k0) * c->step_ns);
}

int64_t clock_swing_ns(const struct clock *c, int64_t k, double swing)
{
	if (!(k & 1) || !(swing > 0))
		return 0;
	return llround(swing * c->step_ns);
}

int64_t clock_step_time(const struct clock *c, int64_t k, double swing)
{
	return clock_base_time(c, k) + clock_swing_ns(c, k, swing);
}

void clock_set_tempo(struct clock *c, int64_t k_from, double bpm)
{
	if (k_from < c->k0)
		k_from = c->k0;
	c->t0 = clock_base_time(c, k_from);
	c->k0 = k_from;
	c->bpm = bpm;
	c->step_ns = clock_step_ns(bpm, c->steps_per_beat);
}

void clock_restart(struct clock *c, int64_t k_from, int64_t t)
{
	c->t0 = t;
	c->k0 = k_from;
}

void clock_drift_init(struct clock_drift *d, uint64_t seed, int span)
{
	rng_seed(&d->rng, seed, 7);
	d->span = d->span_next = span < 1 ? 1 : span;
	d->k_a = 0;
	d->a = 0;
	d->b = rng_range(&d->rng, -1, 1);
}

void clock_drift_set_span(struct clock_drift *d, int span)
{
	d->span_next = span < 1 ? 1 : span;
}

double clock_drift_at(struct clock_drift *d, int64_t k)
{
	while (k >= d->k_a + d->span) {
		d->k_a += d->span;
		d->span = d->span_next;
		d->a = d->b;
		d->b = rng_range(&d->rng, -1, 1);
	}
	if (k < d->k_a)
		return d->a;
	double x = (double)(k - d->k_a) / d->span;
	double s = x * x * (3 - 2 * x); /* smoothstep: no corner at the targets */
	return d->a + (d->b - d->a) * s;
}
