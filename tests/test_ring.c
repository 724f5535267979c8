/* Tests of the lock-free rings: order, full/empty edges, wraparound, and
 * cross-thread hand-off where every record must arrive once, in order. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "rt/ring.h"
#include "testlib.h"

/* A record the size of a small MIDI input, stamped by its producer. */
struct rec {
	uint32_t producer;
	uint32_t seq;
	uint64_t check; /* derived from both, to catch torn copies */
	unsigned char pad[16];
};

static struct rec make_rec(uint32_t producer, uint32_t seq)
{
	struct rec r;
	memset(&r, 0, sizeof r);
	r.producer = producer;
	r.seq = seq;
	r.check = ((uint64_t)producer << 32 | seq) * UINT64_C(0x9E3779B97F4A7C15);
	memset(r.pad, (int)(seq & 0xff), sizeof r.pad);
	return r;
}

static int rec_ok(const struct rec *r)
{
	if (r->check != ((uint64_t)r->producer << 32 | r->seq) * UINT64_C(0x9E3779B97F4A7C15))
		return 0;
	for (size_t i = 0; i < sizeof r->pad; i++)
		if (r->pad[i] != (unsigned char)(r->seq & 0xff))
			return 0;
	return 1;
}

static void test_bad_sizes(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(ring_new(0, 8));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(ring_new(8, 0));
	CU_ASSERT_PTR_NULL(ring_new(RING_MAX_CAPACITY + 1, 8));
	CU_ASSERT_PTR_NULL(ring_mpmc_new(8, RING_MAX_RECORD + 1));
	CU_ASSERT_PTR_NULL(ring_mpmc_new(0, 8));
}

static void test_capacity_rounds_up(void)
{
	struct ring *r = ring_new(5, sizeof(struct rec));
	CU_ASSERT_EQUAL(ring_capacity(r), 8);
	CU_ASSERT_EQUAL(ring_record_size(r), sizeof(struct rec));
	ring_free(r);
	struct ring_mpmc *m = ring_mpmc_new(1, 3);
	CU_ASSERT_EQUAL(ring_mpmc_capacity(m), 1);
	CU_ASSERT_EQUAL(ring_mpmc_record_size(m), 3);
	ring_mpmc_free(m);
}

static void test_spsc_fifo_and_edges(void)
{
	struct ring *r = ring_new(4, sizeof(struct rec));
	struct rec x;
	CU_ASSERT_FALSE(ring_pop(r, &x));
	CU_ASSERT_FALSE(ring_peek(r, &x));
	for (uint32_t i = 0; i < 4; i++) {
		struct rec in = make_rec(0, i);
		CU_ASSERT_TRUE(ring_push(r, &in));
		CU_ASSERT_EQUAL(ring_depth(r), i + 1);
	}
	struct rec extra = make_rec(0, 99);
	CU_ASSERT_FALSE(ring_push(r, &extra)); /* full: refused, nothing overwritten */
	CU_ASSERT_EQUAL(ring_depth(r), 4);
	CU_ASSERT_TRUE(ring_peek(r, &x));
	CU_ASSERT_EQUAL(x.seq, 0);
	for (uint32_t i = 0; i < 4; i++) {
		CU_ASSERT_TRUE(ring_pop(r, &x));
		CU_ASSERT_EQUAL(x.seq, i);
		CU_ASSERT_TRUE(rec_ok(&x));
	}
	CU_ASSERT_FALSE(ring_pop(r, &x));
	CU_ASSERT_EQUAL(ring_depth(r), 0);
	CU_ASSERT_EQUAL(ring_high_water(r), 4);
	ring_free(r);
}

/* Many laps of a small ring, with the fill level varying lap to lap. */
static void test_spsc_wraparound(void)
{
	struct ring *r = ring_new(8, sizeof(struct rec));
	uint32_t next_in = 0, next_out = 0;
	struct rec x;
	for (int lap = 0; lap < 5000; lap++) {
		int n = 1 + lap % 8;
		for (int i = 0; i < n; i++) {
			struct rec in = make_rec(0, next_in);
			if (ring_push(r, &in))
				next_in++;
		}
		int m = 1 + (lap * 7) % 8;
		for (int i = 0; i < m && ring_pop(r, &x); i++) {
			CU_ASSERT_EQUAL_FATAL(x.seq, next_out);
			next_out++;
		}
	}
	while (ring_pop(r, &x)) {
		CU_ASSERT_EQUAL_FATAL(x.seq, next_out);
		next_out++;
	}
	CU_ASSERT_EQUAL(next_out, next_in);
	CU_ASSERT(next_in > 5000 * 2); /* the ring went round many times */
	CU_ASSERT_EQUAL(ring_high_water(r), 8);
	ring_free(r);
}

static void test_mpmc_fifo_and_edges(void)
{
	struct ring_mpmc *r = ring_mpmc_new(4, sizeof(struct rec));
	struct rec x;
	CU_ASSERT_FALSE(ring_mpmc_pop(r, &x));
	for (int lap = 0; lap < 1000; lap++) {
		for (uint32_t i = 0; i < 4; i++) {
			struct rec in = make_rec(1, (uint32_t)lap * 4 + i);
			CU_ASSERT_TRUE_FATAL(ring_mpmc_push(r, &in));
		}
		struct rec extra = make_rec(1, 0);
		CU_ASSERT_FALSE_FATAL(ring_mpmc_push(r, &extra));
		CU_ASSERT_EQUAL_FATAL(ring_mpmc_depth(r), 4);
		for (uint32_t i = 0; i < 4; i++) {
			CU_ASSERT_TRUE_FATAL(ring_mpmc_pop(r, &x));
			CU_ASSERT_EQUAL_FATAL(x.seq, (uint32_t)lap * 4 + i);
			CU_ASSERT_TRUE_FATAL(rec_ok(&x));
		}
		CU_ASSERT_FALSE_FATAL(ring_mpmc_pop(r, &x));
	}
	CU_ASSERT_EQUAL(ring_mpmc_high_water(r), 4);
	ring_mpmc_free(r);
}

#define STRESS_N 50000u
#define PRODUCERS 3

struct stress {
	struct ring *spsc;
	struct ring_mpmc *mpmc;
	uint32_t id;
	uint64_t full_retries;
};

static void *spsc_producer(void *arg)
{
	struct stress *s = arg;
	for (uint32_t i = 0; i < STRESS_N; i++) {
		struct rec in = make_rec(s->id, i);
		while (!ring_push(s->spsc, &in)) {
			s->full_retries++;
			sched_yield();
		}
	}
	return NULL;
}

/* One producer thread, this thread consuming: all arrive, once, in order. */
static void test_spsc_two_threads(void)
{
	struct stress s = {.spsc = ring_new(64, sizeof(struct rec)), .id = 7};
	pthread_t t;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, spsc_producer, &s), 0);
	uint32_t expect = 0, bad = 0;
	struct rec x;
	while (expect < STRESS_N) {
		if (!ring_pop(s.spsc, &x)) {
			sched_yield();
			continue;
		}
		if (x.producer != 7 || x.seq != expect || !rec_ok(&x))
			bad++;
		expect = x.seq + 1;
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(expect, STRESS_N);
	CU_ASSERT_FALSE(ring_pop(s.spsc, &x));
	CU_ASSERT(ring_high_water(s.spsc) <= 64);
	ring_free(s.spsc);
}

static void *mpmc_producer(void *arg)
{
	struct stress *s = arg;
	for (uint32_t i = 0; i < STRESS_N; i++) {
		struct rec in = make_rec(s->id, i);
		while (!ring_mpmc_push(s->mpmc, &in)) {
			s->full_retries++;
			sched_yield();
		}
	}
	return NULL;
}

/* Three producers, this thread consuming: each producer's records arrive
 * exactly once and in that producer's order. */
static void test_mpmc_three_producers(void)
{
	struct ring_mpmc *r = ring_mpmc_new(128, sizeof(struct rec));
	struct stress s[PRODUCERS];
	pthread_t t[PRODUCERS];
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		s[i] = (struct stress){.mpmc = r, .id = i};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, mpmc_producer, &s[i]), 0);
	}
	uint32_t next[PRODUCERS] = {0};
	uint32_t got = 0, bad = 0;
	struct rec x;
	while (got < PRODUCERS * STRESS_N) {
		if (!ring_mpmc_pop(r, &x)) {
			sched_yield();
			continue;
		}
		got++;
		if (x.producer >= PRODUCERS || !rec_ok(&x) || x.seq != next[x.producer]) {
			bad++;
			continue;
		}
		next[x.producer]++;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(bad, 0);
	for (int i = 0; i < PRODUCERS; i++)
		CU_ASSERT_EQUAL(next[i], STRESS_N);
	CU_ASSERT_FALSE(ring_mpmc_pop(r, &x));
	CU_ASSERT(ring_mpmc_high_water(r) >= 1 && ring_mpmc_high_water(r) <= 128);
	ring_mpmc_free(r);
}

struct consumer {
	struct ring_mpmc *r;
	_Atomic uint32_t *remaining;
	uint32_t seen[PRODUCERS];
	uint32_t bad;
};

static void *mpmc_consumer(void *arg)
{
	struct consumer *c = arg;
	struct rec x;
	uint32_t last[PRODUCERS];
	memset(last, 0xff, sizeof last);
	while (*c->remaining > 0) {
		if (!ring_mpmc_pop(c->r, &x)) {
			sched_yield();
			continue;
		}
		(*c->remaining)--;
		if (x.producer >= PRODUCERS || !rec_ok(&x) ||
		    (last[x.producer] != UINT32_MAX && x.seq <= last[x.producer])) {
			c->bad++;
			continue;
		}
		last[x.producer] = x.seq;
		c->seen[x.producer]++;
	}
	return NULL;
}

/* Three producers, two consumers: nothing lost, nothing doubled, and each
 * consumer sees each producer's records in increasing order. */
static void test_mpmc_many_consumers(void)
{
	struct ring_mpmc *r = ring_mpmc_new(64, sizeof(struct rec));
	_Atomic uint32_t remaining = PRODUCERS * STRESS_N;
	struct stress s[PRODUCERS];
	struct consumer c[2];
	pthread_t tp[PRODUCERS], tc[2];
	for (int i = 0; i < 2; i++) {
		c[i] = (struct consumer){.r = r, .remaining = &remaining};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tc[i], NULL, mpmc_consumer, &c[i]), 0);
	}
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		s[i] = (struct stress){.mpmc = r, .id = i};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tp[i], NULL, mpmc_producer, &s[i]), 0);
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(tp[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(tc[i], NULL);
	struct rec x;
	CU_ASSERT_FALSE(ring_mpmc_pop(r, &x));
	for (int p = 0; p < PRODUCERS; p++)
		CU_ASSERT_EQUAL(c[0].seen[p] + c[1].seen[p], STRESS_N);
	CU_ASSERT_EQUAL(c[0].bad + c[1].bad, 0);
	ring_mpmc_free(r);
}

TEST_SUITE(ring, NULL, NULL, TEST_CASE(test_bad_sizes), TEST_CASE(test_capacity_rounds_up),
           TEST_CASE(test_spsc_fifo_and_edges), TEST_CASE(test_spsc_wraparound),
           TEST_CASE(test_mpmc_fifo_and_edges), TEST_CASE(test_spsc_two_threads),
           TEST_CASE(test_mpmc_three_producers), TEST_CASE(test_mpmc_many_consumers))
