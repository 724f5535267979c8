/*
 * param: the one table of the instrument's parameters.
 *
 * Every musical control (tempo, filter, reverb, ...) has one row here: name,
 * range, default, unit and response curve (how far mutation may move each
 * is configuration: engine_config.mut).  The
 * router, the mutator, the console, presets, the config and the HTTP API all
 * read this table; nothing else lists parameters.  Pure, thread-agnostic
 * (constant data).
 */
#ifndef ME_CORE_PARAM_H
#define ME_CORE_PARAM_H

#include <stdbool.h>

enum param_id {
	P_TEMPO,
	P_FILTER_CUTOFF,
	P_REVERB_MIX,
	P_SWING,
	P_DENSITY,
	P_MASTER_VOLUME,
	P_SEQUENCE_LENGTH,
	P_SCALE_SELECT,
	P_CHAOS_LOCK,
	P_MODE,
	P_PALETTE,
	P_DRIFT,
	P_ATTACK,  /* voice attack, s: profiles set it (the ambient pad) */
	P_RELEASE, /* voice release, s */
	P_COUNT
};

/* How a 0..1 control position maps onto the range. */
enum param_curve {
	CURVE_LINEAR,
	CURVE_EXP,    /* equal ratios per equal movement: tempo, cutoff */
	CURVE_STEPPED /* integer values: lengths and selectors */
};

/* Who changed a parameter. */
enum param_source {
	SRC_CONFIG, /* initial value from the configuration */
	SRC_MIDI,
	SRC_KEY,
	SRC_MUTATION,
	SRC_IDLE,
	SRC_PRESET,
	SRC_API,
	SRC_MODE, /* a mode profile applied by the mode control */
	SRC_DRIFT,
	SRC_COUNT
};

struct param_info {
	const char *name;
	double min, max, def;
	const char *unit; /* "BPM", "Hz", "" ... */
	enum param_curve curve;
};

extern const struct param_info param_table[P_COUNT];

/* Whether the parameter chooses among configured entries (scale_select,
 * mode, palette): its range is the number of entries, it never walks. */
bool param_is_choice(int id);
/* Index of the parameter called name, or -1. */
int param_find(const char *name);
const char *param_source_name(enum param_source src);
double param_clamp(enum param_id id, double v);
/* Maps a control position 0..1 onto the parameter's range along its curve. */
double param_from_unit(enum param_id id, double u);
/* Inverse of param_from_unit. */
double param_to_unit(enum param_id id, double v);

#endif
