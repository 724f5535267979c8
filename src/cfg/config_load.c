/*
 * config_load: loads and validates the configuration (see config.h).
 *
 * A load applies layers onto one struct config: the built-in default
 * (conf/mystery-engine.conf embedded at build time, parsed like any file),
 * then the chosen file, then each --set KEY=VALUE (parsed as a one-key
 * libconfig file).  Scalars merge key by key; the tables (mapping.ccs,
 * mapping.buttons, profiles, scales, modes, palettes) are replaced whole
 * when a file sets them and changed entry by entry by --set
 * (config_tables.c).  Names that refer to other keys (modes,
 * idle.ambient_profile, a profile's scale) are resolved once all layers are
 * in.  Every problem is collected with the source and line it came from;
 * nothing stops at the first, and the errors come out in file and line
 * order.
 *
 * No globals: each load owns its state, so a reload (SIGHUP) can run while
 * the old configuration stays in use.  Main thread only (allocates, reads
 * files).
 */
#include "cfg/config.h"

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/param.h"
#include "cfg/config_loader.h"
#include "cfg/config_read.h"

void config_errors_add(struct config_errors *e, const char *msg)
{
	if (e->n == e->cap) {
		int cap = e->cap ? e->cap * 2 : 8;
		char **m = realloc(e->msg, (size_t)cap * sizeof *m);
		if (!m)
			return;
		e->msg = m;
		e->cap = cap;
	}
	char *s = strdup(msg);
	if (s)
		e->msg[e->n++] = s;
}

/* Keeps a copy of a source name for as long as the load runs. */
const char *config_intern(struct config_loader *L, const char *s)
{
	for (int i = 0; i < L->n_names; i++)
		if (strcmp(L->names[i], s) == 0)
			return L->names[i];
	char **n = realloc(L->names, (size_t)(L->n_names + 1) * sizeof *n);
	if (!n)
		return "?";
	L->names = n;
	char *c = strdup(s);
	if (!c)
		return "?";
	L->names[L->n_names++] = c;
	return c;
}

struct config_origin config_origin_of(struct config_loader *L, const config_setting_t *s)
{
	struct config_origin o = {L->src, 0, ++L->seq};
	if (!L->is_set && s) {
		const char *f = config_setting_source_file(s);
		if (f)
			o.src = config_intern(L, f);
		o.line = (int)config_setting_source_line(s);
	}
	return o;
}

__attribute__((format(printf, 4, 5))) void
config_errf(struct config_loader *L, struct config_origin o, const char *key, const char *fmt, ...)
{
	char msg[1024], line[2800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char where[1100];
	if (o.line > 0)
		snprintf(where, sizeof where, "%s:%d", o.src, o.line);
	else
		snprintf(where, sizeof where, "%s", o.src);
	if (key)
		snprintf(line, sizeof line, "%s: %s: %s", where, key, msg);
	else
		snprintf(line, sizeof line, "%s: %s", where, msg);
	int before = L->errs->n;
	config_errors_add(L->errs, line);
	struct config_err_key *k = realloc(L->err_keys, (size_t)(L->n_err_keys + 1) * sizeof *k);
	if (L->errs->n == before || !k)
		return;
	L->err_keys = k;
	int src = 0;
	while (src < L->n_names && L->names[src] != o.src)
		src++;
	k[L->n_err_keys] =
	    (struct config_err_key){src, o.line, L->n_err_keys, L->errs->msg[before]};
	L->n_err_keys++;
}

static int err_key_cmp(const void *a, const void *b)
{
	const struct config_err_key *x = a, *y = b;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Puts the errors of this load (the last n_err_keys) in source and line order. */
static void sort_errors(struct config_loader *L)
{
	int n = L->n_err_keys, first = L->errs->n - n;
	if (n < 2 || first < 0)
		return;
	qsort(L->err_keys, (size_t)n, sizeof *L->err_keys, err_key_cmp);
	for (int i = 0; i < n; i++)
		L->errs->msg[first + i] = L->err_keys[i].msg;
}

void config_err_at(struct config_loader *L, const config_setting_t *s, const char *key,
                   const char *msg)
{
	config_errf(L, config_origin_of(L, s), key, "%s", msg);
}

const struct config_key *config_schema_find(const char *path)
{
	for (size_t i = 0; i < config_schema_count; i++)
		if (strcmp(config_schema[i].path, path) == 0)
			return &config_schema[i];
	return NULL;
}

/* Names allowed directly below the group at path ("" = top level). */
void config_schema_children(const char *path, struct suggest *c, char store[][CONFIG_KEY_MAX])
{
	size_t plen = strlen(path);
	c->n = 0;
	for (size_t i = 0; i < config_schema_count; i++) {
		const char *p = config_schema[i].path;
		if (plen) {
			if (strncmp(p, path, plen) != 0 || p[plen] != '.')
				continue;
			p += plen + 1;
		}
		size_t l = strcspn(p, ".");
		if (l >= CONFIG_KEY_MAX)
			continue;
		memcpy(store[i], p, l);
		store[i][l] = '\0';
		suggest_add(c, store[i]);
	}
}

/* Whether path is a group of the schema (a prefix of some key). */
bool config_schema_is_group(const char *path)
{
	size_t plen = strlen(path);
	for (size_t i = 0; i < config_schema_count; i++)
		if (strncmp(config_schema[i].path, path, plen) == 0 &&
		    config_schema[i].path[plen] == '.')
			return true;
	return false;
}

void config_unknown_key(struct config_loader *L, const config_setting_t *s, const char *full,
                        const struct suggest *c)
{
	char dym[128], allowed[1024];
	const char *leaf = strrchr(full, '.');
	suggest_did_you_mean(c, leaf ? leaf + 1 : full, false, dym, sizeof dym);
	suggest_list(c, false, allowed, sizeof allowed);
	config_errf(L, config_origin_of(L, s), full, "unknown key%s (allowed: %s)", dym, allowed);
}

/* path.name into out (CONFIG_KEY_MAX bytes), cut short if too long. */
void config_join(char *out, const char *path, const char *name)
{
	int w = *path ? snprintf(out, CONFIG_KEY_MAX, "%s.%s", path, name)
	              : snprintf(out, CONFIG_KEY_MAX, "%s", name);
	if (w < 0)
		out[0] = '\0';
}

struct config_num config_num(double v)
{
	struct config_num r;
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(r.s, sizeof r.s, "%.0f", v);
	else
		snprintf(r.s, sizeof r.s, "%g", v);
	return r;
}

static void range_text(const struct config_key *k, char *buf, size_t n)
{
	snprintf(buf, n, "%s to %s%s%s", config_num(k->min).s, config_num(k->max).s,
	         *k->unit ? " " : "", k->unit);
}

/* Checks a number against a key's range; reports and returns false if bad. */
bool config_number_ok(struct config_loader *L, const config_setting_t *s,
                      const struct config_key *k, const char *full, double *out)
{
	double v;
	bool integral;
	char range[128];
	range_text(k, range, sizeof range);
	bool want_int = k->type != CONFIG_T_FLOAT;
	if (!config_read_number(s, &v, &integral) || (want_int && !integral)) {
		config_errf(L, config_origin_of(L, s), full, "expected %s from %s",
		            want_int ? "an integer" : "a number", range);
		return false;
	}
	if (!(v >= k->min && v <= k->max)) {
		config_errf(L, config_origin_of(L, s), full, "%s is out of range (allowed: %s)",
		            config_num(v).s, range);
		return false;
	}
	if (strcmp(k->path, "synth.jack_period") == 0 && ((long)v & ((long)v - 1)) != 0) {
		config_errf(L, config_origin_of(L, s), full,
		            "%s is not a power of two (allowed: 16, 32, 64, 128, 256, 512, 1024, "
		            "2048, 4096)",
		            config_num(v).s);
		return false;
	}
	if (strcmp(k->path, "sequencer.max_gap_ms") == 0 && v > 0 && v < 2000) {
		config_errf(L, config_origin_of(L, s), full,
		            "%s is too short (allowed: 0 = no limit, or 2000 to 600000 ms)",
		            config_num(v).s);
		return false;
	}
	if (strcmp(k->path, "logging.max_size") == 0 && v > 0 && v < 4096) {
		config_errf(
		    L, config_origin_of(L, s), full,
		    "%s is too small to rotate (allowed: 0 = never, or 4096 to 1073741824 bytes)",
		    config_num(v).s);
		return false;
	}
	*out = v;
	return true;
}

void config_choices_of(const struct config_key *k, struct suggest *c, char store[][32])
{
	const char *p = k->choices;
	c->n = 0;
	while (*p && c->n < 16) {
		size_t l = strcspn(p, "|");
		if (l > 31)
			l = 31;
		memcpy(store[c->n], p, l);
		store[c->n][l] = '\0';
		suggest_add(c, store[c->n]);
		p += strcspn(p, "|");
		if (*p == '|')
			p++;
	}
}

/* Copies a string value into dst (size n); reports and returns false if it does not fit. */
bool config_string_ok(struct config_loader *L, const config_setting_t *s, const char *full,
                      const char *what, size_t n, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_errf(L, config_origin_of(L, s), full, "expected %s", what);
		return false;
	}
	const char *v = config_setting_get_string(s);
	if (strlen(v) >= n) {
		config_errf(L, config_origin_of(L, s), full, "longer than %zu characters", n - 1);
		return false;
	}
	*out = v;
	return true;
}

static void apply_scalar(struct config_loader *L, const struct config_key *k,
                         const config_setting_t *s, const char *full)
{
	char *base = (char *)L->cfg;
	double v;
	const char *str;
	switch (k->type) {
	case CONFIG_T_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			config_err_at(L, s, full, "expected true or false");
			return;
		}
		*(bool *)(base + k->offset) = config_setting_get_bool(s) != 0;
		break;
	case CONFIG_T_INT:
		if (!config_number_ok(L, s, k, full, &v))
			return;
		*(int *)(base + k->offset) = (int)v;
		break;
	case CONFIG_T_INT64:
		if (!config_number_ok(L, s, k, full, &v))
			return;
		*(int64_t *)(base + k->offset) = (int64_t)v;
		break;
	case CONFIG_T_FLOAT:
		if (!config_number_ok(L, s, k, full, &v))
			return;
		*(double *)(base + k->offset) = v;
		break;
	case CONFIG_T_CHOICE: {
		struct suggest c;
		char store[16][32], allowed[256], dym[128];
		config_choices_of(k, &c, store);
		suggest_list(&c, true, allowed, sizeof allowed);
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			config_errf(L, config_origin_of(L, s), full, "expected one of %s", allowed);
			return;
		}
		str = config_setting_get_string(s);
		for (int i = 0; i < c.n; i++) {
			if (strcmp(c.name[i], str) == 0) {
				*(int *)(base + k->offset) = i;
				L->key[k - config_schema] = config_origin_of(L, s);
				return;
			}
		}
		suggest_did_you_mean(&c, str, true, dym, sizeof dym);
		config_errf(L, config_origin_of(L, s), full,
		            "\"%s\" is not allowed%s (allowed: %s)", str, dym, allowed);
		return;
	}
	case CONFIG_T_STRING: {
		char what[300];
		snprintf(what, sizeof what, "a string: %s", k->choices);
		if (!config_string_ok(L, s, full, what, CONFIG_STR_MAX, &str))
			return;
		if (k->check && k->check(str) != 0) {
			config_errf(L, config_origin_of(L, s), full,
			            "\"%s\" is not a valid value (allowed: %s)", str, k->choices);
			return;
		}
		snprintf(base + k->offset, CONFIG_STR_MAX, "%s", str);
		break;
	}
	case CONFIG_T_PROFILE_REF:
		if (!config_string_ok(L, s, full, "a profile name or \"\"", ENGINE_NAME_MAX, &str))
			return;
		snprintf(L->ambient, sizeof L->ambient, "%s", str);
		break;
	default:
		return;
	}
	L->key[k - config_schema] = config_origin_of(L, s);
}

static void apply_key(struct config_loader *L, const struct config_key *k,
                      const config_setting_t *s, const char *full)
{
	switch (k->type) {
	case CONFIG_T_NAMES:
		config_apply_names(L, k, s, full);
		return;
	case CONFIG_T_ROOTS:
		config_apply_roots(L, k, s, full);
		return;
	case CONFIG_T_MUTATION:
		if (!config_setting_is_group(s)) {
			config_err_at(
			    L, s, full,
			    "expected a group { parameter = { min; max; weight; step; }; ... }");
			return;
		}
		config_apply_mutation(L, s, full);
		L->key[k - config_schema] = config_origin_of(L, s);
		return;
	case CONFIG_T_CCS:
	case CONFIG_T_BUTTONS:
	case CONFIG_T_PROFILES:
		if (!config_setting_is_group(s)) {
			config_err_at(
			    L, s, full,
			    k->type == CONFIG_T_CCS
			        ? "expected a group { parameter = CC number; ... }"
			    : k->type == CONFIG_T_BUTTONS
			        ? "expected a group { action = [first, last]; ... }"
			        : "expected a group { name = { parameter = value; ... }; ... }");
			if (k->type == CONFIG_T_PROFILES)
				L->bad_profiles = true;
			return;
		}
		if (k->type == CONFIG_T_CCS)
			config_apply_ccs(L, s, full);
		else if (k->type == CONFIG_T_BUTTONS)
			config_apply_buttons(L, s, full);
		else
			config_apply_profiles(L, s, full);
		L->key[k - config_schema] = config_origin_of(L, s);
		return;
	default:
		apply_scalar(L, k, s, full);
	}
}

void config_walk_group(struct config_loader *L, const config_setting_t *g, const char *path)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		char full[CONFIG_KEY_MAX];
		config_join(full, path, config_setting_name(m));
		const struct config_key *k = config_schema_find(full);
		if (k) {
			apply_key(L, k, m, full);
			continue;
		}
		struct suggest c;
		if (config_schema_is_group(full)) {
			if (config_setting_is_group(m)) {
				config_walk_group(L, m, full);
			} else {
				char allowed[1024];
				config_schema_children(full, &c, L->child);
				suggest_list(&c, false, allowed, sizeof allowed);
				config_errf(L, config_origin_of(L, m), full,
				            "expected a group { ... } of keys (allowed: %s)",
				            allowed);
			}
			continue;
		}
		config_schema_children(path, &c, L->child);
		config_unknown_key(L, m, full, &c);
	}
}

/* Applies the libconfig text (or file, when text is NULL) as one layer. */
enum config_status config_apply_source(struct config_loader *L, const char *file, const char *text,
                                       const char *name)
{
	config_t lc;
	config_init(&lc);
	L->src = config_intern(L, name);
	L->is_set = false;
	int ok = file ? config_read_file(&lc, file) : config_read_string(&lc, text);
	enum config_status st = CONFIG_OK;
	if (!ok) {
		struct config_origin o = {L->src, config_error_line(&lc), 0};
		if (config_error_file(&lc))
			o.src = config_intern(L, config_error_file(&lc));
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO) {
			config_errf(L, o, NULL, "cannot read: %s",
			            errno ? strerror(errno) : "I/O error");
			st = CONFIG_ERR_IO;
		} else {
			config_errf(L, o, NULL, "%s", config_error_text(&lc));
			st = CONFIG_ERR_SYNTAX;
		}
	} else {
		config_walk_group(L, config_root_setting(&lc), "");
	}
	config_destroy(&lc);
	return st;
}

enum config_status config_load(struct config *out, const char *path, const char *const *sets,
                               int n_sets, struct config_errors *errs)
{
	struct config_loader *L = calloc(1, sizeof *L);
	struct config *cfg = calloc(1, sizeof *cfg);
	enum config_status st = CONFIG_OK;
	int before = errs->n;
	if (!L || !cfg) {
		config_errors_add(errs, "out of memory loading the configuration");
		free(L);
		free(cfg);
		return CONFIG_ERR_IO;
	}
	L->cfg = cfg;
	L->errs = errs;
	for (int i = 0; i < 128; i++)
		cfg->engine.cc_param[i] = CC_UNMAPPED;
	/* A parameter the files do not walk: its whole range, weight 0. */
	for (int p = 0; p < P_COUNT; p++) {
		cfg->engine.mut[p].min = param_table[p].min;
		cfg->engine.mut[p].max = param_table[p].max;
		cfg->engine.mut[p].step = 0.1;
		L->mut_at[p] = (struct config_origin){config_intern(L, CONFIG_BUILTIN), 0, 0};
	}

	st = config_apply_source(L, NULL, config_default_text, CONFIG_BUILTIN);
	snprintf(cfg->source, sizeof cfg->source, "%s", CONFIG_BUILTIN);

	char found[CONFIG_STR_MAX];
	if (path && strcmp(path, CONFIG_BUILTIN) == 0)
		path = NULL; /* the built-in default alone */
	else if (!path && config_search(found, sizeof found))
		path = found;
	if (path && st == CONFIG_OK) {
		char why[128];
		if (config_not_regular(path, why, sizeof why)) {
			struct config_origin o = {config_intern(L, path), 0, 0};
			config_errf(L, o, NULL, "cannot read: %s", why);
			st = CONFIG_ERR_IO;
		} else if (!config_check_includes(L, path, 1)) {
			st = CONFIG_ERR_IO;
		} else {
			errno = 0;
			st = config_apply_source(L, path, NULL, path);
			/* absolute, so that a reload finds it whatever the working directory */
			char *abs = realpath(path, NULL);
			snprintf(cfg->source, sizeof cfg->source, "%s", abs ? abs : path);
			free(abs);
		}
	}
	for (int i = 0; i < n_sets && st == CONFIG_OK; i++)
		config_apply_set(L, sets[i]);
	if (st == CONFIG_OK)
		config_finalize(L);
	if (st == CONFIG_OK && errs->n > before)
		st = CONFIG_ERR_INVALID;
	if (st == CONFIG_OK)
		*out = *cfg;
	if (errs->n - before == L->n_err_keys)
		sort_errors(L);
	free(L->err_keys);
	for (int i = 0; i < L->n_names; i++)
		free(L->names[i]);
	free(L->names);
	free(L);
	free(cfg);
	return st;
}

/* Printing */
