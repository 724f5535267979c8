/*
 * mutate: drawing mutation times and changes.  The caller (the engine)
 * applies the changes, emits them, and decides eligibility (weight > 0, not
 * held by the keyboard, not in an idle fade).  Pure; the caller owns the rng.
 */
#include "core/mutate.h"

#include <math.h>

int64_t mutate_interval(struct rng *r, double min_s, double max_s)
{
	if (!(min_s > 0))
		min_s = 1;
	if (!(max_s >= min_s))
		max_s = min_s;
	int64_t lo = llround(min_s * 1e9), hi = llround(max_s * 1e9);
	return lo + (int64_t)(rng_unit(r) * (double)(hi - lo));
}

/* One bounded move of parameter id away from v; returns the new value. */
static double move(struct rng *r, enum param_id id, double v)
{
	const struct param_info *p = &param_table[id];
	double mag;
	if (p->curve == CURVE_STEPPED) {
		int max = (int)p->mutate_step < 1 ? 1 : (int)p->mutate_step;
		mag = 1 + (int)rng_below(r, (uint32_t)max);
	} else {
		mag = p->mutate_step * rng_range(r, 0.25, 1.0);
	}
	double sign = rng_unit(r) < 0.5 ? -1 : 1;
	double to = param_clamp(id, v + sign * mag);
	if (to == v)
		to = param_clamp(id, v - sign * mag);
	return to;
}

int mutate_draw(struct rng *r, const double value[P_COUNT], const bool eligible[P_COUNT],
    int max_changes, struct event_change *out)
{
	double w[P_COUNT];
	int avail = 0;
	for (int i = 0; i < P_COUNT; i++) {
		w[i] = eligible[i] && param_table[i].mutate_weight > 0 ? param_table[i].mutate_weight : 0;
		avail += w[i] > 0;
	}
	if (max_changes > EVENT_MUT_MAX)
		max_changes = EVENT_MUT_MAX;
	if (max_changes < 1 || avail == 0)
		return 0;
	int want = 1 + (int)rng_below(r, (uint32_t)max_changes);
	int n = 0;
	while (n < want) {
		int id = rng_weighted(r, w, P_COUNT);
		if (id < 0)
			break;
		w[id] = 0;
		double to = move(r, (enum param_id)id, value[id]);
		if (to == value[id])
			continue;
		out[n].param = (uint8_t)id;
		out[n].from = value[id];
		out[n].to = to;
		n++;
	}
	return n;
}
