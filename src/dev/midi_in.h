/*
 * midi_in: the MIDI input thread.  It reads one input (a PortMidi device, a
 * raw MIDI byte stream or nothing), parses and timestamps each message
 * (CLOCK_MONOTONIC) and pushes it into an inq for the worker.  A missing or
 * vanished device never stops the program: the thread waits and reconnects
 * with backoff, and reports its link state.
 *
 *   spec                  input
 *   auto                  the first PortMidi input whose name has no "Through"
 *   portmidi:NAME         the first PortMidi input whose name contains NAME
 *                         (any case)
 *   raw:PATH[@BAUD]       a raw MIDI byte stream: ALSA rawmidi node, serial
 *                         tty (default 31250 baud), FIFO or pty
 *   none                  no input
 *
 * Threads: midi_in_start()/midi_in_stop() from the control thread (main);
 * midi_in_state() and midi_in_get_stats() from any thread, the worker
 * included (atomics only); midi_in_port_name() from any thread but the
 * worker (it takes a mutex the input thread holds briefly).
 */
#ifndef ME_DEV_MIDI_IN_H
#define ME_DEV_MIDI_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/midi.h"
#include "dev/devlink.h"
#include "rt/inq.h"

enum midi_in_err {
	MIDI_IN_OK,
	MIDI_IN_ERR_SPEC, /* not auto | none | portmidi:NAME | raw:PATH[@BAUD] */
	MIDI_IN_ERR_NOMEM,
	MIDI_IN_ERR_THREAD, /* the input thread could not be started */
	MIDI_IN_ERR_COUNT
};

const char *midi_in_strerror(enum midi_in_err e);

#define MIDI_IN_RAW_BAUD 31250

/* Which messages an input passes on: a port that carries only the clock
 * (midi.clock_input_port) passes clock and transport; the notes input
 * beside it then drops them (counted as ignored), so two clocks never
 * fight. */
enum midi_in_filter {
	MIDI_IN_ALL,        /* everything (the default) */
	MIDI_IN_NO_CLOCK,   /* all but clock, Start, Continue, Stop */
	MIDI_IN_CLOCK_ONLY, /* clock, Start, Continue, Stop only */
};

struct midi_in_options {
	enum midi_in_filter filter;
	int64_t backoff_first_ns; /* first reconnect delay; 0: 50 ms */
	int64_t backoff_max_ns;   /* cap of the doubling delays; 0: 2 s */
	int64_t pm_poll_ns;       /* PortMidi has no wake-up: poll period; 0: 500 us */
};

struct midi_in_stats {
	uint64_t messages[MIDI_KIND_COUNT]; /* parsed, by kind (clock ticks included) */
	uint64_t bytes;                     /* raw bytes read (raw input only) */
	uint64_t parse_errors;              /* stray data, truncated messages, undefined status */
	uint64_t ignored;                   /* active sensing, reset, SysEx, system common, and
	                                       what the filter keeps out */
	uint64_t dropped;                   /* messages the queue had no room for */
	uint64_t attempts;                  /* connection attempts */
	uint64_t connects;                  /* successful ones */
	uint64_t disconnects;               /* device lost while connected */
};

struct midi_in;

/*
 * Checks spec and starts the input thread feeding q.  Never fails because
 * the device is missing (the thread waits for it); NULL only for a
 * malformed spec, no memory or no thread, with *err saying which.  o may be
 * NULL for the defaults.  "none" starts no thread and stays LINK_OFF.
 */
struct midi_in *midi_in_start(const char *spec, struct inq *q, const struct midi_in_options *o,
                              enum midi_in_err *err);
/* Stops and joins the input thread, closes the device, frees mi. */
void midi_in_stop(struct midi_in *mi);

/* Any thread: changes what the input passes on from its next message. */
void midi_in_set_filter(struct midi_in *mi, enum midi_in_filter f);
enum link_state midi_in_state(const struct midi_in *mi);
void midi_in_get_stats(const struct midi_in *mi, struct midi_in_stats *st);
/* The name of the device connected now, or "" ; returns its length. */
size_t midi_in_port_name(struct midi_in *mi, char *buf, size_t cap);

/*
 * PortMidi input selection: true when a device called name fits pattern
 * (a case-insensitive substring), or, for pattern NULL or "" (auto), when
 * its name does not contain "through" in any case.
 */
bool midi_in_name_matches(const char *name, const char *pattern);

/* Whether filter f lets a message of kind k through. */
bool midi_in_passes(enum midi_in_filter f, enum midi_kind k);

#endif
