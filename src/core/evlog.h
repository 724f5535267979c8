/*
 * evlog: one event as one line of the JSON-lines event log (doc/events.md).
 *
 * Deterministic and locale-independent: numbers are written with integer
 * arithmetic only, so the same events give the same bytes everywhere.
 * Pure; any thread.
 */
#ifndef ME_CORE_EVLOG_H
#define ME_CORE_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/event.h"

/* Room for the longest line (a mutation with EVENT_MUT_MAX changes). */
#define EVLOG_LINE_MAX 1024

/* 1 when events of this type go to the log. */
int evlog_logged(enum event_type t);
/*
 * Writes ev as one JSON object and a newline into buf (NUL-terminated).
 * "t" is seconds since t0.  cfg (may be NULL) names modes, palettes and
 * scale choices.  Returns the length without the NUL, or 0 when the type is
 * not logged or cap is too small.
 */
size_t evlog_format(const struct event *ev, const struct engine_config *cfg, int64_t t0, char *buf,
                    size_t cap);
#endif
