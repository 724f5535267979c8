/*
 * ctl_proto: the control socket's messages and where the socket lives.
 *
 * The socket is a local SOCK_SEQPACKET socket: every message arrives whole
 * or not at all, so a message is a struct ctl_header followed by one fixed
 * payload, and nothing on the wire is ever half read.  Both ends are the
 * same program: the hello carries the protocol version and the snapshot's
 * size, and a mismatch is refused with a clear reason (one build attaches
 * to the same build).
 *
 *   client -> server   CTL_HELLO (first), CTL_COMMAND, CTL_REQUEST
 *   server -> client   CTL_WELCOME (answer to the hello), CTL_SNAPSHOT
 *                      (to consoles, the newest one, at most fps a second;
 *                      to anyone on CTL_REQ_SNAPSHOT), CTL_REPLY (one per
 *                      request, with the request's id)
 *
 * Pure helpers (path resolution reads the environment only); any thread.
 */
#ifndef ME_RT_CTL_PROTO_H
#define ME_RT_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "rt/snapshot.h"

#define CTL_MAGIC 0x4d45434cu /* "MECL" */
#define CTL_VERSION 1u
#define CTL_SOCKET_NAME "control.sock"
#define CTL_TEXT_MAX 512 /* a reply's text */
#define CTL_NAME_MAX 80  /* a preset name or a path fragment */
#define CTL_PATH_MAX 108 /* sockaddr_un's sun_path */

enum ctl_msg_type {
	CTL_HELLO = 1,
	CTL_WELCOME,
	CTL_SNAPSHOT,
	CTL_COMMAND,
	CTL_REQUEST,
	CTL_REPLY,
	CTL_MSG_COUNT
};

struct ctl_header {
	uint32_t type; /* enum ctl_msg_type */
	uint32_t id;   /* a request's id, echoed by its reply */
};

#define CTL_HELLO_CONSOLE 1u /* stream snapshots to this client */

struct ctl_hello {
	uint32_t magic, version, snapshot_size, flags;
	int32_t fps; /* consoles: snapshots a second wanted, 1..30 */
};

struct ctl_welcome {
	uint32_t magic, version, snapshot_size;
	int32_t pid;
	int32_t clients;  /* connected now, this one included */
	int32_t refused;  /* nonzero: the hello was refused, text says why */
	char config[256]; /* the configuration the instance runs */
	char text[CTL_TEXT_MAX];
};

enum ctl_req {
	CTL_REQ_SNAPSHOT,    /* send one snapshot now */
	CTL_REQ_RELOAD,      /* reload the configuration (errors in the reply) */
	CTL_REQ_PRESET_SAVE, /* name */
	CTL_REQ_PRESET_LOAD, /* name */
	CTL_REQ_PAUSE,       /* pause (nothing if paused) */
	CTL_REQ_RESUME,      /* resume (nothing if playing) */
	CTL_REQ_SET,         /* param = value, source api, checked */
	CTL_REQ_STOP,        /* stop the instrument */
	CTL_REQ_LEARN,       /* map the next controller moved to param */
	CTL_REQ_LEARN_CANCEL,
	CTL_REQ_COUNT
};

struct ctl_request {
	uint32_t req;   /* enum ctl_req */
	uint32_t param; /* enum param_id */
	double value;
	char name[CTL_NAME_MAX];
};

/* Exit statuses of `ctl` and `attach` (sysexits where one fits). */
enum ctl_status {
	CTL_OK = 0,
	CTL_FAILED = 1, /* the instrument refused or could not do it */
	CTL_USAGE = 2,
	CTL_UNAVAILABLE = 69, /* no running instance answers */
	CTL_NOPERM = 77,      /* the socket's owner, group or mode keep us out */
};

struct ctl_reply {
	int32_t rc; /* enum ctl_status */
	char text[CTL_TEXT_MAX];
};

/* The largest message: a header and a snapshot. */
#define CTL_MSG_MAX (sizeof(struct ctl_header) + sizeof(struct snapshot))

/* The payload size of a message type; 0 for an unknown type. */
size_t ctl_payload_size(uint32_t type);
const char *ctl_req_name(enum ctl_req r);

/*
 * The socket this instance listens on, when the configuration names none:
 * $RUNTIME_DIRECTORY/control.sock (systemd's RuntimeDirectory=), else
 * $XDG_RUNTIME_DIR/mystery-engine/control.sock, else
 * /tmp/mystery-engine-UID/control.sock.  0, or -1 if it does not fit.
 */
int ctl_default_path(char *buf, size_t n);

/*
 * Where clients look, in order, without duplicates: configured (if not
 * empty), the default path above, the system service's
 * /run/mystery-engine/control.sock, the $XDG_RUNTIME_DIR one and the /tmp
 * one.  Returns how many were written (at most max).
 */
int ctl_candidate_paths(const char *configured, char paths[][CTL_PATH_MAX], int max);

#endif
