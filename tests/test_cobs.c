/* Tests of COBS framing: reference vectors, long runs, and damaged input. */
#include <stdint.h>
#include <string.h>

#include "core/cobs.h"
#include "testlib.h"

static void cobs_case(const uint8_t *in, size_t n, const uint8_t *want, size_t wn)
{
	uint8_t enc[300], dec[300];
	size_t len = cobs_encode(in, n, enc, sizeof enc);
	CU_ASSERT_EQUAL(len, wn);
	CU_ASSERT(len == wn && memcmp(enc, want, wn) == 0);
	size_t dn = 0;
	CU_ASSERT_EQUAL(cobs_decode(enc, len, dec, sizeof dec, &dn), COBS_OK);
	CU_ASSERT_EQUAL(dn, n);
	CU_ASSERT(dn == n && memcmp(dec, in, n) == 0);
	/* one byte short of room is refused, never overrun */
	CU_ASSERT_EQUAL(cobs_encode(in, n, enc, wn - 1), 0);
}

static void test_vectors(void)
{
	cobs_case((const uint8_t[]){0x00}, 1, (const uint8_t[]){0x01, 0x01}, 2);
	cobs_case((const uint8_t[]){0x00, 0x00}, 2, (const uint8_t[]){0x01, 0x01, 0x01}, 3);
	cobs_case((const uint8_t[]){0x11, 0x22, 0x00, 0x33}, 4,
	          (const uint8_t[]){0x03, 0x11, 0x22, 0x02, 0x33}, 5);
	cobs_case((const uint8_t[]){0x11, 0x00, 0x00, 0x00}, 4,
	          (const uint8_t[]){0x02, 0x11, 0x01, 0x01, 0x01}, 5);
	cobs_case((const uint8_t[]){0x11, 0x22, 0x33, 0x44}, 4,
	          (const uint8_t[]){0x05, 0x11, 0x22, 0x33, 0x44}, 5);

	/* runs of 254 and 255 non-zero bytes */
	uint8_t in[255], want[257];
	for (int i = 0; i < 255; i++)
		in[i] = (uint8_t)(i + 1);
	want[0] = 0xFF;
	memcpy(want + 1, in, 254);
	cobs_case(in, 254, want, 255);
	want[255] = 0x02;
	want[256] = 0xFF;
	cobs_case(in, 255, want, 257);

	uint8_t out[8];
	size_t n;
	CU_ASSERT_EQUAL(cobs_decode((const uint8_t[]){0x03, 0x11, 0x00}, 3, out, 8, &n),
	                COBS_ERR_ZERO);
	CU_ASSERT_EQUAL(cobs_decode((const uint8_t[]){0x05, 0x11, 0x22}, 3, out, 8, &n),
	                COBS_ERR_OVERRUN);
	CU_ASSERT_EQUAL(cobs_decode((const uint8_t[]){0x03, 0x11, 0x22}, 3, out, 1, &n),
	                COBS_ERR_SPACE);
	CU_ASSERT_STRING_EQUAL(cobs_strerror(COBS_ERR_OVERRUN),
	                       "code byte points past the end of the frame");
}

/* Known frames, worked out by hand in doc/led-protocol.md. */
TEST_SUITE(cobs, NULL, NULL, TEST_CASE(test_vectors))
