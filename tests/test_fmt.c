/* Tests of the console's formatting and keys: what the panels show and what
 * each key sends, without a terminal. */
#include <math.h>
#include <string.h>

#include "core/param.h"
#include "core/scale.h"
#include "testlib.h"
#include "ui/fmt.h"
#include "ui/glyphs.h"

#define BUF 256

static void test_values_with_units(void)
{
	char b[BUF];
	fmt_param_value(b, sizeof b, P_TEMPO, 112.44, NULL);
	CU_ASSERT_STRING_EQUAL(b, "112.4 BPM");
	fmt_param_value(b, sizeof b, P_FILTER_CUTOFF, 2400.3, NULL);
	CU_ASSERT_STRING_EQUAL(b, "2400 Hz");
	fmt_param_value(b, sizeof b, P_REVERB_MIX, 0.3, NULL);
	CU_ASSERT_STRING_EQUAL(b, "0.30");
	fmt_param_value(b, sizeof b, P_SEQUENCE_LENGTH, 8, NULL);
	CU_ASSERT_STRING_EQUAL(b, "8 steps");
	fmt_param_value(b, sizeof b, P_DRIFT, 5, NULL);
	CU_ASSERT_STRING_EQUAL(b, "5.0%");
	fmt_param_value(b, sizeof b, P_TEMPO, NAN, NULL);
	CU_ASSERT_STRING_EQUAL(b, "?");
	fmt_number(b, sizeof b, P_COUNT, 1);
	CU_ASSERT_STRING_EQUAL(b, "?");
}

/* Selectors show the name of their choice, from the snapshot. */
static void test_selector_names(void)
{
	static struct snapshot s;
	char b[BUF];
	memset(&s, 0, sizeof s);
	strcpy(s.scale_names[0], "major");
	strcpy(s.scale_names[1], "minor");
	s.n_scales = 2;
	strcpy(s.mode_names[0], "calm");
	s.n_modes = 1;
	strcpy(s.palette_names[0], "amber");
	s.n_palettes = 1;
	fmt_param_value(b, sizeof b, P_SCALE_SELECT, 1, &s);
	CU_ASSERT_STRING_EQUAL(b, "1 minor");
	fmt_param_value(b, sizeof b, P_MODE, 0, &s);
	CU_ASSERT_STRING_EQUAL(b, "0 calm");
	fmt_param_value(b, sizeof b, P_PALETTE, 0, &s);
	CU_ASSERT_STRING_EQUAL(b, "0 amber");
	/* a choice the configuration does not name: the number alone */
	fmt_param_value(b, sizeof b, P_SCALE_SELECT, 5, &s);
	CU_ASSERT_STRING_EQUAL(b, "5");
}

static void test_bar(void)
{
	const struct glyphs *a = glyphs_get(false), *u = glyphs_get(true);
	char b[BUF];
	fmt_bar(b, sizeof b, 0.5, 10, a);
	CU_ASSERT_STRING_EQUAL(b, "[####....]");
	fmt_bar(b, sizeof b, 0, 6, a);
	CU_ASSERT_STRING_EQUAL(b, "[....]");
	fmt_bar(b, sizeof b, 1, 6, a);
	CU_ASSERT_STRING_EQUAL(b, "[####]");
	fmt_bar(b, sizeof b, 7.0, 6, a);
	CU_ASSERT_STRING_EQUAL(b, "[####]");
	fmt_bar(b, sizeof b, NAN, 6, a);
	CU_ASSERT_STRING_EQUAL(b, "[....]");
	/* 3/16 of a two-cell bar: three eighths of the first cell */
	fmt_bar(b, sizeof b, 3.0 / 16, 4, u);
	CU_ASSERT_STRING_EQUAL(b, "[\u258d ]");
	/* every bar takes exactly its width, whatever the value */
	for (int w = 0; w < 40; w++)
		for (double v = -0.5; v <= 1.5; v += 0.01) {
			fmt_bar(b, sizeof b, v, w, u);
			CU_ASSERT_EQUAL(fmt_width(b), w);
			fmt_bar(b, sizeof b, v, w, a);
			CU_ASSERT_EQUAL((int)strlen(b), w);
		}
	/* a tiny buffer is never overrun */
	char small[5];
	memset(small, 'x', sizeof small);
	fmt_bar(small, sizeof small, 1, 30, u);
	CU_ASSERT(strlen(small) < sizeof small);
}

static void test_fit(void)
{
	char b[BUF];
	fmt_fit(b, sizeof b, "tempo", 8);
	CU_ASSERT_STRING_EQUAL(b, "tempo   ");
	fmt_fit(b, sizeof b, "sequence_length", 8);
	CU_ASSERT_STRING_EQUAL(b, "sequence");
	/* multi-byte glyphs count as one column and are never split */
	fmt_fit(b, sizeof b, "\u2588\u2588\u2588x", 2);
	CU_ASSERT_STRING_EQUAL(b, "\u2588\u2588");
	CU_ASSERT_EQUAL(fmt_width("\u25b6 1\u25cf"), 4);
	char small[4];
	fmt_fit(small, sizeof small, "\u2588\u2588", 2);
	CU_ASSERT_STRING_EQUAL(small, "\u2588");
}

static void test_times(void)
{
	char b[BUF];
	fmt_duration(b, sizeof b, 850 * 1000);
	CU_ASSERT_STRING_EQUAL(b, "850us");
	fmt_duration(b, sizeof b, 1240 * 1000);
	CU_ASSERT_STRING_EQUAL(b, "1.24ms");
	fmt_duration(b, sizeof b, 12500 * 1000);
	CU_ASSERT_STRING_EQUAL(b, "12.5ms");
	fmt_duration(b, sizeof b, 1500 * NS_PER_MS);
	CU_ASSERT_STRING_EQUAL(b, "1.50s");
	fmt_duration(b, sizeof b, -5);
	CU_ASSERT_STRING_EQUAL(b, "0us");
	fmt_clock(b, sizeof b, 0);
	CU_ASSERT_STRING_EQUAL(b, "00:00");
	fmt_clock(b, sizeof b, 754 * NS_PER_SEC + 999 * NS_PER_MS);
	CU_ASSERT_STRING_EQUAL(b, "12:34");
	fmt_clock(b, sizeof b, 3723 * NS_PER_SEC);
	CU_ASSERT_STRING_EQUAL(b, "1:02:03");
	fmt_clock(b, sizeof b, -1);
	CU_ASSERT_STRING_EQUAL(b, "--:--");
}

/* The header shows the drift only when the tempo has moved. */
static void test_tempo_drift(void)
{
	char b[BUF];
	fmt_tempo(b, sizeof b, 110, 110);
	CU_ASSERT_STRING_EQUAL(b, "110.0 BPM");
	fmt_tempo(b, sizeof b, 110, 112.42);
	CU_ASSERT_STRING_EQUAL(b, "112.4 BPM (drift +2.2%)");
	fmt_tempo(b, sizeof b, 110, 99);
	CU_ASSERT_STRING_EQUAL(b, "99.0 BPM (drift -10.0%)");
	fmt_tempo(b, sizeof b, 110, NAN);
	CU_ASSERT_STRING_EQUAL(b, "110.0 BPM");
}

/* The output level as the meters panel shows it. */
static void test_level(void)
{
	char b[BUF];
	fmt_level(b, sizeof b, 0.2, true);
	CU_ASSERT_STRING_EQUAL(b, "-14dB");
	fmt_level(b, sizeof b, 1.0, true);
	CU_ASSERT_STRING_EQUAL(b, "0dB");
	fmt_level(b, sizeof b, 0.0, true);
	CU_ASSERT_STRING_EQUAL(b, "-inf");
	fmt_level(b, sizeof b, 0.5, false);
	CU_ASSERT_STRING_EQUAL(b, "--");
}

static void test_steps_and_log(void)
{
	char b[BUF];
	fmt_gate(b, sizeof b, 0.854);
	CU_ASSERT_STRING_EQUAL(b, "85%");
	fmt_gate(b, sizeof b, 1);
	CU_ASSERT_STRING_EQUAL(b, "100%");
	fmt_gate(b, sizeof b, -1);
	CU_ASSERT_STRING_EQUAL(b, "0%");
	fmt_percent(b, sizeof b, 0.031);
	CU_ASSERT_STRING_EQUAL(b, "3.1%");
	struct snap_mutation m = {751 * NS_PER_SEC, P_FILTER_CUTOFF, 2400, 2650};
	fmt_mutation(b, sizeof b, &m);
	CU_ASSERT_STRING_EQUAL(b, "12:31 filter_cutoff 2400 -> 2650");
	m.param = P_COUNT + 3;
	fmt_mutation(b, sizeof b, &m);
	CU_ASSERT_STRING_EQUAL(b, "12:31 ?");
	struct engine_state st = {0};
	CU_ASSERT_STRING_EQUAL(fmt_run_state(&st), "PLAYING");
	st.idle = true;
	CU_ASSERT_STRING_EQUAL(fmt_run_state(&st), "IDLE");
	st.paused = true;
	CU_ASSERT_STRING_EQUAL(fmt_run_state(&st), "PAUSED");
}

static void test_preset_name(void)
{
	struct tm tm = {
	    .tm_year = 124, .tm_mon = 2, .tm_mday = 5, .tm_hour = 7, .tm_min = 8, .tm_sec = 9};
	char b[BUF];
	fmt_preset_name(b, sizeof b, &tm);
	CU_ASSERT_STRING_EQUAL(b, "console-20240305-070809");
}

static void expect_nudge(int key, int selected, double steps)
{
	struct fmt_action a = fmt_key_action(key, selected);
	CU_ASSERT_EQUAL(a.act, FMT_ACT_COMMAND);
	CU_ASSERT_EQUAL(a.cmd.type, CMD_NUDGE_PARAM);
	CU_ASSERT_EQUAL(a.cmd.param, selected);
	CU_ASSERT_EQUAL(a.cmd.source, SRC_KEY);
	CU_ASSERT_DOUBLE_EQUAL(a.cmd.value, steps, 1e-12);
}

static void expect_command(int key, enum command_type type)
{
	struct fmt_action a = fmt_key_action(key, 0);
	CU_ASSERT_EQUAL(a.act, FMT_ACT_COMMAND);
	CU_ASSERT_EQUAL(a.cmd.type, type);
	CU_ASSERT_EQUAL(a.cmd.source, SRC_KEY);
}

static void expect_act(int key, enum fmt_act act, int delta)
{
	struct fmt_action a = fmt_key_action(key, 0);
	CU_ASSERT_EQUAL(a.act, act);
	CU_ASSERT_EQUAL(a.delta, delta);
}

static void test_keys(void)
{
	expect_nudge('+', P_FILTER_CUTOFF, 1);
	expect_nudge('=', P_FILTER_CUTOFF, 1);
	expect_nudge(FMT_KEY_RIGHT, P_TEMPO, 1);
	expect_nudge('-', P_SWING, -1);
	expect_nudge(FMT_KEY_LEFT, P_SWING, -1);
	expect_nudge(FMT_KEY_PGUP, P_DRIFT, 10);
	expect_nudge(FMT_KEY_PGDN, P_DRIFT, -10);
	expect_act(FMT_KEY_UP, FMT_ACT_SELECT, -1);
	expect_act('k', FMT_ACT_SELECT, -1);
	expect_act(FMT_KEY_DOWN, FMT_ACT_SELECT, 1);
	expect_act('j', FMT_ACT_SELECT, 1);
	expect_command(' ', CMD_PAUSE);
	expect_command('s', CMD_NEXT_SCALE);
	expect_command('m', CMD_NEXT_MODE);
	expect_command('l', CMD_CHAOS_TOGGLE);
	expect_command('i', CMD_IDLE_TOGGLE);
	expect_act('r', FMT_ACT_RELOAD, 0);
	expect_act('p', FMT_ACT_PRESET, 0);
	expect_act('q', FMT_ACT_QUIT, 0);
	expect_act(FMT_KEY_F1, FMT_ACT_HELP, 0);
	expect_act('?', FMT_ACT_HELP, 0);
	expect_act('L' & 0x1f, FMT_ACT_REDRAW, 0);
	expect_act('x', FMT_ACT_NONE, 0);
	expect_act('0', FMT_ACT_NONE, 0);
	expect_act(FMT_KEY_ESC, FMT_ACT_NONE, 0);
	/* 1-9 toggle steps 1-9 (0-based in the command) */
	for (int k = '1'; k <= '9'; k++) {
		struct fmt_action a = fmt_key_action(k, 0);
		CU_ASSERT_EQUAL(a.act, FMT_ACT_COMMAND);
		CU_ASSERT_EQUAL(a.cmd.type, CMD_TOGGLE_STEP);
		CU_ASSERT_EQUAL(a.cmd.step, k - '1');
		CU_ASSERT_EQUAL(a.cmd.source, SRC_KEY);
	}
	/* no parameter selected: adjusting does nothing rather than send junk */
	CU_ASSERT_EQUAL(fmt_key_action('+', P_COUNT).act, FMT_ACT_NONE);
	CU_ASSERT_EQUAL(fmt_key_action('+', -1).act, FMT_ACT_NONE);
}

/* The help lists every key the console acts on. */
static void test_help_lists_keys(void)
{
	static const char *const must[] = {"Up/Down", "j/k", "Left/Right", "-/+", "PgUp/PgDn",
	                                   "Space",   "1-9", "F1",         "?",   "q"};
	static const char single[] = "smlirpq";
	for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
		bool found = false;
		for (const struct fmt_help *h = fmt_help; h->keys; h++)
			found = found || strstr(h->keys, must[i]) != NULL;
		CU_ASSERT(found);
	}
	for (const char *k = single; *k; k++) {
		bool found = false;
		for (const struct fmt_help *h = fmt_help; h->keys; h++)
			found = found || (strlen(h->keys) == 1 && h->keys[0] == *k);
		CU_ASSERT(found);
		CU_ASSERT_NOT_EQUAL(fmt_key_action(*k, 0).act, FMT_ACT_NONE);
	}
}

static void test_glyphs(void)
{
	CU_ASSERT(glyphs_codeset_is_utf8("UTF-8"));
	CU_ASSERT(glyphs_codeset_is_utf8("utf8"));
	CU_ASSERT_FALSE(glyphs_codeset_is_utf8("ANSI_X3.4-1968"));
	CU_ASSERT_FALSE(glyphs_codeset_is_utf8("UTF-16"));
	CU_ASSERT_FALSE(glyphs_codeset_is_utf8(""));
	CU_ASSERT_FALSE(glyphs_codeset_is_utf8(NULL));
	/* both sets draw every glyph one column wide; ASCII only 7-bit */
	for (int uni = 0; uni < 2; uni++) {
		const struct glyphs *g = glyphs_get(uni);
		const char *all[] = {g->h,           g->v,           g->tl,         g->tr,
		                     g->bl,          g->br,          g->bar_full,   g->bar_empty,
		                     g->play,        g->on,          g->off,        g->sel,
		                     g->bar_part[1], g->bar_part[4], g->bar_part[7]};
		CU_ASSERT_EQUAL(g->unicode, uni);
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
			CU_ASSERT_EQUAL(fmt_width(all[i]), 1);
			if (!uni)
				CU_ASSERT_EQUAL(strlen(all[i]), 1);
		}
	}
}

/* The step row's notes read in the key, in Unicode or ASCII, one grid cell wide. */
static void test_notes_spelled(void)
{
	char b[BUF];
	fmt_note(b, sizeof b, SCALE_MINOR, 60, 63, glyphs_get(true));
	CU_ASSERT_STRING_EQUAL(b, "E\xe2\x99\xad"
	                          "4");
	CU_ASSERT_EQUAL(fmt_width(b), 3);
	fmt_note(b, sizeof b, SCALE_MINOR, 60, 63, glyphs_get(false));
	CU_ASSERT_STRING_EQUAL(b, "Eb4");
	fmt_note(b, sizeof b, SCALE_MAJOR, 64, 63, glyphs_get(false));
	CU_ASSERT_STRING_EQUAL(b, "D#4");
	/* no note of any scale on any root is wider than a grid cell's four columns */
	for (int id = 0; id < SCALE_COUNT; id++)
		for (int root = 0; root < 128; root++)
			for (int d = 0; d < 2 * scale_table[id].n; d++) {
				int pitch = scale_degree_note(id, root, d);
				for (int uni = 0; uni <= 1; uni++) {
					fmt_note(b, sizeof b, id, root, pitch, glyphs_get(uni));
					CU_ASSERT_FATAL(fmt_width(b) <= 4);
				}
			}
}

/* A step key past the pattern says so and sends nothing; the others pass. */
static void test_step_key_beyond(void)
{
	char b[BUF] = "";
	struct fmt_action a = fmt_key_action('9', 0);
	CU_ASSERT_EQUAL(a.cmd.type, CMD_TOGGLE_STEP);
	CU_ASSERT(fmt_step_beyond(&a, 8, b, sizeof b));
	CU_ASSERT_STRING_EQUAL(b, "step 9 is past the pattern's 8 steps: not changed");
	CU_ASSERT_FALSE(fmt_step_beyond(&a, 9, b, sizeof b));
	a = fmt_key_action('3', 0);
	CU_ASSERT_FALSE(fmt_step_beyond(&a, 8, b, sizeof b));
	CU_ASSERT(fmt_step_beyond(&a, 2, b, sizeof b));
	a = fmt_key_action('+', P_TEMPO);
	CU_ASSERT_FALSE(fmt_step_beyond(&a, 1, b, sizeof b));
}

TEST_SUITE(fmt, NULL, NULL, TEST_CASE(test_values_with_units), TEST_CASE(test_selector_names),
           TEST_CASE(test_bar), TEST_CASE(test_fit), TEST_CASE(test_times),
           TEST_CASE(test_tempo_drift), TEST_CASE(test_steps_and_log), TEST_CASE(test_preset_name),
           TEST_CASE(test_keys), TEST_CASE(test_help_lists_keys), TEST_CASE(test_glyphs),
           TEST_CASE(test_level), TEST_CASE(test_notes_spelled), TEST_CASE(test_step_key_beyond))
