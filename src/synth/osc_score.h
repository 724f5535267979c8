/*
 * osc_score: writes a non-realtime score for `scsynth -N`.
 *
 * The file is a sequence of packets, each an int32 big-endian length and an
 * OSC bundle whose timetag is seconds from 0 (NTP 32.32 format).  The
 * writer puts the defs (/d_recv) and the node layout (voice group, effect
 * synth) at time 0, then one bundle per distinct event time, and a final
 * bundle at the end time, which sets the length of the rendered file.
 * Events must come in time order: an earlier time is refused, so a score
 * this module writes never has bundles out of order.
 */
#ifndef ME_SYNTH_OSC_SCORE_H
#define ME_SYNTH_OSC_SCORE_H

#include <stddef.h>

enum osc_score_err {
	OSC_SCORE_OK = 0,
	OSC_SCORE_E_IO,    /* opening or writing the file failed */
	OSC_SCORE_E_ORDER, /* an event time earlier than the previous one */
	OSC_SCORE_E_ARG,   /* a value out of range (see osc_score_error()) */
	OSC_SCORE_E_DEFS,  /* building the synth defs failed */
	OSC_SCORE_E_NOMEM
};

struct osc_score;

/* Creates path and writes the time-0 bundles; me_fx starts with this
 * reverb mix and volume (0..1).  Event times are rounded to the nearest
 * sample at sample_rate (8000..192000).  NULL on error, with *err set (err
 * may be NULL). */
struct osc_score *osc_score_open(const char *path, int sample_rate, double mix, double volume,
                                 enum osc_score_err *err);

/* A serialised OSC message (sc_plan_message(): the bytes the live backend
 * sends) at t seconds. */
enum osc_score_err osc_score_message(struct osc_score *s, double t, const void *msg, size_t len);

/* A me_voice note at t seconds: MIDI pitch 0..127, velocity 1..127, dur
 * seconds > 0 (the sustain before the release), cutoff Hz > 0. */
enum osc_score_err osc_score_note(struct osc_score *s, double t, int pitch, int velocity,
                                  double dur, double cutoff);
/* The master effect at t: reverb mix 0..1, volume 0..1. */
enum osc_score_err osc_score_fx(struct osc_score *s, double t, double mix, double volume);
/* The filter cutoff (Hz > 0) of every sounding voice at t (/n_set on the
 * voice group); later notes bring their own cutoff. */
enum osc_score_err osc_score_cutoff(struct osc_score *s, double t, double cutoff);

/* Writes the final bundle at end_t (>= every event time), closes the file
 * and frees s, whatever the result.  A score whose close failed is not to
 * be rendered. */
enum osc_score_err osc_score_close(struct osc_score *s, double end_t);

/* Number of bundles written so far (including the time-0 ones). */
int osc_score_bundles(const struct osc_score *s);
/* Details of the last error of s: what was refused and why. */
const char *osc_score_error(const struct osc_score *s);
const char *osc_score_strerror(enum osc_score_err e);

#endif
