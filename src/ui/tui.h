/*
 * tui: the console, an ncurses instrument panel for live tuning.
 *
 * console_start() takes over the terminal on a thread of its own that draws
 * at most 30 frames a second from the engine's snapshot and turns keys into
 * commands.  It reaches the engine only through struct console_link (the
 * latest snapshot, the command ring, and three requests), so a console can
 * later attach to a running daemon with the same two messages.
 * console_start/console_stop are for the control thread; the link's
 * callbacks are called from the console thread.
 */
#ifndef ME_UI_TUI_H
#define ME_UI_TUI_H

#include <stdbool.h>

#include "core/engine.h"
#include "rt/snapshot.h"

enum console_request {
	CONSOLE_RELOAD,
	CONSOLE_SAVE_PRESET,
	CONSOLE_QUIT,
	CONSOLE_DETACH, /* attached: leave, the instrument plays on */
	CONSOLE_STOP,   /* attached: stop the instrument (confirmed) */
	CONSOLE_HANGUP, /* the terminal went away */
	CONSOLE_LEARN,  /* MIDI learn for the parameter named arg */
	CONSOLE_LEARN_CANCEL,
};

struct console_link {
	bool (*snapshot)(void *ctx, struct snapshot *out); /* latest snapshot; false if none yet */
	bool (*command)(void *ctx,
	                const struct command *c); /* push to the command ring; false if full */
	void (*request)(void *ctx, enum console_request r,
	                const char *arg); /* reload / save preset NAME / quit */
	void *ctx;
	/* Saves preset NAME: 0, or nonzero with the reason in err; the console
	 * shows either.  NULL: `p` only sends CONSOLE_SAVE_PRESET. */
	int (*save_preset)(void *ctx, const char *name, char *err, size_t errlen);
	/* A message for the key bar (the outcome of a request, a notice from
	 * the instrument); false when none.  May be NULL. */
	bool (*message)(void *ctx, char *buf, size_t n);
};

enum console_colour {
	CONSOLE_COLOUR_AUTO, /* colour when the terminal has it */
	CONSOLE_COLOUR_OFF,  /* attributes only (bold, reverse) */
};

#define CONSOLE_FPS_MAX 30

struct console_options {
	int fps;    /* frames per second, 1..30; 0 = 30 */
	bool ascii; /* force ASCII glyphs even in a UTF-8 locale */
	enum console_colour colour;
	int voices_max;          /* synth.voices, when the snapshot has none */
	const char *preset_name; /* `p` saves under it; NULL: console-YYYYmmdd-HHMMSS */
	int in_fd, out_fd;       /* the terminal; both 0 means stdin and stdout */
	bool attached;           /* q and d detach, Q stops the instrument */
};

enum console_error {
	CONSOLE_OK,
	CONSOLE_ERR_NOTTY,    /* input or output is not a terminal */
	CONSOLE_ERR_TERM,     /* curses cannot drive this terminal (TERM) */
	CONSOLE_ERR_LINK,     /* a link callback is missing */
	CONSOLE_ERR_SYSTEM,   /* out of memory, pipe or thread creation failed */
	CONSOLE_ERR_NOCURSOR, /* the terminal cannot move the cursor (TERM=dumb) */
};

const char *console_strerror(int err);
/* True when fd in and fd out are both terminals: the one check made before
 * any curses code runs. */
bool console_possible(int in_fd, int out_fd);

struct console;

/*
 * Takes over the terminal and starts the drawing thread; returns NULL and
 * sets *err (enum console_error) when it cannot.  Without a terminal it
 * fails with CONSOLE_ERR_NOTTY before any curses call.
 */
struct console *console_start(const struct console_link *link, const struct console_options *o,
                              int *err);
/* Stops the thread and restores the terminal (endwin). */
void console_stop(struct console *c);

#endif
