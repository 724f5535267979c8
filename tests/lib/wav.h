/*
 * wav: a small reader for 16-bit PCM WAV files and a note onset detector,
 * used by the tests and benches that check what scsynth rendered.
 *
 * Onset definition: after at least min_silence frames whose level (the
 * largest |sample| over the channels) is at most floor, the first frame
 * whose level exceeds floor starts a burst; the burst is a note onset when
 * its level reaches threshold before the next silence of min_silence
 * frames, and no other onset lies within refractory frames before it.  The
 * reported position is the burst's first frame.  This measures exact
 * positions of isolated notes (silence between them); it is not a general
 * onset detector for overlapping music.
 */
#ifndef ME_TESTS_WAV_H
#define ME_TESTS_WAV_H

#include <stddef.h>
#include <stdint.h>

struct wav {
	int rate;     /* frames per second */
	int channels; /* 1 or 2 */
	size_t frames;
	int16_t *data; /* frames x channels, interleaved */
};

enum wav_err {
	WAV_OK = 0,
	WAV_E_OPEN,        /* cannot open or read the file */
	WAV_E_FORMAT,      /* not a RIFF/WAVE file, or a chunk is cut short */
	WAV_E_UNSUPPORTED, /* not 16-bit PCM with 1 or 2 channels */
	WAV_E_NOMEM
};

/* Reads path into w (free with wav_free()). */
enum wav_err wav_read(const char *path, struct wav *w);
/* Parses a whole file held in memory. */
enum wav_err wav_parse(const uint8_t *buf, size_t len, struct wav *w);
void wav_free(struct wav *w);

/* Root mean square and peak of all samples, full scale = 1.0. */
double wav_rms(const struct wav *w);
double wav_peak(const struct wav *w);

struct wav_onset_opts {
	double floor;       /* silence level, full scale = 1.0 */
	double threshold;   /* level a burst must reach to count */
	size_t min_silence; /* frames of silence that arm the detector */
	size_t refractory;  /* frames after an onset in which none is reported */
};

/* floor 0.0005 (16 LSB), threshold 0.01, min_silence 480, refractory 2400
 * (10 ms and 50 ms at 48 kHz). */
void wav_onset_defaults(struct wav_onset_opts *o);
/* Finds onsets in interleaved samples; stores at most max frame positions
 * in out and returns how many onsets there are (possibly more than max).
 * The start of the buffer counts as silence. */
size_t wav_onsets(const int16_t *x, size_t frames, int channels, const struct wav_onset_opts *o,
                  size_t *out, size_t max);

const char *wav_strerror(enum wav_err e);

#endif
