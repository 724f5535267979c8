/*
 * hist: fixed log-scale histograms with atomic bucket counters.
 *
 * The bucket bounds are the same for every histogram: 1 us * 2^(i/4),
 * rounded to whole ns, computed from a four-entry table of 2^(k/4) so no
 * libm call and no initialisation step is needed.  hist_add() finds its
 * bucket from the position of the value's top bit (one octave, four
 * candidates) and a couple of comparisons, then does one relaxed increment;
 * the sum is a second relaxed add.  Readers load each counter relaxed: every
 * count is exact, a quantile read during adds may mix adds from a moment
 * apart, which is fine for monitoring.
 *
 * Threads: hist_add() from any thread, including the real-time worker (no
 * lock, no allocation); readers from any thread.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt/hist.h"

/* 2^(k/4) for k = 0..3. */
static const double quarter_octave[HIST_PER_OCTAVE] = {
    1.0,
    1.189207115002721,
    1.414213562373095,
    1.681792830507429,
};

int64_t hist_bound_ns(int i)
{
	if (i < 0 || i >= HIST_BOUNDS)
		return -1;
	double b = (double)HIST_MIN_NS * (double)(UINT64_C(1) << (i / HIST_PER_OCTAVE)) *
	           quarter_octave[i % HIST_PER_OCTAVE];
	return (int64_t)(b + 0.5);
}

/* The bucket of a value: the first i with v <= bound(i), or the overflow. */
static int bucket_of(int64_t v)
{
	if (v <= HIST_MIN_NS)
		return 0;
	if (v > hist_bound_ns(HIST_BOUNDS - 1))
		return HIST_BUCKETS - 1;
	/* v / 1 us lies in [2^o, 2^(o+1)) for o = floor(log2(v / 1000)); its
	 * bucket is then one of 4o+1 .. 4o+4.  Start from the octave of the
	 * top bit of v / 1000 (can be one low because of the division), then
	 * walk up; at most a handful of steps. */
	uint64_t units = (uint64_t)v / (uint64_t)HIST_MIN_NS;
	int o = units ? 63 - __builtin_clzll(units) : 0;
	int i = o * HIST_PER_OCTAVE;
	if (i < 1)
		i = 1;
	while (v > hist_bound_ns(i))
		i++;
	return i;
}

void hist_init(struct hist *h)
{
	for (int i = 0; i < HIST_BUCKETS; i++)
		atomic_init(&h->bucket[i], 0);
	atomic_init(&h->sum_ns, 0);
}

struct hist *hist_new(void)
{
	struct hist *h = malloc(sizeof *h);
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	hist_init(h);
	return h;
}

void hist_free(struct hist *h)
{
	free(h);
}

void hist_add(struct hist *h, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	atomic_fetch_add_explicit(&h->bucket[bucket_of(ns)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)ns, memory_order_relaxed);
}

uint64_t hist_count(const struct hist *h)
{
	uint64_t n = 0;
	for (int i = 0; i < HIST_BUCKETS; i++)
		n += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
	return n;
}

uint64_t hist_sum(const struct hist *h)
{
	return atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
}

int64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t c[HIST_BUCKETS], total = 0;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		c[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		total += c[i];
	}
	if (total == 0)
		return 0;
	if (!(q > 0)) /* also NaN */
		q = 0;
	if (q > 1)
		q = 1;
	double rank = q * (double)total;
	uint64_t below = 0;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		if (c[i] == 0 || (double)(below + c[i]) < rank) {
			below += c[i];
			continue;
		}
		if (i == HIST_BUCKETS - 1)
			return hist_bound_ns(HIST_BOUNDS - 1);
		double lo = i == 0 ? 0.0 : (double)hist_bound_ns(i - 1);
		double hi = (double)hist_bound_ns(i);
		double f = (rank - (double)below) / (double)c[i];
		if (f < 0)
			f = 0;
		return (int64_t)llround(lo + (hi - lo) * f);
	}
	return hist_bound_ns(HIST_BOUNDS - 1);
}

size_t hist_export(const struct hist *h, struct hist_bucket *out, size_t n)
{
	uint64_t cum = 0;
	size_t k = 0;
	for (int i = 0; i < HIST_BUCKETS && k < n; i++, k++) {
		cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		out[k].le_s = i < HIST_BOUNDS ? (double)hist_bound_ns(i) / 1e9 : INFINITY;
		out[k].cumulative = cum;
	}
	return k;
}
