/*
 * metrics: what the HTTP API serves, formatted from plain data.
 *
 *   metrics_prometheus()      GET /metrics: Prometheus text format 0.0.4
 *   metrics_state_json()      GET /state: the snapshot as JSON
 *   metrics_mutations_json()  GET /mutations: recent mutation history
 *
 * The formatters are pure functions of their arguments (a snapshot, the
 * worker's histograms, process figures, HTTP counters): no I/O, no clock, so
 * they are tested on hand-made inputs.  metrics_process_read() is the one
 * function here that reads the system (/proc).  They allocate the text they
 * return: any thread except the real-time worker.
 */
#ifndef ME_OPS_METRICS_H
#define ME_OPS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt/hist.h"
#include "rt/snapshot.h"

#define METRICS_PREFIX "mystery_engine_"
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The standard process metrics (process_*). */
struct metrics_process {
	double resident_bytes;
	double virtual_bytes;
	double cpu_seconds;        /* user + system */
	double start_time_seconds; /* since the Unix epoch */
	double open_fds, max_fds;
};

/* Fills p from /proc/self; 0, or -1 when /proc cannot be read. */
int metrics_process_read(struct metrics_process *p);

/* Responses the HTTP API sent with one status code. */
struct metrics_http_count {
	int code;
	uint64_t n;
};

/* The HTTP API's connections. */
struct metrics_http_conns {
	uint64_t open;      /* now */
	uint64_t timed_out; /* closed: the request did not arrive in time */
	uint64_t evicted;   /* closed to make room for a new connection */
};

struct metrics_input {
	const struct snapshot *snap;           /* NULL: none published yet */
	const struct hist *latency, *lateness; /* NULL: left out */
	const struct metrics_process *proc;    /* NULL: left out */
	const struct metrics_http_count *http; /* n_http rows */
	size_t n_http;
	const struct metrics_http_conns *conns; /* NULL: left out */
};

/*
 * The Prometheus text exposition of in: one HELP and TYPE line per family,
 * counters ending in _total, times in seconds, histograms with one bucket per
 * doubling of the hist's range (1 us .. 16.8 s) plus +Inf.  Returns a
 * malloc'ed NUL-terminated text and its length in *len, or NULL on ENOMEM.
 */
char *metrics_prometheus(const struct metrics_input *in, size_t *len);

/*
 * The snapshot as one JSON object: parameters (value, range, unit, default,
 * source), the step grid, scale, mode, palette, idle and pause, links,
 * voices, timing and counters.  malloc'ed, NULL on ENOMEM.
 */
char *metrics_state_json(const struct snapshot *s, size_t *len);

/* {"mutations": [{"t_s", "param", "from", "to"}, ...]} newest first. */
char *metrics_mutations_json(const struct snapshot *s, size_t *len);

#endif
