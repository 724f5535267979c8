/*
 * http_req: what a control request of the HTTP API may carry and how often
 * (see http.h): the body's value, a plain number or {"value": N} and
 * nothing else, and the token bucket that limits control writes per
 * second.  Pure functions of their arguments (times are passed in); any
 * thread, under the caller's lock for a shared bucket.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/http.h"

void http_bucket_init(struct http_bucket *b, int rate, int64_t now_ns)
{
	b->rate = rate < 1 ? 1 : rate;
	b->tokens = b->rate;
	b->last_ns = now_ns;
}

bool http_bucket_take(struct http_bucket *b, int64_t now_ns)
{
	if (now_ns > b->last_ns) {
		b->tokens += (double)(now_ns - b->last_ns) * b->rate / 1e9;
		if (b->tokens > b->rate)
			b->tokens = b->rate;
		b->last_ns = now_ns;
	}
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

static int perr(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* A plain decimal number: digits, sign, point, exponent and nothing else. */
static int parse_plain(const char *s, double *out, char *err, size_t errlen)
{
	if (!*s)
		return perr(err, errlen, "empty body: expected a number or {\"value\": N}");
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return perr(err, errlen,
			            "not a number: expected a number or {\"value\": N}");
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end)
		return perr(err, errlen, "not a number: expected a number or {\"value\": N}");
	if (errno == ERANGE || !isfinite(v))
		return perr(err, errlen, "number out of range");
	*out = v;
	return 0;
}

int http_parse_value(const char *body, size_t len, double *out, char *err, size_t errlen)
{
	char buf[HTTP_BODY_MAX + 1];
	if (len > HTTP_BODY_MAX)
		return perr(err, errlen, "body too large");
	if (memchr(body, '\0', len))
		return perr(err, errlen, "NUL byte in the body");
	/* Trim white space at both ends. */
	while (len && strchr(" \t\r\n", *body)) {
		body++;
		len--;
	}
	while (len && strchr(" \t\r\n", body[len - 1]))
		len--;
	memcpy(buf, body, len);
	buf[len] = '\0';
	if (buf[0] != '{')
		return parse_plain(buf, out, err, errlen);

	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (err && errlen)
			snprintf(err, errlen, "malformed JSON at column %d: %s", je.column,
			         je.text);
		return -1;
	}
	json_t *v = json_object_get(root, "value");
	int rc = 0;
	if (json_object_size(root) != 1 || !v)
		rc = perr(err, errlen, "expected exactly {\"value\": N}");
	else if (!json_is_number(v) || !isfinite(json_number_value(v)))
		rc = perr(err, errlen, "\"value\" must be a finite number");
	else
		*out = json_number_value(v);
	json_decref(root);
	return rc;
}
