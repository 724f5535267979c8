/*
 * osc_score: the non-realtime score writer behind the render command.
 *
 * Design: messages at the same (sample-rounded) time are collected in one
 * open bundle, kept serialised in a growing buffer; a later time flushes
 * it to the file as a packet (int32 big-endian length, then the bundle) and
 * opens the next.  A message is either built with liblo and serialised
 * (the helpers below) or given already serialised (osc_score_message(), the
 * bytes the live backend sends too).  An earlier time is refused before
 * anything is written, so the file is always in time order.  Timetags are
 * seconds from 0 in NTP 32.32 format, which is what scsynth -N reads.
 * Time 0 holds two bundles: the defs (/d_recv), then the node layout
 * (voice group, me_fx after it with the starting mix and volume).
 *
 * Threads: one score belongs to one thread at a time.
 */
#include "synth/osc_score.h"

#include <lo/lo.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/sc_plan.h"
#include "synth/synthdef.h"

struct osc_score {
	FILE *f;
	int rate;
	uint8_t *cur; /* the open bundle, serialised; NULL when none */
	size_t cur_len, cur_cap;
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

/* The NTP timetag of a frame: whole seconds, then the remaining frames as
 * a 2^-32 s fraction, rounded up so it never falls before the frame. */
static uint64_t tag_of(const struct osc_score *s, int64_t frame)
{
	int64_t sec = frame / s->rate;
	int64_t rem = frame % s->rate;
	uint64_t frac = ((uint64_t)rem << 32) / (uint64_t)s->rate;
	if ((((uint64_t)rem << 32) % (uint64_t)s->rate) != 0)
		frac++;
	return (uint64_t)sec << 32 | frac;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Appends n bytes (and room for a 4-byte prefix when prefix) to the bundle. */
static uint8_t *grow(struct osc_score *s, size_t n)
{
	if (s->cur_len + n > s->cur_cap) {
		size_t cap = s->cur_cap ? s->cur_cap : 1024;
		while (cap < s->cur_len + n)
			cap *= 2;
		uint8_t *p = realloc(s->cur, cap);
		if (!p)
			return NULL;
		s->cur = p;
		s->cur_cap = cap;
	}
	uint8_t *at = s->cur + s->cur_len;
	s->cur_len += n;
	return at;
}

static enum osc_score_err flush(struct osc_score *s)
{
	if (!s->cur_len)
		return OSC_SCORE_OK;
	uint8_t hdr[4];
	put_u32(hdr, (uint32_t)s->cur_len);
	int ok = fwrite(hdr, 1, 4, s->f) == 4 && fwrite(s->cur, 1, s->cur_len, s->f) == s->cur_len;
	s->cur_len = 0;
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
	if (s->cur_len && frame != s->cur_frame) {
		enum osc_score_err e = flush(s);
		if (e)
			return e;
	}
	if (!s->cur_len) {
		uint8_t *p = grow(s, 16);
		if (!p)
			return s->io = set_error(s, OSC_SCORE_E_NOMEM, "out of memory");
		uint64_t tt = tag_of(s, frame);
		memcpy(p, "#bundle", 8);
		put_u32(p + 8, (uint32_t)(tt >> 32));
		put_u32(p + 12, (uint32_t)tt);
		s->cur_frame = frame;
	}
	s->last_frame = frame;
	return OSC_SCORE_OK;
}

/* Adds a serialised message to the open bundle. */
static enum osc_score_err add_raw(struct osc_score *s, const void *msg, size_t len)
{
	uint8_t *p = grow(s, 4 + len);
	if (!p)
		return s->io = set_error(s, OSC_SCORE_E_NOMEM, "out of memory");
	put_u32(p, (uint32_t)len);
	memcpy(p + 4, msg, len);
	return OSC_SCORE_OK;
}

/* Serialises a liblo message (and frees it) into the open bundle. */
static enum osc_score_err add(struct osc_score *s, const char *path, lo_message m)
{
	if (!m)
		return s->io = set_error(s, OSC_SCORE_E_NOMEM, "out of memory");
	size_t len = 0;
	void *data = lo_message_serialise(m, path, NULL, &len);
	lo_message_free(m);
	if (!data)
		return s->io = set_error(s, OSC_SCORE_E_NOMEM, "cannot serialise a message");
	enum osc_score_err e = add_raw(s, data, len);
	free(data);
	return e;
}

static enum osc_score_err write_header(struct osc_score *s, double mix, double volume)
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
	/* the node layout, as the live backend makes it (sc_plan_layout) */
	struct sc_cmd layout[SC_PLAN_LAYOUT];
	uint8_t msg[SC_PLAN_MSG_MAX];
	sc_plan_layout(mix, volume, layout);
	for (int i = 0; i < SC_PLAN_LAYOUT && !e; i++)
		e = osc_score_message(s, 0, msg, sc_plan_message(&layout[i], msg, sizeof msg));
	return e;
}

struct osc_score *osc_score_open(const char *path, int sample_rate, double mix, double volume,
                                 enum osc_score_err *err)
{
	enum osc_score_err dummy;
	if (!err)
		err = &dummy;
	if (!path || !*path || sample_rate < 8000 || sample_rate > 192000 ||
	    !(mix >= 0 && mix <= 1) || !(volume >= 0 && volume <= 1)) {
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
	*err = write_header(s, mix, volume);
	if (*err) {
		free(s->cur);
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

enum osc_score_err osc_score_message(struct osc_score *s, double t, const void *msg, size_t len)
{
	if (!msg || len < 8 || len % 4 != 0 || ((const char *)msg)[0] != '/')
		return set_error(s, OSC_SCORE_E_ARG,
		                 "message at %g s: not a serialised OSC message", t);
	enum osc_score_err e = at(s, t);
	if (e)
		return e;
	return add_raw(s, msg, len);
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
	free(s->cur);
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
