/*
 * panel: the console's panels and help box, drawn from the latest snapshot
 * through a pen (see panel.h).  Text is UTF-8, cut at the window's edge;
 * what the locale cannot show becomes '?'.  The console thread only.
 */
#include "ui/panel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "core/param.h"
#include "core/scale.h"
#include "dev/audio_card.h"
#include "rt/rtclock.h"
#include "ui/fmt.h"

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= UINT64_C(1099511628211);
	}
}

/* Draws UTF-8 text at (y, x) cut at the window's edge; returns the column
 * after it. */
static int pen_put(struct pen *p, int y, int x, enum role r, const char *s)
{
	int cols = fmt_width(s);
	int32_t head[3] = {y, x, (int32_t)r};
	hash_bytes(&p->hash, head, sizeof head);
	hash_bytes(&p->hash, s, strlen(s) + 1);
	if (!p->draw || y < 0 || y >= p->h || x < 0 || x >= p->wd)
		return x + cols;
	wchar_t ws[PANEL_LINE_MAX];
	int n = 0, room = p->wd - x;
	mbstate_t st;
	memset(&st, 0, sizeof st);
	for (const char *q = s; *q && n < room && n < PANEL_LINE_MAX;) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, q, strlen(q), &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			/* not a character of this locale: one '?' per code point */
			wc = L'?';
			k = 1;
			while (((unsigned char)q[k] & 0xc0) == 0x80)
				k++;
			memset(&st, 0, sizeof st);
		}
		ws[n++] = wc;
		q += k;
	}
	wattrset(p->w, p->c->attr[r]);
	mvwaddnwstr(p->w, y, x, ws, n);
	wattrset(p->w, A_NORMAL);
	return x + cols;
}

static int pen_printf(struct pen *p, int y, int x, enum role r, const char *f, ...)
    __attribute__((format(printf, 5, 6)));

static int pen_printf(struct pen *p, int y, int x, enum role r, const char *f, ...)
{
	char buf[PANEL_LINE_MAX];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
	return pen_put(p, y, x, r, buf);
}

static enum role link_role(int state)
{
	switch (state) {
	case LINK_CONNECTED:
		return R_GOOD;
	case LINK_ERROR:
	case LINK_RECONNECTING:
		return R_WARN;
	default:
		return R_DIM;
	}
}

static void draw_header(struct pen *p)
{
	struct console *c = p->c;
	const struct snapshot *s = c->snap;
	char buf[128], name[64];
	int x = pen_put(p, 0, 0, R_TITLE, "mystery-engine") + 2;
	if (!c->have_snap) {
		pen_put(p, 0, x, R_DIM, "waiting for the engine...");
		return;
	}
	const struct engine_state *e = &s->eng;
	fmt_tempo(buf, sizeof buf, e->value[P_TEMPO], e->tempo_now);
	x = pen_put(p, 0, x, R_NORMAL, buf) + 2;
	if (e->clock_source == CLOCK_SOURCE_MIDI) /* the external clock and its jitter */
		x = pen_printf(p, 0, x, e->clock_following ? R_GOOD : R_WARN,
		               e->clock_following ? "midi clock %.1f +-%.2fms" : "midi clock lost",
		               e->clock_bpm, e->clock_jitter_ns / 1e6) +
		    2;
	fmt_note(name, sizeof name, e->scale, e->root, e->root, c->g);
	x = pen_printf(p, 0, x, R_NORMAL, "%s %s", name, scale_name(e->scale));
	if (e->pending_scale >= 0)
		x = pen_printf(p, 0, x, R_DIM, " (next %s)", scale_name(e->pending_scale));
	x += 2;
	/* what plays: the ambient profile while idle, else the chosen mode's */
	x = pen_printf(p, 0, x, R_NORMAL, "mode %.*s", (int)sizeof e->playing, e->playing) + 2;
	enum role state = e->paused ? R_WARN : e->idle ? R_DIM : R_GOOD;
	x = pen_put(p, 0, x, state, fmt_run_state(e)) + 2;
	if (e->value[P_CHAOS_LOCK] >= 0.999)
		pen_put(p, 0, x, R_WARN, "LOCKED");

	x = pen_put(p, 1, 0, R_DIM, "midi ");
	x = pen_put(p, 1, x, link_role(s->link_midi), link_state_name(s->link_midi)) + 2;
	x = pen_put(p, 1, x, R_DIM, "scsynth ");
	x = pen_put(p, 1, x, link_role(s->link_synth), link_state_name(s->link_synth)) + 2;
	if (s->synth_fault_short[0])
		x = pen_printf(p, 1, x - 1, R_WARN, "(%.*s)", (int)sizeof s->synth_fault_short,
		               s->synth_fault_short) +
		    2;
	if (s->audio_state != AUDIO_CARD_UNUSED) {
		bool ok = s->audio_state == AUDIO_CARD_CHOSEN;
		x = pen_put(p, 1, x, R_DIM, "card ");
		x = pen_printf(p, 1, x, ok ? R_GOOD : R_WARN, "%.*s%s", (int)sizeof s->audio_card,
		               s->audio_card,
		               ok                                     ? ""
		               : s->audio_state == AUDIO_CARD_NO_CARD ? ": none to play on"
		                                                      : " missing") +
		    2;
	}
	x = pen_put(p, 1, x, R_DIM, "leds ");
	x = pen_put(p, 1, x, link_role(s->link_led), link_state_name(s->link_led)) + 2;
	if (s->link_clock_in != LINK_OFF) {
		x = pen_put(p, 1, x, R_DIM, "clock in ");
		x = pen_put(p, 1, x, link_role(s->link_clock_in),
		            link_state_name(s->link_clock_in)) +
		    2;
	}
	if (s->audio_dummy) /* JACK's dummy driver: nothing reaches a speaker */
		x = pen_put(p, 1, x, R_WARN,
		            s->recording ? "no sound card: recording"
		                         : "no sound card: --record F.wav") +
		    2;
	fmt_percent(buf, sizeof buf, s->worker_cpu);
	x = pen_put(p, 1, x, R_DIM, "cpu ");
	x = pen_put(p, 1, x, R_NORMAL, buf) + 2;
	fmt_clock(buf, sizeof buf, s->uptime_ns);
	x = pen_put(p, 1, x, R_DIM, "up ");
	x = pen_put(p, 1, x, R_NORMAL, buf) + 2;
	if (s->midi_port[0])
		pen_printf(p, 1, x, R_DIM, "(%.*s)", (int)sizeof s->midi_port, s->midi_port);
}

static void draw_grid(struct pen *p)
{
	struct console *c = p->c;
	const struct layout *l = &c->lay;
	const struct engine_state *e = &c->snap->eng;
	const struct glyphs *g = c->g;
	if (!c->have_snap) {
		pen_put(p, 0, 0, R_TITLE, "steps");
		return;
	}
	int n = e->n_steps < 1 ? 1 : e->n_steps > ENGINE_MAX_STEPS ? ENGINE_MAX_STEPS : e->n_steps;
	int first = layout_grid_first(l, n, e->play_step);
	int per_page = l->cells_per_row * l->grid_blocks;
	int last = first + per_page < n ? first + per_page : n;
	int x = pen_put(p, 0, 0, R_TITLE, "steps");
	x = pen_printf(p, 0, x + 1, R_DIM, "%d-%d of %d", first + 1, last, n);
	if (per_page < n)
		pen_printf(p, 0, x + 1, R_DIM, "page %d/%d (follows the playhead)",
		           first / per_page + 1, (n + per_page - 1) / per_page);
	for (int b = 0; b < l->grid_blocks; b++) {
		int y = 1 + b * LAYOUT_GRID_BLOCK_ROWS;
		pen_put(p, y, 0, R_DIM, "step");
		pen_put(p, y + 1, 0, R_DIM, "note");
		pen_put(p, y + 2, 0, R_DIM, "prob");
	}
	for (int i = first; i < last; i++) {
		int y, cx;
		if (!layout_grid_cell(l, first, n, i, &y, &cx))
			continue;
		const struct engine_step *st = &e->steps[i];
		int64_t since = e->t - e->step_fired_t[i];
		bool flash = e->step_fired_t[i] >= 0 && since >= 0 && since < PANEL_FLASH_NS;
		bool playing = i == e->play_step;
		enum role r = flash ? R_FLASH : playing ? R_PLAY : st->on ? R_NORMAL : R_DIM;
		enum role r2 = flash ? R_FLASH : st->on ? R_NORMAL : R_DIM;
		char gate[16], note[24], cell[48];
		pen_printf(p, y, cx, r, "%s%2d%s", playing ? g->play : " ", i + 1,
		           st->on ? g->on : g->off);
		fmt_note(note, sizeof note, e->scale, e->root, e->step_note[i], g);
		fmt_fit(cell, sizeof cell, note, 4);
		pen_put(p, y + 1, cx, r2, cell);
		fmt_gate(gate, sizeof gate, st->prob);
		pen_printf(p, y + 2, cx, r2, "%4s", gate);
	}
}

static void draw_params(struct pen *p)
{
	struct console *c = p->c;
	const struct snapshot *s = c->snap;
	int visible = p->h - 1;
	int x = pen_put(p, 0, 0, R_TITLE, "parameters");
	if (p->wd - x > 30)
		pen_put(p, 0, p->wd - 27, R_DIM, "K: held by the keyboard");
	c->param_first = layout_scroll(P_COUNT, visible, c->selected, c->param_first);
	int val_w = p->wd >= 70 ? 20 : 13;
	int src_w = p->wd >= 70 ? 9 : 0;
	int bar_w = p->wd - (2 + 15 + 1 + val_w + 1 + 1 + 1 + src_w);
	if (bar_w < 3)
		bar_w = 0;
	for (int row = 0; row < visible && c->param_first + row < P_COUNT; row++) {
		int i = c->param_first + row;
		bool sel = i == c->selected;
		char name[64], val[64], vfit[96], bar[PANEL_LINE_MAX / 2], line[PANEL_LINE_MAX];
		fmt_fit(name, sizeof name, param_table[i].name, 15);
		if (c->have_snap) {
			double v = s->eng.value[i];
			fmt_param_value(val, sizeof val, i, v, s);
			fmt_bar(bar, sizeof bar, param_to_unit(i, v), bar_w, c->g);
		} else {
			snprintf(val, sizeof val, "-");
			fmt_bar(bar, sizeof bar, 0, bar_w, c->g);
		}
		fmt_fit(vfit, sizeof vfit, val, val_w);
		snprintf(line, sizeof line, "%s %s %s %s", sel ? c->g->sel : " ", name, vfit, bar);
		int y = 1 + row;
		int mx = pen_put(p, y, 0, sel ? R_SEL : R_NORMAL, line) + 1;
		if (!c->have_snap)
			continue;
		int src = s->eng.source[i];
		if (src == SRC_KEY)
			pen_put(p, y, mx, R_KEY, "K");
		if (src_w)
			pen_put(p, y, mx + 2, R_DIM, param_source_name((enum param_source)src));
	}
}

static void draw_mutations(struct pen *p)
{
	struct console *c = p->c;
	const struct snapshot *s = c->snap;
	int x = pen_put(p, 0, 0, R_TITLE, "mutations");
	if (!c->have_snap)
		return;
	pen_printf(p, 0, x + 1, R_DIM, "newest first, %llu so far",
	           (unsigned long long)s->eng.mutations);
	int n = s->n_mut < SNAP_MUT_MAX ? s->n_mut : SNAP_MUT_MAX;
	if (n <= 0)
		pen_put(p, 1, 0, R_DIM, "none yet");
	for (int i = 0; i < n && 1 + i < p->h; i++) {
		char line[128];
		fmt_mutation(line, sizeof line, &s->mut[i]);
		pen_put(p, 1 + i, 0, R_NORMAL, line);
	}
}

static void draw_meters(struct pen *p)
{
	struct console *c = p->c;
	const struct snapshot *s = c->snap;
	char a[32], b[32];
	pen_put(p, 0, 0, R_TITLE, "meters");
	if (!c->have_snap)
		return;
	fmt_duration(a, sizeof a, s->latency_p50);
	fmt_duration(b, sizeof b, s->latency_p99);
	pen_printf(p, 1, 0, R_NORMAL, "latency  p50 %-7s p99 %s", a, b);
	fmt_duration(a, sizeof a, s->lateness_p50);
	fmt_duration(b, sizeof b, s->lateness_p99);
	pen_printf(p, 2, 0, R_NORMAL, "lateness p50 %-7s p99 %s", a, b);
	int xl =
	    pen_printf(p, 3, 0, s->late_bundles ? R_WARN : R_NORMAL, "late bundles %llu of %llu",
	               (unsigned long long)s->late_bundles, (unsigned long long)s->bundles_sent);
	fmt_level(a, sizeof a, s->out_peak, s->out_meter_age_ns >= 0);
	xl = pen_printf(p, 3, xl + 2, s->synth_fault_short[0] ? R_WARN : R_NORMAL, "out %s", a);
	if (s->stalls) /* the engine could not run for a while (see synth.late_drop_ms) */
		pen_printf(p, 3, xl + 2, R_WARN, "stalls %llu", (unsigned long long)s->stalls);
	int vmax = s->voices_max > 0 ? s->voices_max : c->opt.voices_max;
	int x = pen_printf(p, 4, 0, vmax > 0 && s->voices_active >= vmax ? R_WARN : R_NORMAL,
	                   "voices %d/%d", s->voices_active, vmax);
	if (vmax > 0 && p->wd - x > 8) {
		char bar[PANEL_LINE_MAX / 2];
		int w = p->wd - x - 1 < 22 ? p->wd - x - 1 : 22;
		fmt_bar(bar, sizeof bar, (double)s->voices_active / vmax, w, c->g);
		pen_put(p, 4, x + 1, R_NORMAL, bar);
	}
	uint64_t ev = s->events_dropped, cmd = s->commands_dropped, midi = s->midi_dropped;
	int dx = pen_printf(p, 5, 0, ev || cmd || midi ? R_WARN : R_NORMAL,
	                    "dropped events %llu cmds %llu midi %llu", (unsigned long long)ev,
	                    (unsigned long long)cmd, (unsigned long long)midi);
	if (s->late_notes_dropped)
		pen_printf(p, 5, dx + 1, R_WARN, "late %llu",
		           (unsigned long long)s->late_notes_dropped);
}

#define PROBLEM_NS (30 * NS_PER_SEC) /* a warning stays in the key bar this long */

/* The last problem logged is shown while a link is failing, and an error
 * for a while after it was logged. */
static bool problem_shown(const struct console *c)
{
	const struct snapshot *s = c->snap;
	if (!c->have_snap || !s->problem[0] || s->problem_at_ns <= 0)
		return false;
	uint8_t links[3] = {s->link_midi, s->link_synth, s->link_led};
	for (int i = 0; i < 3; i++)
		if (links[i] == LINK_ERROR || links[i] == LINK_RECONNECTING)
			return true;
	if (!s->problem_error)
		return false;
	return rtclock_real_ns() - s->problem_at_ns < PROBLEM_NS;
}

#define LEARNED_NS (10 * NS_PER_SEC) /* what a MIDI learn did stays this long */

static bool learned_shown(const struct console *c)
{
	const struct snapshot *s = c->snap;
	return c->have_snap && s->learned[0] && s->learned_at_ns > 0 &&
	       rtclock_real_ns() - s->learned_at_ns < LEARNED_NS;
}

static void draw_footer(struct pen *p)
{
	static const char *const keys[][2] = {
	    {"F1", "Help"}, {"Spc", "Pause"}, {"+-", "Adjust"}, {"s", "Scale"},  {"m", "Mode"},
	    {"l", "Lock"},  {"i", "Idle"},    {"r", "Reload"},  {"p", "Preset"}, {"q", "Quit"},
	};
	static const char *const attached_keys[][2] = {
	    {"F1", "Help"}, {"Spc", "Pause"}, {"+-", "Adjust"}, {"s", "Scale"},  {"m", "Mode"},
	    {"l", "Lock"},  {"r", "Reload"},  {"p", "Preset"},  {"q", "Detach"}, {"Q", "Stop"},
	};
	struct console *c = p->c;
	if (c->confirm_stop) {
		pen_put(p, 0, 0, R_WARN,
		        c->opt.attached
		            ? "Stop the instrument for everyone? y = stop, any other key = no"
		            : "Stop the instrument? y = stop, any other key = no");
		return;
	}
	if (c->status[0]) {
		pen_put(p, 0, 0, R_WARN, c->status);
		return;
	}
	if (c->have_snap && c->snap->learning > 0 && c->snap->learning <= P_COUNT) {
		pen_printf(p, 0, 0, R_WARN, "Learning %s: move a controller (Esc cancels)",
		           param_table[c->snap->learning - 1].name);
		return;
	}
	if (learned_shown(c)) {
		pen_put(p, 0, 0, R_GOOD, c->snap->learned);
		return;
	}
	if (c->lay.too_small) {
		pen_printf(p, 0, 0, R_WARN, "terminal %dx%d: the console needs 80x24", c->lay.cols,
		           c->lay.rows);
		return;
	}
	if (problem_shown(c)) { /* its reason, not only "error" in the header */
		int x = pen_put(p, 0, 0, R_NORMAL, "F1");
		x = pen_put(p, 0, x, R_HOTKEY, "Help") + 1;
		pen_printf(p, 0, x, R_WARN, "! %s", c->snap->problem);
		return;
	}
	int x = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *const *k = c->opt.attached ? attached_keys[i] : keys[i];
		x = pen_put(p, 0, x, R_NORMAL, k[0]);
		x = pen_put(p, 0, x, R_HOTKEY, k[1]) + 1;
	}
}

static void draw_box(struct pen *p, const char *title)
{
	const struct glyphs *g = p->c->g;
	char line[PANEL_LINE_MAX];
	for (int y = 0; y < p->h; y++) {
		size_t o = 0;
		const char *l = y == 0 ? g->tl : y == p->h - 1 ? g->bl : g->v;
		const char *m = y == 0 || y == p->h - 1 ? g->h : " ";
		const char *r = y == 0 ? g->tr : y == p->h - 1 ? g->br : g->v;
		for (int x = 0; x < p->wd && o + 8 < sizeof line; x++) {
			const char *s = x == 0 ? l : x == p->wd - 1 ? r : m;
			size_t k = strlen(s);
			memcpy(line + o, s, k);
			o += k;
		}
		line[o] = '\0';
		pen_put(p, y, 0, R_TITLE, line);
	}
	pen_printf(p, 0, 2, R_TITLE, " %s ", title);
}

void panel_draw_help(struct pen *p)
{
	draw_box(p, "keys");
	int y = 1;
	for (const struct fmt_help *h = fmt_help; h->keys && y < p->h - 1; h++, y++) {
		pen_printf(p, y, 2, R_NORMAL, "%-16s", h->keys);
		pen_put(p, y, 19, R_NORMAL, h->what);
	}
	if (y < p->h - 1)
		pen_put(p, y++, 2, R_DIM, "K beside a value: held by the keyboard");
	if (y < p->h - 1)
		pen_put(p, y++, 2, R_DIM, "until its control moves on the controller");
	/* The sound cards seen (when the program chose one), on the lines
	 * panel_help_lines() keeps for them, broken after the commas. */
	const struct snapshot *s = p->c->snap;
	if (!p->c->have_snap || s->audio_state == AUDIO_CARD_UNUSED)
		return;
	char line[PANEL_LINE_MAX] = "sound cards:";
	int width = p->wd - 4 < (int)sizeof line - 1 ? p->wd - 4 : (int)sizeof line - 1;
	for (const char *c = s->audio_seen; *c && y < p->h - 1;) {
		const char *comma = strstr(c, ", ");
		int n = comma ? (int)(comma - c) + 1 : (int)strnlen(c, sizeof s->audio_seen);
		int len = (int)strlen(line);
		if (len > 2 && len + 1 + n > width) {
			pen_put(p, y++, 2, R_DIM, line);
			snprintf(line, sizeof line, " ");
			len = 1;
		}
		snprintf(line + len, sizeof line - (size_t)len, " %.*s", n, c);
		c += comma ? n + 1 : n;
	}
	if (y < p->h - 1)
		pen_put(p, y, 2, R_DIM, line);
}

int panel_help_lines(void)
{
	int n = 2 + 2; /* the box, and two lines for the sound cards */
	for (const struct fmt_help *h = fmt_help; h->keys; h++)
		n++;
	return n;
}

const panel_draw_fn panel_draw[LP_COUNT] = {
    [LP_HEADER] = draw_header,       [LP_GRID] = draw_grid,     [LP_PARAMS] = draw_params,
    [LP_MUTATIONS] = draw_mutations, [LP_METERS] = draw_meters, [LP_FOOTER] = draw_footer,
};
