/*
 * sdnotify: telling systemd how the service is doing (Type=notify).
 *
 * Built with libsystemd (HAVE_SYSTEMD) these send READY=1, STOPPING=1,
 * STATUS=... and WATCHDOG=1 through sd_notify(); built without, every call
 * is a no-op and the watchdog reads as disabled.  Outside systemd
 * ($NOTIFY_SOCKET unset) they do nothing either.
 *
 * The watchdog is fed from the main thread and only while the real-time
 * worker is alive: sdnotify_watchdog_feed() pings when the worker's heartbeat
 * moved since the previous call, so a stuck worker stops the pings and
 * systemd restarts the service.  Main thread only.
 */
#ifndef ME_OPS_SDNOTIFY_H
#define ME_OPS_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Whether this build can talk to systemd at all. */
bool sdnotify_available(void);

/* READY=1 (with a STATUS line): call once the audio stack answers. */
void sdnotify_ready(const char *status);
/* STOPPING=1: call when shutdown begins. */
void sdnotify_stopping(void);
/* STATUS=...: free-form state for `systemctl status`. */
void sdnotify_status(const char *status);

/*
 * How often to call sdnotify_watchdog_feed(), in ns: half of the unit's
 * WatchdogSec ($WATCHDOG_USEC for this process); 0 when no watchdog is
 * wanted.
 */
int64_t sdnotify_watchdog_period_ns(void);

struct sdnotify_watchdog {
	uint64_t last_beat;
	bool primed; /* last_beat holds a real reading */
};

/*
 * Whether the worker is alive: true when beat differs from the previous
 * call's (the first call only records it).  Pure; the decision behind
 * sdnotify_watchdog_feed().
 */
bool sdnotify_watchdog_alive(struct sdnotify_watchdog *w, uint64_t beat);
/* Sends WATCHDOG=1 when sdnotify_watchdog_alive(); returns whether it did. */
bool sdnotify_watchdog_feed(struct sdnotify_watchdog *w, uint64_t beat);

#endif
