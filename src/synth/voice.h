/*
 * voice: the voice allocator of the sound plan (pure logic, no I/O).
 *
 * N voices; each note takes a voice from its start time until its end time
 * (start + attack + duration + release, plus a margin).  A voice whose end
 * has passed is free again.  When every voice is busy, the one that started
 * earliest is taken: the caller releases that node (a short fade, see
 * sc_plan.h) and tells the allocator until when it still sounds
 * (voice_fade), so it stays counted and its node id stays reserved until
 * its fade is over.  Every note gets a fresh node id, never one of a node
 * still sounding.  Only its owner (the real-time worker live, the render
 * loop offline) may call it; it never allocates.
 */
#ifndef ME_SYNTH_VOICE_H
#define ME_SYNTH_VOICE_H

#include <stdint.h>

#define VOICE_MAX 64
#define VOICE_FADING_MAX (2 * VOICE_MAX)

struct voice_slot {
	int32_t node;       /* server node id, 0 when never used */
	int64_t start, end; /* ns: when it sounds and when it is over */
};

struct voice_alloc {
	int n;                         /* voices, 1..VOICE_MAX */
	int32_t first_node, last_node; /* node ids cycle in [first, last] */
	int32_t next_node;
	uint64_t allocs, steals;
	struct voice_slot v[VOICE_MAX];
	struct voice_slot fading[VOICE_FADING_MAX]; /* released, still sounding */
	int n_fading;
};

/* n is clamped to 1..VOICE_MAX; node ids are taken from [first, last]. */
void voice_init(struct voice_alloc *va, int n, int32_t first_node, int32_t last_node);
/*
 * Takes a voice for a note sounding from start to end (ns); returns its new
 * node id.  *stolen is the voice taken from a note still busy at start
 * (node 0 when a free voice was found): the caller releases it and reports
 * with voice_fade() until when it sounds.
 */
int32_t voice_alloc(struct voice_alloc *va, int64_t start, int64_t end, struct voice_slot *stolen);
/*
 * A released node that sounded from start goes on sounding until `until`
 * (its fade): it is counted by voice_in_use() and its id is not given out
 * again before then.  When the list is full, the fade ending first is
 * forgotten.
 */
void voice_fade(struct voice_alloc *va, int32_t node, int64_t start, int64_t until);
/* Voices sounding at time t: notes and fades. */
int voice_in_use(const struct voice_alloc *va, int64_t t);
/*
 * Frees every voice; copies the notes still busy at t (sounding, or booked
 * to start later) into out (up to cap) and returns how many there were.
 * Fades already running are kept.
 */
int voice_release_all(struct voice_alloc *va, int64_t t, struct voice_slot *out, int cap);
/* Forgets every voice and fade without reporting them (the server was restarted). */
void voice_reset(struct voice_alloc *va);

#endif
