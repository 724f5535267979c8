/*
 * param: the parameter table and its conversions.
 *
 * Constant data plus pure functions; any thread may call them.  Selector
 * parameters (scale_select, mode, palette) have a static maximum here; the
 * engine further clamps them to the number of entries the config defines.
 */
#include "core/param.h"

#include <math.h>
#include <string.h>

const struct param_info param_table[P_COUNT] = {
    [P_TEMPO] = {"tempo", 20, 300, 110, "BPM", CURVE_EXP},
    [P_FILTER_CUTOFF] = {"filter_cutoff", 80, 12000, 2400, "Hz", CURVE_EXP},
    [P_REVERB_MIX] = {"reverb_mix", 0, 1, 0.3, "", CURVE_LINEAR},
    [P_SWING] = {"swing", 0, 0.5, 0.12, "", CURVE_LINEAR},
    [P_DENSITY] = {"density", 0, 1, 0.85, "", CURVE_LINEAR},
    [P_MASTER_VOLUME] = {"master_volume", 0, 1, 0.8, "", CURVE_LINEAR},
    [P_SEQUENCE_LENGTH] = {"sequence_length", 1, 64, 8, "steps", CURVE_STEPPED},
    [P_SCALE_SELECT] = {"scale_select", 0, 31, 0, "", CURVE_STEPPED},
    [P_CHAOS_LOCK] = {"chaos_lock", 0, 1, 0.5, "", CURVE_LINEAR},
    [P_MODE] = {"mode", 0, 31, 0, "", CURVE_STEPPED},
    [P_PALETTE] = {"palette", 0, 31, 0, "", CURVE_STEPPED},
    [P_DRIFT] = {"drift", 0, 20, 0, "%", CURVE_LINEAR},
    [P_ATTACK] = {"attack", 0.001, 4, 0.001, "s", CURVE_EXP},
    [P_RELEASE] = {"release", 0.01, 10, 0.3, "s", CURVE_EXP},
};

static const char *const source_names[SRC_COUNT] = {
    [SRC_CONFIG] = "config",     [SRC_MIDI] = "midi", [SRC_KEY] = "key",
    [SRC_MUTATION] = "mutation", [SRC_IDLE] = "idle", [SRC_PRESET] = "preset",
    [SRC_API] = "api",           [SRC_MODE] = "mode", [SRC_DRIFT] = "drift",
};

bool param_is_choice(int id)
{
	return id == P_SCALE_SELECT || id == P_MODE || id == P_PALETTE;
}

int param_find(const char *name)
{
	for (int i = 0; i < P_COUNT; i++)
		if (strcmp(param_table[i].name, name) == 0)
			return i;
	return -1;
}

const char *param_source_name(enum param_source src)
{
	return (unsigned)src < SRC_COUNT ? source_names[src] : "unknown";
}

double param_clamp(enum param_id id, double v)
{
	const struct param_info *p = &param_table[id];
	if (isnan(v))
		return p->def;
	if (p->curve == CURVE_STEPPED)
		v = floor(v + 0.5);
	return v < p->min ? p->min : v > p->max ? p->max : v;
}

double param_from_unit(enum param_id id, double u)
{
	const struct param_info *p = &param_table[id];
	u = u < 0 ? 0 : u > 1 ? 1 : u;
	if (p->curve == CURVE_EXP)
		return param_clamp(id, p->min * pow(p->max / p->min, u));
	return param_clamp(id, p->min + u * (p->max - p->min));
}

double param_to_unit(enum param_id id, double v)
{
	const struct param_info *p = &param_table[id];
	v = param_clamp(id, v);
	if (p->curve == CURVE_EXP)
		return log(v / p->min) / log(p->max / p->min);
	return (v - p->min) / (p->max - p->min);
}
