/*
 * router: MIDI message -> semantic action, by the config's mapping.
 *
 * Selectors take equal shares of the knob: with three scales, CC 0..42 is
 * the first, 43..85 the second, 86..127 the third.  Other parameters use
 * the knob's range (min + u (max - min), or min (max / min)^u for "exp")
 * or param_from_unit(value / 127).  Pure; any thread.
 */
#include "core/router.h"

#include <math.h>

static const char *const kind_names[ROUTE_KIND_COUNT] = {
    [ROUTE_PARAM] = "param",       [ROUTE_TRIGGER] = "trigger",   [ROUTE_RELEASE] = "release",
    [ROUTE_RESERVED] = "reserved", [ROUTE_FILTERED] = "filtered", [ROUTE_REALTIME] = "realtime",
    [ROUTE_UNMAPPED] = "unmapped",
};

const char *router_kind_name(enum route_kind k)
{
	return (unsigned)k < ROUTE_KIND_COUNT ? kind_names[k] : "unknown";
}

int router_choices(const struct engine_config *cfg, int param)
{
	switch (param) {
	case P_SCALE_SELECT:
		return cfg->n_scales;
	case P_MODE:
		return cfg->n_modes;
	case P_PALETTE:
		return cfg->n_palettes;
	default:
		return 0;
	}
}

double router_cc_value(const struct engine_config *cfg, int cc, int cc_value)
{
	if (cc < 0 || cc > 127 || cfg->cc_param[cc] < 0 || cfg->cc_param[cc] >= P_COUNT)
		return 0.0;
	int param = cfg->cc_param[cc];
	if (cc_value < 0)
		cc_value = 0;
	if (cc_value > 127)
		cc_value = 127;
	int n = router_choices(cfg, param);
	if (param == P_SCALE_SELECT || param == P_MODE || param == P_PALETTE)
		return n > 0 ? (double)(cc_value * n / 128) : 0.0;
	const struct engine_cc_range *r = &cfg->cc_range[cc];
	double u = cc_value / 127.0;
	if (!r->set)
		return param_from_unit((enum param_id)param, u);
	double v = r->curve == CURVE_EXP && r->min > 0 ? r->min * pow(r->max / r->min, u)
	                                               : r->min + u * (r->max - r->min);
	return param_clamp((enum param_id)param, v);
}

static int is_channel_msg(int kind)
{
	return kind <= MIDI_PITCH_BEND;
}

void router_resolve(const struct engine_config *cfg, const struct midi_msg *m, struct route *r)
{
	r->kind = ROUTE_UNMAPPED;
	r->param = -1;
	r->value = 0;
	r->step = -1;
	if (m->kind >= MIDI_CLOCK && m->kind < MIDI_KIND_COUNT) {
		r->kind = ROUTE_REALTIME;
		return;
	}
	if (!is_channel_msg(m->kind))
		return;
	if (cfg->midi_channel != 0 && m->channel != cfg->midi_channel) {
		r->kind = ROUTE_FILTERED;
		return;
	}
	if (m->kind == MIDI_CC) {
		int p = m->number < 128 ? cfg->cc_param[m->number] : CC_UNMAPPED;
		if (p == CC_RESERVED) {
			r->kind = ROUTE_RESERVED;
		} else if (p >= 0 && p < P_COUNT) {
			r->kind = ROUTE_PARAM;
			r->param = p;
			r->value = router_cc_value(cfg, m->number, m->value);
		}
		return;
	}
	if (m->kind == MIDI_NOTE_ON || m->kind == MIDI_NOTE_OFF) {
		for (int i = 0; i < cfg->n_buttons && i < ENGINE_MAX_BUTTONS; i++) {
			const struct engine_button *b = &cfg->buttons[i];
			if (b->action != BUTTON_TRIGGER_STEP || m->number < b->first ||
			    m->number > b->last)
				continue;
			r->kind = m->kind == MIDI_NOTE_ON ? ROUTE_TRIGGER : ROUTE_RELEASE;
			r->step = m->number - b->first;
			return;
		}
	}
}
