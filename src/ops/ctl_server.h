/*
 * ctl_server: the control socket of a running instrument.
 *
 * A thread of its own serves consoles (`mystery-engine attach`) and one-shot
 * commands (`mystery-engine ctl`) on a local socket.  It sees the instrument
 * only through a struct ctl_server_link: the latest snapshot and the
 * command ring, like the local console and the HTTP API, plus requests
 * (reload, presets, stop) carried out on its own thread.  The worker never
 * waits for it, and no client can make it wait for another: every client
 * has a bounded socket buffer, a client that stops reading is kept and gets
 * the newest snapshot when it reads again (never a backlog), and a closed
 * client is forgotten at once.
 *
 * Who may connect is decided by the socket file's owner, group and mode
 * (the process's group, 0660, by default); nothing listens on the network.
 * ctl_server_start/stop: the control (main) thread.
 */
#ifndef ME_RT_CTL_SERVER_H
#define ME_RT_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/engine.h"
#include "ops/ctl_proto.h"
#include "rt/snapshot.h"

#define CTL_SERVER_CLIENTS 32 /* connected at once; more are refused */

struct ctl_server_link {
	/* Copies the latest snapshot; false when there is none yet. */
	bool (*snapshot)(void *ctx, struct snapshot *out);
	/* Queues a command for the engine (the server thread is the ring's
	 * only producer); false when the queue is full. */
	bool (*command)(void *ctx, const struct command *c);
	/* Carries out reload, preset save/load and stop on the server thread
	 * and says how it went in reply. */
	void (*request)(void *ctx, const struct ctl_request *r, struct ctl_reply *reply);
	void *ctx;
};

struct ctl_server_options {
	const char *path;   /* the socket file */
	const char *group;  /* group allowed to connect; NULL or "": the process's */
	unsigned mode;      /* of the socket file; 0: 0660 */
	const char *config; /* the configuration's source, told to clients */
};

enum ctl_server_err {
	CTL_SERVER_OK,
	CTL_SERVER_ERR_PATH,       /* the folder cannot be made or is not ours */
	CTL_SERVER_ERR_RUNNING,    /* another instance answers on the socket */
	CTL_SERVER_ERR_NOT_SOCKET, /* something else has the socket's name */
	CTL_SERVER_ERR_GROUP,      /* unknown group, or not one of ours */
	CTL_SERVER_ERR_SOCKET,     /* socket, bind or listen failed */
	CTL_SERVER_ERR_SYSTEM,     /* memory or thread */
};

const char *ctl_server_strerror(int err);

struct ctl_server;

/* Listens on o->path and starts the thread; NULL with *err (enum
 * ctl_server_err) and the reason in why. */
struct ctl_server *ctl_server_start(const struct ctl_server_options *o,
                                    const struct ctl_server_link *link, int *err, char *why,
                                    size_t whylen);
/* Closes every client, removes the socket file and frees s; NULL is fine. */
void ctl_server_stop(struct ctl_server *s);
/* Clients connected now (any thread). */
int ctl_server_clients(const struct ctl_server *s);
/* The socket's path. */
const char *ctl_server_path(const struct ctl_server *s);

#endif
