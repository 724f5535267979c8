/*
 * midi_out: the MIDI output port and its schedule of timed messages.
 *
 * The worker hands it short MIDI messages (clock, transport, notes,
 * controllers), each with the absolute CLOCK_MONOTONIC time it must leave
 * at; midi_out_pump() writes every message that is due and none that is not
 * (never early), with one non-blocking write(), and midi_out_next_due() tells
 * the worker when to wake for the next one.  Ports:
 *
 *   raw:PATH[@BAUD]   a raw MIDI byte stream: ALSA rawmidi node, serial tty
 *                     (31250 baud by default), FIFO or pty; reopened by path
 *                     with backoff when it vanishes
 *   portmidi:NAME     a PortMidi output picked by name (midi_pm_pick), sent
 *                     by a thread of its own (the worker never calls
 *                     PortMidi); reopened by name when it vanishes
 *   none              nothing
 *
 * Threads: midi_out_open()/midi_out_close() from the control thread, close
 * only once the worker no longer calls it; midi_out_send(), _pump(),
 * _next_due() and _generation() from the worker only; midi_out_state() and
 * midi_out_get_stats() from any thread (atomics); the reopen thread (raw)
 * and the sending thread (portmidi) are private.
 */
#ifndef ME_RT_MIDI_OUT_H
#define ME_RT_MIDI_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/devlink.h"
#include "rt/hist.h"

enum midi_out_err {
	MIDI_OUT_OK,
	MIDI_OUT_ERR_SPEC, /* not none | portmidi:NAME | raw:PATH[@BAUD] */
	MIDI_OUT_ERR_NOMEM,
	MIDI_OUT_ERR_THREAD, /* the reopen thread could not start */
	MIDI_OUT_ERR_COUNT
};

const char *midi_out_strerror(enum midi_out_err e);

#define MIDI_OUT_RAW_BAUD 31250
#define MIDI_OUT_QUEUE 2048 /* messages waiting at most */

struct midi_out_options {
	int64_t backoff_first_ns; /* first reopen delay; 0: 50 ms */
	int64_t backoff_max_ns;   /* cap of the doubling delays; 0: 2 s */
};

struct midi_out_stats {
	uint64_t messages;        /* messages written */
	uint64_t bytes;           /* bytes written */
	uint64_t dropped_offline; /* due while the port was not open */
	uint64_t dropped_full;    /* pushed out of a full schedule */
	uint64_t port_full;       /* writes the port refused for now (EAGAIN) */
	uint64_t reconnects;      /* port lost and reopened */
	uint64_t attempts;        /* tries to open the port */
	uint32_t queued;          /* messages waiting now */
};

struct midi_out;

/* Checks spec and starts the reopen thread (a missing port is not an
 * error: the link waits for it).  NULL on error with *err set. */
struct midi_out *midi_out_open(const char *spec, const struct midi_out_options *o,
                               enum midi_out_err *err);
/* Writes what is due now and what waits within 100 ms (all-notes-off
 * messages sent last), then closes. */
void midi_out_close(struct midi_out *mo);
/* SPEC check without opening anything. */
enum midi_out_err midi_out_check_spec(const char *spec);

/*
 * Worker only.  Schedules msg (1..3 bytes) to leave at t_mono; messages with
 * equal times leave in the order sent.  False when the schedule was full
 * (the oldest message made room and was counted).
 */
bool midi_out_send(struct midi_out *mo, int64_t t_mono, const uint8_t *msg, size_t n);
/*
 * Worker only.  Takes out of the schedule every message waiting to leave at
 * or after `from` whose status byte, masked by mask, equals status and,
 * unless data1 < 0, whose first data byte is data1 (a
 * retriggered note's old note-off, the notes after a pause); returns how
 * many.  A scan of the schedule: rare events only.
 */
size_t midi_out_cancel(struct midi_out *mo, uint8_t status, uint8_t mask, int data1, int64_t from);
/* Worker only: writes every message due at the time of the write (the
 * clock read again, at least now), adopting a reopened port. */
void midi_out_pump(struct midi_out *mo, int64_t now);
/* Worker only: the time of the next message waiting, INT64_MAX if none. */
int64_t midi_out_next_due(const struct midi_out *mo);
/* Worker only: counts the port's openings, so a sender can tell that the
 * device on the other end may have missed what came before. */
uint64_t midi_out_generation(const struct midi_out *mo);

enum link_state midi_out_state(const struct midi_out *mo);
void midi_out_get_stats(const struct midi_out *mo, struct midi_out_stats *st);
/* Lateness of written messages (write time minus due time): any thread. */
struct hist *midi_out_lateness(struct midi_out *mo);

#endif
