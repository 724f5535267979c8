/*
 * app: running the instrument (the default mode, and --daemon).
 *
 * Reads like the life of a performance: build the core and its worker, open
 * the MIDI output, the sound, the LED port and the event log as the worker's
 * sinks (notes and clock out are a sink of their own), start the
 * worker, connect the MIDI input, then wait for signals in the main thread.
 * SIGHUP reloads the configuration (validated first; a bad file changes
 * nothing); SIGTERM and SIGINT stop: the MIDI input first, then the worker
 * (whose sinks release every voice), then the LED port (which sends the idle
 * cue), the event log, and the audio stack with its child processes.
 *
 * A reload has one way in: the worker takes the new configuration between
 * two loops and hands it to the engine and to every sink (LED names, event
 * log names, the preset directory readers see in the snapshot); only then
 * does the main thread reopen what has a new address (LED port, MIDI port,
 * OSC surface) and set the HTTP server's control switch.  a->cfg belongs to
 * the main thread: the console, HTTP and OSC threads read the snapshot,
 * never it.
 *
 * The handled signals are blocked in every thread (the mask is inherited)
 * and taken with sigtimedwait() here, so no handler runs inside a library
 * call.  Main thread only, but for the sink callbacks (worker thread) and
 * the console and HTTP callbacks (their threads), which say so.
 */
#include "app.h"
#include "app_impl.h"

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
#include "core/scale.h"
#include "dev/audio_card.h"
#include "ops/ctl_server.h"
#include "rt/evout.h"
#include "ops/http.h"
#include "ops/osc_ctl.h"
#include "rt/inq.h"
#include "dev/led.h"
#include "rt/log.h"
#include "dev/midi_clock.h"
#include "dev/midi_in.h"
#include "dev/midi_out.h"
#include "rt/rtclock.h"
#include "ops/sdnotify.h"
#include "synth/synth.h"
#include "synth/synth_sc.h"
#include "rt/worker.h"
#include "ui/tui.h"

/* --- sinks ---------------------------------------------------------------- */

static void synth_sink_events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	synth_events(ctx, ev, n, now);
}

static void synth_sink_shutdown(void *ctx)
{
	synth_release_all(ctx);
}

static void synth_sink_fill(void *ctx, struct snapshot *s)
{
	struct synth_status st;
	int64_t now = rtclock_mono_ns();
	synth_watch(ctx, now);
	synth_status(ctx, &st);
	s->link_synth = (uint8_t)st.link;
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
	s->out_meter_age_ns = st.meter_ns > 0 ? now - st.meter_ns : -1;
	s->meter_replies = st.meter_replies;
	s->sound_faults = st.health_faults;
	s->late_sent = st.late_sent;
	s->synth_dropped = st.dropped;
	s->health_restarts = st.health_restarts;
	s->stack_restarts = st.stack_restarts;
	s->sound = (uint8_t)st.sound;
	s->watchdog_ok = st.watchdog_ok;
	snprintf(s->synth_fault, sizeof s->synth_fault, "%s", synth_fault_text(st.fault));
	snprintf(s->synth_fault_short, sizeof s->synth_fault_short, "%s",
	         synth_fault_name(st.fault));
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

/* Worker: the LED cues name modes and palettes as the new configuration
 * does from the same point of the event list as the engine and the log. */
static void led_sink_reconfigure(void *ctx, const struct engine_config *c, const struct config *cfg)
{
	struct app_led *al = ctx;
	struct led *l = atomic_load(&al->led);
	const char *modes[ENGINE_MAX_PROFILES + 1], *palettes[ENGINE_MAX_PALETTES + 1];
	int i;
	(void)cfg;
	if (!l)
		return;
	for (i = 0; i < c->n_modes; i++)
		modes[i] = c->profiles[c->modes[i]].name;
	modes[i] = NULL;
	for (i = 0; i < c->n_palettes; i++)
		palettes[i] = c->palettes[i];
	palettes[i] = NULL;
	led_set_names(l, modes, palettes);
}

/* Worker: the LED port's state and counters (kept while there is none). */
static void led_sink_fill(void *ctx, struct snapshot *s)
{
	struct led *l = atomic_load(&((struct app_led *)ctx)->led);
	struct led_stats st;
	s->link_led = (uint8_t)(l ? led_state(l) : LINK_OFF);
	if (l) {
		led_get_stats(l, &st);
		s->led_frames = st.frames;
		s->led_dropped = st.dropped_param + st.dropped_note;
	}
}

/* Worker: the program's own sink.  A reload sets where presets live; the
 * snapshot carries it to the console and HTTP threads. */
static void app_sink_reconfigure(void *ctx, const struct engine_config *c, const struct config *cfg)
{
	struct app *a = ctx;
	(void)c;
	if (cfg)
		app_preset_dir(cfg, a->wk_preset_dir, sizeof a->wk_preset_dir);
}

/* Worker: where presets live, and the MIDI input's and the clock port's
 * states and counters (the input threads' atomics; kept while there is none). */
static void app_sink_fill(void *ctx, struct snapshot *s)
{
	struct app *a = ctx;
	struct midi_in_stats st;
	struct midi_in *mi = atomic_load(&a->midi);
	memcpy(s->preset_dir, a->wk_preset_dir, sizeof s->preset_dir);
	struct midi_in *ci = atomic_load(&a->clock_midi);
	s->link_clock_in = LINK_OFF;
	if (ci) {
		midi_in_get_stats(ci, &st);
		s->link_clock_in = (uint8_t)midi_in_state(ci);
		s->clock_in_reconnects = st.disconnects;
	}
	s->link_midi = (uint8_t)(mi ? midi_in_state(mi) : LINK_OFF);
	if (mi) {
		midi_in_get_stats(mi, &st);
		memcpy(s->midi_in, st.messages, sizeof s->midi_in);
		s->midi_parse_errors = st.parse_errors;
		s->midi_reconnects = st.disconnects;
	}
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
		log_info("led_open", "LED cues to %s at most %d frames/s", spec,
		         a->cfg->led.max_rate);
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

/* Stops an input (the MIDI input or the clock port) once the worker no
 * longer reads it. */
static void stop_input(struct app *a, _Atomic(struct midi_in *) *slot)
{
	struct midi_in *mi = atomic_exchange(slot, NULL);
	if (!mi)
		return;
	wait_worker_loops(a);
	midi_in_stop(mi);
}

static void stop_midi(struct app *a)
{
	stop_input(a, &a->midi);
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
	stop_input(a, &a->clock_midi);
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
		log_info("clock_in",
		         "MIDI clock input %s (the MIDI input's clock ignored; "
		         "waiting for the device if absent)",
		         spec);
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
	log_info("midi_out",
	         "MIDI output %s: clock %s, notes %s (waiting for the device if "
	         "absent)",
	         spec, a->cfg->midi.clock_out ? "on" : "off",
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
	    synth_find(a->cfg->synth.backend == CONFIG_SYNTH_NONE   ? "none"
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

/* True when the console's terminal has hung up (its SSH link closed). */
static bool terminal_hung_up(void)
{
	struct pollfd pf = {.fd = STDIN_FILENO, .events = POLLIN};
	return poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* --- reload --------------------------------------------------------------- */

/* Main thread, after the worker has taken next: what needs the control
 * thread.  A port with a new address is reopened (the LED port is swapped
 * in, the old one closed once the worker has looped past it), the HTTP
 * server's control switch set, the OSC surface restarted when its settings
 * changed; MIDI output and synth settings wait for the next start. */
static void reopen_changed(struct app *a, const struct config *old, const struct config *next)
{
	const struct cli_options *opts = a->opts;
	const char *led_spec = opts->led ? opts->led : next->led.transport;
	if (strcmp(led_spec, a->led_spec) != 0 || next->led.max_rate != old->led.max_rate) {
		struct led *nl = open_led(a, led_spec);
		struct led *ol = atomic_exchange(&a->led.led, nl);
		wait_worker_loops(a);
		if (ol)
			led_close(ol);
		snprintf(a->led_spec, sizeof a->led_spec, "%s", led_spec);
	}

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
		osc_ctl_stop(a->osc); /* its senders are forgotten: they get the state anew */
		a->osc = NULL;
		app_start_osc(a);
	}

	if (strcmp(old->midi.output_port, next->midi.output_port) != 0 ||
	    old->midi.notes_out != next->midi.notes_out ||
	    old->midi.out_channel != next->midi.out_channel)
		log_warn("reload", "MIDI output settings changed: they apply at the next start "
		                   "(midi.clock_out applies now)");
	if (memcmp(&old->synth, &next->synth, sizeof old->synth) != 0)
		log_warn("reload", "synth settings changed: they apply at the next start "
		                   "(the audio stack keeps running)");
}

/* What the last reload did, for the control socket's reply (ok: applied). */
static void reload_said(struct app *a, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reload_said(struct app *a, bool ok, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&a->reload_lock);
	va_start(ap, fmt);
	vsnprintf(a->reload_text, sizeof a->reload_text, fmt, ap);
	va_end(ap);
	a->reload_ok = ok;
	pthread_mutex_unlock(&a->reload_lock);
}

static void reload(struct app *a)
{
	const struct cli_options *opts = a->opts;
	struct config *next = calloc(1, sizeof *next);
	struct config_errors errs = {0};
	if (!next) {
		log_error("reload", "out of memory");
		reload_said(a, false, "out of memory");
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
		reload_said(a, false, "%.200s: %s; keeping the running configuration%s%.240s",
		            path ? path : CONFIG_BUILTIN, config_strerror(st), errs.n ? ": " : "",
		            errs.n ? errs.msg[0] : "");
		config_errors_free(&errs);
		free(next);
		return;
	}
	config_errors_free(&errs);
	set_clock_out(a, next);            /* the clock sink takes it with the engine */
	app_learn_apply(a, &next->engine); /* learned controllers over mapping.ccs */

	log_set_level((enum log_level)log_level_clamp(next->logging.level + opts->verbosity));

	/* the engine (mapping, scales, sequencer, mutation, idle), the
	 * snapshot's names and every sink, at one point of the event list */
	worker_reconfigure(a->worker, &next->engine, next);

	struct config *old = a->cfg;
	a->cfg = next;
	reopen_changed(a, old, next);
	free(old);
	log_info("reload", "configuration %s applied", next->source);
	reload_said(a, true, "configuration %.400s applied", path ? path : CONFIG_BUILTIN);
}

/* --- the run -------------------------------------------------------------- */

/*
 * The worker's longest sleep: the main thread feeds systemd's watchdog
 * every wait_ns when the heartbeat moved, so the worker loops at least
 * twice as often.  Without a watchdog nobody needs a loop on a clock: the
 * engine's next step, a sink's wish, an input, a command and a reader's
 * snapshot request each wake it when due, so it sleeps up to a minute
 * (doc/performance.md, "Idle with the scsynth link").
 */
#define APP_IDLE_HEARTBEAT_NS (60 * NS_PER_SEC)
static int64_t worker_heartbeat_ns(int64_t wd_period, int64_t wait_ns)
{
	return wd_period > 0 ? wait_ns / 2 : APP_IDLE_HEARTBEAT_NS;
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
		app_log_to_terminal(a, true);
	}
	stop_clock_in(a);
	stop_midi(a);
	app_learn_stop(a);
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
			log_warn("events_dropped",
			         "%llu events not written to the event log "
			         "(its queue was full)",
			         (unsigned long long)evout_dropped(a->evout));
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
		         (unsigned long long)st.dropped_offline,
		         (unsigned long long)st.dropped_full, (unsigned long long)st.port_full,
		         (unsigned long long)st.reconnects, (double)hist_quantile(late, 0.5) / 1e3,
		         (double)hist_quantile(late, 0.99) / 1e3, (unsigned long long)st.attempts);
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
	pthread_mutex_init(&a->reload_lock, NULL);
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
	app_learn_start(a);

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
	struct worker_sink ss = {.name = "synth",
	                         .events = synth_sink_events,
	                         .fill = synth_sink_fill,
	                         .shutdown = synth_sink_shutdown,
	                         .ctx = a->synth};
	worker_add_sink(a->worker, &ss);

	/* the notes out, then the MIDI output's own sink (clock out, and the
	 * pump that writes what both scheduled) */
	if (open_notes_out(a) != 0)
		goto out;
	if (a->notes) {
		struct worker_sink ns = {.name = "notes_out",
		                         .events = synth_sink_events,
		                         .shutdown = synth_sink_shutdown,
		                         .ctx = a->notes};
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

	snprintf(a->led_spec, sizeof a->led_spec, "%s",
	         opts->led ? opts->led : a->cfg->led.transport);
	atomic_store(&a->led.led, open_led(a, a->led_spec));
	struct worker_sink ls = {.name = "led",
	                         .events = led_sink_events,
	                         .fill = led_sink_fill,
	                         .reconfigure = led_sink_reconfigure,
	                         .next_due = led_sink_next_due,
	                         .ctx = &a->led};
	worker_add_sink(a->worker, &ls);

	app_preset_dir(a->cfg, a->wk_preset_dir, sizeof a->wk_preset_dir);
	struct worker_sink as = {
	    .name = "app", .fill = app_sink_fill, .reconfigure = app_sink_reconfigure, .ctx = a};
	worker_add_sink(a->worker, &as);
	struct worker_sink lrn = {
	    .name = "learn", .events = app_learn_sink_events, .ctx = &a->learn};
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
		log_warn("synth",
		         "the audio stack is not ready yet: playing on, sound follows when it is");

	if (opts->preset && app_load_first_preset(a, opts->preset) != 0)
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
	log_info("started", "mystery-engine playing (configuration %s, seed %llu)", a->cfg->source,
	         (unsigned long long)opts->seed);
	app_start_http(a);
	app_start_osc(a);
	app_start_ctl(a);
	if (!opts->daemon && console_possible(STDIN_FILENO, STDOUT_FILENO))
		app_start_console(a);
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
	         by == APP_STOP_ATTACHED           ? "an attached console (Q)"
	         : by == APP_STOP_HANGUP           ? "the terminal's hang-up (SIGHUP)"
	         : atomic_load(&a->quit_requested) ? "the console (q)"
	         : sig == SIGINT                   ? "SIGINT"
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
