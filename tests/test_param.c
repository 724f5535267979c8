/* Tests of the parameter table: clamping and control curves. */
#include <math.h>

#include "core/param.h"
#include "testlib.h"

static void test_find(void)
{
	CU_ASSERT_EQUAL(param_find("tempo"), P_TEMPO);
	CU_ASSERT_EQUAL(param_find("drift"), P_DRIFT);
	CU_ASSERT_EQUAL(param_find("tempoo"), -1);
}

static void test_clamp(void)
{
	CU_ASSERT_DOUBLE_EQUAL(param_clamp(P_TEMPO, 900), 300, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(param_clamp(P_TEMPO, 1), 20, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(param_clamp(P_SWING, 0.7), 0.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(param_clamp(P_SEQUENCE_LENGTH, 7.6), 8, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(param_clamp(P_DENSITY, NAN), param_table[P_DENSITY].def, 1e-9);
}

/* Tempo is exponential: the middle of the knob is the geometric mean. */
static void test_curves(void)
{
	CU_ASSERT_DOUBLE_EQUAL(param_from_unit(P_TEMPO, 0.5), sqrt(20.0 * 300.0), 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(param_from_unit(P_REVERB_MIX, 0.5), 0.5, 1e-9);
	for (int i = 0; i < P_COUNT; i++) {
		if (param_table[i].curve == CURVE_STEPPED)
			continue;
		double v = param_from_unit(i, 0.3);
		CU_ASSERT_DOUBLE_EQUAL(param_to_unit(i, v), 0.3, 1e-9);
	}
}

TEST_SUITE(param, NULL, NULL, TEST_CASE(test_find), TEST_CASE(test_clamp), TEST_CASE(test_curves))
