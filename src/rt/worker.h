/*
 * worker: the real-time thread that owns the core.
 *
 * It sleeps until something is due (the engine's next event one look-ahead
 * before its time, a sink's wish, a reader's snapshot, the heartbeat), drains
 * the MIDI input queue and the command rings into engine_input(), advances
 * the engine to now + look-ahead and hands the one event list to its sinks
 * (synth, LEDs, event log ...), and publishes a snapshot when a reader asks
 * for one.  Input producers ring its doorbell so that a MIDI message is
 * handled at once rather than at the next deadline.  On its path nothing
 * allocates, blocks or takes a lock shared with a slower thread.
 *
 * worker_new/start/stop/free and worker_reconfigure are for the control
 * thread; worker_doorbell and pushes into worker_command_ring() for any
 * producer (one producer per ring); worker_snapshot for readers.
 */
#ifndef ME_RT_WORKER_H
#define ME_RT_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"
#include "rt/hist.h"
#include "rt/snapshot.h"

struct config;
struct inq;
struct ring;

/* A consumer of the event list.  Every callback runs on the worker thread
 * and must neither block nor allocate. */
struct worker_sink {
	const char *name;
	/* events: times are CLOCK_MONOTONIC ns */
	void (*events)(void *ctx, const struct event *ev, size_t n, int64_t now_mono);
	/* adds the sink's state and counters to the snapshot */
	void (*fill)(void *ctx, struct snapshot *snap);
	/* the worker is stopping: silence everything now */
	void (*shutdown)(void *ctx);
	/* optional: the next CLOCK_MONOTONIC time the sink has something to do
	 * (a MIDI byte due, a rate-limited LED frame still queued), INT64_MAX
	 * if none; the worker then calls events (n = 0) at the latest; asked
	 * after every loop */
	int64_t (*next_due)(void *ctx);
	/* A reload: from this loop on the engine plays eng, and cfg is the
	 * whole configuration it came with (NULL when the caller has none).
	 * Called between two event lists, before the first one made with the
	 * new configuration; both stay valid until the next reload. */
	void (*reconfigure)(void *ctx, const struct engine_config *eng, const struct config *cfg);
	void *ctx;
};

enum worker_producer {
	WORKER_CMD_CONTROL, /* signals, reload, presets from the main thread */
	WORKER_CMD_CONSOLE,
	WORKER_CMD_HTTP,
	WORKER_CMD_HTTP_PRESET, /* presets loaded over HTTP (the server's preset thread) */
	WORKER_CMD_OSC,         /* the OSC surface's thread (its commands and presets) */
	WORKER_CMD_SOCKET,      /* the control socket's thread (attached consoles, ctl) */
	WORKER_CMD_COUNT
};

struct worker_options {
	int64_t lookahead_ns; /* sequenced events are handed out this early */
	/* the oldest snapshot worker_snapshot() hands a reader (default 33 ms);
	 * an older one is refreshed on the reader's request */
	int64_t snapshot_period_ns;
	/* the longest sleep (default 1 s): the heartbeat's spacing, which the
	 * systemd watchdog's feeder needs; without one the program sets a
	 * minute, as everything else rings or is due */
	int64_t heartbeat_ns;
	bool realtime; /* try SCHED_FIFO and mlockall */
	/* After a stall: a note whose time passed by more than this is
	 * dropped and counted, and the sequencer skips to the first step on
	 * its grid at or after now + look-ahead; 0: never (catch up). */
	int64_t late_drop_ns;
};

#define WORKER_MAX_SINKS 8

struct worker;

struct worker *worker_new(struct engine *e, const struct engine_config *cfg, struct inq *inq,
                          const struct worker_options *o);
int worker_add_sink(struct worker *w, const struct worker_sink *s);
/* Before worker_start(), beside the inq given to worker_new(): the queue of
 * a MIDI clock port of its own; its messages reach the engine in arrival
 * order among the others.  -1 when one is set already or too late. */
int worker_add_clock_input(struct worker *w, struct inq *q);
int worker_start(struct worker *w);
void worker_stop(struct worker *w);
void worker_free(struct worker *w);

/* The ring a producer pushes struct engine_input commands into (t is set
 * by the worker when it takes them); call worker_doorbell after a push. */
struct ring *worker_command_ring(struct worker *w, enum worker_producer p);
bool worker_command(struct worker *w, enum worker_producer p, const struct command *c);
void worker_doorbell(struct worker *w);

/* Copies the latest snapshot; false before the first one.  When the latest
 * is older than snapshot_period_ns and the worker runs, asks it for a fresh
 * one and waits for it (at most WORKER_SNAPSHOT_WAIT_MS: a stalled worker
 * yields the older copy).  Readers' threads only, never the worker. */
#define WORKER_SNAPSHOT_WAIT_MS 50
bool worker_snapshot(struct worker *w, struct snapshot *out);
/*
 * A reload, the one way a new configuration reaches the running instrument:
 * the worker takes it between two loops like any other input, gives eng to
 * the engine and then hands eng and cfg to every sink's reconfigure, so the
 * engine, the snapshot's names and every sink change at the same point of
 * the event list.  The caller (never the worker) waits until it has; eng
 * may be freed afterwards (the worker keeps a copy), cfg must stay valid
 * until the next reload returns (the worker does not read it).
 */
void worker_reconfigure(struct worker *w, const struct engine_config *eng,
                        const struct config *cfg);

/* Engine time 0 in CLOCK_MONOTONIC ns. */
int64_t worker_base(const struct worker *w);
/* Increments on every loop: the systemd watchdog's liveness signal.  The
 * worker loops at least every heartbeat_ns, and at once on a doorbell. */
uint64_t worker_heartbeat(const struct worker *w);
/* Waits (any thread but the worker) until the worker has begun n more
 * loops, ringing its doorbell so that it need not wait for its deadline;
 * returns at once when it does not run. */
void worker_wait_loops(struct worker *w, unsigned n);

/* What the worker's next deadline is made of (CLOCK_MONOTONIC ns; INT64_MAX
 * for "nothing"); worker_next_wake() is the decision, kept pure for tests. */
struct worker_wake {
	int64_t now;
	int64_t engine_due; /* engine_next_due() in monotonic time */
	int64_t lookahead_ns;
	int64_t sink_due;     /* the earliest sink's next_due() */
	int64_t heartbeat_ns; /* the longest sleep */
};
/* The absolute time to wake: one look-ahead before the engine's next unit
 * (just after, so that it is inside the advance), a sink's wish, or the
 * heartbeat, whichever comes first; never before now. */
int64_t worker_next_wake(const struct worker_wake *ww);
/* Latency (MIDI arrival to hand-off) and wake-up lateness histograms. */
struct hist *worker_latency(struct worker *w);
struct hist *worker_lateness(struct worker *w);
/* Whether SCHED_FIFO / mlockall took effect (after worker_start). */
bool worker_is_realtime(const struct worker *w);

#endif
