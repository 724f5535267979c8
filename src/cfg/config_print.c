/*
 * config_print: the effective configuration in libconfig syntax, in schema
 * order, each key with its range and meaning as a comment; config_load()
 * reads it back to the same configuration (--check-config prints it).
 * Any thread (reads only the struct it is given).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/param.h"
#include "core/scale.h"
#include "cfg/config.h"
#include "cfg/config_loader.h"

static void print_string(FILE *out, const char *s)
{
	char buf[CONFIG_STR_MAX * 4 + 8] = "";
	config_quote_into(buf, sizeof buf, s);
	fputs(buf, out);
}

/* The shortest text that reads back as v, always with a point or exponent. */
static void print_float(FILE *out, double v)
{
	char buf[400];
	bool plain = fabs(v) >= 1e-4 && fabs(v) < 1e15;
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, plain ? "%.*f" : "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	fputs(buf, out);
}

/* A parameter's value: an integer for stepped parameters, else a float. */
static void print_number(FILE *out, int p, double v)
{
	if (param_table[p].curve == CURVE_STEPPED)
		fprintf(out, "%d", (int)v);
	else
		print_float(out, v);
}

static void indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		fputc('\t', out);
}

static void print_comment(FILE *out, const struct config_key *k)
{
	fprintf(out, "\t# %s", k->help);
	switch (k->type) {
	case CONFIG_T_INT:
	case CONFIG_T_INT64:
	case CONFIG_T_FLOAT:
		fprintf(out, "; %s..%s%s%s", config_num(k->min).s, config_num(k->max).s,
		        *k->unit ? " " : "", k->unit);
		break;
	case CONFIG_T_CHOICE:
	case CONFIG_T_STRING:
		fprintf(out, "; %s", k->choices);
		break;
	default:
		break;
	}
	fputc('\n', out);
}

static void print_names(FILE *out, const struct config *cfg, const struct config_key *k)
{
	const struct engine_config *e = &cfg->engine;
	int n = strcmp(k->path, "scales") == 0  ? e->n_scales
	        : strcmp(k->path, "modes") == 0 ? e->n_modes
	                                        : e->n_palettes;
	fputc('[', out);
	for (int i = 0; i < n; i++) {
		const char *s = strcmp(k->path, "scales") == 0  ? scale_name(e->scales[i])
		                : strcmp(k->path, "modes") == 0 ? e->profiles[e->modes[i]].name
		                                                : e->palettes[i];
		if (i)
			fputs(", ", out);
		print_string(out, s);
	}
	fputs("];", out);
}

static void print_table(FILE *out, const struct config *cfg, const struct config_key *k, int depth)
{
	const struct engine_config *e = &cfg->engine;
	fputs("{\n", out);
	if (k->type == CONFIG_T_CCS) {
		static const char *const curves[] = {"linear", "exp", "stepped"};
		for (int p = 0; p < P_COUNT; p++)
			for (int cc = 0; cc < 128; cc++) {
				if (e->cc_param[cc] != p)
					continue;
				const struct engine_cc_range *r = &e->cc_range[cc];
				indent(out, depth + 1);
				if (!r->set) {
					fprintf(out, "%s = %d;\n", param_table[p].name, cc);
					continue;
				}
				fprintf(out, "%s = { cc = %d; min = ", param_table[p].name, cc);
				print_number(out, p, r->min);
				fputs("; max = ", out);
				print_number(out, p, r->max);
				fprintf(out, "; curve = \"%s\"; };\n", curves[r->curve % 3]);
			}
		int n = 0;
		for (int cc = 0; cc < 128; cc++)
			n += e->cc_param[cc] == CC_RESERVED;
		if (n) {
			indent(out, depth + 1);
			fputs(n > 1 ? "reserved = [" : "reserved = ", out);
			for (int cc = 0, i = 0; cc < 128; cc++)
				if (e->cc_param[cc] == CC_RESERVED)
					fprintf(out, "%s%d", i++ ? ", " : "", cc);
			fputs(n > 1 ? "];\n" : ";\n", out);
		}
	} else if (k->type == CONFIG_T_MUTATION) {
		for (int p = 0; p < P_COUNT; p++) {
			const struct engine_mutation *w = &e->mut[p];
			if (p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE)
				continue;
			indent(out, depth + 1);
			fprintf(out, "%s = { min = ", param_table[p].name);
			print_number(out, p, w->min);
			fputs("; max = ", out);
			print_number(out, p, w->max);
			fputs("; weight = ", out);
			print_float(out, w->weight);
			fputs("; step = ", out);
			print_float(out, w->step);
			fputs("; };\n", out);
		}
	} else if (k->type == CONFIG_T_BUTTONS) {
		for (int b = 0; b < e->n_buttons; b++) {
			indent(out, depth + 1);
			fprintf(out, "%s = [%d, %d];\n",
			        config_button_actions[e->buttons[b].action], e->buttons[b].first,
			        e->buttons[b].last);
		}
	} else {
		for (int i = 0; i < e->n_profiles; i++) {
			const struct engine_profile *pr = &e->profiles[i];
			indent(out, depth + 1);
			fprintf(out, "%s = {\n", pr->name);
			for (int p = 0; p < P_COUNT; p++) {
				if (!(pr->mask & (1u << p)))
					continue;
				indent(out, depth + 2);
				if (p == P_SCALE_SELECT) {
					int idx = (int)pr->value[p];
					fputs("scale = ", out);
					print_string(out, idx >= 0 && idx < e->n_scales
					                      ? scale_name(e->scales[idx])
					                      : "");
					fputs(";\n", out);
					continue;
				}
				fprintf(out, "%s = ", param_table[p].name);
				if (param_table[p].curve == CURVE_STEPPED)
					fprintf(out, "%d", (int)pr->value[p]);
				else
					print_float(out, pr->value[p]);
				fputs(";\n", out);
			}
			indent(out, depth + 1);
			fputs("};\n", out);
		}
	}
	indent(out, depth);
	fputs("};", out);
}

static void print_value(FILE *out, const struct config *cfg, const struct config_key *k, int depth)
{
	const char *base = (const char *)cfg;
	switch (k->type) {
	case CONFIG_T_BOOL:
		fputs(*(const bool *)(base + k->offset) ? "true;" : "false;", out);
		break;
	case CONFIG_T_INT:
		fprintf(out, "%d;", *(const int *)(base + k->offset));
		break;
	case CONFIG_T_INT64:
		fprintf(out, "%lld;", (long long)*(const int64_t *)(base + k->offset));
		break;
	case CONFIG_T_FLOAT:
		print_float(out, *(const double *)(base + k->offset));
		fputc(';', out);
		break;
	case CONFIG_T_CHOICE: {
		struct suggest c;
		char store[16][32];
		int v = *(const int *)(base + k->offset);
		config_choices_of(k, &c, store);
		print_string(out, v >= 0 && v < c.n ? c.name[v] : "");
		fputc(';', out);
		break;
	}
	case CONFIG_T_STRING:
		print_string(out, base + k->offset);
		fputc(';', out);
		break;
	case CONFIG_T_PROFILE_REF: {
		int a = cfg->engine.ambient_profile;
		print_string(
		    out, a >= 0 && a < cfg->engine.n_profiles ? cfg->engine.profiles[a].name : "");
		fputc(';', out);
		break;
	}
	case CONFIG_T_NAMES:
		print_names(out, cfg, k);
		break;
	case CONFIG_T_ROOTS:
		fputc('[', out);
		for (int i = 0; i < cfg->engine.n_roots; i++)
			fprintf(out, "%s%d", i ? ", " : "", cfg->engine.roots[i]);
		fputs("];", out);
		break;
	default:
		print_table(out, cfg, k, depth);
		break;
	}
}

/* Number of leading path components a and b share. */
static int common_depth(const char *a, const char *b)
{
	int d = 0;
	for (;;) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		if (!a[la] || !b[lb] || la != lb || strncmp(a, b, la) != 0)
			return d;
		d++;
		a += la + 1;
		b += lb + 1;
	}
}

static int path_depth(const char *p)
{
	int d = 0;
	for (; *p; p++)
		d += *p == '.';
	return d;
}

void config_print(const struct config *cfg, FILE *out)
{
	fputs("# mystery-engine effective configuration (from ", out);
	for (const char *c = cfg->source; *c; c++)
		fputc((unsigned char)*c < 0x20 ? '?' : *c, out);
	fputs(")\n", out);
	const char *prev = "";
	int open = 0;
	for (size_t i = 0; i < config_schema_count; i++) {
		const struct config_key *k = &config_schema[i];
		int keep = common_depth(prev, k->path);
		for (; open > keep; open--) {
			indent(out, open - 1);
			fputs("};\n", out);
		}
		const char *p = k->path;
		for (int d = 0; d < open; d++)
			p += strcspn(p, ".") + 1;
		int depth = path_depth(k->path);
		while (open < depth) {
			size_t l = strcspn(p, ".");
			indent(out, open);
			fprintf(out, "%.*s = {\n", (int)l, p);
			p += l + 1;
			open++;
		}
		indent(out, open);
		fprintf(out, "%s = ", p);
		print_value(out, cfg, k, open);
		print_comment(out, k);
		prev = k->path;
	}
	for (; open > 0; open--) {
		indent(out, open - 1);
		fputs("};\n", out);
	}
}
