/*
 * wav: reads 16-bit PCM WAV files and finds note onsets in them.
 *
 * Design: the reader walks the RIFF chunks (skipping any it does not need,
 * honouring the pad byte of odd-sized chunks), accepts format 1 (PCM) and
 * WAVE_FORMAT_EXTENSIBLE with a PCM sub-format, and tolerates a data chunk
 * whose size was never patched (a recording cut short): it then takes the
 * rest of the file.  The onset detector is a two-level gate with a
 * back-dated start, described in wav.h.
 *
 * Threads: any; no shared state.
 */
#include "wav.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

enum wav_err wav_parse(const uint8_t *buf, size_t len, struct wav *w)
{
	memset(w, 0, sizeof *w);
	if (len < 12 || memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0)
		return WAV_E_FORMAT;
	size_t pos = 12;
	int have_fmt = 0;
	int bits = 0;
	while (pos + 8 <= len) {
		const uint8_t *ck = buf + pos;
		size_t size = le32(ck + 4);
		size_t body = pos + 8;
		if (memcmp(ck, "fmt ", 4) == 0) {
			if (size < 16 || body + size > len)
				return WAV_E_FORMAT;
			unsigned tag = le16(ck + 8);
			w->channels = le16(ck + 10);
			w->rate = (int)le32(ck + 12);
			bits = le16(ck + 22);
			if (tag == 0xFFFE) {
				/* extensible: the sub-format GUID starts with the real tag */
				if (size < 40)
					return WAV_E_FORMAT;
				tag = le16(ck + 8 + 24);
			}
			if (tag != 1 || bits != 16 || w->channels < 1 || w->channels > 2 ||
			    w->rate <= 0)
				return WAV_E_UNSUPPORTED;
			have_fmt = 1;
		} else if (memcmp(ck, "data", 4) == 0) {
			if (!have_fmt)
				return WAV_E_FORMAT;
			/* a size never patched after recording: take what is there */
			if (size == 0 || size == 0xFFFFFFFFu || body + size > len)
				size = len - body;
			size_t frame_bytes = (size_t)w->channels * 2;
			w->frames = size / frame_bytes;
			size_t n = w->frames * (size_t)w->channels;
			w->data = malloc(n ? n * sizeof *w->data : 1);
			if (!w->data)
				return WAV_E_NOMEM;
			for (size_t i = 0; i < n; i++)
				w->data[i] = (int16_t)le16(buf + body + 2 * i);
			return WAV_OK;
		}
		pos = body + size + (size & 1);
	}
	return WAV_E_FORMAT;
}

enum wav_err wav_read(const char *path, struct wav *w)
{
	memset(w, 0, sizeof *w);
	FILE *f = fopen(path, "rb");
	if (!f)
		return WAV_E_OPEN;
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	enum wav_err e = WAV_OK;
	while (buf) {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		e = WAV_E_OPEN;
	else if (!buf || len == cap)
		e = WAV_E_NOMEM;
	fclose(f);
	if (!e)
		e = wav_parse(buf, len, w);
	free(buf);
	return e;
}

void wav_free(struct wav *w)
{
	free(w->data);
	memset(w, 0, sizeof *w);
}

double wav_rms(const struct wav *w)
{
	size_t n = w->frames * (size_t)w->channels;
	if (!n)
		return 0;
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		double v = w->data[i] / 32768.0;
		sum += v * v;
	}
	return sqrt(sum / (double)n);
}

double wav_peak(const struct wav *w)
{
	size_t n = w->frames * (size_t)w->channels;
	int peak = 0;
	for (size_t i = 0; i < n; i++) {
		int v = abs(w->data[i]);
		if (v > peak)
			peak = v;
	}
	return peak / 32768.0;
}

void wav_onset_defaults(struct wav_onset_opts *o)
{
	o->floor = 0.0005;
	o->threshold = 0.01;
	o->min_silence = 480;
	o->refractory = 2400;
}

static int level_of(const int16_t *x, size_t i, int channels)
{
	int lv = 0;
	for (int c = 0; c < channels; c++) {
		int v = abs(x[i * (size_t)channels + (size_t)c]);
		if (v > lv)
			lv = v;
	}
	return lv;
}

size_t wav_onsets(const int16_t *x, size_t frames, int channels, const struct wav_onset_opts *o,
                  size_t *out, size_t max)
{
	double floor_lv = o->floor * 32768.0;
	double thr_lv = o->threshold * 32768.0;
	size_t quiet = o->min_silence; /* the buffer starts as silence */
	int armed = 0;                 /* current burst followed a long silence */
	size_t start = 0;              /* first frame of the current burst */
	size_t count = 0;
	size_t last = 0;
	int have_last = 0;
	for (size_t i = 0; i < frames; i++) {
		int lv = level_of(x, i, channels);
		if (lv <= floor_lv) {
			quiet++;
			continue;
		}
		if (quiet > 0) {
			/* a new burst: it may start a note only after a long silence */
			armed = quiet >= o->min_silence;
			start = i;
			quiet = 0;
		}
		if (armed && lv >= thr_lv) {
			armed = 0;
			if (have_last && start - last < o->refractory)
				continue;
			if (count < max)
				out[count] = start;
			count++;
			last = start;
			have_last = 1;
		}
	}
	return count;
}

const char *wav_strerror(enum wav_err e)
{
	switch (e) {
	case WAV_OK:
		return "no error";
	case WAV_E_OPEN:
		return "wav: cannot read the file";
	case WAV_E_FORMAT:
		return "wav: not a RIFF/WAVE file, or a chunk is cut short";
	case WAV_E_UNSUPPORTED:
		return "wav: only 16-bit PCM with 1 or 2 channels is supported";
	case WAV_E_NOMEM:
		return "wav: out of memory";
	}
	return "wav: unknown error";
}
