/*
 * ctl_cmd: `mystery-engine ctl` (see ctl_cmd.h).
 *
 * Checks the command and its arguments before connecting (a misspelt
 * parameter is a usage error naming the parameters), finds the running
 * instance, sends one request and prints the answer: a line for people, or
 * with --json one JSON object (`status` is the HTTP API's /state).  A
 * change (set, pause, resume) waits until the instrument's published state
 * shows it, so a `get` right after a `set` reads the new value.  Main
 * thread; no curses.
 */
#include "ui/ctl_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/param.h"
#include "core/scale.h"
#include "ops/ctl_client.h"
#include "ops/metrics.h"
#include "ops/preset.h"
#include "rt/rtclock.h"
#include "ui/fmt.h"
#include "ui/glyphs.h"

#define CTL_WAIT_MS 2000 /* a change must show in the published state */

struct ctl_run {
	const struct cli_options *opts;
	bool json;
	int argc;
	const char *argv[8];
	struct ctl_client *cl;
	struct snapshot *snap;
};

static const char usage_text[] =
    "usage: mystery-engine ctl [-S SOCKET] [--json] COMMAND\n"
    "  status | get PARAM | set PARAM VALUE | preset save|load NAME | reload | pause | resume\n";

/* Prints an error (JSON on stdout with --json, a line on stderr otherwise)
 * and returns status. */
static int failure(const struct ctl_run *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failure(const struct ctl_run *r, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->json) {
		json_t *o = json_pack("{s:s, s:i}", "error", msg, "status", status);
		char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (t)
			printf("%s\n", t);
		free(t);
		json_decref(o);
	} else {
		fprintf(stderr, "mystery-engine ctl: %s\n", msg);
	}
	if (status == CTL_USAGE && !r->json)
		fputs(usage_text, stderr);
	return status;
}

static int print_json(json_t *o)
{
	char *t = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(o);
	if (!t)
		return CTL_FAILED;
	printf("%s\n", t);
	free(t);
	return CTL_OK;
}

int ctl_cmd_locate(const struct config *cfg, const struct cli_options *opts, const char *what,
                   char *path, size_t n)
{
	if (opts->socket) {
		snprintf(path, n, "%s", opts->socket);
		return 0;
	}
	char found[8][CTL_PATH_MAX], denied[512], tried[8][CTL_PATH_MAX];
	int k = ctl_client_find(cfg->control.socket, found, 8, denied, sizeof denied);
	if (k == 1) {
		snprintf(path, n, "%s", found[0]);
		return 0;
	}
	if (k > 1) {
		fprintf(stderr,
		        "mystery-engine %s: %d instances are running; choose one with --socket:\n",
		        what, k);
		for (int i = 0; i < k; i++)
			fprintf(stderr, "  %s\n", found[i]);
		return CTL_USAGE;
	}
	if (denied[0]) {
		fprintf(stderr, "mystery-engine %s: %s\n", what, denied);
		return CTL_NOPERM;
	}
	int m = ctl_candidate_paths(cfg->control.socket, tried, 8);
	fprintf(stderr, "mystery-engine %s: no running mystery-engine answers; looked at:\n", what);
	for (int i = 0; i < m; i++)
		fprintf(stderr, "  %s\n", tried[i]);
	return CTL_UNAVAILABLE;
}

static int param_of(const struct ctl_run *r, const char *name, int *id)
{
	*id = param_find(name);
	if (*id >= 0)
		return 0;
	char list[1024];
	size_t o = 0;
	for (int i = 0; i < P_COUNT && o + 40 < sizeof list; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "",
		                      param_table[i].name);
	return failure(r, CTL_USAGE, "no parameter `%s` (parameters: %s)", name, list);
}

static bool fetch(struct ctl_run *r, char *why, size_t n)
{
	return ctl_client_fetch(r->cl, r->snap, why, n);
}

static json_t *param_json(const struct snapshot *s, int id)
{
	const struct param_info *pi = &param_table[id];
	return json_pack("{s:s, s:f, s:f, s:f, s:f, s:s, s:s}", "param", pi->name, "value",
	                 s->eng.value[id], "min", pi->min, "max", pi->max, "default", pi->def,
	                 "unit", pi->unit, "source",
	                 param_source_name((enum param_source)s->eng.source[id]));
}

static int cmd_status(struct ctl_run *r)
{
	char why[CTL_TEXT_MAX];
	if (!fetch(r, why, sizeof why))
		return failure(r, CTL_FAILED, "%s", why);
	const struct snapshot *s = r->snap;
	const struct ctl_welcome *w = ctl_client_welcome(r->cl);
	if (r->json) {
		size_t len;
		char *text = metrics_state_json(s, &len);
		if (!text)
			return failure(r, CTL_FAILED, "out of memory");
		printf("%s\n", text);
		free(text);
		return CTL_OK;
	}
	char tempo[64], up[32], cpu[32], root[32];
	const struct engine_state *e = &s->eng;
	fmt_tempo(tempo, sizeof tempo, e->value[P_TEMPO], e->tempo_now);
	fmt_clock(up, sizeof up, s->uptime_ns);
	fmt_percent(cpu, sizeof cpu, s->worker_cpu);
	fmt_note(root, sizeof root, e->scale, e->root, e->root, glyphs_get(false));
	printf("mystery-engine pid %d, configuration %s\n", (int)w->pid, w->config);
	printf("%s  %s  %s %s  mode %.*s  up %s\n", fmt_run_state(e), tempo, root,
	       scale_name(e->scale), (int)sizeof e->playing, e->playing, up);
	printf("links: midi %s, scsynth %s, leds %s\n", link_state_name(s->link_midi),
	       link_state_name(s->link_synth), link_state_name(s->link_led));
	printf("notes %llu played, %llu late bundles; voices %d/%d; worker cpu %s\n",
	       (unsigned long long)s->notes_played, (unsigned long long)s->late_bundles,
	       s->voices_active, s->voices_max, cpu);
	printf("control socket %s: %d connected\n", ctl_client_path(r->cl), (int)w->clients);
	return CTL_OK;
}

static int cmd_get(struct ctl_run *r)
{
	int id, rc;
	if ((rc = param_of(r, r->argv[1], &id)) != 0)
		return rc;
	char why[CTL_TEXT_MAX];
	if (!fetch(r, why, sizeof why))
		return failure(r, CTL_FAILED, "%s", why);
	if (r->json)
		return print_json(param_json(r->snap, id));
	char val[96];
	fmt_param_value(val, sizeof val, id, r->snap->eng.value[id], r->snap);
	printf("%s %s (source %s)\n", param_table[id].name, val,
	       param_source_name((enum param_source)r->snap->eng.source[id]));
	return CTL_OK;
}

/* Waits until the published state satisfies done(); false after the wait. */
static bool wait_state(struct ctl_run *r, bool (*done)(const struct snapshot *, const void *),
                       const void *arg)
{
	int64_t until = rtclock_mono_ns() + CTL_WAIT_MS * NS_PER_MS;
	char why[CTL_TEXT_MAX];
	while (rtclock_mono_ns() < until) {
		if (fetch(r, why, sizeof why) && done(r->snap, arg))
			return true;
	}
	return false;
}

struct want_value {
	int id;
	double v;
};

static bool value_shown(const struct snapshot *s, const void *arg)
{
	const struct want_value *w = arg;
	double have = s->eng.value[w->id];
	return fabs(have - w->v) <= 1e-9 * (fabs(w->v) + 1);
}

static bool pause_shown(const struct snapshot *s, const void *arg)
{
	return s->eng.paused == *(const bool *)arg;
}

static int cmd_set(struct ctl_run *r)
{
	int id, rc;
	if ((rc = param_of(r, r->argv[1], &id)) != 0)
		return rc;
	const struct param_info *pi = &param_table[id];
	char *end;
	errno = 0;
	double v = strtod(r->argv[2], &end);
	if (!r->argv[2][0] || *end || errno || !isfinite(v))
		return failure(r, CTL_USAGE, "%s: `%s` is not a number", pi->name, r->argv[2]);
	if (v < pi->min || v > pi->max)
		return failure(r, CTL_USAGE, "%s: %g is out of range (allowed: %g..%g)", pi->name,
		               v, pi->min, pi->max);
	if (pi->curve == CURVE_STEPPED && v != floor(v))
		return failure(r, CTL_USAGE, "%s: %g is not a whole number", pi->name, v);
	struct ctl_request q = {.req = CTL_REQ_SET, .param = (uint32_t)id, .value = v};
	struct ctl_reply rep;
	if ((rc = ctl_client_request(r->cl, &q, &rep, 3000)) != CTL_OK)
		return failure(r, rc, "%s", rep.text);
	struct want_value w = {id, v};
	if (!wait_state(r, value_shown, &w))
		return failure(r, CTL_FAILED,
		               "%s: sent, but the instrument still shows %g after %d ms", pi->name,
		               r->snap->eng.value[id], CTL_WAIT_MS);
	if (r->json)
		return print_json(param_json(r->snap, id));
	char val[96];
	fmt_param_value(val, sizeof val, id, r->snap->eng.value[id], r->snap);
	printf("%s %s (source %s)\n", pi->name, val,
	       param_source_name((enum param_source)r->snap->eng.source[id]));
	return CTL_OK;
}

static int cmd_pause(struct ctl_run *r, bool paused)
{
	struct ctl_request q = {.req = paused ? CTL_REQ_PAUSE : CTL_REQ_RESUME};
	struct ctl_reply rep;
	int rc = ctl_client_request(r->cl, &q, &rep, 3000);
	if (rc != CTL_OK)
		return failure(r, rc, "%s", rep.text);
	if (!wait_state(r, pause_shown, &paused))
		return failure(r, CTL_FAILED, "sent, but the instrument is still %s after %d ms",
		               paused ? "playing" : "paused", CTL_WAIT_MS);
	if (r->json)
		return print_json(json_pack("{s:b}", "paused", paused));
	printf("%s\n", paused ? "paused" : "playing");
	return CTL_OK;
}

static int cmd_simple(struct ctl_run *r, struct ctl_request *q, int timeout_ms)
{
	struct ctl_reply rep;
	int rc = ctl_client_request(r->cl, q, &rep, timeout_ms);
	if (rc != CTL_OK)
		return failure(r, rc, "%s", rep.text);
	if (r->json) {
		if (q->req == CTL_REQ_RELOAD)
			return print_json(
			    json_pack("{s:b, s:s}", "reloaded", 1, "message", rep.text));
		return print_json(json_pack("{s:s, s:b}", "preset", q->name,
		                            q->req == CTL_REQ_PRESET_SAVE ? "saved" : "loaded", 1));
	}
	printf("%s\n", rep.text);
	return CTL_OK;
}

/* Checks the words before anything is connected. */
static int check_usage(struct ctl_run *r)
{
	if (r->argc == 0)
		return failure(r, CTL_USAGE, "no command given");
	const char *v = r->argv[0];
	int want = -1;
	if (!strcmp(v, "status") || !strcmp(v, "reload") || !strcmp(v, "pause") ||
	    !strcmp(v, "resume"))
		want = 1;
	else if (!strcmp(v, "get"))
		want = 2;
	else if (!strcmp(v, "set"))
		want = 3;
	else if (!strcmp(v, "preset"))
		want = 3;
	if (want < 0)
		return failure(r, CTL_USAGE, "unknown command `%s`", v);
	if (r->argc != want)
		return failure(r, CTL_USAGE, "`%s` takes %d argument%s", v, want - 1,
		               want == 2 ? "" : "s");
	if (!strcmp(v, "preset")) {
		if (strcmp(r->argv[1], "save") && strcmp(r->argv[1], "load"))
			return failure(r, CTL_USAGE, "preset: `%s` is neither save nor load",
			               r->argv[1]);
		if (!preset_name_ok(r->argv[2]))
			return failure(r, CTL_USAGE, "preset: %s",
			               preset_strerror(PRESET_ERR_NAME));
	}
	if (!strcmp(v, "get") || !strcmp(v, "set")) {
		int id;
		return param_of(r, r->argv[1], &id);
	}
	return 0;
}

int ctl_cmd_main(const struct config *cfg, const struct cli_options *opts)
{
	struct ctl_run r = {.opts = opts, .json = opts->json};
	for (int i = 0; i < opts->ctl_argc; i++) {
		if (!strcmp(opts->ctl_argv[i], "--json")) {
			r.json = true;
			continue;
		}
		if (r.argc >= (int)(sizeof r.argv / sizeof r.argv[0]))
			return failure(&r, CTL_USAGE, "too many arguments");
		r.argv[r.argc++] = opts->ctl_argv[i];
	}
	int rc = check_usage(&r);
	if (rc)
		return rc;
	char path[CTL_PATH_MAX], why[1024];
	rc = ctl_cmd_locate(cfg, opts, "ctl", path, sizeof path);
	if (rc)
		return r.json ? failure(&r, rc, "%s", ctl_status_name(rc)) : rc;
	r.cl = ctl_client_connect(path, false, 0, &rc, why, sizeof why);
	if (!r.cl)
		return failure(&r, rc, "%s", why);
	r.snap = malloc(sizeof *r.snap);
	if (!r.snap) {
		ctl_client_close(r.cl);
		return failure(&r, CTL_FAILED, "out of memory");
	}
	const char *v = r.argv[0];
	struct ctl_request q;
	memset(&q, 0, sizeof q);
	if (!strcmp(v, "status")) {
		rc = cmd_status(&r);
	} else if (!strcmp(v, "get")) {
		rc = cmd_get(&r);
	} else if (!strcmp(v, "set")) {
		rc = cmd_set(&r);
	} else if (!strcmp(v, "pause") || !strcmp(v, "resume")) {
		rc = cmd_pause(&r, v[0] == 'p');
	} else if (!strcmp(v, "reload")) {
		q.req = CTL_REQ_RELOAD;
		rc = cmd_simple(&r, &q, 15000);
	} else {
		q.req = strcmp(r.argv[1], "save") == 0 ? CTL_REQ_PRESET_SAVE : CTL_REQ_PRESET_LOAD;
		snprintf(q.name, sizeof q.name, "%s", r.argv[2]);
		rc = cmd_simple(&r, &q, 15000);
	}
	free(r.snap);
	ctl_client_close(r.cl);
	return rc;
}
