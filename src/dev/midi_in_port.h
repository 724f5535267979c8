/*
 * midi_in_port: the private seam between the MIDI input thread (midi_in.c)
 * and its input kinds (midi_in_raw.c, midi_in_pm.c), each a const
 * struct midi_in_ops.  Only these three files include it; only the input
 * thread calls through it.
 */
#ifndef ME_DEV_MIDI_IN_PORT_H
#define ME_DEV_MIDI_IN_PORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/midi_parse.h"
#include "dev/midi_in.h"

struct midi_pm_port;

#define MIDI_IN_WHY_MAX 256

struct midi_in_ops {
	const char *name; /* "portmidi", "raw", "none" */
	/* Tries to connect once: 0 connected, -1 not (why says why). */
	int (*open)(struct midi_in *mi, char *why, size_t cap);
	/* Reads until the device is lost (0, why says how) or a stop is asked (1). */
	int (*run)(struct midi_in *mi, char *why, size_t cap);
	void (*close)(struct midi_in *mi);
};

extern const struct midi_in_ops midi_in_raw_ops;
extern const struct midi_in_ops midi_in_pm_ops;

struct midi_in {
	const struct midi_in_ops *ops;
	char target[1024]; /* raw: path; portmidi: name pattern ("" = auto) */
	int baud;          /* raw on a tty */
	struct midi_in_options opt;
	struct inq *q;

	pthread_t thread;
	int thread_started;
	int stop_fd; /* eventfd: readable once a stop is asked */
	_Atomic int stop;
	_Atomic int state;  /* enum link_state */
	_Atomic int filter; /* enum midi_in_filter */

	/* the input thread's own */
	struct midi_parser parser;
	int fd;                       /* raw */
	struct midi_pm_port *pm_port; /* portmidi: the port open (midi_pm.h) */

	pthread_mutex_t name_lock;
	char port_name[256]; /* connected device, under name_lock */

	_Atomic uint64_t messages[MIDI_KIND_COUNT];
	_Atomic uint64_t bytes, parse_errors, ignored, dropped;
	_Atomic uint64_t attempts, connects, disconnects;
};

/* Parses n bytes that arrived at t (CLOCK_MONOTONIC) and queues the messages. */
void midi_in_feed(struct midi_in *mi, const uint8_t *buf, size_t n, int64_t t);
/* Sleeps ns or until a stop is asked: returns 1 on a stop. */
int midi_in_wait(struct midi_in *mi, int64_t ns);
/* Records the connected device's name for readers. */
void midi_in_set_port_name(struct midi_in *mi, const char *name);

#endif
