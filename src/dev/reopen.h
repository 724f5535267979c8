/*
 * reopen: a device port's open/reopen thread, shared by the LED cue port
 * and the raw MIDI output.  The worker never opens or closes a device
 * (open() of a tty may sleep, close() may drain): a small thread opens it
 * and publishes the fd for the worker to adopt; when a write fails for good
 * (unplugged) the worker hands the fd back and wakes the thread, which
 * closes it and reopens the device on the devlink backoff schedule.  The
 * link state and the attempt and reconnect counters are kept here for the
 * device to report.
 *
 * Threads: reopen_init(), reopen_start() and reopen_stop() from the thread
 * that owns the device; reopen_adopt() and reopen_lost() from the worker;
 * reopen_step() and reopen_wait() from the reopen thread only (or a test
 * driving reopen_step() with no thread); reopen_wake() and the atomics
 * from any thread.
 */
#ifndef ME_DEV_REOPEN_H
#define ME_DEV_REOPEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/devlink.h"

#define REOPEN_NAME_MAX 1100

struct reopen_options {
	/* Opens the device: a non-blocking fd, or -1 with why (cap bytes)
	 * saying why, without the device's name. */
	int (*open)(void *ctx, char *why, size_t cap);
	void *ctx;
	const char *event;  /* log events EVENT_lost, _connected, _waiting, _stop */
	const char *thread; /* "LED": the log says "the LED thread" */
	const char *name;   /* "LED port /dev/ttyACM0": what the log lines name */
	const char *opened; /* said after "NAME open" ("" or " at 115200 baud") */
	int64_t backoff_first_ns, backoff_max_ns; /* 0: devlink's defaults */
	/* A link lost sooner than this after it opened does not earn the
	 * first, fast retry again: the backoff goes on doubling.  0: every
	 * loss retries first fast; < 0: the backoff's max. */
	int64_t settle_ns;
	int64_t (*clock)(void); /* monotonic ns; NULL: rtclock_mono_ns */
};

struct reopen {
	struct reopen_options opt;
	char event[4][48]; /* lost, connected, waiting, stop */
	char name[REOPEN_NAME_MAX], opened[64], thread[32];

	/* the reopen thread's own */
	struct devlink_backoff backoff;
	char last_why[256];
	int have_link, ever;
	int64_t since;

	/* hand-off with the worker */
	_Atomic int fresh_fd, dead_fd;
	int wake_fd;
	_Atomic int stop;
	pthread_t thread_id;
	int started;

	_Atomic int state; /* enum link_state */
	_Atomic uint64_t attempts, reconnects;
};

/* The opener of a serial device written to (a tty, a rawmidi node, a
 * FIFO): ctx is a struct reopen_serial. */
struct reopen_serial {
	const char *path;
	int baud;
};
int reopen_serial_open(void *ctx, char *why, size_t cap);

/* Fills r from o (copied); state LINK_WAITING; no thread yet.  0, or -1
 * when the wake-up eventfd cannot be made. */
int reopen_init(struct reopen *r, const struct reopen_options *o);
/* Starts the thread: run(arg), or the reopen loop when run is NULL.
 * 0, or -1. */
int reopen_start(struct reopen *r, void *(*run)(void *), void *arg);
/* Stops and joins the thread (if started), closes the eventfd and any fd
 * handed back; returns the fd the worker should keep: fd, or the freshly
 * opened one not yet adopted when fd < 0. */
int reopen_stop(struct reopen *r, int fd);

/* Worker: the fd freshly opened (now the caller's), or -1. */
int reopen_adopt(struct reopen *r);
/* Worker: fd is dead; the thread closes it and reopens.  State
 * LINK_RECONNECTING.  0, or -1 when the thread could not be woken. */
int reopen_lost(struct reopen *r, int fd);
/* Any thread: wakes the thread (a doorbell); 0, or -1. */
int reopen_wake(struct reopen *r);

/* One round of the reopen thread: closes a dead fd, or tries to open the
 * device.  Returns how long to wait before the next round (ns; -1: until
 * woken). */
int64_t reopen_step(struct reopen *r);
/* Sleeps ns (forever if < 0) or until woken; 1 when a stop is asked. */
int reopen_wait(struct reopen *r, int64_t ns);

#endif
