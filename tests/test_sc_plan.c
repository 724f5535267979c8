/* Tests of the sound plan: what scsynth is told for the engine's events.
 * A note carries the latest sound settings; a stolen voice is released with
 * a 10 ms fade that ends before the new note when the note was sent ahead
 * (the server never holds more voices than configured), and under it for a
 * live note; a pause releases every voice along its release time and
 * cancels the notes booked after it; the messages are well-formed OSC, the
 * same bytes live and offline. */
#include <lo/lo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/param.h"
#include "render/render.h"
#include "synth/sc_plan.h"
#include "synth/synthdef.h"
#include "testlib.h"

#define MS SC_PLAN_MS

static struct event note_at(int64_t t, int pitch, int vel, int64_t dur, int live)
{
	struct event e;
	memset(&e, 0, sizeof e);
	e.type = EV_NOTE;
	e.live = (uint8_t)live;
	e.t = t;
	e.u.note.pitch = (uint8_t)pitch;
	e.u.note.velocity = (uint8_t)vel;
	e.u.note.dur = dur;
	e.u.note.step = -1;
	return e;
}

static struct event param_at(int64_t t, int id, double v, int live)
{
	struct event e;
	memset(&e, 0, sizeof e);
	e.type = EV_PARAM;
	e.live = (uint8_t)live;
	e.t = t;
	e.u.param.id = (uint8_t)id;
	e.u.param.value = v;
	return e;
}

static struct event pause_at(int64_t t, int running)
{
	struct event e;
	memset(&e, 0, sizeof e);
	e.type = EV_TRANSPORT;
	e.live = 1;
	e.t = t;
	e.u.transport.running = (uint8_t)running;
	return e;
}

static void plan_with(struct sc_plan *p, int voices, int lookahead_ms)
{
	struct sc_plan_settings s = {
	    .voices = voices,
	    .lookahead_ns = lookahead_ms * MS,
	    .latency_ns = 10 * MS,
	    .cutoff = 2400,
	    .mix = 0.3,
	    .volume = 0.8,
	    .attack = param_table[P_ATTACK].def,
	    .release = param_table[P_RELEASE].def,
	};
	sc_plan_init(p, &s);
}

/* liblo's arguments point into the message bytes, not always aligned for
 * lo_arg's members: read them through memcpy. */
static int32_t arg_i(lo_arg **a, int k)
{
	int32_t v;
	memcpy(&v, a[k], sizeof v);
	return v;
}

static float arg_f(lo_arg **a, int k)
{
	float v;
	memcpy(&v, a[k], sizeof v);
	return v;
}

static const char *arg_s(lo_arg **a, int k)
{
	return (const char *)(const void *)a[k];
}

static size_t play(struct sc_plan *p, struct event e, struct sc_cmd *out)
{
	return sc_plan_event(p, &e, out, SC_PLAN_CMD_MAX);
}

/* A note sounds with the latest cutoff, attack and release; parameters go
 * to the voices' group (cutoff) or the effect synth (mix, volume). */
static void test_note_and_params(void)
{
	struct sc_plan p;
	struct sc_cmd c[SC_PLAN_CMD_MAX];
	plan_with(&p, 4, 50);
	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(100 * MS, 69, 127, 200 * MS, 0), c), 1);
	CU_ASSERT_EQUAL(c[0].type, SC_CMD_NOTE);
	CU_ASSERT_EQUAL(c[0].t, 100 * MS);
	CU_ASSERT_EQUAL(c[0].node, SC_PLAN_FIRST_VOICE);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.freq, 440.0, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.amp, synthdef_amp_of(127), 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.dur, 0.2, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.cutoff, 2400, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.atk, 0.001, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.rel, 0.3, 1e-6);

	/* a knob (live): 10 ms of latency, like the notes a button plays */
	CU_ASSERT_EQUAL_FATAL(play(&p, param_at(150 * MS, P_FILTER_CUTOFF, 900, 1), c), 1);
	CU_ASSERT_EQUAL(c[0].type, SC_CMD_SET);
	CU_ASSERT_EQUAL(c[0].t, 160 * MS);
	CU_ASSERT_EQUAL(c[0].node, SYNTHDEF_GROUP_VOICES);
	CU_ASSERT_STRING_EQUAL(c[0].name, "cutoff");
	CU_ASSERT_EQUAL_FATAL(play(&p, param_at(170 * MS, P_REVERB_MIX, 0.5, 0), c), 1);
	CU_ASSERT_EQUAL(c[0].node, SYNTHDEF_NODE_FX);
	CU_ASSERT_STRING_EQUAL(c[0].name, "mix");
	CU_ASSERT_EQUAL(c[0].t, 170 * MS);
	CU_ASSERT_EQUAL_FATAL(play(&p, param_at(180 * MS, P_MASTER_VOLUME, 0.25, 0), c), 1);
	CU_ASSERT_STRING_EQUAL(c[0].name, "volume");
	CU_ASSERT_DOUBLE_EQUAL(c[0].value, 0.25, 1e-6);
	/* parameters the sound does not use say nothing */
	CU_ASSERT_EQUAL(play(&p, param_at(190 * MS, P_TEMPO, 90, 0), c), 0);

	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(200 * MS, 60, 100, 100 * MS, 0), c), 1);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.cutoff, 900, 1e-3);
	CU_ASSERT_EQUAL(c[0].node, SC_PLAN_FIRST_VOICE + 1);
	/* silent or empty notes are not sent */
	CU_ASSERT_EQUAL(play(&p, note_at(300 * MS, 60, 0, 100 * MS, 0), c), 0);
	CU_ASSERT_EQUAL(play(&p, note_at(300 * MS, 60, 90, 0, 0), c), 0);
	CU_ASSERT_EQUAL(p.notes, 2);
}

/* Two voices, a third note: the oldest fades out in 10 ms, released early
 * enough to be gone (two blocks of margin) when the new note starts. */
static void test_steal_sequenced(void)
{
	struct sc_plan p;
	struct sc_cmd c[SC_PLAN_CMD_MAX];
	plan_with(&p, 2, 50);
	play(&p, note_at(0, 60, 100, 1000 * MS, 0), c);
	int32_t first = c[0].node;
	play(&p, note_at(20 * MS, 62, 100, 1000 * MS, 0), c);
	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(100 * MS, 64, 100, 1000 * MS, 0), c), 2);
	CU_ASSERT_EQUAL(c[0].type, SC_CMD_RELEASE);
	CU_ASSERT_EQUAL(c[0].node, first);
	CU_ASSERT_DOUBLE_EQUAL(c[0].value, 0.010, 1e-6);
	CU_ASSERT_EQUAL(c[0].t, 100 * MS - SC_PLAN_LEAD_MAX_NS);
	CU_ASSERT_EQUAL(c[1].type, SC_CMD_NOTE);
	CU_ASSERT_EQUAL(c[1].t, 100 * MS);
	CU_ASSERT_NOT_EQUAL(c[1].node, first);
	CU_ASSERT_EQUAL(p.steals, 1);
	/* the fading voice is counted until it is gone; never more than 2 */
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 95 * MS), 2);
	for (int64_t t = 0; t < 200 * MS; t += MS)
		CU_ASSERT(sc_plan_in_use(&p, t) <= 2);

	/* a short lookahead leaves less time: half of it */
	plan_with(&p, 1, 10);
	play(&p, note_at(0, 60, 100, 1000 * MS, 0), c);
	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(100 * MS, 62, 100, 100 * MS, 0), c), 2);
	CU_ASSERT_EQUAL(c[0].t, 95 * MS);

	/* a voice that started just now is released at its start, not before */
	plan_with(&p, 1, 50);
	play(&p, note_at(100 * MS, 60, 100, 1000 * MS, 0), c);
	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(105 * MS, 62, 100, 100 * MS, 0), c), 2);
	CU_ASSERT_EQUAL(c[0].type, SC_CMD_RELEASE);
	CU_ASSERT_EQUAL(c[0].t, 100 * MS);
}

/* A live note (a button) comes only latency_ms ahead: its stolen voice is
 * released at the note's own time and fades under it, counted meanwhile. */
static void test_steal_live(void)
{
	struct sc_plan p;
	struct sc_cmd c[SC_PLAN_CMD_MAX];
	plan_with(&p, 2, 50);
	play(&p, note_at(0, 60, 100, 1000 * MS, 0), c);
	play(&p, note_at(20 * MS, 62, 100, 1000 * MS, 0), c);
	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(100 * MS, 64, 100, 1000 * MS, 1), c), 2);
	CU_ASSERT_EQUAL(c[0].type, SC_CMD_RELEASE);
	CU_ASSERT_EQUAL(c[0].t, 110 * MS);
	CU_ASSERT_EQUAL(c[1].t, 110 * MS);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 111 * MS), 3);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 110 * MS + SC_PLAN_LEAD_MAX_NS), 2);

	/* a voice stolen in the last ms of its own release fades the full
	 * 10 ms from there, and is counted that long */
	plan_with(&p, 1, 50);
	play(&p, note_at(0, 60, 100, 10 * MS, 0), c); /* over at 1 + 10 + 300 + 3 ms */
	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(300 * MS, 62, 100, 100 * MS, 1), c), 2);
	CU_ASSERT_EQUAL(c[0].t, 310 * MS);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 318 * MS), 2);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 310 * MS + SC_PLAN_LEAD_MAX_NS), 1);
}

/* Pause: every voice released along the release time at the pause (plus
 * the latency of a live action), notes booked after it released at their
 * start (they never rise; were the message late, they would fade, not be
 * cut); resuming plays on with fresh voices. */
static void test_pause(void)
{
	struct sc_plan p;
	struct sc_cmd c[SC_PLAN_CMD_MAX];
	plan_with(&p, 4, 50);
	play(&p, note_at(0, 60, 100, 1000 * MS, 0), c);
	play(&p, note_at(100 * MS, 62, 100, 1000 * MS, 0), c);
	play(&p, note_at(240 * MS, 64, 100, 100 * MS, 0), c); /* booked ahead */
	int32_t booked = c[0].node;
	CU_ASSERT_EQUAL_FATAL(play(&p, pause_at(200 * MS, 0), c), 2);
	CU_ASSERT_EQUAL(c[0].type, SC_CMD_RELEASE);
	CU_ASSERT_EQUAL(c[0].node, SYNTHDEF_GROUP_VOICES);
	CU_ASSERT_EQUAL(c[0].t, 210 * MS);
	CU_ASSERT_DOUBLE_EQUAL(c[0].value, 0.3, 1e-6);
	CU_ASSERT_EQUAL(c[1].type, SC_CMD_RELEASE);
	CU_ASSERT_EQUAL(c[1].node, booked);
	CU_ASSERT_EQUAL(c[1].t, 240 * MS);
	CU_ASSERT_DOUBLE_EQUAL(c[1].value, 0.3, 1e-6);
	/* the released voices ring out their release, then are gone */
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 230 * MS), 2);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 400 * MS), 3);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 520 * MS), 1);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 545 * MS), 0);
	/* resume: nothing to send; the next notes need no steal */
	CU_ASSERT_EQUAL(play(&p, pause_at(300 * MS, 1), c), 0);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(play(&p, note_at((310 + i) * MS, 60, 100, MS, 0), c), 1);
		CU_ASSERT_EQUAL(c[0].type, SC_CMD_NOTE);
	}
	CU_ASSERT_EQUAL(p.steals, 0);
	/* the program stops: a short fade of everything, now */
	CU_ASSERT_EQUAL_FATAL(
	    sc_plan_release_all(&p, 320 * MS, SC_PLAN_STOP_FADE_S, c, SC_PLAN_CMD_MAX), 1);
	CU_ASSERT_DOUBLE_EQUAL(c[0].value, SC_PLAN_STOP_FADE_S, 1e-6);
	CU_ASSERT_EQUAL(c[0].t, 320 * MS);
}

/* The core's attack and release reach the next notes, their voices' span
 * and the pause (the ambient profile's slow pad: 0.15 s and 2 s). */
static void test_attack_release(void)
{
	struct sc_plan p;
	struct sc_cmd c[SC_PLAN_CMD_MAX];
	plan_with(&p, 2, 50);
	CU_ASSERT_EQUAL(play(&p, param_at(0, P_ATTACK, 0.15, 0), c), 0);
	CU_ASSERT_EQUAL(play(&p, param_at(0, P_RELEASE, 2.0, 0), c), 0);
	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(0, 60, 100, 500 * MS, 0), c), 1);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.atk, 0.15, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.rel, 2.0, 1e-6);
	/* the voice is held for attack + duration + release */
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 2600 * MS), 1);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 2660 * MS), 0);
	/* a pause releases along the current release */
	CU_ASSERT_EQUAL_FATAL(play(&p, pause_at(1000 * MS, 0), c), 1);
	CU_ASSERT_DOUBLE_EQUAL(c[0].value, 2.0, 1e-6);
}

/* After a server restart the voices are forgotten, the values kept. */
static void test_reset(void)
{
	struct sc_plan p;
	struct sc_cmd c[SC_PLAN_CMD_MAX];
	plan_with(&p, 1, 50);
	play(&p, param_at(0, P_FILTER_CUTOFF, 500, 0), c);
	play(&p, note_at(0, 60, 100, 1000 * MS, 0), c);
	sc_plan_reset(&p);
	CU_ASSERT_EQUAL(sc_plan_in_use(&p, 10 * MS), 0);
	CU_ASSERT_EQUAL_FATAL(play(&p, note_at(20 * MS, 60, 100, 1000 * MS, 0), c), 1);
	CU_ASSERT_DOUBLE_EQUAL(c[0].note.cutoff, 500, 1e-3);
}

/* The messages parse as OSC (liblo) with the arguments scsynth expects. */
static void test_messages(void)
{
	struct sc_cmd c[SC_PLAN_CMD_MAX];
	struct sc_plan p;
	uint8_t buf[SC_PLAN_MSG_MAX], bundle[SC_PLAN_MSG_MAX + 32];
	plan_with(&p, 1, 50);
	play(&p, note_at(0, 69, 127, 500 * MS, 0), c);
	play(&p, note_at(100 * MS, 81, 64, 500 * MS, 0), c); /* release + note */
	struct sc_cmd set = c[0];
	set.type = SC_CMD_SET;
	set.node = SYNTHDEF_NODE_FX;
	set.name = "mix";
	set.value = 0.5f;
	const struct {
		const struct sc_cmd *cmd;
		const char *path, *types;
	} want[] = {
	    {&c[0], "/n_set", "isf"},
	    {&c[1], "/s_new", "siiisfsfsfsfsfsf"},
	    {&set, "/n_set", "isf"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		size_t n = sc_plan_message(want[i].cmd, buf, sizeof buf);
		CU_ASSERT_FATAL(n > 0 && n % 4 == 0);
		int res = 0;
		lo_message m = lo_message_deserialise(buf, n, &res);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_STRING_EQUAL(lo_get_path(buf, n), want[i].path);
		CU_ASSERT_STRING_EQUAL(lo_message_get_types(m), want[i].types);
		lo_arg **a = lo_message_get_argv(m);
		if (i == 0) {
			CU_ASSERT_EQUAL(arg_i(a, 0), want[i].cmd->node);
			CU_ASSERT_STRING_EQUAL(arg_s(a, 1), "gate");
			CU_ASSERT_DOUBLE_EQUAL(arg_f(a, 2), -1.01, 1e-6); /* 10 ms forced release */
		} else if (i == 1) {
			CU_ASSERT_STRING_EQUAL(arg_s(a, 0), "me_voice");
			CU_ASSERT_EQUAL(arg_i(a, 1), want[i].cmd->node);
			CU_ASSERT_EQUAL(arg_i(a, 2), 0);
			CU_ASSERT_EQUAL(arg_i(a, 3), SYNTHDEF_GROUP_VOICES);
			CU_ASSERT_STRING_EQUAL(arg_s(a, 4), "freq");
			CU_ASSERT_DOUBLE_EQUAL(arg_f(a, 5), 880.0, 1e-3);
			CU_ASSERT_STRING_EQUAL(arg_s(a, 12), "atk");
			CU_ASSERT_STRING_EQUAL(arg_s(a, 14), "rel");
			CU_ASSERT_DOUBLE_EQUAL(arg_f(a, 15), 0.3, 1e-6);
		} else if (i == 2) {
			CU_ASSERT_STRING_EQUAL(arg_s(a, 1), "mix");
			CU_ASSERT_DOUBLE_EQUAL(arg_f(a, 2), 0.5, 1e-6);
		}
		lo_message_free(m);
		/* the bundle the live backend sends holds exactly these bytes */
		uint64_t tt = UINT64_C(0x0123456789abcdef);
		size_t bn = sc_plan_bundle(want[i].cmd, tt, bundle, sizeof bundle);
		CU_ASSERT_EQUAL_FATAL(bn, 16 + 4 + n);
		CU_ASSERT(memcmp(bundle, "#bundle", 8) == 0);
		CU_ASSERT_EQUAL(bundle[8], 0x01);
		CU_ASSERT_EQUAL(bundle[15], 0xef);
		CU_ASSERT_EQUAL(bundle[19], n);
		CU_ASSERT(memcmp(bundle + 20, buf, n) == 0);
		/* too small a buffer: nothing */
		CU_ASSERT_EQUAL(sc_plan_message(want[i].cmd, buf, n - 1), 0);
		CU_ASSERT_EQUAL(sc_plan_bundle(want[i].cmd, tt, bundle, bn - 1), 0);
	}
}

/* Reads the score file at path: each message's bundle time (seconds) and
 * bytes, in file order; returns how many (at most cap). */
struct score_msg {
	double t;
	uint8_t bytes[SC_PLAN_MSG_MAX];
	size_t len;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t score_messages(const char *path, struct score_msg *out, size_t cap)
{
	static uint8_t buf[1 << 18];
	FILE *f = fopen(path, "rb");
	size_t len = f ? fread(buf, 1, sizeof buf, f) : 0, n = 0;
	if (f)
		fclose(f);
	for (size_t pos = 0; pos + 4 <= len;) {
		size_t plen = be32(buf + pos), end = pos + 4 + plen;
		double t = be32(buf + pos + 12) + be32(buf + pos + 16) / 4294967296.0;
		for (size_t e = pos + 4 + 16; e + 4 <= end;) {
			size_t elen = be32(buf + e);
			if (n < cap) { /* a longer one (the defs) is kept empty */
				out[n].t = t;
				out[n].len = elen <= SC_PLAN_MSG_MAX ? elen : 0;
				memcpy(out[n].bytes, buf + e + 4, out[n].len);
				n++;
			}
			e += 4 + elen;
		}
		pos = end;
	}
	return n;
}

/*
 * Live and offline say the same thing to scsynth.  For a note, a stolen
 * voice and a cutoff move, the message inside each bundle the live backend
 * sends (sc_plan_bundle, as synth_sc.c sends it) is, byte for byte, the
 * message the render's score holds at the same time (render_score_new, as
 * `render --score` writes it); and the score starts from the node layout
 * the live backend builds on every server (sc_plan_layout).
 */
static void test_live_and_score_agree(void)
{
	struct sc_plan live;
	plan_with(&live, 1, 50);
	const char *path = "live_and_score.osc";
	char full[512];
	snprintf(full, sizeof full, "%s/%s", testlib_tmpdir(), path);
	enum osc_score_err err;
	struct render_sink *score = render_score_new(full, 48000, &live.set, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(score);
	const struct event evs[] = {
	    note_at(500 * MS, 69, 100, 200 * MS, 0),
	    note_at(600 * MS, 72, 90, 200 * MS, 0), /* steals the one voice */
	    param_at(700 * MS, P_FILTER_CUTOFF, 900, 0),
	};
	struct score_msg want[16];
	size_t n_want = 0;
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		struct sc_cmd c[SC_PLAN_CMD_MAX];
		uint8_t bundle[SC_PLAN_MSG_MAX + 32];
		size_t k = sc_plan_event(&live, &evs[i], c, SC_PLAN_CMD_MAX);
		for (size_t j = 0; j < k && n_want < 16; j++) {
			size_t bn = sc_plan_bundle(&c[j], UINT64_C(1), bundle, sizeof bundle);
			CU_ASSERT_FATAL(bn > 20);
			want[n_want].t = (double)c[j].t / 1e9;
			want[n_want].len = bn - 20;
			memcpy(want[n_want].bytes, bundle + 20, bn - 20);
			n_want++;
		}
		CU_ASSERT_EQUAL(score->ops->event(score->ctx, &evs[i]), 0);
	}
	CU_ASSERT_EQUAL(score->ops->finish(score->ctx, 1000 * MS), 0);
	render_score_free(score);
	CU_ASSERT_EQUAL(n_want, 4); /* note, release of the stolen voice, note, cutoff */

	struct score_msg got[32];
	size_t n_got = score_messages(full, got, 32);
	/* time 0: the defs, then the layout */
	struct sc_cmd layout[SC_PLAN_LAYOUT];
	sc_plan_layout(live.set.mix, live.set.volume, layout);
	CU_ASSERT_FATAL(n_got >= 1 + SC_PLAN_LAYOUT + n_want);
	for (int i = 0; i < SC_PLAN_LAYOUT; i++) {
		uint8_t msg[SC_PLAN_MSG_MAX];
		size_t len = sc_plan_message(&layout[i], msg, sizeof msg);
		CU_ASSERT_EQUAL(got[1 + i].t, 0);
		CU_ASSERT_EQUAL(got[1 + i].len, len);
		CU_ASSERT(memcmp(got[1 + i].bytes, msg, len) == 0);
	}
	/* then every live message, in time order, at its time (to the sample) */
	for (size_t i = 0; i < n_want; i++) {
		const struct score_msg *g = &got[1 + SC_PLAN_LAYOUT + i];
		CU_ASSERT_DOUBLE_EQUAL(g->t, want[i].t, 1.0 / 48000);
		CU_ASSERT_EQUAL(g->len, want[i].len);
		CU_ASSERT(g->len == want[i].len && memcmp(g->bytes, want[i].bytes, g->len) == 0);
	}
}

TEST_SUITE(sc_plan, NULL, NULL, TEST_CASE(test_note_and_params), TEST_CASE(test_steal_sequenced),
           TEST_CASE(test_steal_live), TEST_CASE(test_pause), TEST_CASE(test_attack_release),
           TEST_CASE(test_reset), TEST_CASE(test_messages), TEST_CASE(test_live_and_score_agree))
