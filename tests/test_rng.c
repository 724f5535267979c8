/* Tests of the core's random generator: reproducible, uniform, weighted. */
#include <math.h>

#include "core/rng.h"
#include "testlib.h"

static void test_reproducible(void)
{
	struct rng a, b, c;
	rng_seed(&a, 42, 1);
	rng_seed(&b, 42, 1);
	rng_seed(&c, 42, 2);
	int same_c = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a);
		CU_ASSERT_EQUAL(x, rng_next(&b));
		same_c += x == rng_next(&c);
	}
	CU_ASSERT_EQUAL(same_c, 0);
	struct rng d;
	rng_seed(&d, 43, 1);
	rng_seed(&a, 42, 1);
	CU_ASSERT_NOT_EQUAL(rng_next(&a), rng_next(&d));
}

static void test_unit_uniform(void)
{
	struct rng r;
	rng_seed(&r, 7, 0);
	double sum = 0;
	int bins[10] = {0};
	for (int i = 0; i < 100000; i++) {
		double u = rng_unit(&r);
		CU_ASSERT_FATAL(u >= 0 && u < 1);
		sum += u;
		bins[(int)(u * 10)]++;
	}
	CU_ASSERT_DOUBLE_EQUAL(sum / 100000, 0.5, 0.01);
	for (int i = 0; i < 10; i++)
		CU_ASSERT(bins[i] > 9500 && bins[i] < 10500);
}

static void test_below(void)
{
	struct rng r;
	rng_seed(&r, 9, 0);
	int count[7] = {0};
	for (int i = 0; i < 70000; i++) {
		uint32_t v = rng_below(&r, 7);
		CU_ASSERT_FATAL(v < 7);
		count[v]++;
	}
	for (int i = 0; i < 7; i++)
		CU_ASSERT(count[i] > 9500 && count[i] < 10500);
	CU_ASSERT_EQUAL(rng_below(&r, 0), 0);
	CU_ASSERT_EQUAL(rng_below(&r, 1), 0);
}

static void test_weighted(void)
{
	struct rng r;
	rng_seed(&r, 11, 0);
	const double w[4] = {4, 0, 3, 1};
	int count[4] = {0};
	for (int i = 0; i < 80000; i++)
		count[rng_weighted(&r, w, 4)]++;
	CU_ASSERT_EQUAL(count[1], 0);
	CU_ASSERT_DOUBLE_EQUAL(count[0] / 80000.0, 0.5, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(count[2] / 80000.0, 0.375, 0.01);
	CU_ASSERT_DOUBLE_EQUAL(count[3] / 80000.0, 0.125, 0.01);
	const double none[2] = {0, -1};
	CU_ASSERT_EQUAL(rng_weighted(&r, none, 2), -1);
}

TEST_SUITE(rng, NULL, NULL, TEST_CASE(test_reproducible), TEST_CASE(test_unit_uniform),
           TEST_CASE(test_below), TEST_CASE(test_weighted))
