/* Tests of mutation: its timing, its bounded steps, and how the engine reports it. */
#include <math.h>
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

static void test_steps_bounded(void)
{
	struct rng r;
	rng_seed(&r, 78, 0);
	double v[P_COUNT];
	bool ok[P_COUNT];
	for (int k = 0; k < P_COUNT; k++) {
		v[k] = param_table[k].def;
		ok[k] = true;
	}
	int count[P_COUNT] = {0};
	int total = 0;
	for (int i = 0; i < 10000; i++) {
		struct event_change ch[EVENT_MUT_MAX];
		int n = mutate_draw(&r, v, ok, 2, ch);
		CU_ASSERT_FATAL(n >= 1 && n <= 2);
		if (n == 2)
			CU_ASSERT_FATAL(ch[0].param != ch[1].param);
		for (int j = 0; j < n; j++) {
			const struct param_info *p = &param_table[ch[j].param];
			CU_ASSERT_FATAL(p->mutate_weight > 0);
			CU_ASSERT_FATAL(ch[j].from == v[ch[j].param]);
			CU_ASSERT_FATAL(fabs(ch[j].to - ch[j].from) <= p->mutate_step + 1e-9);
			CU_ASSERT_FATAL(ch[j].to != ch[j].from);
			CU_ASSERT_FATAL(ch[j].to >= p->min && ch[j].to <= p->max);
			v[ch[j].param] = ch[j].to;
			count[ch[j].param]++;
			total++;
		}
	}
	/* Parameters are chosen by weight: density (2) about twice as often as swing (1). */
	CU_ASSERT_EQUAL(count[P_MASTER_VOLUME], 0);
	CU_ASSERT_EQUAL(count[P_SCALE_SELECT], 0);
	CU_ASSERT(count[P_DENSITY] > 1.6 * count[P_SWING] && count[P_DENSITY] < 2.4 * count[P_SWING]);
	CU_ASSERT(total > 14000);
}

static void test_eligibility(void)
{
	struct rng r;
	rng_seed(&r, 79, 0);
	double v[P_COUNT];
	bool ok[P_COUNT];
	for (int k = 0; k < P_COUNT; k++) {
		v[k] = param_table[k].def;
		ok[k] = false;
	}
	struct event_change ch[EVENT_MUT_MAX];
	CU_ASSERT_EQUAL(mutate_draw(&r, v, ok, 8, ch), 0);
	ok[P_DENSITY] = true;
	for (int i = 0; i < 100; i++) {
		int n = mutate_draw(&r, v, ok, 8, ch);
		CU_ASSERT_EQUAL(n, 1);
		CU_ASSERT_EQUAL(ch[0].param, P_DENSITY);
	}
	CU_ASSERT_EQUAL(mutate_draw(&r, v, ok, 0, ch), 0);
}

/* ---- through the engine ---- */

static struct event evs[8192];

static void test_engine_reports(void)
{
	struct engine_config cfg;
	engine_config_default(&cfg);
	cfg.interval_min_s = 2;
	cfg.interval_max_s = 5;
	cfg.max_changes_per_cycle = 3;
	cfg.idle_timeout_ms = 0;
	struct engine *e = engine_new(&cfg, 9);
	/* The keyboard holds density: mutation leaves it alone. */
	struct engine_input in = {.kind = INPUT_COMMAND, .t = 0};
	in.u.cmd = (struct command){.type = CMD_SET_PARAM, .source = SRC_KEY,
	    .param = P_DENSITY, .value = 0.5};
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
			CU_ASSERT_FATAL(i + ev->u.mutation.n < n);
			for (int j = 0; j < ev->u.mutation.n; j++) {
				const struct event_change *c = &ev->u.mutation.ch[j];
				const struct event *p = &evs[i + 1 + j];
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

TEST_SUITE(mutate, NULL, NULL,
    TEST_CASE(test_intervals),
    TEST_CASE(test_steps_bounded),
    TEST_CASE(test_eligibility),
    TEST_CASE(test_engine_reports))
