/*
 * engine_config: the built-in configuration, value for value the shipped
 * conf/mystery-engine.conf (the config loader's tests hold the two equal).
 * Pure; any thread.
 */
#include "core/engine.h"

#include <string.h>

#include "core/scale.h"

/* A knob's own range (mapping.ccs.NAME = { cc; min; max; }), along the parameter's curve. */
static void knob(struct engine_config *cfg, int cc, double min, double max)
{
	struct engine_cc_range *r = &cfg->cc_range[cc];
	r->set = true;
	r->curve = (uint8_t)param_table[cfg->cc_param[cc]].curve;
	r->min = min;
	r->max = max;
}

/* How far and how often the walk moves a parameter (mutation.params.NAME). */
static void walk(struct engine_config *cfg, int p, double min, double max, double weight,
    double step)
{
	cfg->mut[p] = (struct engine_mutation){min, max, weight, step};
}

static void profile(struct engine_profile *p, const char *name, double tempo, double density,
    double reverb, double cutoff, int scale_index)
{
	memset(p, 0, sizeof *p);
	strncpy(p->name, name, ENGINE_NAME_MAX - 1);
	p->value[P_TEMPO] = tempo;
	p->value[P_DENSITY] = density;
	p->value[P_REVERB_MIX] = reverb;
	p->value[P_FILTER_CUTOFF] = cutoff;
	p->mask = 1u << P_TEMPO | 1u << P_DENSITY | 1u << P_REVERB_MIX | 1u << P_FILTER_CUTOFF;
	if (scale_index >= 0) {
		p->value[P_SCALE_SELECT] = scale_index;
		p->mask |= 1u << P_SCALE_SELECT;
	}
}

void engine_config_default(struct engine_config *cfg)
{
	static const struct {
		int cc, param;
	} ccs[] = {
		{20, P_TEMPO}, {21, P_FILTER_CUTOFF}, {22, P_REVERB_MIX}, {23, P_SWING},
		{24, P_DENSITY}, {25, P_MASTER_VOLUME}, {50, P_SEQUENCE_LENGTH},
		{51, P_SCALE_SELECT}, {52, P_CHAOS_LOCK}, {53, CC_RESERVED}, {60, P_MODE},
		{61, P_PALETTE}, {62, P_DRIFT},
	};
	static const char *const palettes[] = {"ember", "tide", "aurora"};

	memset(cfg, 0, sizeof *cfg);
	cfg->midi_channel = 0;
	for (int i = 0; i < 128; i++)
		cfg->cc_param[i] = CC_UNMAPPED;
	for (size_t i = 0; i < sizeof ccs / sizeof ccs[0]; i++)
		cfg->cc_param[ccs[i].cc] = ccs[i].param;
	/* Every knob keeps to the range the walk keeps to: none mutes the instrument. */
	knob(cfg, 20, 60, 150);
	knob(cfg, 21, 300, 8000);
	knob(cfg, 22, 0, 0.9);
	knob(cfg, 23, 0, 0.35);
	knob(cfg, 24, 0.15, 1);
	knob(cfg, 25, 0.3, 1);
	knob(cfg, 50, 4, 16);
	knob(cfg, 62, 0, 8);
	cfg->buttons[0] = (struct engine_button){BUTTON_TRIGGER_STEP, 60, 71};
	cfg->n_buttons = 1;
	cfg->button_press = PRESS_ACCENT;

	cfg->steps = 8;
	cfg->bpm = 110;
	cfg->swing = 0.12;
	cfg->density = 0.85;
	cfg->drift = 0;
	cfg->chaos_lock = 0.5;
	cfg->steps_per_beat = 4;
	cfg->beats_per_bar = 4;
	cfg->root = 60;
	cfg->octaves = 2;
	cfg->quantize_scale_changes = QUANTIZE_BAR;
	cfg->filter_cutoff = 2400;
	cfg->reverb_mix = 0.3;
	cfg->master_volume = 0.8;
	cfg->attack = 0.001;
	cfg->release = 0.3;
	cfg->max_gap_ms = 10000;
	cfg->drift_period_s = 30;
	cfg->clock_out = false;
	cfg->clock_source = CLOCK_SOURCE_INTERNAL;
	cfg->clock_timeout_ms = 1000;

	cfg->scales[0] = SCALE_MAJOR;
	cfg->scales[1] = SCALE_MINOR;
	cfg->scales[2] = SCALE_PENTATONIC;
	cfg->n_scales = 3;

	cfg->mutation_enabled = true;
	cfg->interval_min_s = 30;
	cfg->interval_max_s = 90;
	cfg->max_changes_per_cycle = 2;
	cfg->pull = 0.2;
	for (int k = 0; k < P_COUNT; k++)
		walk(cfg, k, param_table[k].min, param_table[k].max, 0, 0.1);
	walk(cfg, P_TEMPO, 60, 150, 1, 0.06);
	walk(cfg, P_FILTER_CUTOFF, 250, 8000, 2, 0.12);
	walk(cfg, P_REVERB_MIX, 0, 0.9, 1.5, 0.12);
	walk(cfg, P_SWING, 0, 0.35, 1, 0.1);
	walk(cfg, P_DENSITY, 0.1, 1, 2, 0.1);
	walk(cfg, P_SEQUENCE_LENGTH, 4, 16, 0.5, 0.15);
	walk(cfg, P_CHAOS_LOCK, 0, 1, 0.5, 0.1);
	walk(cfg, P_DRIFT, 0, 8, 0.5, 0.15);
	cfg->rewrites_per_min = 2;
	cfg->moves_per_hour = 1.5;
	cfg->roots[0] = 0;
	cfg->roots[1] = 5;
	cfg->roots[2] = 7;
	cfg->n_roots = 3;

	cfg->idle_timeout_ms = 30000;
	cfg->fade_in_ms = 4000;
	cfg->fade_out_ms = 800;
	cfg->wake_activity_ms = 1000;
	cfg->phrase_bars = 4;
	cfg->idle_velocity = 0.85;

	profile(&cfg->profiles[0], "calm", 90, 0.6, 0.45, 1800, -1);
	profile(&cfg->profiles[1], "mystic", 100, 0.7, 0.6, 1400, 1);
	profile(&cfg->profiles[2], "pulse", 124, 0.9, 0.2, 3200, -1);
	profile(&cfg->profiles[3], "ambient", 72, 0.45, 0.75, 1200, 2);
	/* The airy pad: soft onsets, long tails; its own chaos lock so a
	 * visitor's setting does not freeze the night. */
	cfg->profiles[3].value[P_ATTACK] = 0.15;
	cfg->profiles[3].value[P_RELEASE] = 2.0;
	cfg->profiles[3].value[P_CHAOS_LOCK] = 0.5;
	cfg->profiles[3].mask |= 1u << P_ATTACK | 1u << P_RELEASE | 1u << P_CHAOS_LOCK;
	cfg->n_profiles = 4;
	cfg->ambient_profile = 3;
	cfg->modes[0] = 0;
	cfg->modes[1] = 1;
	cfg->modes[2] = 2;
	cfg->n_modes = 3;
	for (int i = 0; i < 3; i++)
		strncpy(cfg->palettes[i], palettes[i], ENGINE_NAME_MAX - 1);
	cfg->n_palettes = 3;
}
