/*
 * fuzz_midi_parse: feeds arbitrary bytes to the two byte-stream parsers that
 * face the outside world, the MIDI parser (src/core/midi_parse.c) and the
 * firmware's LED frame decoder (contrib/teensy/me_cue_decoder.h), and aborts
 * when an invariant breaks.  Built with libFuzzer by `make fuzz`; replayed
 * over the committed corpus by tests/fuzz/replay in `make check`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../contrib/teensy/me_cue_decoder.h"
#include "core/cue.h"
#include "core/midi_parse.h"
#include "core/param.h"
#include "fuzz.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_MSGS 4096

static struct midi_msg by_byte[MAX_MSGS];

static void check_msg(const struct midi_msg *m)
{
	CHECK(m->kind < MIDI_KIND_COUNT);
	CHECK(m->pad == 0);
	if (m->kind <= MIDI_PITCH_BEND) {
		CHECK(m->channel >= 1 && m->channel <= 16);
		CHECK(m->number <= 127);
		CHECK(m->value <= (m->kind == MIDI_PITCH_BEND ? 16383 : 127));
		if (m->kind == MIDI_NOTE_ON)
			CHECK(m->value > 0);
		if (m->kind == MIDI_PROGRAM || m->kind == MIDI_CHANNEL_PRESSURE ||
		    m->kind == MIDI_PITCH_BEND)
			CHECK(m->number == 0);
	} else {
		CHECK(m->channel == 0);
		CHECK(m->number >= 0xF8);
		CHECK(m->value == 0);
	}
}

static void fuzz_midi(const uint8_t *data, size_t size)
{
	struct midi_parser p, q;
	size_t n = 0;
	uint64_t total = 0;

	midi_parse_init(&p);
	for (size_t i = 0; i < size; i++) {
		struct midi_msg m;
		memset(&m, 0xA5, sizeof m);
		int r = midi_parse_byte(&p, data[i], &m);
		CHECK(r == 0 || r == 1);
		/* realtime comes out at once, whatever was in progress */
		if (data[i] >= 0xF8)
			CHECK(r == 1 && m.kind >= MIDI_CLOCK && m.number == data[i]);
		/* anything else is completed by a data byte */
		if (r && data[i] < 0xF8)
			CHECK(data[i] < 0x80 && m.kind <= MIDI_PITCH_BEND);
		if (r) {
			check_msg(&m);
			if (n < MAX_MSGS)
				by_byte[n] = m;
			n++;
		}
	}
	for (int k = 0; k < MIDI_KIND_COUNT; k++)
		total += p.messages[k];
	CHECK(total == n);
	CHECK(p.sysex_unterminated <= p.sysex);
	CHECK(p.sysex_bytes + p.stray_data <= size);

	/* the buffer variant, in small odd chunks, agrees message for message */
	midi_parse_init(&q);
	size_t at = 0, k = 0;
	while (at < size) {
		struct midi_msg chunk[3];
		size_t used = 0;
		size_t len = size - at < 7 ? size - at : 7;
		size_t got = midi_parse_buf(&q, data + at, len, chunk, 3, &used);
		CHECK(used <= len && got <= 3);
		CHECK(used > 0 || len == 0);
		for (size_t j = 0; j < got; j++, k++)
			if (k < MAX_MSGS)
				CHECK(memcmp(&chunk[j], &by_byte[k], sizeof chunk[j]) == 0);
		at += used;
	}
	CHECK(k == n);
	CHECK(memcmp(&p, &q, sizeof p) == 0);
}

/* The engine-side cue a decoded firmware cue came from. */
static int to_cue(const struct me_cue *m, struct cue *c)
{
	memset(c, 0, sizeof *c);
	c->kind = m->type;
	switch (m->type) {
	case ME_CUE_NOTE:
		c->u.note.pitch = m->pitch;
		c->u.note.velocity = m->velocity;
		return 1;
	case ME_CUE_MODE:
		c->u.mode.index = m->index;
		return 1;
	case ME_CUE_PALETTE:
		c->u.palette.index = m->index;
		return 1;
	case ME_CUE_IDLE:
		c->u.idle.on = m->on;
		return 1;
	default:
		return 0;
	}
}

static void fuzz_cues(const uint8_t *data, size_t size)
{
	struct me_cue_decoder d;
	size_t zeros = 0;

	me_cue_decoder_init(&d);
	for (size_t i = 0; i < size; i++) {
		struct me_cue m;
		zeros += data[i] == 0;
		if (!me_cue_decoder_feed(&d, data[i], &m)) {
			CHECK(d.len <= ME_CUE_ENCODED_MAX);
			continue;
		}
		CHECK(data[i] == 0);
		CHECK(m.type >= ME_CUE_NOTE && m.type <= ME_CUE_IDLE);
		CHECK(m.pitch <= 127 && m.velocity <= 127 && m.on <= 1);
		if (m.type == ME_CUE_PARAM) {
			CHECK(m.value == m.value && m.value - m.value == 0);
			continue;
		}
		/* what decodes, the engine encodes back to the same cue */
		struct cue c;
		uint8_t frame[CUE_FRAME_MAX];
		CHECK(to_cue(&m, &c));
		size_t n = cue_encode_frame(&c, frame, sizeof frame);
		CHECK(n > 0 && n <= CUE_FRAME_MAX);
		struct me_cue_decoder e;
		struct me_cue again;
		int got = 0;
		me_cue_decoder_init(&e);
		for (size_t j = 0; j < n; j++)
			got += me_cue_decoder_feed(&e, frame[j], &again);
		CHECK(got == 1 && memcmp(&again, &m, sizeof m) == 0);
	}
	CHECK(d.frames_ok + d.crc_errors + d.framing_errors + d.unknown_type <= zeros);
	CHECK(d.overlong <= size / (ME_CUE_ENCODED_MAX + 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_midi(data, size);
	fuzz_cues(data, size);
	return 0;
}
