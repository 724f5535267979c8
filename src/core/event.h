/*
 * event: the tagged union that flows out of the core.
 *
 * engine_advance() returns a list of these; the synth, the LED cue bus, the
 * event log, the metrics and the console all read the same list.  Times are
 * engine time in nanoseconds (virtual in render and tests, CLOCK_MONOTONIC
 * based when live).  Pure data; any thread.
 */
#ifndef ME_CORE_EVENT_H
#define ME_CORE_EVENT_H

#include <stdint.h>

#include "core/midi.h"

#define EVENT_MUT_MAX 8        /* most changes one mutation may report */
#define EVENT_PATTERN_STEPS 64 /* steps a pattern event carries (ENGINE_MAX_STEPS) */

enum event_type {
	EV_NOTE,       /* a note sounds at t for dur */
	EV_PARAM,      /* a parameter takes a new value at t */
	EV_SCALE,      /* the active scale or root changes at t */
	EV_MUTATION,   /* the mutator changed some parameters at t */
	EV_IDLE,       /* idle entered (on = 1) or left (on = 0) */
	EV_MODE,       /* the mode profile changed */
	EV_INPUT,      /* a MIDI message reached the core (for the log) */
	EV_STEP,       /* the playhead reached a step (console, LEDs) */
	EV_TRANSPORT,  /* sequencer paused (running = 0) or resumed */
	EV_STEP_EDIT,  /* a step of the pattern was changed */
	EV_PATTERN,    /* the pattern as it now plays (start, rewrite, length, phrase) */
	EV_CLOCK,      /* a MIDI clock pulse (24 a beat) when clock out is on; not logged */
	EV_CLOCK_SYNC, /* following an external MIDI clock began (on = 1) or ended */
	EV_TYPE_COUNT
};

/* Why the pattern changed (event.u.pattern.cause). */
enum pattern_cause {
	PATTERN_START,   /* the pattern in force at start */
	PATTERN_REWRITE, /* the mutation rewrote a step */
	PATTERN_LENGTH,  /* the active length changed */
	PATTERN_EDIT,    /* a step was set (preset, button, key) */
	PATTERN_PHRASE,  /* an idle phrase moved the pattern */
	PATTERN_CAUSE_COUNT
};

struct event_change {
	uint8_t param; /* enum param_id */
	double from, to;
};

struct event {
	uint8_t type; /* enum event_type */
	uint8_t live; /* 1: caused by a live action, not sequenced */
	int64_t t;    /* ns, engine time at which it takes effect */
	union {
		struct {
			uint8_t pitch, velocity;
			int16_t step; /* -1 when not from the pattern */
			int64_t dur;  /* ns */
		} note;
		struct {
			uint8_t id;     /* enum param_id */
			uint8_t source; /* enum param_source */
			double value;
		} param;
		struct {
			uint8_t scale; /* enum scale_id */
			uint8_t root;  /* MIDI note of the root */
		} scale;
		struct {
			uint8_t n;
			struct event_change ch[EVENT_MUT_MAX];
		} mutation;
		struct {
			uint8_t on;
		} idle;
		struct {
			uint8_t mode; /* index into engine_config.modes */
		} mode;
		struct midi_msg input;
		struct {
			int16_t step;
			uint8_t fired;
		} step;
		struct {
			uint8_t running;
		} transport;
		struct {
			int16_t step;
			uint8_t on;
			uint8_t velocity; /* the step's velocity after the edit */
			uint8_t source;   /* enum param_source: midi (a button), key ... */
			double prob;      /* the step's gate probability after the edit */
		} step_edit;
		struct {
			uint8_t cause; /* enum pattern_cause */
			uint8_t len;   /* active steps */
			int8_t shift;  /* degrees an idle phrase adds to every step */
			int16_t step;  /* the step rewritten or edited, -1: none */
			uint64_t off;  /* bit k: step k is off */
			int8_t degree[EVENT_PATTERN_STEPS]; /* written degree of each step */
		} pattern;
		struct {
			int64_t pulse; /* pulses from the start, 24 a beat; 0 is step 0 */
		} clock;
		struct {
			uint8_t on; /* 1: the steps follow the external clock */
			double bpm; /* the tempo followed (on) or held (off) */
		} sync;
	} u;
};

const char *event_type_name(enum event_type t);
const char *event_pattern_cause_name(enum pattern_cause c);

#endif
