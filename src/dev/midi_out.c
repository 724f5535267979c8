/*
 * midi_out: the MIDI output port (see midi_out.h for the contract).
 *
 * Worker side.  Messages wait in a binary min-heap ordered by (time, order
 * sent), fixed at MIDI_OUT_QUEUE entries.  midi_out_pump() pops every
 * message due at `now` into one buffer and writes it with one non-blocking
 * write(); a partial write keeps the tail, sent first next time, so
 * messages never interleave; EAGAIN keeps the messages for the next call.
 * While the port is not open, due messages are dropped and counted: a
 * stale clock pulse or note replayed after a reconnect would lie.  The
 * lateness of every message written (write time minus due time) goes into a
 * histogram.
 *
 * Reopening is the LED port's (reopen.c, shared with led.c): the worker
 * never opens or closes the device (open() of a tty may sleep, close() may
 * drain).  A small thread opens the path and publishes the fd the worker
 * adopts; when a write fails for good (EIO, ENXIO: unplugged) the worker
 * hands the fd back and wakes the thread; it closes it and reopens on the
 * devlink backoff schedule, from its first delay after every loss.
 *
 * PortMidi ports (portmidi:NAME).  PortMidi is not thread-safe and its
 * calls may wait (the session's mutex, a rescan of a few milliseconds), so
 * the worker never calls it: the schedule stays the worker's, and what
 * midi_out_pump() finds due goes, with its due time, into a single-producer
 * ring, and one eventfd write wakes the port's own thread, which sends each
 * message at once (Pm_WriteShort, PortMidi latency 0: no timestamps, ALSA
 * direct delivery) through the process's PortMidi session (midi_pm.c) and
 * records its lateness after the call returned.  That thread (its wake-up,
 * link state and counters are reopen.c's) also opens the device by name
 * and reopens it on the backoff schedule when it is gone;
 * messages due while it is away are dropped and counted, as for raw ports.
 * The hop costs one thread wake-up per pump: the raw port of the same
 * interface (its rawmidi node) stays the precise choice.
 *
 * Threads: as midi_out.h says.
 */
#include "dev/midi_out.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt/log.h"
#include "dev/midi_pm.h"
#include "rt/ring.h"
#include "rt/rtclock.h"
#include "dev/devspec.h"
#include "dev/reopen.h"

#define OUT_BUF 1024 /* bytes one pump writes at most */

struct msg {
	int64_t t;
	uint64_t order;
	uint8_t n, b[3];
};

struct midi_out {
	bool none;
	bool pm; /* portmidi:NAME (path holds NAME) */
	char path[1024];
	int baud;
	struct midi_out_options opt;

	/* the worker's own */
	int fd;
	struct msg *heap;
	size_t len;
	uint64_t order;
	uint64_t generation;
	uint8_t pend[OUT_BUF];
	size_t pend_off, pend_len;
	uint64_t opens_seen; /* portmidi: the thread's openings adopted */

	/* portmidi: due messages from the worker to the port's thread */
	struct ring *ring;
	_Atomic uint64_t opens;

	/* the reopen thread (or the portmidi port's), its link state, attempts
	 * and reconnects */
	struct reopen rc;
	struct reopen_serial dev; /* raw: path and baud, for the thread */
	int rc_ready;

	_Atomic uint64_t messages, bytes, dropped_offline, dropped_full, port_full;
	_Atomic uint32_t queued;
	struct hist lateness;
};

const char *midi_out_strerror(enum midi_out_err e)
{
	static const char *const msg[MIDI_OUT_ERR_COUNT] = {
	    [MIDI_OUT_OK] = "no error",
	    [MIDI_OUT_ERR_SPEC] =
	        "bad MIDI output (expected none, portmidi:NAME or raw:PATH[@BAUD])",
	    [MIDI_OUT_ERR_NOMEM] = "out of memory",
	    [MIDI_OUT_ERR_THREAD] = "cannot start the MIDI output thread",
	};
	return (unsigned)e < MIDI_OUT_ERR_COUNT ? msg[e] : "unknown MIDI output error";
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Fills mo's path and baud from spec (devspec's grammar: none, portmidi or
 * raw). */
static enum midi_out_err parse_spec(const char *spec, struct midi_out *mo)
{
	struct devspec *d = malloc(sizeof *d);
	enum midi_out_err e = MIDI_OUT_ERR_SPEC;
	if (!d)
		return MIDI_OUT_ERR_NOMEM;
	if (devspec_parse(spec, d) == 0 && strlen(d->path) < sizeof mo->path) {
		switch (d->kind) {
		case DEVSPEC_NONE:
			mo->none = true;
			e = MIDI_OUT_OK;
			break;
		case DEVSPEC_PORTMIDI:
			if (strlen(d->path) < MIDI_PM_NAME_MAX) {
				strcpy(mo->path, d->path);
				mo->pm = true;
				e = MIDI_OUT_OK;
			}
			break;
		case DEVSPEC_RAW:
			strcpy(mo->path, d->path);
			mo->baud = d->baud ? d->baud : MIDI_OUT_RAW_BAUD;
			e = MIDI_OUT_OK;
			break;
		default:
			break;
		}
	}
	free(d);
	return e;
}

enum midi_out_err midi_out_check_spec(const char *spec)
{
	struct midi_out *mo = calloc(1, sizeof *mo);
	if (!mo)
		return MIDI_OUT_ERR_NOMEM;
	enum midi_out_err e = parse_spec(spec, mo);
	free(mo);
	return e;
}

/* ---- the portmidi port's thread ---- */

/* The port's own thread for portmidi: opens the device by name, sends what
 * the worker found due, reopens it when it is gone. */
static void *pm_thread(void *arg)
{
	struct midi_out *mo = arg;
	struct reopen *r = &mo->rc;
	struct devlink_backoff b;
	devlink_backoff_init(&b, mo->opt.backoff_first_ns, mo->opt.backoff_max_ns);
	char why[256], last_why[256] = "";
	struct midi_pm_port *port = NULL;
	struct msg m;

	for (;;) {
		if (!port) {
			/* what came due while the device was away is stale */
			while (ring_pop(mo->ring, &m))
				add(&mo->dropped_offline, 1);
			if (atomic_load(&r->stop))
				break;
			char name[MIDI_PM_NAME_MAX];
			why[0] = '\0';
			add(&r->attempts, 1);
			port = midi_pm_open(true, mo->path, name, sizeof name, why, sizeof why);
			if (port) {
				if (atomic_fetch_add(&mo->opens, 1) > 0)
					add(&r->reconnects, 1);
				last_why[0] = '\0';
				devlink_backoff_reset(&b);
				atomic_store(&r->state, LINK_CONNECTED);
				log_info("midi_out_connected",
				         "MIDI output portmidi:%s: connected to %s", mo->path,
				         name);
				continue;
			}
			if (strcmp(why, last_why) != 0) {
				log_warn("midi_out_waiting",
				         "MIDI output portmidi:%s: %s; retrying up to every %.3g s",
				         mo->path, why, (double)b.max_ns / 1e9);
				snprintf(last_why, sizeof last_why, "%s", why);
			}
			if (reopen_wait(r, devlink_backoff_next(&b)))
				break;
			continue;
		}
		while (port && ring_pop(mo->ring, &m)) {
			if (midi_pm_write(port, m.b, m.n, why, sizeof why) != 0) {
				add(&mo->dropped_offline, 1);
				midi_pm_close(port);
				port = NULL;
				atomic_store(&r->state, LINK_RECONNECTING);
				log_warn("midi_out_lost",
				         "MIDI output portmidi:%s lost (%s), reopening", mo->path,
				         why);
				break;
			}
			hist_add(&mo->lateness, rtclock_mono_ns() - m.t);
			add(&mo->messages, 1);
			add(&mo->bytes, m.n);
		}
		if (!port) {
			if (reopen_wait(r, devlink_backoff_next(&b)))
				break;
			continue;
		}
		if (atomic_load(&r->stop))
			break;
		reopen_wait(r, -1); /* the worker's doorbell, or a stop */
	}
	midi_pm_close(port);
	return NULL;
}

/* ---- open / close ---- */

static void mo_free(struct midi_out *mo)
{
	if (mo->rc_ready)
		mo->fd = reopen_stop(&mo->rc, mo->fd);
	if (mo->fd >= 0)
		close(mo->fd);
	free(mo->heap);
	ring_free(mo->ring);
	free(mo);
}

struct midi_out *midi_out_open(const char *spec, const struct midi_out_options *o,
                               enum midi_out_err *err)
{
	enum midi_out_err dummy;
	if (!err)
		err = &dummy;
	struct midi_out *mo = calloc(1, sizeof *mo);
	if (!mo) {
		*err = MIDI_OUT_ERR_NOMEM;
		return NULL;
	}
	mo->fd = -1;
	hist_init(&mo->lateness);
	*err = parse_spec(spec, mo);
	if (*err != MIDI_OUT_OK) {
		mo_free(mo);
		return NULL;
	}
	if (o)
		mo->opt = *o;
	mo->heap = calloc(MIDI_OUT_QUEUE, sizeof *mo->heap);
	if (!mo->heap) {
		*err = MIDI_OUT_ERR_NOMEM;
		mo_free(mo);
		return NULL;
	}
	if (mo->none) {
		atomic_store(&mo->rc.state, LINK_OFF);
		return mo;
	}
	if (mo->pm && !(mo->ring = ring_new(MIDI_OUT_QUEUE, sizeof(struct msg)))) {
		*err = MIDI_OUT_ERR_NOMEM;
		mo_free(mo);
		return NULL;
	}
	char name[sizeof mo->path + 16];
	snprintf(name, sizeof name, "MIDI output %s", mo->path);
	mo->dev = (struct reopen_serial){mo->path, mo->baud};
	struct reopen_options ro = {
	    .open = reopen_serial_open,
	    .ctx = &mo->dev,
	    .event = "midi_out",
	    .thread = "MIDI output",
	    .name = name,
	    .backoff_first_ns = mo->opt.backoff_first_ns,
	    .backoff_max_ns = mo->opt.backoff_max_ns,
	    .settle_ns = 0, /* every loss retries first fast */
	};
	int rc = reopen_init(&mo->rc, &ro);
	mo->rc_ready = 1;
	if (rc != 0 || reopen_start(&mo->rc, mo->pm ? pm_thread : NULL, mo) != 0) {
		*err = MIDI_OUT_ERR_THREAD;
		mo_free(mo);
		return NULL;
	}
	return mo;
}

/* ---- the schedule ---- */

static bool before(const struct msg *a, const struct msg *b)
{
	return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void sift_up(struct msg *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&h[i], &h[p]))
			break;
		struct msg x = h[i];
		h[i] = h[p];
		h[p] = x;
		i = p;
	}
}

static void sift_down(struct msg *h, size_t len, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < len && before(&h[l], &h[m]))
			m = l;
		if (r < len && before(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		struct msg x = h[i];
		h[i] = h[m];
		h[m] = x;
		i = m;
	}
}

static struct msg pop(struct midi_out *mo)
{
	struct msg top = mo->heap[0];
	mo->heap[0] = mo->heap[--mo->len];
	sift_down(mo->heap, mo->len, 0);
	return top;
}

bool midi_out_send(struct midi_out *mo, int64_t t_mono, const uint8_t *msg, size_t n)
{
	if (mo->none || n < 1 || n > 3)
		return true;
	bool ok = true;
	if (mo->len == MIDI_OUT_QUEUE) {
		pop(mo); /* the earliest: it is the most overdue */
		add(&mo->dropped_full, 1);
		ok = false;
	}
	struct msg *m = &mo->heap[mo->len];
	m->t = t_mono;
	m->order = mo->order++;
	m->n = (uint8_t)n;
	memcpy(m->b, msg, n);
	sift_up(mo->heap, mo->len++);
	atomic_store_explicit(&mo->queued, (uint32_t)mo->len, memory_order_relaxed);
	return ok;
}

size_t midi_out_cancel(struct midi_out *mo, uint8_t status, uint8_t mask, int data1, int64_t from)
{
	size_t kept = 0, gone = 0;
	for (size_t i = 0; i < mo->len; i++) {
		const struct msg *m = &mo->heap[i];
		if (m->t >= from && (m->b[0] & mask) == (status & mask) &&
		    (data1 < 0 || (m->n > 1 && m->b[1] == data1))) {
			gone++;
			continue;
		}
		mo->heap[kept++] = *m;
	}
	mo->len = kept;
	if (gone) /* make the heap again, bottom up */
		for (size_t i = kept / 2; i-- > 0;)
			sift_down(mo->heap, kept, i);
	atomic_store_explicit(&mo->queued, (uint32_t)mo->len, memory_order_relaxed);
	return gone;
}

int64_t midi_out_next_due(const struct midi_out *mo)
{
	return mo->len ? mo->heap[0].t : INT64_MAX;
}

uint64_t midi_out_generation(const struct midi_out *mo)
{
	return mo->generation;
}

/* The port is gone: hand the fd to the reopen thread. */
static void lose_port(struct midi_out *mo)
{
	int fd = mo->fd;
	mo->fd = -1;
	mo->pend_len = mo->pend_off = 0;
	if (reopen_lost(&mo->rc, fd) < 0)
		log_warn("midi_out_wake", "cannot wake the MIDI output thread");
}

/* Writes the pending bytes: 1 when all are out, 0 when the port is full. */
static int flush(struct midi_out *mo)
{
	while (mo->pend_off < mo->pend_len) {
		ssize_t w = write(mo->fd, mo->pend + mo->pend_off, mo->pend_len - mo->pend_off);
		if (w > 0) {
			mo->pend_off += (size_t)w;
			add(&mo->bytes, (uint64_t)w);
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			add(&mo->port_full, 1);
			return 0;
		}
		lose_port(mo);
		return 0;
	}
	mo->pend_off = mo->pend_len = 0;
	return 1;
}

/* Worker: hands what is due to the portmidi port's thread. */
static void pump_pm(struct midi_out *mo, int64_t now)
{
	uint64_t opens = atomic_load_explicit(&mo->opens, memory_order_acquire);
	if (opens != mo->opens_seen) {
		mo->opens_seen = opens;
		mo->generation++;
	}
	bool up = atomic_load(&mo->rc.state) == LINK_CONNECTED;
	int64_t at = rtclock_mono_ns();
	if (at < now)
		at = now;
	size_t n = 0;
	while (mo->len && mo->heap[0].t <= at) {
		struct msg m = pop(mo);
		if (!up)
			add(&mo->dropped_offline, 1);
		else if (!ring_push(mo->ring, &m))
			add(&mo->dropped_full, 1); /* the port's thread is stuck */
		else
			n++;
	}
	if (n && reopen_wake(&mo->rc) < 0) {
		/* EAGAIN: the counter is full, the thread is awake anyway */
	}
	atomic_store_explicit(&mo->queued, (uint32_t)mo->len, memory_order_relaxed);
}

void midi_out_pump(struct midi_out *mo, int64_t now)
{
	if (mo->none)
		return;
	if (mo->pm) {
		pump_pm(mo, now);
		return;
	}
	if (mo->fd < 0) {
		int fd = reopen_adopt(&mo->rc);
		if (fd >= 0) {
			mo->fd = fd;
			mo->pend_off = mo->pend_len = 0;
			mo->generation++;
		}
	}
	if (mo->fd < 0) {
		while (mo->len && mo->heap[0].t <= now) {
			pop(mo);
			add(&mo->dropped_offline, 1);
		}
	} else if (flush(mo)) {
		/* the time of the write itself: what became due while the worker
		 * worked goes out too, and the lateness counts that work */
		int64_t at = rtclock_mono_ns();
		if (at < now)
			at = now;
		size_t n_msg = 0;
		while (mo->len && mo->heap[0].t <= at && mo->pend_len + 3 <= OUT_BUF) {
			struct msg m = pop(mo);
			memcpy(mo->pend + mo->pend_len, m.b, m.n);
			mo->pend_len += m.n;
			n_msg++;
			hist_add(&mo->lateness, at - m.t);
		}
		if (n_msg) {
			add(&mo->messages, n_msg);
			flush(mo);
		}
	}
	atomic_store_explicit(&mo->queued, (uint32_t)mo->len, memory_order_relaxed);
}

/* portmidi: what waits goes to the thread within 100 ms, then it stops. */
static void close_pm(struct midi_out *mo)
{
	int64_t end = rtclock_mono_ns() + 100 * INT64_C(1000000);
	while (mo->len && atomic_load(&mo->rc.state) == LINK_CONNECTED) {
		int64_t now = rtclock_mono_ns();
		if (now >= end)
			break;
		int64_t due = midi_out_next_due(mo);
		if (due > now) {
			int64_t until = due < end ? due : end;
			struct timespec ts = rtclock_timespec(until - now);
			nanosleep(&ts, NULL);
			continue;
		}
		midi_out_pump(mo, now);
	}
	/* the thread sends what the ring holds first */
	mo->fd = reopen_stop(&mo->rc, mo->fd);
	mo->rc_ready = 0;
	mo_free(mo);
}

void midi_out_close(struct midi_out *mo)
{
	if (!mo)
		return;
	if (mo->pm && mo->rc_ready) {
		close_pm(mo);
		return;
	}
	if (mo->rc_ready) {
		mo->fd = reopen_stop(&mo->rc, mo->fd);
		mo->rc_ready = 0;
	}
	/* what waits (the last note-offs, all notes off) goes out within 100 ms */
	int64_t end = rtclock_mono_ns() + 100 * INT64_C(1000000);
	while (mo->fd >= 0 && (mo->len || mo->pend_len > mo->pend_off)) {
		int64_t now = rtclock_mono_ns();
		if (now >= end)
			break;
		int64_t due = midi_out_next_due(mo);
		int64_t until = due < end ? due : end;
		if (mo->pend_len > mo->pend_off || until <= now) {
			midi_out_pump(mo, now);
			if (mo->pend_len > mo->pend_off) {
				struct pollfd pfd = {.fd = mo->fd, .events = POLLOUT};
				poll(&pfd, 1, 5);
			}
			continue;
		}
		struct timespec ts = {.tv_sec = (until - now) / 1000000000,
		                      .tv_nsec = (until - now) % 1000000000};
		nanosleep(&ts, NULL);
	}
	mo_free(mo);
}

enum link_state midi_out_state(const struct midi_out *mo)
{
	return (enum link_state)atomic_load(&((struct midi_out *)mo)->rc.state);
}

void midi_out_get_stats(const struct midi_out *cmo, struct midi_out_stats *st)
{
	struct midi_out *mo = (struct midi_out *)cmo;
	st->messages = atomic_load_explicit(&mo->messages, memory_order_relaxed);
	st->bytes = atomic_load_explicit(&mo->bytes, memory_order_relaxed);
	st->dropped_offline = atomic_load_explicit(&mo->dropped_offline, memory_order_relaxed);
	st->dropped_full = atomic_load_explicit(&mo->dropped_full, memory_order_relaxed);
	st->port_full = atomic_load_explicit(&mo->port_full, memory_order_relaxed);
	st->reconnects = atomic_load_explicit(&mo->rc.reconnects, memory_order_relaxed);
	st->attempts = atomic_load_explicit(&mo->rc.attempts, memory_order_relaxed);
	st->queued = atomic_load_explicit(&mo->queued, memory_order_relaxed);
}

struct hist *midi_out_lateness(struct midi_out *mo)
{
	return &mo->lateness;
}
