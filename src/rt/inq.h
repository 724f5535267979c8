/*
 * inq: the coalescing input queue from the MIDI input thread to the worker.
 *
 * One producer (the input thread) pushes timestamped MIDI messages; one
 * consumer (the worker) drains them as engine inputs without ever waiting.
 * Memory is fixed at inq_new().  A flood of controller messages (CC, pitch
 * bend, pressure) cannot grow it, cannot push out a note, and the latest
 * value of each controller is always the one delivered last.
 */
#ifndef ME_RT_INQ_H
#define ME_RT_INQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/midi.h"

struct inq;

struct inq_stats {
	uint64_t pushed;        /* messages offered by the input thread */
	uint64_t delivered;     /* engine inputs handed to the worker */
	uint64_t coalesced;     /* controller values replaced by a newer one */
	uint64_t deferred;      /* controller values parked while the queue was full */
	uint64_t dropped_notes; /* note on/off lost because the queue was full */
	uint64_t dropped_other; /* other messages lost because the queue was full */
	uint32_t depth;         /* entries waiting now */
	uint32_t max_depth;     /* most entries ever waiting */
	uint32_t cap;           /* entries the queue holds */
};

/*
 * A queue of cap entries (rounded up to a power of two, at least 16); a
 * quarter of it is kept for note on/off only.  NULL when out of memory or
 * out of file descriptors (the wake-up eventfd).
 */
struct inq *inq_new(size_t cap);
void inq_free(struct inq *q);

/*
 * Producer only.  Queues m, which arrived at t_mono_ns (CLOCK_MONOTONIC).
 * Returns false when the message was dropped (counted): only a note or
 * another non-controller message can be dropped, and only when full.
 */
bool inq_push(struct inq *q, const struct midi_msg *m, int64_t t_mono_ns);

/*
 * Consumer only; never blocks.  Moves up to cap waiting messages to out as
 * INPUT_MIDI engine inputs whose t is the CLOCK_MONOTONIC arrival time of
 * the value delivered.  Returns how many.
 */
size_t inq_drain(struct inq *q, struct engine_input *out, size_t cap);

/*
 * Waking the consumer without a lock.  A consumer that wants to sleep until
 * its next deadline or the next message calls inq_arm(): false means
 * messages are already waiting (do not sleep); true means the producer will
 * make inq_wake_fd() readable at the next push.  Then it sleeps in
 * poll/ppoll on that fd with its deadline as the timeout, and calls
 * inq_disarm() when it wakes, whatever woke it.  The producer pays one
 * eventfd write per sleep, not per message.  Consumer only.
 */
bool inq_arm(struct inq *q);
void inq_disarm(struct inq *q);
int inq_wake_fd(const struct inq *q);

/* Any thread: the counters (each read atomically). */
void inq_get_stats(const struct inq *q, struct inq_stats *st);

/* True for the kinds that coalesce (latest value wins) in the queue. */
bool inq_coalesces(const struct midi_msg *m);

#endif
