/*
 * inq: the coalescing SPSC queue between the MIDI input thread (producer)
 * and the worker (consumer).
 *
 * Design.  A ring of cap slots indexed by free-running head (producer) and
 * tail (consumer) counters, published with release/acquire.  A slot holds a
 * message and its arrival time.  Controller messages (CC 0..119, pitch bend,
 * channel and poly pressure) have a key (kind, channel, number); their slot
 * also holds an atomic word "value | time since the slot's first value".
 * While such a slot is still waiting and no other kind of message has been
 * queued since (the "epoch" of barriers is unchanged), a new value for the
 * same key replaces the waiting one with a compare-and-swap; the consumer
 * takes a slot with an atomic exchange to TAKEN, so a replacement either
 * lands before the take or fails and goes into a new slot.  Coalescing thus
 * never moves a value across a note: the order the engine sees is the
 * order of arrival, each controller showing its latest value at its place.
 *
 * Room.  Notes may use every slot; controllers and other messages only
 * cap - cap/4, so a controller flood never takes the room of a note.  When
 * a controller finds no room it replaces its latest waiting value even
 * across a note, or, if none is waiting, parks its value in an overflow
 * table (one atomic word per key plus a dirty bitmap) that the consumer
 * empties first at each drain; a newer queued value clears the park.  So
 * controller values are never lost, only merged (counted), and the last
 * value of every controller is the last one delivered.  Every message
 * pushed is counted exactly once: delivered, coalesced (replaced before the
 * consumer saw it) or dropped.  Notes and other
 * messages are dropped (counted) only when the ring is full.
 *
 * Wake-up.  inq_arm()/inq_disarm() and an eventfd let the consumer sleep
 * until its deadline or the next message: the consumer stores "armed" and
 * then checks for waiting messages, the producer publishes head and then
 * checks "armed" (both sequentially consistent, so one of them sees the
 * other) and writes the eventfd once per arming.
 *
 * Threads: inq_push() from one producer thread, inq_drain(), inq_arm() and
 * inq_disarm() from one consumer thread, inq_get_stats() from any thread.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "rt/inq.h"

#define KEY_CC 0           /* (ch - 1) * 128 + cc, cc < 120 */
#define KEY_POLY 2048      /* (ch - 1) * 128 + note */
#define KEY_CHANPRESS 4096 /* ch - 1 */
#define KEY_BEND 4112      /* ch - 1 */
#define KEY_COUNT 4128
#define KEY_NONE 0xFFFF
#define BITMAP_WORDS ((KEY_COUNT + 63) / 64)

#define TAKEN UINT64_MAX                    /* slot word: the consumer has it */
#define EMPTY UINT64_MAX                    /* park word: nothing parked */
#define DELTA_MAX ((UINT64_C(1) << 48) - 2) /* ns; about 78 hours */
#define LOW48 ((UINT64_C(1) << 48) - 1)

struct slot {
	int64_t t; /* arrival of the first value */
	struct midi_msg msg;
	uint16_t key;          /* KEY_NONE: not a controller */
	_Atomic uint64_t word; /* controller: delta_ns << 16 | value, or TAKEN */
};

/* Producer-private: where the latest waiting value of a key sits. */
struct last {
	uint64_t pos;   /* ring position + 1; 0 = none */
	uint64_t word;  /* what the producer last wrote there */
	uint64_t epoch; /* barrier epoch when queued */
};

struct inq {
	/* written by the producer */
	_Alignas(64) _Atomic uint64_t head;
	uint64_t epoch; /* counts non-controller messages queued */
	_Atomic uint64_t pushed, coalesced, deferred, dropped_notes, dropped_other;
	_Atomic uint32_t max_depth;
	/* written by the consumer */
	_Alignas(64) _Atomic uint64_t tail;
	_Atomic uint64_t delivered;
	_Atomic int armed;
	int wake_fd;
	/* shared */
	_Alignas(64) _Atomic uint64_t dirty[BITMAP_WORDS];
	_Atomic uint64_t park[KEY_COUNT]; /* low 48 bits of t << 16 | value */
	uint64_t cap, mask, ctl_limit;
	_Atomic int64_t latest_t; /* time of the latest parked value */
	struct last *last;
	struct slot *slots;
};

static uint16_t key_of(const struct midi_msg *m)
{
	if (m->channel < 1 || m->channel > 16)
		return KEY_NONE;
	unsigned ch = m->channel - 1u;
	switch (m->kind) {
	case MIDI_CC:
		return m->number < 120 ? (uint16_t)(KEY_CC + ch * 128 + m->number) : KEY_NONE;
	case MIDI_POLY_PRESSURE:
		return (uint16_t)(KEY_POLY + ch * 128 + (m->number & 127));
	case MIDI_CHANNEL_PRESSURE:
		return (uint16_t)(KEY_CHANPRESS + ch);
	case MIDI_PITCH_BEND:
		return (uint16_t)(KEY_BEND + ch);
	default:
		return KEY_NONE;
	}
}

static void msg_of_key(uint16_t key, uint16_t value, struct midi_msg *m)
{
	memset(m, 0, sizeof *m);
	m->value = value;
	if (key >= KEY_BEND) {
		m->kind = MIDI_PITCH_BEND;
		m->channel = (uint8_t)(key - KEY_BEND + 1);
	} else if (key >= KEY_CHANPRESS) {
		m->kind = MIDI_CHANNEL_PRESSURE;
		m->channel = (uint8_t)(key - KEY_CHANPRESS + 1);
	} else {
		unsigned k = key >= KEY_POLY ? key - KEY_POLY : key;
		m->kind = key >= KEY_POLY ? MIDI_POLY_PRESSURE : MIDI_CC;
		m->channel = (uint8_t)(k / 128 + 1);
		m->number = (uint8_t)(k % 128);
	}
}

bool inq_coalesces(const struct midi_msg *m)
{
	return key_of(m) != KEY_NONE;
}

struct inq *inq_new(size_t cap)
{
	size_t n = 16;
	while (n < cap && n < ((size_t)1 << 24))
		n <<= 1;
	struct inq *q = aligned_alloc(64, (sizeof *q + 63) / 64 * 64);
	if (!q)
		return NULL;
	memset(q, 0, sizeof *q);
	q->slots = calloc(n, sizeof *q->slots);
	q->last = calloc(KEY_COUNT, sizeof *q->last);
	q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!q->slots || !q->last || q->wake_fd < 0) {
		inq_free(q);
		return NULL;
	}
	q->cap = n;
	q->mask = n - 1;
	q->ctl_limit = n - n / 4;
	for (size_t i = 0; i < n; i++)
		atomic_init(&q->slots[i].word, TAKEN);
	for (size_t k = 0; k < KEY_COUNT; k++)
		atomic_init(&q->park[k], EMPTY);
	return q;
}

void inq_free(struct inq *q)
{
	if (!q)
		return;
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	free(q->slots);
	free(q->last);
	free(q);
}

static void note_depth(struct inq *q, uint64_t depth)
{
	if (depth > atomic_load_explicit(&q->max_depth, memory_order_relaxed))
		atomic_store_explicit(&q->max_depth, (uint32_t)depth, memory_order_relaxed);
}

static void count(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

static uint64_t pack_slot(const struct slot *s, int64_t t, uint16_t value)
{
	uint64_t d = t > s->t ? (uint64_t)(t - s->t) : 0;
	if (d > DELTA_MAX)
		d = DELTA_MAX;
	return d << 16 | value;
}

/* Replaces the latest waiting value of key; false when it was taken or gone. */
static bool replace(struct inq *q, struct last *l, uint64_t head, int64_t t, uint16_t value)
{
	/* slot pos - 1 is rewritten only when position pos - 1 + cap is queued */
	if (!l->pos || head - (l->pos - 1) > q->cap)
		return false;
	struct slot *s = &q->slots[(l->pos - 1) & q->mask];
	uint64_t want = pack_slot(s, t, value);
	uint64_t expect = l->word;
	if (!atomic_compare_exchange_strong_explicit(&s->word, &expect, want, memory_order_acq_rel,
	                                             memory_order_relaxed)) {
		l->pos = 0; /* the consumer took it */
		return false;
	}
	l->word = want;
	return true;
}

/* Producer: wakes an armed consumer (once per arming). */
static void wake(struct inq *q)
{
	if (atomic_load_explicit(&q->armed, memory_order_seq_cst) &&
	    atomic_exchange_explicit(&q->armed, 0, memory_order_seq_cst)) {
		uint64_t one = 1;
		if (write(q->wake_fd, &one, sizeof one) < 0) {
			/* EAGAIN: the counter is already non-zero, the consumer will wake */
		}
	}
}

static void park(struct inq *q, uint16_t key, int64_t t, uint16_t value)
{
	uint64_t low = (uint64_t)t & LOW48;
	atomic_store_explicit(&q->latest_t, t, memory_order_relaxed);
	uint64_t old =
	    atomic_exchange_explicit(&q->park[key], low << 16 | value, memory_order_acq_rel);
	if (old != EMPTY)
		count(&q->coalesced); /* the consumer never saw the older one */
	atomic_fetch_or_explicit(&q->dirty[key / 64], UINT64_C(1) << (key % 64),
	                         memory_order_seq_cst);
	wake(q);
}

bool inq_push(struct inq *q, const struct midi_msg *m, int64_t t)
{
	count(&q->pushed);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	uint64_t used = head - atomic_load_explicit(&q->tail, memory_order_acquire);
	uint16_t key = key_of(m);

	if (key != KEY_NONE) {
		struct last *l = &q->last[key];
		if (l->epoch == q->epoch && replace(q, l, head, t, m->value)) {
			count(&q->coalesced);
			return true;
		}
		if (used >= q->ctl_limit) {
			if (replace(q, l, head, t, m->value))
				count(&q->coalesced);
			else {
				park(q, key, t, m->value);
				count(&q->deferred);
			}
			return true;
		}
		uint64_t bit = UINT64_C(1) << (key % 64);
		if (atomic_load_explicit(&q->dirty[key / 64], memory_order_relaxed) & bit) {
			/* a parked older value must not be delivered after this one */
			atomic_fetch_and_explicit(&q->dirty[key / 64], ~bit, memory_order_acq_rel);
			if (atomic_exchange_explicit(&q->park[key], EMPTY, memory_order_acq_rel) !=
			    EMPTY)
				count(&q->coalesced);
		}
		struct slot *s = &q->slots[head & q->mask];
		s->t = t;
		s->msg = *m;
		s->key = key;
		uint64_t w = pack_slot(s, t, m->value);
		atomic_store_explicit(&s->word, w, memory_order_relaxed);
		l->pos = head + 1;
		l->word = w;
		l->epoch = q->epoch;
	} else {
		bool note = m->kind == MIDI_NOTE_ON || m->kind == MIDI_NOTE_OFF;
		if (used >= (note ? q->cap : q->ctl_limit)) {
			count(note ? &q->dropped_notes : &q->dropped_other);
			return false;
		}
		struct slot *s = &q->slots[head & q->mask];
		s->t = t;
		s->msg = *m;
		s->key = KEY_NONE;
		q->epoch++;
	}
	atomic_store_explicit(&q->head, head + 1, memory_order_seq_cst);
	note_depth(q, used + 1);
	wake(q);
	return true;
}

static void put(struct engine_input *in, const struct midi_msg *m, int64_t t)
{
	memset(in, 0, sizeof *in);
	in->kind = INPUT_MIDI;
	in->t = t;
	in->u.midi = *m;
}

/* Emits parked controller values; returns how many went to out. */
static size_t drain_parked(struct inq *q, struct engine_input *out, size_t cap)
{
	size_t n = 0;
	for (unsigned w = 0; w < BITMAP_WORDS; w++) {
		if (!atomic_load_explicit(&q->dirty[w], memory_order_relaxed))
			continue;
		uint64_t bits = atomic_exchange_explicit(&q->dirty[w], 0, memory_order_acq_rel);
		while (bits) {
			if (n == cap) {
				/* no room: give the rest back for the next drain */
				atomic_fetch_or_explicit(&q->dirty[w], bits, memory_order_release);
				return n;
			}
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			uint16_t key = (uint16_t)(w * 64 + b);
			uint64_t p =
			    atomic_exchange_explicit(&q->park[key], EMPTY, memory_order_acq_rel);
			if (p == EMPTY)
				continue; /* superseded by a queued value */
			struct midi_msg m;
			msg_of_key(key, (uint16_t)(p & 0xFFFF), &m);
			/* full time: the latest parked time minus the 48-bit distance */
			int64_t ref = atomic_load_explicit(&q->latest_t, memory_order_relaxed);
			uint64_t back = ((uint64_t)ref - (p >> 16)) & LOW48;
			put(&out[n++], &m, ref - (int64_t)back);
		}
	}
	return n;
}

size_t inq_drain(struct inq *q, struct engine_input *out, size_t cap)
{
	size_t n = drain_parked(q, out, cap);
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	while (n < cap && tail != head) {
		struct slot *s = &q->slots[tail & q->mask];
		if (s->key != KEY_NONE) {
			uint64_t w =
			    atomic_exchange_explicit(&s->word, TAKEN, memory_order_acq_rel);
			struct midi_msg m = s->msg;
			m.value = (uint16_t)(w & 0xFFFF);
			put(&out[n++], &m, s->t + (int64_t)(w >> 16));
		} else {
			put(&out[n++], &s->msg, s->t);
		}
		tail++;
		atomic_store_explicit(&q->tail, tail, memory_order_release);
	}
	atomic_fetch_add_explicit(&q->delivered, n, memory_order_relaxed);
	return n;
}

bool inq_arm(struct inq *q)
{
	atomic_store_explicit(&q->armed, 1, memory_order_seq_cst);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_seq_cst);
	bool parked = false;
	for (unsigned w = 0; w < BITMAP_WORDS && !parked; w++)
		parked = atomic_load_explicit(&q->dirty[w], memory_order_seq_cst) != 0;
	if (head != atomic_load_explicit(&q->tail, memory_order_relaxed) || parked) {
		atomic_store_explicit(&q->armed, 0, memory_order_relaxed);
		return false;
	}
	return true;
}

void inq_disarm(struct inq *q)
{
	atomic_store_explicit(&q->armed, 0, memory_order_relaxed);
	uint64_t v;
	if (read(q->wake_fd, &v, sizeof v) < 0) {
		/* EAGAIN: nothing was written; the deadline woke us */
	}
}

int inq_wake_fd(const struct inq *q)
{
	return q->wake_fd;
}

void inq_get_stats(const struct inq *q, struct inq_stats *st)
{
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	st->pushed = atomic_load_explicit(&q->pushed, memory_order_relaxed);
	st->delivered = atomic_load_explicit(&q->delivered, memory_order_relaxed);
	st->coalesced = atomic_load_explicit(&q->coalesced, memory_order_relaxed);
	st->deferred = atomic_load_explicit(&q->deferred, memory_order_relaxed);
	st->dropped_notes = atomic_load_explicit(&q->dropped_notes, memory_order_relaxed);
	st->dropped_other = atomic_load_explicit(&q->dropped_other, memory_order_relaxed);
	st->depth = head >= tail ? (uint32_t)(head - tail) : 0;
	st->max_depth = atomic_load_explicit(&q->max_depth, memory_order_relaxed);
	st->cap = (uint32_t)q->cap;
}
