/*
 * idle: when the instrument drifts into its ambient mode and when it wakes.
 *
 * Idle is entered timeout after the last action.  Leaving needs real
 * activity, not one stray message: a MIDI action arms waking, and the
 * engine wakes once actions have kept coming for `wake` (each within `wake`
 * of the one before); a deliberate command (keyboard, HTTP, preset) wakes at
 * once.  Every action restarts the timeout, so re-entering needs a full
 * timeout after the last one.  A timeout <= 0 disables idle.  Pure; the
 * caller owns the state.
 */
#ifndef ME_CORE_IDLE_H
#define ME_CORE_IDLE_H

#include <stdbool.h>
#include <stdint.h>

enum idle_change { IDLE_NONE, IDLE_ENTER, IDLE_EXIT };

struct idle {
	int64_t timeout;     /* ns without action before idle, <= 0: never */
	int64_t wake;        /* ns of activity needed to leave */
	bool on;             /* idle now */
	int64_t last_action; /* ns */
	int64_t wake_start;  /* first action of the current burst, -1 none */
};

void idle_init(struct idle *d, int64_t t0, int64_t timeout_ns, int64_t wake_ns);
/* An action at t; returns IDLE_EXIT when it wakes the instrument. */
enum idle_change idle_action(struct idle *d, int64_t t, bool deliberate);
/* Time at which idle will be entered, INT64_MAX when idle or disabled. */
int64_t idle_due(const struct idle *d);
/* IDLE_ENTER when t has reached idle_due(). */
enum idle_change idle_poll(struct idle *d, int64_t t);
/* Enters (on) or leaves idle at t at once; returns the change, if any. */
enum idle_change idle_force(struct idle *d, int64_t t, bool on);

#endif
