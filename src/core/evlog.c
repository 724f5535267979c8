/*
 * evlog: the event log's line formatter.
 *
 * Builds each line with the JSON writer (core/jw), which refuses to overrun
 * the caller's buffer; times go from ns to seconds with six decimals in
 * integer arithmetic, values are rounded to 4 decimals (trailing zeros
 * dropped) the same way, so no printf of a double (whose decimal point
 * follows the locale) is involved.  Pure; any thread.
 */
#include "core/evlog.h"

#include <stdio.h>
#include <string.h>

#include "core/jw.h"
#include "core/param.h"
#include "core/scale.h"

#define VALUE_DECIMALS 4

/* ns as seconds with exactly six decimals, rounded half away from zero. */
static void put_seconds(struct jw *o, int64_t ns)
{
	long long us = ns / 1000, rem = ns % 1000;
	us += rem >= 500 ? 1 : rem <= -500 ? -1 : 0;
	jw_fixed(o, us, 6, false);
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

size_t evlog_format(const struct event *ev, const struct engine_config *cfg, int64_t t0, char *buf,
                    size_t cap)
{
	struct jw o = jw_init(buf, cap);
	if (!evlog_logged((enum event_type)ev->type))
		return 0;
	jw_text(&o, "{\"t\":");
	int64_t dt;
	if (t0 < 0 && ev->t > INT64_MAX + t0)
		dt = INT64_MAX;
	else if (t0 > 0 && ev->t < INT64_MIN + t0)
		dt = INT64_MIN;
	else
		dt = ev->t - t0;
	put_seconds(&o, dt);
	jw_key(&o, "type");
	jw_string(&o, event_type_name((enum event_type)ev->type));
	switch (ev->type) {
	case EV_NOTE:
		jw_key(&o, "pitch");
		jw_int(&o, ev->u.note.pitch);
		jw_key(&o, "velocity");
		jw_int(&o, ev->u.note.velocity);
		jw_key(&o, "duration");
		put_seconds(&o, ev->u.note.dur);
		jw_key(&o, "step");
		jw_int(&o, ev->u.note.step);
		break;
	case EV_PARAM: {
		jw_key(&o, "name");
		jw_string(&o, param_name(ev->u.param.id));
		jw_key(&o, "value");
		jw_num(&o, ev->u.param.value, VALUE_DECIMALS);
		const char *label = choice_name(cfg, ev->u.param.id, (int)ev->u.param.value);
		if (label) {
			jw_key(&o, "label");
			jw_string(&o, label);
		}
		jw_key(&o, "source");
		jw_string(&o, param_source_name((enum param_source)ev->u.param.source));
		break;
	}
	case EV_SCALE:
		jw_key(&o, "scale");
		jw_string(&o, scale_name(ev->u.scale.scale));
		jw_key(&o, "root");
		jw_int(&o, ev->u.scale.root);
		jw_key(&o, "root_name");
		jw_string(&o, scale_root_name(ev->u.scale.root));
		break;
	case EV_MUTATION:
		jw_key(&o, "changes");
		jw_raw(&o, "[", 1);
		for (int i = 0; i < ev->u.mutation.n && i < EVENT_MUT_MAX; i++) {
			const struct event_change *c = &ev->u.mutation.ch[i];
			jw_text(&o, i ? ",{\"name\":" : "{\"name\":");
			jw_string(&o, param_name(c->param));
			jw_key(&o, "from");
			jw_num(&o, c->from, VALUE_DECIMALS);
			jw_key(&o, "to");
			jw_num(&o, c->to, VALUE_DECIMALS);
			jw_raw(&o, "}", 1);
		}
		jw_raw(&o, "]", 1);
		break;
	case EV_IDLE:
		jw_key(&o, "state");
		jw_string(&o, ev->u.idle.on ? "enter" : "exit");
		break;
	case EV_MODE: {
		jw_key(&o, "mode");
		const char *name = choice_name(cfg, P_MODE, ev->u.mode.mode);
		if (name) {
			jw_string(&o, name);
		} else {
			char tmp[8];
			snprintf(tmp, sizeof tmp, "%u", ev->u.mode.mode);
			jw_string(&o, tmp);
		}
		break;
	}
	case EV_INPUT:
		jw_key(&o, "kind");
		jw_string(&o, midi_kind_name((enum midi_kind)ev->u.input.kind));
		jw_key(&o, "channel");
		jw_int(&o, ev->u.input.channel);
		jw_key(&o, "number");
		jw_int(&o, ev->u.input.number);
		jw_key(&o, "value");
		jw_int(&o, ev->u.input.value);
		break;
	case EV_TRANSPORT:
		jw_key(&o, "state");
		jw_string(&o, ev->u.transport.running ? "running" : "paused");
		break;
	case EV_STEP_EDIT:
		jw_key(&o, "step");
		jw_int(&o, ev->u.step_edit.step);
		jw_key(&o, "on");
		jw_text(&o, ev->u.step_edit.on ? "true" : "false");
		jw_key(&o, "probability");
		jw_num(&o, ev->u.step_edit.prob, VALUE_DECIMALS);
		jw_key(&o, "velocity");
		jw_int(&o, ev->u.step_edit.velocity);
		jw_key(&o, "source");
		jw_string(&o, param_source_name((enum param_source)ev->u.step_edit.source));
		break;
	case EV_PATTERN: {
		int len = ev->u.pattern.len;
		if (len > EVENT_PATTERN_STEPS)
			len = EVENT_PATTERN_STEPS;
		jw_key(&o, "cause");
		jw_string(&o, event_pattern_cause_name((enum pattern_cause)ev->u.pattern.cause));
		jw_key(&o, "length");
		jw_int(&o, len);
		jw_key(&o, "shift");
		jw_int(&o, ev->u.pattern.shift);
		if (ev->u.pattern.step >= 0) {
			jw_key(&o, "step");
			jw_int(&o, ev->u.pattern.step);
		}
		jw_key(&o, "degrees");
		jw_raw(&o, "[", 1);
		for (int k = 0; k < len; k++) {
			if (k)
				jw_raw(&o, ",", 1);
			if (ev->u.pattern.off >> k & 1)
				jw_text(&o, "null");
			else
				jw_int(&o, ev->u.pattern.degree[k]);
		}
		jw_raw(&o, "]", 1);
		break;
	}
	case EV_CLOCK_SYNC:
		jw_key(&o, "state");
		jw_string(&o, ev->u.sync.on ? "following" : "internal");
		jw_key(&o, "bpm");
		jw_num(&o, ev->u.sync.bpm, VALUE_DECIMALS);
		break;
	}
	jw_text(&o, "}\n");
	return jw_end(&o);
}
