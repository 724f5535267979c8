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

#include "app_impl.h"
#include "dev/devspec.h"
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
		snprintf(err, errlen, "%zu of %zu commands did not fit the engine's queue", n - sent, n);
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

static bool console_snapshot(void *ctx, struct snapshot *out)
{
	struct app *a = ctx;
	return worker_snapshot(a->worker, out);
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
	struct http_options o = {.address = c->api.address, .port = c->api.port,
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
	struct http_link link = {.snapshot = http_snapshot, .command = http_command,
				 .latency = worker_latency(a->worker),
				 .lateness = worker_lateness(a->worker),
				 .preset_load = http_preset_load, .preset_save = http_preset_save,
				 .ctx = a};
	char err[256];
	a->http = http_start(&o, &link, err, sizeof err);
	if (!a->http)
		log_error("http", "no HTTP API on %s:%d: %s", o.address, o.port, err);
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
	struct osc_ctl_options o = {.address = c->osc.address, .port = c->osc.port,
				    .allowed_hosts = c->osc.allowed_hosts,
				    .reply_port = c->osc.reply_port,
				    .max_writes_per_s = c->osc.max_writes_per_s};
	struct osc_ctl_link link = {.snapshot = http_snapshot, .command = osc_command,
				    .preset_load = osc_preset_load, .ctx = a};
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
	struct console_link link = {.snapshot = console_snapshot, .command = console_command,
				    .request = console_request, .ctx = a,
				    .save_preset = console_save_preset};
	struct console_options o = {.voices_max = a->cfg->synth.voices};
	int err = 0;
	app_log_to_terminal(a, false);
	a->console = console_start(&link, &o, &err);
	if (!a->console) {
		app_log_to_terminal(a, true);
		log_warn("console", "no console (%s): running headless", console_strerror(err));
	}
}
