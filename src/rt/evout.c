/*
 * evout: the live event log writer (see evout.h).
 *
 * The sink callback runs on the worker: it only pushes struct event copies
 * into an SPSC ring.  The writer thread pops, formats with evlog_format()
 * into a buffer and write()s it whenever the ring runs dry or the buffer is
 * full, so a `tail -f` sees lines within a few milliseconds.  A write that
 * fails (a closed pipe, a full disk) loses exactly the events of the
 * buffer whose lines did not reach the file whole (linefile cuts a torn
 * line off again): they are counted, the failure is logged once, and so is
 * the recovery when a later write succeeds.
 *
 * Names (scales, modes, palettes) come from the configuration in force when
 * the event was made.  A reload reaches the sink on the worker, between two
 * event lists (worker_reconfigure): the sink sends the new configuration to
 * the writer through a second ring, tagged with the number of events pushed
 * before it, and the writer switches when it reaches that event.  When that
 * ring is full (the writer stuck on its output through several reloads) the
 * newest configuration waits on the worker's side and goes at the next call.
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
#include "rt/linefile.h"
#include "rt/log.h"
#include "rt/ring.h"

#define EVOUT_RING 8192
#define EVOUT_CFG_RING 4
#define EVOUT_BUF (64 * 1024)

/* A configuration for the writer, applying from event number `at` on. */
struct evout_cfg {
	uint64_t at;
	struct engine_config cfg;
};

struct evout {
	FILE *f;
	bool own;
	char name[256]; /* for messages: the path or "standard output" */
	struct ring *ring;
	struct ring *cfgs; /* struct evout_cfg, worker -> writer */
	int64_t base;
	/* worker side */
	uint64_t pushed;          /* events in the ring so far */
	struct evout_cfg waiting; /* a configuration cfgs had no room for */
	bool has_waiting;
	/* writer side */
	struct engine_config cfg; /* the names of the events being written */
	uint64_t popped;
	struct evout_cfg waiting_w; /* scratch for take_configs */
	pthread_t thread;
	atomic_bool running;
	atomic_uint_fast64_t dropped;
	atomic_uint_fast64_t lost; /* events a failed write took with it */
	bool failing;              /* writer thread: the last write failed */
	char buf[EVOUT_BUF];       /* writer thread: lines not yet written */
	size_t used;
	uint64_t in_buf; /* events in buf */
};

static void evout_events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	struct evout *o = ctx;
	(void)now;
	if (o->has_waiting && ring_push(o->cfgs, &o->waiting))
		o->has_waiting = false;
	for (size_t i = 0; i < n; i++) {
		if (!evlog_logged((enum event_type)ev[i].type))
			continue;
		if (ring_push(o->ring, &ev[i]))
			o->pushed++;
		else
			atomic_fetch_add(&o->dropped, 1);
	}
}

static void evout_reconfigure(void *ctx, const struct engine_config *eng, const struct config *cfg)
{
	struct evout *o = ctx;
	(void)cfg;
	if (o->has_waiting) { /* the older one never reached the writer */
		o->waiting.cfg = *eng;
		return;
	}
	o->waiting.at = o->pushed;
	o->waiting.cfg = *eng;
	o->has_waiting = !ring_push(o->cfgs, &o->waiting);
}

/* Writer: takes the configurations that apply from the next event on. */
static void take_configs(struct evout *o)
{
	while (ring_peek(o->cfgs, &o->waiting_w) && o->waiting_w.at <= o->popped) {
		ring_pop(o->cfgs, &o->waiting_w);
		o->cfg = o->waiting_w.cfg;
	}
}

static void evout_fill(void *ctx, struct snapshot *s)
{
	struct evout *o = ctx;
	s->events_dropped = atomic_load(&o->dropped);
	s->events_lost = atomic_load(&o->lost);
}

/* Writes the buffer out; on failure the events whose lines did not make it
 * whole are lost and counted (linefile: no torn line stays in a file). */
static void flush_buf(struct evout *o)
{
	size_t lines;
	int e = linefile_write(fileno(o->f), o->buf, o->used, &lines);
	if (e) {
		atomic_fetch_add(&o->lost, o->in_buf - lines);
		if (!o->failing)
			log_error("events_write",
			          "cannot write the event log to %s: %s; its events "
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
		take_configs(o);
		while (ring_pop(o->ring, &ev)) {
			size_t n = evlog_format(&ev, &o->cfg, o->base, line, sizeof line);
			o->popped++;
			take_configs(o);
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
		fflush(stdout); /* from now on written with write(2) */
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
	o->cfgs = ring_new(EVOUT_CFG_RING, sizeof(struct evout_cfg));
	o->cfg = *cfg;
	o->base = base;
	atomic_store(&o->running, true);
	if (o->ring && o->cfgs && pthread_create(&o->thread, NULL, evout_main, o) == 0)
		return o;
	ring_free(o->ring);
	ring_free(o->cfgs);
	if (o->own)
		fclose(o->f);
	free(o);
	return NULL;
}

struct worker_sink evout_sink(struct evout *o)
{
	struct worker_sink s = {
	    .name = "events",
	    .events = evout_events,
	    .fill = evout_fill,
	    .reconfigure = evout_reconfigure,
	    .ctx = o,
	};
	return s;
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
		log_warn("events_lost",
		         "%llu events not written to the event log %s (writing failed)",
		         (unsigned long long)atomic_load(&o->lost), o->name);
	if (o->own)
		fclose(o->f);
	ring_free(o->ring);
	ring_free(o->cfgs);
	free(o);
}
