/*
 * fmt: what the console shows and what its keys mean, as pure functions.
 *
 * Every number, name and bar the panels draw is formatted here into plain
 * UTF-8 strings, and every key is mapped here to an action, so both are
 * unit-tested without a terminal.  No curses: any thread.
 */
#ifndef ME_UI_FMT_H
#define ME_UI_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/engine.h"
#include "rt/snapshot.h"
#include "ui/glyphs.h"

/* Columns a UTF-8 string takes (one per code point; the console's glyphs
 * and names are all one column wide). */
int fmt_width(const char *s);
/* Copies s into buf cut or padded with spaces to exactly w columns. */
void fmt_fit(char *buf, size_t n, const char *s, int w);

/* A parameter's value as a number only ("112.4", "2400", "0.30", "8"). */
void fmt_number(char *buf, size_t n, int param, double v);
/* A parameter's value with its unit ("112.4 BPM", "8 steps", "5.0%"); the
 * selectors name their choice from the snapshot ("1 minor"); s may be NULL. */
void fmt_param_value(char *buf, size_t n, int param, double v, const struct snapshot *s);
/* A bar of exactly w columns filled to unit (0..1) between brackets. */
void fmt_bar(char *buf, size_t n, double unit, int w, const struct glyphs *g);
/* A duration: "850us", "1.24ms", "12.5ms", "1.50s". */
void fmt_duration(char *buf, size_t n, int64_t ns);
/* A time since start: "mm:ss", or "h:mm:ss" from an hour on. */
void fmt_clock(char *buf, size_t n, int64_t ns);
/* The tempo with its drift: "110.0 BPM", or "112.4 BPM (drift +2.2%)". */
void fmt_tempo(char *buf, size_t n, double base_bpm, double now_bpm);
/* A gate probability: "85%". */
void fmt_gate(char *buf, size_t n, double prob);
/* A note spelled for the key of a scale on a root: "E♭4" in C minor ("Eb4" in ASCII). */
void fmt_note(char *buf, size_t n, int scale, int root, int pitch, const struct glyphs *g);
/* A fraction as a percentage with one decimal: "3.1%". */
void fmt_percent(char *buf, size_t n, double frac);
/* An output level (full scale 1) in dBFS: "-14dB", "-inf" for silence, "--" when not measured. */
void fmt_level(char *buf, size_t n, double peak, bool measured);
/* A mutation log line: "12:31 filter_cutoff 2400 -> 2650". */
void fmt_mutation(char *buf, size_t n, const struct snap_mutation *m);
/* "PAUSED", "IDLE" or "PLAYING". */
const char *fmt_run_state(const struct engine_state *st);
/* The default preset name for a local time: "console-YYYYmmdd-HHMMSS". */
void fmt_preset_name(char *buf, size_t n, const struct tm *tm);

/* Keys that are not characters (the console maps curses codes to these). */
enum fmt_key {
	FMT_KEY_UP = 0x110000,
	FMT_KEY_DOWN,
	FMT_KEY_LEFT,
	FMT_KEY_RIGHT,
	FMT_KEY_PGUP,
	FMT_KEY_PGDN,
	FMT_KEY_F1,
	FMT_KEY_ESC,
};

enum fmt_act {
	FMT_ACT_NONE,
	FMT_ACT_SELECT,  /* move the selection by delta */
	FMT_ACT_COMMAND, /* send cmd to the engine */
	FMT_ACT_HELP,    /* open or close the help overlay */
	FMT_ACT_RELOAD,
	FMT_ACT_PRESET,
	FMT_ACT_QUIT,
	FMT_ACT_REDRAW, /* repaint the whole screen (Ctrl-L) */
	FMT_ACT_DETACH, /* leave an attached console */
	FMT_ACT_STOP,   /* stop the instrument (asks first) */
	FMT_ACT_LEARN,  /* MIDI learn for the selected parameter */
};

struct fmt_action {
	enum fmt_act act;
	int delta;
	struct command cmd; /* source SRC_KEY */
};

#define FMT_FINE_STEPS 1
#define FMT_COARSE_STEPS 10

/* What a key does with parameter `selected` selected. */
struct fmt_action fmt_key_action(int key, int selected);
/*
 * True when a's command edits a step past the pattern's n_steps: buf then
 * says so ("step 9 is past the pattern's 8 steps: not changed") and the
 * console sends nothing.
 */
bool fmt_step_beyond(const struct fmt_action *a, int n_steps, char *buf, size_t n);

struct fmt_help {
	const char *keys, *what;
};
/* The key list the help overlay shows, ending with a {NULL, NULL} row. */
extern const struct fmt_help fmt_help[];

#endif
