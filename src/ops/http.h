/*
 * http: the instrument's HTTP API (libmicrohttpd).
 *
 *   GET  /metrics              Prometheus text (see metrics.h)
 *   GET  /state                the snapshot as JSON
 *   GET  /mutations            recent mutations as JSON
 *   POST /params/NAME          body: a number or {"value": N}   (control)
 *   POST /presets/NAME/load    loads a preset                     (control)
 *   POST /presets/NAME/save    saves the state as a preset        (control)
 *
 * Control requests are refused (403) unless allow_control is set, and are
 * rate-limited by a token bucket (429).  Unknown paths get 404, a wrong
 * method 405, a malformed or out-of-range value 400, a body over
 * HTTP_BODY_MAX bytes 413.  The server sees the instrument only through a
 * struct http_link (a snapshot to read, a command ring to write), so nothing
 * a client sends can reach the real-time worker any other way.
 *
 * No client can stall the server or lock an operator out: a request must
 * arrive whole (headers and body) within HTTP_REQUEST_S of the connection or
 * of the previous answer, else the connection is closed; when the
 * connections near HTTP_CONNECTIONS, each new one closes the one that has
 * waited longest for its request (a completed request is never dropped);
 * preset files are read and written on a thread of their own while the
 * request waits (suspended), so the server keeps answering meanwhile.
 *
 * http_start/http_stop/http_set_control from the control (main) thread;
 * requests are served on libmicrohttpd's own thread, which blocks every
 * signal.  http_bucket_* and http_parse_value are pure helpers.
 */
#ifndef ME_OPS_HTTP_H
#define ME_OPS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "rt/hist.h"
#include "rt/snapshot.h"

#define HTTP_BODY_MAX 1024            /* bytes of a request body */
#define HTTP_MEMORY_LIMIT (32 * 1024) /* per connection: headers and buffers */
#define HTTP_CONNECTIONS 256          /* open at once, whatever their address */
#define HTTP_SPARE                                                                                 \
	16               /* kept free for new connections by closing                               \
	                    the longest-waiting incomplete requests */
#define HTTP_REQUEST_S 2 /* a whole request must arrive within this */
#define HTTP_TIMEOUT_S 5 /* idle connection timeout (answers too) */

/* How the server reaches the instrument (the worker, or a test's fake). */
struct http_link {
	/* Copies the latest snapshot; false when there is none yet. */
	bool (*snapshot)(void *ctx, struct snapshot *out);
	/* Queues a command for the engine; false when the queue is full. */
	bool (*command)(void *ctx, const struct command *c);
	struct hist *latency, *lateness; /* may be NULL */
	/* Loads and applies a preset: 0 or a negative preset_err, with err set.
	 * Called on the server's preset thread, one call at a time. */
	int (*preset_load)(void *ctx, const char *name, char *err, size_t errlen);
	void *ctx;
	/* Saves the current state as a preset, like preset_load; may be NULL. */
	int (*preset_save)(void *ctx, const char *name, char *err, size_t errlen);
};

struct http_options {
	const char *address; /* IPv4 or IPv6 literal */
	int port;            /* 0: any free port (see http_port) */
	bool allow_control;
	int max_writes_per_s; /* >= 1 */
};

struct http;

/* Starts serving; NULL with the reason in err (e.g. the port is taken). */
struct http *http_start(const struct http_options *o, const struct http_link *link, char *err,
                        size_t errlen);
/* Stops serving and frees h (waits for requests in progress); NULL is fine. */
void http_stop(struct http *h);
/* The port it listens on. */
int http_port(const struct http *h);
/* Live reload of api.allow_control and api.max_writes_per_s. */
void http_set_control(struct http *h, bool allow, int max_writes_per_s);

/* A token bucket: rate tokens per second, at most rate in reserve. */
struct http_bucket {
	double tokens;
	int rate;
	int64_t last_ns;
};

void http_bucket_init(struct http_bucket *b, int rate, int64_t now_ns);
/* Takes one token if there is one; now_ns is any monotonic clock. */
bool http_bucket_take(struct http_bucket *b, int64_t now_ns);

/*
 * A request body as a value: a plain number ("120", " 0.5\n") or a JSON
 * object {"value": N} with nothing else.  0 on success, -1 with the reason in
 * err otherwise (not a number, NaN, infinite, trailing text, other keys).
 */
int http_parse_value(const char *body, size_t len, double *out, char *err, size_t errlen);

#endif
