/*
 * ctl_client: the client end of the control socket (see ctl_client.h).
 *
 * Every received message goes through one function (take()): a snapshot
 * replaces the one kept, a reply with the awaited id ends the wait, a reply
 * with id 0 is a notice.  One thread per client.
 */
#include "ops/ctl_client.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rt/rtclock.h"

struct ctl_client {
	int fd;
	bool gone;
	char path[CTL_PATH_MAX];
	struct ctl_welcome welcome;
	uint32_t next_id;
	unsigned char *buf;    /* CTL_MSG_MAX */
	struct snapshot *snap; /* the newest received */
	bool have_snap, snap_new;
	/* the reply being waited for */
	uint32_t wait_id;
	bool got_reply;
	struct ctl_reply reply;
	char notice[CTL_TEXT_MAX];
};

const char *ctl_status_name(int status)
{
	switch (status) {
	case CTL_OK:
		return "ok";
	case CTL_FAILED:
		return "failed";
	case CTL_USAGE:
		return "wrong usage";
	case CTL_UNAVAILABLE:
		return "no running instance";
	case CTL_NOPERM:
		return "permission denied";
	default:
		return "unknown status";
	}
}

/* Why connect() was refused the permission, for the operator. */
static void explain_denied(const char *path, char *why, size_t n)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(why, n, "%s: permission denied (its folder is closed to this user)", path);
		return;
	}
	struct group *g = getgrgid(st.st_gid);
	struct passwd *u = getpwuid(st.st_uid);
	snprintf(why, n,
	         "%s: permission denied: the socket belongs to %s, group %s, mode %04o; "
	         "ask to be added to the group %s",
	         path, u ? u->pw_name : "?", g ? g->gr_name : "?", (unsigned)(st.st_mode & 07777),
	         g ? g->gr_name : "?");
}

static bool send_msg(struct ctl_client *c, uint32_t type, uint32_t id, const void *p, size_t len)
{
	if (c->gone)
		return false;
	unsigned char m[sizeof(struct ctl_header) + sizeof(struct ctl_request) + 64];
	struct ctl_header h = {type, id};
	if (sizeof h + len > sizeof m)
		return false;
	memcpy(m, &h, sizeof h);
	memcpy(m + sizeof h, p, len);
	for (;;) {
		ssize_t k = send(c->fd, m, sizeof h + len, MSG_NOSIGNAL);
		if (k == (ssize_t)(sizeof h + len))
			return true;
		if (k < 0 && errno == EINTR)
			continue;
		c->gone = true;
		return false;
	}
}

/* Takes one received message. */
static void take(struct ctl_client *c, size_t n)
{
	struct ctl_header h;
	if (n < sizeof h)
		return;
	memcpy(&h, c->buf, sizeof h);
	if (n != sizeof h + ctl_payload_size(h.type))
		return;
	const unsigned char *p = c->buf + sizeof h;
	if (h.type == CTL_SNAPSHOT) {
		memcpy(c->snap, p, sizeof *c->snap);
		c->have_snap = c->snap_new = true;
	} else if (h.type == CTL_REPLY) {
		struct ctl_reply r;
		memcpy(&r, p, sizeof r);
		r.text[sizeof r.text - 1] = '\0';
		if (h.id && h.id == c->wait_id) {
			c->reply = r;
			c->got_reply = true;
		} else if (h.id == 0) {
			snprintf(c->notice, sizeof c->notice, "%s", r.text);
		}
	} else if (h.type == CTL_WELCOME) {
		memcpy(&c->welcome, p, sizeof c->welcome);
		c->welcome.config[sizeof c->welcome.config - 1] = '\0';
		c->welcome.text[sizeof c->welcome.text - 1] = '\0';
	}
}

/* Reads every waiting message; waits up to timeout_ms for the first. */
bool ctl_client_poll(struct ctl_client *c, int timeout_ms)
{
	if (c->gone)
		return false;
	struct pollfd pf = {.fd = c->fd, .events = POLLIN};
	int r = poll(&pf, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR;
	if (r == 0)
		return true;
	for (;;) {
		ssize_t n = recv(c->fd, c->buf, CTL_MSG_MAX, MSG_DONTWAIT);
		if (n > 0) {
			take(c, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		c->gone = true;
		return false;
	}
}

struct ctl_client *ctl_client_connect(const char *path, bool console, int fps, int *status,
                                      char *why, size_t whylen)
{
	int dummy;
	if (!status)
		status = &dummy;
	*status = CTL_UNAVAILABLE;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		*status = CTL_USAGE;
		snprintf(why, whylen, "%s: too long for a socket path", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct ctl_client *c = calloc(1, sizeof *c);
	if (!c) {
		*status = CTL_FAILED;
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	c->buf = malloc(CTL_MSG_MAX);
	c->snap = malloc(sizeof *c->snap);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(c->path, sizeof c->path, "%s", path);
	if (!c->buf || !c->snap || c->fd < 0) {
		*status = CTL_FAILED;
		snprintf(why, whylen, "out of memory or file descriptors");
		ctl_client_close(c);
		return NULL;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		if (e == EACCES || e == EPERM) {
			*status = CTL_NOPERM;
			explain_denied(path, why, whylen);
		} else {
			snprintf(why, whylen, "%s: %s", path,
			         e == ENOENT || e == ECONNREFUSED ? "no instance is running there"
			                                          : strerror(e));
		}
		ctl_client_close(c);
		return NULL;
	}
	struct ctl_hello h = {CTL_MAGIC, CTL_VERSION, (uint32_t)sizeof(struct snapshot),
	                      console ? CTL_HELLO_CONSOLE : 0, fps};
	send_msg(c, CTL_HELLO, 0, &h, sizeof h);
	int64_t until = rtclock_mono_ns() + 3 * NS_PER_SEC;
	while (!c->gone && c->welcome.magic != CTL_MAGIC && rtclock_mono_ns() < until)
		ctl_client_poll(c, 100);
	if (c->welcome.magic != CTL_MAGIC || c->welcome.refused) {
		*status = c->welcome.refused ? CTL_FAILED : CTL_UNAVAILABLE;
		snprintf(why, whylen, "%s: %s", path,
		         c->welcome.refused ? c->welcome.text
		                            : "the instance did not answer (is it stopped?)");
		ctl_client_close(c);
		return NULL;
	}
	*status = CTL_OK;
	return c;
}

const struct ctl_welcome *ctl_client_welcome(const struct ctl_client *c)
{
	return &c->welcome;
}

const char *ctl_client_path(const struct ctl_client *c)
{
	return c->path;
}

void ctl_client_close(struct ctl_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->snap);
	free(c);
}

bool ctl_client_command(struct ctl_client *c, const struct command *cmd)
{
	return send_msg(c, CTL_COMMAND, 0, cmd, sizeof *cmd);
}

int ctl_client_request(struct ctl_client *c, const struct ctl_request *r, struct ctl_reply *out,
                       int timeout_ms)
{
	memset(out, 0, sizeof *out);
	c->wait_id = ++c->next_id ? c->next_id : ++c->next_id;
	c->got_reply = false;
	if (!send_msg(c, CTL_REQUEST, c->wait_id, r, sizeof *r)) {
		out->rc = CTL_UNAVAILABLE;
		snprintf(out->text, sizeof out->text, "the instrument went away");
		return out->rc;
	}
	int64_t until = rtclock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
	while (!c->got_reply && !c->gone) {
		int64_t left = until - rtclock_mono_ns();
		if (left <= 0)
			break;
		ctl_client_poll(c, (int)(left / NS_PER_MS) + 1);
	}
	c->wait_id = 0;
	if (!c->got_reply) {
		out->rc = CTL_UNAVAILABLE;
		snprintf(out->text, sizeof out->text, "%s",
		         c->gone ? "the instrument went away"
		                 : "the instrument did not answer in time");
		return out->rc;
	}
	*out = c->reply;
	return out->rc;
}

bool ctl_client_snapshot(struct ctl_client *c, struct snapshot *out, bool any_age)
{
	if (!c->have_snap || (!c->snap_new && !any_age))
		return false;
	memcpy(out, c->snap, sizeof *out);
	c->snap_new = false;
	return true;
}

bool ctl_client_fetch(struct ctl_client *c, struct snapshot *out, char *why, size_t whylen)
{
	struct ctl_request r;
	struct ctl_reply rep;
	memset(&r, 0, sizeof r);
	r.req = CTL_REQ_SNAPSHOT;
	c->snap_new = false;
	if (ctl_client_request(c, &r, &rep, 3000) != CTL_OK) {
		snprintf(why, whylen, "%s", rep.text);
		return false;
	}
	/* the snapshot follows its reply */
	int64_t until = rtclock_mono_ns() + 3 * NS_PER_SEC;
	while (!c->snap_new && !c->gone && rtclock_mono_ns() < until)
		ctl_client_poll(c, 100);
	if (!c->snap_new) {
		snprintf(why, whylen, "the instrument sent no state");
		return false;
	}
	return ctl_client_snapshot(c, out, true);
}

bool ctl_client_notice(struct ctl_client *c, char *buf, size_t n)
{
	if (!c->notice[0])
		return false;
	snprintf(buf, n, "%s", c->notice);
	c->notice[0] = '\0';
	return true;
}

bool ctl_client_gone(const struct ctl_client *c)
{
	return c->gone;
}

int ctl_client_find(const char *configured, char found[][CTL_PATH_MAX], int max, char *denied,
                    size_t deniedlen)
{
	char paths[8][CTL_PATH_MAX];
	int n = ctl_candidate_paths(configured, paths, 8), k = 0;
	if (denied && deniedlen)
		denied[0] = '\0';
	for (int i = 0; i < n && k < max; i++) {
		struct sockaddr_un sa;
		memset(&sa, 0, sizeof sa);
		sa.sun_family = AF_UNIX;
		memcpy(sa.sun_path, paths[i], strlen(paths[i]) + 1);
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
		int e = errno;
		close(fd);
		if (rc == 0)
			memcpy(found[k++], paths[i], CTL_PATH_MAX);
		else if ((e == EACCES || e == EPERM) && denied && !denied[0])
			explain_denied(paths[i], denied, deniedlen);
	}
	return k;
}
