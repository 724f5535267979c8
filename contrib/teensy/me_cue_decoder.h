/*
 * me_cue_decoder.h: the firmware side of mystery-engine's serial LED cues.
 *
 * Header-only, portable C99 that also compiles as C++ (an Arduino sketch):
 * no allocation, nothing from the C library beyond stdint.h, stddef.h and
 * string.h.  Feed it the bytes from the serial port one at a time; it hands
 * back each cue whose frame is intact and counts the rest.  Frame format
 * (doc/led-protocol.md in the mystery-engine sources):
 *
 *     COBS( type, payload..., CRC-8/SMBUS(type, payload...) )  0x00
 *
 * After any damage (a lost byte, noise, a reset in the middle of a frame) the
 * decoder drops what it has and starts again at the next 0x00.
 *
 *     static struct me_cue_decoder dec;
 *     me_cue_decoder_init(&dec);
 *     ...
 *     while (Serial.available()) {
 *             struct me_cue cue;
 *             if (me_cue_decoder_feed(&dec, (uint8_t)Serial.read(), &cue))
 *                     animate(&cue);
 *     }
 *
 * One decoder per byte stream; not reentrant across threads or interrupts
 * (feed it from one place).
 */
#ifndef ME_CUE_DECODER_H
#define ME_CUE_DECODER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Cue types: the first byte of a decoded frame. */
#define ME_CUE_NOTE 1    /* pitch, velocity */
#define ME_CUE_PARAM 2   /* param id, value (float32 BE), position (u16 BE) */
#define ME_CUE_MODE 3    /* mode index */
#define ME_CUE_PALETTE 4 /* palette index */
#define ME_CUE_IDLE 5    /* 1 = idle entered, 0 = idle left */
#define ME_CUE_STEP 6    /* step edited: step, on, velocity, probability % */

/* Parameter ids carried by ME_CUE_PARAM (the engine's parameter table order). */
#define ME_CUE_PARAM_TEMPO 0
#define ME_CUE_PARAM_FILTER_CUTOFF 1
#define ME_CUE_PARAM_REVERB_MIX 2
#define ME_CUE_PARAM_SWING 3
#define ME_CUE_PARAM_DENSITY 4
#define ME_CUE_PARAM_MASTER_VOLUME 5
#define ME_CUE_PARAM_SEQUENCE_LENGTH 6
#define ME_CUE_PARAM_SCALE_SELECT 7
#define ME_CUE_PARAM_CHAOS_LOCK 8
#define ME_CUE_PARAM_DRIFT 11
#define ME_CUE_PARAM_ATTACK 12
#define ME_CUE_PARAM_RELEASE 13

/* Encoded bytes held for one frame; a longer frame is dropped as overlong. */
#define ME_CUE_ENCODED_MAX 32

struct me_cue {
	uint8_t type;            /* ME_CUE_... */
	uint8_t pitch, velocity; /* NOTE: 0..127 each; STEP: velocity 0..127 */
	uint8_t param;           /* PARAM: ME_CUE_PARAM_... */
	float value;             /* PARAM: in the parameter's own units (BPM, Hz, ...) */
	uint16_t position;       /* PARAM: 0..65535 along the control's range */
	uint8_t index;           /* MODE, PALETTE */
	uint8_t on;              /* IDLE, STEP: 0 or 1 */
	uint8_t step;            /* STEP: the pattern's step, 0..63 */
	uint8_t prob;            /* STEP: its gate probability, percent 0..100 */
};

struct me_cue_decoder {
	uint8_t buf[ME_CUE_ENCODED_MAX];
	uint8_t len;             /* encoded bytes of the frame in progress */
	uint8_t dropping;        /* frame in progress is overlong: skip to 0x00 */
	uint32_t frames_ok;      /* cues handed out */
	uint32_t crc_errors;     /* frames whose CRC-8 did not match */
	uint32_t overlong;       /* frames longer than ME_CUE_ENCODED_MAX */
	uint32_t framing_errors; /* bad COBS, bad length or bad values */
	uint32_t unknown_type;   /* intact frames of a type this decoder predates */
};

static inline void me_cue_decoder_init(struct me_cue_decoder *d)
{
	memset(d, 0, sizeof *d);
}

/* CRC-8/SMBUS: polynomial 0x07, init 0x00, not reflected, no final xor. */
static inline uint8_t me_cue_crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;
	size_t i;
	int b;
	for (i = 0; i < n; i++) {
		crc = (uint8_t)(crc ^ p[i]);
		for (b = 0; b < 8; b++)
			crc = (uint8_t)((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
	}
	return crc;
}

/* COBS-decodes enc[0..n) into raw; returns the length, or -1 if malformed. */
static inline int me_cue_cobs_decode(const uint8_t *enc, size_t n, uint8_t *raw)
{
	size_t i = 0, o = 0;
	while (i < n) {
		unsigned code = enc[i++];
		unsigned k;
		if (code == 0 || code - 1 > n - i)
			return -1;
		for (k = 1; k < code; k++) {
			if (enc[i] == 0)
				return -1;
			raw[o++] = enc[i++];
		}
		if (code != 0xFF && i < n)
			raw[o++] = 0;
	}
	return (int)o;
}

/* Checks and unpacks one decoded frame (type, payload, crc). */
static inline int me_cue_unpack(struct me_cue_decoder *d, const uint8_t *raw, int n,
                                struct me_cue *out)
{
	uint8_t want;
	uint32_t bits;
	float v;

	if (n < 2) {
		d->framing_errors++;
		return 0;
	}
	if (me_cue_crc8(raw, (size_t)(n - 1)) != raw[n - 1]) {
		d->crc_errors++;
		return 0;
	}
	switch (raw[0]) {
	case ME_CUE_NOTE:
		want = 3;
		break;
	case ME_CUE_PARAM:
		want = 8;
		break;
	case ME_CUE_MODE:
	case ME_CUE_PALETTE:
	case ME_CUE_IDLE:
		want = 2;
		break;
	case ME_CUE_STEP:
		want = 5;
		break;
	default:
		d->unknown_type++;
		return 0;
	}
	if (n - 1 != want) {
		d->framing_errors++;
		return 0;
	}
	memset(out, 0, sizeof *out);
	out->type = raw[0];
	switch (raw[0]) {
	case ME_CUE_NOTE:
		if (raw[1] > 127 || raw[2] > 127)
			goto bad;
		out->pitch = raw[1];
		out->velocity = raw[2];
		break;
	case ME_CUE_PARAM:
		bits = (uint32_t)raw[2] << 24 | (uint32_t)raw[3] << 16 | (uint32_t)raw[4] << 8 |
		       raw[5];
		memcpy(&v, &bits, sizeof v);
		if (v != v || v - v != 0) /* NaN or infinite */
			goto bad;
		out->param = raw[1];
		out->value = v;
		out->position = (uint16_t)(raw[6] << 8 | raw[7]);
		break;
	case ME_CUE_IDLE:
		if (raw[1] > 1)
			goto bad;
		out->on = raw[1];
		break;
	case ME_CUE_STEP:
		if (raw[1] > 63 || raw[2] > 1 || raw[3] > 127 || raw[4] > 100)
			goto bad;
		out->step = raw[1];
		out->on = raw[2];
		out->velocity = raw[3];
		out->prob = raw[4];
		break;
	default:
		out->index = raw[1];
		break;
	}
	d->frames_ok++;
	return 1;
bad:
	d->framing_errors++;
	return 0;
}

/* Feeds one byte; returns 1 with *out filled when it completes a good frame. */
static inline int me_cue_decoder_feed(struct me_cue_decoder *d, uint8_t byte, struct me_cue *out)
{
	uint8_t raw[ME_CUE_ENCODED_MAX];
	int n;

	if (byte != 0) {
		if (d->dropping)
			return 0;
		if (d->len == ME_CUE_ENCODED_MAX) {
			d->overlong++;
			d->dropping = 1;
			d->len = 0;
			return 0;
		}
		d->buf[d->len++] = byte;
		return 0;
	}
	if (d->dropping) {
		d->dropping = 0;
		return 0;
	}
	if (d->len == 0) /* back-to-back delimiters: nothing lost */
		return 0;
	n = me_cue_cobs_decode(d->buf, d->len, raw);
	d->len = 0;
	if (n < 0) {
		d->framing_errors++;
		return 0;
	}
	return me_cue_unpack(d, raw, n, out);
}

#endif
