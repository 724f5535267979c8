/*
 * pub: a triple buffer from one writer to many readers.
 *
 * Three buffers: the writer owns "back", the readers own "front", and the
 * third sits in the middle, named by one atomic word (index | FRESH bit).
 * pub_write() fills back, then exchanges it with the middle and marks it
 * fresh (release: the bytes are visible to whoever takes the middle); the
 * old middle becomes the new back.  pub_read() takes the middle in exchange
 * for front when it is fresh (acquire), then copies front out.  Each buffer
 * is only ever touched by its current owner and ownership moves through the
 * exchange, so there is no data race by construction and the writer never
 * waits for anyone.  Readers serialise among themselves with a mutex the
 * writer never touches.  Each buffer carries the generation it was written
 * with so readers can tell "new" from "same as last time".
 *
 * Threads: pub_write() from a single writer thread (the worker); pub_read()
 * from any threads; pub_new()/pub_free() by the owner outside both.
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rt/pub.h"

#define CACHE_LINE 64
#define FRESH 4u
#define INDEX 3u

struct pub {
	alignas(CACHE_LINE) _Atomic unsigned middle; /* index | FRESH */
	alignas(CACHE_LINE) unsigned back;           /* writer's */
	uint64_t gen;                                /* writer's */
	alignas(CACHE_LINE) unsigned front;          /* readers', under lock */
	pthread_mutex_t lock;
	size_t size;
	size_t stride;
	unsigned char *buf; /* 3 x stride: generation, then the snapshot */
};

#define HDR 16 /* room for the generation, keeping the snapshot aligned */

static unsigned char *buffer(struct pub *p, unsigned i)
{
	return p->buf + (size_t)i * p->stride;
}

struct pub *pub_new(size_t size)
{
	if (size == 0 || size > PUB_MAX_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	struct pub *p =
	    aligned_alloc(CACHE_LINE, (sizeof *p + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE);
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, sizeof *p);
	p->size = size;
	p->stride = (HDR + size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	p->buf = aligned_alloc(CACHE_LINE, 3 * p->stride);
	if (!p->buf || pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p->buf);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	memset(p->buf, 0, 3 * p->stride);
	p->back = 0;
	atomic_init(&p->middle, 1);
	p->front = 2;
	return p;
}

void pub_free(struct pub *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->buf);
	free(p);
}

size_t pub_size(const struct pub *p)
{
	return p->size;
}

void pub_write(struct pub *p, const void *src)
{
	unsigned char *b = buffer(p, p->back);
	uint64_t gen = ++p->gen;
	memcpy(b, &gen, sizeof gen);
	memcpy(b + HDR, src, p->size);
	unsigned old = atomic_exchange_explicit(&p->middle, p->back | FRESH, memory_order_acq_rel);
	p->back = old & INDEX;
}

uint64_t pub_read_gen(struct pub *p, void *dst)
{
	uint64_t gen;
	pthread_mutex_lock(&p->lock);
	if (atomic_load_explicit(&p->middle, memory_order_relaxed) & FRESH) {
		unsigned old = atomic_exchange_explicit(&p->middle, p->front, memory_order_acq_rel);
		p->front = old & INDEX;
	}
	unsigned char *f = buffer(p, p->front);
	memcpy(&gen, f, sizeof gen);
	if (gen)
		memcpy(dst, f + HDR, p->size);
	pthread_mutex_unlock(&p->lock);
	return gen;
}

bool pub_read(struct pub *p, void *dst)
{
	return pub_read_gen(p, dst) != 0;
}
