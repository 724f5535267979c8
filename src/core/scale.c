/*
 * scale: the scale tables and the arithmetic between degrees, pitches and
 * scales.  A degree counts scale notes from the root (negative and large
 * degrees wrap into lower and higher octaves); every note a function returns
 * lies in the scale and in 0..127 (octaves fold back into range).  An id out
 * of range behaves as the chromatic scale.  Constant tables and pure
 * functions; any thread.
 */
#include "core/scale.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct scale_info scale_table[SCALE_COUNT] = {
    [SCALE_MAJOR] = {"major", 7, {0, 2, 4, 5, 7, 9, 11}},
    [SCALE_MINOR] = {"minor", 7, {0, 2, 3, 5, 7, 8, 10}},
    [SCALE_PENTATONIC] = {"pentatonic", 5, {0, 2, 4, 7, 9}},
    [SCALE_MINOR_PENTATONIC] = {"minor_pentatonic", 5, {0, 3, 5, 7, 10}},
    [SCALE_DORIAN] = {"dorian", 7, {0, 2, 3, 5, 7, 9, 10}},
    [SCALE_MIXOLYDIAN] = {"mixolydian", 7, {0, 2, 4, 5, 7, 9, 10}},
    [SCALE_HARMONIC_MINOR] = {"harmonic_minor", 7, {0, 2, 3, 5, 7, 8, 11}},
    [SCALE_WHOLE_TONE] = {"whole_tone", 6, {0, 2, 4, 6, 8, 10}},
    [SCALE_CHROMATIC] = {"chromatic", 12, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
};

static const struct scale_info *info(int id)
{
	return id >= 0 && id < SCALE_COUNT ? &scale_table[id] : &scale_table[SCALE_CHROMATIC];
}

static int mod(int a, int n)
{
	int m = a % n;
	return m < 0 ? m + n : m;
}

/* Compares names ignoring case, with '-' and ' ' standing for '_'. */
static int name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
		if (ca == '-' || ca == ' ')
			ca = '_';
		if (cb == '-' || cb == ' ')
			cb = '_';
		if (ca != cb)
			return 0;
		if (!ca)
			return 1;
	}
}

int scale_find(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < SCALE_COUNT; i++)
		if (name_eq(scale_table[i].name, name))
			return i;
	return -1;
}

const char *scale_name(int id)
{
	return id >= 0 && id < SCALE_COUNT ? scale_table[id].name : "unknown";
}

/* Moves a note of the scale by octaves into 0..127. */
static int fold(int note)
{
	while (note > 127)
		note -= 12;
	while (note < 0)
		note += 12;
	return note;
}

int scale_degree_note(int id, int root, int degree)
{
	const struct scale_info *s = info(id);
	int idx = mod(degree, s->n);
	int oct = (degree - idx) / s->n;
	return fold(root + 12 * oct + s->steps[idx]);
}

int scale_contains(int id, int root, int pitch)
{
	const struct scale_info *s = info(id);
	int pc = mod(pitch - root, 12);
	for (int i = 0; i < s->n; i++)
		if (s->steps[i] == pc)
			return 1;
	return 0;
}

int scale_quantize(int id, int root, int pitch)
{
	pitch = pitch < 0 ? 0 : pitch > 127 ? 127 : pitch;
	/* Every scale has a note in any 12 consecutive semitones. */
	for (int d = 0; d <= 12; d++) {
		if (pitch - d >= 0 && scale_contains(id, root, pitch - d))
			return pitch - d;
		if (pitch + d <= 127 && scale_contains(id, root, pitch + d))
			return pitch + d;
	}
	return pitch;
}

#define OCTAVE(o)                                                                                  \
	"C" #o, "C#" #o, "D" #o, "D#" #o, "E" #o, "F" #o, "F#" #o, "G" #o, "G#" #o, "A" #o,        \
	    "A#" #o, "B" #o
static const char *const note_names[132] = {
    OCTAVE(-1), OCTAVE(0), OCTAVE(1), OCTAVE(2), OCTAVE(3), OCTAVE(4),
    OCTAVE(5),  OCTAVE(6), OCTAVE(7), OCTAVE(8), OCTAVE(9),
};

const char *scale_root_name(int root)
{
	return root >= 0 && root <= 127 ? note_names[root] : "?";
}

/*
 * Parses "60", "C4", "c#3", "Db-1", "C" (octave 4: 60).  MIDI note 60 is C4.
 * Returns -1 for anything else or a note outside 0..127.
 */
int scale_root_parse(const char *s)
{
	static const int letter_pc[7] = {9, 11, 0, 2, 4, 5, 7}; /* A..G */
	if (!s || !*s)
		return -1;
	char *end;
	if (isdigit((unsigned char)*s)) {
		long v = strtol(s, &end, 10);
		return *end || v > 127 ? -1 : (int)v;
	}
	int c = toupper((unsigned char)*s);
	if (c < 'A' || c > 'G')
		return -1;
	int pc = letter_pc[c - 'A'];
	s++;
	if (*s == '#') {
		pc++;
		s++;
	} else if (*s == 'b') {
		pc--;
		s++;
	}
	long oct = 4;
	if (*s) {
		if (!(isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))))
			return -1;
		oct = strtol(s, &end, 10);
		if (*end || oct < -1 || oct > 9)
			return -1;
	}
	long note = (oct + 1) * 12 + pc;
	return note < 0 || note > 127 ? -1 : (int)note;
}

/*
 * Spelling.  The key signature a scale reads in is its parent major's: the
 * root's for major, pentatonic and the symmetric scales, a fourth up for
 * mixolydian, a whole tone down for dorian, a minor third up for the
 * minors.  Parents on C#/Db, Eb, F, F#/Gb, Ab and Bb read in flats (Db, Gb
 * rather than C#, F#: fewer accidentals but for Gb/F#, which goes flat as
 * Eb minor does).  Seven-note scales then spell degree i with the root's
 * letter plus i, so every letter appears once (C# in D harmonic minor, Cb
 * in Eb minor).
 */
static const int letter_pc[7] = {0, 2, 4, 5, 7, 9, 11}; /* C D E F G A B */

static int parent_offset(int id)
{
	switch (id) {
	case SCALE_MINOR:
	case SCALE_MINOR_PENTATONIC:
	case SCALE_HARMONIC_MINOR:
		return 3;
	case SCALE_DORIAN:
		return 10;
	case SCALE_MIXOLYDIAN:
		return 5;
	default:
		return 0;
	}
}

/* The seven-note scale whose letters a scale borrows, or -1. */
static int letter_scale(int id)
{
	switch (id) {
	case SCALE_MAJOR:
	case SCALE_PENTATONIC:
		return SCALE_MAJOR;
	case SCALE_MINOR:
	case SCALE_MINOR_PENTATONIC:
		return SCALE_MINOR;
	case SCALE_DORIAN:
	case SCALE_MIXOLYDIAN:
	case SCALE_HARMONIC_MINOR:
		return id;
	default:
		return -1;
	}
}

/* Letter (0 = C .. 6 = B) of a pitch class spelled with flats or sharps. */
static int plain_letter(int pc, int flats)
{
	for (int l = 0; l < 7; l++)
		if (letter_pc[l] == pc)
			return l;
	for (int l = 0; l < 7; l++)
		if (letter_pc[l] == mod(pc + (flats ? 1 : -1), 12))
			return l;
	return 0;
}

char *scale_spell(int id, int root, int pitch, int ascii, char *buf, size_t n)
{
	static const char letters[] = "CDEFGAB";
	static const char *const acc_utf8[5] = {
	    "\xf0\x9d\x84\xab", "\xe2\x99\xad", "", "\xe2\x99\xaf",
	    "\xf0\x9d\x84\xaa"}; /* double flat, flat, -, sharp, double sharp */
	static const char *const acc_ascii[5] = {"bb", "b", "", "#", "##"};
	if (!buf || n == 0)
		return buf;
	if (pitch < 0 || pitch > 127) {
		snprintf(buf, n, "?");
		return buf;
	}
	int pc = mod(pitch, 12), rpc = mod(root, 12);
	int parent = mod(rpc + parent_offset(id), 12);
	int flats =
	    parent == 1 || parent == 3 || parent == 5 || parent == 6 || parent == 8 || parent == 10;
	int letter = plain_letter(pc, flats);
	int ls = letter_scale(id);
	if (ls >= 0) {
		const struct scale_info *s = &scale_table[ls];
		for (int i = 0; i < s->n; i++) {
			if (s->steps[i] != mod(pc - rpc, 12))
				continue;
			letter = (plain_letter(rpc, flats) + i) % 7;
			break;
		}
	}
	int acc = mod(pc - letter_pc[letter] + 6, 12) - 6; /* -2..2 in practice */
	if (acc < -2 || acc > 2) {
		letter = plain_letter(pc, flats);
		acc = mod(pc - letter_pc[letter] + 6, 12) - 6;
	}
	int octave = (pitch - acc) / 12 - 1;
	snprintf(buf, n, "%c%s%d", letters[letter], (ascii ? acc_ascii : acc_utf8)[acc + 2],
	         octave);
	return buf;
}
