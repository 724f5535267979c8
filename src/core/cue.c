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
 * encoding.  Numbers in JSON are formatted by hand, so the C locale of the
 * caller never changes the output.  Pure functions; any thread.
 */
#include "core/cue.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/cobs.h"
#include "core/param.h"

_Static_assert(sizeof(float) == 4, "param values go out as IEEE-754 binary32");

static const char *const kind_names[CUE_KIND_COUNT] = {
	[CUE_NONE] = "none", [CUE_NOTE] = "note", [CUE_PARAM] = "param",
	[CUE_MODE] = "mode", [CUE_PALETTE] = "palette", [CUE_IDLE] = "idle",
	[CUE_STEP] = "step",
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
			break;	/* a mode change comes as EV_MODE */
		if (ev->u.param.id == P_PALETTE) {
			out->kind = CUE_PALETTE;
			out->u.palette.index =
			    (uint8_t)param_clamp(P_PALETTE, ev->u.param.value);
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
	return c->u.param.id < P_COUNT && c->u.param.id != P_MODE &&
	    c->u.param.id != P_PALETTE;
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

/* A bounded string builder: once something does not fit, it stays failed. */
struct out {
	char *buf;
	size_t cap, len;
	bool ok;
};

static void put_char(struct out *o, char ch)
{
	if (o->len + 1 >= o->cap) {
		o->ok = false;
		return;
	}
	o->buf[o->len++] = ch;
}

static void put_str(struct out *o, const char *s)
{
	while (*s)
		put_char(o, *s++);
}

static void put_uint(struct out *o, unsigned long long v)
{
	char d[24];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_char(o, d[--n]);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void put_json_str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put_char(o, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			put_char(o, '\\');
			put_char(o, (char)ch);
		} else if (ch < 0x20) {
			put_str(o, "\\u00");
			put_char(o, hex[ch >> 4]);
			put_char(o, hex[ch & 15]);
		} else {
			put_char(o, (char)ch);
		}
	}
	put_char(o, '"');
}

/*
 * A number with up to six decimals, trailing zeros dropped ("128", "0.3"),
 * the same in every locale.  Values are clamped parameter values, far below
 * the 1e12 where six decimals would stop fitting in the integer arithmetic.
 */
static void put_number(struct out *o, double v)
{
	if (!isfinite(v) || fabs(v) >= 1e12) {
		put_str(o, "null");
		return;
	}
	long long scaled = llround(fabs(v) * 1e6);
	if (scaled == 0) {
		put_char(o, '0');
		return;
	}
	if (v < 0)
		put_char(o, '-');
	put_uint(o, (unsigned long long)(scaled / 1000000));
	long long frac = scaled % 1000000;
	if (frac == 0)
		return;
	char d[7];
	int n = 6;
	for (int i = 5; i >= 0; i--, frac /= 10)
		d[i] = (char)('0' + frac % 10);
	while (d[n - 1] == '0')
		n--;
	put_char(o, '.');
	for (int i = 0; i < n; i++)
		put_char(o, d[i]);
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

static void put_name(struct out *o, const char *const *names, unsigned index)
{
	const char *name = list_name(names, index);
	if (name) {
		put_json_str(o, name);
		return;
	}
	put_char(o, '"');
	put_uint(o, index);
	put_char(o, '"');
}

size_t cue_format_json(const struct cue *c, const char *const *mode_names,
    const char *const *palette_names, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, cap > 0};

	if (c->kind == CUE_NONE || c->kind >= CUE_KIND_COUNT ||
	    (c->kind == CUE_PARAM && !param_ok(c)) ||
	    (c->kind == CUE_STEP && (c->u.step.step > 63 || c->u.step.prob > 100)))
		return 0;
	put_str(&o, "{\"type\":\"");
	put_str(&o, kind_names[c->kind]);
	put_char(&o, '"');
	switch (c->kind) {
	case CUE_NOTE:
		put_str(&o, ",\"velocity\":");
		put_uint(&o, c->u.note.velocity & 0x7F);
		put_str(&o, ",\"pitch\":");
		put_uint(&o, c->u.note.pitch & 0x7F);
		break;
	case CUE_PARAM:
		put_str(&o, ",\"name\":");
		put_json_str(&o, param_table[c->u.param.id].name);
		put_str(&o, ",\"value\":");
		put_number(&o, param_clamp(c->u.param.id, c->u.param.value));
		break;
	case CUE_MODE:
		put_str(&o, ",\"mode\":");
		put_name(&o, mode_names, c->u.mode.index);
		break;
	case CUE_PALETTE:
		put_str(&o, ",\"palette\":");
		put_name(&o, palette_names, c->u.palette.index);
		break;
	case CUE_STEP:
		put_str(&o, ",\"step\":");
		put_uint(&o, c->u.step.step);
		put_str(&o, ",\"on\":");
		put_str(&o, c->u.step.on ? "true" : "false");
		put_str(&o, ",\"velocity\":");
		put_uint(&o, c->u.step.velocity & 0x7F);
		put_str(&o, ",\"probability\":");
		put_number(&o, c->u.step.prob / 100.0);
		break;
	default:
		put_str(&o, ",\"state\":");
		put_str(&o, c->u.idle.on ? "true" : "false");
		break;
	}
	put_char(&o, '}');
	if (!o.ok)
		return 0;
	buf[o.len] = '\0';
	return o.len;
}
