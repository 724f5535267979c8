/*
 * link: the states of links to the outside (see link.h).  Any thread.
 */
#include "rt/link.h"

const char *link_state_name(enum link_state s)
{
	static const char *const names[LINK_STATE_COUNT] = {
	    [LINK_OFF] = "off",
	    [LINK_WAITING] = "waiting",
	    [LINK_CONNECTED] = "connected",
	    [LINK_RECONNECTING] = "reconnecting",
	    [LINK_ERROR] = "error",
	};
	return (unsigned)s < LINK_STATE_COUNT ? names[s] : "unknown";
}
