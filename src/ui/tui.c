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
 * The panels themselves are drawn by panel.c.  console_start/console_stop:
 * control thread; everything else: the console thread.  Only src/ui uses
 * curses.
 */
#include "ui/tui.h"

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
#include "rt/rtclock.h"
#include "ui/fmt.h"
#include "ui/glyphs.h"
#include "ui/layout.h"
#include "ui/panel.h"

#include <term.h> /* after curses.h: tigetstr() */

#define STATUS_NS (4 * NS_PER_SEC) /* a message in the key bar */

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
	c->help_win = make_window(layout_help(&c->lay, panel_help_lines(), 58));
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
		c->status_until = rtclock_mono_ns() + STATUS_NS;
	if (c->status[0] && rtclock_mono_ns() >= c->status_until)
		c->status[0] = '\0';
	int n_steps = c->have_snap ? c->snap->eng.n_steps : 8;
	if (n_steps != c->lay_steps)
		relayout(c, n_steps);
	bool changed = c->force;
	for (int i = 0; i < LP_COUNT; i++) {
		if (!c->win[i])
			continue;
		struct pen p = {c,
		                c->win[i],
		                c->lay.panel[i].h,
		                c->lay.panel[i].w,
		                false,
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
		struct rect r = layout_help(&c->lay, panel_help_lines(), 58);
		struct pen p = {c, c->help_win, r.h, r.w, true, 0};
		werase(c->help_win);
		panel_draw_help(&p);
		touchwin(c->help_win);
		wnoutrefresh(c->help_win);
	}
	if (changed)
		doupdate();
	c->force = false;
}

static void set_status(struct console *c, const char *f, ...) __attribute__((format(printf, 2, 3)));

static void vset_status(struct console *c, const char *f, va_list ap)
{
	vsnprintf(c->status, sizeof c->status, f, ap);
	c->status_until = rtclock_mono_ns() + STATUS_NS;
}

static void set_status(struct console *c, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vset_status(c, f, ap);
	va_end(ap);
}

/* Asks the program for r (arg: its argument) and says so on the status
 * line. */
static void ask(struct console *c, enum console_request r, const char *arg, const char *f, ...)
    __attribute__((format(printf, 4, 5)));

static void ask(struct console *c, enum console_request r, const char *arg, const char *f, ...)
{
	c->link.request(c->link.ctx, r, arg);
	va_list ap;
	va_start(ap, f);
	vset_status(c, f, ap);
	va_end(ap);
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
		close_help(c); /* any key closes the help */
		return;
	}
	if (key == FMT_KEY_ESC && c->have_snap && c->snap->learning > 0) {
		ask(c, CONSOLE_LEARN_CANCEL, NULL, "learning cancelled");
		return;
	}
	if (c->confirm_stop) {
		c->confirm_stop = false;
		c->force = true;
		if (key == 'y' || key == 'Y') {
			ask(c, c->opt.attached ? CONSOLE_STOP : CONSOLE_QUIT, NULL,
			    "stopping the instrument");
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
		c->selected = c->selected < 0          ? 0
		              : c->selected >= P_COUNT ? P_COUNT - 1
		                                       : c->selected;
		break;
	case FMT_ACT_COMMAND:
		if (c->have_snap &&
		    fmt_step_beyond(&a, c->snap->eng.n_steps, c->status, sizeof c->status)) {
			c->status_until = rtclock_mono_ns() + STATUS_NS;
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
		ask(c, CONSOLE_RELOAD, NULL, "reloading the configuration");
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
			} else { /* the reason, without the path before it */
				const char *why = strrchr(err, ':');
				set_status(c, "preset %s NOT saved: %s (see the log)", name,
				           why && why[1] == ' ' ? why + 2 : err);
			}
			break;
		}
		ask(c, CONSOLE_SAVE_PRESET, name, "saving preset %s", name);
		break;
	case FMT_ACT_QUIT:
		if (!c->opt.attached) {
			ask(c, CONSOLE_QUIT, NULL, "quitting");
			break;
		}
		/* an attached console's q detaches: */
		/* fall through */
	case FMT_ACT_DETACH:
		if (c->opt.attached) {
			ask(c, CONSOLE_DETACH, NULL, "detaching");
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
	    [R_NORMAL] = A_NORMAL,
	    [R_TITLE] = A_BOLD,
	    [R_DIM] = A_DIM,
	    [R_SEL] = A_REVERSE,
	    [R_PLAY] = A_BOLD | A_UNDERLINE,
	    [R_FLASH] = A_REVERSE | A_BOLD,
	    [R_KEY] = A_BOLD,
	    [R_WARN] = A_BOLD,
	    [R_GOOD] = A_NORMAL,
	    [R_HOTKEY] = A_REVERSE,
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

/* Leaves the terminal: ends curses on it (when it got that far) and closes
 * the console's own streams. */
static void close_terminal(struct console *c)
{
	if (c->screen) {
		endwin();
		delscreen(c->screen);
		c->screen = NULL;
	}
	fclose(c->in);
	fclose(c->out);
	c->in = c->out = NULL;
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
		close_terminal(c);
		return CONSOLE_ERR_TERM;
	}
	set_term(c->screen);
	/* a terminal that cannot address the cursor would get every frame as
	 * one long line: no console on it */
	const char *cup = tigetstr("cup");
	if (!cup || cup == (const char *)-1 || tigetflag("hc") > 0) {
		close_terminal(c);
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
	wnoutrefresh(c->keys); /* untouched from now on: wget_wch never repaints it */
	relayout(c, 8);
	return CONSOLE_OK;
}

static void tui_end(struct console *c)
{
	free_windows(c);
	if (c->keys)
		delwin(c->keys);
	c->keys = NULL;
	close_terminal(c);
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
	int64_t next_frame = rtclock_mono_ns();
	while (!atomic_load(&c->stop)) {
		int64_t now = rtclock_mono_ns();
		int timeout =
		    next_frame > now ? (int)((next_frame - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
		struct pollfd pf[2] = {{.fd = c->in_fd, .events = POLLIN},
		                       {.fd = c->wake[0], .events = POLLIN}};
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
		now = rtclock_mono_ns();
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

struct console *console_start(const struct console_link *link, const struct console_options *o,
                              int *err)
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
