/*
 * clock_follow: following an external MIDI clock (24 pulses a beat) from
 * the arrival times of its pulses.
 *
 * The filter is a least-squares straight line through the last
 * CLOCK_FOLLOW_WINDOW pulses (four beats): time = a + period * index.  Its
 * slope is the tempo, its line the phase: clock_follow_time() predicts when
 * any pulse (a fractional index too) ideally falls, so arrival jitter (USB
 * polling, a busy sender) averages out instead of moving the steps.  Its
 * lag is half the window (two beats); the standard error of its tempo is
 * jitter_rms / sqrt(N (N^2 - 1) / 12) pulse periods (N = 96 and +-1 ms of
 * uniform jitter at 120 BPM: 0.01 %).  A tempo change is found by a second
 * fit through the last CLOCK_FOLLOW_SHORT pulses (one beat): when its tempo
 * differs from the long one by more than CLOCK_FOLLOW_SIGMAS of its own
 * standard error (its rms residual floored at CLOCK_FOLLOW_JITTER_FLOOR_NS)
 * and by more than 0.5 %, the
 * older pulses are dropped and the window grows again from the short one.
 * A straight-line fit has no overshoot: after a tempo step the estimate
 * moves monotonically to the new tempo.  The fit's rms residual is the
 * jitter shown to the operator.
 *
 * Pure: times are the caller's (ns), no clock is read.  Any thread that owns
 * the state; the engine calls it.
 */
#ifndef ME_CORE_CLOCK_FOLLOW_H
#define ME_CORE_CLOCK_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_FOLLOW_WINDOW 96 /* pulses in the fit: four beats */
#define CLOCK_FOLLOW_SHORT 24  /* pulses of the change detector's fit: one beat */
#define CLOCK_FOLLOW_SIGMAS 6.0
#define CLOCK_FOLLOW_CHANGE_MIN 0.005 /* smaller changes are left to the long fit */
#define CLOCK_FOLLOW_JITTER_FLOOR_NS 200000.0
#define CLOCK_FOLLOW_MIN 3   /* pulses before the fit is used */
#define CLOCK_FOLLOW_PPQN 24 /* MIDI clock pulses per quarter note */
#define CLOCK_FOLLOW_BPM_MIN 20.0
#define CLOCK_FOLLOW_BPM_MAX 300.0

struct clock_follow {
	int64_t t[CLOCK_FOLLOW_WINDOW]; /* arrival times, a ring */
	int64_t p[CLOCK_FOLLOW_WINDOW]; /* their pulse indices */
	int n, head;                    /* pulses in the ring, next slot */
	int64_t count;                  /* index the next pulse gets */
	int64_t last_t;                 /* arrival of the latest pulse, INT64_MIN none */
	/* the fit: pulse index P falls at t_ref + a + period * (P - p_ref) */
	int64_t t_ref, p_ref;
	double a, period; /* ns */
	double jitter;    /* rms residual of the fit, ns */
	bool valid;       /* at least CLOCK_FOLLOW_MIN pulses */
	uint64_t changes; /* tempo changes found (window cut short) */
};

/* Forgets everything (the tempo too). */
void clock_follow_reset(struct clock_follow *f);
/* Starts counting again from index 0 (Start, Continue), keeping the tempo
 * until new pulses give one. */
void clock_follow_restart(struct clock_follow *f);
/* A pulse arrived at t (t never decreases); it gets the next index. */
void clock_follow_pulse(struct clock_follow *f, int64_t t);
/* Ideal time of pulse index pulse (valid fits only). */
int64_t clock_follow_time(const struct clock_follow *f, double pulse);
/* The tempo followed, BPM (20..300), 0 before any fit. */
double clock_follow_bpm(const struct clock_follow *f);

#endif
