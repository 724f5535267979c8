/* Tests of the scale tables, degree mapping and quantizing. */
#include <stdlib.h>

#include "core/scale.h"
#include "testlib.h"

static void test_tables(void)
{
	const char *want[] = {"major", "minor", "pentatonic", "minor_pentatonic", "dorian",
	    "mixolydian", "harmonic_minor", "whole_tone", "chromatic"};
	for (int i = 0; i < 9; i++) {
		int id = scale_find(want[i]);
		CU_ASSERT_FATAL(id >= 0);
		const struct scale_info *s = &scale_table[id];
		CU_ASSERT_EQUAL(s->steps[0], 0);
		for (int k = 1; k < s->n; k++)
			CU_ASSERT(s->steps[k] > s->steps[k - 1] && s->steps[k] < 12);
	}
	CU_ASSERT_EQUAL(scale_table[SCALE_MAJOR].n, 7);
	CU_ASSERT_EQUAL(scale_table[SCALE_PENTATONIC].n, 5);
	CU_ASSERT_EQUAL(scale_table[SCALE_WHOLE_TONE].n, 6);
	CU_ASSERT_EQUAL(scale_table[SCALE_CHROMATIC].n, 12);
	/* The third tells major from minor; the seventh tells harmonic minor. */
	CU_ASSERT_EQUAL(scale_table[SCALE_MAJOR].steps[2], 4);
	CU_ASSERT_EQUAL(scale_table[SCALE_MINOR].steps[2], 3);
	CU_ASSERT_EQUAL(scale_table[SCALE_HARMONIC_MINOR].steps[6], 11);
	CU_ASSERT_EQUAL(scale_table[SCALE_DORIAN].steps[5], 9);
	CU_ASSERT_EQUAL(scale_table[SCALE_MIXOLYDIAN].steps[6], 10);
	CU_ASSERT_EQUAL(scale_find("Minor-Pentatonic"), SCALE_MINOR_PENTATONIC);
	CU_ASSERT_EQUAL(scale_find("lydian"), -1);
	CU_ASSERT_STRING_EQUAL(scale_name(SCALE_DORIAN), "dorian");
	CU_ASSERT_STRING_EQUAL(scale_name(99), "unknown");
}

static void test_degrees(void)
{
	const int c_major[] = {60, 62, 64, 65, 67, 69, 71, 72, 74};
	for (int d = 0; d < 9; d++)
		CU_ASSERT_EQUAL(scale_degree_note(SCALE_MAJOR, 60, d), c_major[d]);
	CU_ASSERT_EQUAL(scale_degree_note(SCALE_MAJOR, 60, -1), 59);
	CU_ASSERT_EQUAL(scale_degree_note(SCALE_MAJOR, 60, -7), 48);
	CU_ASSERT_EQUAL(scale_degree_note(SCALE_PENTATONIC, 57, 5), 69);
	CU_ASSERT_EQUAL(scale_degree_note(SCALE_MINOR_PENTATONIC, 57, 1), 60);
	/* Whatever the degree, the note is in the scale and in MIDI range. */
	for (int id = 0; id < SCALE_COUNT; id++)
		for (int root = 0; root < 128; root += 7)
			for (int d = -40; d < 60; d++) {
				int n = scale_degree_note(id, root, d);
				CU_ASSERT_FATAL(n >= 0 && n <= 127);
				CU_ASSERT_FATAL(scale_contains(id, root, n));
			}
}

static void test_quantize(void)
{
	/* Ties go down. */
	CU_ASSERT_EQUAL(scale_quantize(SCALE_MAJOR, 60, 61), 60);
	CU_ASSERT_EQUAL(scale_quantize(SCALE_MAJOR, 60, 66), 65);
	CU_ASSERT_EQUAL(scale_quantize(SCALE_MAJOR, 60, 70), 69);
	CU_ASSERT_EQUAL(scale_quantize(SCALE_PENTATONIC, 60, 65), 64);
	CU_ASSERT_EQUAL(scale_quantize(SCALE_PENTATONIC, 60, 66), 67);
	CU_ASSERT_EQUAL(scale_quantize(SCALE_MINOR, 62, 66), 65);
	CU_ASSERT(scale_quantize(SCALE_MAJOR, 61, 300) <= 127);
	/* Against a brute-force search: nearest, in the scale, idempotent. */
	for (int id = 0; id < SCALE_COUNT; id++)
		for (int root = 0; root < 12; root++)
			for (int p = 0; p < 128; p++) {
				int q = scale_quantize(id, root, p);
				CU_ASSERT_FATAL(scale_contains(id, root, q));
				int best = 99;
				for (int c = 0; c < 128; c++)
					if (scale_contains(id, root, c) && abs(c - p) < best)
						best = abs(c - p);
				CU_ASSERT_FATAL(abs(q - p) == best);
				CU_ASSERT_FATAL(scale_quantize(id, root, q) == q);
			}
}

static void test_contains(void)
{
	CU_ASSERT(scale_contains(SCALE_MAJOR, 60, 48));
	CU_ASSERT(!scale_contains(SCALE_MAJOR, 60, 61));
	CU_ASSERT(scale_contains(SCALE_MAJOR, 62, 61));	/* C# in D major */
	CU_ASSERT(!scale_contains(SCALE_WHOLE_TONE, 60, 67));
	for (int p = 0; p < 128; p++)
		CU_ASSERT(scale_contains(SCALE_CHROMATIC, 60, p));
}

static void test_roots(void)
{
	CU_ASSERT_STRING_EQUAL(scale_root_name(60), "C4");
	CU_ASSERT_STRING_EQUAL(scale_root_name(0), "C-1");
	CU_ASSERT_STRING_EQUAL(scale_root_name(127), "G9");
	CU_ASSERT_STRING_EQUAL(scale_root_name(66), "F#4");
	CU_ASSERT_EQUAL(scale_root_parse("C4"), 60);
	CU_ASSERT_EQUAL(scale_root_parse("c"), 60);
	CU_ASSERT_EQUAL(scale_root_parse("F#3"), 54);
	CU_ASSERT_EQUAL(scale_root_parse("Db-1"), 1);
	CU_ASSERT_EQUAL(scale_root_parse("57"), 57);
	CU_ASSERT_EQUAL(scale_root_parse("128"), -1);
	CU_ASSERT_EQUAL(scale_root_parse("H4"), -1);
	CU_ASSERT_EQUAL(scale_root_parse("C#"), 61);
	CU_ASSERT_EQUAL(scale_root_parse("C4x"), -1);
	CU_ASSERT_EQUAL(scale_root_parse(""), -1);
	for (int n = 0; n < 128; n++)
		CU_ASSERT_EQUAL(scale_root_parse(scale_root_name(n)), n);
}

TEST_SUITE(scale, NULL, NULL,
    TEST_CASE(test_tables),
    TEST_CASE(test_degrees),
    TEST_CASE(test_quantize),
    TEST_CASE(test_contains),
    TEST_CASE(test_roots))
