/*
 * ring: bounded lock-free queues of fixed-size records.
 *
 *   struct ring       single producer, single consumer (MIDI input -> worker,
 *                     commands -> worker, worker -> a reader)
 *   struct ring_mpmc  any number of producers and consumers (the log ring)
 *
 * Both are sized once by *_new() (the only allocation); push copies a record
 * in and returns false when the ring is full (the caller counts the drop),
 * pop copies one out and returns false when it is empty.  Neither ever blocks
 * or allocates.  The capacity is rounded up to a power of two.
 *
 * Threads: for struct ring, exactly one thread may push and one thread may
 * pop at a time; ring_depth() and ring_high_water() may be called from any
 * thread.  For struct ring_mpmc any thread may call anything but *_free().
 */
#ifndef ME_RT_RING_H
#define ME_RT_RING_H

#include <stdbool.h>
#include <stddef.h>

/* Largest accepted capacity (records) and record size (bytes). */
#define RING_MAX_CAPACITY ((size_t)1 << 24)
#define RING_MAX_RECORD ((size_t)1 << 16)

struct ring;

/* A ring of at least `capacity` records of `record_size` bytes each.  NULL
 * with errno EINVAL when either is 0 or above the limits, ENOMEM when memory
 * is short. */
struct ring *ring_new(size_t capacity, size_t record_size);
void ring_free(struct ring *r);
/* Producer: copy one record in; false when full. */
bool ring_push(struct ring *r, const void *record);
/* Consumer: copy the oldest record out; false when empty. */
bool ring_pop(struct ring *r, void *record);
/* Consumer: copy the oldest record out without removing it; false when empty. */
bool ring_peek(struct ring *r, void *record);
/* Records waiting now (a snapshot when called from a third thread). */
size_t ring_depth(const struct ring *r);
/* The largest depth seen right after a push since ring_new(). */
size_t ring_high_water(const struct ring *r);
size_t ring_capacity(const struct ring *r);
size_t ring_record_size(const struct ring *r);

struct ring_mpmc;

/* As ring_new(), for many producers and consumers. */
struct ring_mpmc *ring_mpmc_new(size_t capacity, size_t record_size);
void ring_mpmc_free(struct ring_mpmc *r);
bool ring_mpmc_push(struct ring_mpmc *r, const void *record);
bool ring_mpmc_pop(struct ring_mpmc *r, void *record);
size_t ring_mpmc_depth(const struct ring_mpmc *r);
size_t ring_mpmc_high_water(const struct ring_mpmc *r);
size_t ring_mpmc_capacity(const struct ring_mpmc *r);
size_t ring_mpmc_record_size(const struct ring_mpmc *r);

#endif
