/*
 * event: names of the event types, for the log and the console.
 * Constant data; any thread.
 */
#include "core/event.h"

static const char *const type_names[EV_TYPE_COUNT] = {
    [EV_NOTE] = "note",
    [EV_PARAM] = "param",
    [EV_SCALE] = "scale",
    [EV_MUTATION] = "mutation",
    [EV_IDLE] = "idle",
    [EV_MODE] = "mode",
    [EV_INPUT] = "input",
    [EV_STEP] = "step",
    [EV_TRANSPORT] = "transport",
    [EV_STEP_EDIT] = "step_edit",
    [EV_PATTERN] = "pattern",
    [EV_CLOCK] = "clock",
    [EV_CLOCK_SYNC] = "clock_sync",
};

static const char *const cause_names[PATTERN_CAUSE_COUNT] = {
    [PATTERN_START] = "start", [PATTERN_REWRITE] = "rewrite", [PATTERN_LENGTH] = "length",
    [PATTERN_EDIT] = "edit",   [PATTERN_PHRASE] = "phrase",
};

const char *event_type_name(enum event_type t)
{
	return (unsigned)t < EV_TYPE_COUNT ? type_names[t] : "unknown";
}

const char *event_pattern_cause_name(enum pattern_cause c)
{
	return (unsigned)c < PATTERN_CAUSE_COUNT ? cause_names[c] : "unknown";
}
