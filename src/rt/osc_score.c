/*
 * osc_score: the non-realtime score writer behind the render command.
 *
 * Design: events at the same (sample-rounded) time are collected in one
 * open liblo bundle; a later time flushes it to the file as a packet (int32
 * big-endian length, then the serialised bundle) and opens the next.  An
 * earlier time is refused before anything is written, so the file is
 * always in time order.  Timetags are seconds from 0 in NTP 32.32 format,
 * which is what scsynth -N reads.  Time 0 holds two bundles: the defs
 * (/d_recv), then the node layout (voice group, me_fx after it).
 *
 * Threads: one score belongs to one thread at a time.
 */
#include "rt/osc_score.h"

#include <lo/lo.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/synthdef.h"

struct osc_score {
	FILE *f;
	int rate;
	lo_bundle cur;      /* open bundle, NULL when none */
	int64_t cur_frame;  /* its time in frames */
	int64_t last_frame; /* time of the latest event accepted */
	int bundles;
	enum osc_score_err io; /* sticky write error */
	char msg[200];
};

static enum osc_score_err set_error(struct osc_score *s, enum osc_score_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof s->msg, fmt, ap);
	va_end(ap);
	return e;
}

static lo_timetag tag_of(const struct osc_score *s, int64_t frame)
{
	/* whole seconds, then the remaining frames as a 2^-32 s fraction */
	lo_timetag tt;
	int64_t sec = frame / s->rate;
	int64_t rem = frame % s->rate;
	tt.sec = (uint32_t)sec;
	tt.frac = (uint32_t)(((uint64_t)rem << 32) / (uint64_t)s->rate);
	/* round the fraction up so it never falls before the frame */
	if ((((uint64_t)rem << 32) % (uint64_t)s->rate) != 0)
		tt.frac++;
	return tt;
}

static enum osc_score_err flush(struct osc_score *s)
{
	if (!s->cur)
		return OSC_SCORE_OK;
	size_t len = 0;
	void *data = lo_bundle_serialise(s->cur, NULL, &len);
	lo_bundle_free_recursive(s->cur);
	s->cur = NULL;
	if (!data)
		return s->io = set_error(s, OSC_SCORE_E_NOMEM, "cannot serialise a bundle");
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                  (uint8_t)len};
	int ok = fwrite(hdr, 1, 4, s->f) == 4 && fwrite(data, 1, len, s->f) == len;
	free(data);
	if (!ok)
		return s->io = set_error(s, OSC_SCORE_E_IO, "write failed");
	s->bundles++;
	return OSC_SCORE_OK;
}

/* Converts t to frames, checks order, and makes sure a bundle for that
 * frame is open. */
static enum osc_score_err at(struct osc_score *s, double t)
{
	if (s->io)
		return s->io;
	if (!isfinite(t) || t < 0 || t > 4e6)
		return set_error(s, OSC_SCORE_E_ARG, "event time %g s is not in 0..4e6 s", t);
	int64_t frame = llround(t * s->rate);
	if (frame < s->last_frame)
		return set_error(
		    s, OSC_SCORE_E_ORDER,
		    "event at %.6f s given after one at %.6f s: events must be in time order", t,
		    (double)s->last_frame / s->rate);
	if (s->cur && frame != s->cur_frame) {
		enum osc_score_err e = flush(s);
		if (e)
			return e;
	}
	if (!s->cur) {
		s->cur = lo_bundle_new(tag_of(s, frame));
		if (!s->cur)
			return s->io = set_error(s, OSC_SCORE_E_NOMEM, "out of memory");
		s->cur_frame = frame;
	}
	s->last_frame = frame;
	return OSC_SCORE_OK;
}

static enum osc_score_err add(struct osc_score *s, const char *path, lo_message m)
{
	if (!m)
		return s->io = set_error(s, OSC_SCORE_E_NOMEM, "out of memory");
	if (lo_bundle_add_message(s->cur, path, m) != 0) {
		lo_message_free(m);
		return s->io = set_error(s, OSC_SCORE_E_NOMEM, "out of memory");
	}
	return OSC_SCORE_OK;
}

static enum osc_score_err write_header(struct osc_score *s)
{
	uint8_t *defs;
	size_t len;
	enum synthdef_err de = synthdef_build_all(&defs, &len);
	if (de)
		return set_error(s, OSC_SCORE_E_DEFS, "%s", synthdef_strerror(de));
	enum osc_score_err e = at(s, 0);
	if (!e) {
		/* the message copies the blob's bytes when it is added */
		lo_message m = lo_message_new();
		lo_blob b = lo_blob_new((int32_t)len, defs);
		if (m && b && lo_message_add_blob(m, b) == 0) {
			e = add(s, "/d_recv", m);
		} else {
			if (m)
				lo_message_free(m);
			e = s->io = set_error(s, OSC_SCORE_E_NOMEM, "out of memory");
		}
		if (b)
			lo_blob_free(b);
	}
	free(defs);
	if (!e)
		e = flush(s);
	if (!e)
		e = at(s, 0);
	if (!e) {
		lo_message m = lo_message_new();
		if (m)
			lo_message_add(m, "iii", SYNTHDEF_GROUP_VOICES, 0, 0);
		e = add(s, "/g_new", m);
	}
	if (!e) {
		lo_message m = lo_message_new();
		if (m)
			lo_message_add(m, "siiisisi", synthdef_names[1], SYNTHDEF_NODE_FX, 3,
			               SYNTHDEF_GROUP_VOICES, "in", SYNTHDEF_FX_BUS, "out", 0);
		e = add(s, "/s_new", m);
	}
	return e;
}

struct osc_score *osc_score_open(const char *path, int sample_rate, enum osc_score_err *err)
{
	enum osc_score_err dummy;
	if (!err)
		err = &dummy;
	if (!path || !*path || sample_rate < 8000 || sample_rate > 192000) {
		*err = OSC_SCORE_E_ARG;
		return NULL;
	}
	struct osc_score *s = calloc(1, sizeof *s);
	if (!s) {
		*err = OSC_SCORE_E_NOMEM;
		return NULL;
	}
	s->rate = sample_rate;
	s->f = fopen(path, "wb");
	if (!s->f) {
		free(s);
		*err = OSC_SCORE_E_IO;
		return NULL;
	}
	*err = write_header(s);
	if (*err) {
		if (s->cur)
			lo_bundle_free_recursive(s->cur);
		fclose(s->f);
		free(s);
		return NULL;
	}
	return s;
}

enum osc_score_err osc_score_note(struct osc_score *s, double t, int pitch, int velocity,
                                  double dur, double cutoff)
{
	if (pitch < 0 || pitch > 127)
		return set_error(s, OSC_SCORE_E_ARG, "note at %g s: pitch %d is not in 0..127", t,
		                 pitch);
	if (velocity < 1 || velocity > 127)
		return set_error(s, OSC_SCORE_E_ARG, "note at %g s: velocity %d is not in 1..127",
		                 t, velocity);
	if (!isfinite(dur) || dur <= 0 || dur > 3600)
		return set_error(s, OSC_SCORE_E_ARG,
		                 "note at %g s: duration %g s is not in (0, 3600]", t, dur);
	if (!isfinite(cutoff) || cutoff <= 0)
		return set_error(s, OSC_SCORE_E_ARG, "note at %g s: cutoff %g Hz is not positive",
		                 t, cutoff);
	enum osc_score_err e = at(s, t);
	if (e)
		return e;
	lo_message m = lo_message_new();
	if (m)
		lo_message_add(m, "siiisfsfsfsf", synthdef_names[0], -1, 0, SYNTHDEF_GROUP_VOICES,
		               "freq", (float)synthdef_freq_of(pitch), "amp",
		               (float)synthdef_amp_of(velocity), "dur", (float)dur, "cutoff",
		               (float)cutoff);
	return add(s, "/s_new", m);
}

enum osc_score_err osc_score_fx(struct osc_score *s, double t, double mix, double volume)
{
	if (!(mix >= 0 && mix <= 1))
		return set_error(s, OSC_SCORE_E_ARG, "effect at %g s: reverb mix %g is not in 0..1",
		                 t, mix);
	if (!(volume >= 0 && volume <= 1))
		return set_error(s, OSC_SCORE_E_ARG, "effect at %g s: volume %g is not in 0..1", t,
		                 volume);
	enum osc_score_err e = at(s, t);
	if (e)
		return e;
	lo_message m = lo_message_new();
	if (m)
		lo_message_add(m, "isfsf", SYNTHDEF_NODE_FX, "mix", (float)mix, "volume",
		               (float)volume);
	return add(s, "/n_set", m);
}

enum osc_score_err osc_score_cutoff(struct osc_score *s, double t, double cutoff)
{
	if (!isfinite(cutoff) || cutoff <= 0)
		return set_error(s, OSC_SCORE_E_ARG, "cutoff at %g s: %g Hz is not positive", t,
		                 cutoff);
	enum osc_score_err e = at(s, t);
	if (e)
		return e;
	lo_message m = lo_message_new();
	if (m)
		lo_message_add(m, "isf", SYNTHDEF_GROUP_VOICES, "cutoff", (float)cutoff);
	return add(s, "/n_set", m);
}

enum osc_score_err osc_score_close(struct osc_score *s, double end_t)
{
	enum osc_score_err e = at(s, end_t);
	if (!e) {
		/* a harmless command: only the bundle's time matters */
		lo_message m = lo_message_new();
		if (m)
			lo_message_add(m, "if", 0, 0.0f);
		e = add(s, "/c_set", m);
	}
	enum osc_score_err fe = flush(s);
	if (!e)
		e = fe;
	if (s->cur)
		lo_bundle_free_recursive(s->cur);
	if (fclose(s->f) != 0 && !e)
		e = OSC_SCORE_E_IO;
	free(s);
	return e;
}

int osc_score_bundles(const struct osc_score *s)
{
	return s->bundles;
}

const char *osc_score_error(const struct osc_score *s)
{
	return s->msg[0] ? s->msg : "no error";
}

const char *osc_score_strerror(enum osc_score_err e)
{
	switch (e) {
	case OSC_SCORE_OK:
		return "no error";
	case OSC_SCORE_E_IO:
		return "score: cannot write the file";
	case OSC_SCORE_E_ORDER:
		return "score: events out of time order";
	case OSC_SCORE_E_ARG:
		return "score: value out of range";
	case OSC_SCORE_E_DEFS:
		return "score: cannot build the synth defs";
	case OSC_SCORE_E_NOMEM:
		return "score: out of memory";
	}
	return "score: unknown error";
}
