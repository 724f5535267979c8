/* Tests of the pattern: its first draw, the fire rate, and deja vu (chaos_lock). */
#include <stdlib.h>
#include <string.h>

#include "core/scale.h"
#include "core/seq.h"
#include "testlib.h"

static void test_init(void)
{
	struct rng r;
	struct seq s;
	rng_seed(&r, 5, 0);
	seq_init(&s, &r, 8, SCALE_MAJOR, 2, 4);
	CU_ASSERT_EQUAL(s.len, 8);
	CU_ASSERT_EQUAL(s.pos, 0);
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		const struct engine_step *st = &s.step[k];
		CU_ASSERT(st->on);
		CU_ASSERT(st->prob >= 0.3 && st->prob <= 1);
		CU_ASSERT(st->degree >= 0 && st->degree < 14);
		CU_ASSERT(st->velocity >= 1 && st->velocity <= 127);
		CU_ASSERT(st->length >= 0.05 && st->length <= 4);
	}
	/* Another seed, another pattern. */
	struct seq s2;
	rng_seed(&r, 6, 0);
	seq_init(&s2, &r, 8, SCALE_MAJOR, 2, 4);
	int differ = 0;
	for (int k = 0; k < 8; k++)
		differ += s.step[k].degree != s2.step[k].degree;
	CU_ASSERT(differ > 0);
}

/* The root and the fifth come up more often than the other degrees. */
static void test_degree_weights(void)
{
	struct rng r;
	rng_seed(&r, 3, 0);
	int count[SCALE_COUNT][12] = {{0}};
	for (int id = 0; id < SCALE_COUNT; id++)
		for (int i = 0; i < 20000; i++) {
			int d = seq_draw_degree(&r, id, 2);
			CU_ASSERT_FATAL(d >= 0 && d < 2 * scale_table[id].n);
			count[id][d % scale_table[id].n]++;
		}
	/* Major: root index 0, fifth index 4; every other degree has weight 1 of 13. */
	for (int i = 0; i < 7; i++) {
		double share = count[SCALE_MAJOR][i] / 20000.0;
		double want = i == 0 ? 4 / 12.0 : i == 4 ? 3 / 12.0 : 1 / 12.0;
		CU_ASSERT_DOUBLE_EQUAL(share, want, 0.015);
	}
	/* Pentatonic: the fifth is index 3. */
	CU_ASSERT(count[SCALE_PENTATONIC][3] > 2 * count[SCALE_PENTATONIC][1]);
	CU_ASSERT(count[SCALE_PENTATONIC][0] > count[SCALE_PENTATONIC][3]);
}

static void all_certain(struct seq *s)
{
	for (int k = 0; k < ENGINE_MAX_STEPS; k++)
		s->step[k].prob = 1;
}

/* With every probability 1, steps fire at the density's rate. */
static void test_fire_rate(void)
{
	const double densities[] = {0.25, 0.5, 0.85, 1.0, 0.0};
	for (int i = 0; i < 5; i++) {
		struct rng r;
		struct seq s;
		rng_seed(&r, 100 + i, 0);
		seq_init(&s, &r, 8, SCALE_MAJOR, 2, 4);
		all_certain(&s);
		int fired = 0;
		for (int n = 0; n < 10000; n++) {
			struct seq_hit h;
			seq_play(&s, &r, densities[i], 0, SCALE_MAJOR, 2, false, &h);
			fired += h.fired;
		}
		CU_ASSERT_DOUBLE_EQUAL(fired / 10000.0, densities[i], 0.02);
	}
}

struct cycle {
	bool fired[8];
	int degree[8], velocity[8];
};

static void play_cycle(struct seq *s, struct rng *r, double lock, struct cycle *c)
{
	memset(c, 0, sizeof *c);
	for (int k = 0; k < 8; k++) {
		struct seq_hit h;
		seq_play(s, r, 0.7, lock, SCALE_MINOR, 2, false, &h);
		CU_ASSERT_EQUAL(h.pos, k);
		c->fired[k] = h.fired;
		c->degree[k] = h.degree;
		c->velocity[k] = h.velocity;
	}
}

static void test_lock_one_repeats(void)
{
	struct rng r;
	struct seq s;
	rng_seed(&r, 21, 0);
	seq_init(&s, &r, 8, SCALE_MINOR, 2, 4);
	struct cycle first, c;
	play_cycle(&s, &r, 1.0, &first);
	for (int i = 0; i < 200; i++) {
		play_cycle(&s, &r, 1.0, &c);
		CU_ASSERT_FATAL(memcmp(&c, &first, sizeof c) == 0);
	}
}

static void test_lock_zero_varies(void)
{
	struct rng r;
	struct seq s;
	rng_seed(&r, 22, 0);
	seq_init(&s, &r, 8, SCALE_MINOR, 2, 4);
	struct cycle prev, c;
	play_cycle(&s, &r, 0.0, &prev);
	int differing = 0;
	for (int i = 0; i < 50; i++) {
		play_cycle(&s, &r, 0.0, &c);
		differing += memcmp(&c, &prev, sizeof c) != 0;
		prev = c;
	}
	CU_ASSERT_EQUAL(differing, 50);
}

/* In between, each step's decisions are redrawn with probability 1 - lock. */
static void test_lock_between(void)
{
	const double locks[] = {0.25, 0.5, 0.9};
	for (int i = 0; i < 3; i++) {
		struct rng r;
		struct seq s;
		rng_seed(&r, 30 + i, 0);
		seq_init(&s, &r, 8, SCALE_MAJOR, 2, 4);
		int redrawn = 0, visits = 20000;
		for (int n = 0; n < visits; n++) {
			struct seq_memory before = s.mem[s.pos];
			struct seq_hit h;
			seq_play(&s, &r, 1, locks[i], SCALE_MAJOR, 2, false, &h);
			redrawn += before.gate != s.mem[h.pos].gate;
		}
		CU_ASSERT_DOUBLE_EQUAL(redrawn / (double)visits, 1 - locks[i], 0.02);
	}
}

static void test_length(void)
{
	struct rng r;
	struct seq s;
	rng_seed(&r, 1, 0);
	seq_init(&s, &r, 8, SCALE_MAJOR, 2, 4);
	struct seq_hit h;
	for (int k = 0; k < 6; k++)
		seq_play(&s, &r, 1, 1, SCALE_MAJOR, 2, false, &h);
	seq_set_length(&s, 4);
	CU_ASSERT_EQUAL(s.pos, 0);
	seq_play(&s, &r, 1, 1, SCALE_MAJOR, 2, false, &h);
	CU_ASSERT_EQUAL(h.pos, 0);
	seq_set_length(&s, 1000);
	CU_ASSERT_EQUAL(s.len, ENGINE_MAX_STEPS);
	seq_set_length(&s, 0);
	CU_ASSERT_EQUAL(s.len, 1);
	/* A step that is off never fires. */
	s.step[0].on = 0;
	s.step[0].prob = 1;
	for (int n = 0; n < 100; n++) {
		seq_play(&s, &r, 1, 0, SCALE_MAJOR, 2, false, &h);
		CU_ASSERT(!h.fired);
	}
	struct engine_step wild = {.prob = 3, .degree = 2, .velocity = 0, .length = 99, .on = 7};
	seq_set_step(&s, 5, &wild);
	CU_ASSERT_EQUAL(s.step[5].prob, 1);
	CU_ASSERT_EQUAL(s.step[5].velocity, 1);
	CU_ASSERT_EQUAL(s.step[5].length, 4);
	CU_ASSERT_EQUAL(s.step[5].on, 1);
}

/*
 * A rewrite always changes the step's degree, keeps it within the octaves,
 * mostly to a neighbour; it never switches the step and never touches step
 * 0's certain downbeat; an accent (velocity 127) is redrawn now and then.
 */
static void test_rewrite(void)
{
	struct rng r;
	rng_seed(&r, 31, 0);
	struct seq s;
	seq_init(&s, &r, 8, SCALE_PENTATONIC, 2, 4);
	int near = 0, n = 20000;
	for (int i = 0; i < n; i++) {
		int k = i % 8;
		struct engine_step before = s.step[k];
		seq_rewrite(&s, &r, k, SCALE_PENTATONIC, 2, 4);
		CU_ASSERT_FATAL(s.step[k].degree != before.degree);
		CU_ASSERT_FATAL(s.step[k].degree >= 0 && s.step[k].degree < 10);
		near += abs(s.step[k].degree - before.degree) <= 2;
		CU_ASSERT_FATAL(s.step[k].on == before.on);
		CU_ASSERT_FATAL(s.step[k].velocity >= 1 && s.step[k].velocity <= 127);
		if (k == 0)
			CU_ASSERT_FATAL(s.step[0].prob == 1.0);
	}
	CU_ASSERT(near > n * 0.7 && near < n * 0.95);
	int relaxed = 0;
	for (int i = 0; i < 400; i++) {
		s.step[5].velocity = 127;
		seq_rewrite(&s, &r, 5, SCALE_PENTATONIC, 2, 4);
		relaxed += s.step[5].velocity < 127;
	}
	CU_ASSERT(relaxed > 60 && relaxed < 140); /* a quarter of the rewrites */
}

/* force sounds a step that is on whatever its draw, never one that is off. */
static void test_force(void)
{
	struct rng r;
	rng_seed(&r, 32, 0);
	struct seq s;
	seq_init(&s, &r, 8, SCALE_MAJOR, 2, 4);
	s.step[3].on = 0;
	struct seq_hit h;
	int fired = 0;
	for (int i = 0; i < 800; i++) {
		seq_play(&s, &r, 0, 0, SCALE_MAJOR, 2, true, &h);
		CU_ASSERT_FATAL(h.fired == (h.pos != 3));
		fired += h.fired;
	}
	CU_ASSERT_EQUAL(fired, 700);
}

TEST_SUITE(seq, NULL, NULL, TEST_CASE(test_init), TEST_CASE(test_degree_weights),
           TEST_CASE(test_fire_rate), TEST_CASE(test_lock_one_repeats),
           TEST_CASE(test_lock_zero_varies), TEST_CASE(test_lock_between), TEST_CASE(test_length),
           TEST_CASE(test_rewrite), TEST_CASE(test_force))
