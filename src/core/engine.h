/*
 * engine: the instrument's core, one way in and one way out.
 *
 * engine_input() takes every timed input (a MIDI message or a command from
 * the keyboard, HTTP or a preset); engine_advance(to) returns every event up
 * to engine time `to` as one list.  No threads, no I/O, no clock reads: time
 * and the random seed come in as arguments, so the same core runs live,
 * offline (render) and under test.  Single-threaded: only its owner (the
 * worker, the renderer or a test) may call it.  engine_new() allocates;
 * engine_input()/engine_advance() never do.
 */
#ifndef ME_CORE_ENGINE_H
#define ME_CORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "core/midi.h"
#include "core/param.h"

#define ENGINE_MAX_STEPS 64
#define ENGINE_MAX_SCALES 16
#define ENGINE_MAX_PROFILES 16
#define ENGINE_MAX_PALETTES 16
#define ENGINE_MAX_BUTTONS 8
#define ENGINE_NAME_MAX 32
#define ENGINE_MAX_ROOTS 12

#define NS_PER_SEC INT64_C(1000000000)
#define NS_PER_MS INT64_C(1000000)

/* A set of parameter values; only those with their bit in mask apply. */
struct engine_profile {
	char name[ENGINE_NAME_MAX];
	uint32_t mask; /* bit (1u << param_id) */
	double value[P_COUNT];
};

enum quantize_when { QUANTIZE_IMMEDIATE, QUANTIZE_BEAT, QUANTIZE_BAR };

enum button_action { BUTTON_TRIGGER_STEP };

/* Where the steps take their time from (sequencer.clock_source). */
enum clock_source { CLOCK_SOURCE_INTERNAL, CLOCK_SOURCE_MIDI };

/* What a trigger_step press does to its step (it always sounds it). */
enum button_press {
	PRESS_ACCENT, /* on, probability 1, louder: the default */
	PRESS_ADD,    /* on, probability 1 */
	PRESS_TOGGLE  /* on <-> off */
};

/* A range of notes bound to an action. */
struct engine_button {
	uint8_t action;      /* enum button_action */
	uint8_t first, last; /* inclusive MIDI note range */
};

#define CC_UNMAPPED (-1)
#define CC_RESERVED (-2) /* mapped on purpose to nothing */

/* A knob's own range and curve (mapping.ccs.NAME = { cc; min; max; curve; }). */
struct engine_cc_range {
	bool set;        /* false: the parameter's whole range */
	uint8_t curve;   /* enum param_curve */
	double min, max; /* in the parameter's units */
};

/* How the mutation walk may move one parameter (mutation.params.NAME). */
struct engine_mutation {
	double min, max; /* the walk stays within, in the parameter's units */
	double weight;   /* relative chance of being chosen, 0 = never */
	double step;     /* largest random move, a share of the range, 0..1 */
};

struct engine_config {
	/* midi / mapping */
	int midi_channel;  /* 0 = omni, else 1..16 */
	int cc_param[128]; /* param_id, CC_UNMAPPED or CC_RESERVED */
	struct engine_cc_range cc_range[128];
	struct engine_button buttons[ENGINE_MAX_BUTTONS];
	int n_buttons;
	int button_press; /* enum button_press */

	/* sequencer */
	int steps; /* pattern steps at start, 1..64 */
	double bpm, swing, density, drift, chaos_lock;
	int steps_per_beat; /* 4: a step is a sixteenth */
	int beats_per_bar;  /* 4 */
	int root;           /* MIDI note of the scale root */
	int octaves;        /* range of the degrees, 1..4 */
	enum quantize_when quantize_scale_changes;
	double filter_cutoff, reverb_mix, master_volume;
	double attack, release;   /* voice envelope, s */
	int64_t max_gap_ms;       /* longest silence between note onsets, 0 = any */
	double drift_period_s;    /* time of one move of the drift wander */
	bool clock_out;           /* emit EV_CLOCK pulses, 24 a beat (MIDI clock out) */
	int clock_source;         /* enum clock_source */
	int64_t clock_timeout_ms; /* no pulse for this long: back to the internal clock */

	/* scales the scale_select control chooses among (scale_id values) */
	int scales[ENGINE_MAX_SCALES];
	int n_scales;

	/* mutation */
	bool mutation_enabled;
	double interval_min_s, interval_max_s;
	int max_changes_per_cycle; /* 1..EVENT_MUT_MAX */
	double pull;               /* share of the way home each move takes, 0..1 */
	struct engine_mutation mut[P_COUNT];
	double rewrites_per_min;     /* pattern rewrites a minute at chaos_lock 0 */
	double moves_per_hour;       /* scale or root moves an hour, 0 = none */
	int roots[ENGINE_MAX_ROOTS]; /* root moves, semitones from root */
	int n_roots;

	/* idle */
	int64_t idle_timeout_ms, fade_in_ms, fade_out_ms;
	int64_t wake_activity_ms; /* activity needed to leave idle */
	int ambient_profile;      /* index into profiles, -1 = none */
	int phrase_bars;          /* idle phrase length in bars, 0 = no phrases */
	double idle_velocity;     /* loudness of idle phrases, 0..1 */

	/* profiles (named parameter sets), modes and palettes */
	struct engine_profile profiles[ENGINE_MAX_PROFILES];
	int n_profiles;
	int modes[ENGINE_MAX_PROFILES]; /* profile index per mode */
	int n_modes;
	char palettes[ENGINE_MAX_PALETTES][ENGINE_NAME_MAX];
	int n_palettes;
};

/* Makes any configuration safe to run: every count and index in range
 * (engine_new and engine_reconfigure do it to their copy). */
void engine_config_sanitize(struct engine_config *cfg);
/* The value parameter id starts with under cfg (a choice: its first entry). */
double engine_config_value(const struct engine_config *cfg, int id);

enum command_type {
	CMD_SET_PARAM,   /* param = value, from source */
	CMD_NUDGE_PARAM, /* param += value fine steps (console +/-) */
	CMD_TOGGLE_STEP, /* step on/off */
	CMD_SET_STEP,    /* whole step from a preset */
	CMD_PAUSE,       /* toggle pause; pausing releases all voices */
	CMD_NEXT_SCALE,
	CMD_NEXT_MODE,
	CMD_CHAOS_TOGGLE, /* chaos_lock between 1 and its previous value */
	CMD_IDLE_TOGGLE,  /* enter or leave idle now */
	CMD_STEP_ON,      /* step on (value != 0) or off: a remote surface's toggle */
	CMD_SET_PAUSE,    /* pause (value != 0) or play, whatever the state */
	CMD_TYPE_COUNT
};

struct engine_step {
	double prob;      /* gate probability 0..1 */
	int8_t degree;    /* scale degree */
	uint8_t velocity; /* 1..127 */
	double length;    /* fraction of a step, 0.05..4 */
	uint8_t on;       /* toggled by buttons and keys */
};

struct command {
	uint8_t type;   /* enum command_type */
	uint8_t source; /* enum param_source */
	uint8_t param;  /* enum param_id */
	int16_t step;
	double value;
	struct engine_step step_data; /* CMD_SET_STEP */
};

enum input_kind { INPUT_MIDI, INPUT_COMMAND };

struct engine_input {
	uint8_t kind; /* enum input_kind */
	int64_t t;    /* ns, engine time of arrival */
	union {
		struct midi_msg midi;
		struct command cmd;
	} u;
};

/* What readers (console, HTTP, presets) may see of the core; plain data. */
struct engine_state {
	int64_t t; /* engine time of the copy */
	double value[P_COUNT];
	uint8_t source[P_COUNT]; /* enum param_source of the last change */
	double tempo_now;        /* tempo including drift, BPM */
	int n_steps;             /* active pattern length */
	struct engine_step steps[ENGINE_MAX_STEPS];
	uint8_t step_note[ENGINE_MAX_STEPS];    /* MIDI note each step would play now */
	int play_step;                          /* step most recently reached, -1 before */
	int64_t step_fired_t[ENGINE_MAX_STEPS]; /* when each step last sounded, -1 never */
	uint8_t scale, root;                    /* active scale_id and root note */
	int mode, palette;
	bool idle, paused;
	uint64_t notes, unmapped, mutations, idle_transitions, inputs;
	/* Added by the core's implementation: */
	uint64_t filtered;        /* MIDI on another channel than midi.channel */
	uint64_t rejected;        /* malformed inputs (bad command, param or step) */
	uint64_t dropped;         /* inputs or events lost to a full queue */
	int pending_scale;        /* scale_id waiting for its boundary, -1 none */
	int64_t next_mutation_t;  /* ns, INT64_MAX when mutation is off */
	double home[P_COUNT];     /* where the mutation walk returns */
	int root_offset;          /* semitones a root move put the root from home */
	int phrase_shift;         /* degrees an idle phrase moves the pattern */
	uint64_t rewrites, moves; /* pattern rewrites, scale and root moves */
	/* What plays: the ambient profile's name while idle, else the profile of
	 * the mode last chosen, or "default" (the configuration's own values)
	 * before any mode was chosen. */
	char playing[ENGINE_NAME_MAX];
	/* Following an external MIDI clock (sequencer.clock_source = "midi"): */
	uint8_t clock_source;   /* enum clock_source */
	bool clock_following;   /* the steps follow the external pulses now */
	double clock_bpm;       /* tempo the pulses give, 0 before any */
	double clock_jitter_ns; /* rms deviation of the pulses from their fit */
	uint64_t clock_pulses;  /* pulses received */
	uint64_t clock_gaps;    /* times the pulses stopped and the clock fell back */
};

struct engine;

struct engine *engine_new(const struct engine_config *cfg, uint64_t seed);
void engine_free(struct engine *e);
/*
 * Sets the engine time of the start (default 0): the first step sounds at
 * t0, the idle and mutation timers run from t0.  Call it before the first
 * engine_advance(); live, pass the worker's clock so the engine does not
 * play the steps "missed" since time 0.
 */
void engine_start(struct engine *e, int64_t t0);
void engine_input(struct engine *e, const struct engine_input *in);
/*
 * Returns up to cap events with t < to, in time order for sequenced events;
 * events caused by inputs come first with the input's time.  When more than
 * cap are due, the rest come with the next call.
 */
size_t engine_advance(struct engine *e, int64_t to, struct event *out, size_t cap);
/*
 * The engine time of the next thing engine_advance() has to do: a queued
 * input, the idle timeout, a fade tick, a mutation, a scale or root move or
 * the next step or MIDI clock pulse, the external clock's timeout (events
 * still waiting for a larger cap: now).  INT64_MAX
 * when nothing is scheduled (paused, mutation off, idle timer off, no
 * input).  Until then engine_advance() returns nothing, so its owner may
 * sleep: the worker wakes one look-ahead before it.  Any engine_input() or
 * engine_reconfigure() may bring it earlier (a tempo change, a press).
 */
int64_t engine_next_due(struct engine *e);
/* Copies the readable state (does not allocate; the worker publishes it). */
void engine_get_state(const struct engine *e, struct engine_state *st);
/*
 * Applies a new configuration (live reload) keeping the music going: the
 * pattern, the playhead and the parameters a performer set survive.
 */
void engine_reconfigure(struct engine *e, const struct engine_config *cfg);

/*
 * After a stall (the owner could not run for a while): when the next step
 * was due before `late`, moves it to the first point of its grid at or after
 * `at`, keeping the tempo's phase and the pattern's place, as if the steps
 * in between had played muted.  Nothing else moves: inputs, parameter
 * changes, mutations and idle timers still run at their own times.  Returns
 * the number of steps skipped (0 when the next step was not late or the
 * transport is paused).
 */
int64_t engine_resync(struct engine *e, int64_t late, int64_t at);

#endif
