/*
 * devlink: the reconnect backoff shared by the MIDI input, the LED cue bus
 * and the MIDI output (the last two through reopen.c).  The schedule is first, 2 x first, 4 x first
 * ... capped at max (default 50 ms doubling to 2 s): a replugged Teensy is found within about 2 s,
 * and a missing one costs one open() attempt every 2 s.  Pure arithmetic; the thread that owns a
 * struct devlink_backoff calls it.
 */
#include "dev/devlink.h"

void devlink_backoff_init(struct devlink_backoff *b, int64_t first_ns, int64_t max_ns)
{
	b->first_ns = first_ns > 0 ? first_ns : DEVLINK_BACKOFF_FIRST_NS;
	b->max_ns = max_ns > 0 ? max_ns : DEVLINK_BACKOFF_MAX_NS;
	if (b->max_ns < b->first_ns)
		b->max_ns = b->first_ns;
	b->next_ns = b->first_ns;
}

void devlink_backoff_reset(struct devlink_backoff *b)
{
	b->next_ns = b->first_ns;
}

int64_t devlink_backoff_next(struct devlink_backoff *b)
{
	int64_t d = b->next_ns;
	b->next_ns = d > b->max_ns / 2 ? b->max_ns : d * 2;
	return d;
}
