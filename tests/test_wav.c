/*
 * Tests of the WAV reader and the onset detector on synthetic data: the
 * detector must put each isolated note on its first sample, ignore the
 * zero crossings inside a note, quiet noise and re-triggers, so that the
 * timing tests built on it can be trusted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/wav.h"
#include "synth/wav_seal.h"
#include "testlib.h"

/* --- building WAV bytes by hand ---------------------------------------- */

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void b_bytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void b_le(struct buf *b, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		b->b[b->n++] = (uint8_t)(v >> (8 * i));
}

/* A RIFF/WAVE file: fmt (tag, channels, rate, bits), an odd-sized LIST
 * chunk before the data, then the samples. */
static void make_wav(struct buf *b, unsigned tag, int channels, int rate, int bits,
                     const int16_t *x, size_t n, int extensible, uint32_t data_size)
{
	b->n = 0;
	b_bytes(b, "RIFF", 4);
	b_le(b, 0, 4); /* patched below */
	b_bytes(b, "WAVE", 4);
	b_bytes(b, "fmt ", 4);
	b_le(b, extensible ? 40 : 16, 4);
	b_le(b, extensible ? 0xFFFE : tag, 2);
	b_le(b, (uint32_t)channels, 2);
	b_le(b, (uint32_t)rate, 4);
	b_le(b, (uint32_t)(rate * channels * bits / 8), 4);
	b_le(b, (uint32_t)(channels * bits / 8), 2);
	b_le(b, (uint32_t)bits, 2);
	if (extensible) {
		b_le(b, 22, 2);             /* extension size */
		b_le(b, (uint32_t)bits, 2); /* valid bits */
		b_le(b, 3, 4);              /* channel mask */
		b_le(b, tag, 2);            /* sub-format GUID starts with the tag */
		b_bytes(b, "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71", 14);
	}
	b_bytes(b, "LIST", 4);
	b_le(b, 5, 4);
	b_bytes(b, "INFOx", 5);
	b->b[b->n++] = 0; /* pad byte of the odd-sized chunk */
	b_bytes(b, "data", 4);
	b_le(b, data_size, 4);
	for (size_t i = 0; i < n; i++)
		b_le(b, (uint16_t)x[i], 2);
	uint32_t riff = (uint32_t)(b->n - 8);
	for (int i = 0; i < 4; i++)
		b->b[4 + i] = (uint8_t)(riff >> (8 * i));
}

static const int16_t stereo[] = {1, -1, 32767, -32768, 0, 1234, -5, 5};

static void test_parse(void)
{
	struct buf b;
	struct wav w;
	make_wav(&b, 1, 2, 48000, 16, stereo, 8, 0, sizeof stereo);
	CU_ASSERT_EQUAL_FATAL(wav_parse(b.b, b.n, &w), WAV_OK);
	CU_ASSERT_EQUAL(w.rate, 48000);
	CU_ASSERT_EQUAL(w.channels, 2);
	CU_ASSERT_EQUAL(w.frames, 4u);
	CU_ASSERT(memcmp(w.data, stereo, sizeof stereo) == 0);
	wav_free(&w);

	/* WAVE_FORMAT_EXTENSIBLE with a PCM sub-format, mono */
	make_wav(&b, 1, 1, 44100, 16, stereo, 8, 1, sizeof stereo);
	CU_ASSERT_EQUAL_FATAL(wav_parse(b.b, b.n, &w), WAV_OK);
	CU_ASSERT_EQUAL(w.channels, 1);
	CU_ASSERT_EQUAL(w.rate, 44100);
	CU_ASSERT_EQUAL(w.frames, 8u);
	CU_ASSERT_EQUAL(w.data[3], -32768);
	wav_free(&w);

	/* a recording whose data size was never patched: the rest of the file */
	make_wav(&b, 1, 2, 48000, 16, stereo, 8, 0, 0xFFFFFFFFu);
	CU_ASSERT_EQUAL_FATAL(wav_parse(b.b, b.n, &w), WAV_OK);
	CU_ASSERT_EQUAL(w.frames, 4u);
	wav_free(&w);
}

static void test_refused(void)
{
	struct buf b;
	struct wav w;
	make_wav(&b, 1, 2, 48000, 24, stereo, 8, 0, sizeof stereo);
	CU_ASSERT_EQUAL(wav_parse(b.b, b.n, &w), WAV_E_UNSUPPORTED);
	make_wav(&b, 3, 2, 48000, 16, stereo, 8, 0, sizeof stereo); /* float tag */
	CU_ASSERT_EQUAL(wav_parse(b.b, b.n, &w), WAV_E_UNSUPPORTED);
	make_wav(&b, 1, 6, 48000, 16, stereo, 8, 0, sizeof stereo);
	CU_ASSERT_EQUAL(wav_parse(b.b, b.n, &w), WAV_E_UNSUPPORTED);
	make_wav(&b, 1, 2, 48000, 16, stereo, 8, 0, sizeof stereo);
	b.b[0] = 'X';
	CU_ASSERT_EQUAL(wav_parse(b.b, b.n, &w), WAV_E_FORMAT);
	/* cut inside the fmt chunk */
	make_wav(&b, 1, 2, 48000, 16, stereo, 8, 0, sizeof stereo);
	CU_ASSERT_EQUAL(wav_parse(b.b, 20, &w), WAV_E_FORMAT);
	CU_ASSERT_EQUAL(wav_parse(b.b, 3, &w), WAV_E_FORMAT);
	CU_ASSERT_PTR_NULL(w.data);

	CU_ASSERT_EQUAL(wav_read("/nonexistent/me.wav", &w), WAV_E_OPEN);
	CU_ASSERT(strcmp(wav_strerror(WAV_E_OPEN), wav_strerror(WAV_E_FORMAT)) != 0);
}

static void test_read_file(void)
{
	struct buf b;
	make_wav(&b, 1, 2, 48000, 16, stereo, 8, 0, sizeof stereo);
	char path[512];
	snprintf(path, sizeof path, "%s/t.wav", testlib_tmpdir());
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(b.b, 1, b.n, f);
	fclose(f);
	struct wav w;
	CU_ASSERT_EQUAL_FATAL(wav_read(path, &w), WAV_OK);
	CU_ASSERT_EQUAL(w.frames, 4u);
	CU_ASSERT_EQUAL(w.data[2], 32767);
	CU_ASSERT_DOUBLE_EQUAL(wav_peak(&w), 1.0, 1e-9);
	wav_free(&w);
}

/* A recording whose writer was killed: the header says RIFF 8 / data 0
 * (what a SIGKILLed scsynth leaves), the samples follow, the last frame
 * cut in half.  Sealing makes it whole for any reader; sealing again, or a
 * file already right, changes nothing; a FIFO or a symbolic link is
 * refused without blocking. */
static void test_seal(void)
{
	struct buf b;
	make_wav(&b, 1, 2, 48000, 16, stereo, 8, 0, 0);
	b.b[4] = 8, b.b[5] = b.b[6] = b.b[7] = 0;
	b.b[b.n++] = 0x11; /* half a sample of a frame never finished */
	char path[512], err[600];
	snprintf(path, sizeof path, "%s/cut.wav", testlib_tmpdir());
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(b.b, 1, b.n, f);
	fclose(f);
	CU_ASSERT_EQUAL(wav_seal(path, err, sizeof err), 1);
	uint8_t h[64];
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	size_t n = fread(h, 1, sizeof h, f);
	fclose(f);
	CU_ASSERT_FATAL(n >= 60);
	uint32_t riff = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24;
	CU_ASSERT_EQUAL(riff, b.n - 8);
	size_t d = b.n - 1 - sizeof stereo - 8; /* the data chunk's header */
	CU_ASSERT_EQUAL(memcmp(h + d, "data", 4), 0);
	uint32_t data = h[d + 4] | h[d + 5] << 8 | h[d + 6] << 16 | (uint32_t)h[d + 7] << 24;
	CU_ASSERT_EQUAL(data, sizeof stereo);
	struct wav w;
	CU_ASSERT_EQUAL_FATAL(wav_read(path, &w), WAV_OK);
	CU_ASSERT_EQUAL(w.frames, 4u);
	wav_free(&w);
	CU_ASSERT_EQUAL(wav_seal(path, err, sizeof err), 0);

	char fifo[512], link[512];
	snprintf(fifo, sizeof fifo, "%s/fifo.wav", testlib_tmpdir());
	snprintf(link, sizeof link, "%s/link.wav", testlib_tmpdir());
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	CU_ASSERT_EQUAL(wav_seal(fifo, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
	CU_ASSERT_EQUAL_FATAL(symlink(path, link), 0);
	CU_ASSERT_EQUAL(wav_seal(link, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "link.wav"));
	CU_ASSERT_EQUAL(wav_seal("/nonexistent/me.wav", err, sizeof err), -1);
	unlink(fifo);
	unlink(link);
}

/* --- onsets ------------------------------------------------------------ */

#define N 48000

/* A decaying 440 Hz note at `at` whose first sample is small but above
 * the floor, ramping over 48 samples, lasting len frames. */
static void add_note(int16_t *x, int channels, size_t at, size_t len, double amp)
{
	for (size_t i = 0; i < len && at + i < N; i++) {
		double env = (i < 48 ? (i + 1) / 48.0 : 1.0) * exp(-(double)i / 4000.0);
		double v = amp * env * cos(2 * M_PI * 440.0 * (double)i / 48000.0);
		for (int c = 0; c < channels; c++)
			x[(at + i) * (size_t)channels + (size_t)c] =
			    (int16_t)lrint(v * 32767 * (c ? -1 : 1));
	}
}

static void test_isolated_notes(void)
{
	static int16_t x[N * 2];
	memset(x, 0, sizeof x);
	const size_t at[] = {1000, 13000, 25037, 37001};
	for (int i = 0; i < 4; i++)
		add_note(x, 2, at[i], 6000, 0.5);
	struct wav_onset_opts o;
	wav_onset_defaults(&o);
	size_t out[8];
	size_t n = wav_onsets(x, N, 2, &o, out, 8);
	CU_ASSERT_EQUAL_FATAL(n, 4u);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(out[i], at[i]);

	/* fewer slots than onsets: the count still tells how many there are */
	CU_ASSERT_EQUAL(wav_onsets(x, N, 2, &o, out, 2), 4u);
	CU_ASSERT_EQUAL(out[1], at[1]);
}

static void test_not_onsets(void)
{
	static int16_t x[N];
	memset(x, 0, sizeof x);
	struct wav_onset_opts o;
	wav_onset_defaults(&o);
	size_t out[8];

	/* a note from the first sample: the start of the buffer is silence */
	add_note(x, 1, 0, 3000, 0.5);
	/* quiet noise above the floor but below the threshold: no note */
	for (size_t i = 10000; i < 12000; i++)
		x[i] = (int16_t)((i * 7919 % 200) - 100);
	/* a note, then another one 1000 frames later while it still sounds */
	add_note(x, 1, 20000, 12000, 0.5);
	add_note(x, 1, 21000, 2000, 0.8);
	size_t n = wav_onsets(x, N, 1, &o, out, 8);
	CU_ASSERT_EQUAL_FATAL(n, 2u);
	CU_ASSERT_EQUAL(out[0], 0u);
	CU_ASSERT_EQUAL(out[1], 20000u);

	/* two notes with a gap shorter than min_silence: one onset */
	memset(x, 0, sizeof x);
	add_note(x, 1, 1000, 2000, 0.5);
	add_note(x, 1, 3100, 2000, 0.5); /* 100 silent frames before it */
	CU_ASSERT_EQUAL(wav_onsets(x, N, 1, &o, out, 8), 1u);
	/* a long enough gap but inside the refractory time: still one */
	memset(x, 0, sizeof x);
	add_note(x, 1, 1000, 500, 0.5);
	add_note(x, 1, 2500, 500, 0.5); /* 1000 silent frames, 1500 after */
	CU_ASSERT_EQUAL(wav_onsets(x, N, 1, &o, out, 8), 1u);
	o.refractory = 1000;
	CU_ASSERT_EQUAL(wav_onsets(x, N, 1, &o, out, 8), 2u);
	CU_ASSERT_EQUAL(out[1], 2500u);
}

static void test_levels(void)
{
	static int16_t x[1000];
	for (int i = 0; i < 1000; i++)
		x[i] = i % 2 ? 16384 : -16384;
	struct wav w = {48000, 1, 1000, x};
	CU_ASSERT_DOUBLE_EQUAL(wav_rms(&w), 0.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(wav_peak(&w), 0.5, 1e-9);
	struct wav empty = {48000, 2, 0, NULL};
	CU_ASSERT_EQUAL(wav_rms(&empty), 0.0);
}

TEST_SUITE(wav, NULL, NULL, TEST_CASE(test_parse), TEST_CASE(test_refused),
           TEST_CASE(test_read_file), TEST_CASE(test_seal), TEST_CASE(test_isolated_notes),
           TEST_CASE(test_not_onsets), TEST_CASE(test_levels))
