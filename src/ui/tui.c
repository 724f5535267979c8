/*
 * tui: the console's thread: terminal set-up, drawing and keys.
 *
 * One thread owns every curses call from newterm() to endwin().  It sleeps
 * in poll() on the terminal and a wake-up pipe with the time left to the
 * next frame as timeout, reads keys without blocking, and at most fps times
 * a second copies the latest snapshot and draws.  Each panel has its own
 * window and is drawn twice over a "pen": first only hashing what it would
 * show (text, position, attribute), then, only when that hash differs from
 * the last frame's, for real; wnoutrefresh() and one doupdate() send just
 * the changed cells.  Keys become commands pushed through the link (never
 * waiting: a full ring shows a message) or requests (reload, preset, quit).
 *
 * The engine's worker never waits for this thread, so a terminal that stops
 * reading (a frozen SSH link) can block this thread in write() without
 * delaying a note.  Resizes are seen both as KEY_RESIZE (SIGWINCH is
 * unblocked here) and by asking the terminal's size every frame.
 *
 * console_start/console_stop: control thread; everything else: the console
 * thread.  The only file besides its siblings in src/ui that uses curses.
 */
#define NCURSES_WIDECHAR 1
#include "ui/tui.h"

#include <curses.h>
#include <term.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "core/param.h"
#include "core/scale.h"
#include "rt/audio_card.h"
#include "ui/fmt.h"
#include "ui/glyphs.h"
#include "ui/layout.h"

#define FLASH_NS (150 * NS_PER_MS)	/* a fired step stays lit this long */
#define STATUS_NS (4 * NS_PER_SEC)	/* a message in the key bar */
#define LINE_MAX_BYTES 1024

/* What a piece of text means; each maps to colour or to plain attributes. */
enum role {
	R_NORMAL,
	R_TITLE,
	R_DIM,
	R_SEL,
	R_PLAY,
	R_FLASH,
	R_KEY,
	R_WARN,
	R_GOOD,
	R_HOTKEY,
	R_COUNT
};

struct console {
	struct console_link link;
	struct console_options opt;
	int in_fd, out_fd;
	bool unicode;
	pthread_t thread;
	int wake[2];
	atomic_bool stop;

	pthread_mutex_t lock;	/* start-up handshake only */
	pthread_cond_t cond;
	bool ready;
	int err;

	/* console thread only */
	FILE *in, *out;
	SCREEN *screen;
	const struct glyphs *g;
	attr_t attr[R_COUNT];
	struct layout lay;
	int lay_steps;
	WINDOW *win[LP_COUNT];
	WINDOW *help_win;
	WINDOW *keys;
	uint64_t hash[LP_COUNT];
	struct snapshot *snap, *next;
	bool have_snap;
	int selected, param_first;
	bool help, force;
	bool confirm_stop;	/* Q was pressed: the next key answers */
	char status[160];
	int64_t status_until;
};

/* A pen draws into a window, or only hashes what it would draw. */
struct pen {
	struct console *c;
	WINDOW *w;
	int h, wd;
	bool draw;
	uint64_t hash;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

const char *console_strerror(int err)
{
	switch (err) {
	case CONSOLE_OK:
		return "no error";
	case CONSOLE_ERR_NOTTY:
		return "not a terminal";
	case CONSOLE_ERR_TERM:
		return "cannot drive this terminal (check TERM)";
	case CONSOLE_ERR_LINK:
		return "incomplete link to the engine";
	case CONSOLE_ERR_SYSTEM:
		return "out of system resources";
	case CONSOLE_ERR_NOCURSOR:
		return "this terminal cannot move the cursor";
	default:
		return "unknown console error";
	}
}

bool console_possible(int in_fd, int out_fd)
{
	return isatty(in_fd) && isatty(out_fd);
}

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
	wchar_t ws[LINE_MAX_BYTES];
	int n = 0, room = p->wd - x;
	mbstate_t st;
	memset(&st, 0, sizeof st);
	for (const char *q = s; *q && n < room && n < LINE_MAX_BYTES;) {
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
	char buf[LINE_MAX_BYTES];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
	return pen_put(p, y, x, r, buf);
}

static enum role link_role(int state)
{
	switch (state) {
	case SNAP_LINK_CONNECTED:
		return R_GOOD;
	case SNAP_LINK_ERROR:
	case SNAP_LINK_RECONNECTING:
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
	if (e->clock_source == CLOCK_SOURCE_MIDI)	/* the external clock and its jitter */
		x = pen_printf(p, 0, x, e->clock_following ? R_GOOD : R_WARN,
			       e->clock_following ? "midi clock %.1f +-%.2fms" : "midi clock lost",
			       e->clock_bpm, e->clock_jitter_ns / 1e6) + 2;
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
	x = pen_put(p, 1, x, link_role(s->link_midi), snap_link_name(s->link_midi)) + 2;
	x = pen_put(p, 1, x, R_DIM, "scsynth ");
	x = pen_put(p, 1, x, link_role(s->link_synth), snap_link_name(s->link_synth)) + 2;
	if (s->synth_fault_short[0])
		x = pen_printf(p, 1, x - 1, R_WARN, "(%.*s)", (int)sizeof s->synth_fault_short,
			       s->synth_fault_short) + 2;
	if (s->audio_state != AUDIO_CARD_UNUSED) {
		bool ok = s->audio_state == AUDIO_CARD_CHOSEN;
		x = pen_put(p, 1, x, R_DIM, "card ");
		x = pen_printf(p, 1, x, ok ? R_GOOD : R_WARN, "%.*s%s", (int)sizeof s->audio_card,
			       s->audio_card, ok ? "" : s->audio_state == AUDIO_CARD_NO_CARD ?
			       ": none to play on" : " missing") + 2;
	}
	x = pen_put(p, 1, x, R_DIM, "leds ");
	x = pen_put(p, 1, x, link_role(s->link_led), snap_link_name(s->link_led)) + 2;
	if (s->link_clock_in != SNAP_LINK_OFF) {
		x = pen_put(p, 1, x, R_DIM, "clock in ");
		x = pen_put(p, 1, x, link_role(s->link_clock_in),
			    snap_link_name(s->link_clock_in)) + 2;
	}
	if (s->audio_dummy)	/* JACK's dummy driver: nothing reaches a speaker */
		x = pen_put(p, 1, x, R_WARN,
			    s->recording ? "no sound card: recording" : "no sound card: --record F.wav") + 2;
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
		bool flash = e->step_fired_t[i] >= 0 && since >= 0 && since < FLASH_NS;
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
		char name[64], val[64], vfit[96], bar[LINE_MAX_BYTES / 2], line[LINE_MAX_BYTES];
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
	int xl = pen_printf(p, 3, 0, s->late_bundles ? R_WARN : R_NORMAL, "late bundles %llu of %llu",
			    (unsigned long long)s->late_bundles, (unsigned long long)s->bundles_sent);
	fmt_level(a, sizeof a, s->out_peak, s->out_meter_age_ns >= 0);
	xl = pen_printf(p, 3, xl + 2, s->synth_fault_short[0] ? R_WARN : R_NORMAL, "out %s", a);
	if (s->stalls)	/* the engine could not run for a while (see synth.late_drop_ms) */
		pen_printf(p, 3, xl + 2, R_WARN, "stalls %llu", (unsigned long long)s->stalls);
	int vmax = s->voices_max > 0 ? s->voices_max : c->opt.voices_max;
	int x = pen_printf(p, 4, 0, vmax > 0 && s->voices_active >= vmax ? R_WARN : R_NORMAL,
			   "voices %d/%d", s->voices_active, vmax);
	if (vmax > 0 && p->wd - x > 8) {
		char bar[LINE_MAX_BYTES / 2];
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

#define PROBLEM_NS (30 * NS_PER_SEC)	/* a warning stays in the key bar this long */

/* The last problem logged is shown while a link is failing, and an error
 * for a while after it was logged. */
static bool problem_shown(const struct console *c)
{
	const struct snapshot *s = c->snap;
	if (!c->have_snap || !s->problem[0] || s->problem_at_ns <= 0)
		return false;
	uint8_t links[3] = {s->link_midi, s->link_synth, s->link_led};
	for (int i = 0; i < 3; i++)
		if (links[i] == SNAP_LINK_ERROR || links[i] == SNAP_LINK_RECONNECTING)
			return true;
	if (!s->problem_error)
		return false;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
	return now - s->problem_at_ns < PROBLEM_NS;
}

#define LEARNED_NS (10 * NS_PER_SEC)	/* what a MIDI learn did stays this long */

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static bool learned_shown(const struct console *c)
{
	const struct snapshot *s = c->snap;
	return c->have_snap && s->learned[0] && s->learned_at_ns > 0 &&
	       real_ns() - s->learned_at_ns < LEARNED_NS;
}

static void draw_footer(struct pen *p)
{
	static const char *const keys[][2] = {
	    {"F1", "Help"}, {"Spc", "Pause"}, {"+-", "Adjust"}, {"s", "Scale"},
	    {"m", "Mode"}, {"l", "Lock"}, {"i", "Idle"}, {"r", "Reload"},
	    {"p", "Preset"}, {"q", "Quit"},
	};
	static const char *const attached_keys[][2] = {
	    {"F1", "Help"}, {"Spc", "Pause"}, {"+-", "Adjust"}, {"s", "Scale"},
	    {"m", "Mode"}, {"l", "Lock"}, {"r", "Reload"}, {"p", "Preset"},
	    {"q", "Detach"}, {"Q", "Stop"},
	};
	struct console *c = p->c;
	if (c->confirm_stop) {
		pen_put(p, 0, 0, R_WARN,
			c->opt.attached ? "Stop the instrument for everyone? y = stop, any other key = no"
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
		pen_printf(p, 0, 0, R_WARN, "terminal %dx%d: the console needs 80x24",
			   c->lay.cols, c->lay.rows);
		return;
	}
	if (problem_shown(c)) {	/* its reason, not only "error" in the header */
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
	char line[LINE_MAX_BYTES];
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

static void draw_help(struct pen *p)
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
	 * help_lines() keeps for them, broken after the commas. */
	const struct snapshot *s = p->c->snap;
	if (!p->c->have_snap || s->audio_state == AUDIO_CARD_UNUSED)
		return;
	char line[LINE_MAX_BYTES] = "sound cards:";
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

static int help_lines(void)
{
	int n = 2 + 2;	/* the box, and two lines for the sound cards */
	for (const struct fmt_help *h = fmt_help; h->keys; h++)
		n++;
	return n;
}

typedef void (*draw_fn)(struct pen *p);
static const draw_fn panel_draw[LP_COUNT] = {
	[LP_HEADER] = draw_header, [LP_GRID] = draw_grid, [LP_PARAMS] = draw_params,
	[LP_MUTATIONS] = draw_mutations, [LP_METERS] = draw_meters, [LP_FOOTER] = draw_footer,
};

static void free_windows(struct console *c)
{
	for (int i = 0; i < LP_COUNT; i++) {
		if (c->win[i])
			delwin(c->win[i]);
		c->win[i] = NULL;
	}
	if (c->help_win)
		delwin(c->help_win);
	c->help_win = NULL;
}

static WINDOW *make_window(struct rect r)
{
	if (r.h <= 0 || r.w <= 0)
		return NULL;
	WINDOW *w = newwin(r.h, r.w, r.y, r.x);
	if (w)
		leaveok(w, TRUE);
	return w;
}

/* Lays the screen out anew for its size and the pattern length. */
static void relayout(struct console *c, int n_steps)
{
	free_windows(c);
	layout_compute(&c->lay, COLS, LINES, n_steps);
	c->lay_steps = n_steps;
	/* cells no panel covers (the gap between columns) must not keep old text */
	werase(stdscr);
	wnoutrefresh(stdscr);
	for (int i = 0; i < LP_COUNT; i++)
		c->win[i] = make_window(c->lay.panel[i]);
	c->help_win = make_window(layout_help(&c->lay, help_lines(), 58));
	clearok(curscr, TRUE);
	c->force = true;
}

static void frame(struct console *c)
{
	if (c->link.snapshot(c->link.ctx, c->next)) {
		struct snapshot *t = c->snap;
		c->snap = c->next;
		c->next = t;
		c->have_snap = true;
	}
	if (c->link.message && c->link.message(c->link.ctx, c->status, sizeof c->status))
		c->status_until = mono_ns() + STATUS_NS;
	if (c->status[0] && mono_ns() >= c->status_until)
		c->status[0] = '\0';
	int n_steps = c->have_snap ? c->snap->eng.n_steps : 8;
	if (n_steps != c->lay_steps)
		relayout(c, n_steps);
	bool changed = c->force;
	for (int i = 0; i < LP_COUNT; i++) {
		if (!c->win[i])
			continue;
		struct pen p = {c, c->win[i], c->lay.panel[i].h, c->lay.panel[i].w, false,
				UINT64_C(14695981039346656037)};
		panel_draw[i](&p);
		if (!c->force && p.hash == c->hash[i])
			continue;
		c->hash[i] = p.hash;
		p.draw = true;
		werase(p.w);
		panel_draw[i](&p);
		wnoutrefresh(p.w);
		changed = true;
	}
	if (c->help && c->help_win && changed) {
		struct rect r = layout_help(&c->lay, help_lines(), 58);
		struct pen p = {c, c->help_win, r.h, r.w, true, 0};
		werase(c->help_win);
		draw_help(&p);
		touchwin(c->help_win);
		wnoutrefresh(c->help_win);
	}
	if (changed)
		doupdate();
	c->force = false;
}

static void set_status(struct console *c, const char *f, ...) __attribute__((format(printf, 2, 3)));

static void set_status(struct console *c, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(c->status, sizeof c->status, f, ap);
	va_end(ap);
	c->status_until = mono_ns() + STATUS_NS;
}

/* Closes the help overlay: cells no panel covers are cleared too, so
 * nothing of it stays behind. */
static void close_help(struct console *c)
{
	c->help = false;
	werase(stdscr);
	wnoutrefresh(stdscr);
	c->force = true;
}

static void on_key(struct console *c, int key)
{
	if (c->help) {
		close_help(c);	/* any key closes the help */
		return;
	}
	if (key == FMT_KEY_ESC && c->have_snap && c->snap->learning > 0) {
		c->link.request(c->link.ctx, CONSOLE_LEARN_CANCEL, NULL);
		set_status(c, "learning cancelled");
		return;
	}
	if (c->confirm_stop) {
		c->confirm_stop = false;
		c->force = true;
		if (key == 'y' || key == 'Y') {
			c->link.request(c->link.ctx, c->opt.attached ? CONSOLE_STOP : CONSOLE_QUIT, NULL);
			set_status(c, "stopping the instrument");
		} else {
			set_status(c, "not stopped");
		}
		return;
	}
	struct fmt_action a = fmt_key_action(key, c->selected);
	char name[64];
	switch (a.act) {
	case FMT_ACT_NONE:
		break;
	case FMT_ACT_SELECT:
		c->selected += a.delta;
		c->selected = c->selected < 0 ? 0 : c->selected >= P_COUNT ? P_COUNT - 1 : c->selected;
		break;
	case FMT_ACT_COMMAND:
		if (c->have_snap &&
		    fmt_step_beyond(&a, c->snap->eng.n_steps, c->status, sizeof c->status)) {
			c->status_until = mono_ns() + STATUS_NS;
			break;
		}
		if (!c->link.command(c->link.ctx, &a.cmd))
			set_status(c, "command queue full: key not sent");
		break;
	case FMT_ACT_HELP:
		c->help = true;
		c->force = true;
		break;
	case FMT_ACT_RELOAD:
		c->link.request(c->link.ctx, CONSOLE_RELOAD, NULL);
		set_status(c, "reloading the configuration");
		break;
	case FMT_ACT_PRESET:
		if (c->opt.preset_name && *c->opt.preset_name) {
			snprintf(name, sizeof name, "%s", c->opt.preset_name);
		} else {
			time_t now = time(NULL);
			struct tm tm;
			localtime_r(&now, &tm);
			fmt_preset_name(name, sizeof name, &tm);
		}
		if (c->link.save_preset) {
			char err[512];
			if (c->link.save_preset(c->link.ctx, name, err, sizeof err) == 0) {
				set_status(c, "preset %s saved", name);
			} else {	/* the reason, without the path before it */
				const char *why = strrchr(err, ':');
				set_status(c, "preset %s NOT saved: %s (see the log)", name,
					   why && why[1] == ' ' ? why + 2 : err);
			}
			break;
		}
		c->link.request(c->link.ctx, CONSOLE_SAVE_PRESET, name);
		set_status(c, "saving preset %s", name);
		break;
	case FMT_ACT_QUIT:
		if (!c->opt.attached) {
			c->link.request(c->link.ctx, CONSOLE_QUIT, NULL);
			set_status(c, "quitting");
			break;
		}
		/* an attached console's q detaches: */
		/* fall through */
	case FMT_ACT_DETACH:
		if (c->opt.attached) {
			c->link.request(c->link.ctx, CONSOLE_DETACH, NULL);
			set_status(c, "detaching");
		} else {
			set_status(c, "this console runs the instrument: q stops it (see attach)");
		}
		break;
	case FMT_ACT_STOP:
		c->confirm_stop = true;
		c->force = true;
		break;
	case FMT_ACT_LEARN:
		c->link.request(c->link.ctx, CONSOLE_LEARN, param_table[c->selected].name);
		break;
	case FMT_ACT_REDRAW:
		clearok(curscr, TRUE);
		c->force = true;
		break;
	}
}

static int map_key(wint_t wch, int kind)
{
	if (kind == KEY_CODE_YES) {
		switch (wch) {
		case KEY_UP:
			return FMT_KEY_UP;
		case KEY_DOWN:
			return FMT_KEY_DOWN;
		case KEY_LEFT:
			return FMT_KEY_LEFT;
		case KEY_RIGHT:
			return FMT_KEY_RIGHT;
		case KEY_PPAGE:
			return FMT_KEY_PGUP;
		case KEY_NPAGE:
			return FMT_KEY_PGDN;
		case KEY_F(1):
			return FMT_KEY_F1;
		default:
			return -1;
		}
	}
	return wch == 27 ? FMT_KEY_ESC : (int)wch;
}

/* Follows the terminal's size, whether or not SIGWINCH reached us. */
static void check_size(struct console *c)
{
	struct winsize ws;
	if (ioctl(c->out_fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0)
		return;
	if (ws.ws_row != LINES || ws.ws_col != COLS)
		resizeterm(ws.ws_row, ws.ws_col);
	if (c->lay.rows != LINES || c->lay.cols != COLS)
		relayout(c, c->lay_steps);
}

static void read_keys(struct console *c)
{
	wint_t wch;
	int kind;
	while ((kind = wget_wch(c->keys, &wch)) != ERR) {
		if (kind == KEY_CODE_YES && wch == KEY_RESIZE) {
			check_size(c);
			continue;
		}
		int key = map_key(wch, kind);
		if (key >= 0)
			on_key(c, key);
	}
}

static void init_attrs(struct console *c)
{
	static const attr_t mono[R_COUNT] = {
		[R_NORMAL] = A_NORMAL, [R_TITLE] = A_BOLD, [R_DIM] = A_DIM,
		[R_SEL] = A_REVERSE, [R_PLAY] = A_BOLD | A_UNDERLINE,
		[R_FLASH] = A_REVERSE | A_BOLD, [R_KEY] = A_BOLD, [R_WARN] = A_BOLD,
		[R_GOOD] = A_NORMAL, [R_HOTKEY] = A_REVERSE,
	};
	memcpy(c->attr, mono, sizeof mono);
	const char *no_colour = getenv("NO_COLOR");
	if (c->opt.colour == CONSOLE_COLOUR_OFF || (no_colour && *no_colour) || !has_colors())
		return;
	if (start_color() != OK || COLORS < 8 || COLOR_PAIRS < 8)
		return;
	short bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
	init_pair(1, COLOR_CYAN, bg);
	init_pair(2, COLOR_GREEN, bg);
	init_pair(3, COLOR_YELLOW, bg);
	init_pair(4, COLOR_RED, bg);
	init_pair(5, COLOR_BLACK, COLOR_YELLOW);
	init_pair(6, COLOR_BLACK, COLOR_CYAN);
	c->attr[R_TITLE] = A_BOLD | COLOR_PAIR(1);
	c->attr[R_GOOD] = COLOR_PAIR(2);
	c->attr[R_KEY] = A_BOLD | COLOR_PAIR(3);
	c->attr[R_PLAY] = A_BOLD | COLOR_PAIR(3);
	c->attr[R_WARN] = A_BOLD | COLOR_PAIR(4);
	c->attr[R_FLASH] = A_BOLD | COLOR_PAIR(5);
	c->attr[R_HOTKEY] = COLOR_PAIR(6);
}

static int tui_init(struct console *c)
{
	int in = dup(c->in_fd), out = dup(c->out_fd);
	if (in >= 0)
		c->in = fdopen(in, "r");
	if (out >= 0)
		c->out = fdopen(out, "w");
	if (!c->in || !c->out) {
		if (c->in)
			fclose(c->in);
		else if (in >= 0)
			close(in);
		if (c->out)
			fclose(c->out);
		else if (out >= 0)
			close(out);
		c->in = c->out = NULL;
		return CONSOLE_ERR_SYSTEM;
	}
	c->screen = newterm(NULL, c->out, c->in);
	if (!c->screen) {
		fclose(c->in);
		fclose(c->out);
		c->in = c->out = NULL;
		return CONSOLE_ERR_TERM;
	}
	set_term(c->screen);
	/* a terminal that cannot address the cursor would get every frame as
	 * one long line: no console on it */
	const char *cup = tigetstr("cup");
	if (!cup || cup == (const char *)-1 || tigetflag("hc") > 0) {
		endwin();
		delscreen(c->screen);
		c->screen = NULL;
		fclose(c->in);
		fclose(c->out);
		c->in = c->out = NULL;
		return CONSOLE_ERR_NOCURSOR;
	}
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	curs_set(0);
	init_attrs(c);
	c->keys = newwin(1, 1, 0, 0);
	keypad(c->keys, TRUE);
	nodelay(c->keys, TRUE);
	wnoutrefresh(c->keys);	/* untouched from now on: wget_wch never repaints it */
	relayout(c, 8);
	return CONSOLE_OK;
}

static void tui_end(struct console *c)
{
	free_windows(c);
	if (c->keys)
		delwin(c->keys);
	c->keys = NULL;
	endwin();
	delscreen(c->screen);
	c->screen = NULL;
	fclose(c->in);
	fclose(c->out);
	c->in = c->out = NULL;
}

static void ready(struct console *c, int err)
{
	pthread_mutex_lock(&c->lock);
	c->err = err;
	c->ready = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void *console_main(void *arg)
{
	struct console *c = arg;
	sigset_t winch;
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	pthread_sigmask(SIG_UNBLOCK, &winch, NULL);
	pthread_setname_np(pthread_self(), "console");

	int err = tui_init(c);
	ready(c, err);
	if (err != CONSOLE_OK)
		return NULL;
	int fps = c->opt.fps;
	int64_t period = NS_PER_SEC / fps;
	int64_t next_frame = mono_ns();
	while (!atomic_load(&c->stop)) {
		int64_t now = mono_ns();
		int timeout = next_frame > now ? (int)((next_frame - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
		struct pollfd pf[2] = {{.fd = c->in_fd, .events = POLLIN}, {.fd = c->wake[0], .events = POLLIN}};
		if (poll(pf, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pf[1].revents) {
			char buf[16];
			while (read(c->wake[0], buf, sizeof buf) > 0)
				;
		}
		if (atomic_load(&c->stop))
			break;
		if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* the terminal went away: nothing left to draw on */
			c->link.request(c->link.ctx, CONSOLE_HANGUP, NULL);
			while (!atomic_load(&c->stop))
				poll(&pf[1], 1, 1000);
			break;
		}
		read_keys(c);
		now = mono_ns();
		if (now >= next_frame) {
			check_size(c);
			frame(c);
			next_frame += period;
			if (next_frame < now)
				next_frame = now + period;
		}
	}
	tui_end(c);
	return NULL;
}

static void console_free(struct console *c)
{
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c->snap);
	free(c->next);
	free(c);
}

struct console *console_start(const struct console_link *link,
			      const struct console_options *o, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	struct console_options opt = {0};
	if (o)
		opt = *o;
	int in_fd = opt.in_fd, out_fd = opt.out_fd > 0 ? opt.out_fd : STDOUT_FILENO;
	if (!console_possible(in_fd, out_fd)) {
		*err = CONSOLE_ERR_NOTTY;
		return NULL;
	}
	if (!link || !link->snapshot || !link->command || !link->request) {
		*err = CONSOLE_ERR_LINK;
		return NULL;
	}
	if (opt.fps <= 0 || opt.fps > CONSOLE_FPS_MAX)
		opt.fps = CONSOLE_FPS_MAX;
	struct console *c = calloc(1, sizeof *c);
	if (!c) {
		*err = CONSOLE_ERR_SYSTEM;
		return NULL;
	}
	c->link = *link;
	c->opt = opt;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->wake[0] = c->wake[1] = -1;
	atomic_init(&c->stop, false);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->snap = calloc(1, sizeof *c->snap);
	c->next = calloc(1, sizeof *c->next);
	if (!c->snap || !c->next || pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		console_free(c);
		*err = CONSOLE_ERR_SYSTEM;
		return NULL;
	}
	/* the character type only: numbers elsewhere keep the C locale */
	setlocale(LC_CTYPE, "");
	c->unicode = !opt.ascii && glyphs_codeset_is_utf8(nl_langinfo(CODESET));
	c->g = glyphs_get(c->unicode);
	if (pthread_create(&c->thread, NULL, console_main, c) != 0) {
		console_free(c);
		*err = CONSOLE_ERR_SYSTEM;
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	while (!c->ready)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	if (c->err != CONSOLE_OK) {
		*err = c->err;
		pthread_join(c->thread, NULL);
		console_free(c);
		return NULL;
	}
	*err = CONSOLE_OK;
	return c;
}

void console_stop(struct console *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, true);
	ssize_t rc = write(c->wake[1], "x", 1);
	(void)rc;
	pthread_join(c->thread, NULL);
	console_free(c);
}
