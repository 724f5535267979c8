/*
 * scale: scale tables, degree-to-note mapping and pitch quantizing.
 * Pure; constant tables; any thread.
 */
#ifndef ME_CORE_SCALE_H
#define ME_CORE_SCALE_H

#include <stddef.h>

enum scale_id {
	SCALE_MAJOR,
	SCALE_MINOR,
	SCALE_PENTATONIC,
	SCALE_MINOR_PENTATONIC,
	SCALE_DORIAN,
	SCALE_MIXOLYDIAN,
	SCALE_HARMONIC_MINOR,
	SCALE_WHOLE_TONE,
	SCALE_CHROMATIC,
	SCALE_COUNT
};

struct scale_info {
	const char *name;
	int n;         /* notes per octave */
	int steps[12]; /* semitones above the root, ascending */
};

extern const struct scale_info scale_table[SCALE_COUNT];

/* Index of the scale called name, or -1. */
int scale_find(const char *name);
const char *scale_name(int id);
/* MIDI note of a scale degree (0 = root; negative and >= n wrap octaves). */
int scale_degree_note(int id, int root, int degree);
/* Nearest note of the scale to pitch (ties go down); result clamped 0..127. */
int scale_quantize(int id, int root, int pitch);
/* 1 when pitch belongs to the scale on that root. */
int scale_contains(int id, int root, int pitch);
/* Note name of a root ("C", "F#", ...) for 0..127, and its inverse (-1 if bad). */
const char *scale_root_name(int root);
int scale_root_parse(const char *s);
/*
 * The name of a pitch spelled for the key of a scale on a root, with its
 * octave: "E♭4" in C minor, "D♯4" in E major, "C♯5" in D harmonic minor
 * ("Eb4", "D#4" with ascii).  A seven-note scale names each degree with
 * its own letter; pentatonic scales as their major or minor parents; the
 * rest (and notes outside the scale) with flats in the flat keys, else
 * sharps.  Writes at most n bytes (NUL included); returns buf.
 */
char *scale_spell(int id, int root, int pitch, int ascii, char *buf, size_t n);

#endif
