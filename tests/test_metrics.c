/*
 * Tests of the metrics formatters: what an operator scraping /metrics or
 * reading /state sees for a known snapshot.  Prometheus text: every sample
 * belongs to a family announced by HELP and TYPE, counters end in _total,
 * histogram buckets are cumulative in seconds with +Inf equal to _count.
 * JSON: parses, and carries the snapshot's values under stable keys.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/param.h"
#include "core/scale.h"
#include "rt/hist.h"
#include "ops/metrics.h"
#include "synth/synth_health.h"
#include "testlib.h"

static void sample_snapshot(struct snapshot *s)
{
	memset(s, 0, sizeof *s);
	s->seq = 42;
	s->uptime_ns = 90 * NS_PER_SEC;
	s->eng.t = 89 * NS_PER_SEC;
	for (int i = 0; i < P_COUNT; i++)
		s->eng.value[i] = param_table[i].def;
	s->eng.value[P_TEMPO] = 123.5;
	s->eng.source[P_TEMPO] = SRC_API;
	s->eng.source[P_DENSITY] = SRC_MUTATION;
	s->eng.tempo_now = 124.75;
	s->eng.n_steps = 5;
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		s->eng.steps[k] = (struct engine_step){0.5, (int8_t)k, 90, 0.5, (uint8_t)(k % 2)};
		s->eng.step_note[k] = (uint8_t)(60 + k);
		s->eng.step_fired_t[k] = k == 2 ? 88 * NS_PER_SEC : -1;
	}
	s->eng.play_step = 2;
	s->eng.scale = 3;
	s->eng.root = 57;
	s->eng.mode = 1;
	s->eng.idle = true;
	s->eng.pending_scale = -1;
	s->eng.notes = 700;
	s->eng.mutations = 9;
	s->eng.idle_transitions = 4;
	s->n_modes = 2;
	snprintf(s->mode_names[0], ENGINE_NAME_MAX, "calm");
	snprintf(s->mode_names[1], ENGINE_NAME_MAX, "storm");
	s->n_palettes = 1;
	snprintf(s->palette_names[0], ENGINE_NAME_MAX, "dusk");
	s->link_midi = LINK_CONNECTED;
	s->link_synth = LINK_RECONNECTING;
	s->link_led = LINK_OFF;
	snprintf(s->midi_port, sizeof s->midi_port, "raw:/dev/mystery-\"midi\"");
	s->midi_in[MIDI_NOTE_ON] = 17;
	s->midi_in[MIDI_CC] = 250;
	s->midi_dropped = 3;
	s->inq_depth = 2;
	s->inq_cap = 1024;
	s->notes_played = 690;
	s->late_bundles = 1;
	s->backend_restarts = 2;
	s->voices_active = 6;
	s->voices_max = 16;
	s->server_cpu_avg = 12.5;
	s->n_mut = 2;
	s->mut[0] = (struct snap_mutation){80 * NS_PER_SEC, P_DENSITY, 0.8, 0.72};
	s->mut[1] = (struct snap_mutation){60 * NS_PER_SEC, P_TEMPO, 110, 113};
}

/* The value of the sample whose line starts with "name{labels} " (or "name "). */
static double value_of(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

/*
 * Structure of the exposition: each sample's family has HELP then TYPE
 * first, families are not repeated, counters end in _total, every value
 * parses to its end.
 */
static void check_structure(const char *text)
{
	char *copy = strdup(text), *save = NULL;
	char fam[128][96];
	char type[128][16];
	int nf = 0;
	char help_for[96] = "";
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[96], kind[16];
		if (sscanf(line, "# HELP %95s", name) == 1) {
			for (int i = 0; i < nf; i++)
				CU_ASSERT_STRING_NOT_EQUAL(fam[i], name);
			snprintf(help_for, sizeof help_for, "%s", name);
			continue;
		}
		if (sscanf(line, "# TYPE %95s %15s", name, kind) == 2) {
			CU_ASSERT_STRING_EQUAL(name, help_for);
			CU_ASSERT_FATAL(nf < 128);
			snprintf(fam[nf], sizeof fam[nf], "%s", name);
			snprintf(type[nf], sizeof type[nf], "%s", kind);
			nf++;
			if (strcmp(kind, "counter") == 0)
				CU_ASSERT_PTR_NOT_NULL(strstr(name, "_total"));
			continue;
		}
		CU_ASSERT_NOT_EQUAL(line[0], '#');
		/* A sample of the last family announced. */
		CU_ASSERT_FATAL(nf > 0);
		size_t fl = strlen(fam[nf - 1]);
		CU_ASSERT_EQUAL(strncmp(line, fam[nf - 1], fl), 0);
		const char *rest = line + fl;
		if (strcmp(type[nf - 1], "histogram") == 0 && *rest == '_')
			rest += strspn(rest, "_bucketsumcount");
		CU_ASSERT_TRUE(*rest == ' ' || *rest == '{');
		const char *val = strrchr(line, ' ') + 1;
		char *end;
		double v = strtod(val, &end);
		CU_ASSERT_EQUAL(*end, '\0');
		CU_ASSERT_FALSE(isnan(v));
	}
	free(copy);
}

static void test_prometheus(void)
{
	struct snapshot s;
	sample_snapshot(&s);
	struct hist *lat = hist_new(), *late = hist_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(lat);
	CU_ASSERT_PTR_NOT_NULL_FATAL(late);
	for (int i = 0; i < 3; i++)
		hist_add(lat, 500 * 1000); /* 0.5 ms */
	hist_add(lat, 3 * NS_PER_MS);
	hist_add(late, 20 * 1000);
	struct metrics_process proc = {1e7, 2e8, 1.5, 1.7e9, 9, 1024};
	struct metrics_http_count http[] = {{200, 10}, {429, 2}};
	struct metrics_http_conns conns = {.open = 7, .timed_out = 40, .evicted = 300};
	s.stalls = 2;
	s.steps_skipped = 31;
	s.late_notes_dropped = 4;
	struct metrics_input in = {&s, lat, late, &proc, http, 2, &conns};
	size_t len = 0;
	char *t = metrics_prometheus(&in, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(len, strlen(t));
	CU_ASSERT_EQUAL(t[len - 1], '\n');
	check_structure(t);

	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_midi_messages_total{kind=\"note_on\"}"), 17);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_midi_messages_total{kind=\"cc\"}"), 250);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_midi_messages_total{kind=\"clock\"}"), 0);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_dropped_messages_total{queue=\"midi_in\"}"), 3);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_input_queue_depth"), 2);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_notes_played_total"), 690);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_late_bundles_total"), 1);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_voices_active"), 6);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_mutations_total"), 9);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_idle_transitions_total"), 4);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_idle"), 1);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_backend_restarts_total"), 2);
	CU_ASSERT_DOUBLE_EQUAL(value_of(t, "mystery_engine_synth_server_cpu_ratio"), 0.125, 1e-12);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_parameter{name=\"tempo\"}"), 123.5);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_tempo_bpm"), 124.75);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_link_state{link=\"midi\",state=\"connected\"}"),
	                1);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_link_state{link=\"midi\",state=\"waiting\"}"),
	                0);
	CU_ASSERT_EQUAL(
	    value_of(t, "mystery_engine_link_state{link=\"synth\",state=\"reconnecting\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_link_state{link=\"led\",state=\"off\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_http_responses_total{code=\"429\"}"), 2);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_http_connections"), 7);
	CU_ASSERT_EQUAL(
	    value_of(t, "mystery_engine_http_connections_closed_total{reason=\"timeout\"}"), 40);
	CU_ASSERT_EQUAL(
	    value_of(t, "mystery_engine_http_connections_closed_total{reason=\"evicted\"}"), 300);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_stalls_total"), 2);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_skipped_steps_total"), 31);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_late_notes_dropped_total"), 4);

	/* Latency: 3 at 0.5 ms, 1 at 3 ms; buckets double from 1 us. */
	const char *h = "mystery_engine_midi_to_send_latency_seconds";
	char series[160];
	snprintf(series, sizeof series, "%s_bucket{le=\"0.000256\"}", h);
	CU_ASSERT_EQUAL(value_of(t, series), 0);
	snprintf(series, sizeof series, "%s_bucket{le=\"0.000512\"}", h);
	CU_ASSERT_EQUAL(value_of(t, series), 3);
	snprintf(series, sizeof series, "%s_bucket{le=\"0.002048\"}", h);
	CU_ASSERT_EQUAL(value_of(t, series), 3);
	snprintf(series, sizeof series, "%s_bucket{le=\"0.004096\"}", h);
	CU_ASSERT_EQUAL(value_of(t, series), 4);
	snprintf(series, sizeof series, "%s_bucket{le=\"+Inf\"}", h);
	CU_ASSERT_EQUAL(value_of(t, series), 4);
	snprintf(series, sizeof series, "%s_count", h);
	CU_ASSERT_EQUAL(value_of(t, series), 4);
	snprintf(series, sizeof series, "%s_sum", h);
	CU_ASSERT_DOUBLE_EQUAL(value_of(t, series), 0.0045, 1e-12);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_worker_lateness_seconds_count"), 1);

	/* Buckets never decrease. */
	double prev = -1;
	for (const char *p = strstr(t, "mystery_engine_worker_lateness_seconds_bucket"); p;
	     p = strstr(p + 1, "mystery_engine_worker_lateness_seconds_bucket")) {
		double v = strtod(strchr(p, '}') + 2, NULL);
		CU_ASSERT_TRUE(v >= prev);
		prev = v;
	}

	CU_ASSERT_EQUAL(value_of(t, "process_resident_memory_bytes"), 1e7);
	CU_ASSERT_EQUAL(value_of(t, "process_cpu_seconds_total"), 1.5);
	CU_ASSERT_EQUAL(value_of(t, "process_start_time_seconds"), 1.7e9);
	free(t);
	hist_free(lat);
	hist_free(late);
}

/* Before the first snapshot only what is known is exposed. */
static void test_prometheus_without_snapshot(void)
{
	struct metrics_input in = {0};
	char *t = metrics_prometheus(&in, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	check_structure(t);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_snapshot_available"), 0);
	CU_ASSERT_PTR_NULL(strstr(t, "midi_messages_total"));
	CU_ASSERT_PTR_NULL(strstr(t, "process_"));
	free(t);
}

static void test_state_json(void)
{
	struct snapshot s;
	sample_snapshot(&s);
	s.eng.value[P_DRIFT] = NAN; /* never produced, but must not break the JSON */
	s.stalls = 1;
	s.steps_skipped = 14;
	s.late_notes_dropped = 3;
	size_t len;
	char *t = metrics_state_json(&s, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	json_error_t je;
	json_t *root = json_loads(t, 0, &je);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	json_t *tempo = json_object_get(json_object_get(root, "params"), "tempo");
	CU_ASSERT_EQUAL(json_real_value(json_object_get(tempo, "value")), 123.5);
	CU_ASSERT_EQUAL(json_number_value(json_object_get(tempo, "min")), 20);
	CU_ASSERT_EQUAL(json_number_value(json_object_get(tempo, "max")), 300);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(tempo, "unit")), "BPM");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(tempo, "source")), "api");
	json_t *dens = json_object_get(json_object_get(root, "params"), "density");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(dens, "source")), "mutation");
	json_t *drift = json_object_get(json_object_get(root, "params"), "drift");
	CU_ASSERT_TRUE(json_is_null(json_object_get(drift, "value")));
	CU_ASSERT_EQUAL(json_object_size(json_object_get(root, "params")), P_COUNT);
	CU_ASSERT_EQUAL(json_number_value(json_object_get(root, "tempo_bpm")), 124.75);

	json_t *steps = json_object_get(root, "steps");
	json_t *grid = json_object_get(steps, "grid");
	CU_ASSERT_EQUAL(json_array_size(grid), 5);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(steps, "play_step")), 2);
	CU_ASSERT_TRUE(json_is_false(json_object_get(json_array_get(grid, 0), "on")));
	CU_ASSERT_TRUE(json_is_true(json_object_get(json_array_get(grid, 1), "on")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(grid, 4), "note")), 64);
	CU_ASSERT_EQUAL(json_number_value(json_object_get(json_array_get(grid, 2), "last_fired_s")),
	                88);
	CU_ASSERT_TRUE(json_is_null(json_object_get(json_array_get(grid, 3), "last_fired_s")));

	json_t *scale = json_object_get(root, "scale");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(scale, "name")), scale_name(3));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(scale, "root_name")),
	                       scale_root_name(57));
	CU_ASSERT_TRUE(json_is_null(json_object_get(scale, "pending")));
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_object_get(root, "mode"), "name")), "storm");
	CU_ASSERT_TRUE(json_is_true(json_object_get(root, "idle")));
	CU_ASSERT_TRUE(json_is_false(json_object_get(root, "paused")));
	json_t *links = json_object_get(root, "links");
	json_t *midi = json_object_get(links, "midi");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(midi, "state")), "connected");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(midi, "port")),
	                       "raw:/dev/mystery-\"midi\"");
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_object_get(links, "synth"), "state")),
	    "reconnecting");
	json_t *voices = json_object_get(root, "voices");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(voices, "active")), 6);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(voices, "max")), 16);
	json_t *counters = json_object_get(root, "counters");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(counters, "notes")), 700);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(counters, "stalls")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(counters, "steps_skipped")), 14);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(counters, "late_notes_dropped")), 3);
	json_decref(root);
	free(t);
}

/* The sound check as an operator reads it: the output level, what the
 * detector says and why there is no sound. */
static void test_sound_health(void)
{
	struct snapshot s;
	sample_snapshot(&s);
	s.out_peak = 0.25f;
	s.out_rms = 0.0625f;
	s.out_meter_age_ns = 150 * NS_PER_MS;
	s.meter_replies = 40;
	s.sound = SYNTH_SOUND_SILENT;
	s.sound_faults = 2;
	s.health_restarts = 1;
	s.stack_restarts = 1;
	s.watchdog_ok = 0;
	s.link_synth = LINK_ERROR;
	snprintf(s.synth_fault, sizeof s.synth_fault,
	         "notes should sound but the output is silent");
	struct metrics_input in = {.snap = &s};
	char *t = metrics_prometheus(&in, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	check_structure(t);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_output_peak_ratio"), 0.25);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_output_rms_ratio"), 0.0625);
	CU_ASSERT_DOUBLE_EQUAL(value_of(t, "mystery_engine_output_meter_age_seconds"), 0.15, 1e-12);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_output_meter_replies_total"), 40);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_sound_state{state=\"silent\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_sound_state{state=\"ok\"}"), 0);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_sound_faults_total"), 2);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_sound_restarts_total{what=\"stack\"}"), 1);
	CU_ASSERT_EQUAL(value_of(t, "mystery_engine_watchdog_fed"), 0);
	free(t);
	s.out_meter_age_ns = -1; /* never measured */
	t = metrics_prometheus(&in, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_TRUE(isnan(value_of(t, "mystery_engine_output_meter_age_seconds")));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "mystery_engine_output_meter_age_seconds NaN\n"));
	free(t);

	t = metrics_state_json(&s, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	json_error_t je;
	json_t *root = json_loads(t, 0, &je);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	json_t *synth = json_object_get(json_object_get(root, "links"), "synth");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(synth, "state")), "error");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(synth, "reason")),
	                       "notes should sound but the output is silent");
	json_t *sound = json_object_get(root, "sound");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(sound, "state")), "silent");
	CU_ASSERT_EQUAL(json_real_value(json_object_get(sound, "peak")), 0.25);
	CU_ASSERT_TRUE(json_is_null(json_object_get(sound, "meter_age_s")));
	CU_ASSERT_TRUE(json_is_false(json_object_get(sound, "watchdog_fed")));
	json_decref(root);
	free(t);
}

static void test_mutations_json(void)
{
	struct snapshot s;
	sample_snapshot(&s);
	char *t = metrics_mutations_json(&s, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	json_t *root = json_loads(t, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	json_t *m = json_object_get(root, "mutations");
	CU_ASSERT_EQUAL_FATAL(json_array_size(m), 2);
	json_t *first = json_array_get(m, 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(first, "param")), "density");
	CU_ASSERT_EQUAL(json_number_value(json_object_get(first, "t_s")), 80);
	CU_ASSERT_EQUAL(json_number_value(json_object_get(first, "from")), 0.8);
	CU_ASSERT_EQUAL(json_number_value(json_object_get(first, "to")), 0.72);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(m, 1), "param")),
	                       "tempo");
	json_decref(root);
	free(t);

	/* A count out of range is clamped, an unknown parameter id is null. */
	s.n_mut = 1000;
	for (int i = 0; i < SNAP_MUT_MAX; i++)
		s.mut[i].param = i == 5 ? 200 : P_SWING;
	t = metrics_mutations_json(&s, NULL);
	root = json_loads(t, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	m = json_object_get(root, "mutations");
	CU_ASSERT_EQUAL(json_array_size(m), SNAP_MUT_MAX);
	CU_ASSERT_TRUE(json_is_null(json_object_get(json_array_get(m, 5), "param")));
	json_decref(root);
	free(t);
}

static void test_process(void)
{
	struct metrics_process p;
	CU_ASSERT_EQUAL_FATAL(metrics_process_read(&p), 0);
	if (!testlib_emulator_lacks(TESTLIB_LACK_RSS, __func__))
		CU_ASSERT_TRUE(p.resident_bytes > 1024 * 1024);
	CU_ASSERT_TRUE(p.virtual_bytes >= p.resident_bytes);
	CU_ASSERT_TRUE(p.cpu_seconds >= 0);
	CU_ASSERT_TRUE(p.open_fds >= 3);
	CU_ASSERT_TRUE(p.max_fds >= p.open_fds);
	/* This test process started within the last hour and not in the future. */
	double now = (double)time(NULL);
	CU_ASSERT_TRUE(p.start_time_seconds <= now + 1);
	CU_ASSERT_TRUE(p.start_time_seconds > now - 3600);
}

TEST_SUITE(metrics, NULL, NULL, TEST_CASE(test_prometheus),
           TEST_CASE(test_prometheus_without_snapshot), TEST_CASE(test_state_json),
           TEST_CASE(test_sound_health), TEST_CASE(test_mutations_json), TEST_CASE(test_process))
