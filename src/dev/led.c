/*
 * led: the LED cue bus (see led.h for the contract).
 *
 * Worker side.  led_events() maps events to cues and queues them in a small
 * fixed array (LED_QUEUE_DEFAULT cues) in arrival order.  State cues
 * (a parameter, the mode, the palette, idle, a step) are coalesced: a newer
 * cue for the same parameter or step replaces the waiting one in place, so
 * only the latest value goes out.  Note cues keep their order and are never merged.  Then it
 * writes frames, one per 1/max_rate seconds at most (a minimum spacing, so
 * any one-second window holds at most max_rate frames), each with one
 * non-blocking write(): when the port refuses (EAGAIN) the cue stays queued;
 * a partial write keeps the frame's tail in a small buffer sent first next
 * time, so frames are never interleaved.  When the queue is full the oldest
 * state cue goes first, else the oldest note; every drop is counted.  While
 * the port is not open, note cues are dropped at once (counted): stale
 * flashes replayed after a reconnect would lie; state cues wait, so the
 * Teensy gets the current picture when it comes back.
 *
 * Reconnects.  The worker never opens or closes the port: open() of a tty
 * may sleep and close() may wait for the output to drain.  A small thread
 * per serial port does both (reopen.c, shared with the MIDI output).  It
 * publishes a freshly opened fd that the worker adopts; when a write fails
 * for good (EIO, ENODEV, ENXIO: unplugged), the worker hands the dead fd
 * back, wakes the thread and carries on dropping notes.  The thread closes
 * it and reopens the path on the devlink backoff schedule (50 ms doubling
 * to 2 s); a port lost sooner than the backoff's max after it opened does
 * not earn a fast retry.  UDP needs no reconnect: its socket is made once
 * by led_open().
 *
 * Threads: as led.h says; the reconnect thread is private to this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "dev/led.h"
#include "rt/log.h"
#include "rt/rtclock.h"
#include "dev/devspec.h"
#include "dev/reopen.h"

#define OUT_MAX (CUE_JSON_MAX > CUE_FRAME_MAX ? CUE_JSON_MAX : CUE_FRAME_MAX)
#define LED_CLOSED_POLL_NS NS_PER_SEC /* cues wait for a closed port: look again */

struct led;

struct led_ops {
	const char *name;
	/* Bytes of one cue on this transport (0: the cue cannot go out). */
	size_t (*encode)(const struct led *l, const struct cue *c, uint8_t *buf, size_t cap);
	/* Writes on fd: bytes written, or -1 with errno. */
	ssize_t (*send)(struct led *l, int fd, const uint8_t *buf, size_t n);
	/* Reconnect thread: opens the port (ctx: the led's struct
	 * reopen_serial); fd or -1 (why says why).  NULL: no reconnects. */
	int (*connect)(void *ctx, char *why, size_t cap);
	int stream; /* 1: a byte stream (partial writes); 0: datagrams */
};

struct led {
	const struct led_ops *ops;
	char path[1024];
	int baud;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int64_t period_ns;
	struct led_options opt;
	char names[2][LED_NAMES_MAX][ENGINE_NAME_MAX];
	const char *name_ptr[2][LED_NAMES_MAX + 1];

	/* the worker's own */
	int fd;
	struct cue *q;
	size_t qlen, qcap;
	uint8_t pend[OUT_MAX];
	size_t pend_off, pend_len;
	int64_t next_ok;
	int64_t last_now; /* now of the latest led_events() */

	/* the reconnect thread (serial), its link state and reconnects */
	struct reopen rc;
	struct reopen_serial dev; /* path and baud, for the thread */
	int rc_ready;

	_Atomic uint64_t cues, frames, coalesced, dropped_param, dropped_note, dropped_offline,
	    port_full, send_errors;
	_Atomic uint32_t queued;
};

const char *led_strerror(enum led_err e)
{
	static const char *const msg[LED_ERR_COUNT] = {
	    [LED_OK] = "no error",
	    [LED_ERR_SPEC] =
	        "bad LED transport (expected none, serial:PATH[@BAUD] or udp:HOST:PORT)",
	    [LED_ERR_RATE] = "LED max_rate must be 1..10000 frames per second",
	    [LED_ERR_RESOLVE] = "the LED UDP host does not resolve",
	    [LED_ERR_SOCKET] = "cannot create the LED UDP socket",
	    [LED_ERR_NOMEM] = "out of memory",
	    [LED_ERR_THREAD] = "cannot start the LED reconnect thread",
	};
	return (unsigned)e < LED_ERR_COUNT ? msg[e] : "unknown LED error";
}

static void bump(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* ---- transports ---- */

static size_t serial_encode(const struct led *l, const struct cue *c, uint8_t *buf, size_t cap)
{
	return cue_encode_frame(c, buf, cap);
}

static ssize_t fd_send(struct led *l, int fd, const uint8_t *buf, size_t n)
{
	return write(fd, buf, n);
}

static size_t udp_encode(const struct led *l, const struct cue *c, uint8_t *buf, size_t cap)
{
	return cue_format_json(c, l->name_ptr[0], l->name_ptr[1], (char *)buf, cap);
}

static ssize_t udp_send(struct led *l, int fd, const uint8_t *buf, size_t n)
{
	return sendto(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&l->addr,
	              l->addrlen);
}

static const struct led_ops serial_ops = {
    .name = "serial",
    .encode = serial_encode,
    .send = fd_send,
    .connect = reopen_serial_open,
    .stream = 1,
};

static const struct led_ops udp_ops = {
    .name = "udp",
    .encode = udp_encode,
    .send = udp_send,
    .connect = NULL,
    .stream = 0,
};

static const struct led_ops none_ops = {
    .name = "none",
};

/* Fills l's ops, path and baud, or host and port (devspec's grammar). */
static enum led_err parse_spec(const char *spec, struct led *l, char *host, size_t hcap, char *port,
                               size_t pcap)
{
	struct devspec *d = malloc(sizeof *d);
	enum led_err e = LED_ERR_SPEC;
	if (!d)
		return LED_ERR_NOMEM;
	if (devspec_parse(spec, d) == 0) {
		e = LED_OK;
		if (d->kind == DEVSPEC_NONE) {
			l->ops = &none_ops;
		} else if (d->kind == DEVSPEC_SERIAL && strlen(d->path) < sizeof l->path) {
			strcpy(l->path, d->path);
			l->baud = d->baud ? d->baud : LED_SERIAL_BAUD;
			l->ops = &serial_ops;
		} else if (d->kind == DEVSPEC_UDP && strlen(d->host) < hcap) {
			strcpy(host, d->host);
			snprintf(port, pcap, "%d", d->port);
			l->ops = &udp_ops;
		} else {
			e = LED_ERR_SPEC;
		}
	}
	free(d);
	return e;
}

/* ---- open / close ---- */

static void copy_names(struct led *l, int which, const char *const *names)
{
	int n = 0;
	for (; names && names[n] && n < LED_NAMES_MAX; n++) {
		snprintf(l->names[which][n], ENGINE_NAME_MAX, "%s", names[n]);
		l->name_ptr[which][n] = l->names[which][n];
	}
	l->name_ptr[which][n] = NULL;
}

void led_set_names(struct led *l, const char *const *mode_names, const char *const *palette_names)
{
	copy_names(l, 0, mode_names);
	copy_names(l, 1, palette_names);
}

static void led_free(struct led *l)
{
	if (l->rc_ready)
		l->fd = reopen_stop(&l->rc, l->fd);
	if (l->fd >= 0)
		close(l->fd);
	free(l->q);
	free(l);
}

struct led *led_open(const char *spec, int max_rate, const struct led_options *o, enum led_err *err)
{
	enum led_err dummy;
	if (!err)
		err = &dummy;
	struct led *l = calloc(1, sizeof *l);
	if (!l) {
		*err = LED_ERR_NOMEM;
		return NULL;
	}
	l->fd = -1;
	char host[256], port[8];
	*err = parse_spec(spec, l, host, sizeof host, port, sizeof port);
	if (*err == LED_OK && (max_rate < 1 || max_rate > LED_RATE_MAX))
		*err = LED_ERR_RATE;
	if (*err != LED_OK) {
		led_free(l);
		return NULL;
	}
	if (o)
		l->opt = *o;
	l->qcap = l->opt.queue_cap ? l->opt.queue_cap : LED_QUEUE_DEFAULT;
	l->q = calloc(l->qcap, sizeof *l->q);
	if (!l->q) {
		*err = LED_ERR_NOMEM;
		led_free(l);
		return NULL;
	}
	copy_names(l, 0, l->opt.mode_names);
	copy_names(l, 1, l->opt.palette_names);
	l->opt.mode_names = l->opt.palette_names = NULL;
	l->period_ns = (NS_PER_SEC + max_rate - 1) / max_rate;
	l->next_ok = INT64_MIN;

	if (l->ops == &none_ops) {
		atomic_store(&l->rc.state, LINK_OFF);
		return l;
	}
	if (l->ops == &udp_ops) {
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
		struct addrinfo *res = NULL;
		if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
			*err = LED_ERR_RESOLVE;
			led_free(l);
			return NULL;
		}
		memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
		l->addrlen = res->ai_addrlen;
		l->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		freeaddrinfo(res);
		if (l->fd < 0) {
			*err = LED_ERR_SOCKET;
			led_free(l);
			return NULL;
		}
		snprintf(l->path, sizeof l->path, "%s:%s", host, port);
		atomic_store(&l->rc.state, LINK_CONNECTED);
		return l;
	}
	char name[sizeof l->path + 16], opened[32];
	snprintf(name, sizeof name, "LED port %s", l->path);
	snprintf(opened, sizeof opened, " at %d baud", l->baud);
	l->dev = (struct reopen_serial){l->path, l->baud};
	struct reopen_options ro = {
	    .open = l->ops->connect,
	    .ctx = &l->dev,
	    .event = "led",
	    .thread = "LED",
	    .name = name,
	    .opened = opened,
	    .backoff_first_ns = l->opt.backoff_first_ns,
	    .backoff_max_ns = l->opt.backoff_max_ns,
	    .settle_ns = -1, /* a port that dies at once: no fast retry */
	};
	int rc = reopen_init(&l->rc, &ro);
	l->rc_ready = 1;
	if (rc != 0 || reopen_start(&l->rc, NULL, NULL) != 0) {
		*err = LED_ERR_THREAD;
		led_free(l);
		return NULL;
	}
	return l;
}

/* Writes all of buf within about timeout_ns (led_close only). */
static int write_all(struct led *l, int fd, const uint8_t *buf, size_t n, int64_t timeout_ns)
{
	int64_t end = rtclock_mono_ns() + timeout_ns;
	while (n > 0) {
		ssize_t w = l->ops->send(l, fd, buf, n);
		if (w > 0) {
			buf += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		int64_t left = end - rtclock_mono_ns();
		if (left <= 0)
			return -1;
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		poll(&pfd, 1, (int)(left / 1000000) + 1);
	}
	return 0;
}

void led_close(struct led *l)
{
	if (!l)
		return;
	if (l->rc_ready) {
		l->fd = reopen_stop(&l->rc, l->fd);
		l->rc_ready = 0;
	}
	if (l->fd >= 0 && l->ops->encode) {
		uint8_t buf[OUT_MAX];
		int ok = 0;
		if (l->pend_len > l->pend_off)
			ok = write_all(l, l->fd, l->pend + l->pend_off, l->pend_len - l->pend_off,
			               50 * NS_PER_MS);
		struct cue idle = {.kind = CUE_IDLE, .u.idle.on = 1};
		size_t n = l->ops->encode(l, &idle, buf, sizeof buf);
		if (ok == 0 && n > 0 && write_all(l, l->fd, buf, n, 100 * NS_PER_MS) == 0)
			bump(&l->frames);
	}
	led_free(l);
}

/* ---- the worker side ---- */

static int same_slot(const struct cue *a, const struct cue *b)
{
	if (a->kind != b->kind || a->kind == CUE_NOTE)
		return 0;
	if (a->kind == CUE_STEP)
		return a->u.step.step == b->u.step.step;
	return a->kind != CUE_PARAM || a->u.param.id == b->u.param.id;
}

static void remove_at(struct led *l, size_t i)
{
	memmove(&l->q[i], &l->q[i + 1], (l->qlen - i - 1) * sizeof *l->q);
	l->qlen--;
}

static void enqueue(struct led *l, const struct cue *c)
{
	bump(&l->cues);
	if (c->kind == CUE_NOTE && l->fd < 0) {
		bump(&l->dropped_offline);
		return;
	}
	for (size_t i = 0; i < l->qlen; i++)
		if (same_slot(&l->q[i], c)) {
			l->q[i] = *c;
			bump(&l->coalesced);
			return;
		}
	if (l->qlen == l->qcap) {
		size_t victim = 0;
		for (size_t i = 0; i < l->qlen; i++)
			if (l->q[i].kind != CUE_NOTE) {
				victim = i;
				break;
			}
		bump(l->q[victim].kind == CUE_NOTE ? &l->dropped_note : &l->dropped_param);
		remove_at(l, victim);
	}
	l->q[l->qlen++] = *c;
}

/* The port is gone: hand the fd to the reconnect thread. */
static void lose_port(struct led *l, int err)
{
	if (!l->ops->connect) {
		bump(&l->send_errors);
		return;
	}
	int fd = l->fd;
	l->fd = -1;
	l->pend_len = l->pend_off = 0;
	if (reopen_lost(&l->rc, fd) < 0)
		bump(&l->send_errors);
	/* note cues waiting for the dead port are stale now */
	for (size_t i = l->qlen; i-- > 0;)
		if (l->q[i].kind == CUE_NOTE) {
			remove_at(l, i);
			bump(&l->dropped_offline);
		}
	(void)err;
}

static int transient(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Finishes a partly written frame: 1 when done, 0 when the port is full. */
static int flush_pending(struct led *l)
{
	while (l->pend_off < l->pend_len) {
		ssize_t w =
		    l->ops->send(l, l->fd, l->pend + l->pend_off, l->pend_len - l->pend_off);
		if (w > 0) {
			l->pend_off += (size_t)w;
			continue;
		}
		if (w < 0 && !transient(errno))
			lose_port(l, errno);
		else
			bump(&l->port_full);
		return 0;
	}
	l->pend_off = l->pend_len = 0;
	return 1;
}

static void pump(struct led *l, int64_t now)
{
	if (l->fd < 0 || !flush_pending(l))
		return;
	while (l->qlen > 0 && now >= l->next_ok) {
		uint8_t buf[OUT_MAX];
		size_t n = l->ops->encode(l, &l->q[0], buf, sizeof buf);
		if (n == 0) { /* a cue the transport cannot express */
			remove_at(l, 0);
			continue;
		}
		ssize_t w = l->ops->send(l, l->fd, buf, n);
		if (w < 0) {
			if (transient(errno)) {
				bump(&l->port_full);
			} else if (l->ops->stream) {
				lose_port(l, errno);
			} else {
				/* a refused datagram (nobody listening): that cue is gone */
				bump(&l->send_errors);
				remove_at(l, 0);
				l->next_ok = now + l->period_ns;
				continue;
			}
			return;
		}
		remove_at(l, 0);
		bump(&l->frames);
		l->next_ok = now + l->period_ns;
		if ((size_t)w < n) {
			memcpy(l->pend, buf + w, n - (size_t)w);
			l->pend_off = 0;
			l->pend_len = n - (size_t)w;
			if (!flush_pending(l))
				return;
		}
	}
}

void led_events(struct led *l, const struct event *ev, size_t n, int64_t now)
{
	if (l->ops == &none_ops)
		return;
	if (l->fd < 0 && l->ops->connect) {
		int fd = reopen_adopt(&l->rc);
		if (fd >= 0) {
			l->fd = fd;
			l->pend_off = l->pend_len = 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct cue c;
		if (cue_from_event(&ev[i], &c))
			enqueue(l, &c);
	}
	pump(l, now);
	l->last_now = now;
	atomic_store_explicit(&l->queued, (uint32_t)l->qlen, memory_order_relaxed);
}

int64_t led_next_due(const struct led *l)
{
	if (l->ops == &none_ops || (l->qlen == 0 && l->pend_off >= l->pend_len))
		return INT64_MAX;
	/* a closed port: what waits leaves with the first call after it
	 * reopens; the reopen thread does not wake the worker, so it looks
	 * again every second while cues wait (a silent instrument's worker
	 * may otherwise sleep for a minute) */
	if (l->fd < 0 && atomic_load(&((struct led *)l)->rc.fresh_fd) < 0)
		return l->last_now + LED_CLOSED_POLL_NS;
	/* a frame waits for the rate limit, or for a full port: try again at
	 * the frame spacing */
	return l->next_ok > l->last_now ? l->next_ok : l->last_now + l->period_ns;
}

enum link_state led_state(const struct led *l)
{
	return (enum link_state)atomic_load(&((struct led *)l)->rc.state);
}

void led_get_stats(const struct led *cl, struct led_stats *st)
{
	struct led *l = (struct led *)cl;
	st->cues = atomic_load_explicit(&l->cues, memory_order_relaxed);
	st->frames = atomic_load_explicit(&l->frames, memory_order_relaxed);
	st->coalesced = atomic_load_explicit(&l->coalesced, memory_order_relaxed);
	st->dropped_param = atomic_load_explicit(&l->dropped_param, memory_order_relaxed);
	st->dropped_note = atomic_load_explicit(&l->dropped_note, memory_order_relaxed);
	st->dropped_offline = atomic_load_explicit(&l->dropped_offline, memory_order_relaxed);
	st->port_full = atomic_load_explicit(&l->port_full, memory_order_relaxed);
	st->send_errors = atomic_load_explicit(&l->send_errors, memory_order_relaxed);
	st->reconnects = atomic_load_explicit(&l->rc.reconnects, memory_order_relaxed);
	st->queued = atomic_load_explicit(&l->queued, memory_order_relaxed);
}
