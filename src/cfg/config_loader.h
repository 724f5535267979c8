/*
 * config_loader: what the files of the configuration loader share; not for
 * use outside src/cfg.  config_load.c runs a load: layers, scalars, errors
 * with their source and line; config_tables.c applies the tables
 * (mapping.ccs, mapping.buttons, profiles, mutation, names) and the rules
 * that span keys; config_source.c is where layers come from (files checked
 * before libconfig reads them, --set KEY=VALUE); config_print.c prints.
 * Main thread only, like config_load().
 */
#ifndef ME_CFG_CONFIG_LOADER_H
#define ME_CFG_CONFIG_LOADER_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "cfg/config.h"
#include "cfg/suggest.h"

#define CONFIG_KEY_MAX 256  /* longest key path + 1 */
#define CONFIG_KEYS_MAX 128 /* rows config_schema may have */

/* mapping.buttons' action names, by enum button_action */
extern const char *const config_button_actions[];
#define CONFIG_N_ACTIONS (BUTTON_TRIGGER_STEP + 1)

/* Where a value came from: source name (interned), line (0: none), order. */
struct config_origin {
	const char *src;
	int line;
	unsigned seq;
};

/* Sort key of one error: source (in order of first use), line, order made. */
struct config_err_key {
	int src, line, order;
	char *msg;
};

/* The state of one load. */
struct config_loader {
	struct config *cfg;
	struct config_errors *errs;
	const char *src; /* the current layer's name */
	bool is_set;     /* the current layer is a --set */
	unsigned seq;
	char **names; /* interned source names */
	int n_names;

	struct config_origin key[CONFIG_KEYS_MAX];
	struct config_origin cc[128];
	struct config_origin button[ENGINE_MAX_BUTTONS];

	char mode_name[ENGINE_MAX_PROFILES][ENGINE_NAME_MAX];
	struct config_origin mode[ENGINE_MAX_PROFILES];
	char ambient[ENGINE_NAME_MAX];
	char profile_scale[ENGINE_MAX_PROFILES][ENGINE_NAME_MAX];
	struct config_origin profile_scale_at[ENGINE_MAX_PROFILES];
	struct config_origin profile_param[ENGINE_MAX_PROFILES][P_COUNT];
	struct config_origin mut_at[P_COUNT]; /* where a parameter's walk was last set */
	struct config_origin range_at[128];   /* where a CC's range was last set */
	bool bad_scales, bad_profiles;
	char child[CONFIG_KEYS_MAX][CONFIG_KEY_MAX]; /* names listed by config_schema_children */
	struct config_err_key *err_keys;             /* where each error of this load points */
	int n_err_keys;
};

/* --- config_load.c ------------------------------------------------------- */

void config_errors_add(struct config_errors *e, const char *msg);
/* Keeps a copy of a source name for as long as the load runs. */
const char *config_intern(struct config_loader *L, const char *s);
struct config_origin config_origin_of(struct config_loader *L, const config_setting_t *s);
/* Reports an error at o: "SOURCE:LINE: KEY: message". */
__attribute__((format(printf, 4, 5))) void
config_errf(struct config_loader *L, struct config_origin o, const char *key, const char *fmt, ...);
void config_err_at(struct config_loader *L, const config_setting_t *s, const char *key,
                   const char *msg);
const struct config_key *config_schema_find(const char *path);
/* Names allowed directly below the group at path ("" = top level). */
void config_schema_children(const char *path, struct suggest *c, char store[][CONFIG_KEY_MAX]);
/* Whether path is a group of the schema (a prefix of some key). */
bool config_schema_is_group(const char *path);
void config_unknown_key(struct config_loader *L, const config_setting_t *s, const char *full,
                        const struct suggest *c);
/* path.name into out (CONFIG_KEY_MAX bytes), cut short if too long. */
void config_join(char *out, const char *path, const char *name);
/* A number as people write it: 86400000, 0.5, 1e-05. */
struct config_num {
	char s[40];
};
struct config_num config_num(double v);
/* Checks a number against a key's range; reports and returns false if bad. */
bool config_number_ok(struct config_loader *L, const config_setting_t *s,
                      const struct config_key *k, const char *full, double *out);
/* The choices of a CHOICE key, as candidates (store holds their text). */
void config_choices_of(const struct config_key *k, struct suggest *c, char store[][32]);
/* A string value of at most n - 1 characters; reports and returns false if not. */
bool config_string_ok(struct config_loader *L, const config_setting_t *s, const char *full,
                      const char *what, size_t n, const char **out);
void config_walk_group(struct config_loader *L, const config_setting_t *g, const char *path);
/* Applies the libconfig text (or file, when text is NULL) as one layer. */
enum config_status config_apply_source(struct config_loader *L, const char *file, const char *text,
                                       const char *name);

/* --- config_tables.c ----------------------------------------------------- */

bool config_is_seq(const config_setting_t *s);
void config_apply_ccs(struct config_loader *L, const config_setting_t *g, const char *path);
void config_apply_buttons(struct config_loader *L, const config_setting_t *g, const char *path);
void config_apply_profiles(struct config_loader *L, const config_setting_t *g, const char *path);
void config_apply_mutation(struct config_loader *L, const config_setting_t *g, const char *path);
void config_apply_roots(struct config_loader *L, const struct config_key *k,
                        const config_setting_t *s, const char *full);
void config_apply_names(struct config_loader *L, const struct config_key *k,
                        const config_setting_t *s, const char *full);
/* Rules that span keys, once every layer is in; resolves names to indices. */
void config_finalize(struct config_loader *L);

/* --- config_source.c ----------------------------------------------------- */

/* Appends s to buf as a libconfig string literal. */
void config_quote_into(char *buf, size_t n, const char *s);
/* One --set KEY=VALUE, read as a one-key file. */
void config_apply_set(struct config_loader *L, const char *kv);
/* NULL when path is a regular file, else why it cannot be read. */
const char *config_not_regular(const char *path, char *buf, size_t n);
/* Checks every file path @includes, recursively; false after an error. */
bool config_check_includes(struct config_loader *L, const char *path, int depth);
/* The first configuration file that exists, into buf; false if none. */
bool config_search(char *buf, size_t n);

#endif
