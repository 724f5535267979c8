/*
 * test_decoder: unit tests of me_cue_decoder.h, the firmware's serial cue
 * decoder, against the engine's own encoder (src/core/cue.c).  Plain C99 and
 * assert(); built and run by `make check`.  Exit status 0 = all passed.
 */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/cue.h"
#include "core/param.h"
#include "me_cue_decoder.h"

#define MAX_GOT 64
/* The step cue frame printed in doc/led-protocol.md: step 3 on, velocity 116, 100 %. */
#define STEP_FRAME_BYTES 0x00, 0x07, 0x06, 0x03, 0x01, 0x74, 0x64, 0xD7, 0x00
#define STREAM_MAX 4096

struct run {
	struct me_cue got[MAX_GOT];
	int n;
};

static void feed(struct me_cue_decoder *d, const uint8_t *b, size_t n, struct run *r)
{
	size_t i;
	for (i = 0; i < n; i++) {
		struct me_cue c;
		if (me_cue_decoder_feed(d, b[i], &c)) {
			assert(r->n < MAX_GOT);
			r->got[r->n++] = c;
		}
	}
}

static uint32_t errors(const struct me_cue_decoder *d)
{
	return d->crc_errors + d->framing_errors + d->overlong + d->unknown_type;
}

static size_t encode(const struct cue *c, uint8_t *buf)
{
	size_t n = cue_encode_frame(c, buf, CUE_FRAME_MAX);
	assert(n > 0);
	return n;
}

static struct cue note(int pitch, int velocity)
{
	struct cue c;
	memset(&c, 0, sizeof c);
	c.kind = CUE_NOTE;
	c.u.note.pitch = (uint8_t)pitch;
	c.u.note.velocity = (uint8_t)velocity;
	return c;
}

static struct cue param(int id, double v)
{
	struct cue c;
	memset(&c, 0, sizeof c);
	c.kind = CUE_PARAM;
	c.u.param.id = (uint8_t)id;
	c.u.param.value = v;
	return c;
}

static struct cue simple(int kind, int v)
{
	struct cue c;
	memset(&c, 0, sizeof c);
	c.kind = (uint8_t)kind;
	if (kind == CUE_IDLE)
		c.u.idle.on = (uint8_t)v;
	else
		c.u.mode.index = (uint8_t)v; /* mode and palette share the layout */
	return c;
}

static struct cue step(int k, int on, int velocity, int prob)
{
	struct cue c;
	memset(&c, 0, sizeof c);
	c.kind = CUE_STEP;
	c.u.step.step = (uint8_t)k;
	c.u.step.on = (uint8_t)on;
	c.u.step.velocity = (uint8_t)velocity;
	c.u.step.prob = (uint8_t)prob;
	return c;
}

/* True when the decoded cue is the one that was encoded. */
static int same(const struct me_cue *m, const struct cue *c)
{
	if (m->type != c->kind)
		return 0;
	switch (c->kind) {
	case CUE_NOTE:
		return m->pitch == c->u.note.pitch && m->velocity == c->u.note.velocity;
	case CUE_PARAM:
		return m->param == c->u.param.id && m->value == (float)c->u.param.value &&
		       m->position == cue_param_position(c);
	case CUE_MODE:
		return m->index == c->u.mode.index;
	case CUE_PALETTE:
		return m->index == c->u.palette.index;
	case CUE_STEP:
		return m->step == c->u.step.step && m->on == c->u.step.on &&
		       m->velocity == c->u.step.velocity && m->prob == c->u.step.prob;
	default:
		return m->on == c->u.idle.on;
	}
}

static void test_round_trip_every_kind(void)
{
	struct cue cues[11];
	uint8_t buf[CUE_FRAME_MAX];
	struct me_cue_decoder d;
	struct run r = {0};
	int i;

	cues[0] = note(64, 100);
	cues[1] = param(P_TEMPO, 128);
	cues[2] = param(P_FILTER_CUTOFF, 433.5);
	cues[3] = simple(CUE_MODE, 2);
	cues[4] = simple(CUE_PALETTE, 7);
	cues[5] = simple(CUE_IDLE, 1);
	cues[6] = simple(CUE_IDLE, 0);
	cues[7] = step(0, 1, 127, 100);
	cues[8] = step(63, 0, 1, 0);
	cues[9] = step(5, 1, 90, 45);
	cues[10] = param(P_RELEASE, 2.0);
	me_cue_decoder_init(&d);
	for (i = 0; i < 11; i++)
		feed(&d, buf, encode(&cues[i], buf), &r);
	assert(r.n == 11);
	for (i = 0; i < 11; i++)
		assert(same(&r.got[i], &cues[i]));
	assert(r.got[1].value == 128.0f);
	assert(r.got[2].value == 433.5f);
	assert(r.got[9].type == ME_CUE_STEP && r.got[9].step == 5 && r.got[9].prob == 45);
	assert(r.got[10].param == ME_CUE_PARAM_RELEASE && r.got[10].value == 2.0f);
	assert(d.frames_ok == 11 && errors(&d) == 0);
}

/* Every step edit the engine can make reaches the firmware as a step cue. */
static void test_step_cues_from_events(void)
{
	uint8_t buf[CUE_FRAME_MAX];
	struct me_cue_decoder d;
	int k, n = 0;

	me_cue_decoder_init(&d);
	for (k = 0; k < 64; k++) {
		struct event ev;
		struct cue c;
		struct me_cue m;
		size_t len, i;
		int got = 0;
		memset(&ev, 0, sizeof ev);
		ev.type = EV_STEP_EDIT;
		ev.u.step_edit.step = (int16_t)k;
		ev.u.step_edit.on = (uint8_t)(k % 2);
		ev.u.step_edit.velocity = (uint8_t)(k + 60);
		ev.u.step_edit.prob = k / 63.0;
		assert(cue_from_event(&ev, &c) == 1 && c.kind == CUE_STEP);
		len = encode(&c, buf);
		for (i = 0; i < len; i++)
			got += me_cue_decoder_feed(&d, buf[i], &m);
		assert(got == 1);
		assert(m.type == ME_CUE_STEP && m.step == k && m.on == k % 2);
		assert(m.velocity == k + 60);
		assert(m.prob == (uint8_t)(k * 100 / 63.0 + 0.5));
		n++;
	}
	assert(d.frames_ok == (uint32_t)n && errors(&d) == 0);
}

/* The frames printed in doc/led-protocol.md decode as the doc says. */
static void test_documented_frames(void)
{
	static const uint8_t stream[] = {
	    0x00, 0x05,
	    0x01, 0x40,
	    0x64, 0x0B,
	    0x00, 0x00,
	    0x02, 0x02,
	    0x02, 0x43,
	    0x01, 0x01,
	    0x04, 0xAF,
	    0x7B, 0x96,
	    0x00, 0x00,
	    0x04, 0x03,
	    0x01, 0x38,
	    0x00, 0x00,
	    0x04, 0x04,
	    0x02, 0x5A,
	    0x00, 0x00,
	    0x04, 0x05,
	    0x01, 0x46,
	    0x00, STEP_FRAME_BYTES,
	};
	struct me_cue_decoder d;
	struct run r = {0};
	me_cue_decoder_init(&d);
	feed(&d, stream, sizeof stream, &r);
	assert(r.n == 6 && errors(&d) == 0);
	assert(r.got[5].type == ME_CUE_STEP && r.got[5].step == 3 && r.got[5].on == 1);
	assert(r.got[5].velocity == 116 && r.got[5].prob == 100);
	assert(r.got[0].type == ME_CUE_NOTE && r.got[0].pitch == 64 && r.got[0].velocity == 100);
	assert(r.got[1].type == ME_CUE_PARAM && r.got[1].param == ME_CUE_PARAM_TEMPO);
	assert(r.got[1].value == 128.0f && r.got[1].position == 44923);
	assert(r.got[2].type == ME_CUE_MODE && r.got[2].index == 1);
	assert(r.got[3].type == ME_CUE_PALETTE && r.got[3].index == 2);
	assert(r.got[4].type == ME_CUE_IDLE && r.got[4].on == 1);
}

/*
 * Any single corrupted byte inside a frame (every position, every wrong
 * value) loses exactly that frame: the one before and the one after arrive.
 */
static void test_corrupted_byte(void)
{
	struct cue a = param(P_REVERB_MIX, 0.25), b = note(60, 90), c = param(P_TEMPO, 96);
	uint8_t fa[CUE_FRAME_MAX], fb[CUE_FRAME_MAX], fc[CUE_FRAME_MAX];
	size_t na = encode(&a, fa), nb = encode(&b, fb), nc = encode(&c, fc);
	size_t pos;
	int x, trials = 0;

	for (pos = 1; pos + 1 < nb; pos++) {
		for (x = 1; x < 256; x++) {
			uint8_t s[3 * CUE_FRAME_MAX];
			struct me_cue_decoder d;
			struct run r = {0};
			memcpy(s, fa, na);
			memcpy(s + na, fb, nb);
			memcpy(s + na + nb, fc, nc);
			s[na + pos] ^= (uint8_t)x;
			me_cue_decoder_init(&d);
			feed(&d, s, na + nb + nc, &r);
			assert(r.n == 2);
			assert(same(&r.got[0], &a) && same(&r.got[1], &c));
			assert(errors(&d) >= 1);
			trials++;
		}
	}
	assert(trials == 255 * (int)(nb - 2));
}

/* A frame cut short (the link dropped) never costs the frame after it. */
static void test_truncated_frame(void)
{
	struct cue a = note(40, 20), b = param(P_SWING, 0.2), c = simple(CUE_PALETTE, 3);
	uint8_t fa[CUE_FRAME_MAX], fb[CUE_FRAME_MAX], fc[CUE_FRAME_MAX];
	size_t na = encode(&a, fa), nb = encode(&b, fb), nc = encode(&c, fc);
	size_t cut, hole;

	/* cut off before its delimiter: the next frame's leading 0x00 ends it */
	for (cut = 1; cut + 1 < nb; cut++) {
		uint8_t s[3 * CUE_FRAME_MAX];
		struct me_cue_decoder d;
		struct run r = {0};
		memcpy(s, fa, na);
		memcpy(s + na, fb, cut);
		memcpy(s + na + cut, fc, nc);
		me_cue_decoder_init(&d);
		feed(&d, s, na + cut + nc, &r);
		assert(r.n == 2 && same(&r.got[0], &a) && same(&r.got[1], &c));
		assert(cut == 1 || errors(&d) == 1);
	}
	/* one byte lost from the middle, delimiter intact */
	for (hole = 1; hole + 1 < nb; hole++) {
		uint8_t s[3 * CUE_FRAME_MAX];
		struct me_cue_decoder d;
		struct run r = {0};
		memcpy(s, fb, hole);
		memcpy(s + hole, fb + hole + 1, nb - hole - 1);
		memcpy(s + nb - 1, fc, nc);
		me_cue_decoder_init(&d);
		feed(&d, s, nb - 1 + nc, &r);
		assert(r.n == 1 && same(&r.got[0], &c));
		assert(errors(&d) == 1);
	}
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 24;
}

/* Noise on the line (any bytes, zeros included) then a good frame. */
static void test_garbage_then_frame(void)
{
	struct cue c = param(P_DENSITY, 0.625);
	uint8_t fc[CUE_FRAME_MAX];
	size_t nc = encode(&c, fc);
	uint32_t seed = 12345;
	int trial;

	for (trial = 0; trial < 2000; trial++) {
		uint8_t s[300 + CUE_FRAME_MAX];
		size_t n = lcg(&seed) + 10, i;
		struct me_cue_decoder d;
		struct run r = {0};
		for (i = 0; i < n; i++)
			s[i] = (uint8_t)lcg(&seed);
		memcpy(s + n, fc, nc);
		me_cue_decoder_init(&d);
		feed(&d, s, n + nc, &r);
		assert(r.n >= 1 && same(&r.got[r.n - 1], &c));
	}
}

/* Bytes arrive in dribs (USB packets, one byte per interrupt): only the final
 * delimiter of each frame hands out its cue. */
static void test_split_across_feeds(void)
{
	struct cue cues[3];
	uint8_t buf[CUE_FRAME_MAX];
	struct me_cue_decoder d;
	int i;

	cues[0] = param(P_DRIFT, 7.5);
	cues[1] = note(127, 1);
	cues[2] = simple(CUE_IDLE, 1);
	me_cue_decoder_init(&d);
	for (i = 0; i < 3; i++) {
		size_t n = encode(&cues[i], buf), k;
		for (k = 0; k < n; k++) {
			struct me_cue m;
			int got = me_cue_decoder_feed(&d, buf[k], &m);
			assert(got == (k + 1 == n));
			if (got)
				assert(same(&m, &cues[i]));
		}
	}
	assert(d.frames_ok == 3 && errors(&d) == 0);
}

static void test_overlong_and_odd_frames(void)
{
	struct me_cue_decoder d;
	struct run r = {0};
	uint8_t junk[1000], raw[4], buf[CUE_FRAME_MAX];
	struct cue c = note(50, 60);
	size_t n;

	memset(junk, 0x55, sizeof junk);
	me_cue_decoder_init(&d);
	feed(&d, junk, sizeof junk, &r);
	feed(&d, (const uint8_t *)"\0\0\0", 3, &r);
	feed(&d, buf, encode(&c, buf), &r);
	assert(r.n == 1 && same(&r.got[0], &c));
	assert(d.overlong == 1 && d.framing_errors == 0 && d.crc_errors == 0);

	/* an intact frame of a type from a newer engine */
	raw[0] = 0x04; /* COBS code: three bytes, no zero */
	raw[1] = 0x09;
	raw[2] = 0x01;
	raw[3] = me_cue_crc8(raw + 1, 2);
	feed(&d, (const uint8_t *)"\0", 1, &r);
	feed(&d, raw, 4, &r);
	feed(&d, (const uint8_t *)"\0", 1, &r);
	assert(d.unknown_type == 1 && r.n == 1);

	/* a note with a byte missing, CRC made to match */
	raw[0] = 0x04;
	raw[1] = ME_CUE_NOTE;
	raw[2] = 0x40;
	raw[3] = me_cue_crc8(raw + 1, 2);
	feed(&d, raw, 4, &r);
	feed(&d, (const uint8_t *)"\0", 1, &r);
	assert(d.framing_errors == 1 && r.n == 1);

	/* a note whose pitch is not MIDI, CRC made to match */
	{
		uint8_t bad[5] = {0x05, ME_CUE_NOTE, 0x80, 0x10, 0};
		bad[4] = me_cue_crc8(bad + 1, 3);
		feed(&d, bad, 5, &r);
		feed(&d, (const uint8_t *)"\0", 1, &r);
		assert(d.framing_errors == 2 && r.n == 1);
	}
	/* a step past the 64 the engine has, CRC made to match */
	{
		uint8_t bad[7] = {0x07, ME_CUE_STEP, 64, 1, 100, 100, 0};
		bad[6] = me_cue_crc8(bad + 1, 5);
		feed(&d, bad, 7, &r);
		feed(&d, (const uint8_t *)"\0", 1, &r);
		assert(d.framing_errors == 3 && r.n == 1);
	}
	n = encode(&c, buf);
	feed(&d, buf, n, &r);
	assert(r.n == 2 && d.frames_ok == 2);
}

/* The firmware's parameter ids are the engine's. */
static void test_param_ids(void)
{
	assert(param_find("tempo") == ME_CUE_PARAM_TEMPO);
	assert(param_find("filter_cutoff") == ME_CUE_PARAM_FILTER_CUTOFF);
	assert(param_find("reverb_mix") == ME_CUE_PARAM_REVERB_MIX);
	assert(param_find("swing") == ME_CUE_PARAM_SWING);
	assert(param_find("density") == ME_CUE_PARAM_DENSITY);
	assert(param_find("master_volume") == ME_CUE_PARAM_MASTER_VOLUME);
	assert(param_find("sequence_length") == ME_CUE_PARAM_SEQUENCE_LENGTH);
	assert(param_find("scale_select") == ME_CUE_PARAM_SCALE_SELECT);
	assert(param_find("chaos_lock") == ME_CUE_PARAM_CHAOS_LOCK);
	assert(param_find("drift") == ME_CUE_PARAM_DRIFT);
	assert(param_find("attack") == ME_CUE_PARAM_ATTACK);
	assert(param_find("release") == ME_CUE_PARAM_RELEASE);
	assert(CUE_NOTE == ME_CUE_NOTE && CUE_PARAM == ME_CUE_PARAM && CUE_MODE == ME_CUE_MODE &&
	       CUE_PALETTE == ME_CUE_PALETTE && CUE_IDLE == ME_CUE_IDLE && CUE_STEP == ME_CUE_STEP);
}

int main(void)
{
	test_round_trip_every_kind();
	test_step_cues_from_events();
	test_documented_frames();
	test_corrupted_byte();
	test_truncated_frame();
	test_garbage_then_frame();
	test_split_across_feeds();
	test_overlong_and_odd_frames();
	test_param_ids();
	puts("test_decoder: all passed");
	return 0;
}
