/*
 * engine_impl: the engine's state and the pieces its files share; not for
 * use outside src/core.  engine.c holds the output ring, the scale, the
 * parameters, idle and its fades, and the API; engine_input.c what an input
 * does (a MIDI message, a command, a step button); engine_clock.c MIDI clock
 * in (following an external clock) and out (the pulses); engine_step.c the
 * sequenced units (steps, idle phrases, the mutation walk, scale and root
 * moves, clock pulses) and the loop that runs them in time order.  Single-threaded, like
 * the engine.
 */
#ifndef ME_CORE_ENGINE_IMPL_H
#define ME_CORE_ENGINE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/clock_follow.h"
#include "core/engine.h"
#include "core/idle.h"
#include "core/rng.h"
#include "core/seq.h"

#define ENGINE_IN_QUEUE 256
#define ENGINE_OUT_RING 1024
#define UNIT_MAX 64 /* most events one unit can write */
#define FADE_TICK_NS (100 * NS_PER_MS)
#define DRIFT_SLEW 1.0 /* drift depth follows its control at most 1 % a second */
#define MOVE_HOME 0.5  /* chance that a move away from home goes back home */

_Static_assert(ENGINE_MAX_STEPS == EVENT_PATTERN_STEPS, "a pattern event carries every step");
_Static_assert(P_COUNT <= 32, "profile masks and fade masks are 32 bits");

struct fade {
	bool active;
	int64_t t_start, dur, next_tick;
	uint32_t mask; /* parameters still fading */
	double from[P_COUNT], to[P_COUNT];
};

struct engine {
	struct engine_config cfg;
	int64_t origin;
	int64_t horizon; /* every unit before it has run */
	bool started;    /* engine_advance() has run */

	double value[P_COUNT];
	uint8_t source[P_COUNT];
	double home[P_COUNT]; /* where the walk returns */

	struct rng rng_seq, rng_mut, rng_struct;
	struct seq seq;
	struct clock clock;
	struct clock_drift drift;
	double drift_depth;  /* drift % in force, following P_DRIFT smoothly */
	int64_t k_next;      /* global index of the next step */
	int64_t last_step_t; /* time of the last step played, INT64_MIN before */
	int64_t last_note_t; /* onset of the last note, sequenced or live */
	int play_step;
	int64_t step_fired_t[ENGINE_MAX_STEPS];
	bool paused;

	/* MIDI clock out: EV_CLOCK pulses between the unswung step times */
	int64_t pulse_next;     /* index of the next pulse (24 a beat from step 0) */
	int64_t pulse_last_t;   /* time of the last pulse, INT64_MIN before */
	int64_t base_k, base_t; /* the last step played and its unswung time */

	/* MIDI clock in (cfg.clock_source == CLOCK_SOURCE_MIDI) */
	struct clock_follow follow;
	bool following;   /* steps are anchored to the pulses' fit */
	bool ext_armed;   /* Start or Continue came: steps wait for the next pulse */
	bool ext_restart; /* that was a Start: the pattern begins again at step 1 */
	bool ext_mapped;  /* ext_k0 holds */
	int64_t ext_k0;   /* step index at external pulse 0 */
	uint64_t pulses_in, clock_gaps;

	int scale, root;           /* active */
	int scale_prev, root_prev; /* active before scale_since */
	int64_t scale_since;
	bool scale_pending;
	int scale_want, root_want;
	bool scale_at_bar; /* the pending change waits for a bar line */
	int root_off;      /* semitones a root move put the root from cfg.root */

	int64_t mut_next;
	int64_t move_next; /* next scale or root move, INT64_MAX: none */

	struct idle idle;
	int64_t idle_since;
	struct fade fade;
	double saved[P_COUNT], saved_home[P_COUNT];
	uint32_t saved_mask; /* what leaving idle restores */
	int shift;           /* degrees the current idle phrase adds */
	int mode_applied;    /* mode whose profile was last applied, -1 none */

	double chaos_prev;

	uint64_t notes, unmapped, filtered, rejected, dropped, mutations, idle_transitions, inputs,
	    rewrites, moves;

	struct engine_input in[ENGINE_IN_QUEUE];
	size_t in_head, in_count;
	struct event out[ENGINE_OUT_RING];
	size_t out_head, out_count;
	struct event scratch; /* written instead when the ring is full */
};

/* --- engine.c ------------------------------------------------------------ */

double engine_clamp_value(const struct engine *e, int id, double v);
struct event *engine_emit(struct engine *e, int type, int64_t t, bool live);
/* The note a degree plays, wrapped into the configured octaves. */
int engine_degree_note(const struct engine *e, int scale, int root, int degree);
/* Earliest time a change may take so no note already played contradicts it. */
int64_t engine_after_played(const struct engine *e, int64_t t);
void engine_apply_scale(struct engine *e, int64_t t, bool live);
/* The root in force: the configured one moved by the current root move. */
int engine_current_root(const struct engine *e);
/*
 * Asks for a scale; it comes at the configured boundary, or at the next bar
 * line when at_bar (the mutation's moves), at once when paused.
 */
void engine_request_scale(struct engine *e, int scale, int root, int64_t t, bool live, bool at_bar);
int engine_steps_per_bar(const struct engine *e);
int engine_steps_per_boundary(const struct engine *e);
/* Moves the drift depth towards its control, DRIFT_SLEW % a second at most. */
void engine_slew_drift(struct engine *e);
/* Gives the clock the current tempo from the next step on. */
void engine_retempo(struct engine *e);
/* Emits the pattern as it now plays (the log's and the console's view). */
void engine_emit_pattern(struct engine *e, int64_t t, int cause, int step, bool live);
/* Sets a parameter (clamped), emits the change and applies its consequences. */
void engine_set_param(struct engine *e, int id, double v, int src, int64_t t, bool live);
void engine_fade_tick(struct engine *e);
/*
 * Idle: the ambient profile's values become the homes and the parameters
 * fade there; what played before (values and homes) is kept for waking.
 */
void engine_enter_idle(struct engine *e, int64_t t, bool live);
void engine_leave_idle(struct engine *e, int64_t t, bool live);
/* A semantic action at t: restarts the idle timeout, may wake. */
void engine_action(struct engine *e, int64_t t, bool deliberate);

/* --- engine_clock.c ------------------------------------------------------ */

/* Pauses or plays at t (a clock or a command's transport). */
void engine_set_paused(struct engine *e, bool paused, int64_t t);
/* The clock out's next pulse is the first at or after the next step. */
void engine_pulse_rewind(struct engine *e);
/* Start, Continue, Stop and the pulses, when the clock source is MIDI. */
void engine_clock_input(struct engine *e, const struct midi_msg *m, int64_t t);
/* When the external clock counts as gone (INT64_MAX: not following). */
int64_t engine_clock_gap_due(const struct engine *e);
/* No pulse for clock_timeout_ms: the internal clock goes on at the tempo
 * followed last. */
void engine_clock_gap(struct engine *e, int64_t t);
/* Time of the clock out's next pulse. */
int64_t engine_pulse_time(struct engine *e);
void engine_run_pulse(struct engine *e, int64_t t);

/* --- engine_input.c ------------------------------------------------------ */

/* Tells readers (log, LEDs, console) what a step is now. */
void engine_step_edit(struct engine *e, int k, int src, int64_t t, bool live);
void engine_run_input(struct engine *e, const struct engine_input *in);

/* --- engine_step.c ------------------------------------------------------- */

/* Runs the earliest unit due before `to`; false when none is. */
bool engine_run_one(struct engine *e, int64_t to);

#endif
