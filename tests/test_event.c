/* Tests of the event and MIDI kind names the log and the metrics print. */
#include <string.h>

#include "core/event.h"
#include "core/midi.h"
#include "testlib.h"

/* Every kind has its own non-empty name; out-of-range values say so. */
static void test_names_distinct(void)
{
	for (int i = 0; i < EV_TYPE_COUNT; i++) {
		const char *a = event_type_name(i);
		CU_ASSERT(a && *a && strcmp(a, "unknown") != 0);
		for (int j = 0; j < i; j++)
			CU_ASSERT(strcmp(a, event_type_name(j)) != 0);
	}
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_TYPE_COUNT), "unknown");
	for (int i = 0; i < MIDI_KIND_COUNT; i++) {
		const char *a = midi_kind_name(i);
		CU_ASSERT(a && *a && strcmp(a, "unknown") != 0);
		for (int j = 0; j < i; j++)
			CU_ASSERT(strcmp(a, midi_kind_name(j)) != 0);
	}
}

/* The names doc/events.md documents for the logged types. */
static void test_documented_names(void)
{
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_NOTE), "note");
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_PARAM), "param");
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_SCALE), "scale");
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_MUTATION), "mutation");
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_IDLE), "idle");
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_MODE), "mode");
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_INPUT), "input");
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_STEP_EDIT), "step_edit");
	CU_ASSERT_STRING_EQUAL(event_type_name(EV_PATTERN), "pattern");
	CU_ASSERT_STRING_EQUAL(event_pattern_cause_name(PATTERN_REWRITE), "rewrite");
	CU_ASSERT_STRING_EQUAL(event_pattern_cause_name(PATTERN_CAUSE_COUNT), "unknown");
}

TEST_SUITE(event, NULL, NULL, TEST_CASE(test_names_distinct), TEST_CASE(test_documented_names))
