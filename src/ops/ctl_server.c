/*
 * ctl_server: the control socket's thread (see ctl_server.h).
 *
 * One thread polls the listening socket, a wake-up pipe and every client.
 * Consoles (hello with CTL_HELLO_CONSOLE) are sent the newest snapshot at
 * most fps times a second: the snapshot is copied once per tick for all of
 * them, and sent to each with a non-blocking send.  A client whose socket
 * buffer is full (SO_SNDBUF of a few snapshots: the bound) is marked; when
 * it can take data again (POLLOUT) it is sent the snapshot of that moment,
 * so a terminal frozen for a minute sees the present when it thaws, after
 * at most the few snapshots its buffer held.  Replies wait in a short queue
 * per client; a client that never reads its replies is closed.
 *
 * Messages are checked whole (type, size, ranges) before anything is done
 * with them; a malformed one closes that client with a log line.
 * Everything here runs on the server thread except start and stop (the
 * control thread) and ctl_server_clients (any thread).
 */
#include "ops/ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/param.h"
#include "rt/log.h"
#include "rt/rtclock.h"

#define REPLY_QUEUE 4
/*
 * When consoles are attached the thread wakes just after the worker's next
 * publication is due (the last one's time plus the last spacing seen, plus
 * WAKE_LATE_NS), so each snapshot costs about one wake-up for all consoles;
 * when none has come by then it looks again every RETRY_NS.
 */
#define WAKE_LATE_NS (1 * NS_PER_MS)
#define RETRY_NS (5 * NS_PER_MS)
#define GAP_DEFAULT_NS (33 * NS_PER_MS)
#define FRESH_NS (5 * NS_PER_MS) /* a copy younger than this is reused */

struct pending_reply {
	struct ctl_header h;
	struct ctl_reply r;
};

struct client {
	int fd;
	bool hello;         /* the hello has been answered */
	bool console;       /* streams snapshots */
	bool want_snapshot; /* the newest snapshot is owed */
	bool blocked;       /* its buffer was full: wait for POLLOUT */
	int64_t period_ns, next_ns;
	uint64_t sent_seq;
	pid_t pid;
	uid_t uid;
	struct pending_reply replies[REPLY_QUEUE];
	int n_replies;
};

struct ctl_server {
	struct ctl_server_link link;
	char path[CTL_PATH_MAX];
	char config[256];
	ino_t ino;
	dev_t dev;
	int listen_fd;
	int wake[2];
	pthread_t thread;
	atomic_bool stop;
	atomic_int n_clients;
	struct client clients[CTL_SERVER_CLIENTS];
	unsigned char *msg;    /* CTL_MSG_MAX: the outgoing snapshot message */
	unsigned char *in;     /* CTL_MSG_MAX: an incoming message */
	struct snapshot *snap; /* in msg, after the header */
	bool have_snap;
	int64_t snap_ns;   /* when snap was copied */
	uint64_t seen_seq; /* the newest publication seen */
	int64_t pub_ns;    /* when it was published (CLOCK_MONOTONIC) */
	int64_t gap_ns;    /* spacing of the last two publications */
};

const char *ctl_server_strerror(int err)
{
	switch (err) {
	case CTL_SERVER_OK:
		return "no error";
	case CTL_SERVER_ERR_PATH:
		return "the socket's folder cannot be used";
	case CTL_SERVER_ERR_RUNNING:
		return "another instance is running on this socket";
	case CTL_SERVER_ERR_NOT_SOCKET:
		return "a file that is not a socket has the socket's name";
	case CTL_SERVER_ERR_GROUP:
		return "the group cannot be given to the socket";
	case CTL_SERVER_ERR_SOCKET:
		return "the socket cannot be opened";
	case CTL_SERVER_ERR_SYSTEM:
		return "out of system resources";
	default:
		return "unknown control socket error";
	}
}

int ctl_server_clients(const struct ctl_server *s)
{
	return s ? atomic_load(&s->n_clients) : 0;
}

const char *ctl_server_path(const struct ctl_server *s)
{
	return s->path;
}

/* --- start-up --------------------------------------------------------------- */

static int fail(int code, char *why, size_t n, const char *fmt, const char *a, const char *b)
{
	snprintf(why, n, fmt, a, b);
	return code;
}

/* The socket's folder: made (0750) if missing; refused unless it is a real
 * folder owned by us or by root (RuntimeDirectory=, /run/user/UID). */
static int ensure_dir(const char *path, char *why, size_t n)
{
	char dir[CTL_PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return fail(CTL_SERVER_ERR_PATH, why, n, "%s: cannot create: %s", dir,
		            strerror(errno));
	struct stat st;
	if (lstat(dir, &st) != 0)
		return fail(CTL_SERVER_ERR_PATH, why, n, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(CTL_SERVER_ERR_PATH, why, n, "%s: %s", dir,
		            "not a folder (a symbolic link or a file is refused)");
	if (st.st_uid != getuid() && st.st_uid != 0)
		return fail(CTL_SERVER_ERR_PATH, why, n, "%s: %s", dir,
		            "owned by another user: refusing to put the control socket there");
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		return fail(CTL_SERVER_ERR_PATH, why, n, "%s: %s", dir,
		            "writable by everyone: refusing to put the control socket there");
	return 0;
}

static int unix_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path)
		return -1;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* A socket file left by an instance that died is removed; one that
 * answers belongs to a running instance. */
static int clear_stale(const char *path, char *why, size_t n)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT
		           ? 0
		           : fail(CTL_SERVER_ERR_PATH, why, n, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return fail(CTL_SERVER_ERR_NOT_SOCKET, why, n, "%s: %s", path,
		            "exists and is not a socket: remove it or set control.socket");
	struct sockaddr_un sa;
	unix_address(path, &sa);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(CTL_SERVER_ERR_SOCKET, why, n, "%s: %s", path, strerror(errno));
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	close(fd);
	if (rc == 0 || e == EACCES)
		return fail(CTL_SERVER_ERR_RUNNING, why, n, "%s: %s", path,
		            rc == 0 ? "another instance answers there (mystery-engine attach)"
		                    : "another instance's socket (permission denied)");
	if (unlink(path) != 0 && errno != ENOENT)
		return fail(CTL_SERVER_ERR_PATH, why, n, "%s: cannot remove the stale socket: %s",
		            path, strerror(errno));
	log_info("control", "removed the stale control socket %s", path);
	return 0;
}

static int group_id(const char *name, gid_t *gid, char *why, size_t n)
{
	if (!name || !name[0]) {
		*gid = getegid();
		return 0;
	}
	char buf[4096];
	struct group gr, *res = NULL;
	if (getgrnam_r(name, &gr, buf, sizeof buf, &res) != 0 || !res)
		return fail(CTL_SERVER_ERR_GROUP, why, n, "control.group: %s: %s", name,
		            "no such group");
	*gid = res->gr_gid;
	return 0;
}

static int open_socket(struct ctl_server *s, const struct ctl_server_options *o, char *why,
                       size_t n)
{
	struct sockaddr_un sa;
	if (unix_address(s->path, &sa) != 0)
		return fail(CTL_SERVER_ERR_PATH, why, n, "%s: %s", s->path,
		            "too long for a socket path (at most 107 bytes)");
	gid_t gid;
	int rc = group_id(o->group, &gid, why, n);
	if (rc == 0)
		rc = ensure_dir(s->path, why, n);
	if (rc == 0)
		rc = clear_stale(s->path, why, n);
	if (rc != 0)
		return rc;
	s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0)
		return fail(CTL_SERVER_ERR_SOCKET, why, n, "%s: socket: %s", s->path,
		            strerror(errno));
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return fail(CTL_SERVER_ERR_SOCKET, why, n, "%s: bind: %s", s->path,
		            strerror(errno));
	/* Nobody can connect before listen(): the owner, group and mode are
	 * right before the first client can come. */
	unsigned mode = o->mode ? o->mode : 0660;
	struct stat st;
	if (stat(s->path, &st) != 0) {
		int e = errno;
		unlink(s->path);
		return fail(CTL_SERVER_ERR_SOCKET, why, n, "%s: stat: %s", s->path, strerror(e));
	}
	s->ino = st.st_ino;
	s->dev = st.st_dev;
	/* The socket is born with the program's group (systemd's Group=): no
	 * chown then, which the unit's system call filter (~@privileged)
	 * refuses.  Another group asked for needs it. */
	if (st.st_gid != gid && chown(s->path, (uid_t)-1, gid) != 0) {
		int e = errno;
		unlink(s->path);
		char reason[160];
		snprintf(reason, sizeof reason, "%s%s", strerror(e),
		         e == EPERM ? " (run the program in that group: the unit's Group=)" : "");
		return fail(CTL_SERVER_ERR_GROUP, why, n,
		            "%s: cannot give the socket to the group: %s", s->path, reason);
	}
	if (chmod(s->path, mode) != 0) {
		int e = errno;
		unlink(s->path);
		return fail(CTL_SERVER_ERR_SOCKET, why, n, "%s: chmod: %s", s->path, strerror(e));
	}
	if (listen(s->listen_fd, 16) != 0) {
		int e = errno;
		unlink(s->path);
		return fail(CTL_SERVER_ERR_SOCKET, why, n, "%s: listen: %s", s->path, strerror(e));
	}
	return 0;
}

/* --- clients ---------------------------------------------------------------- */

static void client_close(struct ctl_server *s, struct client *c, const char *why)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	int left = atomic_fetch_sub(&s->n_clients, 1) - 1;
	/* consoles come and go at info; one-shot commands at debug; probes
	 * that only look for a running instance not at all */
	if (c->hello)
		log_write(c->console ? LOG_INFO : LOG_DEBUG, "control",
		          "%s (pid %d, uid %u) %s; %d connected", c->console ? "console" : "client",
		          (int)c->pid, (unsigned)c->uid, why, left);
}

static void on_accept(struct ctl_server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct client *c = NULL;
		for (int i = 0; i < CTL_SERVER_CLIENTS; i++)
			if (s->clients[i].fd < 0) {
				c = &s->clients[i];
				break;
			}
		if (!c) {
			log_warn("control", "refused a client: %d already connected",
			         CTL_SERVER_CLIENTS);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof *c);
		c->fd = fd;
		struct ucred cr;
		socklen_t len = sizeof cr;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
			c->pid = cr.pid;
			c->uid = cr.uid;
		}
		/* the bound: a few snapshots, never a backlog */
		int buf = (int)(2 * CTL_MSG_MAX);
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
		atomic_fetch_add(&s->n_clients, 1);
	}
}

/* Sends a whole message or nothing; 1 sent, 0 would block, -1 gone. */
static int send_msg(int fd, const void *m, size_t len)
{
	ssize_t k = send(fd, m, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (k == (ssize_t)len)
		return 1;
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
		return 0;
	return -1;
}

static void queue_reply(struct ctl_server *s, struct client *c, uint32_t id,
                        const struct ctl_reply *r)
{
	if (c->n_replies >= REPLY_QUEUE) {
		client_close(s, c, "closed: it does not read its replies");
		return;
	}
	struct pending_reply *p = &c->replies[c->n_replies++];
	memset(p, 0, sizeof *p);
	p->h.type = CTL_REPLY;
	p->h.id = id;
	p->r = *r;
}

static void reply(struct ctl_server *s, struct client *c, uint32_t id, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void reply(struct ctl_server *s, struct client *c, uint32_t id, int rc, const char *fmt, ...)
{
	struct ctl_reply r;
	memset(&r, 0, sizeof r);
	r.rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.text, sizeof r.text, fmt, ap);
	va_end(ap);
	queue_reply(s, c, id, &r);
}

static bool fresh_snapshot(struct ctl_server *s, int64_t now)
{
	if (s->have_snap && now - s->snap_ns < FRESH_NS)
		return true;
	if (s->link.snapshot(s->link.ctx, s->snap)) {
		s->have_snap = true;
		s->snap_ns = now;
		if (s->snap->seq != s->seen_seq) {
			/* the publication's own time when the link gives the clock */
			int64_t pub = s->snap->clock_base_ns
			                  ? s->snap->clock_base_ns + s->snap->uptime_ns
			                  : now;
			int64_t gap = pub - s->pub_ns;
			if (s->seen_seq && gap > NS_PER_MS && gap < 10 * GAP_DEFAULT_NS)
				s->gap_ns = gap;
			s->seen_seq = s->snap->seq;
			s->pub_ns = pub;
		}
	}
	return s->have_snap;
}

/* Sends what c is owed: replies first, then the newest snapshot. */
static void flush_client(struct ctl_server *s, struct client *c, int64_t now)
{
	while (c->fd >= 0 && c->n_replies > 0) {
		int k = send_msg(c->fd, &c->replies[0], sizeof c->replies[0]);
		if (k < 0) {
			client_close(s, c, "went away");
			return;
		}
		if (k == 0) {
			c->blocked = true;
			return;
		}
		memmove(&c->replies[0], &c->replies[1],
		        (size_t)(c->n_replies - 1) * sizeof c->replies[0]);
		c->n_replies--;
	}
	if (c->fd < 0 || !c->want_snapshot || !fresh_snapshot(s, now))
		return;
	int k = send_msg(c->fd, s->msg, CTL_MSG_MAX);
	if (k < 0) {
		client_close(s, c, "went away");
		return;
	}
	c->blocked = k == 0;
	if (k == 1) {
		c->want_snapshot = false;
		c->sent_seq = s->snap->seq;
	}
}

static void on_hello(struct ctl_server *s, struct client *c, const struct ctl_hello *h)
{
	unsigned char out[sizeof(struct ctl_header) + sizeof(struct ctl_welcome)];
	struct ctl_header hd = {CTL_WELCOME, 0};
	struct ctl_welcome w;
	memset(&w, 0, sizeof w);
	w.magic = CTL_MAGIC;
	w.version = CTL_VERSION;
	w.snapshot_size = (uint32_t)sizeof(struct snapshot);
	w.pid = (int32_t)getpid();
	w.clients = atomic_load(&s->n_clients);
	snprintf(w.config, sizeof w.config, "%s", s->config);
	if (h->magic != CTL_MAGIC || h->version != CTL_VERSION ||
	    h->snapshot_size != sizeof(struct snapshot)) {
		w.refused = 1;
		snprintf(w.text, sizeof w.text,
		         "this instance (pid %d) runs another build of mystery-engine: attach "
		         "with the same program that runs it",
		         (int)getpid());
	}
	memcpy(out, &hd, sizeof hd);
	memcpy(out + sizeof hd, &w, sizeof w);
	if (send_msg(c->fd, out, sizeof out) != 1 || w.refused) {
		client_close(s, c, w.refused ? "refused: another build" : "went away");
		return;
	}
	c->hello = true;
	c->console = (h->flags & CTL_HELLO_CONSOLE) != 0;
	int fps = h->fps >= 1 && h->fps <= 30 ? h->fps : 30;
	c->period_ns = NS_PER_SEC / fps;
	if (c->console) {
		c->want_snapshot = true;
		log_info("control", "console attached (pid %d, uid %u); %d connected", (int)c->pid,
		         (unsigned)c->uid, atomic_load(&s->n_clients));
	}
}

static bool command_ok(const struct command *c)
{
	if (c->type >= CMD_TYPE_COUNT || c->source >= SRC_COUNT)
		return false;
	if ((c->type == CMD_SET_PARAM || c->type == CMD_NUDGE_PARAM) &&
	    (c->param >= P_COUNT || !isfinite(c->value)))
		return false;
	if ((c->type == CMD_TOGGLE_STEP || c->type == CMD_SET_STEP) &&
	    (c->step < 0 || c->step >= ENGINE_MAX_STEPS))
		return false;
	return true;
}

/* pause/resume: CMD_PAUSE toggles, so it is sent only when needed. */
static void pause_to(struct ctl_server *s, struct client *c, uint32_t id, bool paused)
{
	if (!s->link.snapshot(s->link.ctx, s->snap)) {
		reply(s, c, id, CTL_FAILED, "the engine has not started yet");
		return;
	}
	s->snap_ns = rtclock_mono_ns();
	s->have_snap = true;
	if (s->snap->eng.paused == paused) {
		reply(s, c, id, CTL_OK, "already %s", paused ? "paused" : "playing");
		return;
	}
	struct command cmd;
	memset(&cmd, 0, sizeof cmd);
	cmd.type = CMD_PAUSE;
	cmd.source = SRC_API;
	if (!s->link.command(s->link.ctx, &cmd)) {
		reply(s, c, id, CTL_FAILED, "the engine's command queue is full");
		return;
	}
	log_info("control", "%s (control socket)", paused ? "pause" : "resume");
	reply(s, c, id, CTL_OK, "%s", paused ? "paused" : "playing");
}

static void set_param(struct ctl_server *s, struct client *c, uint32_t id,
                      const struct ctl_request *r)
{
	if (r->param >= P_COUNT) {
		reply(s, c, id, CTL_USAGE, "no such parameter (number %u)", r->param);
		return;
	}
	const struct param_info *pi = &param_table[r->param];
	if (!isfinite(r->value) || r->value < pi->min || r->value > pi->max) {
		reply(s, c, id, CTL_USAGE, "%s: %g is out of range (allowed: %g..%g)", pi->name,
		      r->value, pi->min, pi->max);
		return;
	}
	if (pi->curve == CURVE_STEPPED && r->value != floor(r->value)) {
		reply(s, c, id, CTL_USAGE, "%s: %g is not a whole number", pi->name, r->value);
		return;
	}
	struct command cmd;
	memset(&cmd, 0, sizeof cmd);
	cmd.type = CMD_SET_PARAM;
	cmd.source = SRC_API;
	cmd.param = (uint8_t)r->param;
	cmd.value = r->value;
	if (!s->link.command(s->link.ctx, &cmd)) {
		reply(s, c, id, CTL_FAILED, "the engine's command queue is full");
		return;
	}
	log_info("control", "%s = %g (control socket)", pi->name, r->value);
	reply(s, c, id, CTL_OK, "%s = %g", pi->name, r->value);
}

static void on_request(struct ctl_server *s, struct client *c, uint32_t id,
                       const struct ctl_request *rq)
{
	struct ctl_request r = *rq;
	r.name[sizeof r.name - 1] = '\0';
	switch (r.req) {
	case CTL_REQ_SNAPSHOT:
		if (!fresh_snapshot(s, rtclock_mono_ns())) {
			reply(s, c, id, CTL_FAILED, "the engine has not published its state yet");
			return;
		}
		c->want_snapshot = true;
		reply(s, c, id, CTL_OK, "snapshot");
		return;
	case CTL_REQ_PAUSE:
	case CTL_REQ_RESUME:
		pause_to(s, c, id, r.req == CTL_REQ_PAUSE);
		return;
	case CTL_REQ_SET:
		set_param(s, c, id, &r);
		return;
	case CTL_REQ_RELOAD:
	case CTL_REQ_PRESET_SAVE:
	case CTL_REQ_PRESET_LOAD:
	case CTL_REQ_STOP:
	case CTL_REQ_LEARN:
	case CTL_REQ_LEARN_CANCEL: {
		struct ctl_reply out;
		memset(&out, 0, sizeof out);
		out.rc = CTL_FAILED;
		snprintf(out.text, sizeof out.text, "not available");
		if (s->link.request)
			s->link.request(s->link.ctx, &r, &out);
		out.text[sizeof out.text - 1] = '\0';
		queue_reply(s, c, id, &out);
		return;
	}
	default:
		reply(s, c, id, CTL_USAGE, "unknown request %u", r.req);
	}
}

static void on_readable(struct ctl_server *s, struct client *c)
{
	for (int k = 0; k < 64 && c->fd >= 0; k++) {
		ssize_t n = recv(c->fd, s->in, CTL_MSG_MAX, MSG_DONTWAIT | MSG_TRUNC);
		if (n == 0) {
			client_close(s, c, "detached");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_close(s, c, "went away");
			return;
		}
		struct ctl_header h;
		size_t want = 0;
		if ((size_t)n >= sizeof h) {
			memcpy(&h, s->in, sizeof h);
			want = ctl_payload_size(h.type);
		}
		if (!want || (size_t)n != sizeof h + want || (!c->hello && h.type != CTL_HELLO) ||
		    (h.type != CTL_HELLO && h.type != CTL_COMMAND && h.type != CTL_REQUEST)) {
			client_close(s, c, "closed: malformed message");
			return;
		}
		const void *p = s->in + sizeof h;
		if (h.type == CTL_HELLO) {
			struct ctl_hello hello;
			memcpy(&hello, p, sizeof hello);
			on_hello(s, c, &hello);
		} else if (h.type == CTL_COMMAND) {
			struct command cmd;
			memcpy(&cmd, p, sizeof cmd);
			if (!command_ok(&cmd)) {
				client_close(s, c, "closed: malformed command");
				return;
			}
			if (!s->link.command(s->link.ctx, &cmd))
				reply(s, c, 0, CTL_FAILED, "command queue full: key not sent");
		} else {
			struct ctl_request rq;
			memcpy(&rq, p, sizeof rq);
			on_request(s, c, h.id, &rq);
		}
	}
}

/* --- the thread ------------------------------------------------------------- */

static void *server_main(void *arg)
{
	struct ctl_server *s = arg;
	pthread_setname_np(pthread_self(), "control");
	struct pollfd pf[CTL_SERVER_CLIENTS + 2];
	int who[CTL_SERVER_CLIENTS + 2];
	int64_t next_tick = rtclock_mono_ns();
	s->gap_ns = GAP_DEFAULT_NS;
	while (!atomic_load(&s->stop)) {
		int n = 0;
		pf[n++] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		bool consoles = false;
		for (int i = 0; i < CTL_SERVER_CLIENTS; i++) {
			struct client *c = &s->clients[i];
			if (c->fd < 0)
				continue;
			consoles |= c->console;
			who[n] = i;
			pf[n++] = (struct pollfd){
			    .fd = c->fd, .events = (short)(POLLIN | (c->blocked ? POLLOUT : 0))};
		}
		int64_t now = rtclock_mono_ns();
		int timeout = -1;
		if (consoles)
			timeout = next_tick > now
			              ? (int)((next_tick - now + NS_PER_MS - 1) / NS_PER_MS)
			              : 0;
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (pf[0].revents) {
			char buf[16];
			while (read(s->wake[0], buf, sizeof buf) > 0)
				;
		}
		if (atomic_load(&s->stop))
			break;
		if (pf[1].revents & POLLIN)
			on_accept(s);
		now = rtclock_mono_ns();
		bool tick = consoles && now >= next_tick;
		if (tick) {
			uint64_t seen = s->seen_seq;
			fresh_snapshot(s, now);
			next_tick = s->seen_seq != seen ? s->pub_ns + s->gap_ns + WAKE_LATE_NS
			                                : now + RETRY_NS;
			if (next_tick < now + NS_PER_MS)
				next_tick = now + RETRY_NS;
		}
		for (int k = 2; k < n; k++) {
			struct client *c = &s->clients[who[k]];
			if (c->fd < 0)
				continue;
			if (pf[k].revents & POLLIN)
				on_readable(s, c);
			if (c->fd >= 0 && (pf[k].revents & (POLLERR | POLLHUP | POLLNVAL)) &&
			    !(pf[k].revents & POLLIN)) {
				client_close(s, c, "went away");
				continue;
			}
			if (c->fd >= 0 && (pf[k].revents & POLLOUT))
				c->blocked = false;
		}
		for (int i = 0; i < CTL_SERVER_CLIENTS; i++) {
			struct client *c = &s->clients[i];
			if (c->fd < 0 || !c->hello)
				continue;
			if (c->console && s->have_snap && now >= c->next_ns &&
			    s->snap->seq != c->sent_seq) {
				c->want_snapshot = true;
				c->next_ns = now + c->period_ns - RETRY_NS;
			}
			if (!c->blocked && (c->n_replies || c->want_snapshot))
				flush_client(s, c, now);
		}
	}
	for (int i = 0; i < CTL_SERVER_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_close(s, &s->clients[i], "disconnected: the instrument stops");
	return NULL;
}

static void server_free(struct ctl_server *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	free(s->msg);
	free(s->in);
	free(s);
}

struct ctl_server *ctl_server_start(const struct ctl_server_options *o,
                                    const struct ctl_server_link *link, int *err, char *why,
                                    size_t whylen)
{
	int dummy;
	char none[8];
	if (!err)
		err = &dummy;
	if (!why) {
		why = none;
		whylen = sizeof none;
	}
	why[0] = '\0';
	if (!o || !o->path || !link || !link->snapshot || !link->command) {
		*err = CTL_SERVER_ERR_SYSTEM;
		snprintf(why, whylen, "incomplete control socket set-up");
		return NULL;
	}
	struct ctl_server *s = calloc(1, sizeof *s);
	if (!s) {
		*err = CTL_SERVER_ERR_SYSTEM;
		return NULL;
	}
	s->link = *link;
	s->listen_fd = s->wake[0] = s->wake[1] = -1;
	for (int i = 0; i < CTL_SERVER_CLIENTS; i++)
		s->clients[i].fd = -1;
	atomic_init(&s->stop, false);
	atomic_init(&s->n_clients, 0);
	snprintf(s->path, sizeof s->path, "%s", o->path);
	snprintf(s->config, sizeof s->config, "%s", o->config ? o->config : "");
	s->msg = calloc(1, CTL_MSG_MAX);
	s->in = calloc(1, CTL_MSG_MAX);
	if (!s->msg || !s->in || pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		*err = CTL_SERVER_ERR_SYSTEM;
		snprintf(why, whylen, "out of memory or file descriptors");
		server_free(s);
		return NULL;
	}
	struct ctl_header h = {CTL_SNAPSHOT, 0};
	memcpy(s->msg, &h, sizeof h);
	s->snap = (struct snapshot *)(void *)(s->msg + sizeof h);
	*err = open_socket(s, o, why, whylen);
	if (*err != CTL_SERVER_OK) {
		server_free(s);
		return NULL;
	}
	if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
		*err = CTL_SERVER_ERR_SYSTEM;
		snprintf(why, whylen, "cannot start the control thread");
		unlink(s->path);
		server_free(s);
		return NULL;
	}
	return s;
}

/* Removes the socket file only if it is still the one this server made. */
static void remove_socket(const struct ctl_server *s)
{
	struct stat st;
	if (stat(s->path, &st) == 0 && st.st_ino == s->ino && st.st_dev == s->dev)
		unlink(s->path);
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	ssize_t rc = write(s->wake[1], "x", 1);
	(void)rc;
	pthread_join(s->thread, NULL);
	remove_socket(s);
	server_free(s);
}
