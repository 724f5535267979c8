/* Tests of the scale tables, degree mapping and quantizing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scale.h"
#include "testlib.h"

static void test_tables(void)
{
	const char *want[] = {"major",    "minor",      "pentatonic",     "minor_pentatonic",
	                      "dorian",   "mixolydian", "harmonic_minor", "whole_tone",
	                      "chromatic"};
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
	CU_ASSERT(scale_contains(SCALE_MAJOR, 62, 61)); /* C# in D major */
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

static const char *spell(int id, int root, int pitch, int ascii)
{
	static char buf[32];
	return scale_spell(id, root, pitch, ascii, buf, sizeof buf);
}

/* Note names read in the key: E♭ in C minor, never D♯. */
static void test_spelling(void)
{
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MINOR, 60, 63, 0), "E\xe2\x99\xad"
	                                                      "4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MINOR, 60, 63, 1), "Eb4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MINOR, 60, 68, 1), "Ab4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MINOR, 60, 70, 1), "Bb4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MINOR, 60, 60, 1), "C4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MINOR_PENTATONIC, 60, 75, 1), "Eb5");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MAJOR, 64, 68, 0), "G\xe2\x99\xaf"
	                                                      "4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MAJOR, 64, 63, 1), "D#4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MAJOR, 67, 66, 1), "F#4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MAJOR, 65, 70, 1), "Bb4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_PENTATONIC, 62, 66, 1), "F#4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_HARMONIC_MINOR, 62, 61, 1), "C#4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_HARMONIC_MINOR, 62, 70, 1), "Bb4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_DORIAN, 62, 71, 1), "B4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MIXOLYDIAN, 67, 65, 1), "F4");
	/* E♭ minor has C♭, whose octave is the letter's: pitch 71 is C♭5 */
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MINOR, 63, 71, 1), "Cb5");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MAJOR, 60, 61, 1), "C#4"); /* outside C major */
	CU_ASSERT_STRING_EQUAL(spell(SCALE_CHROMATIC, 65, 61, 1), "Db4");
	CU_ASSERT_STRING_EQUAL(spell(SCALE_MAJOR, 60, 128, 1), "?");

	/* Seven-note scales on every root: each letter once per octave, and
	 * every plain name reads back as its pitch. */
	const int seven[] = {SCALE_MAJOR, SCALE_MINOR, SCALE_DORIAN, SCALE_MIXOLYDIAN,
	                     SCALE_HARMONIC_MINOR};
	for (size_t i = 0; i < sizeof seven / sizeof seven[0]; i++) {
		for (int root = 48; root < 60; root++) {
			int seen = 0;
			for (int d = 0; d < 7; d++) {
				int pitch = scale_degree_note(seven[i], root, d);
				const char *name = spell(seven[i], root, pitch, 1);
				seen |= 1 << (name[0] - 'A');
				size_t len = strlen(name);
				bool dbl = len > 2 && (name[2] == '#' || name[2] == 'b');
				if (!dbl && scale_root_parse(name) != pitch) {
					fprintf(stderr, "\n  %s on %d: %d spelled %s",
					        scale_name(seven[i]), root, pitch, name);
					CU_FAIL("a spelled name does not read back");
				}
			}
			CU_ASSERT_EQUAL(seen, 0x7F);
		}
	}
}

TEST_SUITE(scale, NULL, NULL, TEST_CASE(test_tables), TEST_CASE(test_degrees),
           TEST_CASE(test_quantize), TEST_CASE(test_contains), TEST_CASE(test_roots),
           TEST_CASE(test_spelling))
