/*
 * midi: names of the MIDI message kinds, for the event log and the console.
 * Constant data; any thread.
 */
#include "core/midi.h"

static const char *const kind_names[MIDI_KIND_COUNT] = {
    [MIDI_NOTE_OFF] = "note_off",
    [MIDI_NOTE_ON] = "note_on",
    [MIDI_POLY_PRESSURE] = "poly_pressure",
    [MIDI_CC] = "cc",
    [MIDI_PROGRAM] = "program",
    [MIDI_CHANNEL_PRESSURE] = "channel_pressure",
    [MIDI_PITCH_BEND] = "pitch_bend",
    [MIDI_CLOCK] = "clock",
    [MIDI_START] = "start",
    [MIDI_CONTINUE] = "continue",
    [MIDI_STOP] = "stop",
    [MIDI_OTHER_REALTIME] = "other_realtime",
};

const char *midi_kind_name(enum midi_kind k)
{
	return (unsigned)k < MIDI_KIND_COUNT ? kind_names[k] : "unknown";
}
