/*
 * clock: when each step sounds, computed exactly from its index.
 *
 * A tempo segment starts at step k0 at time t0 (ns); step k of the segment
 * sounds at t0 + round((k - k0) * step_ns), swing added on odd steps.  Times
 * are never summed from floating-point intervals, so ten hours in, a step
 * is where the arithmetic says.  A tempo change opens a new segment at the
 * next step, whose time the old segment already fixed: no jump.  The drift
 * curve is a slow, smooth random walk in -1..1 the engine scales by the drift
 * depth (which itself follows the drift control smoothly).  Pure; the caller owns the state.
 */
#ifndef ME_CORE_CLOCK_H
#define ME_CORE_CLOCK_H

#include <stdint.h>

#include "core/rng.h"

struct clock {
	int64_t t0;     /* ns, unswung time of step k0 */
	int64_t k0;     /* first step of the segment */
	double bpm;     /* tempo of the segment (drift included) */
	double step_ns; /* length of one step in ns */
	int steps_per_beat;
};

/* Length in ns of one step at bpm with steps_per_beat steps to the beat. */
double clock_step_ns(double bpm, int steps_per_beat);
void clock_init(struct clock *c, int64_t t0, double bpm, int steps_per_beat);
/* Unswung time of step k (k >= c->k0). */
int64_t clock_base_time(const struct clock *c, int64_t k);
/* Sounding time of step k: odd steps come swing * step length late. */
int64_t clock_step_time(const struct clock *c, int64_t k, double swing);
/* Swing delay of step k in ns (0 on even steps). */
int64_t clock_swing_ns(const struct clock *c, int64_t k, double swing);
/* New tempo from step k_from on (k_from >= c->k0); earlier steps keep their times. */
void clock_set_tempo(struct clock *c, int64_t k_from, double bpm);
/* Step k_from sounds at time t (unswung), keeping the tempo: resume after pause. */
void clock_restart(struct clock *c, int64_t k_from, int64_t t);

/* The drift curve: smooth moves between random targets, one every span steps. */
struct clock_drift {
	struct rng rng;
	int64_t k_a;   /* step where the current move starts */
	int span;      /* steps per move */
	int span_next; /* steps per move from the next move on */
	double a, b;   /* values at the start and end of the move */
};

void clock_drift_init(struct clock_drift *d, uint64_t seed, int span);
/* Changes the steps per move from the next move on (no jump in the curve). */
void clock_drift_set_span(struct clock_drift *d, int span);
/* Value in -1..1 at step k; k must not decrease between calls. */
double clock_drift_at(struct clock_drift *d, int64_t k);

#endif
