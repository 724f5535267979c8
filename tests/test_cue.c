/*
 * Tests of the LED cues: which engine events light the LEDs, the serial
 * frames the Teensy receives (checked with the firmware's own decoder from
 * contrib/teensy) and the JSON a UDP listener receives (parsed back with
 * jansson).
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../contrib/teensy/me_cue_decoder.h"
#include "core/cue.h"
#include "core/param.h"
#include "testlib.h"

static struct event ev_note(uint8_t pitch, uint8_t velocity)
{
	struct event ev = {.type = EV_NOTE, .t = 5000};
	ev.u.note.pitch = pitch;
	ev.u.note.velocity = velocity;
	ev.u.note.step = 3;
	ev.u.note.dur = 100000000;
	return ev;
}

static struct event ev_param(enum param_id id, double v)
{
	struct event ev = {.type = EV_PARAM, .t = 7};
	ev.u.param.id = (uint8_t)id;
	ev.u.param.source = SRC_MIDI;
	ev.u.param.value = v;
	return ev;
}

static void test_from_event(void)
{
	struct cue c;
	struct event ev = ev_note(64, 100);
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 1);
	CU_ASSERT_EQUAL(c.kind, CUE_NOTE);
	CU_ASSERT_EQUAL(c.u.note.pitch, 64);
	CU_ASSERT_EQUAL(c.u.note.velocity, 100);
	CU_ASSERT_EQUAL(c.t, 5000);

	ev = ev_param(P_TEMPO, 128);
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 1);
	CU_ASSERT_EQUAL(c.kind, CUE_PARAM);
	CU_ASSERT_EQUAL(c.u.param.id, P_TEMPO);
	CU_ASSERT_DOUBLE_EQUAL(c.u.param.value, 128, 1e-9);

	/* out of range values reach the LEDs clamped, as the synth hears them */
	ev = ev_param(P_TEMPO, 900);
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 1);
	CU_ASSERT_DOUBLE_EQUAL(c.u.param.value, param_table[P_TEMPO].max, 1e-9);

	ev = ev_param(P_PALETTE, 2);
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 1);
	CU_ASSERT_EQUAL(c.kind, CUE_PALETTE);
	CU_ASSERT_EQUAL(c.u.palette.index, 2);

	/* the mode arrives as EV_MODE; its EV_PARAM twin would double it */
	ev = ev_param(P_MODE, 1);
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 0);
	CU_ASSERT_EQUAL(c.kind, CUE_NONE);

	ev = (struct event){.type = EV_MODE};
	ev.u.mode.mode = 3;
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 1);
	CU_ASSERT_EQUAL(c.kind, CUE_MODE);
	CU_ASSERT_EQUAL(c.u.mode.index, 3);

	ev = (struct event){.type = EV_IDLE};
	ev.u.idle.on = 1;
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 1);
	CU_ASSERT_EQUAL(c.kind, CUE_IDLE);
	CU_ASSERT_EQUAL(c.u.idle.on, 1);
	ev.u.idle.on = 0;
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 1);
	CU_ASSERT_EQUAL(c.u.idle.on, 0);

	/* every step edit becomes a step cue */
	ev = (struct event){.type = EV_STEP_EDIT};
	ev.u.step_edit.step = 5;
	ev.u.step_edit.on = 1;
	ev.u.step_edit.velocity = 116;
	ev.u.step_edit.prob = 0.456;
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 1);
	CU_ASSERT_EQUAL(c.kind, CUE_STEP);
	CU_ASSERT_EQUAL(c.u.step.step, 5);
	CU_ASSERT_EQUAL(c.u.step.on, 1);
	CU_ASSERT_EQUAL(c.u.step.velocity, 116);
	CU_ASSERT_EQUAL(c.u.step.prob, 46);
	ev.u.step_edit.step = 64;
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 0);

	const enum event_type silent[] = {EV_SCALE, EV_MUTATION,  EV_INPUT,
	                                  EV_STEP,  EV_TRANSPORT, EV_PATTERN};
	for (size_t i = 0; i < sizeof silent / sizeof silent[0]; i++) {
		ev = (struct event){.type = (uint8_t)silent[i]};
		CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 0);
	}
	ev = ev_param(P_COUNT, 1);
	CU_ASSERT_EQUAL(cue_from_event(&ev, &c), 0);
}

/* The catalogue check value of CRC-8/SMBUS. */
static void test_crc8(void)
{
	CU_ASSERT_EQUAL(cue_crc8((const uint8_t *)"123456789", 9), 0xF4);
	CU_ASSERT_EQUAL(me_cue_crc8((const uint8_t *)"123456789", 9), 0xF4);
	CU_ASSERT_EQUAL(cue_crc8(NULL, 0), 0x00);
}

static void test_frame_bytes(void)
{
	uint8_t buf[CUE_FRAME_MAX];
	struct cue c = {.kind = CUE_NOTE};
	c.u.note.pitch = 64;
	c.u.note.velocity = 100;
	const uint8_t note[] = {0x00, 0x05, 0x01, 0x40, 0x64, 0x0B, 0x00};
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, sizeof buf), sizeof note);
	CU_ASSERT(memcmp(buf, note, sizeof note) == 0);

	c = (struct cue){.kind = CUE_PARAM};
	c.u.param.id = P_TEMPO;
	c.u.param.value = 128;
	const uint8_t tempo[] = {0x00, 0x02, 0x02, 0x02, 0x43, 0x01,
	                         0x01, 0x04, 0xAF, 0x7B, 0x96, 0x00};
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, sizeof buf), sizeof tempo);
	CU_ASSERT(memcmp(buf, tempo, sizeof tempo) == 0);
	CU_ASSERT_EQUAL(sizeof tempo, CUE_FRAME_MAX);

	c = (struct cue){.kind = CUE_IDLE};
	c.u.idle.on = 0;
	const uint8_t idle[] = {0x00, 0x02, 0x05, 0x02, 0x41, 0x00};
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, sizeof buf), sizeof idle);
	CU_ASSERT(memcmp(buf, idle, sizeof idle) == 0);

	/* step 3 on, velocity 116, probability 100 %: type 6, then CRC 0xD7 */
	c = (struct cue){.kind = CUE_STEP};
	c.u.step.step = 3;
	c.u.step.on = 1;
	c.u.step.velocity = 116;
	c.u.step.prob = 100;
	const uint8_t step[] = {0x00, 0x07, 0x06, 0x03, 0x01, 0x74, 0x64, 0xD7, 0x00};
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, sizeof buf), sizeof step);
	CU_ASSERT(memcmp(buf, step, sizeof step) == 0);
	c.u.step.step = 64;
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, sizeof buf), 0);
}

static int decode_all(const uint8_t *b, size_t n, struct me_cue_decoder *d, struct me_cue *got,
                      int max)
{
	int k = 0;
	for (size_t i = 0; i < n; i++) {
		struct me_cue one;
		if (me_cue_decoder_feed(d, b[i], &one) && k < max)
			got[k++] = one;
	}
	return k;
}

/* Every parameter, every index, both idle states reach the firmware intact. */
static void test_round_trip(void)
{
	struct me_cue_decoder d;
	struct me_cue got[1];
	uint8_t buf[CUE_FRAME_MAX];
	me_cue_decoder_init(&d);
	int sent = 0;

	for (int id = 0; id < P_COUNT; id++) {
		if (id == P_MODE || id == P_PALETTE)
			continue;
		for (int k = 0; k <= 4; k++) {
			double u = k / 4.0;
			struct cue c = {.kind = CUE_PARAM};
			c.u.param.id = (uint8_t)id;
			c.u.param.value = param_from_unit(id, u);
			size_t n = cue_encode_frame(&c, buf, sizeof buf);
			CU_ASSERT_FATAL(n > 0 && n <= CUE_FRAME_MAX);
			for (size_t i = 1; i + 1 < n; i++)
				CU_ASSERT_NOT_EQUAL(buf[i], 0);
			CU_ASSERT_EQUAL_FATAL(decode_all(buf, n, &d, got, 1), 1);
			sent++;
			CU_ASSERT_EQUAL(got[0].type, ME_CUE_PARAM);
			CU_ASSERT_EQUAL(got[0].param, id);
			CU_ASSERT_DOUBLE_EQUAL(got[0].value, c.u.param.value,
			                       1e-6 * param_table[id].max);
			if (param_table[id].curve != CURVE_STEPPED)
				CU_ASSERT(abs((int)got[0].position - (int)(u * 65535)) <= 1);
		}
	}
	for (int p = 0; p < 128; p++) {
		struct cue c = {.kind = CUE_NOTE};
		c.u.note.pitch = (uint8_t)p;
		c.u.note.velocity = (uint8_t)(127 - p);
		size_t n = cue_encode_frame(&c, buf, sizeof buf);
		CU_ASSERT_EQUAL_FATAL(decode_all(buf, n, &d, got, 1), 1);
		sent++;
		CU_ASSERT_EQUAL(got[0].type, ME_CUE_NOTE);
		CU_ASSERT_EQUAL(got[0].pitch, p);
		CU_ASSERT_EQUAL(got[0].velocity, 127 - p);
	}
	for (int i = 0; i < 256; i++) {
		struct cue c = {.kind = (uint8_t)(i % 2 ? CUE_MODE : CUE_PALETTE)};
		c.u.mode.index = (uint8_t)i;
		size_t n = cue_encode_frame(&c, buf, sizeof buf);
		CU_ASSERT_EQUAL_FATAL(decode_all(buf, n, &d, got, 1), 1);
		sent++;
		CU_ASSERT_EQUAL(got[0].type, c.kind);
		CU_ASSERT_EQUAL(got[0].index, i);
	}
	for (int k = 0; k < 64; k++) {
		struct cue c = {.kind = CUE_STEP};
		c.u.step.step = (uint8_t)k;
		c.u.step.on = (uint8_t)(k & 1);
		c.u.step.velocity = (uint8_t)(k * 2);
		c.u.step.prob = (uint8_t)(k * 100 / 63);
		size_t n = cue_encode_frame(&c, buf, sizeof buf);
		CU_ASSERT_EQUAL_FATAL(decode_all(buf, n, &d, got, 1), 1);
		sent++;
		CU_ASSERT_EQUAL(got[0].type, ME_CUE_STEP);
		CU_ASSERT_EQUAL(got[0].step, k);
		CU_ASSERT_EQUAL(got[0].on, k & 1);
		CU_ASSERT_EQUAL(got[0].velocity, k * 2);
		CU_ASSERT_EQUAL(got[0].prob, k * 100 / 63);
	}
	for (int on = 0; on <= 1; on++) {
		struct cue c = {.kind = CUE_IDLE};
		c.u.idle.on = (uint8_t)on;
		size_t n = cue_encode_frame(&c, buf, sizeof buf);
		CU_ASSERT_EQUAL_FATAL(decode_all(buf, n, &d, got, 1), 1);
		sent++;
		CU_ASSERT_EQUAL(got[0].type, ME_CUE_IDLE);
		CU_ASSERT_EQUAL(got[0].on, on);
	}
	CU_ASSERT_EQUAL(d.frames_ok, (uint32_t)sent);
	CU_ASSERT_EQUAL(d.crc_errors + d.framing_errors + d.overlong + d.unknown_type, 0);
}

static void test_encode_refuses(void)
{
	uint8_t buf[CUE_FRAME_MAX];
	struct cue c = {.kind = CUE_NONE};
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, sizeof buf), 0);
	c.kind = CUE_KIND_COUNT;
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, sizeof buf), 0);
	c.kind = CUE_PARAM;
	c.u.param.id = P_COUNT;
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, sizeof buf), 0);

	/* a frame never grows past cap, and fits exactly in its own length */
	c.u.param.id = P_FILTER_CUTOFF;
	c.u.param.value = 2400;
	size_t full = cue_encode_frame(&c, buf, sizeof buf);
	CU_ASSERT_FATAL(full > 0);
	for (size_t cap = 0; cap < full; cap++) {
		uint8_t small[CUE_FRAME_MAX + 1];
		memset(small, 0xEE, sizeof small);
		CU_ASSERT_EQUAL(cue_encode_frame(&c, small, cap), 0);
		CU_ASSERT_EQUAL(small[cap], 0xEE);
	}
	CU_ASSERT_EQUAL(cue_encode_frame(&c, buf, full), full);

	/* NaN is never put on the wire: the parameter's default goes instead */
	c.u.param.value = NAN;
	struct me_cue_decoder d;
	struct me_cue got;
	me_cue_decoder_init(&d);
	CU_ASSERT_EQUAL(decode_all(buf, cue_encode_frame(&c, buf, sizeof buf), &d, &got, 1), 1);
	CU_ASSERT_DOUBLE_EQUAL(got.value, param_table[P_FILTER_CUTOFF].def, 1e-3);
}

/* Formats a cue, parses it back with jansson; NULL when formatting failed. */
static json_t *as_json(const struct cue *c, const char *const *modes, const char *const *palettes,
                       char *text, size_t cap)
{
	size_t n = cue_format_json(c, modes, palettes, text, cap);
	if (n == 0)
		return NULL;
	CU_ASSERT_EQUAL(strlen(text), n);
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	CU_ASSERT_PTR_NOT_NULL(j);
	return j;
}

static void test_json(void)
{
	static const char *const modes[] = {"calm", "mystic", NULL};
	static const char *const palettes[] = {"frost", "moss", "ember", NULL};
	char text[CUE_JSON_MAX];
	json_t *j;

	struct cue c = {.kind = CUE_NOTE};
	c.u.note.pitch = 64;
	c.u.note.velocity = 100;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(text, "{\"type\":\"note\",\"velocity\":100,\"pitch\":64}");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "pitch")), 64);
	json_decref(j);

	c = (struct cue){.kind = CUE_PARAM};
	c.u.param.id = P_TEMPO;
	c.u.param.value = 128;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(text, "{\"type\":\"param\",\"name\":\"tempo\",\"value\":128}");
	json_decref(j);

	c.u.param.id = P_REVERB_MIX;
	c.u.param.value = 0.3;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "name")), "reverb_mix");
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(j, "value")), 0.3, 1e-9);
	json_decref(j);

	/* every parameter's whole range, to six decimals */
	for (int id = 0; id < P_COUNT; id++) {
		if (id == P_MODE || id == P_PALETTE)
			continue;
		for (int k = 0; k <= 10; k++) {
			c.u.param.id = (uint8_t)id;
			c.u.param.value = param_from_unit(id, k / 10.0 + 0.0123);
			j = as_json(&c, modes, palettes, text, sizeof text);
			CU_ASSERT_FATAL(j != NULL);
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "name")),
			                       param_table[id].name);
			CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(j, "value")),
			                       c.u.param.value, 6e-7);
			json_decref(j);
		}
	}

	c = (struct cue){.kind = CUE_MODE};
	c.u.mode.index = 1;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(text, "{\"type\":\"mode\",\"mode\":\"mystic\"}");
	json_decref(j);
	/* a mode the names do not reach is named by its number */
	c.u.mode.index = 2;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "mode")), "2");
	json_decref(j);
	j = as_json(&c, NULL, NULL, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "mode")), "2");
	json_decref(j);

	c = (struct cue){.kind = CUE_PALETTE};
	c.u.palette.index = 2;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(text, "{\"type\":\"palette\",\"palette\":\"ember\"}");
	json_decref(j);

	c = (struct cue){.kind = CUE_IDLE};
	c.u.idle.on = 1;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(text, "{\"type\":\"idle\",\"state\":true}");
	json_decref(j);
	c.u.idle.on = 0;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT(json_is_false(json_object_get(j, "state")));
	json_decref(j);

	c = (struct cue){.kind = CUE_STEP};
	c.u.step.step = 3;
	c.u.step.on = 1;
	c.u.step.velocity = 116;
	c.u.step.prob = 100;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(
	    text, "{\"type\":\"step\",\"step\":3,\"on\":true,\"velocity\":116,\"probability\":1}");
	json_decref(j);
	c.u.step.on = 0;
	c.u.step.prob = 35;
	j = as_json(&c, modes, palettes, text, sizeof text);
	CU_ASSERT(json_is_false(json_object_get(j, "on")));
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(j, "probability")), 0.35, 1e-9);
	json_decref(j);
}

/* Names come from the config file: quotes and control bytes stay valid JSON. */
static void test_json_escaping(void)
{
	static const char *const odd[] = {"say \"hi\"\\\n\t\x01 \xc3\xa9t\xc3\xa9", NULL};
	char text[CUE_JSON_MAX];
	struct cue c = {.kind = CUE_PALETTE};
	json_t *j = as_json(&c, NULL, odd, text, sizeof text);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "palette")), odd[0]);
	json_decref(j);
}

static void test_json_refuses(void)
{
	char text[CUE_JSON_MAX];
	struct cue c = {.kind = CUE_NONE};
	CU_ASSERT_EQUAL(cue_format_json(&c, NULL, NULL, text, sizeof text), 0);
	c.kind = CUE_PARAM;
	c.u.param.id = P_MODE;
	CU_ASSERT_EQUAL(cue_format_json(&c, NULL, NULL, text, sizeof text), 0);

	c = (struct cue){.kind = CUE_NOTE};
	size_t full = cue_format_json(&c, NULL, NULL, text, sizeof text);
	CU_ASSERT_FATAL(full > 0);
	for (size_t cap = 0; cap <= full; cap++) {
		char small[CUE_JSON_MAX];
		memset(small, '#', sizeof small);
		CU_ASSERT_EQUAL(cue_format_json(&c, NULL, NULL, small, cap), 0);
		CU_ASSERT_EQUAL(small[cap], '#');
	}
	CU_ASSERT_EQUAL(cue_format_json(&c, NULL, NULL, text, full + 1), full);
}

static void test_kind_names(void)
{
	CU_ASSERT_STRING_EQUAL(cue_kind_name(CUE_PALETTE), "palette");
	CU_ASSERT_STRING_EQUAL(cue_kind_name(CUE_KIND_COUNT), "unknown");
}

TEST_SUITE(cue, NULL, NULL, TEST_CASE(test_from_event), TEST_CASE(test_crc8),
           TEST_CASE(test_frame_bytes), TEST_CASE(test_round_trip), TEST_CASE(test_encode_refuses),
           TEST_CASE(test_json), TEST_CASE(test_json_escaping), TEST_CASE(test_json_refuses),
           TEST_CASE(test_kind_names))
