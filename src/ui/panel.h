/*
 * panel: the console's panels (header, step grid, parameters, mutations,
 * meters, key bar) and its help box, each drawn from the latest snapshot
 * through a pen.  A pen draws into a curses window, or only hashes what it
 * would draw, so tui.c redraws a panel only when its hash changed.  Also
 * the console's state, which tui.c owns and the panels read.  Private to
 * src/ui; the console thread only.
 */
#ifndef ME_UI_PANEL_H
#define ME_UI_PANEL_H

#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rt/snapshot.h"
#include "ui/glyphs.h"
#include "ui/layout.h"
#include "ui/tui.h"

#define PANEL_FLASH_NS (150 * NS_PER_MS) /* a fired step stays lit this long */
#define PANEL_LINE_MAX 1024              /* bytes of one drawn line */

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

	pthread_mutex_t lock; /* start-up handshake only */
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
	bool confirm_stop; /* Q was pressed: the next key answers */
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

typedef void (*panel_draw_fn)(struct pen *p);
/* The panels, by enum layout_panel. */
extern const panel_draw_fn panel_draw[LP_COUNT];
/* The help box (keys and what they do). */
void panel_draw_help(struct pen *p);
/* Lines the help box needs. */
int panel_help_lines(void);

#endif
