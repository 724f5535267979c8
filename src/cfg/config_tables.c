/*
 * config_tables: the tables of the configuration (mapping.ccs with knob
 * ranges, mapping.buttons, profiles, mutation.params, mutation.roots, the
 * lists of scales, modes and palettes), and the rules that span keys once
 * every layer is in (config_finalize: ranges that depend on each other,
 * names resolved to indices).  Each problem is reported with its source
 * and line, with a suggestion when a name is close to an allowed one.
 * Main thread only (part of config_load()).
 */
#include <stdio.h>
#include <string.h>

#include "core/param.h"
#include "core/scale.h"
#include "cfg/config.h"
#include "cfg/config_loader.h"
#include "cfg/config_read.h"

bool config_is_seq(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

static void param_candidates(struct suggest *c, const char *extra)
{
	c->n = 0;
	for (int i = 0; i < P_COUNT; i++)
		suggest_add(c, param_table[i].name);
	if (extra)
		suggest_add(c, extra);
}

static void scale_candidates(struct suggest *c)
{
	c->n = 0;
	for (int i = 0; i < SCALE_COUNT; i++)
		suggest_add(c, scale_name(i));
}

/* Binds CC number cc to what (a param id or CC_RESERVED), reporting a double mapping. */
static void map_cc(struct config_loader *L, int cc, int what, const config_setting_t *s,
                   const char *full)
{
	int *map = L->cfg->engine.cc_param;
	if (map[cc] != CC_UNMAPPED) {
		const char *a = map[cc] == CC_RESERVED ? "reserved" : param_table[map[cc]].name;
		const char *b = what == CC_RESERVED ? "reserved" : param_table[what].name;
		struct config_origin f = L->cc[cc];
		if (f.line > 0)
			config_errf(L, config_origin_of(L, s), full,
			            "CC %d mapped twice: `%s` and `%s` (first at %s:%d)", cc, a, b,
			            f.src, f.line);
		else
			config_errf(L, config_origin_of(L, s), full,
			            "CC %d mapped twice: `%s` and `%s` (first in %s)", cc, a, b,
			            f.src);
		return;
	}
	map[cc] = what;
	L->cc[cc] = config_origin_of(L, s);
}

static bool cc_number(struct config_loader *L, const config_setting_t *s, const char *full,
                      int *out)
{
	double v;
	bool integral;
	if (!config_read_number(s, &v, &integral) || !integral) {
		config_err_at(L, s, full, "expected a MIDI CC number from 0 to 127");
		return false;
	}
	if (v < 0 || v > 127) {
		config_errf(L, config_origin_of(L, s), full,
		            "CC %s is out of range (allowed: 0 to 127)", config_num(v).s);
		return false;
	}
	*out = (int)v;
	return true;
}

/* Copies a knob's range field by field, so the padding stays zero (configs compare bytewise). */
static void put_range(struct engine_cc_range *dst, const struct engine_cc_range *src)
{
	memset(dst, 0, sizeof *dst);
	dst->set = src->set;
	dst->curve = src->curve;
	dst->min = src->min;
	dst->max = src->max;
}

/* A knob's range fields: min and max in the parameter's range, curve linear or exp. */
static bool knob_range(struct config_loader *L, const config_setting_t *m, const char *full, int p,
                       struct engine_cc_range *r, bool *has_cc, int *cc)
{
	const struct param_info *pi = &param_table[p];
	bool ok = true, selector = p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE;
	*has_cc = false;
	for (int i = 0; i < config_setting_length(m); i++) {
		const config_setting_t *f = config_setting_get_elem(m, (unsigned)i);
		const char *fname = config_setting_name(f);
		char key[CONFIG_KEY_MAX];
		config_join(key, full, fname);
		if (strcmp(fname, "cc") == 0) {
			ok &= *has_cc = cc_number(L, f, key, cc);
			continue;
		}
		bool is_min = strcmp(fname, "min") == 0, is_max = strcmp(fname, "max") == 0;
		bool is_curve = strcmp(fname, "curve") == 0;
		if (!is_min && !is_max && !is_curve) {
			struct suggest c = {.n = 0};
			suggest_add(&c, "cc");
			suggest_add(&c, "min");
			suggest_add(&c, "max");
			suggest_add(&c, "curve");
			config_unknown_key(L, f, key, &c);
			ok = false;
			continue;
		}
		if (selector) {
			config_errf(L, config_origin_of(L, f), key,
			            "`%s` divides its knob among its entries: no range or curve "
			            "(allowed: cc)",
			            pi->name);
			ok = false;
			continue;
		}
		if (is_curve) {
			const char *str;
			bool stepped = pi->curve == CURVE_STEPPED;
			if (!config_string_ok(L, f, key,
			                      stepped ? "\"stepped\"" : "\"linear\" or \"exp\"", 16,
			                      &str)) {
				ok = false;
			} else if (stepped ? strcmp(str, "stepped") == 0
			                   : strcmp(str, "linear") == 0) {
				r->curve = stepped ? CURVE_STEPPED : CURVE_LINEAR;
			} else if (!stepped && strcmp(str, "exp") == 0) {
				r->curve = CURVE_EXP;
			} else {
				config_errf(L, config_origin_of(L, f), key,
				            "\"%s\" is not allowed (allowed: %s)", str,
				            stepped ? "\"stepped\"" : "\"linear\", \"exp\"");
				ok = false;
			}
			continue;
		}
		struct config_key k = {
		    key,     pi->curve == CURVE_STEPPED ? CONFIG_T_INT : CONFIG_T_FLOAT,
		    pi->min, pi->max,
		    NULL,    pi->unit,
		    "",      0,
		    NULL};
		double v;
		if (!config_number_ok(L, f, &k, key, &v))
			ok = false;
		else if (is_min)
			r->min = v;
		else
			r->max = v;
	}
	if (ok && !selector && !(r->min < r->max)) {
		config_errf(L, config_origin_of(L, m), full, "min %s is not below max %s",
		            config_num(r->min).s, config_num(r->max).s);
		ok = false;
	}
	if (ok && r->curve == CURVE_EXP && !(r->min > 0)) {
		config_errf(L, config_origin_of(L, m), full,
		            "an exp curve needs min above 0 (min is %s)", config_num(r->min).s);
		ok = false;
	}
	r->set = !selector;
	return ok;
}

void config_apply_ccs(struct config_loader *L, const config_setting_t *g, const char *path)
{
	int *map = L->cfg->engine.cc_param;
	struct engine_cc_range *range = L->cfg->engine.cc_range;
	if (!L->is_set) {
		for (int i = 0; i < 128; i++) {
			map[i] = CC_UNMAPPED;
			memset(&range[i], 0, sizeof range[i]);
		}
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[CONFIG_KEY_MAX];
		config_join(full, path, name);
		int p = strcmp(name, "reserved") == 0 ? CC_RESERVED : param_find(name);
		if (p == -1) {
			struct suggest c;
			param_candidates(&c, "reserved");
			config_unknown_key(L, m, full, &c);
			continue;
		}
		int old_cc = -1;
		for (int cc = 0; cc < 128 && p != CC_RESERVED; cc++)
			if (map[cc] == p && old_cc < 0)
				old_cc = cc;
		int cc = -1;
		if (config_setting_is_group(m)) {
			if (p == CC_RESERVED) {
				config_err_at(L, m, full,
				              "expected a CC number or an array of CC numbers");
				continue;
			}
			const struct param_info *pi = &param_table[p];
			struct engine_cc_range r = {false, (uint8_t)pi->curve, pi->min, pi->max};
			/* --set may change one field of a knob that is already mapped */
			if (L->is_set && old_cc >= 0 && range[old_cc].set)
				r = range[old_cc];
			bool has_cc;
			if (!knob_range(L, m, full, p, &r, &has_cc, &cc))
				continue;
			if (!has_cc && !(L->is_set && old_cc >= 0)) {
				config_err_at(L, m, full,
				              "expected cc = a MIDI CC number from 0 to 127");
				continue;
			}
			if (!has_cc) {
				put_range(&range[old_cc], &r);
				L->range_at[old_cc] = config_origin_of(L, m);
				continue;
			}
			/* A key names the whole set of CCs bound to it: drop the old ones. */
			for (int c = 0; c < 128; c++)
				if (map[c] == p) {
					map[c] = CC_UNMAPPED;
					memset(&range[c], 0, sizeof range[c]);
				}
			if (map[cc] == CC_UNMAPPED) {
				put_range(&range[cc], &r);
				L->range_at[cc] = config_origin_of(L, m);
			}
			map_cc(L, cc, p, m, full);
			continue;
		}
		/* --set moving a knob to another CC keeps its range */
		struct engine_cc_range kept = {false, 0, 0, 0};
		if (L->is_set && old_cc >= 0)
			kept = range[old_cc];
		/* A key names the whole set of CCs bound to it: drop the old ones. */
		for (int c = 0; c < 128; c++)
			if (map[c] == p) {
				map[c] = CC_UNMAPPED;
				memset(&range[c], 0, sizeof range[c]);
			}
		if (p == CC_RESERVED && config_is_seq(m)) {
			for (int j = 0; j < config_setting_length(m); j++)
				if (cc_number(L, config_setting_get_elem(m, (unsigned)j), full,
				              &cc))
					map_cc(L, cc, p, m, full);
		} else if (cc_number(L, m, full, &cc)) {
			if (kept.set && map[cc] == CC_UNMAPPED)
				put_range(&range[cc], &kept);
			map_cc(L, cc, p, m, full);
		}
	}
}

/* mutation.params: each parameter's walk, merged field by field over what came before. */
void config_apply_mutation(struct config_loader *L, const config_setting_t *g, const char *path)
{
	struct engine_config *e = &L->cfg->engine;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[CONFIG_KEY_MAX];
		config_join(full, path, name);
		int p = param_find(name);
		if (p < 0) {
			struct suggest c = {.n = 0};
			for (int k = 0; k < P_COUNT; k++)
				if (k != P_SCALE_SELECT && k != P_MODE && k != P_PALETTE)
					suggest_add(&c, param_table[k].name);
			config_unknown_key(L, m, full, &c);
			continue;
		}
		if (p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE) {
			config_errf(L, config_origin_of(L, m), full, "`%s` is not walked (%s)",
			            name,
			            p == P_SCALE_SELECT ? "scales move with mutation.moves_per_hour"
			                                : "only the performer chooses it");
			continue;
		}
		if (!config_setting_is_group(m)) {
			config_err_at(
			    L, m, full,
			    "expected { min = ...; max = ...; weight = ...; step = ...; }");
			continue;
		}
		const struct param_info *pi = &param_table[p];
		struct engine_mutation w = e->mut[p];
		bool ok = true;
		for (int j = 0; j < config_setting_length(m); j++) {
			const config_setting_t *f = config_setting_get_elem(m, (unsigned)j);
			const char *fname = config_setting_name(f);
			char key[CONFIG_KEY_MAX];
			config_join(key, full, fname);
			double *dst = strcmp(fname, "min") == 0      ? &w.min
			              : strcmp(fname, "max") == 0    ? &w.max
			              : strcmp(fname, "weight") == 0 ? &w.weight
			              : strcmp(fname, "step") == 0   ? &w.step
			                                             : NULL;
			if (!dst) {
				struct suggest c = {.n = 0};
				suggest_add(&c, "min");
				suggest_add(&c, "max");
				suggest_add(&c, "weight");
				suggest_add(&c, "step");
				config_unknown_key(L, f, key, &c);
				ok = false;
				continue;
			}
			bool bound = dst == &w.min || dst == &w.max;
			struct config_key k = {key,
			                       bound && pi->curve == CURVE_STEPPED ? CONFIG_T_INT
			                                                           : CONFIG_T_FLOAT,
			                       bound ? pi->min : 0,
			                       bound            ? pi->max
			                       : dst == &w.step ? 1
			                                        : 100,
			                       NULL,
			                       bound ? pi->unit : "",
			                       "",
			                       0,
			                       NULL};
			ok &= config_number_ok(L, f, &k, key, dst);
		}
		if (!ok)
			continue;
		e->mut[p] = w;
		L->mut_at[p] = config_origin_of(L, m);
	}
}

/* mutation.roots: semitone offsets -12..12, no duplicates. */
void config_apply_roots(struct config_loader *L, const struct config_key *k,
                        const config_setting_t *s, const char *full)
{
	struct engine_config *e = &L->cfg->engine;
	if (!config_is_seq(s)) {
		config_err_at(L, s, full, "expected a list of semitones [0, 5, 7, ...]");
		return;
	}
	int n = config_setting_length(s);
	if (n > (int)k->max) {
		config_errf(L, config_origin_of(L, s), full, "%d roots (allowed: 0 to %d)", n,
		            (int)k->max);
		return;
	}
	int roots[ENGINE_MAX_ROOTS];
	bool ok = true;
	for (int i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
		struct config_key r = {full, CONFIG_T_INT, -12, 12, NULL, "semitones", "", 0, NULL};
		double v;
		if (!config_number_ok(L, el, &r, full, &v)) {
			ok = false;
			continue;
		}
		roots[i] = (int)v;
		for (int j = 0; j < i; j++)
			if (roots[j] == roots[i]) {
				config_errf(L, config_origin_of(L, el), full, "%d is listed twice",
				            roots[i]);
				ok = false;
			}
	}
	if (!ok)
		return;
	memcpy(e->roots, roots, (size_t)n * sizeof roots[0]);
	e->n_roots = n;
	L->key[k - config_schema] = config_origin_of(L, s);
}

void config_apply_buttons(struct config_loader *L, const config_setting_t *g, const char *path)
{
	struct engine_config *e = &L->cfg->engine;
	if (!L->is_set)
		e->n_buttons = 0;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[CONFIG_KEY_MAX];
		config_join(full, path, name);
		int action = -1;
		for (int a = 0; a < CONFIG_N_ACTIONS; a++)
			if (strcmp(config_button_actions[a], name) == 0)
				action = a;
		if (action < 0) {
			struct suggest c = {.n = 0};
			for (int a = 0; a < CONFIG_N_ACTIONS; a++)
				suggest_add(&c, config_button_actions[a]);
			config_unknown_key(L, m, full, &c);
			continue;
		}
		int note[2] = {0, 0};
		bool ok = config_is_seq(m) && config_setting_length(m) == 2, in_range = true;
		for (int j = 0; ok && j < 2; j++) {
			double v;
			bool integral;
			const config_setting_t *el = config_setting_get_elem(m, (unsigned)j);
			ok = config_read_number(el, &v, &integral) && integral;
			if (ok && (v < 0 || v > 127)) {
				config_errf(L, config_origin_of(L, m), full,
				            "note %s is out of range (allowed: 0 to 127)",
				            config_num(v).s);
				in_range = false;
				break;
			}
			note[j] = (int)v;
		}
		if (!ok) {
			config_err_at(L, m, full,
			              "expected [first, last], two MIDI notes from 0 to 127");
			continue;
		}
		if (!in_range)
			continue;
		if (note[0] > note[1]) {
			config_errf(L, config_origin_of(L, m), full,
			            "first note %d is above last note %d", note[0], note[1]);
			continue;
		}
		int slot = e->n_buttons;
		for (int b = 0; b < e->n_buttons; b++)
			if (e->buttons[b].action == action)
				slot = b;
		if (slot >= ENGINE_MAX_BUTTONS) {
			config_errf(L, config_origin_of(L, m), full, "more than %d buttons",
			            ENGINE_MAX_BUTTONS);
			continue;
		}
		e->buttons[slot] =
		    (struct engine_button){(uint8_t)action, (uint8_t)note[0], (uint8_t)note[1]};
		if (slot == e->n_buttons)
			e->n_buttons++;
		L->button[slot] = config_origin_of(L, m);
	}
}

static bool name_ok(struct config_loader *L, const config_setting_t *s, const char *full,
                    const char *name)
{
	if (!*name) {
		config_err_at(L, s, full, "empty name");
		return false;
	}
	if (strlen(name) >= ENGINE_NAME_MAX) {
		config_errf(L, config_origin_of(L, s), full,
		            "name \"%s\" is longer than %d characters", name, ENGINE_NAME_MAX - 1);
		return false;
	}
	return true;
}

static void apply_profile(struct config_loader *L, int idx, const config_setting_t *g,
                          const char *path)
{
	struct engine_profile *pr = &L->cfg->engine.profiles[idx];
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[CONFIG_KEY_MAX];
		config_join(full, path, name);
		if (strcmp(name, "scale") == 0) {
			const char *str;
			if (config_string_ok(L, m, full, "a scale name from `scales`",
			                     ENGINE_NAME_MAX, &str)) {
				snprintf(L->profile_scale[idx], ENGINE_NAME_MAX, "%s", str);
				L->profile_scale_at[idx] = config_origin_of(L, m);
			} else {
				L->bad_profiles = true;
			}
			continue;
		}
		int p = param_find(name);
		if (p < 0) {
			struct suggest c;
			param_candidates(&c, "scale");
			config_unknown_key(L, m, full, &c);
			continue;
		}
		const struct param_info *pi = &param_table[p];
		struct config_key k = {
		    full,    pi->curve == CURVE_STEPPED ? CONFIG_T_INT : CONFIG_T_FLOAT,
		    pi->min, pi->max,
		    NULL,    pi->unit,
		    "",      0,
		    NULL};
		double v;
		if (!config_number_ok(L, m, &k, full, &v))
			continue;
		pr->value[p] = v;
		pr->mask |= 1u << p;
		L->profile_param[idx][p] = config_origin_of(L, m);
	}
}

void config_apply_profiles(struct config_loader *L, const config_setting_t *g, const char *path)
{
	struct engine_config *e = &L->cfg->engine;
	if (!L->is_set) {
		e->n_profiles = 0;
		memset(e->profiles, 0, sizeof e->profiles);
		memset(L->profile_scale, 0, sizeof L->profile_scale);
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[CONFIG_KEY_MAX];
		config_join(full, path, name);
		if (!config_setting_is_group(m)) {
			config_err_at(L, m, full, "expected a profile { parameter = value; ... }");
			L->bad_profiles = true;
			continue;
		}
		if (!name_ok(L, m, full, name)) {
			L->bad_profiles = true;
			continue;
		}
		int idx = e->n_profiles;
		for (int p = 0; p < e->n_profiles; p++)
			if (strcmp(e->profiles[p].name, name) == 0)
				idx = p;
		if (idx >= ENGINE_MAX_PROFILES) {
			config_errf(L, config_origin_of(L, m), full, "more than %d profiles",
			            ENGINE_MAX_PROFILES);
			L->bad_profiles = true;
			continue;
		}
		if (idx == e->n_profiles) {
			memset(&e->profiles[idx], 0, sizeof e->profiles[idx]);
			snprintf(e->profiles[idx].name, ENGINE_NAME_MAX, "%s", name);
			L->profile_scale[idx][0] = '\0';
			e->n_profiles++;
		}
		apply_profile(L, idx, m, full);
	}
}

void config_apply_names(struct config_loader *L, const struct config_key *k,
                        const config_setting_t *s, const char *full)
{
	struct engine_config *e = &L->cfg->engine;
	bool scales = strcmp(k->path, "scales") == 0, modes = strcmp(k->path, "modes") == 0;
	if (!config_is_seq(s)) {
		config_err_at(L, s, full, "expected a list of names [\"a\", \"b\", ...]");
		goto bad;
	}
	int n = config_setting_length(s);
	if (n < (int)k->min || n > (int)k->max) {
		config_errf(L, config_origin_of(L, s), full, "%d names (allowed: %s to %s)", n,
		            config_num(k->min).s, config_num(k->max).s);
		goto bad;
	}
	char seen[ENGINE_MAX_PROFILES][ENGINE_NAME_MAX];
	bool ok = true;
	for (int i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
		const char *name;
		seen[i][0] = '\0';
		if (!config_string_ok(L, el, full, "a list of names [\"a\", \"b\", ...]",
		                      ENGINE_NAME_MAX, &name) ||
		    !name_ok(L, el, full, name)) {
			ok = false;
			continue;
		}
		bool dup = false;
		for (int j = 0; j < i; j++)
			dup |= strcmp(seen[j], name) == 0;
		snprintf(seen[i], ENGINE_NAME_MAX, "%s", name);
		if (dup) {
			config_errf(L, config_origin_of(L, el), full, "\"%s\" is listed twice",
			            name);
			ok = false;
			continue;
		}
		if (scales) {
			int id = scale_find(name);
			if (id < 0) {
				struct suggest c;
				char dym[128], allowed[512];
				scale_candidates(&c);
				suggest_did_you_mean(&c, name, false, dym, sizeof dym);
				suggest_list(&c, false, allowed, sizeof allowed);
				config_errf(L, config_origin_of(L, el), full,
				            "unknown scale `%s`%s (allowed: %s)", name, dym,
				            allowed);
				ok = false;
				continue;
			}
			e->scales[i] = id;
		} else if (modes) {
			snprintf(L->mode_name[i], ENGINE_NAME_MAX, "%s", name);
			L->mode[i] = config_origin_of(L, el);
		} else {
			snprintf(e->palettes[i], ENGINE_NAME_MAX, "%s", name);
		}
	}
	if (!ok)
		goto bad;
	if (scales)
		e->n_scales = n;
	else if (modes)
		e->n_modes = n;
	else
		e->n_palettes = n;
	L->key[k - config_schema] = config_origin_of(L, s);
	if (scales)
		L->bad_scales = false;
	return;
bad:
	if (scales)
		L->bad_scales = true;
	if (modes)
		e->n_modes = 0;
}

static struct config_origin later(struct config_origin a, struct config_origin b)
{
	return a.seq >= b.seq ? a : b;
}

static int profile_index(const struct engine_config *e, const char *name)
{
	for (int i = 0; i < e->n_profiles; i++)
		if (strcmp(e->profiles[i].name, name) == 0)
			return i;
	return -1;
}

static void profile_missing(struct config_loader *L, struct config_origin o, const char *key,
                            const char *name)
{
	const struct engine_config *e = &L->cfg->engine;
	struct suggest c = {.n = 0};
	char dym[128], allowed[1024];
	for (int i = 0; i < e->n_profiles; i++)
		suggest_add(&c, e->profiles[i].name);
	suggest_did_you_mean(&c, name, false, dym, sizeof dym);
	suggest_list(&c, false, allowed, sizeof allowed);
	config_errf(L, o, key, "no profile `%s`%s (allowed: %s)", name, dym, allowed);
}

static struct config_origin key_origin(struct config_loader *L, const char *path)
{
	return L->key[config_schema_find(path) - config_schema];
}

/* Rules that span keys, once every layer is in; resolves names to indices. */
void config_finalize(struct config_loader *L)
{
	struct engine_config *e = &L->cfg->engine;
	if (e->interval_min_s > e->interval_max_s) {
		struct config_origin a = key_origin(L, "mutation.interval_min_s");
		struct config_origin b = key_origin(L, "mutation.interval_max_s");
		struct config_origin o = later(a, b);
		config_errf(L, o,
		            o.seq == a.seq ? "mutation.interval_min_s" : "mutation.interval_max_s",
		            "interval_min_s %s is above interval_max_s %s",
		            config_num(e->interval_min_s).s, config_num(e->interval_max_s).s);
	}
	for (int p = 0; p < P_COUNT; p++) {
		const struct engine_mutation *w = &e->mut[p];
		if (w->min < w->max || p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE)
			continue;
		char key[CONFIG_KEY_MAX];
		snprintf(key, sizeof key, "mutation.params.%s", param_table[p].name);
		config_errf(L, L->mut_at[p], key, "min %s is not below max %s",
		            config_num(w->min).s, config_num(w->max).s);
	}
	const int sel_param[3] = {P_SCALE_SELECT, P_MODE, P_PALETTE};
	const int sel_n[3] = {e->n_scales, e->n_modes, e->n_palettes};
	const char *sel_list[3] = {"scales", "modes", "palettes"};
	for (int i = 0; i < e->n_profiles && !L->bad_profiles; i++) {
		struct engine_profile *pr = &e->profiles[i];
		char key[CONFIG_KEY_MAX];
		for (int j = 0; j < 3; j++) {
			int p = sel_param[j];
			if ((pr->mask & (1u << p)) && pr->value[p] >= sel_n[j] && sel_n[j] > 0) {
				snprintf(key, sizeof key, "profiles.%s.%s", pr->name,
				         param_table[p].name);
				config_errf(
				    L, L->profile_param[i][p], key,
				    "%s is out of range (allowed: 0 to %d, an index into `%s`)",
				    config_num(pr->value[p]).s, sel_n[j] - 1, sel_list[j]);
			}
		}
		const char *sname = L->profile_scale[i];
		if (!*sname || L->bad_scales)
			continue;
		snprintf(key, sizeof key, "profiles.%s.scale", pr->name);
		struct config_origin o = L->profile_scale_at[i];
		if (pr->mask & (1u << P_SCALE_SELECT)) {
			config_errf(L, o, key, "sets both scale and scale_select (keep one)");
			continue;
		}
		int id = scale_find(sname), idx = -1;
		for (int j = 0; j < e->n_scales; j++)
			if (e->scales[j] == id)
				idx = j;
		struct suggest c = {.n = 0};
		char dym[128], allowed[512];
		if (id >= 0 && idx < 0) {
			for (int j = 0; j < e->n_scales; j++)
				suggest_add(&c, scale_name(e->scales[j]));
			suggest_list(&c, false, allowed, sizeof allowed);
			config_errf(L, o, key, "scale `%s` is not in `scales` (allowed: %s)", sname,
			            allowed);
			continue;
		}
		if (id < 0) {
			for (int j = 0; j < e->n_scales; j++)
				suggest_add(&c, scale_name(e->scales[j]));
			suggest_did_you_mean(&c, sname, false, dym, sizeof dym);
			suggest_list(&c, false, allowed, sizeof allowed);
			config_errf(L, o, key, "unknown scale `%s`%s (allowed: %s)", sname, dym,
			            allowed);
			continue;
		}
		pr->mask |= 1u << P_SCALE_SELECT;
		pr->value[P_SCALE_SELECT] = idx;
	}
	if (L->bad_profiles)
		return;
	for (int i = 0; i < e->n_modes; i++) {
		int p = profile_index(e, L->mode_name[i]);
		if (p < 0)
			profile_missing(L, L->mode[i], "modes", L->mode_name[i]);
		e->modes[i] = p;
	}
	e->ambient_profile = -1;
	if (L->ambient[0]) {
		e->ambient_profile = profile_index(e, L->ambient);
		if (e->ambient_profile < 0)
			profile_missing(L, key_origin(L, "idle.ambient_profile"),
			                "idle.ambient_profile", L->ambient);
	}
}
