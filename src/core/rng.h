/*
 * rng: the core's small, fast, seedable pseudo-random generator.
 *
 * xoshiro256** seeded through splitmix64.  Every random decision of the core
 * (pattern, deja vu, mutation, drift) draws from an rng the engine seeded
 * from its one seed, so the same seed gives the same music.  Pure; the state
 * is the caller's; any thread that owns the state.
 */
#ifndef ME_CORE_RNG_H
#define ME_CORE_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Seeds one independent stream: the same (seed, stream) gives the same numbers. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1), 53 bits. */
double rng_unit(struct rng *r);
/* Uniform in [lo, hi). */
double rng_range(struct rng *r, double lo, double hi);
/* Uniform integer in 0..n-1 without bias; 0 when n is 0. */
uint32_t rng_below(struct rng *r, uint32_t n);
/* Index drawn with probability w[i] / sum(w); -1 when no weight is positive. */
int rng_weighted(struct rng *r, const double *w, int n);

#endif
