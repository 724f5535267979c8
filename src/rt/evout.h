/*
 * evout: the live JSON-lines event log (--events FILE, '-' for stdout).
 *
 * A worker sink that copies loggable events into a bounded lock-free ring;
 * a writer thread formats them with the core's evlog_format() (the same
 * lines render writes) and writes them out.  When the ring is full the event
 * is dropped and counted: the worker never waits for the disk.  When the
 * output fails (`--events -` into a pipe whose reader went away, a full
 * disk) the events are lost, counted and the failure logged; the instrument
 * plays on.
 */
#ifndef ME_RT_EVOUT_H
#define ME_RT_EVOUT_H

#include <stdint.h>

#include "core/engine.h"
#include "rt/worker.h"

struct evout;

/* base: CLOCK_MONOTONIC ns of engine time 0 ("t" counts from it). */
struct evout *evout_open(const char *path, const struct engine_config *cfg, int64_t base);
/* The sink to hand to worker_add_sink(); a reload reaches it through the
 * worker (worker_reconfigure). */
struct worker_sink evout_sink(struct evout *o);
uint64_t evout_dropped(const struct evout *o);
/* Events a failed write lost (a closed pipe, a full disk); each failure is
 * logged once, and so is the recovery. */
uint64_t evout_lost(const struct evout *o);
/* Writes what is left, closes the file (not stdout), joins the thread; logs
 * how many events writing failures lost, if any. */
void evout_close(struct evout *o);

#endif
