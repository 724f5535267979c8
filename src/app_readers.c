/*
 * app_readers: the console, the HTTP API and the OSC control surface as the
 * running program wires them, and the presets they load and save (see
 * app_impl.h).  They read the worker's snapshot and push commands through
 * its rings, never the main thread's configuration: a preset goes where the
 * snapshot says presets live.  Reload and quit from the console go through
 * the main thread's signal loop, like SIGHUP and SIGTERM.  Each callback
 * runs on its reader's thread (console, HTTP, the HTTP preset thread, the
 * OSC surface); the start functions on the main thread.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_impl.h"
#include "dev/devspec.h"
#include "core/param.h"
#include "ops/ctl_server.h"
#include "ops/http.h"
#include "ops/osc_ctl.h"
#include "rt/log.h"
#include "ops/preset.h"
#include "rt/worker.h"
#include "ui/tui.h"

char *app_preset_dir(const struct config *cfg, char *buf, size_t n)
{
	char state[CONFIG_STR_MAX];
	config_state_dir(cfg, state, sizeof state);
	snprintf(buf, n, "%.*s/presets", (int)(n > 9 ? n - 9 : 0), state);
	return buf;
}

/* Loads preset name from dir and hands it to the worker as commands from
 * producer via (the caller must be that producer's thread); 0 or a
 * preset_err with err. */
static int load_preset_from(struct app *a, const char *dir, const char *name,
                            enum worker_producer via, char *err, size_t errlen)
{
	struct preset *p = calloc(1, sizeof *p);
	struct command cmds[ENGINE_MAX_STEPS + P_COUNT + 4];
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return PRESET_ERR_NOMEM;
	}
	int rc = preset_load(dir, name, p, err, errlen);
	if (rc != 0) {
		log_error("preset", "preset %s not applied: %s", name, err);
		free(p);
		return rc;
	}
	size_t n = preset_commands(p, cmds, sizeof cmds / sizeof cmds[0]);
	size_t sent = 0;
	for (size_t i = 0; i < n; i++)
		sent += worker_command(a->worker, via, &cmds[i]);
	free(p);
	if (sent != n) {
		snprintf(err, errlen, "%zu of %zu commands did not fit the engine's queue",
		         n - sent, n);
		log_error("preset", "preset %s: %s", name, err);
		return PRESET_ERR_IO;
	}
	log_info("preset", "preset %s loaded (%zu commands)", name, n);
	return 0;
}

/* Main thread, before the worker starts: the preset asked for on the
 * command line. */
int app_load_first_preset(struct app *a, const char *name)
{
	char err[512], dir[SNAP_PATH_MAX];
	app_preset_dir(a->cfg, dir, sizeof dir);
	return load_preset_from(a, dir, name, WORKER_CMD_CONTROL, err, sizeof err) == 0 ? 0 : -1;
}

/* A reader's thread (HTTP): loads a preset from the directory the running
 * configuration names, as the snapshot tells; 0 or a preset_err with err. */
static int load_preset(struct app *a, const char *name, enum worker_producer via, char *err,
                       size_t errlen)
{
	struct snapshot *s = malloc(sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return PRESET_ERR_NOMEM;
	}
	int rc = PRESET_ERR_IO;
	if (!worker_snapshot(a->worker, s))
		snprintf(err, errlen, "the engine has not started");
	else
		rc = load_preset_from(a, s->preset_dir, name, via, err, errlen);
	free(s);
	return rc;
}

/* A reader's thread (console, HTTP): saves the engine's state as a preset
 * in the directory of the same snapshot; 0 or a preset_err with err. */
static int save_preset(struct app *a, const char *name, char *err, size_t errlen)
{
	struct snapshot *s = malloc(sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return PRESET_ERR_NOMEM;
	}
	const char *dir = s->preset_dir;
	int rc = PRESET_ERR_IO;
	if (!worker_snapshot(a->worker, s))
		snprintf(err, errlen, "the engine has not started");
	else
		rc = preset_dir_ensure(dir, err, errlen);
	if (rc == 0)
		rc = preset_save(dir, name, &s->eng, err, errlen);
	if (rc == 0)
		log_info("preset", "preset %s saved in %s", name, dir);
	else
		log_error("preset", "preset %s not saved: %s", name, err);
	free(s);
	return rc;
}

/* The worker's snapshot, and what only this side knows: the last problem
 * logged, where the sound goes, MIDI learn (readers' threads). */
static bool console_snapshot(void *ctx, struct snapshot *out)
{
	struct app *a = ctx;
	if (!worker_snapshot(a->worker, out))
		return false;
	struct log_record r;
	if (log_last_problem(&r)) {
		snprintf(out->problem, sizeof out->problem, "%.40s: %.*s", r.event,
		         (int)sizeof out->problem - 44, r.msg);
		out->problem_at_ns = r.ts_ns;
		out->problem_error = r.level == LOG_ERROR;
	}
	out->audio_dummy = a->audio_dummy;
	out->clock_base_ns = worker_base(a->worker);
	out->learning = (uint8_t)(atomic_load(&a->learn.param) + 1);
	pthread_mutex_lock(&a->learn.lock);
	memcpy(out->learned, a->learn.msg, sizeof out->learned);
	out->learned_at_ns = a->learn.msg_at_ns;
	pthread_mutex_unlock(&a->learn.lock);
	out->recording = a->opts->record != NULL;
	return true;
}

static bool console_command(void *ctx, const struct command *c)
{
	struct app *a = ctx;
	return worker_command(a->worker, WORKER_CMD_CONSOLE, c);
}

/* Reload and quit go through the main thread's signal loop, like SIGHUP and
 * SIGTERM; a preset is saved on the console's own thread. */
static void console_request(void *ctx, enum console_request r, const char *arg)
{
	struct app *a = ctx;
	switch (r) {
	case CONSOLE_RELOAD:
		pthread_kill(a->main_thread, SIGHUP);
		break;
	case CONSOLE_SAVE_PRESET: {
		char err[512];
		save_preset(a, arg, err, sizeof err);
		break;
	}
	case CONSOLE_QUIT:
		atomic_store(&a->quit_requested, true);
		pthread_kill(a->main_thread, SIGTERM);
		break;
	case CONSOLE_LEARN:
	case CONSOLE_LEARN_CANCEL: {
		char msg[160];
		app_learn_request(a, r == CONSOLE_LEARN && arg ? param_find(arg) : -1, msg,
		                  sizeof msg);
		if (r == CONSOLE_LEARN && !atomic_load(&a->midi))
			app_learn_say(&a->learn, "%s", msg);
		break;
	}
	case CONSOLE_HANGUP: /* the terminal is gone (an SSH link closed) */
		atomic_store(&a->stop_by, APP_STOP_HANGUP);
		pthread_kill(a->main_thread, SIGTERM);
		break;
	default: /* detach and stop are an attached console's */
		break;
	}
}

static int console_save_preset(void *ctx, const char *name, char *err, size_t errlen)
{
	return save_preset(ctx, name, err, errlen);
}

static bool http_snapshot(void *ctx, struct snapshot *out)
{
	return console_snapshot(ctx, out);
}

static bool http_command(void *ctx, const struct command *c)
{
	struct app *a = ctx;
	return worker_command(a->worker, WORKER_CMD_HTTP, c);
}

static int http_preset_load(void *ctx, const char *name, char *err, size_t errlen)
{
	return load_preset(ctx, name, WORKER_CMD_HTTP_PRESET, err, errlen);
}

static int http_preset_save(void *ctx, const char *name, char *err, size_t errlen)
{
	return save_preset(ctx, name, err, errlen);
}

void app_start_http(struct app *a)
{
	const struct config *c = a->cfg;
	struct http_options o = {.address = c->api.address,
	                         .port = c->api.port,
	                         .allow_control = c->api.allow_control,
	                         .max_writes_per_s = c->api.max_writes_per_s};
	char addr[CONFIG_STR_MAX];
	const char *spec = a->opts->http;
	if (spec && strcmp(spec, "off") == 0)
		return;
	if (!spec && !c->api.enabled)
		return;
	if (spec) {
		if (devspec_host_port(spec, addr, sizeof addr, &o.port) != 0) {
			log_error("http", "bad --http %s (ADDR:PORT or off): no HTTP API", spec);
			return;
		}
		o.address = addr;
	}
	struct http_link link = {.snapshot = http_snapshot,
	                         .command = http_command,
	                         .latency = worker_latency(a->worker),
	                         .lateness = worker_lateness(a->worker),
	                         .preset_load = http_preset_load,
	                         .preset_save = http_preset_save,
	                         .ctx = a};
	char err[256];
	a->http = http_start(&o, &link, err, sizeof err);
	if (!a->http)
		log_error("http", "no HTTP API: %s", err); /* err names the address and port */
	else
		log_info("http", "HTTP API on %s:%d (control %s)", o.address, http_port(a->http),
		         o.allow_control ? "allowed" : "off");
}

static bool osc_command(void *ctx, const struct command *c)
{
	struct app *a = ctx;
	return worker_command(a->worker, WORKER_CMD_OSC, c);
}

/* On the surface's own thread, through its own ring like its commands. */
static int osc_preset_load(void *ctx, const char *name, char *err, size_t errlen)
{
	return load_preset(ctx, name, WORKER_CMD_OSC, err, errlen);
}

void app_start_osc(struct app *a)
{
	const struct config *c = a->cfg;
	if (!c->osc.enabled)
		return;
	struct osc_ctl_options o = {.address = c->osc.address,
	                            .port = c->osc.port,
	                            .allowed_hosts = c->osc.allowed_hosts,
	                            .reply_port = c->osc.reply_port,
	                            .max_writes_per_s = c->osc.max_writes_per_s};
	struct osc_ctl_link link = {.snapshot = http_snapshot,
	                            .command = osc_command,
	                            .preset_load = osc_preset_load,
	                            .ctx = a};
	char err[256];
	a->osc = osc_ctl_start(&o, &link, err, sizeof err);
	if (!a->osc)
		log_error("osc", "no OSC control surface on %s:%d: %s", o.address, o.port, err);
	else
		log_info("osc", "OSC control surface on %s:%d (from %s)", o.address,
		         osc_ctl_port(a->osc), o.allowed_hosts);
}

/* While the console owns the terminal, log lines go only to the log file. */
void app_log_to_terminal(const struct app *a, bool on)
{
	const struct config *c = a->cfg;
	struct log_options lo = {
	    .level = log_get_level(),
	    .file = c->logging.file[0] ? c->logging.file : NULL,
	    .max_size = (long)c->logging.max_size,
	    .keep = c->logging.keep,
	    .json = false,
	    .to_stderr = on,
	};
	log_reopen(&lo);
}

void app_start_console(struct app *a)
{
	struct console_link link = {.snapshot = console_snapshot,
	                            .command = console_command,
	                            .request = console_request,
	                            .ctx = a,
	                            .save_preset = console_save_preset};
	struct console_options o = {.voices_max = a->cfg->synth.voices};
	int err = 0;
	app_log_to_terminal(a, false);
	a->console = console_start(&link, &o, &err);
	if (!a->console) {
		app_log_to_terminal(a, true);
		const char *term = getenv("TERM");
		log_warn("console",
		         "no console: %s (TERM=%s); running headless, "
		         "mystery-engine attach opens it from another terminal",
		         console_strerror(err), term ? term : "");
	}
}

/* --- the control socket ---------------------------------------------------- */

static bool ctl_command(void *ctx, const struct command *c)
{
	struct app *a = ctx;
	return worker_command(a->worker, WORKER_CMD_SOCKET, c);
}

/* A reload asked over the socket: the main thread does it, like SIGHUP
 * (the configuration is its own), and says how it went. */
static void ctl_reload(struct app *a, struct ctl_reply *out)
{
	unsigned before = atomic_load(&a->reloads);
	pthread_kill(a->main_thread, SIGHUP);
	for (int i = 0; i < 1000 && atomic_load(&a->reloads) == before; i++) {
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&a->reloads) == before) {
		snprintf(out->text, sizeof out->text, "the reload did not finish within 10 s");
		return;
	}
	pthread_mutex_lock(&a->reload_lock);
	out->rc = a->reload_ok ? CTL_OK : CTL_FAILED;
	snprintf(out->text, sizeof out->text, "%s", a->reload_text);
	pthread_mutex_unlock(&a->reload_lock);
}

static void ctl_request(void *ctx, const struct ctl_request *r, struct ctl_reply *out)
{
	struct app *a = ctx;
	char err[CTL_TEXT_MAX - 64];
	out->rc = CTL_FAILED;
	switch (r->req) {
	case CTL_REQ_RELOAD:
		ctl_reload(a, out);
		break;
	case CTL_REQ_PRESET_SAVE:
	case CTL_REQ_PRESET_LOAD: {
		bool save = r->req == CTL_REQ_PRESET_SAVE;
		if (!preset_name_ok(r->name)) {
			out->rc = CTL_USAGE;
			snprintf(out->text, sizeof out->text, "%s",
			         preset_strerror(PRESET_ERR_NAME));
			break;
		}
		int rc = save ? save_preset(a, r->name, err, sizeof err)
		              : load_preset(a, r->name, WORKER_CMD_SOCKET, err, sizeof err);
		if (rc == 0) {
			out->rc = CTL_OK;
			snprintf(out->text, sizeof out->text, "preset %s %s", r->name,
			         save ? "saved" : "loaded");
		} else {
			snprintf(out->text, sizeof out->text, "preset %s not %s: %.380s", r->name,
			         save ? "saved" : "loaded", err);
		}
		break;
	}
	case CTL_REQ_LEARN:
	case CTL_REQ_LEARN_CANCEL: {
		int p = r->req == CTL_REQ_LEARN ? (int)r->param : -1;
		if (r->req == CTL_REQ_LEARN && (r->param >= P_COUNT)) {
			out->rc = CTL_USAGE;
			snprintf(out->text, sizeof out->text, "no such parameter");
			break;
		}
		out->rc =
		    app_learn_request(a, p, out->text, sizeof out->text) == 0 ? CTL_OK : CTL_FAILED;
		break;
	}
	case CTL_REQ_STOP:
		log_info("control", "stop asked by an attached console");
		atomic_store(&a->stop_by, APP_STOP_ATTACHED);
		pthread_kill(a->main_thread, SIGTERM);
		out->rc = CTL_OK;
		snprintf(out->text, sizeof out->text, "stopping");
		break;
	default:
		snprintf(out->text, sizeof out->text, "%s is not available",
		         ctl_req_name((enum ctl_req)r->req));
	}
}

void app_start_ctl(struct app *a)
{
	char path[CTL_PATH_MAX];
	const char *p = a->opts->socket ? a->opts->socket : a->cfg->control.socket;
	if (strlen(p) >= sizeof path) {
		log_error("control", "no control socket: %s is longer than 107 bytes", p);
		return;
	} else if (p[0])
		snprintf(path, sizeof path, "%.*s", CTL_PATH_MAX - 1, p);
	else if (ctl_default_path(path, sizeof path) != 0) {
		log_error("control", "no control socket: the runtime folder's path is too long");
		return;
	}
	struct ctl_server_options o = {
	    .path = path, .group = a->cfg->control.group, .config = a->cfg->source};
	struct ctl_server_link link = {
	    .snapshot = console_snapshot, .command = ctl_command, .request = ctl_request, .ctx = a};
	int err;
	char why[512];
	a->ctl = ctl_server_start(&o, &link, &err, why, sizeof why);
	if (!a->ctl)
		log_error("control", "no control socket (%s): %s", ctl_server_strerror(err), why);
	else
		log_info("control", "control socket %s (mystery-engine attach, mystery-engine ctl)",
		         path);
}
