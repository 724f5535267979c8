/*
 * metrics: Prometheus text, /state JSON and /mutations JSON from plain data.
 *
 * Design: each formatter writes into an open_memstream buffer (Prometheus)
 * or builds a jansson tree (JSON, so escaping and validity come for free)
 * and hands the caller one malloc'ed string.  Metric names follow the
 * Prometheus conventions: the mystery_engine_ prefix, base units (seconds,
 * bytes, ratios), _total on counters, one series per state for enumerations
 * (link states).  Numbers are written in the C locale's form whatever the
 * process locale is.  Any thread but the real-time worker (allocates).
 */
#include "ops/metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/param.h"
#include "core/scale.h"
#include "synth/synth_health.h"
#include "dev/audio_card.h"

/* ---- process figures ---- */

static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	double bt = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "btime ", 6) == 0) {
			bt = strtod(line + 6, NULL);
			break;
		}
	fclose(f);
	return bt;
}

int metrics_process_read(struct metrics_process *p)
{
	memset(p, 0, sizeof *p);
	FILE *f = fopen("/proc/self/stat", "re");
	if (!f)
		return -1;
	char buf[1024];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which is in parentheses and may hold spaces. */
	char *s = strrchr(buf, ')');
	if (!s)
		return -1;
	s++;
	unsigned long long field[64] = {0};
	int k = 3; /* the field after ")" is state, number 3 */
	char *save = NULL;
	for (char *tok = strtok_r(s, " ", &save); tok && k < 64;
	     tok = strtok_r(NULL, " ", &save), k++)
		field[k] = strtoull(tok, NULL, 10);
	if (k < 25)
		return -1;
	double tck = (double)sysconf(_SC_CLK_TCK);
	double page = (double)sysconf(_SC_PAGESIZE);
	if (tck <= 0)
		tck = 100;
	p->cpu_seconds = (double)(field[14] + field[15]) / tck;
	p->start_time_seconds = boot_time() + (double)field[22] / tck;
	p->virtual_bytes = (double)field[23];
	p->resident_bytes = (double)field[24] * page;

	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				p->open_fds++;
		closedir(d);
		p->open_fds--; /* the one opendir() holds */
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		p->max_fds = rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
	return 0;
}

/* ---- Prometheus text ---- */

/* A float as Prometheus reads it: shortest round-trip form, +Inf/-Inf/NaN. */
static void fmt_value(char *buf, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(buf, n, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(buf, n, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, n, "%.17g", v);
	for (char *p = buf; *p; p++)
		if (*p == ',')
			*p = '.';
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s%s %s\n# TYPE %s%s %s\n", METRICS_PREFIX, name, help, METRICS_PREFIX,
	        name, type);
}

static void sample(FILE *f, const char *name, const char *labels, double v)
{
	char b[64];
	fmt_value(b, sizeof b, v);
	fprintf(f, "%s%s%s%s%s %s\n", METRICS_PREFIX, name, labels ? "{" : "", labels ? labels : "",
	        labels ? "}" : "", b);
}

static void sample_u64(FILE *f, const char *name, const char *labels, uint64_t v)
{
	fprintf(f, "%s%s%s%s%s %" PRIu64 "\n", METRICS_PREFIX, name, labels ? "{" : "",
	        labels ? labels : "", labels ? "}" : "", v);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	sample_u64(f, name, NULL, v);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	sample(f, name, NULL, v);
}

/* Label values are fixed names here, but escape anyway: \\, \" and \n. */
static void label(char *out, size_t n, const char *key, const char *val)
{
	size_t o = (size_t)snprintf(out, n, "%s=\"", key);
	for (const char *p = val; *p && o + 3 < n; p++) {
		if (*p == '\\' || *p == '"') {
			out[o++] = '\\';
			out[o++] = *p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *p;
		}
	}
	if (o + 2 <= n) {
		out[o++] = '"';
		out[o] = '\0';
	}
}

static void histogram(FILE *f, const char *name, const char *help, const struct hist *h)
{
	struct hist_bucket b[HIST_BUCKETS];
	size_t n = hist_export(h, b, HIST_BUCKETS);
	char le[48], v[64], lab[64];
	family(f, name, "histogram", help);
	/* One bound per doubling: the cumulative counts are exact at any bound. */
	for (size_t i = 0; i + 1 < n; i += HIST_PER_OCTAVE) {
		fmt_value(v, sizeof v, b[i].le_s);
		label(lab, sizeof lab, "le", v);
		fprintf(f, "%s%s_bucket{%s} %" PRIu64 "\n", METRICS_PREFIX, name, lab,
		        b[i].cumulative);
	}
	uint64_t count = n ? b[n - 1].cumulative : 0;
	snprintf(le, sizeof le, "le=\"+Inf\"");
	fprintf(f, "%s%s_bucket{%s} %" PRIu64 "\n", METRICS_PREFIX, name, le, count);
	fmt_value(v, sizeof v, (double)hist_sum(h) / 1e9);
	fprintf(f, "%s%s_sum %s\n", METRICS_PREFIX, name, v);
	fprintf(f, "%s%s_count %" PRIu64 "\n", METRICS_PREFIX, name, count);
}

/* The server's output meter and the sound detector (synth_health.h). */
static void sound_metrics(FILE *f, const struct snapshot *s)
{
	char lab[64];
	gauge(f, "output_peak_ratio",
	      "Peak of the synth server's output over the last meter window (full scale 1).",
	      s->out_peak);
	gauge(f, "output_rms_ratio",
	      "RMS of the synth server's output over the last meter window (full scale 1).",
	      s->out_rms);
	gauge(f, "output_meter_age_seconds", "Time since the server's output meter last replied.",
	      s->out_meter_age_ns < 0 ? NAN : (double)s->out_meter_age_ns / 1e9);
	counter(f, "output_meter_replies_total", "Replies of the server's output meter.",
	        s->meter_replies);
	family(f, "sound_state", "gauge",
	       "What the sound check says: 1 for the current state, 0 for the others.");
	for (int st = 0; st < SYNTH_SOUND_COUNT; st++) {
		label(lab, sizeof lab, "state", synth_sound_name((enum synth_sound)st));
		sample(f, "sound_state", lab, s->sound == st ? 1 : 0);
	}
	counter(f, "sound_faults_total",
	        "Faults the sound check acted on (silent output, stopped audio, a server that "
	        "does not come back).",
	        s->sound_faults);
	family(f, "sound_restarts_total", "counter",
	       "Restarts the sound check asked for, by what.");
	label(lab, sizeof lab, "what", "server");
	sample_u64(f, "sound_restarts_total", lab, s->health_restarts);
	label(lab, sizeof lab, "what", "stack");
	sample_u64(f, "sound_restarts_total", lab, s->stack_restarts);
	gauge(f, "watchdog_fed", "1 while systemd's watchdog is fed (the sound path is healthy).",
	      s->watchdog_ok ? 1 : 0);
	counter(f, "bundles_sent_late_total", "Bundles the worker sent after their time.",
	        s->late_sent);
	counter(f, "synth_dropped_events_total",
	        "Notes and changes not sent to the synth server (not ready, or the send failed).",
	        s->synth_dropped);
}

static void engine_metrics(FILE *f, const struct snapshot *s)
{
	char lab[160], l2[96];

	family(f, "midi_messages_total", "counter", "MIDI messages received, by kind.");
	for (int k = 0; k < MIDI_KIND_COUNT; k++) {
		label(lab, sizeof lab, "kind", midi_kind_name((enum midi_kind)k));
		sample_u64(f, "midi_messages_total", lab, s->midi_in[k]);
	}
	counter(f, "midi_parse_errors_total", "Malformed MIDI bytes or messages discarded.",
	        s->midi_parse_errors);
	counter(f, "midi_coalesced_messages_total",
	        "MIDI controller messages merged into a newer one of the same control.",
	        s->midi_coalesced);
	counter(f, "midi_reconnects_total", "Times the MIDI input was reopened.",
	        s->midi_reconnects);

	family(f, "dropped_messages_total", "counter", "Messages lost to a full queue, by queue.");
	static const char *const queues[] = {"midi_in",  "engine", "events",
	                                     "commands", "log",    "led"};
	const uint64_t dropped[] = {s->midi_dropped,     s->eng.dropped, s->events_dropped,
	                            s->commands_dropped, s->log_dropped, s->led_dropped};
	for (size_t i = 0; i < sizeof queues / sizeof queues[0]; i++) {
		label(lab, sizeof lab, "queue", queues[i]);
		sample_u64(f, "dropped_messages_total", lab, dropped[i]);
	}

	gauge(f, "input_queue_depth", "MIDI messages waiting for the worker.", s->inq_depth);
	gauge(f, "input_queue_max_depth", "Highest MIDI input queue depth seen.", s->inq_max_depth);
	gauge(f, "input_queue_capacity", "MIDI input queue size.", s->inq_cap);
	gauge(f, "worker_cpu_ratio", "CPU used by the real-time worker over the last second.",
	      s->worker_cpu);

	counter(f, "inputs_total", "Inputs (MIDI and commands) the engine took.", s->eng.inputs);
	counter(f, "unmapped_messages_total", "MIDI messages no mapping used.", s->eng.unmapped);
	counter(f, "filtered_messages_total", "MIDI messages on another channel.", s->eng.filtered);
	counter(f, "rejected_inputs_total", "Malformed commands or inputs the engine refused.",
	        s->eng.rejected);
	counter(f, "engine_notes_total", "Notes the sequencer emitted.", s->eng.notes);
	counter(f, "notes_played_total", "Notes the synth backend played.", s->notes_played);
	counter(f, "bundles_sent_total", "OSC bundles sent to the synth server.", s->bundles_sent);
	counter(f, "late_bundles_total", "Bundles that reached the server after their time.",
	        s->late_bundles);
	counter(f, "backend_restarts_total", "Restarts of the synth server or its link.",
	        s->backend_restarts);
	counter(f, "stalls_total",
	        "Times the worker resumed after a stall longer than synth.late_drop_ms.",
	        s->stalls);
	counter(f, "skipped_steps_total", "Sequencer steps skipped after stalls.",
	        s->steps_skipped);
	counter(f, "late_notes_dropped_total",
	        "Notes dropped because their time had passed by more than synth.late_drop_ms.",
	        s->late_notes_dropped);
	counter(f, "event_log_lost_total",
	        "Events not written to the event log because writing failed (a closed pipe, a "
	        "full disk).",
	        s->events_lost);
	gauge(f, "voices_active", "Voices sounding now.", s->voices_active);
	gauge(f, "voices_max", "Voices the synth may sound at once.", s->voices_max);
	gauge(f, "synth_server_cpu_ratio", "Synth server CPU load, average.",
	      s->server_cpu_avg / 100.0);
	gauge(f, "synth_server_cpu_peak_ratio", "Synth server CPU load, peak.",
	      s->server_cpu_peak / 100.0);
	gauge(f, "synth_server_synths", "Synth nodes running on the server.", s->server_synths);

	sound_metrics(f, s);

	counter(f, "mutations_total", "Mutations of the pattern and parameters.", s->eng.mutations);
	counter(f, "idle_transitions_total", "Entries into and exits from the idle mode.",
	        s->eng.idle_transitions);
	gauge(f, "idle", "1 while the instrument is in its idle (ambient) mode.",
	      s->eng.idle ? 1 : 0);
	gauge(f, "paused", "1 while the sequencer is paused.", s->eng.paused ? 1 : 0);
	counter(f, "led_frames_total", "LED cue frames sent.", s->led_frames);

	family(f, "link_state", "gauge",
	       "State of each link (midi, synth, led, midi_out, clock_in): 1 for its current "
	       "state, 0 for the others.");
	static const char *const links[] = {"midi", "synth", "led", "midi_out", "clock_in"};
	const uint8_t state[] = {s->link_midi, s->link_synth, s->link_led, s->link_midi_out,
	                         s->link_clock_in};
	for (size_t i = 0; i < sizeof state; i++)
		for (int st = 0; st < LINK_STATE_COUNT; st++) {
			label(lab, sizeof lab, "link", links[i]);
			label(l2, sizeof l2, "state", link_state_name((enum link_state)st));
			strncat(lab, ",", sizeof lab - strlen(lab) - 1);
			strncat(lab, l2, sizeof lab - strlen(lab) - 1);
			sample(f, "link_state", lab, state[i] == st ? 1 : 0);
		}

	family(f, "parameter", "gauge", "Current value of each parameter, in its unit.");
	for (int i = 0; i < P_COUNT; i++) {
		label(lab, sizeof lab, "name", param_table[i].name);
		sample(f, "parameter", lab, s->eng.value[i]);
	}
	gauge(f, "tempo_bpm", "Tempo now, including drift.", s->eng.tempo_now);
	gauge(f, "midi_clock_following", "1 while the steps follow an external MIDI clock.",
	      s->eng.clock_following ? 1 : 0);
	gauge(f, "midi_clock_bpm", "Tempo of the external MIDI clock (0 before any pulse).",
	      s->eng.clock_bpm);
	gauge(f, "midi_clock_jitter_seconds",
	      "Rms deviation of the MIDI clock pulses from their fitted line.",
	      s->eng.clock_jitter_ns / 1e9);
	counter(f, "midi_clock_pulses_total", "MIDI clock pulses received.", s->eng.clock_pulses);
	counter(f, "midi_clock_gaps_total",
	        "Times the MIDI clock stopped and the internal clock took over.",
	        s->eng.clock_gaps);
	counter(f, "midi_clock_in_reconnects_total",
	        "Times the MIDI clock port of its own (midi.clock_input_port) was reopened.",
	        s->clock_in_reconnects);
	counter(f, "midi_out_messages_total", "MIDI messages written to the MIDI output.",
	        s->midi_out_messages);
	counter(f, "midi_out_dropped_total",
	        "MIDI messages not written (port away, schedule full).", s->midi_out_dropped);
	gauge(f, "midi_out_late_p99_seconds",
	      "99th percentile of the MIDI output's write time after the due time.",
	      (double)s->midi_out_late_p99 / 1e9);
	gauge(f, "uptime_seconds", "Time since the worker started.", (double)s->uptime_ns / 1e9);
}

static void process_metrics(FILE *f, const struct metrics_process *p)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} rows[] = {
	    {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
	     offsetof(struct metrics_process, resident_bytes)},
	    {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
	     offsetof(struct metrics_process, virtual_bytes)},
	    {"process_cpu_seconds_total", "counter",
	     "Total user and system CPU time spent in seconds.",
	     offsetof(struct metrics_process, cpu_seconds)},
	    {"process_start_time_seconds", "gauge",
	     "Start time of the process since unix epoch in seconds.",
	     offsetof(struct metrics_process, start_time_seconds)},
	    {"process_open_fds", "gauge", "Number of open file descriptors.",
	     offsetof(struct metrics_process, open_fds)},
	    {"process_max_fds", "gauge", "Maximum number of open file descriptors.",
	     offsetof(struct metrics_process, max_fds)},
	};
	char v[64];
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		double x;
		memcpy(&x, (const char *)p + rows[i].off, sizeof x);
		fmt_value(v, sizeof v, x);
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", rows[i].name, rows[i].help,
		        rows[i].name, rows[i].type, rows[i].name, v);
	}
}

char *metrics_prometheus(const struct metrics_input *in, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	if (!f)
		return NULL;
	gauge(f, "snapshot_available", "1 once the engine has published its state.",
	      in->snap ? 1 : 0);
	if (in->snap)
		engine_metrics(f, in->snap);
	if (in->latency)
		histogram(f, "midi_to_send_latency_seconds",
		          "Time from a MIDI message's arrival to the hand-off of what it caused.",
		          in->latency);
	if (in->lateness)
		histogram(f, "worker_lateness_seconds",
		          "How late the real-time worker woke after its deadline.", in->lateness);
	if (in->n_http) {
		char lab[32];
		family(f, "http_responses_total", "counter", "HTTP API responses, by status code.");
		for (size_t i = 0; i < in->n_http; i++) {
			snprintf(lab, sizeof lab, "code=\"%d\"", in->http[i].code);
			sample_u64(f, "http_responses_total", lab, in->http[i].n);
		}
	}
	if (in->conns) {
		gauge(f, "http_connections", "HTTP API connections open.", (double)in->conns->open);
		family(f, "http_connections_closed_total", "counter",
		       "HTTP API connections the server closed before their request arrived whole: "
		       "too slow (timeout) or to make room for a new one (evicted).");
		sample_u64(f, "http_connections_closed_total", "reason=\"timeout\"",
		           in->conns->timed_out);
		sample_u64(f, "http_connections_closed_total", "reason=\"evicted\"",
		           in->conns->evicted);
	}
	if (in->proc)
		process_metrics(f, in->proc);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	if (len)
		*len = n;
	return text;
}

/* ---- JSON ---- */

/* json_real() refuses NaN and infinities: those become null. */
static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jname(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* Sets key to v, which it always takes over; false when either is NULL or on
 * ENOMEM. */
static bool put(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return false;
	if (!o) {
		json_decref(v);
		return false;
	}
	return json_object_set_new(o, key, v) == 0;
}

/* A new object stored under key in parent (which owns it); NULL on ENOMEM. */
static json_t *child(json_t *parent, const char *key)
{
	json_t *o = json_object();
	return put(parent, key, o) ? o : NULL;
}

static const char *indexed_name(const char names[][ENGINE_NAME_MAX], int n, int i)
{
	return i >= 0 && i < n ? names[i] : NULL;
}

static json_t *params_json(const struct snapshot *s)
{
	json_t *o = json_object();
	for (int i = 0; i < P_COUNT && o; i++) {
		const struct param_info *pi = &param_table[i];
		json_t *p = json_object();
		bool ok = put(p, "value", jnum(s->eng.value[i])) && put(p, "min", jnum(pi->min)) &&
		          put(p, "max", jnum(pi->max)) && put(p, "default", jnum(pi->def)) &&
		          put(p, "unit", json_string(pi->unit)) &&
		          put(p, "source",
		              json_string(param_source_name((enum param_source)s->eng.source[i])));
		if (!ok || !put(o, pi->name, p)) {
			if (!ok)
				json_decref(p);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *steps_json(const struct snapshot *s)
{
	const struct engine_state *e = &s->eng;
	int n = e->n_steps < 0 ? 0 : e->n_steps > ENGINE_MAX_STEPS ? ENGINE_MAX_STEPS : e->n_steps;
	json_t *grid = json_array();
	for (int k = 0; k < n && grid; k++) {
		const struct engine_step *st = &e->steps[k];
		json_t *o = json_object();
		bool ok = put(o, "on", json_boolean(st->on)) && put(o, "prob", jnum(st->prob)) &&
		          put(o, "degree", json_integer(st->degree)) &&
		          put(o, "velocity", json_integer(st->velocity)) &&
		          put(o, "length", jnum(st->length)) &&
		          put(o, "note", json_integer(e->step_note[k])) &&
		          put(o, "last_fired_s",
		              e->step_fired_t[k] < 0 ? json_null()
		                                     : jnum((double)e->step_fired_t[k] / 1e9));
		if (!ok || json_array_append_new(grid, o) != 0) {
			if (!ok)
				json_decref(o);
			json_decref(grid);
			return NULL;
		}
	}
	json_t *steps = json_object();
	if (!put(steps, "length", json_integer(n)) ||
	    !put(steps, "play_step", json_integer(e->play_step)) || !put(steps, "grid", grid)) {
		json_decref(steps);
		return NULL;
	}
	return steps;
}

static json_t *link_json(uint8_t state, const char *port)
{
	json_t *o = json_object();
	if (!put(o, "state", json_string(link_state_name((enum link_state)state))) ||
	    (port && !put(o, "port", jname(port)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static char *dump(json_t *root, size_t *len)
{
	if (!root)
		return NULL;
	char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(root);
	if (text && len)
		*len = strlen(text);
	return text;
}

char *metrics_state_json(const struct snapshot *s, size_t *len)
{
	const struct engine_state *e = &s->eng;
	char port[sizeof s->midi_port + 1];
	memcpy(port, s->midi_port, sizeof s->midi_port);
	port[sizeof s->midi_port] = '\0';

	json_t *root = json_object();
	bool ok = put(root, "seq", json_integer((json_int_t)s->seq)) &&
	          put(root, "uptime_s", jnum((double)s->uptime_ns / 1e9)) &&
	          put(root, "time_s", jnum((double)e->t / 1e9)) &&
	          put(root, "tempo_bpm", jnum(e->tempo_now)) &&
	          put(root, "params", params_json(s)) && put(root, "steps", steps_json(s)) &&
	          put(root, "idle", json_boolean(e->idle)) &&
	          put(root, "paused", json_boolean(e->paused));

	json_t *scale = child(root, "scale");
	ok = ok && put(scale, "id", json_integer(e->scale)) &&
	     put(scale, "name", jname(scale_name(e->scale))) &&
	     put(scale, "root", json_integer(e->root)) &&
	     put(scale, "root_name", jname(scale_root_name(e->root))) &&
	     put(scale, "select", json_integer((json_int_t)e->value[P_SCALE_SELECT])) &&
	     put(scale, "pending",
	         e->pending_scale < 0 ? json_null() : jname(scale_name(e->pending_scale)));

	json_t *mode = child(root, "mode"), *palette = child(root, "palette");
	ok = ok && put(mode, "index", json_integer(e->mode)) &&
	     put(mode, "name", jname(indexed_name(s->mode_names, s->n_modes, e->mode))) &&
	     put(palette, "index", json_integer(e->palette)) &&
	     put(palette, "name", jname(indexed_name(s->palette_names, s->n_palettes, e->palette)));

	json_t *links = child(root, "links");
	ok = ok && put(links, "midi", link_json(s->link_midi, port)) &&
	     put(links, "synth", link_json(s->link_synth, NULL)) &&
	     put(json_object_get(links, "synth"), "reason", jname(s->synth_fault)) &&
	     put(links, "led", link_json(s->link_led, NULL));
	json_t *card = ok ? child(links, "sound_card") : NULL;
	ok = ok && put(card, "state", json_string(audio_card_state_name(s->audio_state))) &&
	     put(card, "card", jname(s->audio_card)) && put(card, "seen", jname(s->audio_seen));

	json_t *sound = child(root, "sound");
	ok = ok && put(sound, "state", json_string(synth_sound_name((enum synth_sound)s->sound))) &&
	     put(sound, "fault", jname(s->synth_fault)) && put(sound, "peak", jnum(s->out_peak)) &&
	     put(sound, "rms", jnum(s->out_rms)) &&
	     put(sound, "meter_age_s",
	         s->out_meter_age_ns < 0 ? json_null() : jnum((double)s->out_meter_age_ns / 1e9)) &&
	     put(sound, "watchdog_fed", json_boolean(s->watchdog_ok));

	json_t *voices = child(root, "voices");
	ok = ok && put(voices, "active", json_integer(s->voices_active)) &&
	     put(voices, "max", json_integer(s->voices_max));

	json_t *timing = child(root, "timing");
	ok = ok && put(timing, "latency_p50_s", jnum((double)s->latency_p50 / 1e9)) &&
	     put(timing, "latency_p99_s", jnum((double)s->latency_p99 / 1e9)) &&
	     put(timing, "lateness_p50_s", jnum((double)s->lateness_p50 / 1e9)) &&
	     put(timing, "lateness_p99_s", jnum((double)s->lateness_p99 / 1e9)) &&
	     put(timing, "worker_cpu", jnum(s->worker_cpu));

	json_t *counters = child(root, "counters");
	ok = ok && put(counters, "notes", json_integer((json_int_t)e->notes)) &&
	     put(counters, "notes_played", json_integer((json_int_t)s->notes_played)) &&
	     put(counters, "mutations", json_integer((json_int_t)e->mutations)) &&
	     put(counters, "idle_transitions", json_integer((json_int_t)e->idle_transitions)) &&
	     put(counters, "inputs", json_integer((json_int_t)e->inputs)) &&
	     put(counters, "late_bundles", json_integer((json_int_t)s->late_bundles)) &&
	     put(counters, "backend_restarts", json_integer((json_int_t)s->backend_restarts));
	ok = ok && put(counters, "stalls", json_integer((json_int_t)s->stalls)) &&
	     put(counters, "steps_skipped", json_integer((json_int_t)s->steps_skipped)) &&
	     put(counters, "late_notes_dropped", json_integer((json_int_t)s->late_notes_dropped)) &&
	     put(counters, "event_log_lost", json_integer((json_int_t)s->events_lost));
	if (!ok) {
		json_decref(root);
		return NULL;
	}
	return dump(root, len);
}

char *metrics_mutations_json(const struct snapshot *s, size_t *len)
{
	json_t *list = json_array();
	int n = s->n_mut < 0 ? 0 : s->n_mut > SNAP_MUT_MAX ? SNAP_MUT_MAX : s->n_mut;
	for (int i = 0; i < n && list; i++) {
		const struct snap_mutation *m = &s->mut[i];
		json_t *o = json_object();
		bool ok = put(o, "t_s", jnum((double)m->t / 1e9)) &&
		          put(o, "param",
		              m->param < P_COUNT ? json_string(param_table[m->param].name)
		                                 : json_null()) &&
		          put(o, "from", jnum(m->from)) && put(o, "to", jnum(m->to));
		if (!ok || json_array_append_new(list, o) != 0) {
			if (!ok)
				json_decref(o);
			json_decref(list);
			return NULL;
		}
	}
	json_t *root = json_object();
	if (!put(root, "mutations", list)) {
		json_decref(root);
		return NULL;
	}
	return dump(root, len);
}
