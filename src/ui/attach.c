/*
 * attach: the console over the control socket (see attach.h).
 *
 * The main thread connects, starts the console (src/ui/tui.c) with a
 * console_link whose callbacks talk to a ctl_client, then waits for a
 * signal or for the console to end the session.  Only the console's thread
 * uses the client once the console runs: each frame it drains what has
 * arrived and draws the newest snapshot, so a console that was stopped
 * (SIGSTOP, a frozen SSH link) shows the present as soon as it runs again.
 * The session's outcome is one atomic the main thread polls.
 */
#include "ui/attach.h"

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/param.h"
#include "ops/ctl_client.h"
#include "ui/ctl_cmd.h"
#include "ui/tui.h"

enum attach_end {
	ATTACH_ON,       /* still attached */
	ATTACH_DETACHED, /* q or d */
	ATTACH_STOPPED,  /* Q, confirmed */
	ATTACH_HANGUP,   /* the terminal went away */
	ATTACH_GONE,     /* the instrument went away */
};

struct attach {
	struct ctl_client *cl;
	atomic_int end;    /* enum attach_end */
	char message[160]; /* for the key bar, console thread only */
};

static bool link_snapshot(void *ctx, struct snapshot *out)
{
	struct attach *a = ctx;
	if (!ctl_client_poll(a->cl, 0) || ctl_client_gone(a->cl)) {
		int on = ATTACH_ON;
		atomic_compare_exchange_strong(&a->end, &on, ATTACH_GONE);
	}
	return ctl_client_snapshot(a->cl, out, false);
}

static bool link_command(void *ctx, const struct command *c)
{
	struct attach *a = ctx;
	return ctl_client_command(a->cl, c);
}

static void ask(struct attach *a, enum ctl_req req, const char *name, int timeout_ms)
{
	struct ctl_request q;
	struct ctl_reply rep;
	memset(&q, 0, sizeof q);
	q.req = req;
	if (name)
		snprintf(q.name, sizeof q.name, "%s", name);
	ctl_client_request(a->cl, &q, &rep, timeout_ms);
	snprintf(a->message, sizeof a->message, "%.*s", (int)sizeof a->message - 1, rep.text);
}

static void link_request(void *ctx, enum console_request r, const char *arg)
{
	struct attach *a = ctx;
	int on = ATTACH_ON;
	switch (r) {
	case CONSOLE_RELOAD:
		ask(a, CTL_REQ_RELOAD, NULL, 15000);
		break;
	case CONSOLE_SAVE_PRESET:
		ask(a, CTL_REQ_PRESET_SAVE, arg, 15000);
		break;
	case CONSOLE_QUIT:
	case CONSOLE_DETACH:
		atomic_compare_exchange_strong(&a->end, &on, ATTACH_DETACHED);
		break;
	case CONSOLE_STOP:
		ask(a, CTL_REQ_STOP, NULL, 3000);
		atomic_compare_exchange_strong(&a->end, &on, ATTACH_STOPPED);
		break;
	case CONSOLE_HANGUP:
		atomic_compare_exchange_strong(&a->end, &on, ATTACH_HANGUP);
		break;
	case CONSOLE_LEARN:
	case CONSOLE_LEARN_CANCEL: {
		struct ctl_request q;
		struct ctl_reply rep;
		memset(&q, 0, sizeof q);
		q.req = r == CONSOLE_LEARN ? CTL_REQ_LEARN : CTL_REQ_LEARN_CANCEL;
		q.param = arg && param_find(arg) >= 0 ? (uint32_t)param_find(arg) : 0;
		if (ctl_client_request(a->cl, &q, &rep, 3000) != CTL_OK)
			snprintf(a->message, sizeof a->message, "%.*s", (int)sizeof a->message - 1,
			         rep.text);
		break;
	}
	}
}

static int link_save_preset(void *ctx, const char *name, char *err, size_t errlen)
{
	struct attach *a = ctx;
	struct ctl_request q;
	struct ctl_reply rep;
	memset(&q, 0, sizeof q);
	q.req = CTL_REQ_PRESET_SAVE;
	snprintf(q.name, sizeof q.name, "%s", name);
	int rc = ctl_client_request(a->cl, &q, &rep, 15000);
	if (rc != CTL_OK)
		snprintf(err, errlen, "%s", rep.text);
	return rc;
}

static bool link_message(void *ctx, char *buf, size_t n)
{
	struct attach *a = ctx;
	if (a->message[0]) {
		snprintf(buf, n, "%s", a->message);
		a->message[0] = '\0';
		return true;
	}
	return ctl_client_notice(a->cl, buf, n);
}

/* Runs the console on the instance at path until it ends; exit status. */
static int attach_path(const char *path)
{
	struct attach a = {0};
	atomic_init(&a.end, ATTACH_ON);
	int status;
	char why[1024];
	a.cl = ctl_client_connect(path, true, CONSOLE_FPS_MAX, &status, why, sizeof why);
	if (!a.cl) {
		fprintf(stderr, "mystery-engine attach: %s\n", why);
		return status;
	}
	if (!console_possible(STDIN_FILENO, STDOUT_FILENO)) {
		ctl_client_close(a.cl);
		fprintf(stderr, "mystery-engine attach: not a terminal (use mystery-engine ctl for "
		                "scripts)\n");
		return CTL_FAILED;
	}
	int pid = ctl_client_welcome(a.cl)->pid;

	/* signals: taken here; SIGWINCH is the console thread's */
	sigset_t sigs, prev, block;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGPIPE);
	block = sigs;
	sigaddset(&block, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &block, &prev);

	struct console_link link = {.snapshot = link_snapshot,
	                            .command = link_command,
	                            .request = link_request,
	                            .ctx = &a,
	                            .save_preset = link_save_preset,
	                            .message = link_message};
	struct console_options o = {.attached = true};
	int err = 0;
	struct console *con = console_start(&link, &o, &err);
	if (!con) {
		ctl_client_close(a.cl);
		pthread_sigmask(SIG_SETMASK, &prev, NULL);
		fprintf(stderr,
		        "mystery-engine attach: no console: %s (TERM=%s); use mystery-engine "
		        "ctl instead\n",
		        console_strerror(err), getenv("TERM") ? getenv("TERM") : "");
		return CTL_FAILED;
	}
	int sig = 0;
	while (atomic_load(&a.end) == ATTACH_ON) {
		struct timespec tick = {0, 50 * 1000000};
		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
			break;
	}
	console_stop(con);
	ctl_client_close(a.cl);
	struct timespec zero = {0, 0};
	while (sigtimedwait(&sigs, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	switch (atomic_load(&a.end)) {
	case ATTACH_STOPPED:
		fprintf(stderr, "mystery-engine (pid %d) is stopping\n", pid);
		return CTL_OK;
	case ATTACH_GONE:
		fprintf(stderr, "mystery-engine attach: the instrument (pid %d) went away\n", pid);
		return CTL_UNAVAILABLE;
	case ATTACH_HANGUP:
		return CTL_OK; /* nobody is left to read a line */
	default:
		fprintf(stderr, "detached from mystery-engine (pid %d)%s: it keeps playing\n", pid,
		        sig == SIGHUP    ? " on SIGHUP"
		        : sig == SIGINT  ? " on SIGINT"
		        : sig == SIGTERM ? " on SIGTERM"
		                         : "");
		return CTL_OK;
	}
}

int attach_main(const struct config *cfg, const struct cli_options *opts)
{
	char path[CTL_PATH_MAX];
	int rc = ctl_cmd_locate(cfg, opts, "attach", path, sizeof path);
	return rc ? rc : attach_path(path);
}

/* The same configuration: the same name, or the same file by another path. */
static bool same_file(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return true;
	char ra[PATH_MAX], rb[PATH_MAX];
	return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

bool attach_if_running(const struct config *cfg, const struct cli_options *opts, int *rc)
{
	if (opts->daemon || !console_possible(STDIN_FILENO, STDOUT_FILENO))
		return false;
	char paths[8][CTL_PATH_MAX];
	const char *named = opts->socket ? opts->socket : cfg->control.socket;
	int n;
	if (named[0]) { /* a socket named: only that one is ours */
		snprintf(paths[0], sizeof paths[0], "%.*s", CTL_PATH_MAX - 1, named);
		n = 1;
	} else {
		n = ctl_client_find(NULL, paths, 8, NULL, 0);
	}
	for (int i = 0; i < n; i++) {
		int status;
		char why[1024];
		struct ctl_client *c =
		    ctl_client_connect(paths[i], false, 0, &status, why, sizeof why);
		if (!c)
			continue;
		const struct ctl_welcome *w = ctl_client_welcome(c);
		bool same = named[0] || same_file(w->config, cfg->source);
		int pid = w->pid;
		char config[sizeof w->config];
		snprintf(config, sizeof config, "%s", w->config);
		ctl_client_close(c);
		if (!same)
			continue;
		fprintf(stderr,
		        "mystery-engine is already running (pid %d, configuration %s, "
		        "socket %s): attaching; q detaches and leaves it playing\n",
		        pid, config, paths[i]);
		*rc = attach_path(paths[i]);
		return true;
	}
	return false;
}
