/*
 * engine_config: the built-in configuration, value for value the shipped
 * conf/mystery-engine.conf (the config loader's tests hold the two equal).
 * Pure; any thread.
 */
#include "core/engine.h"

#include <string.h>

#include "core/scale.h"

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
	cfg->buttons[0] = (struct engine_button){BUTTON_TRIGGER_STEP, 60, 71};
	cfg->n_buttons = 1;

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

	cfg->scales[0] = SCALE_MAJOR;
	cfg->scales[1] = SCALE_MINOR;
	cfg->scales[2] = SCALE_PENTATONIC;
	cfg->n_scales = 3;

	cfg->mutation_enabled = true;
	cfg->interval_min_s = 120;
	cfg->interval_max_s = 240;
	cfg->max_changes_per_cycle = 2;

	cfg->idle_timeout_ms = 30000;
	cfg->fade_in_ms = 4000;
	cfg->fade_out_ms = 800;
	cfg->wake_activity_ms = 1000;

	profile(&cfg->profiles[0], "calm", 90, 0.6, 0.45, 1800, -1);
	profile(&cfg->profiles[1], "mystic", 100, 0.7, 0.6, 1400, 1);
	profile(&cfg->profiles[2], "pulse", 124, 0.9, 0.2, 3200, -1);
	profile(&cfg->profiles[3], "ambient", 72, 0.45, 0.75, 1200, 2);
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
