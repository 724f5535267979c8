/*
 * cobs: COBS encoder and decoder.
 *
 * The input is cut at every 0x00 into runs; each run goes out as one code
 * byte (run length + 1) followed by the run, and a code of 0xFF marks a run
 * of 254 non-zero bytes that is not followed by a zero.  The decoder walks
 * the code bytes back.  Pure functions, no allocation; any thread.
 */
#include "core/cobs.h"

static const char *const errors[COBS_ERR_COUNT] = {
    [COBS_OK] = "no error",
    [COBS_ERR_SPACE] = "output buffer too small",
    [COBS_ERR_ZERO] = "zero byte inside encoded data",
    [COBS_ERR_OVERRUN] = "code byte points past the end of the frame",
};

const char *cobs_strerror(enum cobs_err err)
{
	return (unsigned)err < COBS_ERR_COUNT ? errors[err] : "unknown error";
}

size_t cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t code_at = 0, o = 1;
	uint8_t code = 1;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == 0) {
			out[code_at] = code;
			code = 1;
			code_at = o;
			if (o++ >= cap)
				return 0;
			continue;
		}
		if (o >= cap)
			return 0;
		out[o++] = in[i];
		if (++code == 0xFF) {
			out[code_at] = code;
			code = 1;
			code_at = o;
			/* a final full run needs no extra code byte */
			if (i + 1 == n)
				return o;
			if (o++ >= cap)
				return 0;
		}
	}
	out[code_at] = code;
	return o;
}

enum cobs_err cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t i = 0, o = 0;

	*outlen = 0;
	while (i < n) {
		uint8_t code = in[i++];
		if (code == 0)
			return COBS_ERR_ZERO;
		if (code - 1u > n - i)
			return COBS_ERR_OVERRUN;
		for (int k = 1; k < code; k++) {
			if (in[i] == 0)
				return COBS_ERR_ZERO;
			if (o >= cap)
				return COBS_ERR_SPACE;
			out[o++] = in[i++];
		}
		if (code != 0xFF && i < n) {
			if (o >= cap)
				return COBS_ERR_SPACE;
			out[o++] = 0;
		}
	}
	*outlen = o;
	return COBS_OK;
}
