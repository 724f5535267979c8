/*
 * midi_parse: the MIDI byte-stream state machine.
 *
 * One status byte is remembered (`status`): it is the message being filled
 * and, for channel voice messages, the running status that lets the next
 * data bytes start a new message without repeating it.  System common and
 * SysEx clear it; realtime bytes (F8-FF) never touch it and come out at once,
 * wherever they fall, even inside a SysEx.  SysEx is skipped by counting its
 * bytes, so any length takes O(1) memory; it ends at F7 or at any other
 * non-realtime status byte.  Data bytes with nowhere to go are dropped and
 * counted.  Pure, no allocation; a parser belongs to one thread.
 */
#include "core/midi_parse.h"

#include <string.h>

void midi_parse_init(struct midi_parser *p)
{
	memset(p, 0, sizeof *p);
}

int midi_parse_data_len(uint8_t status)
{
	switch (status & 0xF0) {
	case 0x80:
	case 0x90:
	case 0xA0:
	case 0xB0:
	case 0xE0:
		return 2;
	case 0xC0:
	case 0xD0:
		return 1;
	case 0xF0:
		break;
	default:
		return 0;
	}
	switch (status) {
	case 0xF1:
	case 0xF3:
		return 1;
	case 0xF2:
		return 2;
	default:
		return 0;
	}
}

static int deliver(struct midi_parser *p, struct midi_msg *out, enum midi_kind kind,
                   uint8_t channel, uint8_t number, uint16_t value)
{
	out->kind = (uint8_t)kind;
	out->channel = channel;
	out->number = number;
	out->pad = 0;
	out->value = value;
	p->messages[kind]++;
	return 1;
}

static int realtime(struct midi_parser *p, uint8_t b, struct midi_msg *out)
{
	enum midi_kind k;
	switch (b) {
	case 0xF8:
		k = MIDI_CLOCK;
		break;
	case 0xFA:
		k = MIDI_START;
		break;
	case 0xFB:
		k = MIDI_CONTINUE;
		break;
	case 0xFC:
		k = MIDI_STOP;
		break;
	default:
		k = MIDI_OTHER_REALTIME;
		break;
	}
	return deliver(p, out, k, 0, b, 0);
}

/* A channel voice message has all its data bytes. */
static int voice(struct midi_parser *p, struct midi_msg *out)
{
	uint8_t ch = (uint8_t)((p->status & 0x0F) + 1);
	uint8_t d0 = p->data[0], d1 = p->data[1];
	switch (p->status & 0xF0) {
	case 0x80:
		return deliver(p, out, MIDI_NOTE_OFF, ch, d0, d1);
	case 0x90:
		return deliver(p, out, d1 ? MIDI_NOTE_ON : MIDI_NOTE_OFF, ch, d0, d1);
	case 0xA0:
		return deliver(p, out, MIDI_POLY_PRESSURE, ch, d0, d1);
	case 0xB0:
		return deliver(p, out, MIDI_CC, ch, d0, d1);
	case 0xC0:
		return deliver(p, out, MIDI_PROGRAM, ch, 0, d0);
	case 0xD0:
		return deliver(p, out, MIDI_CHANNEL_PRESSURE, ch, 0, d0);
	default:
		return deliver(p, out, MIDI_PITCH_BEND, ch, 0, (uint16_t)(d0 | d1 << 7));
	}
}

static int data_byte(struct midi_parser *p, uint8_t b, struct midi_msg *out)
{
	if (p->in_sysex) {
		p->sysex_bytes++;
		return 0;
	}
	if (!p->status) {
		p->stray_data++;
		return 0;
	}
	p->data[p->have++] = b;
	if (p->have < p->need)
		return 0;
	p->have = 0;
	if (p->status < 0xF0)
		return voice(p, out); /* status stays: running status */
	p->common++;
	p->status = 0;
	return 0;
}

static void status_byte(struct midi_parser *p, uint8_t b)
{
	if (p->in_sysex) {
		p->in_sysex = 0;
		p->sysex++;
		if (b == 0xF7)
			return;
		p->sysex_unterminated++;
	}
	if (p->status && p->have)
		p->truncated++;
	p->have = 0;
	p->status = 0;
	if (b < 0xF0) {
		p->status = b;
		p->need = (uint8_t)midi_parse_data_len(b);
		return;
	}
	switch (b) {
	case 0xF0:
		p->in_sysex = 1;
		break;
	case 0xF1:
	case 0xF2:
	case 0xF3:
		p->status = b;
		p->need = (uint8_t)midi_parse_data_len(b);
		break;
	case 0xF6:
		p->common++;
		break;
	case 0xF7:
		p->stray_eox++;
		break;
	default: /* F4, F5 */
		p->undefined++;
		break;
	}
}

int midi_parse_byte(struct midi_parser *p, uint8_t b, struct midi_msg *out)
{
	if (b >= 0xF8)
		return realtime(p, b, out);
	if (b & 0x80) {
		status_byte(p, b);
		return 0;
	}
	return data_byte(p, b, out);
}

size_t midi_parse_buf(struct midi_parser *p, const uint8_t *buf, size_t len, struct midi_msg *out,
                      size_t cap, size_t *used)
{
	size_t i = 0, n = 0;
	while (i < len && n < cap)
		n += (size_t)midi_parse_byte(p, buf[i++], &out[n]);
	if (used)
		*used = i;
	return n;
}
