/*
 * fmt: formatting and key mapping for the console (see fmt.h).
 *
 * Numbers get the precision a musician reads them at (tempo to a tenth of a
 * BPM, cutoff to the hertz, mixes to a hundredth).  Strings are UTF-8 and
 * measured in code points, since every glyph the console uses is one column.
 * Pure functions and constant tables; any thread.
 */
#include "ui/fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/param.h"
#include "core/scale.h"

int fmt_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void fmt_fit(char *buf, size_t n, const char *s, int w)
{
	size_t o = 0;
	int cols = 0;
	if (n == 0)
		return;
	for (const char *p = s; *p; p++) {
		bool lead = ((unsigned char)*p & 0xc0) != 0x80;
		if (lead && cols == w)
			break;
		/* keep a whole code point or none of it */
		size_t len = 1;
		if (lead) {
			while (((unsigned char)p[len] & 0xc0) == 0x80)
				len++;
			if (o + len >= n)
				break;
			memcpy(buf + o, p, len);
			o += len;
			p += len - 1;
			cols++;
		}
	}
	while (cols < w && o + 1 < n) {
		buf[o++] = ' ';
		cols++;
	}
	buf[o] = '\0';
}

void fmt_number(char *buf, size_t n, int param, double v)
{
	if ((unsigned)param >= P_COUNT || !isfinite(v)) {
		snprintf(buf, n, "?");
		return;
	}
	const struct param_info *p = &param_table[param];
	if (p->curve == CURVE_STEPPED)
		snprintf(buf, n, "%.0f", v);
	else if (param == P_TEMPO || param == P_DRIFT)
		snprintf(buf, n, "%.1f", v);
	else if (p->max - p->min >= 100)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.2f", v);
}

/* The name a selector's value chooses, or NULL. */
static const char *selector_name(int param, double v, const struct snapshot *s)
{
	int i = (int)lround(v);
	if (!s || i < 0)
		return NULL;
	if (param == P_SCALE_SELECT && i < s->n_scales && i < ENGINE_MAX_SCALES)
		return s->scale_names[i];
	if (param == P_MODE && i < s->n_modes && i < ENGINE_MAX_PROFILES)
		return s->mode_names[i];
	if (param == P_PALETTE && i < s->n_palettes && i < ENGINE_MAX_PALETTES)
		return s->palette_names[i];
	return NULL;
}

void fmt_param_value(char *buf, size_t n, int param, double v, const struct snapshot *s)
{
	char num[32];
	fmt_number(num, sizeof num, param, v);
	if ((unsigned)param >= P_COUNT || !isfinite(v)) {
		snprintf(buf, n, "%s", num);
		return;
	}
	const char *unit = param_table[param].unit;
	const char *name = selector_name(param, v, s);
	if (name && *name)
		snprintf(buf, n, "%s %.*s", num, ENGINE_NAME_MAX, name);
	else if (!*unit)
		snprintf(buf, n, "%s", num);
	else if (strcmp(unit, "%") == 0)
		snprintf(buf, n, "%s%%", num);
	else
		snprintf(buf, n, "%s %s", num, unit);
}

/* Appends a glyph if it fits; returns the new length. */
static size_t put(char *buf, size_t n, size_t o, const char *g)
{
	size_t len = strlen(g);
	if (o + len >= n)
		return o;
	memcpy(buf + o, g, len);
	buf[o + len] = '\0';
	return o + len;
}

void fmt_bar(char *buf, size_t n, double unit, int w, const struct glyphs *g)
{
	size_t o = 0;
	if (n == 0)
		return;
	buf[0] = '\0';
	if (w <= 0)
		return;
	if (w < 3) {
		for (int i = 0; i < w; i++)
			o = put(buf, n, o, " ");
		return;
	}
	if (!isfinite(unit) || unit < 0)
		unit = 0;
	if (unit > 1)
		unit = 1;
	int inner = w - 2;
	int eighths = (int)lround(unit * inner * 8);
	o = put(buf, n, o, "[");
	for (int i = 0; i < inner; i++) {
		int e = eighths - i * 8;
		if (e >= 8)
			o = put(buf, n, o, g->bar_full);
		else if (e > 0)
			o = put(buf, n, o, g->bar_part[e]);
		else
			o = put(buf, n, o, g->bar_empty);
	}
	put(buf, n, o, "]");
}

void fmt_duration(char *buf, size_t n, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < NS_PER_MS)
		snprintf(buf, n, "%dus", (int)((ns + 500) / 1000));
	else if (ns < 10 * NS_PER_MS)
		snprintf(buf, n, "%.2fms", (double)ns / NS_PER_MS);
	else if (ns < NS_PER_SEC)
		snprintf(buf, n, "%.1fms", (double)ns / NS_PER_MS);
	else
		snprintf(buf, n, "%.2fs", (double)ns / NS_PER_SEC);
}

void fmt_clock(char *buf, size_t n, int64_t ns)
{
	if (ns < 0) {
		snprintf(buf, n, "--:--");
		return;
	}
	long long s = (long long)(ns / NS_PER_SEC);
	if (s < 3600)
		snprintf(buf, n, "%02lld:%02lld", s / 60, s % 60);
	else
		snprintf(buf, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

void fmt_tempo(char *buf, size_t n, double base_bpm, double now_bpm)
{
	if (!isfinite(now_bpm) || now_bpm <= 0)
		now_bpm = base_bpm;
	double pct = base_bpm > 0 ? (now_bpm / base_bpm - 1) * 100 : 0;
	if (fabs(pct) < 0.05)
		snprintf(buf, n, "%.1f BPM", now_bpm);
	else
		snprintf(buf, n, "%.1f BPM (drift %+.1f%%)", now_bpm, pct);
}

void fmt_gate(char *buf, size_t n, double prob)
{
	if (!isfinite(prob) || prob < 0)
		prob = 0;
	if (prob > 1)
		prob = 1;
	snprintf(buf, n, "%d%%", (int)lround(prob * 100));
}

void fmt_note(char *buf, size_t n, int scale, int root, int pitch, const struct glyphs *g)
{
	scale_spell(scale, root, pitch, !(g && g->unicode), buf, n);
}

void fmt_percent(char *buf, size_t n, double frac)
{
	if (!isfinite(frac) || frac < 0)
		frac = 0;
	snprintf(buf, n, "%.1f%%", frac * 100);
}

void fmt_level(char *buf, size_t n, double peak, bool measured)
{
	if (!measured || !isfinite(peak))
		snprintf(buf, n, "--");
	else if (peak < 1e-5)
		snprintf(buf, n, "-inf");
	else /* + 0.0: no "-0dB" just under full scale */
		snprintf(buf, n, "%.0fdB", round(20 * log10(peak)) + 0.0);
}

void fmt_mutation(char *buf, size_t n, const struct snap_mutation *m)
{
	char t[16], from[32], to[32];
	fmt_clock(t, sizeof t, m->t);
	if (m->param >= P_COUNT) {
		snprintf(buf, n, "%s ?", t);
		return;
	}
	fmt_number(from, sizeof from, m->param, m->from);
	fmt_number(to, sizeof to, m->param, m->to);
	snprintf(buf, n, "%s %s %s -> %s", t, param_table[m->param].name, from, to);
}

const char *fmt_run_state(const struct engine_state *st)
{
	return st->paused ? "PAUSED" : st->idle ? "IDLE" : "PLAYING";
}

void fmt_preset_name(char *buf, size_t n, const struct tm *tm)
{
	char stamp[32];
	if (strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", tm) == 0)
		snprintf(stamp, sizeof stamp, "unknown");
	snprintf(buf, n, "console-%s", stamp);
}

static struct fmt_action command_action(enum command_type type)
{
	struct fmt_action a = {.act = FMT_ACT_COMMAND};
	a.cmd.type = (uint8_t)type;
	a.cmd.source = SRC_KEY;
	return a;
}

static struct fmt_action nudge(int selected, int steps)
{
	struct fmt_action a = command_action(CMD_NUDGE_PARAM);
	if ((unsigned)selected >= P_COUNT)
		return (struct fmt_action){.act = FMT_ACT_NONE};
	a.cmd.param = (uint8_t)selected;
	a.cmd.value = steps;
	return a;
}

struct fmt_action fmt_key_action(int key, int selected)
{
	struct fmt_action none = {.act = FMT_ACT_NONE};
	switch (key) {
	case FMT_KEY_UP:
	case 'k':
		return (struct fmt_action){.act = FMT_ACT_SELECT, .delta = -1};
	case FMT_KEY_DOWN:
	case 'j':
		return (struct fmt_action){.act = FMT_ACT_SELECT, .delta = 1};
	case FMT_KEY_RIGHT:
	case '+':
	case '=':
		return nudge(selected, FMT_FINE_STEPS);
	case FMT_KEY_LEFT:
	case '-':
	case '_':
		return nudge(selected, -FMT_FINE_STEPS);
	case FMT_KEY_PGUP:
		return nudge(selected, FMT_COARSE_STEPS);
	case FMT_KEY_PGDN:
		return nudge(selected, -FMT_COARSE_STEPS);
	case ' ':
		return command_action(CMD_PAUSE);
	case 's':
		return command_action(CMD_NEXT_SCALE);
	case 'm':
		return command_action(CMD_NEXT_MODE);
	case 'l':
		return command_action(CMD_CHAOS_TOGGLE);
	case 'i':
		return command_action(CMD_IDLE_TOGGLE);
	case 'r':
		return (struct fmt_action){.act = FMT_ACT_RELOAD};
	case 'p':
		return (struct fmt_action){.act = FMT_ACT_PRESET};
	case 'q':
		return (struct fmt_action){.act = FMT_ACT_QUIT};
	case 'd':
		return (struct fmt_action){.act = FMT_ACT_DETACH};
	case 'Q':
		return (struct fmt_action){.act = FMT_ACT_STOP};
	case 'c':
		return (struct fmt_action){.act = FMT_ACT_LEARN};
	case FMT_KEY_F1:
	case '?':
		return (struct fmt_action){.act = FMT_ACT_HELP};
	case 'L' & 0x1f:
		return (struct fmt_action){.act = FMT_ACT_REDRAW};
	default:
		break;
	}
	if (key >= '1' && key <= '9') {
		struct fmt_action a = command_action(CMD_TOGGLE_STEP);
		a.cmd.step = (int16_t)(key - '1');
		return a;
	}
	return none;
}

bool fmt_step_beyond(const struct fmt_action *a, int n_steps, char *buf, size_t n)
{
	if (a->act != FMT_ACT_COMMAND || a->cmd.type != CMD_TOGGLE_STEP || a->cmd.step < n_steps)
		return false;
	snprintf(buf, n, "step %d is past the pattern's %d steps: not changed", a->cmd.step + 1,
	         n_steps);
	return true;
}

const struct fmt_help fmt_help[] = {
    {"Up/Down j/k", "select a parameter"},
    {"Left/Right -/+", "adjust it (fine)"},
    {"PgUp/PgDn", "adjust it (coarse, 10 steps)"},
    {"Space", "pause / resume (releases all voices)"},
    {"1-9", "toggle step 1-9"},
    {"s", "next scale"},
    {"m", "next mode"},
    {"l", "chaos lock on / off"},
    {"i", "enter / leave idle"},
    {"r", "reload the configuration"},
    {"p", "save a preset"},
    {"c", "learn: the next knob moved drives it"},
    {"Ctrl-L", "repaint the screen"},
    {"F1 ?", "this help (any key closes it)"},
    {"q", "quit (attached: detach, it plays on)"},
    {"d", "detach an attached console"},
    {"Q", "stop the instrument (asks first)"},
    {NULL, NULL},
};
