/*
 * learn: MIDI learn, the controllers mapped from the console.
 *
 * Pick a parameter in the console, press c, move a knob: that knob's CC now
 * moves the parameter.  What was learned is a small map (parameter -> CC)
 * kept in STATE/learned.conf, written atomically, and laid over the
 * configuration's mapping.ccs at every start and reload: the parameter's
 * knob (with its range and curve) moves to the learned CC, and the CC's
 * previous parameter loses it.
 *
 *   # written by mystery-engine (MIDI learn); applied over mapping.ccs
 *   learned = { tempo = 21; filter_cutoff = 20; };
 *
 * Pure functions over plain data plus learn_load/learn_save (the disk);
 * any thread but the real-time worker.
 */
#ifndef ME_RT_LEARN_H
#define ME_RT_LEARN_H

#include <stddef.h>

#include "core/engine.h"
#include "core/param.h"

#define LEARN_FILE "learned.conf"

struct learn_map {
	int cc[P_COUNT]; /* learned CC per parameter, -1 none */
};

void learn_map_clear(struct learn_map *m);
/* Learns cc for param; a parameter that had learned cc loses it. */
void learn_map_set(struct learn_map *m, int param, int cc);
/* How many parameters have a learned CC. */
int learn_map_count(const struct learn_map *m);

/* The parameter cc moves in c, or -1 (unmapped or reserved). */
int learn_owner(const struct engine_config *c, int cc);
/* Lays m over c's mapping (see above). */
void learn_apply(struct engine_config *c, const struct learn_map *m);

/*
 * Reads STATE_DIR/learned.conf into m (cleared first); a missing file is an
 * empty map.  0, or -1 with "FILE:LINE: problem" in err (nothing applied).
 */
int learn_load(const char *state_dir, struct learn_map *m, char *err, size_t errlen);
/* Writes m atomically to STATE_DIR/learned.conf; 0 or -1 with err. */
int learn_save(const char *state_dir, const struct learn_map *m, char *err, size_t errlen);

#endif
