/*
 * Tests of the coalescing input queue: order, the latest controller value,
 * room kept for notes, counted drops, and a two-thread flood.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt/inq.h"
#include "testlib.h"

static struct midi_msg cc(int ch, int num, int val)
{
	struct midi_msg m = {.kind = MIDI_CC,
	                     .channel = (uint8_t)ch,
	                     .number = (uint8_t)num,
	                     .value = (uint16_t)val};
	return m;
}

static struct midi_msg note(int on, int pitch, int vel)
{
	struct midi_msg m = {.kind = on ? MIDI_NOTE_ON : MIDI_NOTE_OFF,
	                     .channel = 1,
	                     .number = (uint8_t)pitch,
	                     .value = (uint16_t)vel};
	return m;
}

static int is(const struct engine_input *in, int kind, int num, int val)
{
	return in->kind == INPUT_MIDI && in->u.midi.kind == kind && in->u.midi.number == num &&
	       in->u.midi.value == val;
}

/* Messages come out in arrival order with their own arrival times. */
static void test_order_and_times(void)
{
	struct inq *q = inq_new(64);
	struct midi_msg a = note(1, 60, 100), b = cc(1, 7, 10), c = note(0, 60, 0);
	CU_ASSERT_TRUE(inq_push(q, &a, 1000));
	CU_ASSERT_TRUE(inq_push(q, &b, 2000));
	CU_ASSERT_TRUE(inq_push(q, &c, 3000));
	struct engine_input out[8];
	CU_ASSERT_EQUAL_FATAL(inq_drain(q, out, 8), 3);
	CU_ASSERT_TRUE(is(&out[0], MIDI_NOTE_ON, 60, 100));
	CU_ASSERT_TRUE(is(&out[1], MIDI_CC, 7, 10));
	CU_ASSERT_TRUE(is(&out[2], MIDI_NOTE_OFF, 60, 0));
	CU_ASSERT_EQUAL(out[0].t, 1000);
	CU_ASSERT_EQUAL(out[1].t, 2000);
	CU_ASSERT_EQUAL(out[2].t, 3000);
	CU_ASSERT_EQUAL(inq_drain(q, out, 8), 0);
	inq_free(q);
}

/* A knob swept while the worker is busy arrives once, at its last value. */
static void test_coalesce_latest_wins(void)
{
	struct inq *q = inq_new(64);
	for (int v = 0; v <= 127; v++) {
		struct midi_msg m = cc(1, 74, v);
		inq_push(q, &m, 1000 + v);
	}
	struct midi_msg bend = {.kind = MIDI_PITCH_BEND, .channel = 2, .value = 100};
	inq_push(q, &bend, 5000);
	bend.value = 16383;
	inq_push(q, &bend, 6000);
	struct engine_input out[8];
	CU_ASSERT_EQUAL_FATAL(inq_drain(q, out, 8), 2);
	CU_ASSERT_TRUE(is(&out[0], MIDI_CC, 74, 127));
	CU_ASSERT_EQUAL(out[0].t, 1000 + 127);
	CU_ASSERT_EQUAL(out[1].u.midi.kind, MIDI_PITCH_BEND);
	CU_ASSERT_EQUAL(out[1].u.midi.channel, 2);
	CU_ASSERT_EQUAL(out[1].u.midi.value, 16383);
	CU_ASSERT_EQUAL(out[1].t, 6000);
	struct inq_stats st;
	inq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.coalesced, 127 + 1);
	CU_ASSERT_EQUAL(st.pushed, 130);
	CU_ASSERT_EQUAL(st.delivered, 2);
	inq_free(q);
}

/* A value never jumps over a note: CC, note, CC stays three inputs in order. */
static void test_no_coalescing_across_notes(void)
{
	struct inq *q = inq_new(64);
	struct midi_msg c1 = cc(1, 1, 10), n = note(1, 60, 90), c2 = cc(1, 1, 20);
	inq_push(q, &c1, 1);
	inq_push(q, &n, 2);
	inq_push(q, &c2, 3);
	struct engine_input out[8];
	CU_ASSERT_EQUAL_FATAL(inq_drain(q, out, 8), 3);
	CU_ASSERT_TRUE(is(&out[0], MIDI_CC, 1, 10));
	CU_ASSERT_TRUE(is(&out[1], MIDI_NOTE_ON, 60, 90));
	CU_ASSERT_TRUE(is(&out[2], MIDI_CC, 1, 20));
	inq_free(q);
}

/* Once the worker took a value, the next one is a new input. */
static void test_taken_value_not_changed(void)
{
	struct inq *q = inq_new(16);
	struct midi_msg m = cc(3, 5, 1);
	inq_push(q, &m, 1);
	struct engine_input out[4];
	CU_ASSERT_EQUAL(inq_drain(q, out, 4), 1);
	m.value = 2;
	inq_push(q, &m, 2);
	CU_ASSERT_EQUAL_FATAL(inq_drain(q, out, 4), 1);
	CU_ASSERT_TRUE(is(&out[0], MIDI_CC, 5, 2));
	CU_ASSERT_EQUAL(out[0].u.midi.channel, 3);
	inq_free(q);
}

/*
 * A controller flood with the worker stalled: memory stays the ring, every
 * note (up to the room kept for them) survives in order, and every
 * controller ends at its last value; nothing is lost silently.
 */
static void test_flood_keeps_notes_and_last_values(void)
{
	struct inq *q = inq_new(64);
	int last[40];
	int notes = 0;
	srand(7);
	for (int i = 0; i < 4000; i++) {
		if (i % 250 == 0) {
			struct midi_msg n = note(1, 40 + notes, 100);
			CU_ASSERT_TRUE(inq_push(q, &n, i));
			notes++;
			continue;
		}
		int k = rand() % 40;
		last[k] = rand() % 128;
		struct midi_msg m = cc(1 + k / 20, k % 20, last[k]);
		CU_ASSERT_TRUE(inq_push(q, &m, i));
	}
	for (int k = 0; k < 40; k++) { /* make sure each was touched */
		last[k] = k;
		struct midi_msg m = cc(1 + k / 20, k % 20, k);
		inq_push(q, &m, 5000 + k);
	}
	struct inq_stats st;
	inq_get_stats(q, &st);
	CU_ASSERT_TRUE(st.max_depth <= st.cap);
	CU_ASSERT_EQUAL(st.dropped_notes, 0);
	CU_ASSERT_EQUAL(st.dropped_other, 0);

	struct engine_input out[200];
	size_t n = inq_drain(q, out, 200);
	CU_ASSERT_TRUE(n <= 64 + 40);
	int seen[40] = {0}, val[40];
	int next_note = 40;
	for (size_t i = 0; i < n; i++) {
		const struct midi_msg *m = &out[i].u.midi;
		if (m->kind == MIDI_NOTE_ON) {
			CU_ASSERT_EQUAL(m->number, next_note);
			next_note++;
		} else {
			CU_ASSERT_EQUAL_FATAL(m->kind, MIDI_CC);
			int k = (m->channel - 1) * 20 + m->number;
			seen[k] = 1;
			val[k] = m->value;
		}
	}
	CU_ASSERT_EQUAL(next_note, 40 + notes);
	for (int k = 0; k < 40; k++) {
		CU_ASSERT_TRUE(seen[k]);
		CU_ASSERT_EQUAL(val[k], last[k]);
	}
	inq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.pushed, 4000 + 40);
	CU_ASSERT_EQUAL(st.delivered, n);
	inq_free(q);
}

/* When the ring is full, notes are dropped and counted; others stop earlier. */
static void test_full_drops_counted(void)
{
	struct inq *q = inq_new(16);
	int ok = 0;
	for (int i = 0; i < 20; i++) {
		struct midi_msg m = note(1, i, 1);
		ok += inq_push(q, &m, i);
	}
	CU_ASSERT_EQUAL(ok, 16);
	struct inq_stats st;
	inq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.dropped_notes, 4);
	struct engine_input out[32];
	CU_ASSERT_EQUAL(inq_drain(q, out, 32), 16);
	CU_ASSERT_EQUAL(out[15].u.midi.number, 15);

	/* program changes may not take the room kept for notes */
	ok = 0;
	for (int i = 0; i < 20; i++) {
		struct midi_msg m = {.kind = MIDI_PROGRAM, .channel = 1, .value = (uint16_t)i};
		ok += inq_push(q, &m, i);
	}
	CU_ASSERT_EQUAL(ok, 12);
	struct midi_msg n = note(1, 99, 1);
	CU_ASSERT_TRUE(inq_push(q, &n, 100));
	inq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.dropped_other, 8);
	inq_free(q);
}

/*
 * Overload: controllers with no room park their value, which is never lost
 * and never overtaken by an older one.
 */
static void test_park_when_full(void)
{
	struct inq *q = inq_new(16); /* 12 entries for controllers */
	for (int k = 0; k < 12; k++) {
		struct midi_msg m = cc(1, k, 1);
		inq_push(q, &m, k);
	}
	struct midi_msg p = cc(1, 50, 7);
	CU_ASSERT_TRUE(inq_push(q, &p, 100000));
	p.value = 9;
	CU_ASSERT_TRUE(inq_push(q, &p, 200000));
	struct inq_stats st;
	inq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.deferred, 2);
	CU_ASSERT_EQUAL(st.coalesced, 1);
	CU_ASSERT_EQUAL(st.depth, 12);

	/* a full ring still takes a controller already waiting: latest wins */
	struct midi_msg n = note(1, 60, 1);
	inq_push(q, &n, 300);
	struct midi_msg c0 = cc(1, 0, 99);
	inq_push(q, &c0, 400);

	struct engine_input out[32];
	size_t got = inq_drain(q, out, 32);
	CU_ASSERT_EQUAL_FATAL(got, 14);
	CU_ASSERT_TRUE(is(&out[0], MIDI_CC, 50, 9));
	CU_ASSERT_EQUAL(out[0].t, 200000);
	CU_ASSERT_TRUE(is(&out[1], MIDI_CC, 0, 99));
	CU_ASSERT_TRUE(is(&out[13], MIDI_NOTE_ON, 60, 1));

	/* room again: the next value queues normally and is the last one */
	p.value = 4;
	inq_push(q, &p, 700000);
	CU_ASSERT_EQUAL_FATAL(inq_drain(q, out, 32), 1);
	CU_ASSERT_TRUE(is(&out[0], MIDI_CC, 50, 4));
	CU_ASSERT_EQUAL(out[0].t, 700000);
	inq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.dropped_notes + st.dropped_other, 0);
	inq_free(q);
}

/* Two threads: a producer floods, a consumer drains with pauses. */
struct flood {
	struct inq *q;
	int total, notes_sent;
	int last[64];
	_Atomic int finished;
};

static void *producer(void *arg)
{
	struct flood *f = arg;
	unsigned s = 12345;
	for (int i = 0; i < f->total; i++) {
		s = s * 1103515245u + 12345u;
		struct midi_msg m;
		if (i % 97 == 0) {
			m = note(1, f->notes_sent % 128, 1 + f->notes_sent / 128 % 127);
			f->notes_sent++;
		} else {
			int k = (int)(s >> 16) % 64;
			f->last[k] = (int)(s >> 8) % 128;
			m = cc(1 + k / 32, k % 32, f->last[k]);
		}
		inq_push(f->q, &m, i);
	}
	atomic_store(&f->finished, 1);
	return NULL;
}

static void test_two_thread_flood(void)
{
	struct flood *f = calloc(1, sizeof *f);
	f->q = inq_new(64); /* small: the consumer's pauses overflow it */
	f->total = 300000;
	for (int k = 0; k < 64; k++)
		f->last[k] = -1;
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, producer, f), 0);
	struct engine_input out[64];
	int val[64], notes = 0, got_notes = 0, in_order = 1, done = 0;
	int64_t last_t = -1, vt[64];
	for (int k = 0; k < 64; k++)
		val[k] = -1, vt[k] = 0;
	for (long round = 0;; round++) {
		size_t n = inq_drain(f->q, out, 64);
		for (size_t i = 0; i < n; i++) {
			const struct midi_msg *m = &out[i].u.midi;
			if (m->kind == MIDI_NOTE_ON) {
				int id = (m->value - 1) * 128 + m->number;
				if (id < notes || out[i].t < last_t)
					in_order = 0;
				notes = id + 1;
				got_notes++;
				last_t = out[i].t;
			} else {
				/* a controller's values never go back in time */
				int k = (m->channel - 1) * 32 + m->number;
				if (val[k] >= 0 && out[i].t < vt[k])
					in_order = 0;
				val[k] = m->value;
				vt[k] = out[i].t;
			}
		}
		if (round % 64 == 0) {
			struct timespec ts = {0, 200000};
			nanosleep(&ts, NULL);
		}
		if (n == 0 && done)
			break;
		if (n == 0)
			done = atomic_load(&f->finished);
	}
	pthread_join(th, NULL);
	struct inq_stats st;
	inq_get_stats(f->q, &st);
	/* notes keep their order; a note is only ever lost to a full ring of notes */
	CU_ASSERT_TRUE(in_order);
	CU_ASSERT_EQUAL(got_notes + (int)st.dropped_notes, f->notes_sent);
	CU_ASSERT_EQUAL(st.dropped_other, 0);
	CU_ASSERT_TRUE(st.max_depth <= st.cap);
	CU_ASSERT_EQUAL(st.delivered + st.coalesced + st.dropped_notes, st.pushed);
	for (int k = 0; k < 64; k++)
		CU_ASSERT_EQUAL(val[k], f->last[k]);
	inq_free(f->q);
	free(f);
}

/* The worker can sleep until its deadline or the next message, lock-free. */
static void *push_later(void *arg)
{
	struct timespec ts = {0, 20000000};
	nanosleep(&ts, NULL);
	struct midi_msg m = note(1, 64, 1);
	inq_push(arg, &m, 1);
	return NULL;
}

static void test_wake_on_push(void)
{
	struct inq *q = inq_new(16);
	struct pollfd p = {.fd = inq_wake_fd(q), .events = POLLIN};
	CU_ASSERT_TRUE_FATAL(inq_arm(q));
	CU_ASSERT_EQUAL(poll(&p, 1, 0), 0); /* nothing yet */
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, push_later, q), 0);
	CU_ASSERT_EQUAL(poll(&p, 1, 5000), 1); /* woken by the push, not the timeout */
	inq_disarm(q);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(poll(&p, 1, 0), 0); /* disarm consumed the wake-up */
	/* messages already waiting: do not sleep */
	CU_ASSERT_FALSE(inq_arm(q));
	struct engine_input out[4];
	CU_ASSERT_EQUAL(inq_drain(q, out, 4), 1);
	CU_ASSERT_TRUE(inq_arm(q));
	inq_disarm(q);
	/* unarmed pushes cost no wake-up */
	struct midi_msg m = cc(1, 1, 1);
	inq_push(q, &m, 2);
	CU_ASSERT_EQUAL(poll(&p, 1, 0), 0);
	inq_free(q);
}

static void test_new_rounds_capacity(void)
{
	struct inq *q = inq_new(100);
	struct inq_stats st;
	inq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.cap, 128);
	inq_free(q);
	q = inq_new(0);
	inq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.cap, 16);
	inq_free(q);
	inq_free(NULL);
}

TEST_SUITE(inq, NULL, NULL, TEST_CASE(test_order_and_times), TEST_CASE(test_coalesce_latest_wins),
           TEST_CASE(test_no_coalescing_across_notes), TEST_CASE(test_taken_value_not_changed),
           TEST_CASE(test_flood_keeps_notes_and_last_values), TEST_CASE(test_full_drops_counted),
           TEST_CASE(test_park_when_full), TEST_CASE(test_two_thread_flood),
           TEST_CASE(test_wake_on_push), TEST_CASE(test_new_rounds_capacity))
