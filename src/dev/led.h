/*
 * led: the LED cue bus from the worker to the Teensy.
 *
 * The worker hands every event list to led_events(); the module turns
 * events into cues (core/cue), queues them, coalesces parameter cues and
 * writes at most max_rate frames per second without ever waiting on the
 * port.  Transports:
 *
 *   serial:PATH[@BAUD]   binary frames (doc/led-protocol.md), 115200 baud by
 *                        default; reopened with backoff when it vanishes
 *   udp:HOST:PORT        one JSON object per datagram
 *   none                 nothing
 *
 * Threads: led_open()/led_close() from the control thread (main), led_close()
 * only once the worker no longer calls led_events(); led_events() from the
 * worker only; led_state() and led_get_stats() from any thread (atomics).
 */
#ifndef ME_DEV_LED_H
#define ME_DEV_LED_H

#include <stddef.h>
#include <stdint.h>

#include "core/cue.h"
#include "core/event.h"
#include "dev/devlink.h"

enum led_err {
	LED_OK,
	LED_ERR_SPEC,    /* not none | serial:PATH[@BAUD] | udp:HOST:PORT */
	LED_ERR_RATE,    /* max_rate outside 1..10000 */
	LED_ERR_RESOLVE, /* the UDP host does not resolve */
	LED_ERR_SOCKET,  /* no UDP socket */
	LED_ERR_NOMEM,
	LED_ERR_THREAD, /* the reconnect thread could not start */
	LED_ERR_COUNT
};

const char *led_strerror(enum led_err e);

#define LED_SERIAL_BAUD 115200
#define LED_RATE_DEFAULT 200
#define LED_RATE_MAX 10000
#define LED_QUEUE_DEFAULT 64
#define LED_NAMES_MAX 16

struct led_options {
	int64_t backoff_first_ns; /* first reopen delay; 0: 50 ms */
	int64_t backoff_max_ns;   /* cap of the doubling delays; 0: 2 s */
	size_t queue_cap;         /* cues waiting at most; 0: LED_QUEUE_DEFAULT */
	/* For JSON cues: NULL-terminated lists (or NULL), copied by led_open(). */
	const char *const *mode_names;
	const char *const *palette_names;
};

struct led_stats {
	uint64_t cues;            /* cues made from events */
	uint64_t frames;          /* frames (datagrams) written */
	uint64_t coalesced;       /* state cues replaced by a newer one before going out */
	uint64_t dropped_param;   /* state cues pushed out of a full queue */
	uint64_t dropped_note;    /* note cues pushed out of a full queue */
	uint64_t dropped_offline; /* note cues made while the port was not open */
	uint64_t port_full;       /* writes the port refused for now (EAGAIN) */
	uint64_t send_errors;     /* UDP datagrams refused */
	uint64_t reconnects;      /* serial port lost and reopened */
	uint32_t queued;          /* cues waiting now */
};

struct led;

/*
 * Checks spec, resolves a UDP host, starts the serial reconnect thread.  A
 * missing serial port is not an error (the link waits for it).  o may be
 * NULL.  NULL on error with *err set.
 */
struct led *led_open(const char *spec, int max_rate, const struct led_options *o,
                     enum led_err *err);
/*
 * Worker only; never blocks.  Queues the cues of n events, then writes what
 * the rate limit (one frame per 1/max_rate s) and the port allow at
 * now_mono_ns.  Call it with every event list, and with n = 0 at
 * led_next_due().
 */
void led_events(struct led *l, const struct event *ev, size_t n, int64_t now_mono_ns);
/* Worker only, between two led_events(): the names JSON cues carry from now
 * on (NULL-terminated lists, copied), as led_options gave them at the open. */
void led_set_names(struct led *l, const char *const *mode_names, const char *const *palette_names);
/* Worker only: when led_events() should be called again (n = 0) to write
 * what is still queued, in CLOCK_MONOTONIC ns; INT64_MAX when nothing is. */
int64_t led_next_due(const struct led *l);
/* Sends the idle cue when the port takes it within 100 ms, then closes. */
void led_close(struct led *l);

enum link_state led_state(const struct led *l);
void led_get_stats(const struct led *l, struct led_stats *st);

#endif
