/*
 * sc_link: talks OSC to a running scsynth and waits for its replies.
 *
 * Design: one liblo server (UDP, ephemeral port) is both the sending socket
 * and the reply socket, so scsynth answers to it.  A wait installs a
 * matcher (path, first argument, command whose /fail ends the wait) and
 * pumps lo_server_recv_noblock() until the deadline; the catch-all handler
 * compares each reply with the matcher and copies what the caller asked
 * for (/fail text).  Nothing is queued: replies that nobody waits for are
 * dropped, which is what a synth backend wants, except the ones a listener
 * takes whenever they come (node replies such as the output meter, every
 * /n_go), during waits and sc_link_poll(), and the latest /status.reply's
 * figures, kept whether waited for or not (a heartbeat that does not wait).
 * Timetags come from the wall clock read at sending time plus a monotonic
 * distance, as scsynth schedules against the wall clock.
 *
 * Threads: a link belongs to one thread; the waits block (up to their
 * timeout), so the real-time worker only uses sc_link_send*().
 */
#include "synth/sc_link.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/sockios.h>

#include "rt/rtclock.h"
#include "synth/synthdef.h"

#define NTP_UNIX_OFFSET 2208988800u

struct matcher {
	const char *path, *key, *fail_cmd;
	const char *ok_fail; /* a /fail whose text holds this counts as done */
	int32_t ikey;
	int done, failed;
};

/* Arrival times (CLOCK_MONOTONIC) of /n_go for the nodes first .. first + n - 1. */
struct go_times {
	int32_t first;
	int n, got;
	int64_t at[SC_LINK_LEAD_PROBES];
};

struct sc_link {
	lo_server srv;
	lo_address addr;
	struct matcher *m; /* the wait in progress, NULL when none */
	struct sc_status status;
	uint64_t status_replies; /* /status.reply received, waited for or not */
	int64_t status_ns;       /* when the last one arrived */
	char last_fail[256];
	struct go_times *go; /* /n_go arrival times being collected, NULL when none */
	char reply_path[64]; /* node replies handed to on_node_reply */
	sc_link_node_reply_fn on_node_reply;
	void *reply_ud;
	sc_link_go_fn on_go; /* every /n_go, with its arrival time */
	void *go_ud;
};

static void quiet_error(int num, const char *msg, const char *where)
{
	(void)num;
	(void)msg;
	(void)where;
}

/* liblo's argument pointers are only 4-byte aligned: read them by copy. */
static int32_t arg_i(lo_arg *a)
{
	int32_t v;
	memcpy(&v, (const void *)a, sizeof v);
	return v;
}

static float arg_f(lo_arg *a)
{
	float v;
	memcpy(&v, (const void *)a, sizeof v);
	return v;
}

static double arg_d(lo_arg *a)
{
	double v;
	memcpy(&v, (const void *)a, sizeof v);
	return v;
}

static const char *arg_s(lo_arg *a)
{
	return (const char *)(const void *)a;
}

static int first_is_string(const char *types, lo_arg **argv, const char *s)
{
	return types[0] == 's' && strcmp(arg_s(argv[0]), s) == 0;
}

static int64_t arrival_ns(const struct sc_link *l);

/* "PATH node id f f ..." (SendReply, SendPeakRMS) to the listener. */
static void take_node_reply(struct sc_link *l, const char *types, lo_arg **argv, int argc)
{
	float v[SC_LINK_REPLY_MAX];
	int n = 0;
	if (argc < 2 || types[0] != 'i' || types[1] != 'i')
		return;
	for (int i = 2; i < argc && n < SC_LINK_REPLY_MAX; i++) {
		if (types[i] != 'f')
			return;
		v[n++] = arg_f(argv[i]);
	}
	l->on_node_reply(l->reply_ud, arg_i(argv[0]), arg_i(argv[1]), v, n, arrival_ns(l));
}

static void take_status(struct sc_link *l, const char *types, lo_arg **argv, int argc)
{
	if (argc < 9 || strncmp(types, "iiiiiffdd", 9) != 0)
		return;
	l->status.ugens = arg_i(argv[1]);
	l->status.synths = arg_i(argv[2]);
	l->status.groups = arg_i(argv[3]);
	l->status.defs = arg_i(argv[4]);
	l->status.avg_cpu = arg_f(argv[5]);
	l->status.peak_cpu = arg_f(argv[6]);
	l->status.nominal_rate = arg_d(argv[7]);
	l->status.actual_rate = arg_d(argv[8]);
	l->status_replies++;
	l->status_ns = arrival_ns(l);
}

/*
 * When the datagram being handled reached the socket, on the monotonic
 * clock: the kernel's receive timestamp (wall clock), so a reply's time
 * does not depend on how soon this thread got to read it (a busy machine
 * delays it by milliseconds).  Falls back to now.
 */
static int64_t arrival_ns(const struct sc_link *l)
{
	int64_t now = rtclock_mono_ns();
	struct timespec ts;
	int fd = lo_server_get_socket_fd(l->srv);
	if (fd < 0 || ioctl(fd, SIOCGSTAMPNS, &ts) < 0)
		return now;
	int64_t age = rtclock_real_ns() - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	/* a reply waits up to a few seconds in the socket while the instrument
	 * is silent (the control thread's quiet pace); a larger age is a wall
	 * clock that stepped meanwhile */
	return age >= 0 && age < INT64_C(5000000000) ? now - age : now;
}

static int on_reply(const char *path, const char *types, lo_arg **argv, int argc, lo_message msg,
                    void *data)
{
	(void)msg;
	struct sc_link *l = data;
	if ((l->go || l->on_go) && strcmp(path, "/n_go") == 0 && argc >= 1 && types[0] == 'i') {
		int64_t now = arrival_ns(l);
		int32_t k = l->go ? arg_i(argv[0]) - l->go->first : -1;
		if (l->go && k >= 0 && k < l->go->n && l->go->at[k] == 0) {
			l->go->at[k] = now;
			l->go->got++;
		}
		if (l->on_go)
			l->on_go(l->go_ud, arg_i(argv[0]), now);
	}
	if (l->on_node_reply && strcmp(path, l->reply_path) == 0) {
		take_node_reply(l, types, argv, argc);
		return 0;
	}
	if (strcmp(path, "/status.reply") == 0)
		take_status(l, types, argv, argc);
	if (strcmp(path, "/fail") == 0 && argc >= 1 && types[0] == 's') {
		const char *why = argc >= 2 && types[1] == 's' ? arg_s(argv[1]) : "";
		struct matcher *m = l->m;
		if (m && m->fail_cmd && strcmp(arg_s(argv[0]), m->fail_cmd) == 0) {
			if (m->ok_fail && strstr(why, m->ok_fail)) {
				m->done = 1;
				return 0;
			}
			m->failed = 1;
		}
		snprintf(l->last_fail, sizeof l->last_fail, "%s: %s", arg_s(argv[0]), why);
		return 0;
	}
	struct matcher *m = l->m;
	if (!m || strcmp(path, m->path) != 0)
		return 0;
	if (m->key && !(argc >= 1 && first_is_string(types, argv, m->key)))
		return 0;
	if (!m->key && m->ikey >= 0 && !(argc >= 1 && types[0] == 'i' && arg_i(argv[0]) == m->ikey))
		return 0;
	m->done = 1;
	return 0;
}

uint64_t sc_link_ntp(int64_t real_ns)
{
	if (real_ns < 0)
		real_ns = 0;
	uint64_t sec = (uint64_t)(real_ns / 1000000000) + NTP_UNIX_OFFSET;
	uint64_t ns = (uint64_t)(real_ns % 1000000000);
	return sec << 32 | ((ns << 32) / 1000000000u);
}

lo_timetag sc_link_timetag(int64_t target_ns)
{
	uint64_t ntp = sc_link_ntp(rtclock_real_ns() + (target_ns - rtclock_mono_ns()));
	lo_timetag tt = {.sec = (uint32_t)(ntp >> 32), .frac = (uint32_t)ntp};
	return tt;
}

struct sc_link *sc_link_open(const char *host, int port, enum sc_link_err *err)
{
	enum sc_link_err dummy;
	if (!err)
		err = &dummy;
	if (port <= 0 || port > 65535) {
		*err = SC_LINK_E_ARG;
		return NULL;
	}
	struct sc_link *l = calloc(1, sizeof *l);
	if (!l) {
		*err = SC_LINK_E_NOMEM;
		return NULL;
	}
	char ps[8];
	snprintf(ps, sizeof ps, "%d", port);
	l->srv = lo_server_new_with_proto(NULL, LO_UDP, quiet_error);
	l->addr = lo_address_new(host ? host : "127.0.0.1", ps);
	if (!l->srv || !l->addr) {
		sc_link_close(l);
		*err = SC_LINK_E_SOCKET;
		return NULL;
	}
	lo_server_add_method(l->srv, NULL, NULL, on_reply, l);
	/* Every datagram gets the kernel's receive time (arrival_ns): the first
	 * SIOCGSTAMPNS switches the stamping on (and fails: nothing read yet).
	 * Not SO_TIMESTAMPNS: with it the stamp goes only into a control
	 * message liblo does not read, and SIOCGSTAMPNS fails for every
	 * datagram, so a reply read late would be timed when it was read. */
	struct timespec ts;
	ioctl(lo_server_get_socket_fd(l->srv), SIOCGSTAMPNS, &ts);
	*err = SC_LINK_OK;
	return l;
}

void sc_link_close(struct sc_link *l)
{
	if (!l)
		return;
	if (l->srv)
		lo_server_free(l->srv);
	if (l->addr)
		lo_address_free(l->addr);
	free(l);
}

enum sc_link_err sc_link_send(struct sc_link *l, const char *path, lo_message m)
{
	return lo_send_message_from(l->addr, l->srv, path, m) < 0 ? SC_LINK_E_SEND : SC_LINK_OK;
}

enum sc_link_err sc_link_send_raw(struct sc_link *l, const void *msg, size_t len)
{
	int r = 0;
	lo_message m = lo_message_deserialise((void *)msg, len, &r);
	if (!m)
		return SC_LINK_E_ARG;
	enum sc_link_err e = sc_link_send(l, (const char *)msg, m);
	lo_message_free(m);
	return e;
}

static enum sc_link_err send_bundle(struct sc_link *l, lo_bundle b)
{
	return lo_send_bundle_from(l->addr, l->srv, b) < 0 ? SC_LINK_E_SEND : SC_LINK_OK;
}

enum sc_link_err sc_link_send_timed(struct sc_link *l, lo_timetag tt, int n,
                                    const char *const *paths, lo_message *msgs)
{
	lo_bundle b = lo_bundle_new(tt);
	enum sc_link_err e = b ? SC_LINK_OK : SC_LINK_E_NOMEM;
	int added = 0;
	while (!e && added < n) {
		if (!msgs[added] || lo_bundle_add_message(b, paths[added], msgs[added]) < 0)
			e = SC_LINK_E_NOMEM;
		else
			added++;
	}
	if (!e)
		e = send_bundle(l, b);
	/* The bundle frees what it holds (the paths it copied too); the rest
	 * is freed here. */
	if (b)
		lo_bundle_free_recursive(b);
	else
		added = 0;
	for (int i = added; i < n; i++)
		if (msgs[i])
			lo_message_free(msgs[i]);
	return e;
}

/* Waits for a reply the matcher describes (see sc_link_wait). */
static enum sc_link_err wait_for(struct sc_link *l, struct matcher *mp, int timeout_ms)
{
	struct matcher m = *mp;
	int64_t deadline = rtclock_mono_ns() + (int64_t)timeout_ms * 1000000;
	l->m = &m;
	while (!m.done && !m.failed) {
		int64_t left = (deadline - rtclock_mono_ns()) / 1000000;
		if (left < 0)
			break;
		lo_server_recv_noblock(l->srv, (int)left);
	}
	l->m = NULL;
	if (m.failed)
		return SC_LINK_E_FAIL;
	return m.done ? SC_LINK_OK : SC_LINK_E_TIMEOUT;
}

enum sc_link_err sc_link_wait(struct sc_link *l, const char *path, const char *key, int32_t ikey,
                              const char *fail_cmd, int timeout_ms)
{
	struct matcher m = {.path = path, .key = key, .fail_cmd = fail_cmd, .ikey = ikey};
	return wait_for(l, &m, timeout_ms);
}

int sc_link_poll(struct sc_link *l, int timeout_ms)
{
	int64_t deadline = rtclock_mono_ns() + (int64_t)timeout_ms * 1000000;
	int n = 0;
	for (;;) {
		int64_t left = (deadline - rtclock_mono_ns()) / 1000000;
		if (left < 0)
			break;
		if (lo_server_recv_noblock(l->srv, (int)left) > 0)
			n++;
		else if (left == 0)
			break;
	}
	return n;
}

uint64_t sc_link_last_status(const struct sc_link *l, struct sc_status *st, int64_t *arrived_ns)
{
	if (st)
		*st = l->status;
	if (arrived_ns)
		*arrived_ns = l->status_ns;
	return l->status_replies;
}

void sc_link_on_go(struct sc_link *l, sc_link_go_fn fn, void *ud)
{
	l->on_go = fn;
	l->go_ud = ud;
}

void sc_link_on_node_reply(struct sc_link *l, const char *path, sc_link_node_reply_fn fn, void *ud)
{
	snprintf(l->reply_path, sizeof l->reply_path, "%s", path ? path : "");
	l->on_node_reply = path && *path ? fn : NULL;
	l->reply_ud = ud;
}

enum sc_link_err sc_link_send_args_(struct sc_link *l, const char *path, const char *types, ...)
{
	lo_message m = lo_message_new();
	if (!m)
		return SC_LINK_E_NOMEM;
	va_list ap;
	va_start(ap, types);
	int r = lo_message_add_varargs(m, types, ap);
	va_end(ap);
	enum sc_link_err e = r < 0 ? SC_LINK_E_ARG : sc_link_send(l, path, m);
	lo_message_free(m);
	return e;
}

enum sc_link_err sc_link_notify(struct sc_link *l, int on, int timeout_ms)
{
	/* Asking twice for the same state is not an error: a server that was
	 * stopped and continued still knows this client ("notify: already
	 * registered"), and one that restarted does not ("not registered"). */
	struct matcher m = {.path = "/done",
	                    .key = "/notify",
	                    .fail_cmd = "/notify",
	                    .ikey = -1,
	                    .ok_fail = on ? "already registered" : "not registered"};
	enum sc_link_err e = sc_link_send_args(l, "/notify", "i", on ? 1 : 0);
	return e ? e : wait_for(l, &m, timeout_ms);
}

enum sc_link_err sc_link_status(struct sc_link *l, struct sc_status *st, int timeout_ms)
{
	enum sc_link_err e = sc_link_send_args(l, "/status", "");
	if (!e)
		e = sc_link_wait(l, "/status.reply", NULL, -1, "/status", timeout_ms);
	if (!e && st)
		*st = l->status;
	return e;
}

enum sc_link_err sc_link_sync(struct sc_link *l, int32_t id, int timeout_ms)
{
	enum sc_link_err e = sc_link_send_args(l, "/sync", "i", id);
	return e ? e : sc_link_wait(l, "/synced", NULL, id, NULL, timeout_ms);
}

enum sc_link_err sc_link_load_defs(struct sc_link *l, int timeout_ms)
{
	uint8_t *defs;
	size_t len;
	if (synthdef_build_all(&defs, &len))
		return SC_LINK_E_DEFS;
	lo_message m = lo_message_new();
	lo_blob b = lo_blob_new((int32_t)len, defs);
	free(defs);
	enum sc_link_err e = SC_LINK_E_NOMEM;
	if (m && b && lo_message_add_blob(m, b) == 0)
		e = sc_link_send(l, "/d_recv", m);
	if (m)
		lo_message_free(m);
	if (b)
		lo_blob_free(b);
	return e ? e : sc_link_wait(l, "/done", "/d_recv", -1, "/d_recv", timeout_ms);
}

enum sc_link_err sc_link_trial(struct sc_link *l, const char *def, int32_t node, int32_t group,
                               int timeout_ms)
{
	if (!def || !*def)
		return SC_LINK_E_ARG;
	enum sc_link_err e = sc_link_send_args(l, "/s_new", "siii", def, node, 0, group);
	if (!e)
		e = sc_link_wait(l, "/n_go", NULL, node, "/s_new", timeout_ms);
	if (!e)
		e = sc_link_send_args(l, "/n_free", "i", node);
	if (!e)
		e = sc_link_wait(l, "/n_end", NULL, node, "/n_free", timeout_ms);
	return e;
}

enum sc_link_err sc_link_lead(struct sc_link *l, const char *def, int32_t first_node, int32_t group,
                              struct sc_lead *out, int timeout_ms)
{
	struct go_times go = {.first = first_node, .n = SC_LINK_LEAD_PROBES};
	enum sc_link_err e = SC_LINK_OK;
	int64_t target[SC_LINK_LEAD_PROBES];
	int64_t rtt = INT64_MAX;

	/* The network's round trip: the best of five /status (each may also
	 * wait up to a period for the server's audio thread). */
	for (int i = 0; i < 5 && !e; i++) {
		int64_t t0 = rtclock_mono_ns();
		e = sc_link_status(l, NULL, timeout_ms);
		if (!e && rtclock_mono_ns() - t0 < rtt)
			rtt = rtclock_mono_ns() - t0;
	}
	if (e)
		return e;
	int64_t base = rtclock_mono_ns() + 60 * 1000000;
	for (int i = 0; i < go.n && !e; i++) {
		/* phases spread over 46.5 ms: more than a period of 2048 frames
		 * at 48 kHz, so the earliest on-time start is seen for any period up to
		 * that; the step is no divisor of a usual period's length */
		target[i] = base + (int64_t)i * SC_LINK_LEAD_STEP_NS;
		static const char *const path[] = {"/s_new"};
		lo_message m = lo_message_new();
		if (m &&
		    lo_message_add(m, "siiisf", def, first_node + i, 0, group, "amp", 0.0f) < 0) {
			lo_message_free(m);
			m = NULL;
		}
		e = sc_link_send_timed(l, sc_link_timetag(target[i]), 1, path, &m);
	}
	l->go = &go;
	int64_t deadline =
	    base + (int64_t)go.n * SC_LINK_LEAD_STEP_NS + (int64_t)timeout_ms * 1000000;
	while (!e && go.got < go.n) {
		int64_t left = (deadline - rtclock_mono_ns()) / 1000000;
		if (left < 0)
			break;
		lo_server_recv_noblock(l->srv, (int)left);
	}
	l->go = NULL;
	for (int i = 0; i < go.n; i++)
		sc_link_send_args(l, "/n_free", "i", first_node + i);
	if (e)
		return e;
	if (go.got < go.n)
		return SC_LINK_E_TIMEOUT;
	int64_t hi = INT64_MIN, lo = INT64_MAX;
	for (int i = 0; i < go.n; i++) {
		int64_t x = target[i] - go.at[i];
		hi = x > hi ? x : hi;
		lo = x < lo ? x : lo;
	}
	/* The reply came back on the return half of the round trip, and the
	 * bundle needs the outward half too. */
	out->lead_ns = hi + rtt > 0 ? hi + rtt : 0;
	out->earliest_ns = lo;
	out->latest_ns = hi;
	out->rtt_ns = rtt;
	return SC_LINK_OK;
}

int64_t sc_link_late_ns(const struct sc_lead *m, int64_t due_ns, int64_t sent_ns,
                        int64_t arrived_ns)
{
	int64_t over = arrived_ns - (due_ns - m->earliest_ns);
	int64_t at_once = m->rtt_ns + (m->latest_ns - m->earliest_ns) + SC_LINK_LATE_MARGIN_NS;
	return over > SC_LINK_LATE_MARGIN_NS && arrived_ns - sent_ns <= at_once ? over : 0;
}

const char *sc_link_last_fail(const struct sc_link *l)
{
	return l->last_fail;
}

const char *sc_link_strerror(enum sc_link_err e)
{
	switch (e) {
	case SC_LINK_OK:
		return "no error";
	case SC_LINK_E_SOCKET:
		return "scsynth link: cannot open the reply socket or resolve the server address";
	case SC_LINK_E_SEND:
		return "scsynth link: sending failed";
	case SC_LINK_E_TIMEOUT:
		return "scsynth link: no reply in time (is scsynth running on that port?)";
	case SC_LINK_E_FAIL:
		return "scsynth link: the server refused the command";
	case SC_LINK_E_DEFS:
		return "scsynth link: cannot build the synth defs";
	case SC_LINK_E_ARG:
		return "scsynth link: bad argument";
	case SC_LINK_E_NOMEM:
		return "scsynth link: out of memory";
	}
	return "scsynth link: unknown error";
}
