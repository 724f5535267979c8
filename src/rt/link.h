/*
 * link: the state of a link to something outside the program (the MIDI
 * input, the LED port, the synth server), one set of states for all of
 * them, as the snapshot, the console, /state and the metrics show it.
 * Plain data; any thread.
 */
#ifndef ME_RT_LINK_H
#define ME_RT_LINK_H

enum link_state {
	LINK_OFF,     /* nothing configured ("none") */
	LINK_WAITING, /* configured, not yet connected (a server starting up) */
	LINK_CONNECTED,
	LINK_RECONNECTING, /* was connected, lost it, retrying */
	LINK_ERROR,        /* repeated failures; still retrying, slowly */
	LINK_STATE_COUNT
};

/* "off", "waiting", "connected", "reconnecting", "error". */
const char *link_state_name(enum link_state s);

#endif
