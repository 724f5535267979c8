/*
 * render: the offline renderer, `mystery-engine render`.
 *
 * Runs the core on virtual time as fast as the CPU allows, with a Standard
 * MIDI File standing in for the controller, and hands every event to a list
 * of sinks (the JSON-lines event log, the scsynth score).  Memory is
 * constant in the rendered length: a fixed event buffer, advancing in
 * chunks, output through buffered streams.  The same configuration, seed and
 * input give byte-identical output.  Main thread only.
 */
#ifndef ME_RENDER_RENDER_H
#define ME_RENDER_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/engine.h"
#include "core/event.h"
#include "synth/osc_score.h"

struct config;
struct cli_options;
struct sc_plan_settings;
struct smf_input;

/* Virtual time the renderer advances at once. */
#define RENDER_CHUNK_NS (100 * NS_PER_MS)
/* Events fetched from the core per engine_advance() call. */
#define RENDER_EVENT_BUF 256
/* Longest render accepted, in seconds (a year). */
#define RENDER_MAX_SECONDS (366.0 * 24 * 3600)

/* Where the events go; each sink sees every event in the core's order. */
struct render_sink_ops {
	const char *name;
	/* One event; 0 on success, -1 on a failure the sink can describe. */
	int (*event)(void *ctx, const struct event *ev);
	/* The render reached end (ns); flush and close; 0 on success. */
	int (*finish)(void *ctx, int64_t end);
	/* What went wrong, after a failed event() or finish(). */
	const char *(*error)(void *ctx);
};

struct render_sink {
	const struct render_sink_ops *ops;
	void *ctx;
};

struct render_params {
	int64_t duration; /* ns of virtual time to render */
	uint64_t seed;
	struct smf_input *input; /* NULL: no controller input */
	struct render_sink *sinks;
	size_t n_sinks;
	const int64_t *pauses; /* ns, ascending: each presses pause (toggles) */
	size_t n_pauses;
};

struct render_stats {
	uint64_t events; /* every event the core returned */
	uint64_t notes;
	uint64_t inputs; /* MIDI messages fed to the core */
};

enum render_error {
	RENDER_OK,
	RENDER_E_NOMEM, /* engine_new() failed */
	RENDER_E_SINK,  /* a sink failed; see the sink's error() */
	RENDER_E_COUNT
};

const char *render_strerror(enum render_error err);

/*
 * Renders p->duration of music with cfg and p->seed.  On RENDER_E_SINK,
 * *failed (if not NULL) is the index of the failing sink.  Every sink's
 * finish() is called once, whatever the result.
 */
enum render_error render_run(const struct engine_config *cfg, const struct render_params *p,
                             struct render_stats *st, size_t *failed);

/*
 * The JSON-lines event log sink writing to out (not closed: the caller owns
 * it; finish() flushes it).  name is used in error messages.  Returns NULL
 * when out of memory; free with render_evlog_free().
 */
struct render_sink *render_evlog_new(FILE *out, const char *name, const struct engine_config *cfg);
void render_evlog_free(struct render_sink *s);

/*
 * The scsynth score sink: each event becomes the commands of the scsynth
 * mapping (sc_plan) with ps, encoded by sc_plan_message() as the live
 * backend encodes them, written at their times into the score at path
 * (osc_score) with its node layout at 0.  finish() closes the score two
 * seconds after the end (the last releases, the reverb's tail).  NULL with
 * *err set when the score cannot be written; free with render_score_free().
 */
struct render_sink *render_score_new(const char *path, int sample_rate,
                                     const struct sc_plan_settings *ps, enum osc_score_err *err);
void render_score_free(struct render_sink *s);

/*
 * `mystery-engine render ...` with the configuration and the options
 * cli_parse() checked.  Returns the process exit status: 0, or 1 (runtime
 * error).
 */
int render_main(const struct config *cfg, const struct cli_options *opts);

#endif
