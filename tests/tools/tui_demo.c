/*
 * tui_demo: the console on the real engine and worker, with no sound, for
 * the console's black-box tests and the stall bench.
 *
 *   tui_demo [-o COMMANDS] [-e EVENTS] [-t TIMING] [-n STEPS] [-f FPS]
 *            [-p PRESET] [-s SEED] [-a] [-C] [-m]
 *
 * It links the console to a worker running the built-in configuration
 * exactly as the program does (snapshot = worker_snapshot, command = the
 * console's command ring) and writes every command and request the console
 * sends to COMMANDS, one line each ("nudge tempo 1 key", "request quit").
 * -e writes the engine's event log, -t the worker's wake-up lateness at exit
 * ("lateness_p50_ns=... lateness_p99_ns=... lateness_max_ns=... loops=..."),
 * -n sets the pattern length, -a forces ASCII, -C turns colour off, -m makes
 * mutations come every second.  `q` in the console (or SIGTERM) ends it with
 * status 0; without a terminal it prints why on stderr and exits 1.
 * Main thread plus the worker and the console.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/param.h"
#include "cfg/config.h"
#include "rt/evout.h"
#include "rt/hist.h"
#include "rt/worker.h"
#include "ui/tui.h"

struct demo {
	struct worker *w;
	FILE *log;
	atomic_bool quit;
};

static const char *const cmd_names[CMD_TYPE_COUNT] = {
    [CMD_SET_PARAM] = "set",
    [CMD_NUDGE_PARAM] = "nudge",
    [CMD_TOGGLE_STEP] = "toggle_step",
    [CMD_SET_STEP] = "set_step",
    [CMD_PAUSE] = "pause",
    [CMD_NEXT_SCALE] = "next_scale",
    [CMD_NEXT_MODE] = "next_mode",
    [CMD_CHAOS_TOGGLE] = "chaos_toggle",
    [CMD_IDLE_TOGGLE] = "idle_toggle",
};

static bool demo_snapshot(void *ctx, struct snapshot *out)
{
	struct demo *d = ctx;
	return worker_snapshot(d->w, out);
}

static bool demo_command(void *ctx, const struct command *c)
{
	struct demo *d = ctx;
	if (d->log) {
		const char *type = c->type < CMD_TYPE_COUNT ? cmd_names[c->type] : "unknown";
		const char *src = param_source_name((enum param_source)c->source);
		if (c->type == CMD_SET_PARAM || c->type == CMD_NUDGE_PARAM)
			fprintf(d->log, "%s %s %g %s\n", type,
			        c->param < P_COUNT ? param_table[c->param].name : "?", c->value,
			        src);
		else if (c->type == CMD_TOGGLE_STEP || c->type == CMD_SET_STEP)
			fprintf(d->log, "%s %d %s\n", type, c->step + 1, src);
		else
			fprintf(d->log, "%s %s\n", type, src);
		fflush(d->log);
	}
	return worker_command(d->w, WORKER_CMD_CONSOLE, c);
}

static void demo_request(void *ctx, enum console_request r, const char *arg)
{
	struct demo *d = ctx;
	static const char *const names[] = {"reload", "preset", "quit",  "detach",
	                                    "stop",   "hangup", "learn", "learn_cancel"};
	if (d->log) {
		fprintf(d->log, "request %s%s%s\n", names[r], arg ? " " : "", arg ? arg : "");
		fflush(d->log);
	}
	if (r == CONSOLE_QUIT || r == CONSOLE_HANGUP)
		atomic_store(&d->quit, true);
}

static void usage(void)
{
	fprintf(stderr, "usage: tui_demo [-o COMMANDS] [-e EVENTS] [-t TIMING] [-n STEPS] "
	                "[-f FPS] [-p PRESET] [-s SEED] [-a] [-C] [-m]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd_path = NULL, *events = NULL, *timing = NULL;
	struct console_options co = {0};
	struct engine_config cfg;
	uint64_t seed = 1;
	int opt;
	struct config builtin;
	struct config_errors errs = {0};
	if (config_load(&builtin, CONFIG_BUILTIN, NULL, 0, &errs) != CONFIG_OK) {
		fprintf(stderr, "tui_demo: the built-in configuration does not load\n");
		return 1;
	}
	config_errors_free(&errs);
	cfg = builtin.engine;
	while ((opt = getopt(argc, argv, "o:e:t:n:f:p:s:aCm")) != -1) {
		switch (opt) {
		case 'o':
			cmd_path = optarg;
			break;
		case 'e':
			events = optarg;
			break;
		case 't':
			timing = optarg;
			break;
		case 'n':
			cfg.steps = atoi(optarg);
			break;
		case 'f':
			co.fps = atoi(optarg);
			break;
		case 'p':
			co.preset_name = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'a':
			co.ascii = true;
			break;
		case 'C':
			co.colour = CONSOLE_COLOUR_OFF;
			break;
		case 'm':
			cfg.mutation_enabled = true;
			cfg.interval_min_s = 0.8;
			cfg.interval_max_s = 1.2;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || cfg.steps < 1 || cfg.steps > ENGINE_MAX_STEPS)
		usage();
	co.voices_max = 8;

	/* the worker's and the console's threads inherit this mask */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	struct demo d = {0};
	atomic_init(&d.quit, false);
	if (cmd_path && !(d.log = fopen(cmd_path, "w"))) {
		fprintf(stderr, "tui_demo: cannot write %s: %s\n", cmd_path, strerror(errno));
		return 1;
	}
	struct engine *e = engine_new(&cfg, seed);
	struct worker_options wo = {.lookahead_ns = 50 * NS_PER_MS};
	d.w = e ? worker_new(e, &cfg, NULL, &wo) : NULL;
	if (!d.w) {
		fprintf(stderr, "tui_demo: cannot create the engine\n");
		return 1;
	}
	engine_start(e, 0);
	struct evout *ev = NULL;
	if (events) {
		ev = evout_open(events, &cfg, worker_base(d.w));
		if (!ev) {
			fprintf(stderr, "tui_demo: cannot write %s\n", events);
			return 1;
		}
		struct worker_sink sink = evout_sink(ev);
		worker_add_sink(d.w, &sink);
	}
	if (worker_start(d.w) != 0) {
		fprintf(stderr, "tui_demo: cannot start the worker\n");
		return 1;
	}
	struct console_link link = {demo_snapshot, demo_command, demo_request, &d, NULL, NULL};
	int err;
	struct console *con = console_start(&link, &co, &err);
	int status = 0;
	if (!con) {
		fprintf(stderr, "tui_demo: console: %s\n", console_strerror(err));
		status = 1;
	}
	while (con && !atomic_load(&d.quit)) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		if (sigtimedwait(&stop, NULL, &ts) > 0)
			break;
	}
	console_stop(con);
	worker_stop(d.w);
	if (timing) {
		FILE *f = fopen(timing, "w");
		struct hist *h = worker_lateness(d.w);
		if (f) {
			fprintf(f,
			        "lateness_p50_ns=%lld lateness_p99_ns=%lld lateness_max_ns=%lld "
			        "loops=%llu\n",
			        (long long)hist_quantile(h, 0.5), (long long)hist_quantile(h, 0.99),
			        (long long)hist_quantile(h, 1.0),
			        (unsigned long long)hist_count(h));
			fclose(f);
		}
	}
	if (ev)
		evout_close(ev);
	worker_free(d.w);
	engine_free(e);
	if (d.log)
		fclose(d.log);
	return status;
}
