/*
 * hist: lock-free latency histograms and counters (MIDI-to-send latency,
 * worker lateness).
 *
 * Buckets are fixed and log-scale, HIST_PER_OCTAVE per doubling from 1 us:
 * bucket 0 holds 0..1 us, bucket i (1..HIST_BOUNDS-1) holds
 * (bound(i-1), bound(i)] with bound(i) = 1 us * 2^(i / HIST_PER_OCTAVE), and
 * the last bucket holds everything above bound(HIST_BOUNDS-1) (about 16.8 s).
 *
 * hist_add() is one relaxed atomic increment of a bucket and one relaxed
 * atomic add to the sum: any thread, never blocks, never allocates.  Readers
 * (metrics, console) may call the rest from any thread at any time; they see
 * counts that are each exact but may be a few adds apart from one another.
 */
#ifndef ME_RT_HIST_H
#define ME_RT_HIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_PER_OCTAVE 4
#define HIST_OCTAVES 24
#define HIST_MIN_NS INT64_C(1000)
/* Finite upper bounds: 1 us .. 2^24 us. */
#define HIST_BOUNDS (HIST_OCTAVES * HIST_PER_OCTAVE + 1)
/* Finite buckets plus the overflow (+Inf) bucket. */
#define HIST_BUCKETS (HIST_BOUNDS + 1)

struct hist {
	_Atomic uint64_t bucket[HIST_BUCKETS];
	_Atomic uint64_t sum_ns;
};

/* One cumulative bucket, as Prometheus writes it: _bucket{le="le_s"} count. */
struct hist_bucket {
	double le_s;         /* upper bound in seconds; INFINITY for the last */
	uint64_t cumulative; /* observations <= le_s */
};

/* Zero a histogram (e.g. a static one); not concurrently with hist_add(). */
void hist_init(struct hist *h);
/* A zeroed histogram on the heap; NULL with errno ENOMEM. */
struct hist *hist_new(void);
void hist_free(struct hist *h);

/* Record one observation; negative values count as 0. */
void hist_add(struct hist *h, int64_t ns);

uint64_t hist_count(const struct hist *h);
/* Sum of all observations in ns (negative ones counted as 0). */
uint64_t hist_sum(const struct hist *h);
/* The q-quantile (q in 0..1, clamped) in ns, interpolated linearly within its
 * bucket; 0 when empty.  Values in the overflow bucket read as its lower
 * bound. */
int64_t hist_quantile(const struct hist *h, double q);
/* Upper bound of finite bucket i (0 <= i < HIST_BOUNDS) in ns; -1 otherwise. */
int64_t hist_bound_ns(int i);
/* Fill out[0..n) with cumulative counts, last one le = +Inf when n reaches
 * HIST_BUCKETS; returns how many were written (at most HIST_BUCKETS). */
size_t hist_export(const struct hist *h, struct hist_bucket *out, size_t n);

/* A plain event counter: any thread adds, any thread reads. */
struct hist_counter {
	_Atomic uint64_t n;
};

static inline void hist_counter_add(struct hist_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->n, n, memory_order_relaxed);
}

static inline uint64_t hist_counter_get(const struct hist_counter *c)
{
	return atomic_load_explicit(&c->n, memory_order_relaxed);
}

#endif
