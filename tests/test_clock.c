/* Tests of the step clock: exact times after hours, swing, tempo changes, drift. */
#include <math.h>

#include "core/clock.h"
#include "core/engine.h"
#include "testlib.h"

/* Exact time of j steps at an integer bpm (sixteenths): round(j * 15e9 / bpm). */
static int64_t exact(int64_t j, int64_t bpm)
{
	return (j * INT64_C(30000000000) + bpm) / (2 * bpm);
}

static void test_ten_hours_exact(void)
{
	struct clock c;
	clock_init(&c, 0, 110, 4);
	int64_t k_10h = 36000 * 110 * 4 / 60; /* 264000 sixteenths */
	CU_ASSERT_EQUAL(clock_base_time(&c, k_10h), 36000 * NS_PER_SEC);
	for (int64_t k = 0; k <= k_10h; k += 997)
		CU_ASSERT_FATAL(clock_base_time(&c, k) == exact(k, 110));
}

static void test_tempo_changes_exact(void)
{
	static const int64_t tempos[] = {110, 97, 124, 72, 133, 110, 61, 300, 20, 88};
	struct clock c;
	clock_init(&c, 5 * NS_PER_SEC, 110, 4);
	int64_t k0 = 0, t0 = 5 * NS_PER_SEC;
	for (int h = 0; h < 10; h++) {
		int64_t bpm = tempos[h];
		/* One hour at this tempo, then the next tempo from the next step. */
		int64_t steps = 3600 * bpm * 4 / 60;
		if (h > 0)
			clock_set_tempo(&c, k0, (double)bpm);
		for (int64_t j = 0; j <= steps; j += 101)
			CU_ASSERT_FATAL(clock_base_time(&c, k0 + j) == t0 + exact(j, bpm));
		t0 += exact(steps, bpm);
		k0 += steps;
		CU_ASSERT_EQUAL(clock_base_time(&c, k0), t0);
	}
	CU_ASSERT_EQUAL(t0, 5 * NS_PER_SEC + 36000 * NS_PER_SEC);
}

static void test_tempo_change_no_jump(void)
{
	struct clock c;
	clock_init(&c, 0, 120, 4);
	int64_t t10 = clock_base_time(&c, 10);
	clock_set_tempo(&c, 10, 60);
	CU_ASSERT_EQUAL(clock_base_time(&c, 10), t10);
	CU_ASSERT_EQUAL(clock_base_time(&c, 11) - t10, 250 * NS_PER_MS);
	CU_ASSERT_EQUAL(t10, 10 * 125 * NS_PER_MS);
}

static void test_swing(void)
{
	struct clock c;
	clock_init(&c, 0, 110, 4);
	int64_t delay = llround(0.12 * 60e9 / 440);
	for (int64_t k = 0; k < 1000; k++) {
		int64_t want = exact(k, 110) + (k % 2 ? delay : 0);
		CU_ASSERT_FATAL(clock_step_time(&c, k, 0.12) == want);
	}
	/* Full swing puts the odd step halfway into its neighbour's slot. */
	CU_ASSERT_EQUAL(clock_step_time(&c, 1, 0.5), exact(1, 110) + llround(0.5 * 60e9 / 440));
	CU_ASSERT_EQUAL(clock_step_time(&c, 1, 0), exact(1, 110));
	CU_ASSERT_EQUAL(clock_swing_ns(&c, 2, 0.3), 0);
	/* Even a heavily swung step stays before the next one. */
	for (int64_t k = 0; k < 100; k++)
		CU_ASSERT(clock_step_time(&c, k, 0.5) < clock_step_time(&c, k + 1, 0.5));
}

static void test_restart(void)
{
	struct clock c;
	clock_init(&c, 0, 120, 4);
	clock_restart(&c, 40, 77 * NS_PER_SEC);
	CU_ASSERT_EQUAL(clock_base_time(&c, 40), 77 * NS_PER_SEC);
	CU_ASSERT_EQUAL(clock_base_time(&c, 48), 78 * NS_PER_SEC);
}

static void test_drift_curve(void)
{
	struct clock_drift d;
	clock_drift_init(&d, 1234, 128);
	double lo = 0, hi = 0, prev = clock_drift_at(&d, 0);
	for (int64_t k = 1; k < 128 * 200; k++) {
		double x = clock_drift_at(&d, k);
		CU_ASSERT_FATAL(x >= -1 && x <= 1);
		/* Smooth: smoothstep between targets at most 2 apart moves < 3/span a step. */
		CU_ASSERT_FATAL(fabs(x - prev) <= 3.0 / 128 + 1e-12);
		prev = x;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	CU_ASSERT(lo < -0.5);
	CU_ASSERT(hi > 0.5);
}

TEST_SUITE(clock, NULL, NULL, TEST_CASE(test_ten_hours_exact), TEST_CASE(test_tempo_changes_exact),
           TEST_CASE(test_tempo_change_no_jump), TEST_CASE(test_swing), TEST_CASE(test_restart),
           TEST_CASE(test_drift_curve))
