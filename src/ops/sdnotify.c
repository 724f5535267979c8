/*
 * sdnotify: sd_notify messages (readiness, stopping, status, watchdog).
 *
 * A thin layer over libsystemd's sd_notify()/sd_watchdog_enabled() when the
 * build has it (HAVE_SYSTEMD), no-ops otherwise, so callers never need an
 * #ifdef.  The watchdog decision (did the worker's heartbeat move?) is a
 * pure function so it can be tested without systemd.  Main thread only.
 */
#include <config.h>

#include "ops/sdnotify.h"

#include <stdio.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

bool sdnotify_available(void)
{
#ifdef HAVE_SYSTEMD
	return true;
#else
	return false;
#endif
}

#ifdef HAVE_SYSTEMD
static void send_status(const char *head, const char *status)
{
	if (status && *status)
		sd_notifyf(0, "%sSTATUS=%s", head, status);
	else if (*head)
		sd_notify(0, head);
}
#endif

void sdnotify_ready(const char *status)
{
#ifdef HAVE_SYSTEMD
	send_status("READY=1\n", status);
#else
	(void)status;
#endif
}

void sdnotify_stopping(void)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

void sdnotify_status(const char *status)
{
#ifdef HAVE_SYSTEMD
	send_status("", status);
#else
	(void)status;
#endif
}

int64_t sdnotify_watchdog_period_ns(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		return (int64_t)(usec / 2) * 1000;
#endif
	return 0;
}

bool sdnotify_watchdog_alive(struct sdnotify_watchdog *w, uint64_t beat)
{
	bool moved = w->primed && beat != w->last_beat;
	w->last_beat = beat;
	w->primed = true;
	return moved;
}

bool sdnotify_watchdog_feed(struct sdnotify_watchdog *w, uint64_t beat)
{
	if (!sdnotify_watchdog_alive(w, beat))
		return false;
#ifdef HAVE_SYSTEMD
	sd_notify(0, "WATCHDOG=1");
	return true;
#else
	return false;
#endif
}
