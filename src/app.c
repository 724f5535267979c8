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

/* Worker: the LED cues name modes and palettes as the new configuration
 * does from the same point of the event list as the engine and the log. */
static void led_sink_reconfigure(void *ctx, const struct engine_config *c,
				 const struct config *cfg)
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
static void app_sink_reconfigure(void *ctx, const struct engine_config *c,
				 const struct config *cfg)
{
	struct app *a = ctx;
	(void)c;
	if (cfg)
		app_preset_dir(cfg, a->wk_preset_dir, sizeof a->wk_preset_dir);
}

/* Worker: where presets live, and the MIDI input's state and counters (the
 * input thread's atomics; kept while there is none). */
static void app_sink_fill(void *ctx, struct snapshot *s)
{
	struct app *a = ctx;
	struct midi_in *mi = atomic_load(&a->midi);
	struct midi_in_stats st;
	memcpy(s->preset_dir, a->wk_preset_dir, sizeof s->preset_dir);
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
		log_info("led_open", "LED cues to %s at most %d frames/s", spec, a->cfg->led.max_rate);
	return l;
}

/* Waits (control thread) until the worker has begun two more loops, so it
 * no longer holds a pointer it read before a swap. */
static void wait_worker_loops(struct app *a)
{
	if (!a->worker || !atomic_load(&a->worker_running))
		return;
	uint64_t hb = worker_heartbeat(a->worker);
	while (worker_heartbeat(a->worker) < hb + 2) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

static void stop_midi(struct app *a)
{
	struct midi_in *mi = atomic_exchange(&a->midi, NULL);
	if (!mi)
		return;
	wait_worker_loops(a);
	midi_in_stop(mi);
}

static void start_midi(struct app *a, const char *spec)
{
	snprintf(a->midi_spec, sizeof a->midi_spec, "%s", spec);
	if (strcmp(spec, "none") == 0) {
		log_info("midi_in", "no MIDI input (none)");
		return;
	}
	enum midi_in_err err;
	struct midi_in *mi = midi_in_start(spec, a->inq, NULL, &err);
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
	enum synth_err err;
	a->synth = synth_open(ops, &set, &err);
	if (!a->synth) {
		log_error("synth", "cannot open the synth backend: %s", synth_strerror(err));
		return -1;
	}
	return 0;
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

	if (a->http)
		http_set_control(a->http, next->api.allow_control, next->api.max_writes_per_s);
	if (memcmp(&old->osc, &next->osc, sizeof old->osc) != 0) {
		osc_ctl_stop(a->osc);	/* its senders are forgotten: they get the state anew */
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

	log_set_level((enum log_level)log_level_clamp(next->logging.level + opts->verbosity));

	/* the engine (mapping, scales, sequencer, mutation, idle), the
	 * snapshot's names and every sink, at one point of the event list */
	worker_reconfigure(a->worker, &next->engine, next);

	struct config *old = a->cfg;
	a->cfg = next;
	reopen_changed(a, old, next);
	free(old);
	log_info("reload", "configuration %s applied", next->source);
}

/* --- the run -------------------------------------------------------------- */

/*
 * How often the worker wakes when nothing rings it.  MIDI and commands wake
 * it at once, so the period only bounds how early sequenced events go out
 * (at least look-ahead minus one period) and how often LED frames can leave
 * (one per wake): 10 ms at most, a quarter of the look-ahead, and the LED
 * frame spacing when LEDs are on.  Fewer wakes is less CPU (see
 * doc/performance.md).
 */
static int64_t worker_period(const struct config *c, const struct cli_options *opts)
{
	int64_t p = 10 * NS_PER_MS;
	int64_t quarter = (int64_t)c->synth.lookahead_ms * NS_PER_MS / 4;
	if (quarter < p)
		p = quarter;
	const char *led = opts->led ? opts->led : c->led.transport;
	if (strcmp(led, "none") != 0 && c->led.max_rate > 0 && NS_PER_SEC / c->led.max_rate < p)
		p = NS_PER_SEC / c->led.max_rate;
	return p < NS_PER_MS / 2 ? NS_PER_MS / 2 : p;
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
	if (a->http)
		http_stop(a->http);
	osc_ctl_stop(a->osc);
	a->osc = NULL;
	if (a->console) {
		console_stop(a->console);
		app_log_to_terminal(a, true);
	}
	stop_midi(a);
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
			 "port_full %llu reconnects %llu late_p50_us %.1f late_p99_us %.1f",
			 (unsigned long long)st.messages, (unsigned long long)st.bytes,
			 (unsigned long long)st.dropped_offline, (unsigned long long)st.dropped_full,
			 (unsigned long long)st.port_full, (unsigned long long)st.reconnects,
			 (double)hist_quantile(late, 0.5) / 1e3, (double)hist_quantile(late, 0.99) / 1e3);
		midi_out_close(a->midi_out);
	}
	midi_clock_free(a->midi_clock);
	worker_free(a->worker);
	engine_free(a->engine);
	inq_free(a->inq);
	free(a->cfg);
}

int app_run(const struct config *cfg, const struct cli_options *opts)
{
	struct app app = {.opts = opts};
	struct app *a = &app;
	int rc = 1;

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

	if (open_midi_out(a) != 0)
		goto out;
	set_clock_out(a, a->cfg);
	a->engine = engine_new(&a->cfg->engine, opts->seed);
	a->inq = inq_new(APP_INQ_CAP);
	struct worker_options wo = {
		.lookahead_ns = (int64_t)a->cfg->synth.lookahead_ms * NS_PER_MS,
		.period_ns = worker_period(a->cfg, opts),
		.realtime = true,
		.late_drop_ns = (int64_t)a->cfg->synth.late_drop_ms * NS_PER_MS,
	};
	if (a->engine && a->inq)
		a->worker = worker_new(a->engine, &a->cfg->engine, a->inq, &wo);
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
				 .fill = led_sink_fill, .reconfigure = led_sink_reconfigure,
				 .ctx = &a->led};
	worker_add_sink(a->worker, &ls);

	app_preset_dir(a->cfg, a->wk_preset_dir, sizeof a->wk_preset_dir);
	struct worker_sink as = {.name = "app", .fill = app_sink_fill,
				 .reconfigure = app_sink_reconfigure, .ctx = a};
	worker_add_sink(a->worker, &as);

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

	if (opts->preset && app_load_first_preset(a, opts->preset) != 0)
		log_warn("preset", "starting without preset %s", opts->preset);
	if (worker_start(a->worker) != 0) {
		log_error("start", "cannot start the worker thread");
		goto out;
	}
	atomic_store(&a->worker_running, true);
	start_midi(a, opts->midi_in ? opts->midi_in : a->cfg->midi.input_port);
	log_info("started", "mystery-engine playing (configuration %s, seed %llu)",
		 a->cfg->source, (unsigned long long)opts->seed);
	app_start_http(a);
	app_start_osc(a);
	if (!opts->daemon && console_possible(STDIN_FILENO, STDOUT_FILENO))
		app_start_console(a);
	sdnotify_ready("playing");

	/* The main thread feeds systemd's watchdog only while the worker's
	 * heartbeat moves and the sound path is healthy (the synth backend's
	 * detector has not given up), at half the watchdog period. */
	struct sdnotify_watchdog wd = {0};
	int64_t wd_period = sdnotify_watchdog_period_ns();
	int64_t wait_ns = wd_period > 0 && wd_period / 2 < NS_PER_SEC ? wd_period / 2 : NS_PER_SEC;
	int sig = 0;
	for (;;) {
		struct timespec tick = rtclock_timespec(wait_ns);
		sig = sigtimedwait(&sigs, NULL, &tick);
		if (wd_period > 0) {
			struct synth_status sst;
			synth_status(a->synth, &sst);
			if (sst.watchdog_ok)
				sdnotify_watchdog_feed(&wd, worker_heartbeat(a->worker));
		}
		if (sig == SIGHUP) {
			reload(a);
		} else if (sig == SIGTERM || sig == SIGINT) {
			break;
		}
	}
	log_info("stopping", "stopped by %s",
		 atomic_load(&a->quit_requested) ? "the console (q)"
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
