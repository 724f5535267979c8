/*
 * Tests of the NRT score writer: the file is what scsynth -N reads (length-
 * prefixed bundles in time order, defs and node layout at 0, notes at the
 * sample they were asked for), and bad or out-of-order input is refused
 * with a clear message without spoiling the file.
 */
#include <lo/lo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/osc_score.h"
#include "synth/synthdef.h"
#include "testlib.h"

#define MAX_MSGS 64

struct msg {
	double t; /* bundle time, seconds */
	uint32_t sec, frac;
	char path[32];
	lo_message m;
};

struct score {
	int n_bundles, n_msgs;
	double bundle_t[MAX_MSGS];
	struct msg msgs[MAX_MSGS];
	int order_ok;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads a score file back; returns 0 when every packet is a well-formed
 * bundle. */
static int read_score(const char *path, struct score *s)
{
	memset(s, 0, sizeof *s);
	s->order_ok = 1;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	static uint8_t buf[1 << 16];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	size_t pos = 0;
	while (pos < len) {
		if (pos + 4 > len)
			return -1;
		size_t plen = be32(buf + pos);
		pos += 4;
		if (pos + plen > len || plen < 16 || memcmp(buf + pos, "#bundle", 8) != 0)
			return -1;
		uint32_t sec = be32(buf + pos + 8), frac = be32(buf + pos + 12);
		double t = sec + frac / 4294967296.0;
		if (s->n_bundles > 0 && t < s->bundle_t[s->n_bundles - 1])
			s->order_ok = 0;
		if (s->n_bundles < MAX_MSGS)
			s->bundle_t[s->n_bundles] = t;
		s->n_bundles++;
		size_t e = pos + 16, end = pos + plen;
		while (e < end) {
			size_t elen = be32(buf + e);
			e += 4;
			if (e + elen > end)
				return -1;
			if (s->n_msgs < MAX_MSGS) {
				struct msg *m = &s->msgs[s->n_msgs++];
				int r = 0;
				m->t = t;
				m->sec = sec;
				m->frac = frac;
				snprintf(m->path, sizeof m->path, "%s", (const char *)(buf + e));
				m->m = lo_message_deserialise(buf + e, elen, &r);
				if (!m->m)
					return -1;
			}
			e += elen;
		}
		pos = end;
	}
	return 0;
}

static void free_score(struct score *s)
{
	for (int i = 0; i < s->n_msgs && i < MAX_MSGS; i++)
		if (s->msgs[i].m)
			lo_message_free(s->msgs[i].m);
}

static const char *types_of(const struct msg *m)
{
	return lo_message_get_types(m->m);
}

static lo_arg *arg(const struct msg *m, int k)
{
	return lo_message_get_argv(m->m)[k];
}

static int32_t arg_i(const struct msg *m, int k)
{
	int32_t v;
	memcpy(&v, (const void *)arg(m, k), sizeof v);
	return v;
}

static float arg_f(const struct msg *m, int k)
{
	float v;
	memcpy(&v, (const void *)arg(m, k), sizeof v);
	return v;
}

static const char *arg_s(const struct msg *m, int k)
{
	return (const char *)(const void *)arg(m, k);
}

/* The float value of the named control in an /s_new or /n_set message
 * whose pairs start at argument `first`; NAN when absent. */
static float control(const struct msg *m, int first, const char *name)
{
	const char *t = types_of(m);
	int n = (int)strlen(t);
	for (int k = first; k + 1 < n; k += 2)
		if (t[k] == 's' && strcmp(arg_s(m, k), name) == 0 && t[k + 1] == 'f')
			return arg_f(m, k + 1);
	return NAN;
}

static char *tmp_path(const char *name)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", testlib_tmpdir(), name);
	return path;
}

static void test_layout_and_notes(void)
{
	const char *path = tmp_path("a.osc");
	enum osc_score_err e;
	struct osc_score *s = osc_score_open(path, 48000, 0.25, 0.75, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(e, OSC_SCORE_OK);
	CU_ASSERT_EQUAL(osc_score_fx(s, 0, 0.25, 0.75), OSC_SCORE_OK);
	CU_ASSERT_EQUAL(osc_score_note(s, 0.5, 69, 127, 0.2, 3000), OSC_SCORE_OK);
	CU_ASSERT_EQUAL(osc_score_note(s, 0.5, 81, 64, 0.1, 1500), OSC_SCORE_OK);
	CU_ASSERT_EQUAL(osc_score_cutoff(s, 0.7, 900), OSC_SCORE_OK);
	/* not on a block boundary, not on a whole sample */
	CU_ASSERT_EQUAL(osc_score_note(s, 1.2345678, 60, 100, 0.1, 3000), OSC_SCORE_OK);
	CU_ASSERT_EQUAL(osc_score_close(s, 3.0), OSC_SCORE_OK);

	struct score sc;
	CU_ASSERT_EQUAL_FATAL(read_score(path, &sc), 0);
	CU_ASSERT(sc.order_ok);
	/* d_recv | g_new + s_new fx + n_set fx | 2 notes | n_set | note | c_set */
	CU_ASSERT_EQUAL(sc.n_bundles, 6);
	CU_ASSERT_EQUAL_FATAL(sc.n_msgs, 9);

	/* time 0: the defs, exactly the bytes synthdef_build_all() makes */
	const struct msg *m = &sc.msgs[0];
	CU_ASSERT_STRING_EQUAL(m->path, "/d_recv");
	CU_ASSERT_EQUAL(m->t, 0.0);
	CU_ASSERT_EQUAL_FATAL(types_of(m)[0], 'b');
	uint8_t *defs;
	size_t len;
	CU_ASSERT_EQUAL_FATAL(synthdef_build_all(&defs, &len), SYNTHDEF_OK);
	lo_blob b = (lo_blob)arg(m, 0);
	CU_ASSERT_EQUAL(lo_blob_datasize(b), (uint32_t)len);
	CU_ASSERT(memcmp(lo_blob_dataptr(b), defs, len) == 0);
	free(defs);

	/* then the voice group at the head of 0, me_fx after it */
	m = &sc.msgs[1];
	CU_ASSERT_STRING_EQUAL(m->path, "/g_new");
	CU_ASSERT_STRING_EQUAL(types_of(m), "iii");
	CU_ASSERT_EQUAL(arg_i(m, 0), SYNTHDEF_GROUP_VOICES);
	CU_ASSERT_EQUAL(arg_i(m, 1), 0);
	CU_ASSERT_EQUAL(arg_i(m, 2), 0);
	m = &sc.msgs[2];
	CU_ASSERT_STRING_EQUAL(m->path, "/s_new");
	CU_ASSERT_STRING_EQUAL(arg_s(m, 0), "me_fx");
	CU_ASSERT_EQUAL(arg_i(m, 1), SYNTHDEF_NODE_FX);
	CU_ASSERT_EQUAL(arg_i(m, 2), 3);                     /* add after ... */
	CU_ASSERT_EQUAL(arg_i(m, 3), SYNTHDEF_GROUP_VOICES); /* ... the voices */
	/* starting at the given mix and volume, so nothing glides at time 0 */
	CU_ASSERT_DOUBLE_EQUAL(control(m, 4, "mix"), 0.25, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(control(m, 4, "volume"), 0.75, 1e-6);
	m = &sc.msgs[3];
	CU_ASSERT_STRING_EQUAL(m->path, "/n_set");
	CU_ASSERT_EQUAL(m->t, 0.0);
	CU_ASSERT_EQUAL(arg_i(m, 0), SYNTHDEF_NODE_FX);
	CU_ASSERT_DOUBLE_EQUAL(control(m, 1, "mix"), 0.25, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(control(m, 1, "volume"), 0.75, 1e-6);

	/* two notes at 0.5 s share one bundle */
	m = &sc.msgs[4];
	CU_ASSERT_STRING_EQUAL(m->path, "/s_new");
	CU_ASSERT_STRING_EQUAL(arg_s(m, 0), "me_voice");
	CU_ASSERT_EQUAL(arg_i(m, 2), 0); /* head of ... */
	CU_ASSERT_EQUAL(arg_i(m, 3), SYNTHDEF_GROUP_VOICES);
	CU_ASSERT_EQUAL(m->sec, 0u);
	CU_ASSERT_EQUAL(m->frac, 0x80000000u);
	CU_ASSERT_DOUBLE_EQUAL(control(m, 4, "freq"), 440.0, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(control(m, 4, "amp"), synthdef_amp_of(127), 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(control(m, 4, "dur"), 0.2, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(control(m, 4, "cutoff"), 3000, 1e-3);
	CU_ASSERT_EQUAL(sc.msgs[5].t, m->t);
	CU_ASSERT_DOUBLE_EQUAL(control(&sc.msgs[5], 4, "freq"), 880.0, 1e-3);
	CU_ASSERT(control(&sc.msgs[5], 4, "amp") < control(m, 4, "amp"));

	/* a cutoff change goes to every voice: /n_set on the group */
	m = &sc.msgs[6];
	CU_ASSERT_STRING_EQUAL(m->path, "/n_set");
	CU_ASSERT_EQUAL(arg_i(m, 0), SYNTHDEF_GROUP_VOICES);
	CU_ASSERT_DOUBLE_EQUAL(control(m, 1, "cutoff"), 900, 1e-3);

	/* 1.2345678 s is frame 59259.25: the timetag is that whole frame,
	 * never before it and less than a nanosecond after */
	m = &sc.msgs[7];
	double frame_t = 59259.0 / 48000.0;
	CU_ASSERT(m->t >= frame_t - 1e-12);
	CU_ASSERT(m->t - frame_t < 1e-9);

	/* the last bundle is at the end time */
	m = &sc.msgs[8];
	CU_ASSERT_STRING_EQUAL(m->path, "/c_set");
	CU_ASSERT_EQUAL(m->sec, 3u);
	CU_ASSERT_EQUAL(m->frac, 0u);
	free_score(&sc);
}

static void test_order_refused(void)
{
	const char *path = tmp_path("order.osc");
	struct osc_score *s = osc_score_open(path, 48000, 0.33, 0.8, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(osc_score_note(s, 1.0, 60, 100, 0.1, 2000), OSC_SCORE_OK);
	CU_ASSERT_EQUAL(osc_score_note(s, 2.0, 62, 100, 0.1, 2000), OSC_SCORE_OK);
	int before = osc_score_bundles(s);
	CU_ASSERT_EQUAL(osc_score_note(s, 0.5, 64, 100, 0.1, 2000), OSC_SCORE_E_ORDER);
	CU_ASSERT_PTR_NOT_NULL(strstr(osc_score_error(s), "0.500000"));
	CU_ASSERT_PTR_NOT_NULL(strstr(osc_score_error(s), "2.000000"));
	CU_ASSERT_EQUAL(osc_score_fx(s, 1.5, 0.2, 0.5), OSC_SCORE_E_ORDER);
	CU_ASSERT_EQUAL(osc_score_bundles(s), before);
	/* the score stays usable */
	CU_ASSERT_EQUAL(osc_score_note(s, 2.5, 65, 100, 0.1, 2000), OSC_SCORE_OK);
	CU_ASSERT_EQUAL(osc_score_close(s, 3.0), OSC_SCORE_OK);

	struct score sc;
	CU_ASSERT_EQUAL_FATAL(read_score(path, &sc), 0);
	CU_ASSERT(sc.order_ok);
	int notes = 0;
	for (int i = 0; i < sc.n_msgs; i++)
		if (strcmp(sc.msgs[i].path, "/s_new") == 0 &&
		    strcmp(arg_s(&sc.msgs[i], 0), "me_voice") == 0) {
			notes++;
			CU_ASSERT(sc.msgs[i].t >= 1.0);
		}
	CU_ASSERT_EQUAL(notes, 3);
	free_score(&sc);

	/* an end before the last event is refused too */
	s = osc_score_open(path, 48000, 0.33, 0.8, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(osc_score_note(s, 1.0, 60, 100, 0.1, 2000), OSC_SCORE_OK);
	CU_ASSERT_EQUAL(osc_score_close(s, 0.5), OSC_SCORE_E_ORDER);
}

static void test_bad_values(void)
{
	const char *path = tmp_path("bad.osc");
	struct osc_score *s = osc_score_open(path, 44100, 0.33, 0.8, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	int before = osc_score_bundles(s);
	CU_ASSERT_EQUAL(osc_score_note(s, 1, 128, 100, 0.1, 2000), OSC_SCORE_E_ARG);
	CU_ASSERT_PTR_NOT_NULL(strstr(osc_score_error(s), "pitch 128"));
	CU_ASSERT_EQUAL(osc_score_note(s, 1, 60, 0, 0.1, 2000), OSC_SCORE_E_ARG);
	CU_ASSERT_PTR_NOT_NULL(strstr(osc_score_error(s), "velocity 0"));
	CU_ASSERT_EQUAL(osc_score_note(s, 1, 60, 100, 0, 2000), OSC_SCORE_E_ARG);
	CU_ASSERT_EQUAL(osc_score_note(s, 1, 60, 100, 0.1, -5), OSC_SCORE_E_ARG);
	CU_ASSERT_EQUAL(osc_score_note(s, NAN, 60, 100, 0.1, 2000), OSC_SCORE_E_ARG);
	CU_ASSERT_EQUAL(osc_score_note(s, -1, 60, 100, 0.1, 2000), OSC_SCORE_E_ARG);
	CU_ASSERT_EQUAL(osc_score_fx(s, 1, 1.5, 0.5), OSC_SCORE_E_ARG);
	CU_ASSERT_PTR_NOT_NULL(strstr(osc_score_error(s), "mix 1.5"));
	CU_ASSERT_EQUAL(osc_score_fx(s, 1, 0.5, NAN), OSC_SCORE_E_ARG);
	CU_ASSERT_EQUAL(osc_score_cutoff(s, 1, INFINITY), OSC_SCORE_E_ARG);
	CU_ASSERT_EQUAL(osc_score_bundles(s), before);
	CU_ASSERT_EQUAL(osc_score_close(s, 2), OSC_SCORE_OK);

	enum osc_score_err e = OSC_SCORE_OK;
	CU_ASSERT_PTR_NULL(osc_score_open(tmp_path("no/such/dir/x.osc"), 48000, 0.33, 0.8, &e));
	CU_ASSERT_EQUAL(e, OSC_SCORE_E_IO);
	CU_ASSERT_PTR_NULL(osc_score_open(tmp_path("x.osc"), 0, 0.33, 0.8, &e));
	CU_ASSERT_EQUAL(e, OSC_SCORE_E_ARG);
	CU_ASSERT(strcmp(osc_score_strerror(OSC_SCORE_E_ORDER),
	                 osc_score_strerror(OSC_SCORE_E_ARG)) != 0);
}

TEST_SUITE(osc_score, NULL, NULL, TEST_CASE(test_layout_and_notes), TEST_CASE(test_order_refused),
           TEST_CASE(test_bad_values))
