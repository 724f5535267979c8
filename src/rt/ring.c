/*
 * ring: bounded lock-free queues of fixed-size records.
 *
 * SPSC (struct ring): two free-running counters, head (written only by the
 * producer) and tail (written only by the consumer), on separate cache lines.
 * A record's bytes are published by the release store of head and seen by the
 * consumer's acquire load; the slot is handed back by the release store of
 * tail.  Each side keeps a private copy of the other side's counter and
 * re-reads the shared one only when the copy says full/empty, so in steady
 * state a push or pop touches one shared line.
 *
 * MPMC (struct ring_mpmc): D. Vyukov's bounded queue.  Every slot carries a
 * sequence number: seq == pos means "free for the producer of ticket pos",
 * seq == pos + 1 means "holds the record of ticket pos".  Producers and
 * consumers claim tickets with a compare-and-swap on their counter, then copy
 * and publish with a release store of the slot's sequence.  Nobody waits for
 * anybody: a full or empty ring is reported at once.
 *
 * Counters are unsigned and wrap; all comparisons are by difference, so a
 * wrap of size_t is harmless (capacities are powers of two).
 *
 * Threads: see ring.h.  Only *_new() allocates and only *_free() frees.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt/ring.h"

#define CACHE_LINE 64

struct ring {
	alignas(CACHE_LINE) _Atomic size_t head; /* next ticket to write */
	size_t tail_cache;                       /* producer's copy of tail */
	_Atomic size_t high_water;
	alignas(CACHE_LINE) _Atomic size_t tail; /* next ticket to read */
	size_t head_cache;                       /* consumer's copy of head */
	alignas(CACHE_LINE) size_t mask;
	size_t record_size;
	unsigned char *data;
};

struct ring_mpmc {
	alignas(CACHE_LINE) _Atomic size_t enq;
	alignas(CACHE_LINE) _Atomic size_t deq;
	alignas(CACHE_LINE) _Atomic size_t high_water;
	size_t mask;
	size_t record_size;
	size_t stride;        /* bytes from one slot to the next */
	unsigned char *slots; /* per slot: sequence, then the record at SLOT_DATA */
};

/* A slot's record starts here, so records keep max_align_t alignment. */
#define SLOT_DATA                                                                                  \
	(sizeof(_Atomic size_t) > alignof(max_align_t) ? sizeof(_Atomic size_t)                    \
	                                               : alignof(max_align_t))

static size_t round_pow2(size_t n)
{
	size_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static int check_sizes(size_t capacity, size_t record_size)
{
	if (capacity == 0 || capacity > RING_MAX_CAPACITY || record_size == 0 ||
	    record_size > RING_MAX_RECORD) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void *alloc_aligned(size_t size)
{
	size = (size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	void *p = aligned_alloc(CACHE_LINE, size);
	if (p)
		memset(p, 0, size);
	return p;
}

/* Lift *hw to at least depth (lock-free: retries only while others lift it). */
static void raise_high_water(_Atomic size_t *hw, size_t depth)
{
	size_t cur = atomic_load_explicit(hw, memory_order_relaxed);
	while (cur < depth && !atomic_compare_exchange_weak_explicit(
	                          hw, &cur, depth, memory_order_relaxed, memory_order_relaxed))
		;
}

struct ring *ring_new(size_t capacity, size_t record_size)
{
	if (check_sizes(capacity, record_size) < 0)
		return NULL;
	capacity = round_pow2(capacity);
	struct ring *r = alloc_aligned(sizeof *r);
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->data = calloc(capacity, record_size);
	if (!r->data) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->high_water, 0);
	r->mask = capacity - 1;
	r->record_size = record_size;
	return r;
}

void ring_free(struct ring *r)
{
	if (!r)
		return;
	free(r->data);
	free(r);
}

bool ring_push(struct ring *r, const void *record)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (head - r->tail_cache > r->mask) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head - r->tail_cache > r->mask)
			return false;
	}
	memcpy(r->data + (head & r->mask) * r->record_size, record, r->record_size);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	/* The cached tail may be old and overstate the depth: re-read it
	 * before claiming a new high-water mark (rare once warmed up). */
	size_t hw = atomic_load_explicit(&r->high_water, memory_order_relaxed);
	if (head + 1 - r->tail_cache > hw) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head + 1 - r->tail_cache > hw)
			atomic_store_explicit(&r->high_water, head + 1 - r->tail_cache,
			                      memory_order_relaxed);
	}
	return true;
}

/* The consumer's oldest slot, or NULL when the ring is empty. */
static unsigned char *front_slot(struct ring *r, size_t *tail_out)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (tail == r->head_cache) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == r->head_cache)
			return NULL;
	}
	*tail_out = tail;
	return r->data + (tail & r->mask) * r->record_size;
}

bool ring_pop(struct ring *r, void *record)
{
	size_t tail;
	unsigned char *slot = front_slot(r, &tail);
	if (!slot)
		return false;
	memcpy(record, slot, r->record_size);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

bool ring_peek(struct ring *r, void *record)
{
	size_t tail;
	unsigned char *slot = front_slot(r, &tail);
	if (!slot)
		return false;
	memcpy(record, slot, r->record_size);
	return true;
}

/* head - tail, read tail first so the difference is never negative; clamped
 * because a third thread may see the two counters at different moments. */
static size_t depth_of(const _Atomic size_t *head, const _Atomic size_t *tail, size_t cap)
{
	size_t t = atomic_load_explicit(tail, memory_order_acquire);
	size_t h = atomic_load_explicit(head, memory_order_acquire);
	size_t d = h - t;
	return d > cap ? cap : d;
}

size_t ring_depth(const struct ring *r)
{
	return depth_of(&r->head, &r->tail, r->mask + 1);
}

size_t ring_high_water(const struct ring *r)
{
	return atomic_load_explicit(&r->high_water, memory_order_relaxed);
}

size_t ring_capacity(const struct ring *r)
{
	return r->mask + 1;
}

size_t ring_record_size(const struct ring *r)
{
	return r->record_size;
}

static _Atomic size_t *slot_seq(const struct ring_mpmc *r, size_t pos)
{
	return (_Atomic size_t *)(void *)(r->slots + (pos & r->mask) * r->stride);
}

static unsigned char *slot_data(const struct ring_mpmc *r, size_t pos)
{
	return r->slots + (pos & r->mask) * r->stride + SLOT_DATA;
}

struct ring_mpmc *ring_mpmc_new(size_t capacity, size_t record_size)
{
	if (check_sizes(capacity, record_size) < 0)
		return NULL;
	capacity = round_pow2(capacity);
	struct ring_mpmc *r = alloc_aligned(sizeof *r);
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	size_t a = alignof(max_align_t);
	r->stride = (SLOT_DATA + record_size + a - 1) / a * a;
	r->slots = alloc_aligned(capacity * r->stride);
	if (!r->slots) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->mask = capacity - 1;
	r->record_size = record_size;
	atomic_init(&r->enq, 0);
	atomic_init(&r->deq, 0);
	atomic_init(&r->high_water, 0);
	for (size_t i = 0; i < capacity; i++)
		atomic_init(slot_seq(r, i), i);
	return r;
}

void ring_mpmc_free(struct ring_mpmc *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

bool ring_mpmc_push(struct ring_mpmc *r, const void *record)
{
	size_t pos = atomic_load_explicit(&r->enq, memory_order_relaxed);
	for (;;) {
		size_t seq = atomic_load_explicit(slot_seq(r, pos), memory_order_acquire);
		intptr_t diff = (intptr_t)(seq - pos);
		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(
			        &r->enq, &pos, pos + 1, memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (diff < 0) {
			return false; /* the slot still holds a lap-old record */
		} else {
			pos = atomic_load_explicit(&r->enq, memory_order_relaxed);
		}
	}
	memcpy(slot_data(r, pos), record, r->record_size);
	atomic_store_explicit(slot_seq(r, pos), pos + 1, memory_order_release);
	size_t deq = atomic_load_explicit(&r->deq, memory_order_relaxed);
	size_t depth = pos + 1 - deq;
	if (depth <= r->mask + 1)
		raise_high_water(&r->high_water, depth);
	return true;
}

bool ring_mpmc_pop(struct ring_mpmc *r, void *record)
{
	size_t pos = atomic_load_explicit(&r->deq, memory_order_relaxed);
	for (;;) {
		size_t seq = atomic_load_explicit(slot_seq(r, pos), memory_order_acquire);
		intptr_t diff = (intptr_t)(seq - (pos + 1));
		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(
			        &r->deq, &pos, pos + 1, memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (diff < 0) {
			return false; /* not yet written */
		} else {
			pos = atomic_load_explicit(&r->deq, memory_order_relaxed);
		}
	}
	memcpy(record, slot_data(r, pos), r->record_size);
	atomic_store_explicit(slot_seq(r, pos), pos + r->mask + 1, memory_order_release);
	return true;
}

size_t ring_mpmc_depth(const struct ring_mpmc *r)
{
	return depth_of(&r->enq, &r->deq, r->mask + 1);
}

size_t ring_mpmc_high_water(const struct ring_mpmc *r)
{
	return atomic_load_explicit(&r->high_water, memory_order_relaxed);
}

size_t ring_mpmc_capacity(const struct ring_mpmc *r)
{
	return r->mask + 1;
}

size_t ring_mpmc_record_size(const struct ring_mpmc *r)
{
	return r->record_size;
}
