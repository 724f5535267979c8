/*
 * midi: the parsed MIDI message, as it travels from the input thread to the
 * core.  Pure data; any thread.
 */
#ifndef ME_CORE_MIDI_H
#define ME_CORE_MIDI_H

#include <stdint.h>

enum midi_kind {
	MIDI_NOTE_OFF,
	MIDI_NOTE_ON, /* velocity > 0; velocity 0 arrives as NOTE_OFF */
	MIDI_POLY_PRESSURE,
	MIDI_CC,
	MIDI_PROGRAM,
	MIDI_CHANNEL_PRESSURE,
	MIDI_PITCH_BEND, /* value 0..16383 */
	MIDI_CLOCK,
	MIDI_START,
	MIDI_CONTINUE,
	MIDI_STOP,
	MIDI_OTHER_REALTIME, /* active sensing, reset, undefined F9/FD */
	MIDI_KIND_COUNT
};

struct midi_msg {
	uint8_t kind;    /* enum midi_kind */
	uint8_t channel; /* 1..16, 0 for system messages */
	uint8_t number;  /* note or controller number */
	uint8_t pad;
	uint16_t value; /* velocity, controller value, bend ... */
};

const char *midi_kind_name(enum midi_kind k);

#endif
