/*
 * seq: the pattern, its deja vu memory, and the weighted degree draw.
 *
 * Degree weights within an octave: the root 4, the fifth (the scale note
 * nearest 7 semitones up) 3, every other note 1; the octave is uniform over
 * the configured range.  A step fires when its gate draw falls below
 * probability x density, so over many fresh draws the fire rate of a step is
 * exactly that product.  Pure; the caller owns the state.
 */
#include "core/seq.h"

#include <stdlib.h>

#include "core/scale.h"

static const double lengths[] = {0.5, 1.0, 1.5, 2.0};
static const double length_w[] = {3, 4, 2, 1};

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int seq_draw_degree(struct rng *r, int scale_id, int octaves)
{
	const struct scale_info *si =
	    &scale_table[scale_id >= 0 && scale_id < SCALE_COUNT ? scale_id : SCALE_CHROMATIC];
	double w[12];
	int fifth = 0;
	for (int i = 0; i < si->n; i++) {
		w[i] = 1;
		if (abs(si->steps[i] - 7) < abs(si->steps[fifth] - 7))
			fifth = i;
	}
	w[0] = 4;
	if (fifth != 0)
		w[fifth] = 3;
	int idx = rng_weighted(r, w, si->n);
	int oct = (int)rng_below(r, (uint32_t)clampi(octaves, 1, 4));
	return oct * si->n + (idx < 0 ? 0 : idx);
}

static void draw_memory(struct seq_memory *m, struct rng *r, int scale_id, int octaves)
{
	m->gate = rng_unit(r);
	m->vary = rng_unit(r);
	m->alt = (int8_t)seq_draw_degree(r, scale_id, octaves);
	m->nudge = (int8_t)((int)rng_below(r, 2 * SEQ_VELOCITY_NUDGE + 1) - SEQ_VELOCITY_NUDGE);
}

void seq_clamp_step(struct engine_step *st)
{
	if (!(st->prob >= 0))
		st->prob = 0;
	if (st->prob > 1)
		st->prob = 1;
	if (!(st->length >= 0.05))
		st->length = 0.05;
	if (st->length > 4)
		st->length = 4;
	if (st->velocity < 1)
		st->velocity = 1;
	if (st->velocity > 127)
		st->velocity = 127;
	st->on = st->on ? 1 : 0;
}

void seq_init(struct seq *s, struct rng *r, int len, int scale_id, int octaves, int steps_per_beat)
{
	if (steps_per_beat < 1)
		steps_per_beat = 1;
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		struct engine_step *st = &s->step[k];
		bool beat = k % steps_per_beat == 0;
		st->prob = k == 0 ? 1.0 : beat ? rng_range(r, 0.6, 1.0) : rng_range(r, 0.3, 0.9);
		st->degree = (int8_t)seq_draw_degree(r, scale_id, octaves);
		st->velocity = (uint8_t)(rng_range(r, 64, 100) + (beat ? 18 : 0));
		st->length = lengths[rng_weighted(r, length_w, 4)];
		st->on = 1;
		draw_memory(&s->mem[k], r, scale_id, octaves);
	}
	s->len = clampi(len, 1, ENGINE_MAX_STEPS);
	s->pos = 0;
}

void seq_play(struct seq *s, struct rng *r, double density, double lock, int scale_id, int octaves,
              bool force, struct seq_hit *hit)
{
	int k = s->pos;
	struct seq_memory *m = &s->mem[k];
	const struct engine_step *st = &s->step[k];
	/* Deja vu: keep the last decisions with probability lock. */
	if (rng_unit(r) >= lock)
		draw_memory(m, r, scale_id, octaves);
	hit->pos = k;
	hit->fired = st->on && (force || m->gate < st->prob * density);
	hit->degree = m->vary < SEQ_VARY_SHARE ? m->alt : st->degree;
	hit->velocity = clampi(st->velocity + m->nudge, 1, 127);
	hit->length = st->length;
	s->pos = (k + 1) % s->len;
}

/* Share of rewrites that move to a neighbouring degree rather than anywhere. */
#define REWRITE_NEIGHBOUR 0.7
/* Share of rewrites that also draw a fresh gate probability and velocity. */
#define REWRITE_GATE 0.25

void seq_rewrite(struct seq *s, struct rng *r, int k, int scale_id, int octaves, int steps_per_beat)
{
	if (k < 0 || k >= ENGINE_MAX_STEPS)
		return;
	const struct scale_info *si =
	    &scale_table[scale_id >= 0 && scale_id < SCALE_COUNT ? scale_id : SCALE_CHROMATIC];
	int span = si->n * clampi(octaves, 1, 4);
	struct engine_step *st = &s->step[k];
	int old = ((st->degree % span) + span) % span, d = old;
	if (rng_unit(r) < REWRITE_NEIGHBOUR) {
		int by = 1 + (int)rng_below(r, 2);
		d = old + (rng_unit(r) < 0.5 ? -by : by);
		if (d < 0 || d >= span)
			d = old - (d - old); /* bounce off the ends of the range */
	} else {
		for (int i = 0; i < 8 && d == old; i++)
			d = seq_draw_degree(r, scale_id, octaves);
	}
	if (d == old || d < 0 || d >= span)
		d = old + 1 < span ? old + 1 : old - 1;
	if (d < 0)
		d = 0; /* a one-note range: nothing else to play */
	st->degree = (int8_t)d;
	if (rng_unit(r) < REWRITE_GATE) {
		/* as seq_init draws them: so visitors' accents fade into the pattern */
		bool beat = k % (steps_per_beat < 1 ? 1 : steps_per_beat) == 0;
		double prob = beat ? rng_range(r, 0.6, 1.0) : rng_range(r, 0.3, 0.9);
		if (k != 0)
			st->prob = prob;
		st->velocity = (uint8_t)(rng_range(r, 64, 100) + (beat ? 18 : 0));
	}
}

void seq_set_length(struct seq *s, int len)
{
	s->len = clampi(len, 1, ENGINE_MAX_STEPS);
	if (s->pos >= s->len)
		s->pos = 0;
}

void seq_set_step(struct seq *s, int k, const struct engine_step *st)
{
	if (k < 0 || k >= ENGINE_MAX_STEPS)
		return;
	s->step[k] = *st;
	seq_clamp_step(&s->step[k]);
}
