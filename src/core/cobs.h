/*
 * cobs: Consistent Overhead Byte Stuffing, the byte framing of the serial
 * LED link.  Encoded data holds no 0x00, so 0x00 can end each frame and a
 * receiver finds the next frame boundary after any damage.  Pure functions;
 * any thread.
 */
#ifndef ME_CORE_COBS_H
#define ME_CORE_COBS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes cobs_encode() may need for n input bytes (no delimiter). */
#define COBS_ENCODED_MAX(n) ((n) + (n) / 254 + 1)

enum cobs_err {
	COBS_OK,
	COBS_ERR_SPACE,   /* output buffer too small */
	COBS_ERR_ZERO,    /* a 0x00 inside encoded data */
	COBS_ERR_OVERRUN, /* a code byte points past the end */
	COBS_ERR_COUNT
};

const char *cobs_strerror(enum cobs_err err);

/*
 * Encodes n bytes of in into out (no trailing 0x00).  Returns the encoded
 * length (at least 1), or 0 when cap is too small.
 */
size_t cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/* Decodes n encoded bytes (without the 0x00 delimiter); *outlen gets the length. */
enum cobs_err cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);

#endif
