/*
 * learn: the learned controller map, its file and how it is laid over the
 * configuration (see learn.h).  The file is read and written with the
 * presets' careful read and atomic write (preset.h).  Any thread but the
 * real-time worker.
 */
#include "ops/learn.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/preset.h"

void learn_map_clear(struct learn_map *m)
{
	for (int p = 0; p < P_COUNT; p++)
		m->cc[p] = -1;
}

void learn_map_set(struct learn_map *m, int param, int cc)
{
	if (param < 0 || param >= P_COUNT || cc < 0 || cc > 127)
		return;
	for (int p = 0; p < P_COUNT; p++)
		if (m->cc[p] == cc)
			m->cc[p] = -1;
	m->cc[param] = cc;
}

int learn_map_count(const struct learn_map *m)
{
	int n = 0;
	for (int p = 0; p < P_COUNT; p++)
		n += m->cc[p] >= 0;
	return n;
}

int learn_owner(const struct engine_config *c, int cc)
{
	if (cc < 0 || cc > 127)
		return -1;
	int p = c->cc_param[cc];
	return p >= 0 && p < P_COUNT ? p : -1;
}

void learn_apply(struct engine_config *c, const struct learn_map *m)
{
	for (int p = 0; p < P_COUNT; p++) {
		int cc = m->cc[p];
		if (cc < 0 || cc > 127)
			continue;
		/* the parameter's knob keeps its range and curve */
		struct engine_cc_range r = {false, 0, 0, 0};
		for (int k = 0; k < 128; k++)
			if (c->cc_param[k] == p) {
				if (!r.set)
					r = c->cc_range[k];
				c->cc_param[k] = CC_UNMAPPED;
				memset(&c->cc_range[k], 0, sizeof c->cc_range[k]);
			}
		c->cc_param[cc] = p;
		c->cc_range[cc] = r;
	}
}

static void path_of(const char *dir, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", dir, LEARN_FILE);
}

int learn_load(const char *state_dir, struct learn_map *m, char *err, size_t errlen)
{
	learn_map_clear(m);
	char path[4096], why[1024];
	path_of(state_dir, path, sizeof path);
	char *text = NULL;
	size_t len = 0;
	int rc = preset_read_file(path, &text, &len, why, sizeof why);
	if (rc == PRESET_ERR_NOT_FOUND)
		return 0;
	if (rc != 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	config_t cfg;
	config_init(&cfg);
	int ret = 0;
	if (memchr(text, '\0', len) || config_read_string(&cfg, text) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cfg),
		         config_error_text(&cfg) ? config_error_text(&cfg) : "not a learned map");
		ret = -1;
	}
	config_setting_t *g = ret ? NULL : config_lookup(&cfg, "learned");
	if (!ret && (!g || !config_setting_is_group(g))) {
		snprintf(err, errlen, "%s:1: expected learned = { PARAM = CC; ... };", path);
		ret = -1;
	}
	for (int i = 0; !ret && i < config_setting_length(g); i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(e);
		int p = name ? param_find(name) : -1;
		int cc = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e) : -1;
		if (p < 0 || cc < 0 || cc > 127) {
			snprintf(err, errlen,
			         "%s:%d: learned.%s: expected a parameter = a CC 0..127", path,
			         config_setting_source_line(e), name ? name : "?");
			ret = -1;
			break;
		}
		learn_map_set(m, p, cc);
	}
	if (ret)
		learn_map_clear(m);
	config_destroy(&cfg);
	free(text);
	return ret;
}

int learn_save(const char *state_dir, const struct learn_map *m, char *err, size_t errlen)
{
	char text[4096];
	size_t o = (size_t)snprintf(text, sizeof text,
	                            "# written by mystery-engine (MIDI learn in the console); "
	                            "applied over mapping.ccs\nlearned = {");
	for (int p = 0; p < P_COUNT && o < sizeof text - 64; p++)
		if (m->cc[p] >= 0)
			o += (size_t)snprintf(text + o, sizeof text - o, " %s = %d;",
			                      param_table[p].name, m->cc[p]);
	snprintf(text + o, sizeof text - o, " };\n");
	if (preset_dir_ensure(state_dir, err, errlen) != 0)
		return -1;
	return preset_write_atomic(state_dir, "learned", LEARN_FILE, text, err, errlen) == 0 ? 0
	                                                                                     : -1;
}
