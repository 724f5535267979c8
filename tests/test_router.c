/* Tests of the MIDI mapping: CCs onto parameters, trigger notes, channel filter. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/engine.h"
#include "core/router.h"
#include "testlib.h"

static struct midi_msg cc(int ch, int num, int val)
{
	return (struct midi_msg){.kind = MIDI_CC,
	                         .channel = (uint8_t)ch,
	                         .number = (uint8_t)num,
	                         .value = (uint16_t)val};
}

static struct midi_msg note(int kind, int ch, int num, int vel)
{
	return (struct midi_msg){.kind = (uint8_t)kind,
	                         .channel = (uint8_t)ch,
	                         .number = (uint8_t)num,
	                         .value = (uint16_t)vel};
}

static struct route resolve(const struct engine_config *cfg, struct midi_msg m)
{
	struct route r;
	router_resolve(cfg, &m, &r);
	return r;
}

/* The shipped mapping, control by control. */
static void test_default_mapping(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	static const struct {
		int cc;
		const char *param;
	} want[] = {{20, "tempo"},           {21, "filter_cutoff"},
	            {22, "reverb_mix"},      {23, "swing"},
	            {24, "density"},         {25, "master_volume"},
	            {50, "sequence_length"}, {51, "scale_select"},
	            {52, "chaos_lock"},      {60, "mode"},
	            {61, "palette"},         {62, "drift"}};
	int mapped = 0;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct route r = resolve(&cfg, cc(1, want[i].cc, 100));
		CU_ASSERT_EQUAL(r.kind, ROUTE_PARAM);
		CU_ASSERT_EQUAL(r.param, param_find(want[i].param));
	}
	for (int n = 0; n < 128; n++) {
		struct route r = resolve(&cfg, cc(1, n, 0));
		mapped += r.kind == ROUTE_PARAM;
		if (n == 53)
			CU_ASSERT_EQUAL(r.kind, ROUTE_RESERVED);
	}
	CU_ASSERT_EQUAL(mapped, 12);
	CU_ASSERT_EQUAL(resolve(&cfg, cc(1, 30, 5)).kind, ROUTE_UNMAPPED);
}

/* Without a knob range a CC spans the parameter's whole range along its curve. */
static void test_cc_curves(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	memset(cfg.cc_range, 0, sizeof cfg.cc_range);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 20, 0)).value, 20, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 20, 127)).value, 300, 1e-9);
	/* The middle of the tempo knob is near the geometric mean (77.5 BPM). */
	double mid = resolve(&cfg, cc(1, 20, 64)).value;
	CU_ASSERT(fabs(mid / sqrt(20.0 * 300.0) - 1) < 0.02);
	/* Cutoff is exponential too: equal knob moves give equal ratios. */
	double c1 = resolve(&cfg, cc(1, 21, 32)).value, c2 = resolve(&cfg, cc(1, 21, 64)).value,
	       c3 = resolve(&cfg, cc(1, 21, 96)).value;
	CU_ASSERT_DOUBLE_EQUAL(c2 / c1, c3 / c2, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 22, 127)).value, 1.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 23, 127)).value, 0.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 50, 0)).value, 1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 50, 127)).value, 64, 1e-9);
	/* Selectors share the knob among the configured entries. */
	CU_ASSERT_EQUAL(resolve(&cfg, cc(1, 51, 0)).value, 0);
	CU_ASSERT_EQUAL(resolve(&cfg, cc(1, 51, 42)).value, 0);
	CU_ASSERT_EQUAL(resolve(&cfg, cc(1, 51, 43)).value, 1);
	CU_ASSERT_EQUAL(resolve(&cfg, cc(1, 51, 127)).value, 2);
	CU_ASSERT_EQUAL(resolve(&cfg, cc(1, 60, 127)).value, 2);
	CU_ASSERT_EQUAL(resolve(&cfg, cc(1, 61, 64)).value, 1);
}

/*
 * The shipped knobs: no position mutes the instrument (the filter never
 * closes below 300 Hz, density never below 0.15, volume never below 0.3,
 * reverb never all wet), and every walked parameter's knob stays inside
 * the range the walk keeps to.  A knob with its own range keeps its curve.
 */
static void test_knob_ranges(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	for (int n = 0; n < 128; n++) {
		int p = cfg.cc_param[n];
		if (p < 0 || p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE)
			continue;
		for (int v = 0; v < 128; v++) {
			struct route r = resolve(&cfg, cc(1, n, v));
			CU_ASSERT_EQUAL_FATAL(r.param, p);
			if (cfg.mut[p].weight > 0 &&
			    !(r.value >= cfg.mut[p].min && r.value <= cfg.mut[p].max)) {
				fprintf(stderr, "\n  CC %d = %d gives %s %g outside %g..%g", n, v,
				        param_table[p].name, r.value, cfg.mut[p].min,
				        cfg.mut[p].max);
				CU_FAIL("a knob leaves the walk's range");
			}
			switch (p) {
			case P_FILTER_CUTOFF:
				CU_ASSERT(r.value >= 300 - 1e-9);
				break;
			case P_DENSITY:
				CU_ASSERT(r.value >= 0.15 - 1e-9);
				break;
			case P_MASTER_VOLUME:
				CU_ASSERT(r.value >= 0.3 - 1e-9);
				break;
			case P_REVERB_MIX:
				CU_ASSERT(r.value <= 0.9 + 1e-9);
				break;
			default:
				break;
			}
		}
	}
	/* the filter knob: 300..8000 Hz, equal ratios for equal moves */
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 21, 0)).value, 300, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 21, 127)).value, 8000, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 21, 5)).value,
	                       300 * pow(8000 / 300.0, 5 / 127.0), 1e-6);
	double c1 = resolve(&cfg, cc(1, 21, 32)).value, c2 = resolve(&cfg, cc(1, 21, 64)).value,
	       c3 = resolve(&cfg, cc(1, 21, 96)).value;
	CU_ASSERT_DOUBLE_EQUAL(c2 / c1, c3 / c2, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 50, 0)).value, 4, 0);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 50, 127)).value, 16, 0);
	/* a linear curve of one's own: the middle is the arithmetic middle */
	cfg.cc_range[21] = (struct engine_cc_range){true, CURVE_LINEAR, 1000, 3000};
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 21, 127)).value, 3000, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 21, 0)).value, 1000, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(resolve(&cfg, cc(1, 21, 127 / 2)).value, 1000 + 2000 * 63 / 127.0,
	                       1e-9);
}

static void test_channel_filter(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	for (int ch = 1; ch <= 16; ch++)
		CU_ASSERT_EQUAL(resolve(&cfg, cc(ch, 20, 1)).kind, ROUTE_PARAM);
	cfg.midi_channel = 3;
	CU_ASSERT_EQUAL(resolve(&cfg, cc(3, 20, 1)).kind, ROUTE_PARAM);
	CU_ASSERT_EQUAL(resolve(&cfg, cc(4, 20, 1)).kind, ROUTE_FILTERED);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_NOTE_ON, 2, 60, 100)).kind, ROUTE_FILTERED);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_NOTE_ON, 3, 60, 100)).kind, ROUTE_TRIGGER);
}

static void test_notes_and_others(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	struct route r = resolve(&cfg, note(MIDI_NOTE_ON, 1, 60, 100));
	CU_ASSERT_EQUAL(r.kind, ROUTE_TRIGGER);
	CU_ASSERT_EQUAL(r.step, 0);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_NOTE_ON, 1, 71, 100)).step, 11);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_NOTE_ON, 1, 72, 100)).kind, ROUTE_UNMAPPED);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_NOTE_ON, 1, 59, 100)).kind, ROUTE_UNMAPPED);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_NOTE_OFF, 1, 60, 0)).kind, ROUTE_RELEASE);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_PITCH_BEND, 1, 0, 8192)).kind, ROUTE_UNMAPPED);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_PROGRAM, 1, 5, 0)).kind, ROUTE_UNMAPPED);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_CLOCK, 0, 0, 0)).kind, ROUTE_REALTIME);
	CU_ASSERT_EQUAL(resolve(&cfg, note(MIDI_STOP, 0, 0, 0)).kind, ROUTE_REALTIME);
	CU_ASSERT_STRING_EQUAL(router_kind_name(ROUTE_FILTERED), "filtered");
}

/* ---- through the engine ---- */

static struct event evs[4096];

static size_t run(struct engine *e, int64_t to)
{
	return engine_advance(e, to, evs, 4096);
}

static struct engine_input midi_in(int64_t t, struct midi_msg m)
{
	struct engine_input in = {.kind = INPUT_MIDI, .t = t};
	in.u.midi = m;
	return in;
}

static void test_engine_cc(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	struct engine *e = engine_new(&cfg, 1);
	run(e, NS_PER_SEC);
	struct engine_input in = midi_in(NS_PER_SEC, cc(1, 20, 127));
	engine_input(e, &in);
	size_t n = run(e, NS_PER_SEC + 1);
	CU_ASSERT_FATAL(n >= 2);
	CU_ASSERT_EQUAL(evs[0].type, EV_INPUT);
	CU_ASSERT_EQUAL(evs[0].u.input.number, 20);
	CU_ASSERT_EQUAL(evs[1].type, EV_PARAM);
	CU_ASSERT_EQUAL(evs[1].t, NS_PER_SEC);
	CU_ASSERT_EQUAL(evs[1].live, 1);
	CU_ASSERT_EQUAL(evs[1].u.param.id, P_TEMPO);
	CU_ASSERT_EQUAL(evs[1].u.param.source, SRC_MIDI);
	CU_ASSERT_DOUBLE_EQUAL(evs[1].u.param.value, 150, 1e-9); /* the knob's top */
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_TEMPO], 150, 1e-9);
	CU_ASSERT_EQUAL(st.source[P_TEMPO], SRC_MIDI);
	engine_free(e);
}

static void test_engine_unmapped_and_filtered(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.midi_channel = 2;
	struct engine *e = engine_new(&cfg, 1);
	struct engine_input in[] = {midi_in(10, cc(2, 30, 1)),
	                            midi_in(20, cc(2, 53, 1)),
	                            midi_in(30, cc(5, 20, 1)),
	                            midi_in(40, note(MIDI_NOTE_ON, 2, 100, 90)),
	                            midi_in(50, note(MIDI_CLOCK, 0, 0, 0)),
	                            midi_in(60, cc(2, 22, 127))};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
		engine_input(e, &in[i]);
	size_t n = run(e, 100);
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.unmapped, 2); /* CC 30, note 100 */
	CU_ASSERT_EQUAL(st.filtered, 1); /* CC 20 on channel 5 */
	CU_ASSERT_EQUAL(st.inputs, 6);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_TEMPO], 110, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(st.value[P_REVERB_MIX], 0.9, 1e-9); /* the knob's top */
	int inputs = 0, params = 0;
	for (size_t i = 0; i < n; i++) {
		inputs += evs[i].type == EV_INPUT;
		params += evs[i].type == EV_PARAM;
	}
	CU_ASSERT_EQUAL(inputs, 5); /* the clock tick is not echoed */
	CU_ASSERT_EQUAL(params, 1);
	engine_free(e);
}

/* Notes of step 0 that sound from the sequencer (not live) in events[0..n). */
static int seq_notes_of(size_t n, int step, int *visits)
{
	int notes = 0;
	*visits = 0;
	for (size_t i = 0; i < n; i++) {
		if (evs[i].type == EV_STEP && evs[i].u.step.step == step)
			(*visits)++;
		if (evs[i].type == EV_NOTE && !evs[i].live && evs[i].u.note.step == step)
			notes++;
	}
	return notes;
}

/*
 * Note 60 presses step 0: it sounds at once, live, with the press's
 * velocity, and (the default action, accent) the step then plays at every
 * visit, louder than before.  A visitor's first press never silences a note.
 */
static void test_engine_trigger(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.density = 1;
	cfg.mutation_enabled = false;
	cfg.idle_timeout_ms = 0;
	struct engine *e = engine_new(&cfg, 3);
	int64_t t = 2 * NS_PER_SEC + 12345;
	run(e, t + 50 * NS_PER_MS); /* lookahead: already past the press */
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.steps[3].on, 1);
	uint8_t vel_before = st.steps[3].velocity;
	/* step 3: a step whose gate is not certain */
	CU_ASSERT(st.steps[3].prob < 1);
	int want_pitch = st.step_note[3];
	struct engine_input in = midi_in(t, note(MIDI_NOTE_ON, 1, 63, 99));
	engine_input(e, &in);
	size_t n = run(e, t + 50 * NS_PER_MS + 1);
	int notes = 0, edits = 0;
	for (size_t i = 0; i < n; i++) {
		if (evs[i].type == EV_NOTE && evs[i].live) {
			notes++;
			CU_ASSERT_EQUAL(evs[i].t, t);
			CU_ASSERT_EQUAL(evs[i].u.note.pitch, want_pitch);
			CU_ASSERT_EQUAL(evs[i].u.note.velocity, 99);
			CU_ASSERT_EQUAL(evs[i].u.note.step, 3);
			CU_ASSERT(evs[i].u.note.dur > 0);
		}
		if (evs[i].type == EV_STEP_EDIT) {
			edits++;
			CU_ASSERT_EQUAL(evs[i].t, t);
			CU_ASSERT_EQUAL(evs[i].u.step_edit.step, 3);
			CU_ASSERT_EQUAL(evs[i].u.step_edit.on, 1);
			CU_ASSERT_DOUBLE_EQUAL(evs[i].u.step_edit.prob, 1, 0);
			CU_ASSERT_EQUAL(evs[i].u.step_edit.source, SRC_MIDI);
		}
	}
	CU_ASSERT_EQUAL(notes, 1);
	CU_ASSERT_EQUAL(edits, 1);
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.steps[3].on, 1);
	CU_ASSERT_DOUBLE_EQUAL(st.steps[3].prob, 1, 0);
	CU_ASSERT(st.steps[3].velocity > vel_before);
	/* Accented, step 3 sounds at every visit from now on. */
	n = run(e, 30 * NS_PER_SEC);
	int visits, played = seq_notes_of(n, 3, &visits);
	CU_ASSERT(visits > 20);
	CU_ASSERT_EQUAL(played, visits);
	/* A button past the pattern's 8 steps lands on the step counted round: 71 -> 11 -> 3. */
	in = midi_in(30 * NS_PER_SEC, note(MIDI_NOTE_ON, 1, 71, 80));
	engine_input(e, &in);
	n = run(e, 30 * NS_PER_SEC + 1);
	edits = 0;
	for (size_t i = 0; i < n; i++)
		if (evs[i].type == EV_STEP_EDIT) {
			edits++;
			CU_ASSERT_EQUAL(evs[i].u.step_edit.step, 3);
		}
	CU_ASSERT_EQUAL(edits, 1);
	engine_free(e);
}

/* The other press actions: add (on, certain) and toggle (on <-> off, as before). */
static void test_engine_press_actions(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.mutation_enabled = false;
	cfg.idle_timeout_ms = 0;
	cfg.button_press = PRESS_ADD;
	struct engine *e = engine_new(&cfg, 3);
	struct engine_state st;
	engine_get_state(e, &st);
	uint8_t vel = st.steps[2].velocity;
	struct engine_input in = midi_in(NS_PER_SEC, note(MIDI_NOTE_ON, 1, 62, 99));
	engine_input(e, &in);
	run(e, 2 * NS_PER_SEC);
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.steps[2].on, 1);
	CU_ASSERT_DOUBLE_EQUAL(st.steps[2].prob, 1, 0);
	CU_ASSERT_EQUAL(st.steps[2].velocity, vel);
	engine_free(e);

	cfg.button_press = PRESS_TOGGLE;
	e = engine_new(&cfg, 3);
	in = midi_in(NS_PER_SEC, note(MIDI_NOTE_ON, 1, 60, 99));
	engine_input(e, &in);
	run(e, NS_PER_SEC + 1);
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.steps[0].on, 0);
	/* Off, step 0 stays silent when the playhead reaches it. */
	size_t n = run(e, 30 * NS_PER_SEC);
	int visits;
	CU_ASSERT_EQUAL(seq_notes_of(n, 0, &visits), 0);
	CU_ASSERT(visits > 20);
	in = midi_in(30 * NS_PER_SEC, note(MIDI_NOTE_ON, 1, 60, 99));
	engine_input(e, &in);
	run(e, 30 * NS_PER_SEC + 1);
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.steps[0].on, 1);
	engine_free(e);
}

TEST_SUITE(router, NULL, NULL, TEST_CASE(test_default_mapping), TEST_CASE(test_cc_curves),
           TEST_CASE(test_knob_ranges), TEST_CASE(test_channel_filter),
           TEST_CASE(test_notes_and_others), TEST_CASE(test_engine_cc),
           TEST_CASE(test_engine_unmapped_and_filtered), TEST_CASE(test_engine_trigger),
           TEST_CASE(test_engine_press_actions))
