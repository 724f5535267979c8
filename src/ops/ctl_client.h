/*
 * ctl_client: the client end of the control socket, for `attach` and `ctl`.
 *
 * Connects to a running instrument, says hello, then keeps only the newest
 * snapshot it has received: reading drains every message waiting, so a
 * client that was frozen catches up at once instead of replaying a backlog.
 * Requests wait for their own reply (by id) while snapshots keep arriving.
 * One thread at a time per client (the console's thread, or main in ctl).
 */
#ifndef ME_RT_CTL_CLIENT_H
#define ME_RT_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "ops/ctl_proto.h"

struct ctl_client;

/*
 * Connects to the socket at path.  console: stream snapshots (fps a
 * second).  NULL with *status (enum ctl_status: CTL_UNAVAILABLE when
 * nothing answers, CTL_NOPERM when the socket's owner, group or mode keep us
 * out, CTL_FAILED when it refuses us) and the reason in why.
 */
struct ctl_client *ctl_client_connect(const char *path, bool console, int fps, int *status,
                                      char *why, size_t whylen);
const struct ctl_welcome *ctl_client_welcome(const struct ctl_client *c);
const char *ctl_client_path(const struct ctl_client *c);
void ctl_client_close(struct ctl_client *c);

/* Sends a command for the engine; false when the connection is gone. */
bool ctl_client_command(struct ctl_client *c, const struct command *cmd);
/* Sends r and waits up to timeout_ms for its reply; the reply's rc, or
 * CTL_UNAVAILABLE (text says why) when the instrument went away or did not
 * answer in time. */
int ctl_client_request(struct ctl_client *c, const struct ctl_request *r, struct ctl_reply *out,
                       int timeout_ms);
/* Reads whatever has arrived, waiting up to timeout_ms for the first
 * message; false once the connection is gone. */
bool ctl_client_poll(struct ctl_client *c, int timeout_ms);
/* Copies the newest snapshot received if it is newer than the last copied
 * (or any, with any_age); false otherwise. */
bool ctl_client_snapshot(struct ctl_client *c, struct snapshot *out, bool any_age);
/* Fetches a fresh snapshot now (request and wait); false with why. */
bool ctl_client_fetch(struct ctl_client *c, struct snapshot *out, char *why, size_t whylen);
/* A message the instrument sent on its own (a key it could not queue);
 * false when there is none. */
bool ctl_client_notice(struct ctl_client *c, char *buf, size_t n);
bool ctl_client_gone(const struct ctl_client *c);

/*
 * Finds the running instances among the candidate paths (see
 * ctl_candidate_paths): writes up to max paths that answer to found and
 * returns how many.  A socket we may not open (permission) is reported in
 * denied (the first one) and not counted.
 */
int ctl_client_find(const char *configured, char found[][CTL_PATH_MAX], int max, char *denied,
                    size_t deniedlen);

/* The words of a status for the operator ("no running instance" ...). */
const char *ctl_status_name(int status);

#endif
