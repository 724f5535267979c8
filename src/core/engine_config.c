/*
 * engine_config: what a configuration means to the engine.  Any
 * configuration is made safe to run (every count and index in range, every
 * value inside its parameter's range: engine_config_sanitize), and each
 * parameter has the value it starts with under it (engine_config_value).
 * The values themselves come from the configuration file; its built-in
 * default is conf/mystery-engine.conf, embedded at build time.  Pure; any
 * thread.
 */
#include "core/engine.h"

#include "core/scale.h"

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void engine_config_sanitize(struct engine_config *c)
{
	if (c->midi_channel < 0 || c->midi_channel > 16)
		c->midi_channel = 0;
	for (int i = 0; i < 128; i++)
		if (c->cc_param[i] >= P_COUNT ||
		    (c->cc_param[i] < 0 && c->cc_param[i] != CC_RESERVED))
			c->cc_param[i] = CC_UNMAPPED;
	for (int i = 0; i < 128; i++) {
		struct engine_cc_range *r = &c->cc_range[i];
		if (!r->set)
			continue;
		int p = c->cc_param[i];
		if (p < 0 || param_is_choice(p)) {
			r->set = false;
			continue;
		}
		r->min = param_clamp((enum param_id)p, r->min);
		r->max = param_clamp((enum param_id)p, r->max);
		if (r->curve > CURVE_STEPPED)
			r->curve = param_table[p].curve;
		if (r->curve == CURVE_EXP && !(r->min > 0))
			r->curve = CURVE_LINEAR;
	}
	c->n_buttons = clampi(c->n_buttons, 0, ENGINE_MAX_BUTTONS);
	if (c->button_press != PRESS_ADD && c->button_press != PRESS_TOGGLE)
		c->button_press = PRESS_ACCENT;
	c->steps = clampi(c->steps, 1, ENGINE_MAX_STEPS);
	c->bpm = param_clamp(P_TEMPO, c->bpm);
	c->swing = param_clamp(P_SWING, c->swing);
	c->density = param_clamp(P_DENSITY, c->density);
	c->drift = param_clamp(P_DRIFT, c->drift);
	c->chaos_lock = param_clamp(P_CHAOS_LOCK, c->chaos_lock);
	c->filter_cutoff = param_clamp(P_FILTER_CUTOFF, c->filter_cutoff);
	c->reverb_mix = param_clamp(P_REVERB_MIX, c->reverb_mix);
	c->master_volume = param_clamp(P_MASTER_VOLUME, c->master_volume);
	c->attack = param_clamp(P_ATTACK, c->attack);
	c->release = param_clamp(P_RELEASE, c->release);
	if (!(c->max_gap_ms > 0))
		c->max_gap_ms = 0;
	else if (c->max_gap_ms < 2000)
		c->max_gap_ms = 2000;
	if (!(c->drift_period_s >= 1))
		c->drift_period_s = 1;
	if (c->drift_period_s > 3600)
		c->drift_period_s = 3600;
	c->steps_per_beat = clampi(c->steps_per_beat, 1, 16);
	if (c->clock_source != CLOCK_SOURCE_MIDI)
		c->clock_source = CLOCK_SOURCE_INTERNAL;
	if (c->clock_timeout_ms < 50)
		c->clock_timeout_ms = 50;
	c->beats_per_bar = clampi(c->beats_per_bar, 1, 16);
	c->root = clampi(c->root, 0, 127);
	c->octaves = clampi(c->octaves, 1, 4);
	if (c->quantize_scale_changes != QUANTIZE_IMMEDIATE &&
	    c->quantize_scale_changes != QUANTIZE_BEAT)
		c->quantize_scale_changes = QUANTIZE_BAR;
	c->n_scales = clampi(c->n_scales, 0, ENGINE_MAX_SCALES);
	for (int i = 0; i < c->n_scales; i++)
		if (c->scales[i] < 0 || c->scales[i] >= SCALE_COUNT)
			c->scales[i] = SCALE_CHROMATIC;
	if (c->n_scales == 0) {
		c->scales[0] = SCALE_MAJOR;
		c->n_scales = 1;
	}
	if (!(c->interval_min_s >= 1))
		c->interval_min_s = 1;
	if (!(c->interval_max_s >= c->interval_min_s))
		c->interval_max_s = c->interval_min_s;
	c->max_changes_per_cycle = clampi(c->max_changes_per_cycle, 0, EVENT_MUT_MAX);
	if (!(c->pull >= 0))
		c->pull = 0;
	if (c->pull > 1)
		c->pull = 1;
	for (int k = 0; k < P_COUNT; k++) {
		struct engine_mutation *m = &c->mut[k];
		m->min = param_clamp((enum param_id)k, m->min);
		m->max = param_clamp((enum param_id)k, m->max);
		if (!(m->weight > 0) || param_is_choice(k) || !(m->max > m->min))
			m->weight = 0;
		if (!(m->step > 0))
			m->step = 0;
		if (m->step > 1)
			m->step = 1;
	}
	if (!(c->rewrites_per_min >= 0))
		c->rewrites_per_min = 0;
	if (c->rewrites_per_min > 600)
		c->rewrites_per_min = 600;
	if (!(c->moves_per_hour >= 0))
		c->moves_per_hour = 0;
	if (c->moves_per_hour > 3600)
		c->moves_per_hour = 3600;
	c->n_roots = clampi(c->n_roots, 0, ENGINE_MAX_ROOTS);
	for (int i = 0; i < c->n_roots; i++)
		c->roots[i] = clampi(c->roots[i], -12, 12);
	if (c->fade_in_ms < 0)
		c->fade_in_ms = 0;
	if (c->fade_out_ms < 0)
		c->fade_out_ms = 0;
	if (c->wake_activity_ms < 0)
		c->wake_activity_ms = 0;
	c->n_profiles = clampi(c->n_profiles, 0, ENGINE_MAX_PROFILES);
	for (int i = 0; i < c->n_profiles; i++) {
		struct engine_profile *p = &c->profiles[i];
		p->name[ENGINE_NAME_MAX - 1] = 0;
		p->mask &= (1u << P_COUNT) - 1;
		for (int k = 0; k < P_COUNT; k++)
			if (p->mask & 1u << k)
				p->value[k] = param_clamp((enum param_id)k, p->value[k]);
	}
	if (c->ambient_profile >= c->n_profiles || c->ambient_profile < 0)
		c->ambient_profile = -1;
	c->phrase_bars = clampi(c->phrase_bars, 0, 64);
	if (!(c->idle_velocity > 0.05))
		c->idle_velocity = 0.05;
	if (c->idle_velocity > 1)
		c->idle_velocity = 1;
	int n = 0;
	for (int i = 0; i < c->n_modes && i < ENGINE_MAX_PROFILES; i++)
		if (c->modes[i] >= 0 && c->modes[i] < c->n_profiles)
			c->modes[n++] = c->modes[i];
	c->n_modes = n;
	c->n_palettes = clampi(c->n_palettes, 0, ENGINE_MAX_PALETTES);
	for (int i = 0; i < c->n_palettes; i++)
		c->palettes[i][ENGINE_NAME_MAX - 1] = 0;
}

double engine_config_value(const struct engine_config *c, int id)
{
	switch (id) {
	case P_TEMPO:
		return c->bpm;
	case P_FILTER_CUTOFF:
		return c->filter_cutoff;
	case P_REVERB_MIX:
		return c->reverb_mix;
	case P_SWING:
		return c->swing;
	case P_DENSITY:
		return c->density;
	case P_MASTER_VOLUME:
		return c->master_volume;
	case P_SEQUENCE_LENGTH:
		return c->steps;
	case P_CHAOS_LOCK:
		return c->chaos_lock;
	case P_DRIFT:
		return c->drift;
	case P_ATTACK:
		return c->attack;
	case P_RELEASE:
		return c->release;
	default:
		return 0; /* scale_select, mode, palette: the first entry */
	}
}
