/*
 * osc_ctl: the OSC control surface on a UDP socket and a thread of its own.
 *
 * Design: the socket is ours (bound to the configured address, so the
 * sender's address is known before anything is parsed); liblo decodes each
 * message (lo_message_deserialise) and encodes each reply
 * (lo_message_serialise).  Bundles are opened and their messages handled
 * at once, in order (their time tags are ignored: a surface wants its move
 * heard now).  The thread polls the socket with a timeout of
 * OSC_CTL_ECHO_MS (without one while no sender is known: an idle surface
 * costs nothing) and, on each timeout or packet, does two things:
 *
 *  - Coalescing: a parameter set over the rate limit is not lost but kept
 *    as that parameter's latest wanted value, sent when the bucket has a
 *    token again; so the end of a fast fader move always arrives.  Other
 *    control messages over the limit are dropped and counted.
 *  - Echo: every OSC_CTL_ECHO_MS, while any sender is known, the latest
 *    snapshot is compared with what was last sent; each changed parameter,
 *    step or pause goes to every known sender, the whole state to a sender
 *    seen for the first time (or asking /mystery/state).  A parameter a
 *    sender set is sent again ECHO_FORCE_NS later whatever its value, so a
 *    surface always learns the value the engine actually took.
 *
 * The engine is reached only through the link (a command ring of the
 * worker, its snapshot, preset loading through the same ring), like HTTP.
 * Threads: osc_ctl_start/stop on the control thread, the rest on the
 * surface's thread (which blocks every signal); the counters are atomics.
 */
#include "ops/osc_ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <lo/lo.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/param.h"
#include "ops/http.h"
#include "rt/log.h"
#include "ops/preset.h"
#include "rt/rtclock.h"

#define ECHO_FORCE_NS (150 * NS_PER_MS) /* a set parameter is echoed again after this */
#define PACKETS_PER_ROUND 64            /* datagrams read before the echo gets a turn */
#define BUNDLE_DEPTH 4                  /* nested bundles opened */
#define LOG_EVERY_NS (10 * NS_PER_SEC)  /* refusals and limits are logged this often */

/* Echoed items: the parameters, then the pause, then the steps. */
#define ITEM_PAUSE P_COUNT
#define ITEM_STEP0 (P_COUNT + 1)
#define N_ITEMS (ITEM_STEP0 + ENGINE_MAX_STEPS)

struct peer {
	struct sockaddr_storage addr; /* where its echo goes */
	socklen_t len;
	int64_t seen; /* mono ns of its last message, 0: free */
	bool full;    /* send it the whole state at the next echo */
};

struct osc_ctl {
	int fd, port, reply_port;
	struct osc_ctl_link link;
	struct osc_ctl_host hosts[OSC_CTL_HOSTS_MAX];
	int n_hosts;
	struct http_bucket bucket;

	pthread_t thread;
	atomic_bool stop;

	struct peer peers[OSC_CTL_PEERS];
	double sent[N_ITEMS];   /* last value echoed, NaN: none yet */
	int64_t force[N_ITEMS]; /* echo again at this time, 0: no */
	double wanted[P_COUNT]; /* coalesced sets over the limit */
	bool pending[P_COUNT];
	int64_t next_echo;
	struct snapshot *snap;

	int64_t refused_logged, limited_logged;
	uint64_t refused_unlogged, limited_unlogged;

	_Atomic uint64_t accepted, refused, malformed, limited, echoed;
	atomic_int n_peers;

	uint8_t in[OSC_CTL_PACKET_MAX];
	uint8_t out[OSC_CTL_PACKET_MAX];
};

/* ---- allowed hosts ---- */

int osc_ctl_hosts_parse(const char *s, struct osc_ctl_host *out, int max, char *err, size_t errlen)
{
	int n = 0;
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " ,\t");
		char item[INET6_ADDRSTRLEN + 8];
		if (len >= sizeof item) {
			snprintf(err, errlen, "\"%.*s\" is not an IP address", (int)len, p);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p += len;
		if (n == max) {
			snprintf(err, errlen, "more than %d entries", max);
			return -1;
		}
		struct osc_ctl_host *h = &out[n];
		memset(h, 0, sizeof *h);
		char *slash = strchr(item, '/');
		if (slash)
			*slash = '\0';
		if (inet_pton(AF_INET, item, h->addr) == 1) {
			h->family = AF_INET;
			h->prefix = 32;
		} else if (inet_pton(AF_INET6, item, h->addr) == 1) {
			h->family = AF_INET6;
			h->prefix = 128;
		} else {
			snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", item);
			return -1;
		}
		if (slash) {
			char *end;
			long b = strtol(slash + 1, &end, 10);
			if (slash[1] == '\0' || *end || b < 0 || b > h->prefix) {
				snprintf(err, errlen, "\"%s/%s\": the prefix must be 0..%d", item,
				         slash + 1, h->prefix);
				return -1;
			}
			h->prefix = (int)b;
		}
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen,
		         "no address: list at least one (\"127.0.0.1\" for this host)");
		return -1;
	}
	return n;
}

/* The sender's address as family and bytes (an IPv4-mapped IPv6 as IPv4). */
static int sender_bytes(const struct sockaddr_storage *ss, uint8_t out[16])
{
	if (ss->ss_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return AF_INET;
	}
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a6)) {
		memcpy(out, a6->s6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(out, a6->s6_addr, 16);
	return AF_INET6;
}

static bool host_allowed(const struct osc_ctl *s, const struct sockaddr_storage *ss)
{
	uint8_t a[16];
	int fam = sender_bytes(ss, a);
	for (int i = 0; i < s->n_hosts; i++) {
		const struct osc_ctl_host *h = &s->hosts[i];
		if (h->family != fam)
			continue;
		int full = h->prefix / 8, rest = h->prefix % 8;
		if (memcmp(a, h->addr, (size_t)full) != 0)
			continue;
		if (rest && ((a[full] ^ h->addr[full]) & (0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

static const char *addr_text(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	uint8_t a[16];
	int fam = sender_bytes(ss, a);
	if (!inet_ntop(fam, a, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

/* ---- replies ---- */

static void send_to(struct osc_ctl *s, const struct peer *p, const char *path, lo_message m)
{
	size_t n = lo_message_length(m, path);
	if (n == 0 || n > sizeof s->out)
		return;
	if (!lo_message_serialise(m, path, s->out, &n))
		return;
	if (sendto(s->fd, s->out, n, MSG_DONTWAIT, (const struct sockaddr *)&p->addr, p->len) ==
	    (ssize_t)n)
		atomic_fetch_add(&s->echoed, 1);
}

static void reply_error(struct osc_ctl *s, const struct peer *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct osc_ctl *s, const struct peer *p, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	atomic_fetch_add(&s->malformed, 1);
	log_debug("osc", "%s", text);
	if (!p)
		return;
	lo_message m = lo_message_new();
	if (!m)
		return;
	lo_message_add_string(m, text);
	send_to(s, p, "/mystery/error", m);
	lo_message_free(m);
}

/* Sends item i's value v to p. */
static void send_item(struct osc_ctl *s, const struct peer *p, int i, double v)
{
	char path[96];
	lo_message m = lo_message_new();
	if (!m)
		return;
	if (i < P_COUNT) {
		snprintf(path, sizeof path, "/mystery/param/%s", param_table[i].name);
		lo_message_add_float(m, (float)v);
		send_to(s, p, path, m);
		lo_message_free(m);
		m = lo_message_new();
		if (!m)
			return;
		snprintf(path, sizeof path, "/mystery/unit/%s", param_table[i].name);
		lo_message_add_float(m, (float)param_to_unit((enum param_id)i, v));
	} else if (i == ITEM_PAUSE) {
		snprintf(path, sizeof path, "/mystery/pause");
		lo_message_add_int32(m, (int)v);
	} else {
		snprintf(path, sizeof path, "/mystery/step/%d", i - ITEM_STEP0 + 1);
		lo_message_add_int32(m, (int)v);
	}
	send_to(s, p, path, m);
	lo_message_free(m);
}

/* ---- senders ---- */

/* The peer a datagram from ss is echoed to (taking a slot if new). */
static struct peer *peer_of(struct osc_ctl *s, const struct sockaddr_storage *ss, socklen_t len,
                            int64_t now)
{
	struct sockaddr_storage to = *ss;
	if (s->reply_port) {
		if (to.ss_family == AF_INET)
			((struct sockaddr_in *)&to)->sin_port = htons((uint16_t)s->reply_port);
		else
			((struct sockaddr_in6 *)&to)->sin6_port = htons((uint16_t)s->reply_port);
	}
	struct peer *oldest = &s->peers[0];
	for (int i = 0; i < OSC_CTL_PEERS; i++) {
		struct peer *p = &s->peers[i];
		if (p->seen && p->len == len && memcmp(&p->addr, &to, len) == 0) {
			p->seen = now;
			return p;
		}
		if (p->seen < oldest->seen)
			oldest = p;
	}
	if (!oldest->seen)
		atomic_fetch_add(&s->n_peers, 1);
	memset(oldest, 0, sizeof *oldest);
	oldest->addr = to;
	oldest->len = len;
	oldest->seen = now;
	oldest->full = true;
	return oldest;
}

/* ---- control messages ---- */

static bool arg_number(const char *types, lo_arg **argv, int i, double *out)
{
	switch (types[i]) {
	case LO_FLOAT:
		*out = argv[i]->f;
		return isfinite(*out);
	case LO_DOUBLE:
		*out = argv[i]->d;
		return isfinite(*out);
	case LO_INT32:
		*out = argv[i]->i;
		return true;
	case LO_INT64:
		*out = (double)argv[i]->h;
		return true;
	case LO_TRUE:
		*out = 1;
		return true;
	case LO_FALSE:
		*out = 0;
		return true;
	default:
		return false;
	}
}

static bool take_token(struct osc_ctl *s, int64_t now)
{
	return http_bucket_take(&s->bucket, now);
}

static void note_limited(struct osc_ctl *s, int64_t now)
{
	atomic_fetch_add(&s->limited, 1);
	s->limited_unlogged++;
	if (now - s->limited_logged >= LOG_EVERY_NS) {
		log_warn("osc", "%llu control messages over the limit of %d a second dropped",
		         (unsigned long long)s->limited_unlogged, s->bucket.rate);
		s->limited_logged = now;
		s->limited_unlogged = 0;
	}
}

static bool send_command(struct osc_ctl *s, const struct peer *p, const struct command *c)
{
	if (!s->link.command || !s->link.command(s->link.ctx, c)) {
		reply_error(s, p, "the engine's command queue is full");
		return false;
	}
	atomic_fetch_add(&s->accepted, 1);
	return true;
}

/* Sends a parameter set a token was taken for; its echo goes out even
 * unchanged. */
static void send_param(struct osc_ctl *s, const struct peer *p, int id, double v, int64_t now)
{
	s->pending[id] = false;
	struct command c;
	memset(&c, 0, sizeof c);
	c.type = CMD_SET_PARAM;
	c.source = SRC_API;
	c.param = (uint8_t)id;
	c.value = v;
	if (send_command(s, p, &c))
		s->force[id] = now + ECHO_FORCE_NS;
}

static void set_param(struct osc_ctl *s, const struct peer *p, int id, double v, int64_t now)
{
	if (!take_token(s, now)) {
		s->wanted[id] = v;
		s->pending[id] = true;
		note_limited(s, now);
		return;
	}
	send_param(s, p, id, v, now);
}

/* A parameter in its own units (unit: from 0..1 along its curve). */
static void param_msg(struct osc_ctl *s, const struct peer *p, const char *name, bool unit,
                      const char *types, lo_arg **argv, int argc, int64_t now)
{
	int id = param_find(name);
	double v;
	if (id < 0) {
		reply_error(s, p, "unknown parameter \"%s\"", name);
		return;
	}
	const struct param_info *pi = &param_table[id];
	if (argc < 1 || !arg_number(types, argv, 0, &v)) {
		reply_error(s, p, "%s: want one number (f)", name);
		return;
	}
	if (unit) {
		if (v < 0 || v > 1) {
			reply_error(s, p, "%s: %g is out of range (allowed: 0..1)", name, v);
			return;
		}
		v = param_from_unit((enum param_id)id, v);
		if (pi->curve == CURVE_STEPPED)
			v = round(v);
	}
	if (v < pi->min || v > pi->max) {
		reply_error(s, p, "%s: %g is out of range (allowed: %g..%g)", name, v, pi->min,
		            pi->max);
		return;
	}
	if (pi->curve == CURVE_STEPPED && v != floor(v)) {
		reply_error(s, p, "%s: %g is not a whole number", name, v);
		return;
	}
	set_param(s, p, id, v, now);
}

static void simple_command(struct osc_ctl *s, const struct peer *p, struct command *c, int item,
                           int64_t now)
{
	if (!take_token(s, now)) {
		note_limited(s, now);
		return;
	}
	c->source = SRC_API;
	if (send_command(s, p, c))
		s->force[item] = now + ECHO_FORCE_NS;
}

static void preset_msg(struct osc_ctl *s, struct peer *p, const char *types, lo_arg **argv,
                       int argc, int64_t now)
{
	if (argc < 1 || types[0] != LO_STRING) {
		reply_error(s, p, "/mystery/preset/load: want a preset name (s)");
		return;
	}
	const char *name = &argv[0]->s;
	if (!preset_name_ok(name)) {
		reply_error(s, p, "%s", preset_strerror(PRESET_ERR_NAME));
		return;
	}
	if (!s->link.preset_load) {
		reply_error(s, p, "presets are not available");
		return;
	}
	if (!take_token(s, now)) {
		note_limited(s, now);
		return;
	}
	char err[512] = "";
	int rc = s->link.preset_load(s->link.ctx, name, err, sizeof err);
	if (rc != 0) {
		reply_error(s, p, "preset %s: %s", name, err[0] ? err : preset_strerror(rc));
		return;
	}
	atomic_fetch_add(&s->accepted, 1);
	log_info("osc", "preset %s loaded", name);
	p->full = true; /* everything may have moved */
}

static void handle_message(struct osc_ctl *s, struct peer *p, void *data, size_t len, int64_t now)
{
	int res = 0;
	lo_message m = lo_message_deserialise(data, len, &res);
	if (!m) {
		reply_error(s, p, "not an OSC message (liblo error %d)", res);
		return;
	}
	const char *path = data; /* checked by lo_message_deserialise */
	const char *types = lo_message_get_types(m);
	lo_arg **argv = lo_message_get_argv(m);
	int argc = lo_message_get_argc(m);
	if (!types)
		types = "";
	struct command c;
	memset(&c, 0, sizeof c);
	if (strncmp(path, "/mystery/param/", 15) == 0) {
		param_msg(s, p, path + 15, false, types, argv, argc, now);
	} else if (strncmp(path, "/mystery/unit/", 14) == 0) {
		param_msg(s, p, path + 14, true, types, argv, argc, now);
	} else if (strncmp(path, "/mystery/step/", 14) == 0) {
		char *end;
		long k = strtol(path + 14, &end, 10);
		double v;
		if (path[14] < '0' || path[14] > '9' || *end || k < 1 || k > ENGINE_MAX_STEPS)
			reply_error(s, p, "%s: the step must be 1..%d", path, ENGINE_MAX_STEPS);
		else if (argc < 1 || !arg_number(types, argv, 0, &v))
			reply_error(s, p, "%s: want 1 (on) or 0 (off)", path);
		else {
			c.type = CMD_STEP_ON;
			c.step = (int16_t)(k - 1);
			c.value = v != 0;
			simple_command(s, p, &c, ITEM_STEP0 + (int)k - 1, now);
		}
	} else if (strcmp(path, "/mystery/pause") == 0) {
		double v;
		if (argc < 1 || !arg_number(types, argv, 0, &v))
			reply_error(s, p, "/mystery/pause: want 1 (pause) or 0 (play)");
		else {
			c.type = CMD_SET_PAUSE;
			c.value = v != 0;
			simple_command(s, p, &c, ITEM_PAUSE, now);
		}
	} else if (strcmp(path, "/mystery/preset/load") == 0) {
		preset_msg(s, p, types, argv, argc, now);
	} else if (strcmp(path, "/mystery/state") == 0) {
		if (take_token(s, now))
			p->full = true;
		else
			note_limited(s, now);
	} else {
		reply_error(s, p, "unknown address %s", path);
	}
	lo_message_free(m);
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A message or a bundle of them. */
static void handle_element(struct osc_ctl *s, struct peer *p, uint8_t *data, size_t len, int depth,
                           int64_t now)
{
	if (len >= 8 && memcmp(data, "#bundle", 8) == 0) {
		if (depth >= BUNDLE_DEPTH || len < 16) {
			reply_error(s, p, "bundle too deep or too short");
			return;
		}
		for (size_t off = 16; off < len;) {
			if (len - off < 4) {
				reply_error(s, p, "truncated bundle");
				return;
			}
			uint32_t n = be32(data + off);
			off += 4;
			if (n > len - off || n % 4) {
				reply_error(s, p, "bundle element of %u bytes does not fit", n);
				return;
			}
			handle_element(s, p, data + off, n, depth + 1, now);
			off += n;
		}
		return;
	}
	handle_message(s, p, data, len, now);
}

static void note_refused(struct osc_ctl *s, const struct sockaddr_storage *ss, int64_t now)
{
	atomic_fetch_add(&s->refused, 1);
	s->refused_unlogged++;
	if (now - s->refused_logged >= LOG_EVERY_NS) {
		char a[INET6_ADDRSTRLEN];
		log_warn("osc",
		         "refused %llu packet(s), the last from %s: not in osc.allowed_hosts",
		         (unsigned long long)s->refused_unlogged, addr_text(ss, a, sizeof a));
		s->refused_logged = now;
		s->refused_unlogged = 0;
	}
}

static void read_packets(struct osc_ctl *s)
{
	for (int k = 0; k < PACKETS_PER_ROUND; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		ssize_t n = recvfrom(s->fd, s->in, sizeof s->in, MSG_DONTWAIT | MSG_TRUNC,
		                     (struct sockaddr *)&ss, &sl);
		if (n <= 0) /* nothing, or the socket shut down by osc_ctl_stop() */
			return;
		int64_t now = rtclock_mono_ns();
		if (!host_allowed(s, &ss)) {
			note_refused(s, &ss, now);
			continue;
		}
		struct peer *p = peer_of(s, &ss, sl, now);
		if ((size_t)n > sizeof s->in) {
			reply_error(s, p, "packet of %zd bytes is over %d", n, OSC_CTL_PACKET_MAX);
			continue;
		}
		handle_element(s, p, s->in, (size_t)n, 0, now);
	}
}

/* Sends the parameter sets held back by the limit, as tokens allow. */
static void flush_pending(struct osc_ctl *s, int64_t now)
{
	for (int i = 0; i < P_COUNT; i++)
		if (s->pending[i]) {
			if (!take_token(s, now))
				return;
			send_param(s, NULL, i, s->wanted[i], now);
		}
}

/* ---- echo ---- */

static void echo(struct osc_ctl *s, int64_t now)
{
	int live = 0;
	for (int i = 0; i < OSC_CTL_PEERS; i++) {
		struct peer *p = &s->peers[i];
		if (p->seen && now - p->seen > (int64_t)OSC_CTL_PEER_KEEP_S * NS_PER_SEC) {
			p->seen = 0;
			atomic_fetch_sub(&s->n_peers, 1);
		}
		live += p->seen != 0;
	}
	if (!live || !s->link.snapshot || !s->link.snapshot(s->link.ctx, s->snap))
		return;
	const struct engine_state *e = &s->snap->eng;
	for (int i = 0; i < N_ITEMS; i++) {
		double v;
		if (i < P_COUNT)
			v = e->value[i];
		else if (i == ITEM_PAUSE)
			v = e->paused;
		else if (i - ITEM_STEP0 < e->n_steps)
			v = e->steps[i - ITEM_STEP0].on != 0;
		else
			continue;
		bool changed =
		    !((float)s->sent[i] == (float)v) || (s->force[i] && now >= s->force[i]);
		for (int k = 0; k < OSC_CTL_PEERS; k++) {
			struct peer *p = &s->peers[k];
			if (p->seen && (changed || p->full))
				send_item(s, p, i, v);
		}
		s->sent[i] = v;
		if (s->force[i] && now >= s->force[i])
			s->force[i] = 0;
	}
	for (int k = 0; k < OSC_CTL_PEERS; k++)
		s->peers[k].full = false;
}

static void *osc_main(void *arg)
{
	struct osc_ctl *s = arg;
	while (!atomic_load(&s->stop)) {
		int64_t now = rtclock_mono_ns();
		int wait_ms = (int)((s->next_echo - now) / NS_PER_MS);
		if (wait_ms < 0)
			wait_ms = 0;
		if (atomic_load(&s->n_peers) == 0)
			wait_ms = -1; /* nobody to echo to: until a packet (or the stop) */
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		if (poll(&pfd, 1, wait_ms) > 0)
			read_packets(s);
		now = rtclock_mono_ns();
		flush_pending(s, now);
		if (now >= s->next_echo) {
			echo(s, now);
			s->next_echo = now + OSC_CTL_ECHO_MS * NS_PER_MS;
		}
	}
	return NULL;
}

/* ---- life ---- */

struct osc_ctl *osc_ctl_start(const struct osc_ctl_options *o, const struct osc_ctl_link *link,
                              char *err, size_t errlen)
{
	struct osc_ctl *s = calloc(1, sizeof *s);
	if (!s || !(s->snap = malloc(sizeof *s->snap))) {
		snprintf(err, errlen, "out of memory");
		if (s)
			free(s);
		return NULL;
	}
	s->fd = -1;
	s->link = *link;
	s->reply_port = o->reply_port;
	s->n_hosts = osc_ctl_hosts_parse(o->allowed_hosts ? o->allowed_hosts : "", s->hosts,
	                                 OSC_CTL_HOSTS_MAX, err, errlen);
	if (s->n_hosts < 0)
		goto fail;
	for (int i = 0; i < N_ITEMS; i++)
		s->sent[i] = NAN;
	http_bucket_init(&s->bucket, o->max_writes_per_s, rtclock_mono_ns());

	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t sl;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, o->address, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)o->port);
		sl = sizeof *a4;
	} else if (inet_pton(AF_INET6, o->address, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)o->port);
		sl = sizeof *a6;
	} else {
		snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", o->address);
		goto fail;
	}
	s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	if (ss.ss_family == AF_INET6) {
		int off = 0; /* "::" takes IPv4 senders too */
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	}
	if (bind(s->fd, (struct sockaddr *)&ss, sl) != 0) {
		snprintf(err, errlen, "UDP port %d on %s: %s", o->port, o->address,
		         strerror(errno));
		goto fail;
	}
	sl = sizeof ss;
	if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&s->thread, NULL, osc_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start its thread: %s", strerror(rc));
		goto fail;
	}
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s->snap);
	free(s);
	return NULL;
}

void osc_ctl_stop(struct osc_ctl *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	shutdown(s->fd, SHUT_RDWR); /* wakes a poll that waits without a timeout */
	pthread_join(s->thread, NULL);
	close(s->fd);
	struct osc_ctl_stats st;
	osc_ctl_get_stats(s, &st);
	log_info("osc_stats", "accepted %llu refused %llu malformed %llu limited %llu echoed %llu",
	         (unsigned long long)st.accepted, (unsigned long long)st.refused,
	         (unsigned long long)st.malformed, (unsigned long long)st.limited,
	         (unsigned long long)st.echoed);
	free(s->snap);
	free(s);
}

int osc_ctl_port(const struct osc_ctl *s)
{
	return s->port;
}

void osc_ctl_get_stats(struct osc_ctl *s, struct osc_ctl_stats *out)
{
	out->accepted = atomic_load(&s->accepted);
	out->refused = atomic_load(&s->refused);
	out->malformed = atomic_load(&s->malformed);
	out->limited = atomic_load(&s->limited);
	out->echoed = atomic_load(&s->echoed);
	out->peers = atomic_load(&s->n_peers);
}
