/*
 * evlog: the event log's line formatter.
 *
 * Builds each line in a small writer that refuses to overrun the caller's
 * buffer; times go from ns to seconds with six decimals in integer
 * arithmetic, values are rounded to 4 decimals (trailing zeros dropped) the
 * same way, so no printf of a double (whose decimal point follows the
 * locale) is involved.  Pure; any thread.
 */
#include "core/evlog.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/param.h"
#include "core/scale.h"

#define VALUE_DECIMALS 4

struct out {
	char *buf;
	size_t cap, len;
	int ok;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->ok || o->len + n + 1 > o->cap) {
		o->ok = 0;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = 0;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_int(struct out *o, long long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%lld", v);	/* integers ignore the locale */
	put(o, tmp, (size_t)n);
}

/* A JSON string with quotes, escaping what JSON requires. */
static void put_str(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			put(o, esc, 2);
		} else if (c < 0x20) {
			char esc[8];
			int n = snprintf(esc, sizeof esc, "\\u%04x", c);
			put(o, esc, (size_t)n);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	put(o, "\"", 1);
}

static void put_key(struct out *o, const char *key)
{
	put(o, ",", 1);
	put_str(o, key);
	put(o, ":", 1);
}

static long long pow10i(int d)
{
	long long p = 1;
	while (d-- > 0)
		p *= 10;
	return p;
}

/* Writes the integer r / 10^d (d <= 9) with d decimals, trailing zeros dropped if trim. */
static size_t fixed(long long r, int d, int trim, char *buf)
{
	unsigned long long p = (unsigned long long)pow10i(d);
	unsigned long long a = r < 0 ? 0ULL - (unsigned long long)r : (unsigned long long)r;
	int n = snprintf(buf, 32, "%s%llu", r < 0 ? "-" : "", a / p);
	char frac[9];
	unsigned long long f = a % p;
	for (int i = d - 1; i >= 0; i--) {
		frac[i] = (char)('0' + f % 10);
		f /= 10;
	}
	int fl = d;
	while (trim && fl > 0 && frac[fl - 1] == '0')
		fl--;
	if (fl > 0) {
		buf[n++] = '.';
		memcpy(buf + n, frac, (size_t)fl);
		n += fl;
	}
	buf[n] = 0;
	return (size_t)n;
}

size_t evlog_number(double v, int decimals, char *buf)
{
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	double scaled = v * (double)pow10i(decimals);
	if (!isfinite(scaled) || fabs(scaled) > 9.0e18) {
		strcpy(buf, "null");
		return 4;
	}
	long long r = llround(scaled);
	if (r == 0)
		strcpy(buf, "0");
	return r == 0 ? 1 : fixed(r, decimals, 1, buf);
}

static void put_num(struct out *o, double v)
{
	char tmp[32];
	size_t n = evlog_number(v, VALUE_DECIMALS, tmp);
	put(o, tmp, n);
}

/* ns as seconds with exactly six decimals, rounded half away from zero. */
static void put_seconds(struct out *o, int64_t ns)
{
	char tmp[32];
	long long us = ns / 1000, rem = ns % 1000;
	us += rem >= 500 ? 1 : rem <= -500 ? -1 : 0;
	put(o, tmp, fixed(us, 6, 0, tmp));
}

static const char *choice_name(const struct engine_config *cfg, int id, int i)
{
	if (!cfg || i < 0)
		return NULL;
	if (id == P_SCALE_SELECT && i < cfg->n_scales)
		return scale_name(cfg->scales[i]);
	if (id == P_MODE && i < cfg->n_modes && cfg->modes[i] >= 0 &&
	    cfg->modes[i] < ENGINE_MAX_PROFILES)
		return cfg->profiles[cfg->modes[i]].name;
	if (id == P_PALETTE && i < cfg->n_palettes && i < ENGINE_MAX_PALETTES)
		return cfg->palettes[i];
	return NULL;
}

static const char *param_name(int id)
{
	return id >= 0 && id < P_COUNT ? param_table[id].name : "unknown";
}

int evlog_logged(enum event_type t)
{
	return t != EV_STEP && t != EV_CLOCK && (unsigned)t < EV_TYPE_COUNT;
}

size_t evlog_format(const struct event *ev, const struct engine_config *cfg, int64_t t0,
    char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, cap > 0};
	if (!evlog_logged((enum event_type)ev->type))
		return 0;
	puts_(&o, "{\"t\":");
	int64_t dt;
	if (t0 < 0 && ev->t > INT64_MAX + t0)
		dt = INT64_MAX;
	else if (t0 > 0 && ev->t < INT64_MIN + t0)
		dt = INT64_MIN;
	else
		dt = ev->t - t0;
	put_seconds(&o, dt);
	put_key(&o, "type");
	put_str(&o, event_type_name((enum event_type)ev->type));
	switch (ev->type) {
	case EV_NOTE:
		put_key(&o, "pitch");
		put_int(&o, ev->u.note.pitch);
		put_key(&o, "velocity");
		put_int(&o, ev->u.note.velocity);
		put_key(&o, "duration");
		put_seconds(&o, ev->u.note.dur);
		put_key(&o, "step");
		put_int(&o, ev->u.note.step);
		break;
	case EV_PARAM: {
		put_key(&o, "name");
		put_str(&o, param_name(ev->u.param.id));
		put_key(&o, "value");
		put_num(&o, ev->u.param.value);
		const char *label = choice_name(cfg, ev->u.param.id, (int)ev->u.param.value);
		if (label) {
			put_key(&o, "label");
			put_str(&o, label);
		}
		put_key(&o, "source");
		put_str(&o, param_source_name((enum param_source)ev->u.param.source));
		break;
	}
	case EV_SCALE:
		put_key(&o, "scale");
		put_str(&o, scale_name(ev->u.scale.scale));
		put_key(&o, "root");
		put_int(&o, ev->u.scale.root);
		put_key(&o, "root_name");
		put_str(&o, scale_root_name(ev->u.scale.root));
		break;
	case EV_MUTATION:
		put_key(&o, "changes");
		put(&o, "[", 1);
		for (int i = 0; i < ev->u.mutation.n && i < EVENT_MUT_MAX; i++) {
			const struct event_change *c = &ev->u.mutation.ch[i];
			puts_(&o, i ? ",{\"name\":" : "{\"name\":");
			put_str(&o, param_name(c->param));
			put_key(&o, "from");
			put_num(&o, c->from);
			put_key(&o, "to");
			put_num(&o, c->to);
			put(&o, "}", 1);
		}
		put(&o, "]", 1);
		break;
	case EV_IDLE:
		put_key(&o, "state");
		put_str(&o, ev->u.idle.on ? "enter" : "exit");
		break;
	case EV_MODE: {
		put_key(&o, "mode");
		const char *name = choice_name(cfg, P_MODE, ev->u.mode.mode);
		if (name) {
			put_str(&o, name);
		} else {
			char tmp[8];
			snprintf(tmp, sizeof tmp, "%u", ev->u.mode.mode);
			put_str(&o, tmp);
		}
		break;
	}
	case EV_INPUT:
		put_key(&o, "kind");
		put_str(&o, midi_kind_name((enum midi_kind)ev->u.input.kind));
		put_key(&o, "channel");
		put_int(&o, ev->u.input.channel);
		put_key(&o, "number");
		put_int(&o, ev->u.input.number);
		put_key(&o, "value");
		put_int(&o, ev->u.input.value);
		break;
	case EV_TRANSPORT:
		put_key(&o, "state");
		put_str(&o, ev->u.transport.running ? "running" : "paused");
		break;
	case EV_STEP_EDIT:
		put_key(&o, "step");
		put_int(&o, ev->u.step_edit.step);
		put_key(&o, "on");
		puts_(&o, ev->u.step_edit.on ? "true" : "false");
		put_key(&o, "probability");
		put_num(&o, ev->u.step_edit.prob);
		put_key(&o, "velocity");
		put_int(&o, ev->u.step_edit.velocity);
		put_key(&o, "source");
		put_str(&o, param_source_name((enum param_source)ev->u.step_edit.source));
		break;
	case EV_PATTERN: {
		int len = ev->u.pattern.len;
		if (len > EVENT_PATTERN_STEPS)
			len = EVENT_PATTERN_STEPS;
		put_key(&o, "cause");
		put_str(&o, event_pattern_cause_name((enum pattern_cause)ev->u.pattern.cause));
		put_key(&o, "length");
		put_int(&o, len);
		put_key(&o, "shift");
		put_int(&o, ev->u.pattern.shift);
		if (ev->u.pattern.step >= 0) {
			put_key(&o, "step");
			put_int(&o, ev->u.pattern.step);
		}
		put_key(&o, "degrees");
		put(&o, "[", 1);
		for (int k = 0; k < len; k++) {
			if (k)
				put(&o, ",", 1);
			if (ev->u.pattern.off >> k & 1)
				puts_(&o, "null");
			else
				put_int(&o, ev->u.pattern.degree[k]);
		}
		put(&o, "]", 1);
		break;
	}
	case EV_CLOCK_SYNC:
		put_key(&o, "state");
		put_str(&o, ev->u.sync.on ? "following" : "internal");
		put_key(&o, "bpm");
		put_num(&o, ev->u.sync.bpm);
		break;
	}
	puts_(&o, "}\n");
	return o.ok ? o.len : 0;
}
