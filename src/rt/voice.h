/*
 * voice: the live backend's voice allocator (pure logic, no I/O).
 *
 * N voices; each note takes a voice from its start time until its end time
 * (start + duration + the envelope's release tail).  A voice whose end has
 * passed is free again.  When every voice is busy, the one that started
 * earliest is taken: the caller frees that node in the same bundle as the
 * new note, so the server never holds more than N voice synths.  Every
 * note gets a fresh node id, so a note never collides with a previous one
 * still fading out.  Only its owner (the real-time worker) may call it; it
 * never allocates.
 */
#ifndef ME_RT_VOICE_H
#define ME_RT_VOICE_H

#include <stdint.h>

#define VOICE_MAX 64

struct voice_slot {
	int32_t node;		/* server node id, 0 when never used */
	int64_t start, end;	/* ns: when it sounds and when it is over */
};

struct voice_alloc {
	int n;			/* voices, 1..VOICE_MAX */
	int32_t first_node, last_node;	/* node ids cycle in [first, last] */
	int32_t next_node;
	uint64_t allocs, steals;
	struct voice_slot v[VOICE_MAX];
};

/* n is clamped to 1..VOICE_MAX; node ids are taken from [first, last]. */
void voice_init(struct voice_alloc *va, int n, int32_t first_node, int32_t last_node);
/*
 * Takes a voice for a note sounding from start to end (ns); returns its new
 * node id.  *stolen is the node the caller must release first (a voice that
 * is still busy at start), or 0 when a free voice was found.
 */
int32_t voice_alloc(struct voice_alloc *va, int64_t start, int64_t end, int32_t *stolen);
/* Voices busy at time t. */
int voice_in_use(const struct voice_alloc *va, int64_t t);
/*
 * Frees every voice; writes the nodes still busy at t into nodes (up to
 * cap) and returns how many there were.
 */
int voice_release_all(struct voice_alloc *va, int64_t t, int32_t *nodes, int cap);
/* Forgets every voice without reporting them (the server was restarted). */
void voice_reset(struct voice_alloc *va);

#endif
