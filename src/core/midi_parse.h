/*
 * midi_parse: turns a raw MIDI byte stream into struct midi_msg, one byte at
 * a time.  Pure state machine, no allocation; each parser belongs to one
 * thread (the MIDI input thread, or a test).
 *
 * What a message holds (see core/midi.h):
 *   note on/off, poly pressure: number = note, value = velocity / pressure
 *   control change:             number = controller, value = 0..127
 *   program change:             number = 0, value = program 0..127
 *   channel pressure:           number = 0, value = pressure 0..127
 *   pitch bend:                 number = 0, value = 0..16383 (8192 = centre)
 *   realtime (clock, start, continue, stop, other): channel 0, number = the
 *   status byte, value = 0.
 * Channel messages carry channel 1..16; system messages carry channel 0.
 */
#ifndef ME_CORE_MIDI_PARSE_H
#define ME_CORE_MIDI_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/midi.h"

struct midi_parser {
	uint8_t status; /* status awaiting data (also the running status), 0 = none */
	uint8_t need;   /* data bytes the message in progress needs */
	uint8_t have;   /* data bytes collected so far */
	uint8_t data[2];
	uint8_t in_sysex; /* inside F0 ... F7 */

	/* counters, never reset by the parser itself */
	uint32_t messages[MIDI_KIND_COUNT]; /* delivered, by kind */
	uint32_t stray_data;                /* data bytes with no status to belong to */
	uint32_t stray_eox;                 /* F7 outside a SysEx */
	uint32_t truncated;                 /* messages cut short by another status byte */
	uint32_t sysex;                     /* SysEx messages skipped */
	uint32_t sysex_unterminated;        /* of those, ended by a status other than F7 */
	uint64_t sysex_bytes;               /* data bytes inside SysEx, all skipped */
	uint32_t common;                    /* system common messages (F1 F2 F3 F6) skipped */
	uint32_t undefined;                 /* undefined status bytes F4, F5 */
};

void midi_parse_init(struct midi_parser *p);

/*
 * Feeds one byte.  Returns 1 and fills *out when the byte completes a
 * message (a realtime byte completes one by itself, without disturbing the
 * message in progress), 0 otherwise.
 */
int midi_parse_byte(struct midi_parser *p, uint8_t b, struct midi_msg *out);

/*
 * Feeds up to len bytes, stopping early when cap messages are out.  Returns
 * the number of messages written to out; *used gets the bytes consumed.
 */
size_t midi_parse_buf(struct midi_parser *p, const uint8_t *buf, size_t len, struct midi_msg *out,
                      size_t cap, size_t *used);

/* Data bytes a channel voice or system common status takes (0..2). */
int midi_parse_data_len(uint8_t status);

#endif
