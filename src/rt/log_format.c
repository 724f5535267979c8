/*
 * log_format: a log record as one line, JSON (doc/logging.md) or for a
 * terminal, and the filling of a record from a format string.  Strings go
 * through the JSON writer (core/jw: escapes, invalid UTF-8 as U+FFFD);
 * a line that does not fit the caller's buffer is cut, never overrun.  No
 * allocation, no lock: any thread, the real-time worker included (log.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "core/jw.h"
#include "rt/log.h"
#include "rt/rtclock.h"

#define TRUNC_MARK "..."

static const char *const level_upper[] = {"ERROR", "WARN", "INFO", "DEBUG"};

/* s for a terminal: one line, control characters visible as escapes. */
static void put_human_string(struct jw *o, const char *s)
{
	char esc[8];
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n') {
			jw_text(o, "\\n");
		} else if (*p == '\t') {
			jw_text(o, "\\t");
		} else if (*p == '\r') {
			jw_text(o, "\\r");
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			jw_text(o, esc);
		} else {
			jw_raw(o, (const char *)p, 1);
		}
	}
}

static void split_time(int64_t ns, time_t *sec, int *ms)
{
	int64_t s = ns / NS_PER_SEC, rem = ns % NS_PER_SEC;
	if (rem < 0) {
		s--;
		rem += NS_PER_SEC;
	}
	*sec = (time_t)s;
	*ms = (int)(rem / 1000000);
}

enum log_level log_level_clamp(int l)
{
	return l < LOG_ERROR ? LOG_ERROR : l > LOG_DEBUG ? LOG_DEBUG : (enum log_level)l;
}

/* The record's time as calendar fields (UTC or local); returns the ms. */
static int record_time(const struct log_record *r, bool utc, struct tm *tm)
{
	time_t sec;
	int ms;
	split_time(r->ts_ns, &sec, &ms);
	if (utc)
		gmtime_r(&sec, tm);
	else
		localtime_r(&sec, tm);
	return ms;
}

size_t log_format_json(const struct log_record *r, char *buf, size_t size)
{
	struct jw o = jw_init(buf, size);
	char head[64];
	struct tm tm;
	int ms = record_time(r, true, &tm);
	snprintf(head, sizeof head, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"level\":\"",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         ms);
	jw_text(&o, head);
	jw_text(&o, log_level_name(log_level_clamp(r->level)));
	jw_text(&o, "\",\"event\":\"");
	jw_escaped(&o, r->event);
	jw_text(&o, "\",\"msg\":\"");
	jw_escaped(&o, r->msg);
	jw_text(&o, r->truncated ? TRUNC_MARK "\",\"truncated\":true}\n" : "\"}\n");
	return o.len;
}

size_t log_format_human(const struct log_record *r, char *buf, size_t size)
{
	struct jw o = jw_init(buf, size);
	char head[48];
	struct tm tm;
	int ms = record_time(r, false, &tm);
	snprintf(head, sizeof head, "%02d:%02d:%02d.%03d %-5s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
	         ms, level_upper[log_level_clamp(r->level)]);
	jw_text(&o, head);
	put_human_string(&o, r->event);
	jw_text(&o, ": ");
	put_human_string(&o, r->msg);
	jw_text(&o, r->truncated ? TRUNC_MARK "\n" : "\n");
	return o.len;
}

/* Cut a string of length len back so it does not end inside a UTF-8
 * sequence that vsnprintf() truncated. */
static void trim_partial_utf8(char *s, size_t len)
{
	size_t i = len, back = 0;
	while (i > 0 && back < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (need > 1 && back + 1 < need)
		s[i - 1] = '\0';
}

void log_record_set(struct log_record *r, enum log_level l, const char *event, const char *fmt,
                    va_list ap)
{
	r->ts_ns = rtclock_real_ns();
	r->level = log_level_clamp((int)l);
	r->truncated = 0;
	if (!event || !*event)
		event = "-";
	size_t n = strlen(event);
	if (n >= LOG_EVENT_MAX)
		n = LOG_EVENT_MAX - 1;
	memcpy(r->event, event, n);
	r->event[n] = '\0';
	if (n == LOG_EVENT_MAX - 1)
		trim_partial_utf8(r->event, n);
	r->msg[0] = '\0';
	if (!fmt)
		return;
	int m = vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	if (m < 0) {
		snprintf(r->msg, sizeof r->msg, "(bad format \"%.64s\")", fmt);
	} else if ((size_t)m >= sizeof r->msg) {
		r->truncated = 1;
		trim_partial_utf8(r->msg, sizeof r->msg - 1);
	}
}
