/*
 * mutate: the slow self-change of the instrument.
 *
 * The next mutation comes a uniform random time within [min, max] after the
 * last; it picks 1..max_changes parameters by their mutation weight (without
 * repeats, only eligible ones) and moves each by a random step of at least a
 * quarter and at most all of the parameter's mutate_step, in a random
 * direction, clamped; a move the range would swallow goes the other way.
 * Pure; the caller owns the rng.
 */
#ifndef ME_CORE_MUTATE_H
#define ME_CORE_MUTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/event.h"
#include "core/param.h"
#include "core/rng.h"

/* Time to the next mutation in ns, uniform in [min_s, max_s]. */
int64_t mutate_interval(struct rng *r, double min_s, double max_s);
/*
 * Draws one mutation of value[] (not changed here): up to max_changes
 * parameters among those with eligible[id] and a positive weight.  Fills
 * out[] with {param, from, to} and returns how many (0 when none can move).
 */
int mutate_draw(struct rng *r, const double value[P_COUNT], const bool eligible[P_COUNT],
    int max_changes, struct event_change *out);

#endif
