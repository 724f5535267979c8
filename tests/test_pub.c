/* Tests of the snapshot publisher: readers never see a half-written
 * snapshot, never go back in time, and always end up with the newest one. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "rt/pub.h"
#include "testlib.h"

#define WORDS 64 /* a 512-byte snapshot */
#define WRITES 100000u

struct snap {
	uint64_t w[WORDS];
};

static void fill(struct snap *s, uint64_t seq)
{
	for (int i = 0; i < WORDS; i++)
		s->w[i] = seq;
}

static void test_bad_size(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(pub_new(0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(pub_new(PUB_MAX_SIZE + 1));
}

static void test_single_thread(void)
{
	struct pub *p = pub_new(sizeof(struct snap));
	struct snap s, out;
	CU_ASSERT_EQUAL(pub_size(p), sizeof(struct snap));
	fill(&out, 777);
	CU_ASSERT_FALSE(pub_read(p, &out)); /* nothing yet: dst untouched */
	CU_ASSERT_EQUAL(out.w[0], 777);
	fill(&s, 1);
	pub_write(p, &s);
	CU_ASSERT_EQUAL(pub_read_gen(p, &out), 1);
	CU_ASSERT_EQUAL(out.w[WORDS - 1], 1);
	/* No new write: the same snapshot again, same generation. */
	CU_ASSERT_EQUAL(pub_read_gen(p, &out), 1);
	/* Several writes between reads: only the newest is seen. */
	for (uint64_t i = 2; i <= 5; i++) {
		fill(&s, i);
		pub_write(p, &s);
	}
	CU_ASSERT_EQUAL(pub_read_gen(p, &out), 5);
	CU_ASSERT_EQUAL(out.w[0], 5);
	CU_ASSERT_TRUE(pub_read(p, &out));
	pub_free(p);
}

struct shared {
	struct pub *p;
	_Atomic bool done;
};

struct reader {
	struct shared *sh;
	uint64_t reads, torn, backwards, gen_mismatch, last;
};

static void *writer_main(void *arg)
{
	struct shared *sh = arg;
	struct snap s;
	for (uint64_t i = 1; i <= WRITES; i++) {
		fill(&s, i);
		pub_write(sh->p, &s);
		if (i % 64 == 0)
			sched_yield();
	}
	atomic_store(&sh->done, true);
	return NULL;
}

static void check_read(struct reader *r)
{
	struct snap s;
	uint64_t gen = pub_read_gen(r->sh->p, &s);
	if (gen == 0)
		return;
	r->reads++;
	for (int i = 1; i < WORDS; i++)
		if (s.w[i] != s.w[0]) {
			r->torn++;
			return;
		}
	if (gen != s.w[0])
		r->gen_mismatch++;
	if (s.w[0] < r->last)
		r->backwards++;
	r->last = s.w[0];
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	while (!atomic_load(&r->sh->done))
		check_read(r);
	check_read(r); /* after the last write */
	return NULL;
}

/* One writer (the worker) and two readers (console, HTTP) at full speed. */
static void test_writer_two_readers(void)
{
	struct shared sh = {.p = pub_new(sizeof(struct snap))};
	struct reader rd[2] = {{.sh = &sh}, {.sh = &sh}};
	pthread_t w, r[2];
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&r[i], NULL, reader_main, &rd[i]), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w, NULL, writer_main, &sh), 0);
	pthread_join(w, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT(rd[i].reads > 0);
		CU_ASSERT_EQUAL(rd[i].torn, 0);
		CU_ASSERT_EQUAL(rd[i].backwards, 0);
		CU_ASSERT_EQUAL(rd[i].gen_mismatch, 0);
		CU_ASSERT_EQUAL(rd[i].last, WRITES); /* the newest, in the end */
	}
	pub_free(sh.p);
}

TEST_SUITE(pub, NULL, NULL, TEST_CASE(test_bad_size), TEST_CASE(test_single_thread),
           TEST_CASE(test_writer_two_readers))
