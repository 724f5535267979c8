/*
 * http: the HTTP API on libmicrohttpd's internal polling thread.
 *
 * Design: one MHD daemon with an internal poll() thread (with epoll, this
 * libmicrohttpd kept connections whose client hung up mid-request until the
 * timeout, so a burst of garbage filled the connection limit), a connection
 * limit, a per-connection memory limit (oversized headers are answered by
 * MHD itself), an idle timeout and a body limit of HTTP_BODY_MAX (413).  The
 * access handler routes on the first call, answers GETs at once from a fresh
 * snapshot copy, and collects a POST body into a small per-request buffer
 * before validating it.  Control writes pass three gates in order: allowed
 * (403), well-formed and in range (400), within the token bucket (429); only
 * then does a command go into the link's ring, with source SRC_API (or
 * SRC_PRESET for a preset).  Nothing here can block the real-time worker: the
 * link's snapshot and command are its only ways in.
 *
 * Slow clients.  Everything local connects from 127.0.0.1, so a limit per
 * address would lock the operator out with everyone else; there is none.
 * Instead every connection is tracked (MHD's connection notifications) in
 * the order it began waiting for a request, and marked "answering" once its
 * request has arrived whole.  A sweeper thread shuts down connections that
 * have waited longer than HTTP_REQUEST_S (a request trickled in a byte at a
 * time, or an idle keep-alive), and each new connection beyond
 * HTTP_CONNECTIONS - HTTP_SPARE shuts down the one that has waited longest,
 * so a new request always finds room and a request that arrived whole is
 * always answered.  shutdown() (never close()) on a socket MHD owns makes
 * MHD see the end of the stream and close it on its own thread; the list
 * lock is held across it and MHD's "closed" notification takes that lock
 * before MHD closes the descriptor, so it is never a reused one.
 *
 * Presets.  Loading and saving touch the file system, which may be slow (an
 * SD card's fsync): the request is suspended (MHD_suspend_connection) and
 * handed to the preset thread, which runs the link's preset_load or
 * preset_save and resumes it; the server keeps answering meanwhile.  One
 * preset operation at a time: another gets 503.
 *
 * What a control request may carry (the value) and how often (the token
 * bucket) is decided in http_req.c.
 *
 * Threads: http_start/stop/set_control on the control thread; the handler
 * on MHD's thread, which inherits a fully blocked signal mask so process
 * signals always reach the main loop, as do the sweeper and preset threads.
 * The bucket and the control settings are shared under a mutex neither
 * holds for long; the connection list under another.
 */
#include "ops/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/param.h"
#include "rt/log.h"
#include "ops/metrics.h"
#include "ops/preset.h"
#include "rt/rtclock.h"

static const int counted_codes[] = {200, 400, 403, 404, 405, 413, 422, 429, 500, 503};
#define N_CODES (sizeof counted_codes / sizeof counted_codes[0])
#define SWEEP_NS (250 * NS_PER_MS) /* how often slow requests are looked for */

/* One connection, from MHD's "started" to its "closed" notification. */
struct conn {
	struct conn *prev, *next;
	int fd;
	int64_t since;  /* began waiting for its request (mono ns) */
	bool answering; /* its request arrived whole: never closed early */
	bool closing;   /* shut down here; MHD closes it next */
};

struct req;

struct http {
	struct MHD_Daemon *d;
	struct http_link link;
	int port;

	pthread_mutex_t lock; /* allow_control and bucket */
	bool allow_control;
	struct http_bucket bucket;

	_Atomic uint64_t responses[N_CODES];

	/* connections, oldest wait first; the sweeper and the preset thread */
	pthread_mutex_t conn_lock;
	pthread_cond_t wake; /* the sweeper's and the preset thread's */
	struct conn *head, *tail;
	int n_conn;
	uint64_t timed_out, evicted;
	bool stopping;
	pthread_t sweeper, jobs;
	bool threads;
	struct MHD_Connection *job_c; /* the suspended preset request, if any */
	struct req *job_r;
};

enum route {
	R_NONE,
	R_METRICS,
	R_STATE,
	R_MUTATIONS,
	R_PARAM,
	R_PRESET_LOAD,
	R_PRESET_SAVE,
};

/* One request in progress. */
struct req {
	enum route route;
	int param;                        /* R_PARAM */
	char preset[PRESET_NAME_MAX + 2]; /* R_PRESET_*; one more: too long */
	char body[HTTP_BODY_MAX + 1];
	size_t len;
	bool too_large;
	bool job_done; /* the preset thread has run it */
	int job_rc;
	char job_err[512];
};

/* ---- connections ---- */

/* Callers hold conn_lock. */
static void conn_unlink(struct http *h, struct conn *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		h->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		h->tail = k->prev;
	k->prev = k->next = NULL;
}

static void conn_append(struct http *h, struct conn *k)
{
	k->prev = h->tail;
	k->next = NULL;
	if (h->tail)
		h->tail->next = k;
	else
		h->head = k;
	h->tail = k;
}

/* Ends a connection whose request has not arrived: MHD sees the end of the
 * stream and closes it on its own thread (conn_lock held). */
static void conn_close(struct conn *k)
{
	if (k->fd >= 0)
		shutdown(k->fd, SHUT_RDWR);
	k->closing = true;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	struct conn *k = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!k)
			return;
		pthread_mutex_lock(&h->conn_lock);
		conn_unlink(h, k);
		h->n_conn--;
		pthread_mutex_unlock(&h->conn_lock);
		free(k);
		*socket_context = NULL;
		return;
	}
	k = calloc(1, sizeof *k);
	*socket_context = k;
	if (!k)
		return; /* untracked: MHD's own limit and timeout still hold */
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	k->fd = ci ? ci->connect_fd : -1;
	k->since = rtclock_mono_ns();
	pthread_mutex_lock(&h->conn_lock);
	if (!h->head)
		pthread_cond_broadcast(&h->wake); /* the sweeper sleeps without one */
	conn_append(h, k);
	h->n_conn++;
	/* Room for the next one: the longest wait for a request goes. */
	int open = 0;
	for (struct conn *o = h->head; o; o = o->next)
		open += !o->closing;
	if (open > HTTP_CONNECTIONS - HTTP_SPARE)
		for (struct conn *o = h->head; o && o != k; o = o->next)
			if (!o->answering && !o->closing) {
				conn_close(o);
				h->evicted++;
				break;
			}
	pthread_mutex_unlock(&h->conn_lock);
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* The request on c arrived whole and is being answered, or (false) was
 * answered and the connection waits for the next one. */
static void conn_answering(struct http *h, struct MHD_Connection *c, bool on)
{
	struct conn *k = conn_of(c);
	if (!k)
		return;
	pthread_mutex_lock(&h->conn_lock);
	k->answering = on;
	if (!on) {
		k->since = rtclock_mono_ns();
		conn_unlink(h, k);
		conn_append(h, k);
	}
	pthread_mutex_unlock(&h->conn_lock);
}

static void wait_ns(struct http *h, int64_t ns)
{
	struct timespec ts = rtclock_timespec(rtclock_mono_ns() + ns);
	pthread_cond_timedwait(&h->wake, &h->conn_lock, &ts);
}

/* Closes connections whose request has not arrived whole in HTTP_REQUEST_S. */
static void *sweeper_main(void *arg)
{
	struct http *h = arg;
	pthread_mutex_lock(&h->conn_lock);
	while (!h->stopping) {
		int64_t old = rtclock_mono_ns() - (int64_t)HTTP_REQUEST_S * NS_PER_SEC;
		for (struct conn *k = h->head; k; k = k->next)
			if (!k->answering && !k->closing && k->since < old) {
				conn_close(k);
				h->timed_out++;
			}
		if (h->head)
			wait_ns(h, SWEEP_NS);
		else /* no connection, nothing to time out: until one comes */
			pthread_cond_wait(&h->wake, &h->conn_lock);
	}
	pthread_mutex_unlock(&h->conn_lock);
	return NULL;
}

/* ---- responses ---- */

static void count(struct http *h, int code)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (counted_codes[i] == code) {
			atomic_fetch_add_explicit(&h->responses[i], 1, memory_order_relaxed);
			return;
		}
}

/* Sends text (which it frees) with the given type; MHD_NO if it cannot. */
static enum MHD_Result send_owned(struct http *h, struct MHD_Connection *c, int code, char *text,
                                  size_t len, const char *type, const char *allow)
{
	if (!text)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	conn_answering(h, c, true);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)code, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		count(h, code);
	return ret;
}

static enum MHD_Result send_json(struct http *h, struct MHD_Connection *c, int code, json_t *o,
                                 const char *allow)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	json_decref(o);
	if (!text)
		return MHD_NO;
	size_t n = strlen(text);
	char *line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return MHD_NO;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return send_owned(h, c, code, line, n + 1, "application/json", allow);
}

static enum MHD_Result send_error(struct http *h, struct MHD_Connection *c, int code,
                                  const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* {"error": "...", "status": code} */
static enum MHD_Result send_error(struct http *h, struct MHD_Connection *c, int code,
                                  const char *allow, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return send_json(h, c, code, json_pack("{s:s, s:i}", "error", msg, "status", code), allow);
}

/* ---- routing ---- */

static bool is_get(const char *m)
{
	return strcmp(m, MHD_HTTP_METHOD_GET) == 0 || strcmp(m, MHD_HTTP_METHOD_HEAD) == 0;
}

/* Splits url into a route; 0, or the status code of the answer (404). */
static int route(const char *url, struct req *r, char *why, size_t whylen)
{
	if (strcmp(url, "/metrics") == 0)
		r->route = R_METRICS;
	else if (strcmp(url, "/state") == 0)
		r->route = R_STATE;
	else if (strcmp(url, "/mutations") == 0)
		r->route = R_MUTATIONS;
	else if (strncmp(url, "/params/", 8) == 0) {
		const char *name = url + 8;
		r->param = strlen(name) < 64 ? param_find(name) : -1;
		if (r->param < 0) {
			snprintf(why, whylen, "no parameter `%.64s`", name);
			return 404;
		}
		r->route = R_PARAM;
	} else if (strncmp(url, "/presets/", 9) == 0) {
		const char *name = url + 9, *slash = strchr(name, '/');
		size_t n = slash ? (size_t)(slash - name) : 0;
		bool load = slash && strcmp(slash, "/load") == 0;
		if (!load && !(slash && strcmp(slash, "/save") == 0)) {
			snprintf(why, whylen,
			         "no such resource (use /presets/NAME/load or "
			         "/presets/NAME/save)");
			return 404;
		}
		/* A name too long keeps one character too many: preset_name_ok says 400. */
		if (n > PRESET_NAME_MAX + 1)
			n = PRESET_NAME_MAX + 1;
		memcpy(r->preset, name, n);
		r->preset[n] = '\0';
		r->route = load ? R_PRESET_LOAD : R_PRESET_SAVE;
	} else {
		snprintf(why, whylen,
		         "no such resource (try /metrics, /state, /mutations, "
		         "/params/NAME, /presets/NAME/load, /presets/NAME/save)");
		return 404;
	}
	return 0;
}

static enum MHD_Result serve_get(struct http *h, struct MHD_Connection *c, enum route rt)
{
	struct snapshot *s = malloc(sizeof *s);
	if (!s)
		return send_error(h, c, 503, NULL, "out of memory");
	bool have = h->link.snapshot && h->link.snapshot(h->link.ctx, s);
	char *text = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	if (rt == R_METRICS) {
		struct metrics_process proc;
		struct metrics_http_count rows[N_CODES];
		for (size_t i = 0; i < N_CODES; i++) {
			rows[i].code = counted_codes[i];
			rows[i].n = atomic_load_explicit(&h->responses[i], memory_order_relaxed);
		}
		struct metrics_http_conns conns;
		pthread_mutex_lock(&h->conn_lock);
		conns.open = (uint64_t)h->n_conn;
		conns.timed_out = h->timed_out;
		conns.evicted = h->evicted;
		pthread_mutex_unlock(&h->conn_lock);
		struct metrics_input in = {
		    .snap = have ? s : NULL,
		    .latency = h->link.latency,
		    .lateness = h->link.lateness,
		    .proc = metrics_process_read(&proc) == 0 ? &proc : NULL,
		    .http = rows,
		    .n_http = N_CODES,
		    .conns = &conns,
		};
		text = metrics_prometheus(&in, &len);
		ret = text ? send_owned(h, c, 200, text, len, METRICS_CONTENT_TYPE, NULL)
		           : send_error(h, c, 500, NULL, "out of memory");
	} else if (!have) {
		ret = send_error(h, c, 503, NULL, "the engine has not published its state yet");
	} else {
		text =
		    rt == R_STATE ? metrics_state_json(s, &len) : metrics_mutations_json(s, &len);
		if (text) {
			char *line = realloc(text, len + 2);
			if (line) {
				text = line;
				text[len++] = '\n';
				text[len] = '\0';
			}
		}
		ret = text ? send_owned(h, c, 200, text, len, "application/json", NULL)
		           : send_error(h, c, 500, NULL, "out of memory");
	}
	free(s);
	return ret;
}

static bool control_allowed(struct http *h)
{
	pthread_mutex_lock(&h->lock);
	bool a = h->allow_control;
	pthread_mutex_unlock(&h->lock);
	return a;
}

/* Takes a write token; *rate is the limit in force, for the 429 message. */
static bool take_token(struct http *h, int *rate)
{
	pthread_mutex_lock(&h->lock);
	bool ok = http_bucket_take(&h->bucket, rtclock_mono_ns());
	*rate = h->bucket.rate;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

static enum MHD_Result serve_param(struct http *h, struct MHD_Connection *c, struct req *r)
{
	const struct param_info *pi = &param_table[r->param];
	double v;
	char why[160];
	if (http_parse_value(r->body, r->len, &v, why, sizeof why) != 0)
		return send_error(h, c, 400, NULL, "%s: %s", pi->name, why);
	if (v < pi->min || v > pi->max)
		return send_error(h, c, 400, NULL, "%s: %g is out of range (allowed: %g..%g)",
		                  pi->name, v, pi->min, pi->max);
	if (pi->curve == CURVE_STEPPED && v != floor(v))
		return send_error(h, c, 400, NULL, "%s: %g is not a whole number", pi->name, v);
	int rate;
	if (!take_token(h, &rate))
		return send_error(h, c, 429, NULL,
		                  "too many control requests (limit: %d per second)", rate);
	struct command cmd;
	memset(&cmd, 0, sizeof cmd);
	cmd.type = CMD_SET_PARAM;
	cmd.source = SRC_API;
	cmd.param = (uint8_t)r->param;
	cmd.value = v;
	if (!h->link.command || !h->link.command(h->link.ctx, &cmd))
		return send_error(h, c, 503, NULL, "the engine's command queue is full");
	log_info("api", "%s = %g", pi->name, v);
	return send_json(h, c, 200,
	                 json_pack("{s:s, s:f, s:s}", "param", pi->name, "value", v, "source",
	                           param_source_name(SRC_API)),
	                 NULL);
}

/* The answer to a preset request the preset thread has run. */
static enum MHD_Result preset_answer(struct http *h, struct MHD_Connection *c, struct req *r)
{
	bool save = r->route == R_PRESET_SAVE;
	int rc = r->job_rc;
	if (rc == PRESET_OK) {
		log_info("api", "preset %s %s", r->preset, save ? "saved" : "loaded");
		return send_json(
		    h, c, 200,
		    json_pack("{s:s, s:b}", "preset", r->preset, save ? "saved" : "loaded", 1),
		    NULL);
	}
	int code =
	    rc == PRESET_ERR_NOT_FOUND ? 404
	    : rc == PRESET_ERR_NAME    ? 400
	    : rc == PRESET_ERR_SYNTAX || rc == PRESET_ERR_INVALID || rc == PRESET_ERR_NOT_REGULAR
	        ? 422
	        : 500;
	return send_error(h, c, code, NULL, "%s", r->job_err[0] ? r->job_err : preset_strerror(rc));
}

/* Checks a preset request and hands it to the preset thread, suspended. */
static enum MHD_Result serve_preset(struct http *h, struct MHD_Connection *c, struct req *r)
{
	if (r->job_done)
		return preset_answer(h, c, r);
	bool save = r->route == R_PRESET_SAVE;
	if (!preset_name_ok(r->preset))
		return send_error(h, c, 400, NULL, "%s", preset_strerror(PRESET_ERR_NAME));
	if (!(save ? h->link.preset_save : h->link.preset_load))
		return send_error(h, c, 404, NULL, "presets are not available");
	int rate;
	if (!take_token(h, &rate))
		return send_error(h, c, 429, NULL,
		                  "too many control requests (limit: %d per second)", rate);
	pthread_mutex_lock(&h->conn_lock);
	bool free_slot = h->threads && !h->stopping && !h->job_r;
	if (free_slot) {
		struct conn *k = conn_of(c);
		if (k)
			k->answering = true;
		h->job_r = r;
		h->job_c = c;
		/* Suspended before the preset thread can see it, so its resume
		 * always follows. */
		MHD_suspend_connection(c);
	}
	pthread_mutex_unlock(&h->conn_lock);
	if (!free_slot)
		return send_error(h, c, 503, NULL,
		                  "another preset is being loaded or saved: try again");
	pthread_cond_broadcast(&h->wake);
	return MHD_YES;
}

/* Runs the preset requests one at a time and resumes each. */
static void *jobs_main(void *arg)
{
	struct http *h = arg;
	pthread_mutex_lock(&h->conn_lock);
	for (;;) {
		while (!h->job_r && !h->stopping)
			pthread_cond_wait(&h->wake, &h->conn_lock);
		struct req *r = h->job_r;
		struct MHD_Connection *c = h->job_c;
		if (!r)
			break;
		pthread_mutex_unlock(&h->conn_lock);
		r->job_err[0] = '\0';
		r->job_rc =
		    r->route == R_PRESET_SAVE
		        ? h->link.preset_save(h->link.ctx, r->preset, r->job_err, sizeof r->job_err)
		        : h->link.preset_load(h->link.ctx, r->preset, r->job_err,
		                              sizeof r->job_err);
		r->job_done = true;
		pthread_mutex_lock(&h->conn_lock);
		h->job_r = NULL;
		h->job_c = NULL;
		pthread_mutex_unlock(&h->conn_lock);
		MHD_resume_connection(c); /* r belongs to MHD's thread again */
		pthread_mutex_lock(&h->conn_lock);
	}
	pthread_mutex_unlock(&h->conn_lock);
	return NULL;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct req *r = *con_cls;
	if (!r) {
		/* First call: headers only.  Decide everything that needs no body. */
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		char why[256];
		int code = route(url, r, why, sizeof why);
		if (code)
			return send_error(h, c, code, NULL, "%s", why);
		bool control =
		    r->route == R_PARAM || r->route == R_PRESET_LOAD || r->route == R_PRESET_SAVE;
		if (!control) {
			if (!is_get(method))
				return send_error(h, c, 405, "GET, HEAD", "%s %s: use GET", method,
				                  url);
			return serve_get(h, c, r->route);
		}
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return send_error(h, c, 405, "POST", "%s %s: use POST", method, url);
		if (!control_allowed(h))
			return send_error(
			    h, c, 403, NULL,
			    "control over HTTP is disabled (api.allow_control = false)");
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > HTTP_BODY_MAX)
			return send_error(h, c, 413, NULL, "body over %d bytes", HTTP_BODY_MAX);
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		if (!r->too_large && r->len + n <= HTTP_BODY_MAX) {
			memcpy(r->body + r->len, upload, n);
			r->len += n;
		} else {
			r->too_large = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_large)
		return send_error(h, c, 413, NULL, "body over %d bytes", HTTP_BODY_MAX);
	if (r->route == R_PARAM)
		return serve_param(h, c, r);
	return serve_preset(h, c, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	conn_answering(cls, c, false);
	free(*con_cls);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	log_vwrite(LOG_DEBUG, "http", fmt, ap);
}

/* ---- life cycle ---- */

struct http *http_start(const struct http_options *o, const struct http_link *link, char *err,
                        size_t errlen)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned flags =
	    MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	const char *addr = o->address && *o->address ? o->address : "127.0.0.1";
	if (o->port < 0 || o->port > 65535) {
		snprintf(err, errlen, "api.port %d is out of range (allowed: 0..65535)", o->port);
		return NULL;
	}
	if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)o->port);
	} else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)o->port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "api.address `%s` is not an IPv4 or IPv6 address", addr);
		return NULL;
	}

	struct http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->link = *link;
	h->allow_control = o->allow_control;
	http_bucket_init(&h->bucket, o->max_writes_per_s, rtclock_mono_ns());
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->conn_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);

	/* Every thread started here inherits this mask: no process signal is
	 * ever delivered to one of them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	errno = 0;
	h->d = MHD_start_daemon(
	    flags, (uint16_t)o->port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
	    completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_END);
	int e = errno;
	if (h->d && pthread_create(&h->sweeper, NULL, sweeper_main, h) == 0) {
		pthread_setname_np(h->sweeper, "http-sweeper");
		if (pthread_create(&h->jobs, NULL, jobs_main, h) == 0) {
			pthread_setname_np(h->jobs, "http-presets");
			h->threads = true;
		} else {
			pthread_mutex_lock(&h->conn_lock);
			h->stopping = true;
			pthread_cond_broadcast(&h->wake);
			pthread_mutex_unlock(&h->conn_lock);
			pthread_join(h->sweeper, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d || !h->threads) {
		/* short: the console's key bar shows it at 80 columns */
		snprintf(err, errlen, "%s port %d: %s", addr, o->port,
		         !h->d && e ? strerror(e)
		         : h->d     ? "cannot start a thread"
		                    : "libmicrohttpd refused to start");
		if (h->d)
			MHD_stop_daemon(h->d);
		pthread_cond_destroy(&h->wake);
		pthread_mutex_destroy(&h->conn_lock);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : o->port;
	return h;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	/* The preset thread finishes (and resumes) what it holds; no new preset
	 * request is taken once stopping is set. */
	pthread_mutex_lock(&h->conn_lock);
	h->stopping = true;
	pthread_cond_broadcast(&h->wake);
	pthread_mutex_unlock(&h->conn_lock);
	pthread_join(h->jobs, NULL);
	pthread_join(h->sweeper, NULL);
	MHD_stop_daemon(h->d);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->conn_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int http_port(const struct http *h)
{
	return h->port;
}

void http_set_control(struct http *h, bool allow, int max_writes_per_s)
{
	pthread_mutex_lock(&h->lock);
	h->allow_control = allow;
	if (max_writes_per_s != h->bucket.rate)
		http_bucket_init(&h->bucket, max_writes_per_s, rtclock_mono_ns());
	pthread_mutex_unlock(&h->lock);
}
