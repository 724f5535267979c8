/*
 * synth_health: the sound detector and its escalation ladder (see the
 * header).  Plain arithmetic on the times it is given; the synth backend's
 * control thread owns one and acts on what synth_health_tick() returns.
 */
#include "synth/synth_health.h"

#include <stddef.h>
#include <string.h>

#define MS INT64_C(1000000)

/* The span must cover the window plus this much before it: the reply
 * travels a little after the samples it measured were computed. */
#define TRAVEL_NS (50 * MS)

void synth_health_default_config(struct synth_health_config *c)
{
	c->floor = 1e-5f;
	c->window_ns = 200 * MS;
	c->silent_ns = 3000 * MS;
	c->stale_ns = 2000 * MS;
	c->down_ns = 10000 * MS;
	c->grace_ns = 10000 * MS;
	c->retry_ns = 30000 * MS;
	c->reset_ns = 30000 * MS;
}

void synth_health_init(struct synth_health *h, const struct synth_health_config *cfg)
{
	memset(h, 0, sizeof *h);
	if (cfg)
		h->cfg = *cfg;
	else
		synth_health_default_config(&h->cfg);
	h->sound = SYNTH_SOUND_UNKNOWN;
	h->down_since = -1;
	h->healthy_since = -1;
}

/* The reply arriving at now measured the window_ns of output computed just
 * before it left, up to TRAVEL_NS earlier: W = [now - TRAVEL - window, now]
 * holds it.  The real-time side merges notes less than SYNTH_HEALTH_GAP_NS
 * apart into one span, so a span that covers more than TRAVEL + GAP of W
 * covers more than GAP of the measured window, which therefore holds the
 * sustain of some note, wherever it lies in W. */
bool synth_health_expected(const struct synth_health *h, int64_t start, int64_t end, int64_t now)
{
	if (end < start)
		return false;
	int64_t lo = now - h->cfg.window_ns - TRAVEL_NS;
	int64_t a = start > lo ? start : lo, b = end < now ? end : now;
	return b - a >= TRAVEL_NS + SYNTH_HEALTH_GAP_NS + 10 * MS;
}

void synth_health_meter(struct synth_health *h, int64_t now, float peak, bool expected)
{
	(void)now;
	if (peak >= h->cfg.floor) {
		h->silent_run = 0;
		h->silent = false;
	} else if (expected) {
		h->silent_run += h->cfg.window_ns;
		if (h->silent_run >= h->cfg.silent_ns)
			h->silent = true;
	}
	/* Quiet while nothing should sound is right: it neither counts nor
	 * clears a fault. */
	h->sound = h->silent ? SYNTH_SOUND_SILENT : SYNTH_SOUND_OK;
}

/* The next step on the ladder, or none while the last one still has time. */
static enum synth_health_action escalate(struct synth_health *h, int64_t now, bool ready)
{
	/* The last step has its grace, unless it already worked and this is
	 * a new fault. */
	if (h->step > 0 && !h->recovered && now - h->step_at < h->cfg.grace_ns)
		return SYNTH_HEALTH_NONE;
	enum synth_health_action a;
	if (h->step >= 3) {
		if (now - h->step_at < h->cfg.retry_ns)
			return SYNTH_HEALTH_NONE;
		a = SYNTH_HEALTH_RESTART_STACK;
	} else {
		h->step++;
		a = h->step == 1   ? SYNTH_HEALTH_RESTART_SERVER
		    : h->step == 2 ? SYNTH_HEALTH_RESTART_STACK
		                   : SYNTH_HEALTH_WITHHOLD_WATCHDOG;
	}
	h->step_at = now;
	h->recovered = false;
	h->faults++;
	/* The next step needs fresh evidence. */
	h->silent_run = 0;
	if (!ready)
		h->down_since = now;
	return a;
}

enum synth_health_action synth_health_tick(struct synth_health *h, int64_t now, bool ready,
                                           int64_t ready_ns, int64_t meter_ns, bool curable)
{
	bool fault = false;
	if (!ready) {
		if (h->was_ready || h->down_since < 0)
			h->down_since = now;
		h->sound = SYNTH_SOUND_DOWN;
		h->silent_run = 0;
		fault = curable && now - h->down_since >= h->cfg.down_ns;
	} else {
		if (!h->was_ready || ready_ns != h->ready_at) {
			/* ready again (perhaps after a restart too quick to see) */
			h->ready_at = ready_ns;
			h->down_since = -1;
			h->silent_run = 0;
			h->sound = h->silent ? SYNTH_SOUND_SILENT : SYNTH_SOUND_UNKNOWN;
		}
		int64_t last = meter_ns > ready_ns ? meter_ns : ready_ns;
		if (h->resumed_at > last)
			last = h->resumed_at;
		if (now - last >= h->cfg.stale_ns) {
			h->sound = SYNTH_SOUND_NO_METER;
			fault = true;
		} else if (h->silent && h->silent_run >= h->cfg.silent_ns) {
			h->sound = SYNTH_SOUND_SILENT;
			fault = true;
		}
	}
	h->was_ready = ready;

	if (fault) {
		h->healthy_since = -1;
		return escalate(h, now, ready);
	}
	if (ready && h->sound == SYNTH_SOUND_OK && !h->silent) {
		h->recovered = true;
		if (h->healthy_since < 0)
			h->healthy_since = now;
		if (h->step > 0 && now - h->healthy_since >= h->cfg.reset_ns)
			h->step = 0;
	} else {
		h->healthy_since = -1;
	}
	return SYNTH_HEALTH_NONE;
}

void synth_health_resume(struct synth_health *h, int64_t now)
{
	h->resumed_at = now;
}

int64_t synth_health_next_tick(const struct synth_health *h, int64_t now, int64_t span_end,
                               int64_t ready_ns, int64_t meter_ns, bool watched)
{
	int64_t tick = now + SYNTH_HEALTH_TICK_NS;
	if (!h->was_ready || h->sound != SYNTH_SOUND_OK || h->silent || h->step > 0)
		return tick;
	int64_t last = meter_ns > ready_ns ? meter_ns : ready_ns;
	if (h->resumed_at > last)
		last = h->resumed_at;
	int64_t stale = last + h->cfg.stale_ns;
	if (stale <= now || watched)
		return tick;
	if (span_end > now - SYNTH_HEALTH_HOLD_NS) {
		/* notes sound, or did lately */
		if (h->silent_run > 0)
			return tick;
		int64_t slow = now + SYNTH_HEALTH_UNWATCHED_TICK_NS;
		return stale < slow ? stale : slow;
	}
	return stale;
}

bool synth_health_watchdog_ok(const struct synth_health *h)
{
	return h->step < 3;
}

const char *synth_sound_name(enum synth_sound s)
{
	switch (s) {
	case SYNTH_SOUND_UNKNOWN:
		return "unknown";
	case SYNTH_SOUND_OK:
		return "ok";
	case SYNTH_SOUND_SILENT:
		return "silent";
	case SYNTH_SOUND_NO_METER:
		return "no_meter";
	case SYNTH_SOUND_DOWN:
		return "down";
	case SYNTH_SOUND_COUNT:
		break;
	}
	return "?";
}

const char *synth_health_action_name(enum synth_health_action a)
{
	switch (a) {
	case SYNTH_HEALTH_NONE:
		return "none";
	case SYNTH_HEALTH_RESTART_SERVER:
		return "restart_server";
	case SYNTH_HEALTH_RESTART_STACK:
		return "restart_stack";
	case SYNTH_HEALTH_WITHHOLD_WATCHDOG:
		return "withhold_watchdog";
	}
	return "?";
}
