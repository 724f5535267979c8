/*
 * seq: the probabilistic step pattern and its deja vu memory.
 *
 * Each step has a gate probability, a scale degree, a velocity, a length and
 * an on switch.  Each visit of a step makes its random decisions (the gate
 * draw, whether to vary the degree and to what, a velocity nudge) and keeps
 * them in the step's memory; with chaos_lock L the next visit reuses them
 * with probability L and draws fresh ones with probability 1 - L, like a
 * looping random source: L = 1 repeats every cycle exactly, L = 0 never
 * repeats.  Pure; the caller owns the state and the rng.
 */
#ifndef ME_CORE_SEQ_H
#define ME_CORE_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/rng.h"

/* Share of decisions that play a drawn degree instead of the step's own. */
#define SEQ_VARY_SHARE 0.2
/* Largest velocity nudge of a decision. */
#define SEQ_VELOCITY_NUDGE 10

struct seq_memory {
	double gate;  /* the gate draw, 0..1 */
	double vary;  /* < SEQ_VARY_SHARE: play alt instead of the degree */
	int8_t alt;   /* the drawn alternative degree */
	int8_t nudge; /* velocity offset */
};

struct seq {
	struct engine_step step[ENGINE_MAX_STEPS];
	struct seq_memory mem[ENGINE_MAX_STEPS];
	int len; /* active pattern length, 1..ENGINE_MAX_STEPS */
	int pos; /* the step the next visit plays */
};

/* What one visit of a step decided. */
struct seq_hit {
	int pos; /* the step visited */
	bool fired;
	int degree;    /* degree to sound */
	int velocity;  /* 1..127 */
	double length; /* fraction of a step */
};

/*
 * Draws a whole pattern (all ENGINE_MAX_STEPS steps, all on) and its memory:
 * probabilities, degrees favouring the root and the fifth, velocities with
 * accents on the beat, lengths.
 */
void seq_init(struct seq *s, struct rng *r, int len, int scale_id, int octaves, int steps_per_beat);
/* A degree over octaves octaves, weighted towards the root and the fifth. */
int seq_draw_degree(struct rng *r, int scale_id, int octaves);
/*
 * Visits the step at s->pos, fills hit, moves pos on (wrapping at len).
 * force makes a step that is on sound whatever its gate draw (the longest
 * silence rule); the draws are made all the same.
 */
void seq_play(struct seq *s, struct rng *r, double density, double lock, int scale_id, int octaves,
              bool force, struct seq_hit *hit);
/*
 * Rewrites step k the way a Turing Machine shift register flips a bit: a new
 * degree, most often a neighbour of the old one (one or two scale steps up
 * or down, within the octaves), else a fresh draw; now and then a fresh
 * velocity and gate probability too (never the probability of step 0, the
 * downbeat), so accents fade back into the pattern.  The degree always
 * changes; the step's switch never does.
 */
void seq_rewrite(struct seq *s, struct rng *r, int k, int scale_id, int octaves,
                 int steps_per_beat);
/* Changes the pattern length (clamped); the playhead wraps if it falls off. */
void seq_set_length(struct seq *s, int len);
/* Replaces a step with clamped values. */
void seq_set_step(struct seq *s, int k, const struct engine_step *st);
/* Clamps a step's fields to their ranges. */
void seq_clamp_step(struct engine_step *st);

#endif
