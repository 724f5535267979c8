/*
 * reopen: a device port's open/reopen thread (see reopen.h for the
 * contract), shared by the LED cue port (led.c) and the raw MIDI output
 * (midi_out.c; its PortMidi thread uses the doorbell and the counters).
 *
 * The thread sleeps in ppoll() on an eventfd (the worker's wake-up, a write
 * that cannot block) with the backoff delay as timeout.  Each round
 * (reopen_step) either closes the fd the worker handed back (dead_fd) and
 * waits a backoff delay, or, with no link, tries to open the device: on
 * success the fd goes into fresh_fd for the worker and the thread sleeps
 * until woken; on failure it waits the next backoff delay.  A failure is
 * logged when its reason changes, not at every attempt.  The backoff
 * restarts at its first delay when a link that lived at least settle_ns is
 * lost, so a port that dies at once does not earn fast retries.
 * reopen_serial_open() is the opener both devices use for a serial node.
 */
#include "dev/reopen.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/serial.h"
#include "rt/log.h"
#include "rt/rtclock.h"

enum { EV_LOST, EV_CONNECTED, EV_WAITING, EV_STOP };

static void add(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static int64_t now_ns(const struct reopen *r)
{
	return r->opt.clock ? r->opt.clock() : rtclock_mono_ns();
}

int reopen_serial_open(void *ctx, char *why, size_t cap)
{
	const struct reopen_serial *sp = ctx;
	enum serial_err e;
	int fd = serial_open(sp->path, sp->baud, SERIAL_WRITE, &e);
	if (fd < 0)
		snprintf(why, cap, "%s (%s)", serial_strerror(e), strerror(errno));
	return fd;
}

int reopen_init(struct reopen *r, const struct reopen_options *o)
{
	static const char *const suffix[4] = {"_lost", "_connected", "_waiting", "_stop"};
	memset(r, 0, sizeof *r);
	r->opt = *o;
	for (int i = 0; i < 4; i++)
		snprintf(r->event[i], sizeof r->event[i], "%s%s", o->event ? o->event : "device",
		         suffix[i]);
	snprintf(r->name, sizeof r->name, "%s", o->name ? o->name : "device");
	snprintf(r->opened, sizeof r->opened, "%s", o->opened ? o->opened : "");
	snprintf(r->thread, sizeof r->thread, "%s", o->thread ? o->thread : "device");
	r->opt.event = r->opt.name = r->opt.opened = r->opt.thread = NULL;
	devlink_backoff_init(&r->backoff, o->backoff_first_ns, o->backoff_max_ns);
	atomic_init(&r->fresh_fd, -1);
	atomic_init(&r->dead_fd, -1);
	atomic_init(&r->state, LINK_WAITING);
	r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return r->wake_fd < 0 ? -1 : 0;
}

int reopen_wait(struct reopen *r, int64_t ns)
{
	if (atomic_load(&r->stop))
		return 1;
	struct pollfd pfd = {.fd = r->wake_fd, .events = POLLIN};
	struct timespec ts = rtclock_timespec(ns < 0 ? 0 : ns);
	if (ppoll(&pfd, 1, ns < 0 ? NULL : &ts, NULL) > 0) {
		uint64_t v;
		if (read(r->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
			return atomic_load(&r->stop);
	}
	return atomic_load(&r->stop);
}

int64_t reopen_step(struct reopen *r)
{
	int dead = atomic_exchange(&r->dead_fd, -1);
	if (dead >= 0) {
		close(dead);
		r->have_link = 0;
		int64_t settle = r->opt.settle_ns < 0 ? r->backoff.max_ns : r->opt.settle_ns;
		if (now_ns(r) - r->since >= settle)
			devlink_backoff_reset(&r->backoff);
		log_warn(r->event[EV_LOST], "%s lost, reopening", r->name);
		return devlink_backoff_next(&r->backoff);
	}
	if (r->have_link)
		return -1;
	char why[256] = "";
	add(&r->attempts);
	int fd = r->opt.open(r->opt.ctx, why, sizeof why);
	if (fd >= 0) {
		r->have_link = 1;
		r->since = now_ns(r);
		if (r->ever)
			add(&r->reconnects);
		r->ever = 1;
		r->last_why[0] = '\0';
		atomic_store(&r->fresh_fd, fd);
		atomic_store(&r->state, LINK_CONNECTED);
		log_info(r->event[EV_CONNECTED], "%s open%s", r->name, r->opened);
		return -1;
	}
	if (strcmp(why, r->last_why) != 0) {
		log_warn(r->event[EV_WAITING], "%s: %s; retrying up to every %.3g s", r->name, why,
		         (double)r->backoff.max_ns / 1e9);
		snprintf(r->last_why, sizeof r->last_why, "%s", why);
	}
	return devlink_backoff_next(&r->backoff);
}

static void *reopen_thread(void *arg)
{
	struct reopen *r = arg;
	while (!atomic_load(&r->stop))
		if (reopen_wait(r, reopen_step(r)))
			break;
	return NULL;
}

int reopen_start(struct reopen *r, void *(*run)(void *), void *arg)
{
	if (pthread_create(&r->thread_id, NULL, run ? run : reopen_thread, run ? arg : r) != 0)
		return -1;
	r->started = 1;
	return 0;
}

int reopen_wake(struct reopen *r)
{
	uint64_t one = 1;
	return write(r->wake_fd, &one, sizeof one) < 0 ? -1 : 0;
}

int reopen_adopt(struct reopen *r)
{
	return atomic_exchange(&r->fresh_fd, -1);
}

int reopen_lost(struct reopen *r, int fd)
{
	atomic_store(&r->dead_fd, fd);
	atomic_store(&r->state, LINK_RECONNECTING);
	return reopen_wake(r);
}

int reopen_stop(struct reopen *r, int fd)
{
	if (r->started) {
		atomic_store(&r->stop, 1);
		if (reopen_wake(r) < 0)
			log_warn(r->event[EV_STOP], "cannot wake the %s thread: %s", r->thread,
			         strerror(errno));
		pthread_join(r->thread_id, NULL);
		r->started = 0;
	}
	int fresh = atomic_exchange(&r->fresh_fd, -1);
	int dead = atomic_exchange(&r->dead_fd, -1);
	if (dead >= 0)
		close(dead);
	if (fd < 0)
		fd = fresh;
	else if (fresh >= 0)
		close(fresh);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	r->wake_fd = -1;
	return fd;
}
