/*
 * mutate: the slow self-change of the instrument, a home-seeking walk.
 *
 * Every mutable parameter has a home (the value someone chose: the
 * configuration, a mode or the ambient profile, a performer) and a range
 * (engine_config.mut).  The next mutation comes a uniform random time within
 * [min, max] after the last; it picks 1..max_changes parameters by their
 * weight (without repeats, only eligible ones) and moves each one step of a
 * bounded, mean-reverting walk: pull x (home - value) plus a uniform random
 * push of at most step x the range, reflected at the range's ends.  The
 * walk runs along the parameter's control curve (in octaves for tempo and
 * cutoff), so its moves sound even at either end.  Over hours its values
 * stay around home and never leave the range.  Pure; the caller owns the rng.
 */
#ifndef ME_CORE_MUTATE_H
#define ME_CORE_MUTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/event.h"
#include "core/param.h"
#include "core/rng.h"

/* Time to the next mutation in ns, uniform in [min_s, max_s]. */
int64_t mutate_interval(struct rng *r, double min_s, double max_s);
/* Time to the next event of a Poisson process of rate per_hour, in ns. */
int64_t mutate_poisson(struct rng *r, double per_hour);
/* 1 when the walk may move v: a positive weight and v within the range. */
int mutate_in_range(const struct engine_mutation *m, double v);
/*
 * One move of the walk from v (which must be in range) towards home (taken
 * at the nearest end of the range when outside it); returns the new value,
 * always within the range.
 */
double mutate_walk(struct rng *r, enum param_id id, const struct engine_mutation *m, double pull,
                   double home, double v);
/*
 * Draws one mutation of value[] (not changed here): up to max_changes
 * parameters among those with eligible[id], a positive weight and a value in
 * range.  Fills out[] with {param, from, to} and returns how many (0 when
 * none can move).
 */
int mutate_draw(struct rng *r, const double value[P_COUNT], const double home[P_COUNT],
                const bool eligible[P_COUNT], const struct engine_mutation mut[P_COUNT],
                double pull, int max_changes, struct event_change *out);

#endif
