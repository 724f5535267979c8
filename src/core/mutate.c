/*
 * mutate: drawing mutation times and the moves of the home-seeking walk.
 * The caller (the engine) applies the changes, emits them, keeps the homes
 * and decides eligibility (not held by the keyboard, not in an idle fade).
 *
 * The walk in numbers: with u the position along the curve (0..1 over the
 * parameter's whole range), a move is u' = u + pull (h - u) + U(-a, a) with
 * a = step x (range width in u), reflected into the range.  Its spread
 * around home settles near a / sqrt(3 pull (2 - pull)): with the default
 * pull 0.2 and step 0.15 about a seventh of the range either way.  Stepped
 * parameters (lengths) round the result and move at least one step when the
 * draw asks for a move.  Pure; the caller owns the rng.
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

int64_t mutate_poisson(struct rng *r, double per_hour)
{
	if (!(per_hour > 0))
		return INT64_MAX;
	/* -ln(1 - u) is exponential with mean 1; capped at 100 means. */
	double x = -log1p(-rng_unit(r));
	if (x > 100)
		x = 100;
	return llround(x * 3600e9 / per_hour);
}

int mutate_in_range(const struct engine_mutation *m, double v)
{
	return m->weight > 0 && m->max > m->min && v >= m->min && v <= m->max;
}

/* Position of v along the parameter's curve, 0..1 over its whole range. */
static double unit(enum param_id id, double v)
{
	const struct param_info *p = &param_table[id];
	if (p->curve == CURVE_EXP)
		return log(v / p->min) / log(p->max / p->min);
	return (v - p->min) / (p->max - p->min);
}

static double from_unit(enum param_id id, double u)
{
	const struct param_info *p = &param_table[id];
	if (p->curve == CURVE_EXP)
		return p->min * pow(p->max / p->min, u);
	return p->min + u * (p->max - p->min);
}

double mutate_walk(struct rng *r, enum param_id id, const struct engine_mutation *m, double pull,
                   double home, double v)
{
	const struct param_info *p = &param_table[id];
	double lo = unit(id, m->min), hi = unit(id, m->max);
	if (!(pull >= 0))
		pull = 0;
	if (pull > 1)
		pull = 1;
	if (home < m->min)
		home = m->min;
	if (home > m->max)
		home = m->max;
	double u = unit(id, v), h = unit(id, home);
	double a = m->step * (hi - lo);
	double x = u + pull * (h - u) + rng_range(r, -a, a);
	/* Reflect at the ends (twice covers any move shorter than the range). */
	for (int i = 0; i < 2; i++) {
		if (x > hi)
			x = 2 * hi - x;
		if (x < lo)
			x = 2 * lo - x;
	}
	x = x < lo ? lo : x > hi ? hi : x;
	double to = from_unit(id, x);
	if (p->curve == CURVE_STEPPED) {
		double lo_v = ceil(m->min), hi_v = floor(m->max);
		to = floor(to + 0.5);
		if (to == v && x != u)
			to = v + (x > u ? 1 : -1);
		to = to < lo_v ? lo_v : to > hi_v ? hi_v : to;
	}
	return to < m->min ? m->min : to > m->max ? m->max : to;
}

int mutate_draw(struct rng *r, const double value[P_COUNT], const double home[P_COUNT],
                const bool eligible[P_COUNT], const struct engine_mutation mut[P_COUNT],
                double pull, int max_changes, struct event_change *out)
{
	double w[P_COUNT];
	int avail = 0;
	for (int i = 0; i < P_COUNT; i++) {
		bool ok = eligible[i] && mutate_in_range(&mut[i], value[i]);
		w[i] = ok ? mut[i].weight : 0;
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
		double to = mutate_walk(r, (enum param_id)id, &mut[id], pull, home[id], value[id]);
		if (to == value[id])
			continue;
		out[n].param = (uint8_t)id;
		out[n].from = value[id];
		out[n].to = to;
		n++;
	}
	return n;
}
