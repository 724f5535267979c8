/*
 * devlink: what the device threads share about a link to a device (the MIDI
 * input, the LED cue port): its state as readers see it, and the reconnect
 * schedule (exponential backoff, capped).  Plain data; any thread.
 */
#ifndef ME_DEV_DEVLINK_H
#define ME_DEV_DEVLINK_H

#include <stdint.h>

#include "rt/link.h"

#define DEVLINK_BACKOFF_FIRST_NS INT64_C(50000000) /* 50 ms */
#define DEVLINK_BACKOFF_MAX_NS INT64_C(2000000000) /* 2 s */

/* Delays between reconnect attempts: first, then doubling up to max. */
struct devlink_backoff {
	int64_t first_ns, max_ns; /* 0: the defaults above */
	int64_t next_ns;
};

void devlink_backoff_init(struct devlink_backoff *b, int64_t first_ns, int64_t max_ns);
/* After a success: the next failure waits first_ns again. */
void devlink_backoff_reset(struct devlink_backoff *b);
/* The delay before the next attempt; doubles the one after, up to max_ns. */
int64_t devlink_backoff_next(struct devlink_backoff *b);

#endif
