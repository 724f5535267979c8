/*
 * evout: the live event log writer (see evout.h).
 *
 * The sink callback runs on the worker: it only pushes struct event copies
 * into an SPSC ring.  The writer thread pops, formats with evlog_format()
 * into a buffer and write()s it whenever the ring runs dry or the buffer is
 * full, so a `tail -f` sees lines within a few milliseconds.  A write that
 * fails (a closed pipe, a full disk) loses exactly the events in the
 * buffer: they are counted, the failure is logged once, and so is the
 * recovery when a later write succeeds.  The configuration used for names
 * is guarded by a mutex that only the writer and the control thread take.
 */
#include "rt/evout.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/evlog.h"
#include "rt/log.h"
#include "rt/ring.h"

#define EVOUT_RING 8192
#define EVOUT_BUF (64 * 1024)

struct evout {
	FILE *f;
	bool own;
	char name[256];			/* for messages: the path or "standard output" */
	struct ring *ring;
	struct engine_config cfg;
	pthread_mutex_t cfg_lock;
	int64_t base;
	pthread_t thread;
	atomic_bool running;
	atomic_uint_fast64_t dropped;
	atomic_uint_fast64_t lost;	/* events a failed write took with it */
	bool failing;			/* writer thread: the last write failed */
	char buf[EVOUT_BUF];		/* writer thread: lines not yet written */
	size_t used;
	uint64_t in_buf;		/* events in buf */
};

static void evout_events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	struct evout *o = ctx;
	(void)now;
	for (size_t i = 0; i < n; i++) {
		if (!evlog_logged((enum event_type)ev[i].type))
			continue;
		if (!ring_push(o->ring, &ev[i]))
			atomic_fetch_add(&o->dropped, 1);
	}
}

static void evout_fill(void *ctx, struct snapshot *s)
{
	struct evout *o = ctx;
	s->events_dropped = atomic_load(&o->dropped);
	s->events_lost = atomic_load(&o->lost);
}

/* Writes the buffer out; on failure its events are lost and counted. */
static void flush_buf(struct evout *o)
{
	const char *p = o->buf;
	size_t n = o->used;
	int e = 0;
	while (n > 0) {
		ssize_t w = write(fileno(o->f), p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	if (e) {
		atomic_fetch_add(&o->lost, o->in_buf);
		if (!o->failing)
			log_error("events_write", "cannot write the event log to %s: %s; its events "
				  "are lost (and counted) until it can be written again",
				  o->name, strerror(e));
		o->failing = true;
	} else if (o->failing && o->used) {
		log_info("events_write", "the event log is written to %s again (%llu events lost)",
			 o->name, (unsigned long long)atomic_load(&o->lost));
		o->failing = false;
	}
	o->used = 0;
	o->in_buf = 0;
}

static void *evout_main(void *arg)
{
	struct evout *o = arg;
	char line[2048];
	struct event ev;
	for (;;) {
		while (ring_pop(o->ring, &ev)) {
			pthread_mutex_lock(&o->cfg_lock);
			size_t n = evlog_format(&ev, &o->cfg, o->base, line, sizeof line);
			pthread_mutex_unlock(&o->cfg_lock);
			if (n == 0)
				continue;
			if (o->used + n > sizeof o->buf)
				flush_buf(o);
			memcpy(o->buf + o->used, line, n);
			o->used += n;
			o->in_buf++;
		}
		if (o->used)
			flush_buf(o);
		if (!atomic_load(&o->running) && ring_depth(o->ring) == 0)
			break;
		struct timespec ts = {0, 5 * 1000000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

struct evout *evout_open(const char *path, const struct engine_config *cfg, int64_t base)
{
	struct evout *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		fflush(stdout);		/* from now on written with write(2) */
		snprintf(o->name, sizeof o->name, "standard output");
	} else {
		o->f = fopen(path, "w");
		o->own = true;
		snprintf(o->name, sizeof o->name, "%s", path);
	}
	if (!o->f) {
		log_error("events_open", "cannot open the event log %s: %s", path, strerror(errno));
		free(o);
		return NULL;
	}
	o->ring = ring_new(EVOUT_RING, sizeof(struct event));
	if (!o->ring) {
		if (o->own)
			fclose(o->f);
		free(o);
		return NULL;
	}
	o->cfg = *cfg;
	o->base = base;
	pthread_mutex_init(&o->cfg_lock, NULL);
	atomic_store(&o->running, true);
	if (pthread_create(&o->thread, NULL, evout_main, o) != 0) {
		ring_free(o->ring);
		if (o->own)
			fclose(o->f);
		free(o);
		return NULL;
	}
	return o;
}

struct worker_sink evout_sink(struct evout *o)
{
	struct worker_sink s = {
		.name = "events", .events = evout_events, .fill = evout_fill, .ctx = o,
	};
	return s;
}

void evout_set_config(struct evout *o, const struct engine_config *cfg)
{
	pthread_mutex_lock(&o->cfg_lock);
	o->cfg = *cfg;
	pthread_mutex_unlock(&o->cfg_lock);
}

uint64_t evout_dropped(const struct evout *o)
{
	return atomic_load(&o->dropped);
}

uint64_t evout_lost(const struct evout *o)
{
	return atomic_load(&o->lost);
}

void evout_close(struct evout *o)
{
	if (!o)
		return;
	atomic_store(&o->running, false);
	pthread_join(o->thread, NULL);
	if (atomic_load(&o->lost))
		log_warn("events_lost", "%llu events not written to the event log %s (writing failed)",
			 (unsigned long long)atomic_load(&o->lost), o->name);
	if (o->own)
		fclose(o->f);
	ring_free(o->ring);
	pthread_mutex_destroy(&o->cfg_lock);
	free(o);
}
