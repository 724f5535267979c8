/*
 * Tests of the built-in configuration: it must be usable as it is (every
 * reference resolves, no CC serves two parameters) and say what the shipped
 * file says (test_config compares the two field by field).
 */
#include <string.h>

#include "core/engine.h"
#include "core/scale.h"
#include "testlib.h"

static void test_references_resolve(void)
{
	struct engine_config c;
	testlib_default_config(&c);
	CU_ASSERT(c.n_scales >= 1 && c.n_scales <= ENGINE_MAX_SCALES);
	for (int i = 0; i < c.n_scales; i++)
		CU_ASSERT(c.scales[i] >= 0 && c.scales[i] < SCALE_COUNT);
	CU_ASSERT(c.n_modes >= 1);
	for (int i = 0; i < c.n_modes; i++)
		CU_ASSERT(c.modes[i] >= 0 && c.modes[i] < c.n_profiles);
	CU_ASSERT(c.ambient_profile >= 0 && c.ambient_profile < c.n_profiles);
	CU_ASSERT_STRING_EQUAL(c.profiles[c.ambient_profile].name, "ambient");
	/* a profile's scale is an index into the scales list */
	for (int i = 0; i < c.n_profiles; i++)
		if (c.profiles[i].mask & (1u << P_SCALE_SELECT))
			CU_ASSERT(c.profiles[i].value[P_SCALE_SELECT] < c.n_scales);
	CU_ASSERT(c.interval_min_s <= c.interval_max_s);
	CU_ASSERT(c.max_changes_per_cycle >= 1 && c.max_changes_per_cycle <= EVENT_MUT_MAX);
}

/*
 * The design's mapping: one CC per parameter (but the voice envelope, which
 * profiles set), the buttons inside 0..127.
 */
static void test_mapping(void)
{
	struct engine_config c;
	testlib_default_config(&c);
	int seen[P_COUNT] = {0};
	for (int cc = 0; cc < 128; cc++)
		if (c.cc_param[cc] >= 0)
			seen[c.cc_param[cc]]++;
	for (int p = 0; p < P_COUNT; p++)
		CU_ASSERT_EQUAL(seen[p], p == P_ATTACK || p == P_RELEASE ? 0 : 1);
	CU_ASSERT_EQUAL(c.cc_param[53], CC_RESERVED);
	for (int i = 0; i < c.n_buttons; i++)
		CU_ASSERT(c.buttons[i].first <= c.buttons[i].last && c.buttons[i].last <= 127);
}

/* The ambient profile is what the design asks of idle: slower, sparser,
 * pentatonic, more reverb than the start. */
static void test_ambient_profile(void)
{
	struct engine_config c;
	testlib_default_config(&c);
	const struct engine_profile *a = &c.profiles[c.ambient_profile];
	CU_ASSERT(a->value[P_TEMPO] < c.bpm);
	CU_ASSERT(a->value[P_DENSITY] < c.density);
	CU_ASSERT(a->value[P_REVERB_MIX] > c.reverb_mix);
	CU_ASSERT_STRING_EQUAL(scale_name(c.scales[(int)a->value[P_SCALE_SELECT]]), "pentatonic");
	/* an airy pad: softer onsets and longer tails than the start */
	CU_ASSERT(a->mask & (1u << P_ATTACK) && a->mask & (1u << P_RELEASE));
	CU_ASSERT(a->value[P_ATTACK] > c.attack);
	CU_ASSERT(a->value[P_RELEASE] > c.release);
}

TEST_SUITE(engine_config, NULL, NULL, TEST_CASE(test_references_resolve), TEST_CASE(test_mapping),
           TEST_CASE(test_ambient_profile))
