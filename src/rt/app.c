/*
 * app: running the instrument (the default mode, and --daemon).
 *
 * Reads like the life of a performance: build the core and its worker, open
 * the sound, the LED port and the event log as the worker's sinks, start the
 * worker, connect the MIDI input, then wait for signals in the main thread.
 * SIGHUP reloads the configuration (validated first; a bad file changes
 * nothing); SIGTERM and SIGINT stop: the MIDI input first, then the worker
 * (whose sinks release every voice), then the LED port (which sends the idle
 * cue), the event log, and the audio stack with its child processes.
 *
 * The handled signals are blocked in every thread (the mask is inherited)
 * and taken with sigtimedwait() here, so no handler runs inside a library
 * call.  Main thread only.
 */
#include "rt/app.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/midi.h"
#include "core/param.h"
#include "core/scale.h"
#include "rt/audio_card.h"
#include "rt/ctl_server.h"
#include "rt/evout.h"
#include "rt/http.h"
#include "rt/osc_ctl.h"
#include "rt/inq.h"
#include "rt/learn.h"
#include "rt/led.h"
#include "rt/log.h"
#include "rt/midi_clock.h"
#include "rt/midi_in.h"
#include "rt/midi_out.h"
#include "rt/preset.h"
#include "rt/rtclock.h"
#include "rt/sdnotify.h"
#include "rt/synth.h"
#include "rt/synth_sc.h"
#include "rt/worker.h"
#include "ui/tui.h"

#define APP_INQ_CAP 1024
#define APP_CLOCK_INQ_CAP 256	/* a clock port's queue: pulses and transport only */

/* The LED port can be replaced on reload while the worker runs: the sink
 * reads the current port through an atomic pointer. */
struct app_led {
	_Atomic(struct led *) led;
};

/* MIDI learn: the worker's sink notes the last CC that arrived; a thread
 * of its own waits for one while a console learns, records it in the map
 * (saved to the state folder) and asks the main thread for a reload, which
 * lays the map over the configuration. */
struct app_learn {
	atomic_int param;		/* being learned, -1 none */
	atomic_uint seen;		/* CCs that reached the engine */
	atomic_int cc;			/* the last one's number */
	atomic_int owner[128];		/* the parameter each CC moves now, -1 none */
	pthread_mutex_t lock;		/* map, msg (never the worker) */
	struct learn_map map;
	char msg[160];
	int64_t msg_at_ns;		/* CLOCK_REALTIME */
	pthread_t thread;
	bool thread_on;
};

/* Who stopped the instrument, when not a plain signal. */
enum app_stop_by { APP_STOP_SIGNAL, APP_STOP_ATTACHED, APP_STOP_HANGUP };

struct app {
	const struct cli_options *opts;
	struct config *cfg;		/* the active configuration (owned) */
	struct engine *engine;
	struct inq *inq;
	struct worker *worker;
	struct synth *synth;
	struct midi_out *midi_out;	/* NULL: no MIDI output */
	struct synth *notes;		/* notes to the MIDI output beside scsynth, or NULL */
	struct midi_clock *midi_clock;	/* the MIDI output's sink (clock out, pump) */
	struct app_led led;
	struct evout *evout;
	_Atomic(struct midi_in *) midi;	/* read by the worker's snapshot */
	char midi_spec[CONFIG_STR_MAX];
	struct inq *clock_inq;		/* from the clock port's thread to the worker */
	_Atomic(struct midi_in *) clock_midi;	/* the clock port, NULL: none of its own */
	char clock_spec[CONFIG_STR_MAX];	/* "input": the clock comes on the MIDI input */
	char led_spec[CONFIG_STR_MAX];
	struct console *console;
	struct http *http;
	struct osc_ctl *osc;		/* the OSC control surface, NULL when off */
	struct ctl_server *ctl;
	atomic_uint reloads;		/* reloads done (the control socket waits on it) */
	atomic_int stop_by;		/* enum app_stop_by when not a plain signal */
	bool audio_dummy;		/* the managed stack on JACK's dummy driver */
	struct app_learn learn;
	pthread_t main_thread;
	atomic_bool quit_requested;
	atomic_bool worker_running;
	char state_dir[CONFIG_STR_MAX];
	const char *mode_names[ENGINE_MAX_PROFILES + 1];
	const char *palette_names[ENGINE_MAX_PALETTES + 1];
};

static int learn_request(struct app *a, int param, char *msg, size_t n);
static void learn_say(struct app_learn *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- sinks ---------------------------------------------------------------- */

static void synth_sink_events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	synth_events(ctx, ev, n, now);
}

static void synth_sink_shutdown(void *ctx)
{
	synth_release_all(ctx);
}

static enum snap_link link_of_devlink(enum devlink_state s)
{
	switch (s) {
	case DEVLINK_OFF:
		return SNAP_LINK_OFF;
	case DEVLINK_WAITING:
		return SNAP_LINK_WAITING;
	case DEVLINK_CONNECTED:
		return SNAP_LINK_CONNECTED;
	default:
		return SNAP_LINK_RECONNECTING;
	}
}

static enum snap_link link_of_synth(enum synth_link l)
{
	switch (l) {
	case SYNTH_LINK_OFF:
		return SNAP_LINK_OFF;
	case SYNTH_LINK_STARTING:
		return SNAP_LINK_WAITING;
	case SYNTH_LINK_READY:
		return SNAP_LINK_CONNECTED;
	case SYNTH_LINK_RESTARTING:
		return SNAP_LINK_RECONNECTING;
	default:
		return SNAP_LINK_ERROR;
	}
}

static void synth_sink_fill(void *ctx, struct snapshot *s)
{
	struct synth_status st;
	synth_status(ctx, &st);
	s->link_synth = (uint8_t)link_of_synth(st.link);
	s->notes_played = st.notes;
	s->bundles_sent = st.bundles;
	s->late_bundles = st.late;
	s->backend_restarts = st.restarts;
	s->voices_active = st.voices_in_use;
	s->voices_max = st.voices;
	s->server_cpu_avg = st.cpu_avg;
	s->server_cpu_peak = st.cpu_peak;
	s->server_synths = st.synths;
	s->out_peak = st.out_peak;
	s->out_rms = st.out_rms;
	s->out_meter_age_ns = st.meter_ns > 0 ? rtclock_mono_ns() - st.meter_ns : -1;
	s->meter_replies = st.meter_replies;
	s->sound_faults = st.health_faults;
	s->late_sent = st.late_sent;
	s->synth_dropped = st.dropped;
	s->health_restarts = st.health_restarts;
	s->stack_restarts = st.stack_restarts;
	s->sound = (uint8_t)st.sound;
	s->watchdog_ok = st.watchdog_ok;
	snprintf(s->synth_fault, sizeof s->synth_fault, "%s", synth_fault_text(st.fault));
	snprintf(s->synth_fault_short, sizeof s->synth_fault_short, "%s", synth_fault_name(st.fault));
	struct audio_card_status ac;
	audio_card_current(&ac);
	s->audio_state = ac.state;
	snprintf(s->audio_card, sizeof s->audio_card, "%s", ac.card);
	snprintf(s->audio_seen, sizeof s->audio_seen, "%s", ac.seen);
}

static void led_sink_events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	struct app_led *al = ctx;
	struct led *l = atomic_load(&al->led);
	if (l)
		led_events(l, ev, n, now);
}

static int64_t led_sink_next_due(void *ctx)
{
	struct app_led *al = ctx;
	struct led *l = atomic_load(&al->led);
	return l ? led_next_due(l) : INT64_MAX;
}

static void led_sink_fill(void *ctx, struct snapshot *s)
{
	struct app_led *al = ctx;
	struct led *l = atomic_load(&al->led);
	if (!l) {
		s->link_led = SNAP_LINK_OFF;
		return;
	}
	struct led_stats st;
	led_get_stats(l, &st);
	s->link_led = (uint8_t)link_of_devlink(led_state(l));
	s->led_frames = st.frames;
	s->led_dropped = st.dropped_param + st.dropped_note;
}

/* MIDI input counters come from the input thread's atomics. */
static void midi_sink_fill(void *ctx, struct snapshot *s)
{
	struct app *a = ctx;
	struct midi_in_stats st;
	struct midi_in *ci = atomic_load(&a->clock_midi);
	s->link_clock_in = SNAP_LINK_OFF;
	if (ci) {
		midi_in_get_stats(ci, &st);
		s->link_clock_in = (uint8_t)link_of_devlink(midi_in_state(ci));
		s->clock_in_reconnects = st.disconnects;
	}
	struct midi_in *mi = atomic_load(&a->midi);
	if (!mi) {
		s->link_midi = SNAP_LINK_OFF;
		return;
	}
	midi_in_get_stats(mi, &st);
	s->link_midi = (uint8_t)link_of_devlink(midi_in_state(mi));
	memcpy(s->midi_in, st.messages, sizeof s->midi_in);
	s->midi_parse_errors = st.parse_errors;
	s->midi_reconnects = st.disconnects;
}

/* --- devices -------------------------------------------------------------- */

static void names_from_config(struct app *a)
{
	const struct engine_config *c = &a->cfg->engine;
	int i;
	for (i = 0; i < c->n_modes; i++)
		a->mode_names[i] = c->profiles[c->modes[i]].name;
	a->mode_names[i] = NULL;
	for (i = 0; i < c->n_palettes; i++)
		a->palette_names[i] = c->palettes[i];
	a->palette_names[i] = NULL;
}

static struct led *open_led(struct app *a, const char *spec)
{
	if (strcmp(spec, "none") == 0)
		return NULL;
	names_from_config(a);
	struct led_options o = {.mode_names = a->mode_names, .palette_names = a->palette_names};
	enum led_err err;
	struct led *l = led_open(spec, a->cfg->led.max_rate, &o, &err);
	if (!l)
		log_error("led_open", "LED transport %s: %s; running without LED cues", spec,
			  led_strerror(err));
	else
		log_info("led_open", "LED cues to %s at most %d frames/s", spec, a->cfg->led.max_rate);
	return l;
}

/* Waits (control thread) until the worker has begun two more loops, so it
 * no longer holds a pointer it read before a swap. */
static void wait_worker_loops(struct app *a)
{
	if (!a->worker || !atomic_load(&a->worker_running))
		return;
	worker_wait_loops(a->worker, 2);
}

static void stop_midi(struct app *a)
{
	struct midi_in *mi = atomic_exchange(&a->midi, NULL);
	if (!mi)
		return;
	wait_worker_loops(a);
	midi_in_stop(mi);
}

/* Where MIDI clock comes from: "input" (the MIDI input) or a port of its own,
 * which only matters while the steps follow MIDI clock. */
static const char *clock_spec_of(const struct app *a, const struct config *c)
{
	if (c->engine.clock_source != CLOCK_SOURCE_MIDI)
		return "input";
	return a->opts->clock_in ? a->opts->clock_in : c->midi.clock_input_port;
}

/* The MIDI input passes the clock on unless a port of its own brings it. */
static enum midi_in_filter input_filter(const struct app *a)
{
	return strcmp(a->clock_spec, "input") == 0 ? MIDI_IN_ALL : MIDI_IN_NO_CLOCK;
}

static void stop_clock_in(struct app *a)
{
	struct midi_in *ci = atomic_exchange(&a->clock_midi, NULL);
	if (!ci)
		return;
	wait_worker_loops(a);
	midi_in_stop(ci);
}

/* The clock port, when it is not the MIDI input: a second input thread that
 * passes clock and transport only, into a queue of its own. */
static void start_clock_in(struct app *a, const char *spec)
{
	if (spec != a->clock_spec)
		snprintf(a->clock_spec, sizeof a->clock_spec, "%s", spec);
	midi_in_set_filter(atomic_load(&a->midi), input_filter(a));
	if (strcmp(spec, "input") == 0)
		return;
	struct midi_in_options o = {.filter = MIDI_IN_CLOCK_ONLY};
	enum midi_in_err err;
	struct midi_in *ci = midi_in_start(spec, a->clock_inq, &o, &err);
	atomic_store(&a->clock_midi, ci);
	if (!ci)
		log_error("clock_in", "MIDI clock input %s: %s; running without it", spec,
			  midi_in_strerror(err));
	else
		log_info("clock_in", "MIDI clock input %s (the MIDI input's clock ignored; "
			 "waiting for the device if absent)", spec);
}

static void start_midi(struct app *a, const char *spec)
{
	snprintf(a->midi_spec, sizeof a->midi_spec, "%s", spec);
	if (strcmp(spec, "none") == 0) {
		log_info("midi_in", "no MIDI input (none)");
		return;
	}
	enum midi_in_err err;
	struct midi_in_options o = {.filter = input_filter(a)};
	struct midi_in *mi = midi_in_start(spec, a->inq, &o, &err);
	atomic_store(&a->midi, mi);
	if (!mi)
		log_error("midi_in", "MIDI input %s: %s; running without it", spec,
			  midi_in_strerror(err));
	else
		log_info("midi_in", "MIDI input %s (waiting for the device if absent)", spec);
}

/* The MIDI output (clock and notes), before the engine: whether the
 * engine emits clock pulses depends on it.  0, or -1 on error. */
static int open_midi_out(struct app *a)
{
	const char *spec = a->opts->midi_out ? a->opts->midi_out : a->cfg->midi.output_port;
	if (strcmp(spec, "none") == 0)
		return 0;
	enum midi_out_err err;
	a->midi_out = midi_out_open(spec, NULL, &err);
	if (!a->midi_out) {
		log_error("midi_out", "MIDI output %s: %s", spec, midi_out_strerror(err));
		return -1;
	}
	log_info("midi_out", "MIDI output %s: clock %s, notes %s (waiting for the device if "
		 "absent)", spec, a->cfg->midi.clock_out ? "on" : "off",
		 a->cfg->midi.notes_out ? "on" : "off");
	return 0;
}

/* The engine emits clock pulses only when they have somewhere to go. */
static void set_clock_out(const struct app *a, struct config *c)
{
	c->engine.clock_out = a->midi_out && c->midi.clock_out;
}

/* Notes to the MIDI output beside another backend: a second synth. */
static int open_notes_out(struct app *a)
{
	if (!a->midi_out || !a->cfg->midi.notes_out || a->synth->ops == &synth_midi_ops)
		return 0;
	struct synth_settings set;
	synth_settings_from_config(&set, a->cfg);
	set.midi_out = a->midi_out;
	enum synth_err err;
	a->notes = synth_open(&synth_midi_ops, &set, &err);
	if (!a->notes) {
		log_error("midi_out", "cannot send notes to the MIDI output: %s",
			  synth_strerror(err));
		return -1;
	}
	return 0;
}

static int open_synth(struct app *a)
{
	struct synth_settings set;
	synth_settings_from_config(&set, a->cfg);
	set.midi_out = a->midi_out;
	const struct synth_ops *ops =
	    synth_find(a->cfg->synth.backend == CONFIG_SYNTH_NONE ? "none"
		       : a->cfg->synth.backend == CONFIG_SYNTH_MIDI ? "midi"
								   : "supercollider");
	if (a->opts->synth) {
		ops = synth_parse_spec(a->opts->synth, &set);
		if (!ops) {
			log_error("synth", "bad --synth %s", a->opts->synth);
			return -1;
		}
	}
	if (a->opts->record)
		snprintf(set.record_path, sizeof set.record_path, "%s", a->opts->record);
	if (ops == &synth_midi_ops && !a->midi_out) {
		log_error("synth", "the midi synth backend needs a MIDI output "
			  "(midi.output_port or --midi-out)");
		return -1;
	}
	a->audio_dummy = ops == &synth_sc_ops && strcmp(set.server, "managed") == 0 &&
			 (set.jack_driver == SYNTH_JACK_DUMMY ||
			  (set.jack_driver == SYNTH_JACK_AUTO && !synth_sc_sound_card()));
	enum synth_err err;
	a->synth = synth_open(ops, &set, &err);
	if (!a->synth) {
		log_error("synth", "cannot open the synth backend: %s", synth_strerror(err));
		return -1;
	}
	return 0;
}

/* --- presets and the console --------------------------------------------- */

static char *preset_dir(struct app *a, char *buf, size_t n)
{
	char state[CONFIG_STR_MAX];
	config_state_dir(a->cfg, state, sizeof state);
	snprintf(buf, n, "%.*s/presets", (int)(n > 9 ? n - 9 : 0), state);
	return buf;
}

/* Loads a preset and hands it to the worker as commands from producer via
 * (the caller must be that producer's thread); 0 or a preset_err with err. */
static int load_preset_err(struct app *a, const char *name, enum worker_producer via, char *err,
			   size_t errlen)
{
	char dir[CONFIG_STR_MAX];
	struct preset *p = calloc(1, sizeof *p);
	struct command cmds[ENGINE_MAX_STEPS + P_COUNT + 4];
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return PRESET_ERR_NOMEM;
	}
	int rc = preset_load(preset_dir(a, dir, sizeof dir), name, p, err, errlen);
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

static int load_preset(struct app *a, const char *name, enum worker_producer via)
{
	char err[512];
	return load_preset_err(a, name, via, err, sizeof err) == 0 ? 0 : -1;
}

/* Saves the engine's state as a preset; 0 or a preset_err with err. */
static int save_preset(struct app *a, const char *name, char *err, size_t errlen)
{
	char dir[CONFIG_STR_MAX];
	struct snapshot *s = malloc(sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return PRESET_ERR_NOMEM;
	}
	int rc = PRESET_ERR_IO;
	if (!worker_snapshot(a->worker, s))
		snprintf(err, errlen, "the engine has not started");
	else
		rc = preset_dir_ensure(preset_dir(a, dir, sizeof dir), err, errlen);
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
 * logged and where the sound goes (readers' threads). */
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
		learn_request(a, r == CONSOLE_LEARN && arg ? param_find(arg) : -1, msg, sizeof msg);
		if (r == CONSOLE_LEARN && !atomic_load(&a->midi))
			learn_say(&a->learn, "%s", msg);
		break;
	}
	case CONSOLE_HANGUP:	/* the terminal is gone (an SSH link closed) */
		atomic_store(&a->stop_by, APP_STOP_HANGUP);
		pthread_kill(a->main_thread, SIGTERM);
		break;
	default:	/* detach and stop are an attached console's */
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
	return load_preset_err(ctx, name, WORKER_CMD_HTTP_PRESET, err, errlen);
}

static int http_preset_save(void *ctx, const char *name, char *err, size_t errlen)
{
	return save_preset(ctx, name, err, errlen);
}

/* "ADDR:PORT" or "[V6]:PORT" into address and port; -1 if malformed. */
static int split_host_port(const char *spec, char *addr, size_t n, int *port)
{
	const char *colon = strrchr(spec, ':');
	if (!colon || colon == spec)
		return -1;
	const char *a0 = spec, *a1 = colon;
	if (*a0 == '[' && a1[-1] == ']') {
		a0++;
		a1--;
	}
	if ((size_t)(a1 - a0) >= n)
		return -1;
	memcpy(addr, a0, (size_t)(a1 - a0));
	addr[a1 - a0] = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

static void start_http(struct app *a)
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
		if (split_host_port(spec, addr, sizeof addr, &o.port) != 0) {
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
		log_error("http", "no HTTP API: %s", err);	/* err names the address and port */
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
	return load_preset_err(ctx, name, WORKER_CMD_OSC, err, errlen);
}

static void start_osc(struct app *a)
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
static void log_to_terminal(const struct app *a, bool on)
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

static void start_console(struct app *a)
{
	struct console_link link = {.snapshot = console_snapshot, .command = console_command,
				    .request = console_request, .ctx = a,
				    .save_preset = console_save_preset};
	struct console_options o = {.voices_max = a->cfg->synth.voices};
	int err = 0;
	log_to_terminal(a, false);
	a->console = console_start(&link, &o, &err);
	if (!a->console) {
		log_to_terminal(a, true);
		const char *term = getenv("TERM");
		log_warn("console", "no console: %s (TERM=%s); running headless, "
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

/* A reload asked over the socket: checked here first, so the reply carries
 * the errors; applied by the main thread like SIGHUP. */
static void ctl_reload(struct app *a, struct ctl_reply *out)
{
	struct config *next = calloc(1, sizeof *next);
	struct config_errors errs = {0};
	if (!next) {
		snprintf(out->text, sizeof out->text, "out of memory");
		return;
	}
	const char *path = a->opts->config_path;
	if (!path && strcmp(a->cfg->source, CONFIG_BUILTIN) != 0)
		path = a->cfg->source;
	enum config_status st = config_load(next, path, a->opts->sets, a->opts->n_sets, &errs);
	if (st != CONFIG_OK) {
		snprintf(out->text, sizeof out->text, "%.200s: %s; keeping the running configuration%s%.240s",
			 path ? path : CONFIG_BUILTIN, config_strerror(st), errs.n ? ": " : "",
			 errs.n ? errs.msg[0] : "");
		config_errors_free(&errs);
		free(next);
		return;
	}
	config_errors_free(&errs);
	free(next);
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
	out->rc = CTL_OK;
	snprintf(out->text, sizeof out->text, "configuration %.400s applied",
		 path ? path : CONFIG_BUILTIN);
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
			snprintf(out->text, sizeof out->text, "%s", preset_strerror(PRESET_ERR_NAME));
			break;
		}
		int rc = save ? save_preset(a, r->name, err, sizeof err)
			      : load_preset_err(a, r->name, WORKER_CMD_SOCKET, err, sizeof err);
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
		out->rc = learn_request(a, p, out->text, sizeof out->text) == 0 ? CTL_OK : CTL_FAILED;
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

static void start_ctl(struct app *a)
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
	struct ctl_server_options o = {.path = path, .group = a->cfg->control.group,
				       .config = a->cfg->source};
	struct ctl_server_link link = {.snapshot = console_snapshot, .command = ctl_command,
				       .request = ctl_request, .ctx = a};
	int err;
	char why[512];
	a->ctl = ctl_server_start(&o, &link, &err, why, sizeof why);
	if (!a->ctl)
		log_error("control", "no control socket (%s): %s", ctl_server_strerror(err), why);
	else
		log_info("control", "control socket %s (mystery-engine attach, mystery-engine ctl)",
			 path);
}

/* --- MIDI learn ----------------------------------------------------------- */

static void learn_sink_events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	struct app_learn *l = ctx;
	(void)now;
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == EV_INPUT && ev[i].u.input.kind == MIDI_CC) {
			atomic_store_explicit(&l->cc, ev[i].u.input.number, memory_order_relaxed);
			atomic_fetch_add_explicit(&l->seen, 1, memory_order_release);
		}
}

static void learn_owners(struct app_learn *l, const struct engine_config *c)
{
	for (int cc = 0; cc < 128; cc++)
		atomic_store(&l->owner[cc], learn_owner(c, cc));
}

static void learn_say(struct app_learn *l, const char *fmt, ...)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&l->lock);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof l->msg, fmt, ap);
	va_end(ap);
	l->msg_at_ns = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
	pthread_mutex_unlock(&l->lock);
	log_info("learn", "%s", l->msg);
}

/* Waits (20 s at most) for the next CC and maps it to the parameter being
 * learned; the main thread's reload then applies it. */
static void *learn_main(void *arg)
{
	struct app *a = arg;
	struct app_learn *l = &a->learn;
	unsigned seen = atomic_load_explicit(&l->seen, memory_order_acquire);
	int p = -1;
	for (int i = 0; i < 2000; i++) {
		p = atomic_load(&l->param);
		if (p < 0)
			return NULL;	/* cancelled */
		if (atomic_load_explicit(&l->seen, memory_order_acquire) != seen) {
			int cc = atomic_load(&l->cc), before = atomic_load(&l->owner[cc]);
			char err[512];
			pthread_mutex_lock(&l->lock);
			struct learn_map m = l->map;
			learn_map_set(&m, p, cc);
			int rc = learn_save(a->state_dir, &m, err, sizeof err);
			if (rc == 0)
				l->map = m;
			pthread_mutex_unlock(&l->lock);
			atomic_store(&l->param, -1);
			if (rc != 0) {
				learn_say(l, "CC %d not learned for %s: %.100s", cc, param_table[p].name, err);
				return NULL;
			}
			pthread_kill(a->main_thread, SIGHUP);
			if (before == p)
				learn_say(l, "CC %d already moves %s", cc, param_table[p].name);
			else
				learn_say(l, "CC %d now moves %s (before: %s)", cc, param_table[p].name,
					  before >= 0 ? param_table[before].name : "nothing");
			return NULL;
		}
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (atomic_exchange(&l->param, -1) >= 0)
		learn_say(l, "no controller moved within 20 s: nothing learned for %s",
			  param_table[p].name);
	return NULL;
}

/* Starts learning a controller for param (or cancels with -1); any
 * control-side thread.  0, or -1 with the reason in msg. */
static int learn_request(struct app *a, int param, char *msg, size_t n)
{
	struct app_learn *l = &a->learn;
	static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
	if (param < 0 || param >= P_COUNT) {
		bool was = atomic_exchange(&l->param, -1) >= 0;
		if (was)
			learn_say(l, "learning cancelled");
		snprintf(msg, n, "%s", was ? "learning cancelled" : "not learning");
		return 0;
	}
	if (!atomic_load(&a->midi)) {
		snprintf(msg, n, "no MIDI input: nothing to learn from (see midi.input_port)");
		return -1;
	}
	pthread_mutex_lock(&start_lock);
	if (atomic_exchange(&l->param, param) < 0) {
		if (l->thread_on)
			pthread_join(l->thread, NULL);
		l->thread_on = pthread_create(&l->thread, NULL, learn_main, a) == 0;
		if (!l->thread_on)
			atomic_store(&l->param, -1);
	}
	pthread_mutex_unlock(&start_lock);
	if (atomic_load(&l->param) < 0) {
		snprintf(msg, n, "cannot start learning: out of threads");
		return -1;
	}
	snprintf(msg, n, "learning %s: move a controller", param_table[param].name);
	log_info("learn", "learning %s: waiting for a controller", param_table[param].name);
	return 0;
}

/* The learned controllers, laid over the starting configuration. */
static void start_learn(struct app *a)
{
	struct app_learn *l = &a->learn;
	char err[1024];
	config_state_dir(a->cfg, a->state_dir, sizeof a->state_dir);
	if (learn_load(a->state_dir, &l->map, err, sizeof err) != 0)
		log_error("learn", "%s: starting with the configuration's mapping only", err);
	else if (learn_map_count(&l->map) > 0)
		log_info("learn", "%d learned controller%s from %s/%s", learn_map_count(&l->map),
			 learn_map_count(&l->map) == 1 ? "" : "s", a->state_dir, LEARN_FILE);
	learn_apply(&a->cfg->engine, &l->map);
	learn_owners(l, &a->cfg->engine);
}

/* True when the console's terminal has hung up (its SSH link closed). */
static bool terminal_hung_up(void)
{
	struct pollfd pf = {.fd = STDIN_FILENO, .events = POLLIN};
	return poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* --- reload --------------------------------------------------------------- */

static void reload(struct app *a)
{
	const struct cli_options *opts = a->opts;
	struct config *next = calloc(1, sizeof *next);
	struct config_errors errs = {0};
	if (!next) {
		log_error("reload", "out of memory");
		return;
	}
	const char *path = opts->config_path;
	if (!path && strcmp(a->cfg->source, CONFIG_BUILTIN) != 0)
		path = a->cfg->source;
	enum config_status st = config_load(next, path, opts->sets, opts->n_sets, &errs);
	if (st != CONFIG_OK) {
		for (int i = 0; i < errs.n; i++)
			log_error("reload", "%s", errs.msg[i]);
		log_error("reload", "%s: %s; keeping the running configuration",
			  path ? path : CONFIG_BUILTIN, config_strerror(st));
		config_errors_free(&errs);
		free(next);
		return;
	}
	config_errors_free(&errs);
	set_clock_out(a, next);
	if (a->midi_clock)	/* before the engine: its first pulses find the sink on */
		midi_clock_set(a->midi_clock, next->engine.clock_out);
	pthread_mutex_lock(&a->learn.lock);	/* learned controllers over mapping.ccs */
	learn_apply(&next->engine, &a->learn.map);
	pthread_mutex_unlock(&a->learn.lock);
	learn_owners(&a->learn, &next->engine);

	/* engine: mapping, scales, sequencer, mutation, idle */
	worker_reconfigure(a->worker, &next->engine);
	if (a->evout)
		evout_set_config(a->evout, &next->engine);

	/* logging */
	int level = next->logging.level + opts->verbosity;
	level = log_level_clamp(level);
	log_set_level((enum log_level)level);

	struct config *old = a->cfg;
	a->cfg = next;

	/* LED port: swap in the new one, then close the old once the worker
	 * has looped past it */
	const char *led_spec = opts->led ? opts->led : next->led.transport;
	if (strcmp(led_spec, a->led_spec) != 0 || next->led.max_rate != old->led.max_rate) {
		struct led *nl = open_led(a, led_spec);
		struct led *ol = atomic_exchange(&a->led.led, nl);
		wait_worker_loops(a);
		if (ol)
			led_close(ol);
		snprintf(a->led_spec, sizeof a->led_spec, "%s", led_spec);
	}

	/* MIDI input */
	const char *midi_spec = opts->midi_in ? opts->midi_in : next->midi.input_port;
	if (strcmp(midi_spec, a->midi_spec) != 0) {
		stop_midi(a);
		start_midi(a, midi_spec);
	}
	const char *clock_spec = clock_spec_of(a, next);
	if (strcmp(clock_spec, a->clock_spec) != 0) {
		stop_clock_in(a);
		start_clock_in(a, clock_spec);
	}

	if (a->http)
		http_set_control(a->http, next->api.allow_control, next->api.max_writes_per_s);
	if (memcmp(&old->osc, &next->osc, sizeof old->osc) != 0) {
		osc_ctl_stop(a->osc);	/* its senders are forgotten: they get the state anew */
		a->osc = NULL;
		start_osc(a);
	}

	if (strcmp(old->midi.output_port, next->midi.output_port) != 0 ||
	    old->midi.notes_out != next->midi.notes_out ||
	    old->midi.out_channel != next->midi.out_channel)
		log_warn("reload", "MIDI output settings changed: they apply at the next start "
				   "(midi.clock_out applies now)");
	if (memcmp(&old->synth, &next->synth, sizeof old->synth) != 0)
		log_warn("reload", "synth settings changed: they apply at the next start "
				   "(the audio stack keeps running)");
	free(old);
	log_info("reload", "configuration %s applied", next->source);
}

/* --- the run -------------------------------------------------------------- */

/*
 * The worker's longest sleep: the main thread feeds systemd's watchdog
 * every wait_ns when the heartbeat moved, so the worker loops at least
 * twice as often; 1 s without a watchdog.  Everything else wakes it when it
 * is due (doc/performance.md).
 */
static int64_t worker_heartbeat_ns(int64_t wd_period, int64_t wait_ns)
{
	return wd_period > 0 && wait_ns / 2 < NS_PER_SEC ? wait_ns / 2 : NS_PER_SEC;
}

/* The run's timing and queue figures in log lines (benches read them). */
static void log_stats(struct worker *w, struct inq *q)
{
	struct inq_stats st;
	inq_get_stats(q, &st);
	log_info("input_stats",
		 "inq_cap %u inq_max_depth %u delivered %llu coalesced %llu deferred %llu "
		 "dropped_notes %llu dropped_other %llu",
		 st.cap, st.max_depth, (unsigned long long)st.delivered,
		 (unsigned long long)st.coalesced, (unsigned long long)st.deferred,
		 (unsigned long long)st.dropped_notes, (unsigned long long)st.dropped_other);
	struct hist *late = worker_lateness(w), *lat = worker_latency(w);
	log_info("worker_stats",
		 "loops %llu realtime %s lateness_p50_us %.1f lateness_p99_us %.1f "
		 "midi_to_send_n %llu midi_to_send_p50_us %.1f midi_to_send_p99_us %.1f",
		 (unsigned long long)worker_heartbeat(w), worker_is_realtime(w) ? "yes" : "no",
		 (double)hist_quantile(late, 0.5) / 1e3, (double)hist_quantile(late, 0.99) / 1e3,
		 (unsigned long long)hist_count(lat), (double)hist_quantile(lat, 0.5) / 1e3,
		 (double)hist_quantile(lat, 0.99) / 1e3);
}

static void teardown(struct app *a)
{
	sdnotify_stopping();
	ctl_server_stop(a->ctl);
	if (a->http)
		http_stop(a->http);
	osc_ctl_stop(a->osc);
	a->osc = NULL;
	if (a->console) {
		console_stop(a->console);
		log_to_terminal(a, true);
	}
	stop_clock_in(a);
	stop_midi(a);
	atomic_store(&a->learn.param, -1);
	if (a->learn.thread_on)
		pthread_join(a->learn.thread, NULL);
	if (a->worker) {
		worker_stop(a->worker);
		atomic_store(&a->worker_running, false);
		log_stats(a->worker, a->inq);
	}
	struct led *l = atomic_exchange(&a->led.led, NULL);
	if (l)
		led_close(l);
	if (a->evout) {
		if (evout_dropped(a->evout))
			log_warn("events_dropped", "%llu events not written to the event log "
				 "(its queue was full)", (unsigned long long)evout_dropped(a->evout));
		evout_close(a->evout);
	}
	if (a->synth) {
		struct synth_status st;
		synth_status(a->synth, &st);
		log_info("synth_stats",
			 "backend %s notes %llu bundles %llu late %llu dropped %llu steals %llu "
			 "restarts %u synths_peak %d",
			 st.backend, (unsigned long long)st.notes, (unsigned long long)st.bundles,
			 (unsigned long long)st.late, (unsigned long long)st.dropped,
			 (unsigned long long)st.steals, st.restarts, st.synths_peak);
		synth_close(a->synth);
	}
	synth_close(a->notes);
	if (a->midi_out) {
		struct midi_out_stats st;
		midi_out_get_stats(a->midi_out, &st);
		struct hist *late = midi_out_lateness(a->midi_out);
		log_info("midi_out_stats",
			 "messages %llu bytes %llu dropped_offline %llu dropped_full %llu "
			 "port_full %llu reconnects %llu late_p50_us %.1f late_p99_us %.1f "
			 "attempts %llu",
			 (unsigned long long)st.messages, (unsigned long long)st.bytes,
			 (unsigned long long)st.dropped_offline, (unsigned long long)st.dropped_full,
			 (unsigned long long)st.port_full, (unsigned long long)st.reconnects,
			 (double)hist_quantile(late, 0.5) / 1e3, (double)hist_quantile(late, 0.99) / 1e3,
			 (unsigned long long)st.attempts);
		midi_out_close(a->midi_out);
	}
	midi_clock_free(a->midi_clock);
	worker_free(a->worker);
	engine_free(a->engine);
	inq_free(a->inq);
	inq_free(a->clock_inq);
	free(a->cfg);
}

int app_run(const struct config *cfg, const struct cli_options *opts)
{
	struct app app = {.opts = opts};
	struct app *a = &app;
	int rc = 1;
	atomic_init(&a->learn.param, -1);
	pthread_mutex_init(&a->learn.lock, NULL);
	learn_map_clear(&a->learn.map);

	if (geteuid() == 0)
		log_warn("root", "running as root: run the instrument as an unprivileged user "
				 "in the audio group (see contrib/systemd)");

	/* signals: blocked here and so in every thread started from now on */
	sigset_t sigs, prev;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGPIPE);
	/* SIGWINCH only for the console thread, which unblocks it */
	sigset_t block = sigs;
	sigaddset(&block, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &block, &prev);
	a->main_thread = pthread_self();

	a->cfg = malloc(sizeof *a->cfg);
	if (!a->cfg)
		goto out;
	*a->cfg = *cfg;
	start_learn(a);

	/* The main thread feeds systemd's watchdog only while the worker's
	 * heartbeat moves, at half the watchdog period (at most every 1 s). */
	int64_t wd_period = sdnotify_watchdog_period_ns();
	int64_t wait_ns = wd_period > 0 && wd_period / 2 < NS_PER_SEC ? wd_period / 2 : NS_PER_SEC;

	if (open_midi_out(a) != 0)
		goto out;
	set_clock_out(a, a->cfg);
	a->engine = engine_new(&a->cfg->engine, opts->seed);
	a->inq = inq_new(APP_INQ_CAP);
	a->clock_inq = inq_new(APP_CLOCK_INQ_CAP);
	struct worker_options wo = {
		.lookahead_ns = (int64_t)a->cfg->synth.lookahead_ms * NS_PER_MS,
		.heartbeat_ns = worker_heartbeat_ns(wd_period, wait_ns),
		.realtime = true,
		.late_drop_ns = (int64_t)a->cfg->synth.late_drop_ms * NS_PER_MS,
	};
	if (a->engine && a->inq && a->clock_inq)
		a->worker = worker_new(a->engine, &a->cfg->engine, a->inq, &wo);
	if (a->worker)
		worker_add_clock_input(a->worker, a->clock_inq);
	if (!a->worker) {
		log_error("start", "out of memory");
		goto out;
	}

	if (open_synth(a) != 0)
		goto out;
	struct worker_sink ss = {.name = "synth", .events = synth_sink_events,
				 .fill = synth_sink_fill, .shutdown = synth_sink_shutdown,
				 .ctx = a->synth};
	worker_add_sink(a->worker, &ss);

	/* the notes out, then the MIDI output's own sink (clock out, and the
	 * pump that writes what both scheduled) */
	if (open_notes_out(a) != 0)
		goto out;
	if (a->notes) {
		struct worker_sink ns = {.name = "notes_out", .events = synth_sink_events,
					 .shutdown = synth_sink_shutdown, .ctx = a->notes};
		worker_add_sink(a->worker, &ns);
	}
	if (a->midi_out) {
		a->midi_clock = midi_clock_new(a->midi_out, a->cfg->engine.clock_out);
		if (!a->midi_clock) {
			log_error("start", "out of memory");
			goto out;
		}
		struct worker_sink cs = midi_clock_sink(a->midi_clock);
		worker_add_sink(a->worker, &cs);
	}

	snprintf(a->led_spec, sizeof a->led_spec, "%s", opts->led ? opts->led : a->cfg->led.transport);
	atomic_store(&a->led.led, open_led(a, a->led_spec));
	struct worker_sink ls = {.name = "led", .events = led_sink_events,
				 .fill = led_sink_fill, .ctx = &a->led,
				 .next_due = led_sink_next_due};
	worker_add_sink(a->worker, &ls);

	struct worker_sink ms = {.name = "midi", .fill = midi_sink_fill, .ctx = a};
	worker_add_sink(a->worker, &ms);
	struct worker_sink lrn = {.name = "learn", .events = learn_sink_events, .ctx = &a->learn};
	worker_add_sink(a->worker, &lrn);

	if (opts->events_path) {
		a->evout = evout_open(opts->events_path, &a->cfg->engine, worker_base(a->worker));
		if (!a->evout)
			goto out;
		struct worker_sink es = evout_sink(a->evout);
		worker_add_sink(a->worker, &es);
		/* lets a reader of the event log place its times on the clock
		 * other programs stamp with (MIDI gear, tests, benches) */
		log_info("events_base", "event log time 0 is CLOCK_MONOTONIC %lld ns",
			 (long long)worker_base(a->worker));
	}

	/* The music starts once the audio stack answers (or after 10 s without
	 * it: the backend keeps trying and the music must not wait forever). */
	if (synth_wait_ready(a->synth, 10000) != 0)
		log_warn("synth", "the audio stack is not ready yet: playing on, sound follows when it is");

	if (opts->preset && load_preset(a, opts->preset, WORKER_CMD_CONTROL) != 0)
		log_warn("preset", "starting without preset %s", opts->preset);
	if (worker_start(a->worker) != 0) {
		log_error("start", "cannot start the worker thread");
		goto out;
	}
	atomic_store(&a->worker_running, true);
	snprintf(a->clock_spec, sizeof a->clock_spec, "%s", clock_spec_of(a, a->cfg));
	start_midi(a, opts->midi_in ? opts->midi_in : a->cfg->midi.input_port);
	start_clock_in(a, a->clock_spec);
	if (a->cfg->engine.clock_source != CLOCK_SOURCE_MIDI &&
	    strcmp(opts->clock_in ? opts->clock_in : a->cfg->midi.clock_input_port, "input") != 0)
		log_info("clock_in", "MIDI clock input not opened: sequencer.clock_source is "
			 "\"internal\"");
	log_info("started", "mystery-engine playing (configuration %s, seed %llu)",
		 a->cfg->source, (unsigned long long)opts->seed);
	start_http(a);
	start_osc(a);
	start_ctl(a);
	if (!opts->daemon && console_possible(STDIN_FILENO, STDOUT_FILENO))
		start_console(a);
	sdnotify_ready("playing");

	/* The watchdog is fed (every wait_ns, set above) only while the
	 * worker's heartbeat moves and the sound path is healthy (the synth
	 * backend's detector has not given up).  Without a watchdog this
	 * thread sleeps until a signal. */
	struct sdnotify_watchdog wd = {0};
	int sig = 0;
	for (;;) {
		struct timespec tick = rtclock_timespec(wait_ns);
		sig = sigtimedwait(&sigs, NULL, wd_period > 0 ? &tick : NULL);
		if (wd_period > 0) {
			struct synth_status sst;
			synth_status(a->synth, &sst);
			if (sst.watchdog_ok)
				sdnotify_watchdog_feed(&wd, worker_heartbeat(a->worker));
		}
		if (sig == SIGHUP && !opts->daemon && terminal_hung_up()) {
			/* the SSH link closed: a reload means nothing now */
			atomic_store(&a->stop_by, APP_STOP_HANGUP);
			break;
		}
		if (sig == SIGHUP) {
			reload(a);
			atomic_fetch_add(&a->reloads, 1);
		} else if (sig == SIGTERM || sig == SIGINT) {
			break;
		}
	}
	int by = atomic_load(&a->stop_by);
	log_info("stopping", "stopped by %s",
		 by == APP_STOP_ATTACHED		 ? "an attached console (Q)"
		 : by == APP_STOP_HANGUP		 ? "the terminal's hang-up (SIGHUP)"
		 : atomic_load(&a->quit_requested) ? "the console (q)"
		 : sig == SIGINT			 ? "SIGINT"
							 : "SIGTERM");
	rc = 0;
out:
	teardown(a);
	/* A signal still pending (a SIGHUP that came during the shutdown) would
	 * be delivered, and kill the program, as soon as the mask is restored:
	 * the shutdown has answered it. */
	struct timespec zero = {0, 0};
	while (sigtimedwait(&sigs, NULL, &zero) > 0)
		;
	/* A reload asked for now means nothing, and a closed stderr must not
	 * kill the last log lines: those two stay blocked until the exit. */
	sigset_t after = prev;
	sigaddset(&after, SIGHUP);
	sigaddset(&after, SIGPIPE);
	pthread_sigmask(SIG_SETMASK, &after, NULL);
	return rc;
}
