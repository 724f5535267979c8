/* Tests of the latency histograms: the quantiles an operator reads off the
 * metrics must be within one bucket of the truth. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "rt/hist.h"
#include "testlib.h"

/* Width of the bucket holding v (the tolerance of any estimate of v). */
static int64_t width_at(int64_t v)
{
	if (v <= hist_bound_ns(0))
		return hist_bound_ns(0);
	for (int i = 1; i < HIST_BOUNDS; i++)
		if (v <= hist_bound_ns(i))
			return hist_bound_ns(i) - hist_bound_ns(i - 1);
	return INT64_MAX;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The exact q-quantile of sorted samples (nearest rank). */
static int64_t exact_quantile(const int64_t *s, size_t n, double q)
{
	size_t k = (size_t)ceil(q * (double)n);
	return s[k ? k - 1 : 0];
}

static void check_quantiles(struct hist *h, int64_t *s, size_t n)
{
	static const double qs[] = {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999};
	qsort(s, n, sizeof *s, cmp_i64);
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		int64_t truth = exact_quantile(s, n, qs[i]);
		int64_t est = hist_quantile(h, qs[i]);
		CU_ASSERT(llabs(est - truth) <= width_at(truth));
	}
}

static void test_bounds(void)
{
	CU_ASSERT_EQUAL(hist_bound_ns(0), 1000);
	CU_ASSERT_EQUAL(hist_bound_ns(HIST_PER_OCTAVE), 2000);
	CU_ASSERT_EQUAL(hist_bound_ns(HIST_BOUNDS - 1), INT64_C(1000) << HIST_OCTAVES);
	CU_ASSERT(hist_bound_ns(HIST_BOUNDS - 1) > INT64_C(10000000000)); /* covers 10 s */
	CU_ASSERT_EQUAL(hist_bound_ns(-1), -1);
	CU_ASSERT_EQUAL(hist_bound_ns(HIST_BOUNDS), -1);
	for (int i = 1; i < HIST_BOUNDS; i++) {
		double ratio = (double)hist_bound_ns(i) / (double)hist_bound_ns(i - 1);
		CU_ASSERT_DOUBLE_EQUAL(ratio, pow(2.0, 1.0 / HIST_PER_OCTAVE), 1e-3);
	}
}

/* A value equal to a bound counts in that bucket (Prometheus "le"). */
static void test_bucket_edges(void)
{
	struct hist h;
	struct hist_bucket b[HIST_BUCKETS];
	hist_init(&h);
	hist_add(&h, 1000);
	hist_add(&h, 1001);
	hist_add(&h, hist_bound_ns(40));
	hist_add(&h, hist_bound_ns(40) + 1);
	hist_add(&h, -5);
	CU_ASSERT_EQUAL(hist_export(&h, b, HIST_BUCKETS), HIST_BUCKETS);
	CU_ASSERT_DOUBLE_EQUAL(b[0].le_s, 1e-6, 1e-12);
	CU_ASSERT_EQUAL(b[0].cumulative, 2); /* -5 (as 0) and 1000 */
	CU_ASSERT_EQUAL(b[1].cumulative, 3);
	CU_ASSERT_EQUAL(b[39].cumulative, 3);
	CU_ASSERT_EQUAL(b[40].cumulative, 4);
	CU_ASSERT_EQUAL(b[41].cumulative, 5);
	CU_ASSERT_EQUAL(hist_sum(&h), 1000 + 1001 + 2 * (uint64_t)hist_bound_ns(40) + 1);
}

static void test_export_shape(void)
{
	struct hist *h = hist_new();
	struct hist_bucket b[HIST_BUCKETS];
	uint32_t x = 12345;
	for (int i = 0; i < 5000; i++) {
		x = x * 1103515245u + 12345u;
		hist_add(h, (int64_t)(x >> 8) * 3);
	}
	hist_add(h, INT64_C(100) * 1000000000); /* 100 s: beyond the last bound */
	CU_ASSERT_EQUAL(hist_export(h, b, HIST_BUCKETS), HIST_BUCKETS);
	for (int i = 1; i < HIST_BUCKETS; i++) {
		CU_ASSERT(b[i].cumulative >= b[i - 1].cumulative);
		CU_ASSERT(b[i].le_s > b[i - 1].le_s);
	}
	CU_ASSERT(isinf(b[HIST_BUCKETS - 1].le_s));
	CU_ASSERT_EQUAL(b[HIST_BUCKETS - 1].cumulative, hist_count(h));
	CU_ASSERT_EQUAL(b[HIST_BUCKETS - 2].cumulative, hist_count(h) - 1);
	CU_ASSERT_EQUAL(hist_count(h), 5001);
	/* The overflow reads as the largest finite bound, not as garbage. */
	CU_ASSERT_EQUAL(hist_quantile(h, 1.0), hist_bound_ns(HIST_BOUNDS - 1));
	/* A short export stops where asked. */
	CU_ASSERT_EQUAL(hist_export(h, b, 3), 3);
	hist_free(h);
}

static void test_empty_and_constant(void)
{
	struct hist h;
	hist_init(&h);
	CU_ASSERT_EQUAL(hist_count(&h), 0);
	CU_ASSERT_EQUAL(hist_quantile(&h, 0.5), 0);
	for (int i = 0; i < 100; i++)
		hist_add(&h, 250000); /* 250 us */
	CU_ASSERT_EQUAL(hist_count(&h), 100);
	CU_ASSERT_EQUAL(hist_sum(&h), 100 * 250000);
	for (double q = 0; q <= 1.0; q += 0.125)
		CU_ASSERT(llabs(hist_quantile(&h, q) - 250000) <= width_at(250000));
	CU_ASSERT_EQUAL(hist_quantile(&h, -3), hist_quantile(&h, 0));
	CU_ASSERT_EQUAL(hist_quantile(&h, NAN), hist_quantile(&h, 0));
	CU_ASSERT_EQUAL(hist_quantile(&h, 7), hist_quantile(&h, 1));
}

/* Uniform lateness between 1 ms and 10 ms. */
static void test_uniform(void)
{
	enum { N = 20000 };
	static int64_t s[N];
	struct hist h;
	hist_init(&h);
	for (int i = 0; i < N; i++) {
		s[i] = 1000000 + (int64_t)i * 9000000 / N;
		hist_add(&h, s[i]);
	}
	check_quantiles(&h, s, N);
}

/* Log-normal-like latencies around 300 us with a long tail (seeded). */
static void test_long_tail(void)
{
	enum { N = 20000 };
	static int64_t s[N];
	struct hist h;
	hist_init(&h);
	uint64_t x = 42;
	for (int i = 0; i < N; i++) {
		double g = 0;
		for (int k = 0; k < 6; k++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			g += (double)(x >> 11) / 9007199254740992.0;
		}
		g = (g - 3.0) * 1.4; /* roughly normal, sd ~1 */
		s[i] = (int64_t)(300000.0 * exp(g));
		hist_add(&h, s[i]);
	}
	check_quantiles(&h, s, N);
	CU_ASSERT_EQUAL(hist_count(&h), N);
}

struct adder {
	struct hist *h;
	struct hist_counter *c;
};

static void *add_many(void *arg)
{
	struct adder *a = arg;
	for (int i = 0; i < 100000; i++) {
		hist_add(a->h, 1000 + (i % 5000) * 1000);
		hist_counter_add(a->c, 1);
	}
	return NULL;
}

/* Two threads adding at once lose nothing. */
static void test_concurrent(void)
{
	struct hist h;
	struct hist_counter c = {0};
	hist_init(&h);
	struct adder a = {&h, &c};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, add_many, &a);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(hist_count(&h), 200000);
	CU_ASSERT_EQUAL(hist_counter_get(&c), 200000);
	uint64_t per_thread = 0;
	for (int i = 0; i < 100000; i++)
		per_thread += 1000 + (uint64_t)(i % 5000) * 1000;
	CU_ASSERT_EQUAL(hist_sum(&h), 2 * per_thread);
}

TEST_SUITE(hist, NULL, NULL, TEST_CASE(test_bounds), TEST_CASE(test_bucket_edges),
           TEST_CASE(test_export_shape), TEST_CASE(test_empty_and_constant),
           TEST_CASE(test_uniform), TEST_CASE(test_long_tail), TEST_CASE(test_concurrent))
