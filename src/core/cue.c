/*
 * cue: engine events to LED cues, and cues to bytes.
 *
 * A cue is small and abstract (a note, a parameter move, a mode, a palette,
 * idle on/off, a step edit); the firmware decides how it looks.  Two encodings:
 *   - serial: 0x00, COBS(type, payload, CRC-8/SMBUS over type+payload),
 *     0x00.  The receiver resynchronises at every 0x00; the leading one ends
 *     whatever damaged bytes came before, so damage never costs the next cue;
 *   - udp: one JSON object with names instead of indices.
 * Parameter values are clamped to the parameter's range before either
 * encoding.  JSON is written by core/jw, so the C locale of the caller never
 * changes the output.  Pure functions; any thread.
 */
#include "core/cue.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/cobs.h"
#include "core/jw.h"
#include "core/param.h"

_Static_assert(sizeof(float) == 4, "param values go out as IEEE-754 binary32");

static const char *const kind_names[CUE_KIND_COUNT] = {
    [CUE_NONE] = "none",       [CUE_NOTE] = "note", [CUE_PARAM] = "param", [CUE_MODE] = "mode",
    [CUE_PALETTE] = "palette", [CUE_IDLE] = "idle", [CUE_STEP] = "step",
};

const char *cue_kind_name(enum cue_kind k)
{
	return (unsigned)k < CUE_KIND_COUNT ? kind_names[k] : "unknown";
}

int cue_from_event(const struct event *ev, struct cue *out)
{
	memset(out, 0, sizeof *out);
	out->t = ev->t;
	switch (ev->type) {
	case EV_NOTE:
		out->kind = CUE_NOTE;
		out->u.note.pitch = ev->u.note.pitch & 0x7F;
		out->u.note.velocity = ev->u.note.velocity & 0x7F;
		return 1;
	case EV_PARAM:
		if (ev->u.param.id >= P_COUNT || ev->u.param.id == P_MODE)
			break; /* a mode change comes as EV_MODE */
		if (ev->u.param.id == P_PALETTE) {
			out->kind = CUE_PALETTE;
			out->u.palette.index = (uint8_t)param_clamp(P_PALETTE, ev->u.param.value);
			return 1;
		}
		out->kind = CUE_PARAM;
		out->u.param.id = ev->u.param.id;
		out->u.param.value = param_clamp(ev->u.param.id, ev->u.param.value);
		return 1;
	case EV_MODE:
		out->kind = CUE_MODE;
		out->u.mode.index = ev->u.mode.mode;
		return 1;
	case EV_IDLE:
		out->kind = CUE_IDLE;
		out->u.idle.on = ev->u.idle.on != 0;
		return 1;
	case EV_STEP_EDIT: {
		if (ev->u.step_edit.step < 0 || ev->u.step_edit.step > 63)
			break;
		double p = ev->u.step_edit.prob;
		out->kind = CUE_STEP;
		out->u.step.step = (uint8_t)ev->u.step_edit.step;
		out->u.step.on = ev->u.step_edit.on != 0;
		out->u.step.velocity = ev->u.step_edit.velocity & 0x7F;
		out->u.step.prob = (uint8_t)(p >= 1 ? 100 : p > 0 ? lround(p * 100) : 0);
		return 1;
	}
	default:
		break;
	}
	out->kind = CUE_NONE;
	return 0;
}

uint8_t cue_crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0x00;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
	}
	return crc;
}

static bool param_ok(const struct cue *c)
{
	return c->u.param.id < P_COUNT && c->u.param.id != P_MODE && c->u.param.id != P_PALETTE;
}

uint16_t cue_param_position(const struct cue *c)
{
	if (c->kind != CUE_PARAM || !param_ok(c))
		return 0;
	double u = param_to_unit(c->u.param.id, c->u.param.value);
	return (uint16_t)lround(u * 65535.0);
}

/* Type byte and payload of a valid cue; returns their length or 0. */
static size_t cue_raw(const struct cue *c, uint8_t *raw)
{
	raw[0] = c->kind;
	switch (c->kind) {
	case CUE_NOTE:
		raw[1] = c->u.note.pitch & 0x7F;
		raw[2] = c->u.note.velocity & 0x7F;
		return 3;
	case CUE_PARAM: {
		if (!param_ok(c))
			return 0;
		float f = (float)param_clamp(c->u.param.id, c->u.param.value);
		uint32_t bits;
		memcpy(&bits, &f, sizeof bits);
		uint16_t pos = cue_param_position(c);
		raw[1] = c->u.param.id;
		raw[2] = (uint8_t)(bits >> 24);
		raw[3] = (uint8_t)(bits >> 16);
		raw[4] = (uint8_t)(bits >> 8);
		raw[5] = (uint8_t)bits;
		raw[6] = (uint8_t)(pos >> 8);
		raw[7] = (uint8_t)pos;
		return 8;
	}
	case CUE_MODE:
		raw[1] = c->u.mode.index;
		return 2;
	case CUE_PALETTE:
		raw[1] = c->u.palette.index;
		return 2;
	case CUE_IDLE:
		raw[1] = c->u.idle.on != 0;
		return 2;
	case CUE_STEP:
		if (c->u.step.step > 63 || c->u.step.prob > 100)
			return 0;
		raw[1] = c->u.step.step;
		raw[2] = c->u.step.on != 0;
		raw[3] = c->u.step.velocity & 0x7F;
		raw[4] = c->u.step.prob;
		return 5;
	default:
		return 0;
	}
}

size_t cue_encode_frame(const struct cue *c, uint8_t *buf, size_t cap)
{
	uint8_t raw[1 + CUE_PAYLOAD_MAX + 1];
	size_t n = cue_raw(c, raw);
	if (n == 0)
		return 0;
	raw[n] = cue_crc8(raw, n);
	n++;
	if (cap < 2)
		return 0;
	buf[0] = 0x00;
	size_t len = cobs_encode(raw, n, buf + 1, cap - 2);
	if (len == 0)
		return 0;
	len++;
	buf[len++] = 0x00;
	return len;
}

/* names[index] when the NULL-terminated list reaches that far, else NULL. */
static const char *list_name(const char *const *names, unsigned index)
{
	if (!names)
		return NULL;
	for (unsigned i = 0; names[i]; i++)
		if (i == index)
			return names[i];
	return NULL;
}

static void put_name(struct jw *o, const char *const *names, unsigned index)
{
	const char *name = list_name(names, index);
	if (name) {
		jw_string(o, name);
		return;
	}
	jw_raw(o, "\"", 1);
	jw_int(o, index);
	jw_raw(o, "\"", 1);
}

size_t cue_format_json(const struct cue *c, const char *const *mode_names,
                       const char *const *palette_names, char *buf, size_t cap)
{
	struct jw o = jw_init(buf, cap);

	if (c->kind == CUE_NONE || c->kind >= CUE_KIND_COUNT ||
	    (c->kind == CUE_PARAM && !param_ok(c)) ||
	    (c->kind == CUE_STEP && (c->u.step.step > 63 || c->u.step.prob > 100)))
		return 0;
	jw_text(&o, "{\"type\":\"");
	jw_text(&o, kind_names[c->kind]);
	jw_raw(&o, "\"", 1);
	switch (c->kind) {
	case CUE_NOTE:
		jw_text(&o, ",\"velocity\":");
		jw_int(&o, c->u.note.velocity & 0x7F);
		jw_text(&o, ",\"pitch\":");
		jw_int(&o, c->u.note.pitch & 0x7F);
		break;
	case CUE_PARAM:
		jw_text(&o, ",\"name\":");
		jw_string(&o, param_table[c->u.param.id].name);
		jw_text(&o, ",\"value\":");
		jw_num(&o, param_clamp(c->u.param.id, c->u.param.value), 6);
		break;
	case CUE_MODE:
		jw_text(&o, ",\"mode\":");
		put_name(&o, mode_names, c->u.mode.index);
		break;
	case CUE_PALETTE:
		jw_text(&o, ",\"palette\":");
		put_name(&o, palette_names, c->u.palette.index);
		break;
	case CUE_STEP:
		jw_text(&o, ",\"step\":");
		jw_int(&o, c->u.step.step);
		jw_text(&o, ",\"on\":");
		jw_text(&o, c->u.step.on ? "true" : "false");
		jw_text(&o, ",\"velocity\":");
		jw_int(&o, c->u.step.velocity & 0x7F);
		jw_text(&o, ",\"probability\":");
		jw_num(&o, c->u.step.prob / 100.0, 6);
		break;
	default:
		jw_text(&o, ",\"state\":");
		jw_text(&o, c->u.idle.on ? "true" : "false");
		break;
	}
	jw_raw(&o, "}", 1);
	return jw_end(&o);
}
