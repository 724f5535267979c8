/*
 * idle: the idle state machine (see idle.h for the rules).  The engine
 * turns its transitions into profile fades and events.  Pure; the caller
 * owns the state.
 */
#include "core/idle.h"

void idle_init(struct idle *d, int64_t t0, int64_t timeout_ns, int64_t wake_ns)
{
	d->timeout = timeout_ns;
	d->wake = wake_ns < 0 ? 0 : wake_ns;
	d->on = false;
	d->last_action = t0;
	d->wake_start = -1;
}

enum idle_change idle_action(struct idle *d, int64_t t, bool deliberate)
{
	int64_t prev = d->last_action;
	if (t > d->last_action)
		d->last_action = t;
	if (!d->on)
		return IDLE_NONE;
	/* A gap longer than wake ends the burst: this action starts a new one. */
	if (d->wake_start < 0 || t - prev > d->wake)
		d->wake_start = t;
	if (deliberate || t - d->wake_start >= d->wake) {
		d->on = false;
		d->wake_start = -1;
		return IDLE_EXIT;
	}
	return IDLE_NONE;
}

int64_t idle_due(const struct idle *d)
{
	if (d->on || d->timeout <= 0 || d->last_action > INT64_MAX - d->timeout)
		return INT64_MAX;
	return d->last_action + d->timeout;
}

enum idle_change idle_poll(struct idle *d, int64_t t)
{
	if (t < idle_due(d))
		return IDLE_NONE;
	d->on = true;
	d->wake_start = -1;
	return IDLE_ENTER;
}

enum idle_change idle_force(struct idle *d, int64_t t, bool on)
{
	if (on == d->on)
		return IDLE_NONE;
	d->on = on;
	d->wake_start = -1;
	if (!on && t > d->last_action)
		d->last_action = t;
	return on ? IDLE_ENTER : IDLE_EXIT;
}
