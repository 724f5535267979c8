/*
 * Tests of mutation: its timing, the home-seeking walk (bounds, centring over
 * 10^6 moves, determinism), the draw, and how the engine reports it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/engine.h"
#include "core/mutate.h"
#include "testlib.h"

static void test_intervals(void)
{
	struct rng r;
	rng_seed(&r, 77, 0);
	double sum = 0;
	int64_t lo = INT64_MAX, hi = 0;
	for (int i = 0; i < 10000; i++) {
		int64_t d = mutate_interval(&r, 120, 240);
		CU_ASSERT_FATAL(d >= 120 * NS_PER_SEC && d <= 240 * NS_PER_SEC);
		sum += (double)d;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	CU_ASSERT_DOUBLE_EQUAL(sum / 10000 / 1e9, 180, 2);
	/* Spread over the whole window, not stuck at one end. */
	CU_ASSERT(lo < 122 * NS_PER_SEC && hi > 238 * NS_PER_SEC);
	CU_ASSERT_EQUAL(mutate_interval(&r, 5, 5), 5 * NS_PER_SEC);
}

/* The shipped walk of a parameter (its range, weight and step). */
static struct engine_mutation walk_of(int p)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	return cfg.mut[p];
}

/* Position along the parameter's curve, as the walk sees it. */
static double curve_unit(int p, double v)
{
	return param_to_unit((enum param_id)p, v);
}

/* Every move of every walked parameter stays in its range, from any start and any home. */
static void test_walk_bounds(void)
{
	struct rng r;
	rng_seed(&r, 78, 0);
	const int params[] = {P_TEMPO,   P_FILTER_CUTOFF,   P_REVERB_MIX, P_SWING,
	                      P_DENSITY, P_SEQUENCE_LENGTH, P_CHAOS_LOCK, P_DRIFT};
	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
		int p = params[i];
		struct engine_mutation m = walk_of(p);
		CU_ASSERT_FATAL(m.weight > 0 && m.min < m.max);
		/* homes at both ends, outside the range, and in the middle */
		const double homes[] = {m.min, m.max, param_table[p].min, param_table[p].max,
		                        (m.min + m.max) / 2};
		for (size_t h = 0; h < sizeof homes / sizeof homes[0]; h++) {
			double v = m.min;
			for (int k = 0; k < 200000; k++) {
				double to = mutate_walk(&r, (enum param_id)p, &m, 0.2, homes[h], v);
				if (!(to >= m.min && to <= m.max)) {
					fprintf(stderr, "\n  %s left %g..%g: %g",
					        param_table[p].name, m.min, m.max, to);
					CU_FAIL_FATAL("the walk left its range");
				}
				if (param_table[p].curve == CURVE_STEPPED)
					CU_ASSERT_FATAL(to == floor(to));
				v = to;
			}
		}
	}
	/* the shipped ranges keep the instrument audible and open */
	CU_ASSERT(walk_of(P_FILTER_CUTOFF).min >= 250);
	CU_ASSERT(walk_of(P_REVERB_MIX).max <= 0.95);
	CU_ASSERT(walk_of(P_DENSITY).min >= 0.1);
}

/*
 * Over 10^6 moves the walk stays centred on home: its mean (along the
 * curve) is home's, its spread does not grow with time, and it visits
 * both sides of home.  Without the pull the same noise wanders off: the
 * measure tells the two apart.
 */
static void walk_stats(int p, double pull, double home, double *mean_u, double *sd_first,
                       double *sd_last, double *below)
{
	struct rng r;
	rng_seed(&r, 79, 0);
	struct engine_mutation m = walk_of(p);
	double v = home, hu = curve_unit(p, home);
	double sum = 0, sq[2] = {0, 0};
	int n = 1000000, under = 0;
	for (int k = 0; k < n; k++) {
		v = mutate_walk(&r, (enum param_id)p, &m, pull, home, v);
		double d = curve_unit(p, v) - hu;
		sum += d;
		sq[k >= n / 2] += d * d;
		under += v < home;
	}
	*mean_u = sum / n;
	*sd_first = sqrt(sq[0] / (n / 2));
	*sd_last = sqrt(sq[1] / (n / 2));
	*below = (double)under / n;
}

static void test_walk_centred(void)
{
	double mean, sd0, sd1, below;
	/* filter cutoff around 2400 Hz, range 250..8000 Hz (exponential curve) */
	walk_stats(P_FILTER_CUTOFF, 0.2, 2400, &mean, &sd0, &sd1, &below);
	double width = curve_unit(P_FILTER_CUTOFF, 8000) - curve_unit(P_FILTER_CUTOFF, 250);
	CU_ASSERT(fabs(mean) < 0.02 * width);
	CU_ASSERT(sd0 < 0.25 * width && sd1 < 0.25 * width);
	CU_ASSERT(fabs(sd1 - sd0) < 0.1 * sd0);
	CU_ASSERT(below > 0.4 && below < 0.6);
	/* it does move: about a seventh of the range either way */
	CU_ASSERT(sd0 > 0.05 * width);

	/* density near the top of its range: reflected, still centred near home */
	walk_stats(P_DENSITY, 0.2, 0.85, &mean, &sd0, &sd1, &below);
	CU_ASSERT(fabs(mean) < 0.04);
	CU_ASSERT(fabs(sd1 - sd0) < 0.1 * sd0);

	/* the same noise without the pull is a free walk: it does not stay home */
	walk_stats(P_FILTER_CUTOFF, 0, 2400, &mean, &sd0, &sd1, &below);
	CU_ASSERT(sd0 > 0.25 * width || fabs(mean) > 0.05 * width);
}

/* The same seed gives the same walk; another seed another. */
static void test_walk_deterministic(void)
{
	struct engine_mutation m = walk_of(P_TEMPO);
	double a[1000], b[1000], c[1000];
	double *runs[3] = {a, b, c};
	const uint64_t seeds[3] = {5, 5, 6};
	for (int i = 0; i < 3; i++) {
		struct rng r;
		rng_seed(&r, seeds[i], 2);
		double v = 110;
		for (int k = 0; k < 1000; k++)
			runs[i][k] = v = mutate_walk(&r, P_TEMPO, &m, 0.2, 110, v);
	}
	CU_ASSERT(memcmp(a, b, sizeof a) == 0);
	CU_ASSERT(memcmp(a, c, sizeof a) != 0);
}

/* Draws pick eligible parameters in range by weight, never the same twice. */
static void test_draw(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	struct rng r;
	rng_seed(&r, 80, 0);
	double v[P_COUNT], home[P_COUNT];
	bool ok[P_COUNT];
	for (int k = 0; k < P_COUNT; k++) {
		v[k] = home[k] = param_clamp((enum param_id)k, param_table[k].def);
		ok[k] = true;
	}
	v[P_TEMPO] = home[P_TEMPO] = 110;
	int count[P_COUNT] = {0};
	int total = 0;
	for (int i = 0; i < 20000; i++) {
		struct event_change ch[EVENT_MUT_MAX];
		int n = mutate_draw(&r, v, home, ok, cfg.mut, cfg.pull, 2, ch);
		CU_ASSERT_FATAL(n >= 1 && n <= 2);
		if (n == 2)
			CU_ASSERT_FATAL(ch[0].param != ch[1].param);
		for (int j = 0; j < n; j++) {
			const struct engine_mutation *m = &cfg.mut[ch[j].param];
			CU_ASSERT_FATAL(m->weight > 0);
			CU_ASSERT_FATAL(ch[j].from == v[ch[j].param]);
			CU_ASSERT_FATAL(ch[j].to != ch[j].from);
			CU_ASSERT_FATAL(ch[j].to >= m->min && ch[j].to <= m->max);
			v[ch[j].param] = ch[j].to;
			count[ch[j].param]++;
			total++;
		}
	}
	/* by weight: density (2) about twice as often as swing (1); never the unwalked */
	CU_ASSERT_EQUAL(count[P_MASTER_VOLUME], 0);
	CU_ASSERT_EQUAL(count[P_SCALE_SELECT], 0);
	CU_ASSERT_EQUAL(count[P_ATTACK], 0);
	CU_ASSERT(count[P_DENSITY] > 1.6 * count[P_SWING] &&
	          count[P_DENSITY] < 2.4 * count[P_SWING]);
	CU_ASSERT(total > 25000);
}

static void test_eligibility(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	struct rng r;
	rng_seed(&r, 79, 0);
	double v[P_COUNT], home[P_COUNT];
	bool ok[P_COUNT];
	for (int k = 0; k < P_COUNT; k++) {
		v[k] = home[k] = param_table[k].def;
		ok[k] = false;
	}
	struct event_change ch[EVENT_MUT_MAX];
	CU_ASSERT_EQUAL(mutate_draw(&r, v, home, ok, cfg.mut, 0.2, 8, ch), 0);
	ok[P_DENSITY] = true;
	for (int i = 0; i < 100; i++) {
		int n = mutate_draw(&r, v, home, ok, cfg.mut, 0.2, 8, ch);
		CU_ASSERT_EQUAL(n, 1);
		CU_ASSERT_EQUAL(ch[0].param, P_DENSITY);
	}
	CU_ASSERT_EQUAL(mutate_draw(&r, v, home, ok, cfg.mut, 0.2, 0, ch), 0);
	/* a value a performer put outside the range is theirs: the walk leaves it */
	v[P_DENSITY] = 0.02;
	CU_ASSERT_EQUAL(mutate_draw(&r, v, home, ok, cfg.mut, 0.2, 8, ch), 0);
	CU_ASSERT(!mutate_in_range(&cfg.mut[P_DENSITY], 0.02));
	CU_ASSERT(mutate_in_range(&cfg.mut[P_DENSITY], 0.5));
	CU_ASSERT(!mutate_in_range(&cfg.mut[P_MASTER_VOLUME], 0.5));
}

/* A Poisson process of 1.5 an hour: about 1.5 an hour, exponential gaps. */
static void test_poisson(void)
{
	struct rng r;
	rng_seed(&r, 81, 0);
	double sum = 0;
	int over_2h = 0, n = 100000;
	for (int i = 0; i < n; i++) {
		int64_t d = mutate_poisson(&r, 1.5);
		CU_ASSERT_FATAL(d >= 0);
		sum += (double)d / 3600e9;
		over_2h += d > 2 * 3600 * NS_PER_SEC;
	}
	CU_ASSERT_DOUBLE_EQUAL(sum / n, 1 / 1.5, 0.01);
	/* P(gap > 2 h) = exp(-3), about 5 % */
	CU_ASSERT_DOUBLE_EQUAL((double)over_2h / n, exp(-3), 0.005);
	CU_ASSERT_EQUAL(mutate_poisson(&r, 0), INT64_MAX);
}

/* ---- through the engine ---- */

static struct event evs[8192];

static void test_engine_reports(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.interval_min_s = 2;
	cfg.interval_max_s = 5;
	cfg.max_changes_per_cycle = 3;
	cfg.idle_timeout_ms = 0;
	cfg.moves_per_hour = 0; /* scale moves have their own test */
	struct engine *e = engine_new(&cfg, 9);
	/* The keyboard holds density: mutation leaves it alone. */
	struct engine_input in = {.kind = INPUT_COMMAND, .t = 0};
	in.u.cmd = (struct command){
	    .type = CMD_SET_PARAM, .source = SRC_KEY, .param = P_DENSITY, .value = 0.5};
	engine_input(e, &in);
	int64_t last = -1;
	int mutations = 0;
	double value[P_COUNT];
	struct engine_state st;
	engine_get_state(e, &st);
	memcpy(value, st.value, sizeof value);
	for (int64_t s = 1; s <= 3600; s++) {
		size_t n = engine_advance(e, s * NS_PER_SEC, evs, 8192);
		for (size_t i = 0; i < n; i++) {
			const struct event *ev = &evs[i];
			if (ev->type == EV_PARAM)
				value[ev->u.param.id] = ev->u.param.value;
			if (ev->type != EV_MUTATION)
				continue;
			mutations++;
			if (last >= 0) {
				CU_ASSERT(ev->t - last >= 2 * NS_PER_SEC);
				CU_ASSERT(ev->t - last <= 5 * NS_PER_SEC);
			}
			last = ev->t;
			CU_ASSERT_FATAL(ev->u.mutation.n >= 1 && ev->u.mutation.n <= 3);
			/* the changes follow as param lines (a new length also shows the pattern)
			 */
			const struct event *after[EVENT_MUT_MAX];
			int m = 0;
			for (size_t j = i + 1; j < n && evs[j].t == ev->t && m < ev->u.mutation.n;
			     j++)
				if (evs[j].type != EV_PATTERN)
					after[m++] = &evs[j];
			CU_ASSERT_EQUAL_FATAL(m, ev->u.mutation.n);
			for (int j = 0; j < ev->u.mutation.n; j++) {
				const struct event_change *c = &ev->u.mutation.ch[j];
				const struct event *p = after[j];
				CU_ASSERT(c->param != P_DENSITY);
				CU_ASSERT_DOUBLE_EQUAL(c->from, value[c->param], 1e-12);
				CU_ASSERT_EQUAL(p->type, EV_PARAM);
				CU_ASSERT_EQUAL(p->t, ev->t);
				CU_ASSERT_EQUAL(p->u.param.id, c->param);
				CU_ASSERT_EQUAL(p->u.param.source, SRC_MUTATION);
				CU_ASSERT_DOUBLE_EQUAL(p->u.param.value, c->to, 1e-12);
			}
		}
	}
	CU_ASSERT(mutations > 3600 / 5 && mutations <= 3600 / 2);
	engine_get_state(e, &st);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_DENSITY], 0.5, 1e-12);
	CU_ASSERT_EQUAL(st.mutations, (uint64_t)mutations);
	engine_free(e);

	cfg.mutation_enabled = false;
	e = engine_new(&cfg, 9);
	size_t n;
	int seen = 0;
	for (int64_t s = 1; s <= 3600; s++) {
		n = engine_advance(e, s * NS_PER_SEC, evs, 8192);
		for (size_t i = 0; i < n; i++)
			seen += evs[i].type == EV_MUTATION ||
			        (evs[i].type == EV_PARAM && evs[i].u.param.source == SRC_MUTATION);
	}
	CU_ASSERT_EQUAL(seen, 0);
	engine_free(e);
}

TEST_SUITE(mutate, NULL, NULL, TEST_CASE(test_intervals), TEST_CASE(test_walk_bounds),
           TEST_CASE(test_walk_centred), TEST_CASE(test_walk_deterministic), TEST_CASE(test_draw),
           TEST_CASE(test_eligibility), TEST_CASE(test_poisson), TEST_CASE(test_engine_reports))
