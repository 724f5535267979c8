/* Tests of idle: entered at the timeout, left on real activity, no flapping. */
#include <math.h>
#include <string.h>

#include "core/engine.h"
#include "core/idle.h"
#include "core/router.h"
#include "testlib.h"

#define S NS_PER_SEC
#define MS NS_PER_MS

static void test_enter_at_timeout(void)
{
	struct idle d;
	idle_init(&d, 0, 30 * S, 1 * S);
	CU_ASSERT_EQUAL(idle_due(&d), 30 * S);
	idle_action(&d, 5 * S, false);
	CU_ASSERT_EQUAL(idle_due(&d), 35 * S);
	CU_ASSERT_EQUAL(idle_poll(&d, 35 * S - 1), IDLE_NONE);
	CU_ASSERT_EQUAL(idle_poll(&d, 35 * S), IDLE_ENTER);
	CU_ASSERT(d.on);
	CU_ASSERT_EQUAL(idle_due(&d), INT64_MAX);
	CU_ASSERT_EQUAL(idle_poll(&d, 99 * S), IDLE_NONE);
}

static void test_wake_needs_activity(void)
{
	struct idle d;
	idle_init(&d, 0, 30 * S, 1 * S);
	idle_poll(&d, 30 * S);
	/* One stray message does not wake it. */
	CU_ASSERT_EQUAL(idle_action(&d, 40 * S, false), IDLE_NONE);
	/* Nor two separated by more than the wake time. */
	CU_ASSERT_EQUAL(idle_action(&d, 42 * S, false), IDLE_NONE);
	/* A knob turned for a second does. */
	int64_t t = 50 * S;
	enum idle_change ch = IDLE_NONE;
	for (int i = 0; i <= 20 && ch == IDLE_NONE; i++, t += 50 * MS)
		ch = idle_action(&d, t, false);
	CU_ASSERT_EQUAL(ch, IDLE_EXIT);
	CU_ASSERT_EQUAL(t - 50 * MS, 51 * S);
	CU_ASSERT(!d.on);
	/* Re-entering needs a full timeout after the last action. */
	CU_ASSERT_EQUAL(idle_due(&d), 51 * S + 30 * S);
}

static void test_deliberate_and_force(void)
{
	struct idle d;
	idle_init(&d, 0, 30 * S, 1 * S);
	idle_poll(&d, 31 * S);
	CU_ASSERT_EQUAL(idle_action(&d, 40 * S, true), IDLE_EXIT);
	CU_ASSERT_EQUAL(idle_force(&d, 41 * S, true), IDLE_ENTER);
	CU_ASSERT_EQUAL(idle_force(&d, 41 * S, true), IDLE_NONE);
	CU_ASSERT_EQUAL(idle_force(&d, 45 * S, false), IDLE_EXIT);
	CU_ASSERT_EQUAL(idle_due(&d), 75 * S);
	idle_init(&d, 0, 0, 0);
	CU_ASSERT_EQUAL(idle_due(&d), INT64_MAX);
	/* With no wake time, any action wakes. */
	idle_init(&d, 0, S, 0);
	idle_poll(&d, S);
	CU_ASSERT_EQUAL(idle_action(&d, 2 * S, false), IDLE_EXIT);
}

/* ---- through the engine ---- */

static struct event evs[16384];

struct seen {
	int enters, exits;
	int64_t enter_t[16], exit_t[16];
	double value[P_COUNT];
	int idle_params;
	int64_t last_idle_param_t[P_COUNT];
	int too_fast;
};

static void collect(struct engine *e, int64_t to, struct seen *s)
{
	size_t n = engine_advance(e, to, evs, 16384);
	for (size_t i = 0; i < n; i++) {
		const struct event *ev = &evs[i];
		if (ev->type == EV_IDLE) {
			if (ev->u.idle.on && s->enters < 16)
				s->enter_t[s->enters++] = ev->t;
			else if (!ev->u.idle.on && s->exits < 16)
				s->exit_t[s->exits++] = ev->t;
		}
		if (ev->type == EV_PARAM) {
			int id = ev->u.param.id;
			s->value[id] = ev->u.param.value;
			if (ev->u.param.source == SRC_IDLE) {
				s->idle_params++;
				if (param_table[id].curve != CURVE_STEPPED &&
				    ev->t - s->last_idle_param_t[id] < 100 * MS)
					s->too_fast++;
				s->last_idle_param_t[id] = ev->t;
			}
		}
	}
}

static struct engine_input cc_in(int64_t t, int num, int val)
{
	struct engine_input in = {.kind = INPUT_MIDI, .t = t};
	in.u.midi = (struct midi_msg){
	    .kind = MIDI_CC, .channel = 1, .number = (uint8_t)num, .value = (uint16_t)val};
	return in;
}

static void test_engine_idle_cycle(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.mutation_enabled = false;
	struct engine *e = engine_new(&cfg, 4);
	struct seen s;
	memset(&s, 0, sizeof s);
	for (int k = 0; k < P_COUNT; k++)
		s.last_idle_param_t[k] = -S;
	struct engine_state st;
	engine_get_state(e, &st);
	memcpy(s.value, st.value, sizeof s.value);

	/* Reverb set by hand at 2 s; nothing else happens. */
	struct engine_input in = cc_in(2 * S, 22, 64);
	engine_input(e, &in);
	double reverb = router_cc_value(&cfg, 22, 64);
	collect(e, 32 * S - 1, &s);
	CU_ASSERT_EQUAL(s.enters, 0);
	collect(e, 40 * S, &s);
	CU_ASSERT_EQUAL(s.enters, 1);
	CU_ASSERT_EQUAL(s.enter_t[0], 32 * S);
	/* After fade_in the ambient profile is in force. */
	const struct engine_profile *amb = &cfg.profiles[cfg.ambient_profile];
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_TEMPO], amb->value[P_TEMPO], 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_DENSITY], amb->value[P_DENSITY], 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_REVERB_MIX], amb->value[P_REVERB_MIX], 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_SCALE_SELECT], 2, 1e-9);
	CU_ASSERT_EQUAL(s.last_idle_param_t[P_TEMPO], 36 * S);
	CU_ASSERT(s.idle_params >= 3 * 40); /* it glides, it does not jump */
	CU_ASSERT_EQUAL(s.too_fast, 0);
	engine_get_state(e, &st);
	CU_ASSERT(st.idle);
	CU_ASSERT_EQUAL(st.scale, 2); /* pentatonic */

	/* Stray messages every 5 s do not wake it. */
	for (int64_t t = 45 * S; t < 80 * S; t += 5 * S) {
		in = cc_in(t, 24, 100);
		engine_input(e, &in);
	}
	collect(e, 80 * S, &s);
	CU_ASSERT_EQUAL(s.exits, 0);
	/* Turning the filter knob for a second does; the rest comes back. */
	for (int64_t t = 90 * S; t <= 91 * S; t += 100 * MS) {
		in = cc_in(t, 21, 40 + (int)((t - 90 * S) / (100 * MS)));
		engine_input(e, &in);
	}
	collect(e, 93 * S, &s);
	CU_ASSERT_EQUAL(s.exits, 1);
	CU_ASSERT_EQUAL(s.exit_t[0], 91 * S);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_TEMPO], 110, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_REVERB_MIX], reverb, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_SCALE_SELECT], 0, 1e-9);
	/* Density was set during idle by the performer: it stays where they put it. */
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_DENSITY], router_cc_value(&cfg, 24, 100), 1e-9);
	CU_ASSERT_EQUAL(s.too_fast, 0);
	/* No flapping: not idle again before a full timeout after the last action. */
	collect(e, 91 * S + 30 * S - 1, &s);
	CU_ASSERT_EQUAL(s.enters, 1);
	collect(e, 130 * S, &s);
	CU_ASSERT_EQUAL(s.enters, 2);
	CU_ASSERT_EQUAL(s.enter_t[1], 121 * S);
	engine_get_state(e, &st);
	CU_ASSERT_EQUAL(st.idle_transitions, 3);
	engine_free(e);
}

/* A value the keyboard set holds through idle; the idle toggle key works. */
static void test_engine_key_hold_and_toggle(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	cfg.mutation_enabled = false;
	struct engine *e = engine_new(&cfg, 4);
	struct engine_input in = {.kind = INPUT_COMMAND, .t = S};
	in.u.cmd = (struct command){
	    .type = CMD_SET_PARAM, .source = SRC_KEY, .param = P_TEMPO, .value = 133};
	engine_input(e, &in);
	in.t = 2 * S;
	in.u.cmd = (struct command){.type = CMD_IDLE_TOGGLE, .source = SRC_KEY};
	engine_input(e, &in);
	struct seen s;
	memset(&s, 0, sizeof s);
	collect(e, 10 * S, &s);
	CU_ASSERT_EQUAL(s.enters, 1);
	CU_ASSERT_EQUAL(s.enter_t[0], 2 * S);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_TEMPO], 133, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_DENSITY], 0.45, 1e-9);
	in.t = 11 * S;
	engine_input(e, &in);
	collect(e, 12 * S, &s);
	CU_ASSERT_EQUAL(s.exits, 1);
	CU_ASSERT_EQUAL(s.exit_t[0], 11 * S);
	CU_ASSERT_DOUBLE_EQUAL(s.value[P_DENSITY], 0.85, 1e-9);
	struct engine_state st;
	engine_get_state(e, &st);
	CU_ASSERT(!st.idle);
	engine_free(e);
}

TEST_SUITE(idle, NULL, NULL, TEST_CASE(test_enter_at_timeout), TEST_CASE(test_wake_needs_activity),
           TEST_CASE(test_deliberate_and_force), TEST_CASE(test_engine_idle_cycle),
           TEST_CASE(test_engine_key_hold_and_toggle))
