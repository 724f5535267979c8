/*
 * ring_bench: how fast the lock-free rings move records between threads.
 *
 * Prints, each as the median of 5 runs:
 *   - the cost of a push+pop pair on one thread (no hand-off);
 *   - SPSC push+pop throughput with struct engine_input records (the MIDI
 *     and command path into the worker), producer and consumer on two threads;
 *   - MPMC push+pop throughput with struct log_record records (the log path);
 *   - the p50 and p99 of a cross-thread hand-off: a producer stamps a record
 *     with CLOCK_MONOTONIC every 20 us and pushes it, a spinning consumer pops
 *     it and takes the difference.
 * Waiting threads spin, yielding every 64 polls so that a peer sharing the
 * core can run; on a loaded machine the cross-thread figures measure the
 * scheduler more than the ring (the load average is printed with them).
 * Build and run: `make bench-ring` (configure without sanitizers).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "rt/log.h"
#include "rt/ring.h"
#include "rt/rtclock.h"

#define RUNS 5
#define THROUGHPUT_N 2000000
#define LATENCY_N 20000
#define LATENCY_GAP_NS 20000

struct job {
	struct ring *spsc;
	struct ring_mpmc *mpmc;
	size_t size;
	long n;
	int64_t *lat; /* latency samples (consumer side) */
	_Atomic int ready;
};

/* Busy-wait step: spin a little, then let a peer on the same core run. */
static void backoff(unsigned *spins)
{
	if (++*spins % 64 == 0)
		sched_yield();
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double median(double *v)
{
	for (int i = 0; i < RUNS; i++)
		for (int j = i + 1; j < RUNS; j++)
			if (v[j] < v[i]) {
				double t = v[i];
				v[i] = v[j];
				v[j] = t;
			}
	return v[RUNS / 2];
}

static void *produce(void *arg)
{
	struct job *j = arg;
	unsigned char rec[sizeof(struct log_record)];
	memset(rec, 0x5a, sizeof rec);
	atomic_fetch_add(&j->ready, 1);
	while (atomic_load(&j->ready) < 2)
		sched_yield();
	for (long i = 0; i < j->n; i++) {
		memcpy(rec, &i, sizeof i);
		unsigned spins = 0;
		if (j->spsc)
			while (!ring_push(j->spsc, rec))
				backoff(&spins);
		else
			while (!ring_mpmc_push(j->mpmc, rec))
				backoff(&spins);
	}
	return NULL;
}

static void *consume(void *arg)
{
	struct job *j = arg;
	unsigned char rec[sizeof(struct log_record)];
	atomic_fetch_add(&j->ready, 1);
	while (atomic_load(&j->ready) < 2)
		sched_yield();
	for (long i = 0; i < j->n; i++) {
		unsigned spins = 0;
		if (j->spsc)
			while (!ring_pop(j->spsc, rec))
				backoff(&spins);
		else
			while (!ring_mpmc_pop(j->mpmc, rec))
				backoff(&spins);
		long got;
		memcpy(&got, rec, sizeof got);
		if (got != i) {
			fprintf(stderr, "ring_bench: record %ld arrived as %ld\n", i, got);
			exit(1);
		}
	}
	return NULL;
}

/* Records per second through a ring, producer and consumer on two threads. */
static double throughput(bool mpmc, size_t size)
{
	struct job j = {.size = size, .n = THROUGHPUT_N};
	if (mpmc)
		j.mpmc = ring_mpmc_new(1024, size);
	else
		j.spsc = ring_new(1024, size);
	pthread_t p, c;
	pthread_create(&c, NULL, consume, &j);
	pthread_create(&p, NULL, produce, &j);
	while (atomic_load(&j.ready) < 2)
		sched_yield();
	int64_t t0 = rtclock_mono_ns();
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	int64_t t1 = rtclock_mono_ns();
	ring_free(j.spsc);
	ring_mpmc_free(j.mpmc);
	return (double)THROUGHPUT_N / ((double)(t1 - t0) / 1e9);
}

static void *latency_consumer(void *arg)
{
	struct job *j = arg;
	struct engine_input in;
	atomic_fetch_add(&j->ready, 1);
	for (long i = 0; i < j->n; i++) {
		unsigned spins = 0;
		while (!ring_pop(j->spsc, &in))
			backoff(&spins);
		j->lat[i] = rtclock_mono_ns() - in.t;
	}
	return NULL;
}

/* Nanoseconds per push+pop pair on one thread (no hand-off, no contention):
 * the cost of the ring operations themselves. */
static double single_thread_ns(bool mpmc, size_t size)
{
	struct ring *r = mpmc ? NULL : ring_new(512, size);
	struct ring_mpmc *m = mpmc ? ring_mpmc_new(512, size) : NULL;
	unsigned char rec[sizeof(struct log_record)];
	memset(rec, 0x5a, sizeof rec);
	long n = 0;
	int64_t t0 = rtclock_mono_ns();
	for (int round = 0; round < THROUGHPUT_N / 512; round++) {
		for (int i = 0; i < 512; i++)
			n += mpmc ? ring_mpmc_push(m, rec) : ring_push(r, rec);
		for (int i = 0; i < 512; i++)
			n -= mpmc ? ring_mpmc_pop(m, rec) : ring_pop(r, rec);
	}
	int64_t t1 = rtclock_mono_ns();
	if (n != 0) {
		fprintf(stderr, "ring_bench: single-thread push/pop mismatch\n");
		exit(1);
	}
	ring_free(r);
	ring_mpmc_free(m);
	return (double)(t1 - t0) / (double)(THROUGHPUT_N / 512 * 512);
}

/* p50 and p99 (ns) of one paced hand-off run. */
static void latency(double *p50, double *p99)
{
	struct job j = {.spsc = ring_new(256, sizeof(struct engine_input)), .n = LATENCY_N};
	j.lat = malloc(sizeof(int64_t) * LATENCY_N);
	pthread_t c;
	pthread_create(&c, NULL, latency_consumer, &j);
	while (atomic_load(&j.ready) < 1)
		sched_yield();
	struct engine_input in;
	memset(&in, 0, sizeof in);
	int64_t next = rtclock_mono_ns();
	for (long i = 0; i < LATENCY_N; i++) {
		next += LATENCY_GAP_NS;
		while (rtclock_mono_ns() < next)
			;
		in.t = rtclock_mono_ns();
		while (!ring_push(j.spsc, &in))
			;
	}
	pthread_join(c, NULL);
	qsort(j.lat, LATENCY_N, sizeof *j.lat, cmp_i64);
	*p50 = (double)j.lat[LATENCY_N / 2];
	*p99 = (double)j.lat[LATENCY_N * 99 / 100];
	free(j.lat);
	ring_free(j.spsc);
}

/* The machine's load, printed with the figures: spinning threads on a busy
 * two-core machine get preempted, which shows up in every figure. */
static void print_load(const char *when)
{
	char buf[64] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(buf, sizeof buf, f))
			snprintf(buf, sizeof buf, "?\n");
		fclose(f);
	}
	printf("load average %s: %s", when, buf);
}

int main(void)
{
	double spsc[RUNS], mpmc[RUNS], p50[RUNS], p99[RUNS], one_s[RUNS], one_m[RUNS];
	print_load("before");
	for (int r = 0; r < RUNS; r++) {
		one_s[r] = single_thread_ns(false, sizeof(struct engine_input));
		one_m[r] = single_thread_ns(true, sizeof(struct log_record));
		spsc[r] = throughput(false, sizeof(struct engine_input));
		mpmc[r] = throughput(true, sizeof(struct log_record));
		latency(&p50[r], &p99[r]);
	}
	printf("ring_bench: median of %d runs\n", RUNS);
	printf("one thread, push+pop pair: spsc %.1f ns, mpmc %.1f ns\n", median(one_s),
	       median(one_m));
	printf("spsc push+pop (%zu-byte engine_input): %.1f M records/s\n",
	       sizeof(struct engine_input), median(spsc) / 1e6);
	printf("mpmc push+pop (%zu-byte log_record):   %.1f M records/s\n",
	       sizeof(struct log_record), median(mpmc) / 1e6);
	printf("spsc hand-off latency, %d records every %d us: p50 %.0f ns, p99 %.0f ns\n",
	       LATENCY_N, LATENCY_GAP_NS / 1000, median(p50), median(p99));
	print_load("after");
	return 0;
}
