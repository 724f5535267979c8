/*
 * midi_in: the MIDI input thread and its life cycle.
 *
 * The thread loops: try to open the input (through its ops table: raw,
 * portmidi); when connected, run it until the device is lost; then wait the
 * next backoff delay (50 ms doubling to 2 s by default) and try again, by
 * name or path, forever.  Each read's bytes are parsed (core/midi_parse)
 * and every message, stamped with CLOCK_MONOTONIC right after the read
 * returned, goes into the inq; the worker never waits on this thread.
 * Active sensing, reset, SysEx and system common are counted and not
 * forwarded.  The link state and every counter are atomics; a stop is an
 * eventfd that wakes any wait at once.
 *
 * Threads: start/stop from the control thread; the loop and the port ops on
 * the input thread; readers as midi_in.h says.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "rt/log.h"
#include "dev/midi_in.h"
#include "dev/midi_in_port.h"
#include "dev/devspec.h"
#include "rt/rtclock.h"
#include "dev/serial.h"

const char *midi_in_strerror(enum midi_in_err e)
{
	static const char *const msg[MIDI_IN_ERR_COUNT] = {
	    [MIDI_IN_OK] = "no error",
	    [MIDI_IN_ERR_SPEC] =
	        "bad MIDI input (expected auto, none, portmidi:NAME or raw:PATH[@BAUD])",
	    [MIDI_IN_ERR_NOMEM] = "out of memory",
	    [MIDI_IN_ERR_THREAD] = "cannot start the MIDI input thread",
	};
	return (unsigned)e < MIDI_IN_ERR_COUNT ? msg[e] : "unknown MIDI input error";
}

static int run_none(struct midi_in *mi, char *why, size_t cap)
{
	return 1;
}

static int open_none(struct midi_in *mi, char *why, size_t cap)
{
	return 0;
}

static void close_none(struct midi_in *mi)
{
}

static const struct midi_in_ops none_ops = {
    .name = "none",
    .open = open_none,
    .run = run_none,
    .close = close_none,
};

/* Fills mi's ops, target and baud from spec (devspec's grammar). */
static enum midi_in_err parse_spec(const char *spec, struct midi_in *mi)
{
	struct devspec *d = malloc(sizeof *d);
	enum midi_in_err e = MIDI_IN_ERR_SPEC;
	if (!d)
		return MIDI_IN_ERR_NOMEM;
	mi->target[0] = '\0';
	mi->baud = MIDI_IN_RAW_BAUD;
	if (devspec_parse(spec, d) == 0 && strlen(d->path) < sizeof mi->target) {
		e = MIDI_IN_OK;
		strcpy(mi->target, d->path);
		if (d->baud)
			mi->baud = d->baud;
		switch (d->kind) {
		case DEVSPEC_NONE:
			mi->ops = &none_ops;
			break;
		case DEVSPEC_AUTO:
		case DEVSPEC_PORTMIDI:
			mi->ops = &midi_in_pm_ops;
			break;
		case DEVSPEC_RAW:
			mi->ops = &midi_in_raw_ops;
			break;
		default:
			e = MIDI_IN_ERR_SPEC;
		}
	}
	free(d);
	return e;
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] &&
		       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return n == 0;
}

bool midi_in_name_matches(const char *name, const char *pattern)
{
	if (!name)
		return false;
	if (!pattern || !*pattern)
		return !contains_nocase(name, "through");
	return contains_nocase(name, pattern);
}

bool midi_in_passes(enum midi_in_filter f, enum midi_kind k)
{
	bool clock = k == MIDI_CLOCK || k == MIDI_START || k == MIDI_CONTINUE || k == MIDI_STOP;
	switch (f) {
	case MIDI_IN_NO_CLOCK:
		return !clock;
	case MIDI_IN_CLOCK_ONLY:
		return clock;
	default:
		return true;
	}
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

void midi_in_feed(struct midi_in *mi, const uint8_t *buf, size_t n, int64_t t)
{
	struct midi_parser *p = &mi->parser;
	uint32_t errs0 = p->stray_data + p->stray_eox + p->truncated + p->undefined;
	uint32_t ign0 = p->sysex + p->common;
	enum midi_in_filter filter =
	    (enum midi_in_filter)atomic_load_explicit(&mi->filter, memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		struct midi_msg m;
		if (!midi_parse_byte(p, buf[i], &m))
			continue;
		if (m.kind < MIDI_KIND_COUNT)
			add(&mi->messages[m.kind], 1);
		if (m.kind == MIDI_OTHER_REALTIME || !midi_in_passes(filter, m.kind)) {
			add(&mi->ignored, 1);
			continue;
		}
		if (!inq_push(mi->q, &m, t))
			add(&mi->dropped, 1);
	}
	uint32_t errs = p->stray_data + p->stray_eox + p->truncated + p->undefined - errs0;
	uint32_t ign = p->sysex + p->common - ign0;
	if (errs)
		add(&mi->parse_errors, errs);
	if (ign)
		add(&mi->ignored, ign);
}

int midi_in_wait(struct midi_in *mi, int64_t ns)
{
	if (atomic_load(&mi->stop))
		return 1;
	if (ns <= 0)
		return 0;
	struct pollfd pfd = {.fd = mi->stop_fd, .events = POLLIN};
	struct timespec ts = rtclock_timespec(ns);
	int r = ppoll(&pfd, 1, &ts, NULL);
	return (r > 0 || atomic_load(&mi->stop)) ? 1 : 0;
}

void midi_in_set_port_name(struct midi_in *mi, const char *name)
{
	pthread_mutex_lock(&mi->name_lock);
	snprintf(mi->port_name, sizeof mi->port_name, "%s", name ? name : "");
	pthread_mutex_unlock(&mi->name_lock);
}

size_t midi_in_port_name(struct midi_in *mi, char *buf, size_t cap)
{
	if (!cap)
		return 0;
	pthread_mutex_lock(&mi->name_lock);
	snprintf(buf, cap, "%s", mi->port_name);
	pthread_mutex_unlock(&mi->name_lock);
	return strlen(buf);
}

static void set_state(struct midi_in *mi, enum link_state s)
{
	atomic_store(&mi->state, (int)s);
}

static void *input_thread(void *arg)
{
	struct midi_in *mi = arg;
	struct devlink_backoff b;
	devlink_backoff_init(&b, mi->opt.backoff_first_ns, mi->opt.backoff_max_ns);
	char why[MIDI_IN_WHY_MAX];
	char last_why[MIDI_IN_WHY_MAX] = "";
	const char *what = mi->target[0] ? mi->target : "auto";

	while (!atomic_load(&mi->stop)) {
		add(&mi->attempts, 1);
		why[0] = '\0';
		if (mi->ops->open(mi, why, sizeof why) == 0) {
			char name[256];
			midi_in_port_name(mi, name, sizeof name);
			add(&mi->connects, 1);
			set_state(mi, LINK_CONNECTED);
			log_info("midi_connected", "MIDI input %s: connected to %s", mi->ops->name,
			         name);
			devlink_backoff_reset(&b);
			last_why[0] = '\0';
			why[0] = '\0';
			int stopped = mi->ops->run(mi, why, sizeof why);
			mi->ops->close(mi);
			midi_in_set_port_name(mi, "");
			if (stopped)
				break;
			add(&mi->disconnects, 1);
			set_state(mi, LINK_RECONNECTING);
			log_warn("midi_lost", "MIDI input %s %s: lost (%s), reconnecting",
			         mi->ops->name, what, why[0] ? why : "device gone");
			continue; /* first retry after the first backoff delay */
		}
		/* one line per new reason, not one per attempt */
		if (strcmp(why, last_why) != 0) {
			log_warn("midi_waiting",
			         "MIDI input %s %s: %s; retrying up to every %.3g s", mi->ops->name,
			         what, why[0] ? why : "not available", (double)b.max_ns / 1e9);
			snprintf(last_why, sizeof last_why, "%s", why);
		}
		if (midi_in_wait(mi, devlink_backoff_next(&b)))
			break;
	}
	return NULL;
}

struct midi_in *midi_in_start(const char *spec, struct inq *q, const struct midi_in_options *o,
                              enum midi_in_err *err)
{
	enum midi_in_err dummy;
	if (!err)
		err = &dummy;
	struct midi_in *mi = calloc(1, sizeof *mi);
	if (!mi) {
		*err = MIDI_IN_ERR_NOMEM;
		return NULL;
	}
	*err = parse_spec(spec, mi);
	if (*err != MIDI_IN_OK || !q) {
		*err = MIDI_IN_ERR_SPEC;
		free(mi);
		return NULL;
	}
	if (o)
		mi->opt = *o;
	if (mi->opt.pm_poll_ns <= 0)
		mi->opt.pm_poll_ns = 500000;
	mi->q = q;
	mi->fd = -1;
	atomic_init(&mi->filter, (int)mi->opt.filter);
	midi_parse_init(&mi->parser);
	pthread_mutex_init(&mi->name_lock, NULL);
	mi->stop_fd = -1;
	if (mi->ops == &none_ops) {
		set_state(mi, LINK_OFF);
		return mi;
	}
	set_state(mi, LINK_WAITING);
	mi->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mi->stop_fd < 0) {
		*err = MIDI_IN_ERR_THREAD;
		midi_in_stop(mi);
		return NULL;
	}
	if (pthread_create(&mi->thread, NULL, input_thread, mi) != 0) {
		*err = MIDI_IN_ERR_THREAD;
		midi_in_stop(mi);
		return NULL;
	}
	mi->thread_started = 1;
	return mi;
}

void midi_in_stop(struct midi_in *mi)
{
	if (!mi)
		return;
	atomic_store(&mi->stop, 1);
	if (mi->stop_fd >= 0) {
		uint64_t one = 1;
		if (write(mi->stop_fd, &one, sizeof one) < 0 && errno != EAGAIN)
			log_warn("midi_stop", "cannot wake the MIDI input thread: %s",
			         strerror(errno));
	}
	if (mi->thread_started)
		pthread_join(mi->thread, NULL);
	if (mi->stop_fd >= 0)
		close(mi->stop_fd);
	pthread_mutex_destroy(&mi->name_lock);
	free(mi);
}

void midi_in_set_filter(struct midi_in *mi, enum midi_in_filter f)
{
	if (mi)
		atomic_store_explicit(&mi->filter, (int)f, memory_order_relaxed);
}

enum link_state midi_in_state(const struct midi_in *mi)
{
	return (enum link_state)atomic_load(&((struct midi_in *)mi)->state);
}

void midi_in_get_stats(const struct midi_in *cmi, struct midi_in_stats *st)
{
	struct midi_in *mi = (struct midi_in *)cmi;
	for (int k = 0; k < MIDI_KIND_COUNT; k++)
		st->messages[k] = atomic_load_explicit(&mi->messages[k], memory_order_relaxed);
	st->bytes = atomic_load_explicit(&mi->bytes, memory_order_relaxed);
	st->parse_errors = atomic_load_explicit(&mi->parse_errors, memory_order_relaxed);
	st->ignored = atomic_load_explicit(&mi->ignored, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&mi->dropped, memory_order_relaxed);
	st->attempts = atomic_load_explicit(&mi->attempts, memory_order_relaxed);
	st->connects = atomic_load_explicit(&mi->connects, memory_order_relaxed);
	st->disconnects = atomic_load_explicit(&mi->disconnects, memory_order_relaxed);
}
