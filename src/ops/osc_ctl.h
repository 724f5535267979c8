/*
 * osc_ctl: the OSC control surface (TouchOSC, Open Stage Control, QLab).
 *
 * A UDP socket bound to osc.address:osc.port (loopback by default), read on
 * a thread of its own; liblo decodes the messages and encodes the replies.
 * The address space (doc/gear.md):
 *
 *   /mystery/param/NAME f     set a parameter, in its own units (tempo in BPM)
 *   /mystery/unit/NAME f      set a parameter from a 0..1 fader, along its curve
 *   /mystery/step/N i         step N (1..) on (non-zero) or off
 *   /mystery/pause i          pause (non-zero) or play
 *   /mystery/preset/load s    load a preset
 *   /mystery/state            send the whole state back
 *
 * A packet from an address outside osc.allowed_hosts is dropped unread.  A
 * control message passes the same gates as an HTTP control request: well
 * formed and in range (else /mystery/error s goes back), then a token of
 * the bucket (osc.max_writes_per_s; over it the message is dropped), then a
 * command into the worker's ring through the link, never into the engine
 * directly.  Every sender is remembered for OSC_CTL_PEER_KEEP_S: it gets
 * the whole state when first seen, then every change of a parameter, a step
 * or the pause (including mutation's, drift's, the knobs') as it appears in
 * the snapshot, so a surface's faders follow the instrument.
 *
 * osc_ctl_start/stop from the control thread; everything else happens on
 * the surface's own thread.  osc_ctl_hosts_parse is a pure helper.
 */
#ifndef ME_RT_OSC_CTL_H
#define ME_RT_OSC_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "rt/snapshot.h"

#define OSC_CTL_PACKET_MAX 4096 /* bytes of a datagram read */
#define OSC_CTL_PEERS 8         /* senders echoed to at once */
#define OSC_CTL_PEER_KEEP_S 600 /* a sender is echoed to this long after its last message */
#define OSC_CTL_ECHO_MS 40      /* changes are looked for this often */
#define OSC_CTL_HOSTS_MAX 16    /* entries of osc.allowed_hosts */

/* An allowed address or network: ADDR or ADDR/PREFIX, IPv4 or IPv6. */
struct osc_ctl_host {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix; /* leading bits that must match */
};

/* Parses "127.0.0.1, ::1, 192.168.1.0/24" (comma or space separated, at
 * least one entry); the count, or -1 with the reason in err. */
int osc_ctl_hosts_parse(const char *s, struct osc_ctl_host *out, int max, char *err, size_t errlen);

/* How the surface reaches the instrument (the app, or a test's fake). */
struct osc_ctl_link {
	bool (*snapshot)(void *ctx, struct snapshot *out);
	/* Queues a command for the engine; false when the queue is full. */
	bool (*command)(void *ctx, const struct command *c);
	/* Loads a preset through the same queue: 0 or a negative preset_err. */
	int (*preset_load)(void *ctx, const char *name, char *err, size_t errlen);
	void *ctx;
};

struct osc_ctl_options {
	const char *address;       /* IPv4 or IPv6 literal */
	int port;                  /* 0: any free port (see osc_ctl_port) */
	const char *allowed_hosts; /* see osc_ctl_hosts_parse */
	int reply_port;            /* 0: echo to the sender's own port */
	int max_writes_per_s;      /* >= 1 */
};

struct osc_ctl_stats {
	uint64_t accepted;  /* control messages handed to the engine */
	uint64_t refused;   /* packets from an address not allowed */
	uint64_t malformed; /* not OSC, unknown address, bad argument */
	uint64_t limited;   /* over the rate limit */
	uint64_t echoed;    /* messages sent back */
	int peers;          /* senders echoed to now */
};

struct osc_ctl;

/* Binds and starts the thread; NULL with the reason in err. */
struct osc_ctl *osc_ctl_start(const struct osc_ctl_options *o, const struct osc_ctl_link *link,
                              char *err, size_t errlen);
/* Stops the thread and frees s; NULL is fine. */
void osc_ctl_stop(struct osc_ctl *s);
int osc_ctl_port(const struct osc_ctl *s);
/* A copy of the counters (any thread). */
void osc_ctl_get_stats(struct osc_ctl *s, struct osc_ctl_stats *out);

#endif
