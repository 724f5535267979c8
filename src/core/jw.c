/*
 * jw: JSON text into a caller's buffer (see jw.h).  Pure; any thread.
 */
#include "core/jw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct jw jw_init(char *buf, size_t cap)
{
	struct jw w = {buf, cap, 0, cap > 0};
	if (cap)
		buf[0] = '\0';
	return w;
}

void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (!w->ok || w->len + n + 1 > w->cap) {
		w->ok = false;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void jw_text(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

size_t jw_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

void jw_escaped(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	char esc[8];
	while (n > 0) {
		size_t k = jw_utf8_len(p, n);
		if (k == 0) {
			jw_text(w, "\\ufffd");
			k = 1;
		} else if (k > 1) {
			jw_raw(w, (const char *)p, k);
		} else if (*p == '"') {
			jw_text(w, "\\\"");
		} else if (*p == '\\') {
			jw_text(w, "\\\\");
		} else if (*p == '\n') {
			jw_text(w, "\\n");
		} else if (*p == '\r') {
			jw_text(w, "\\r");
		} else if (*p == '\t') {
			jw_text(w, "\\t");
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			jw_text(w, esc);
		} else {
			jw_raw(w, (const char *)p, 1);
		}
		p += k;
		n -= k;
	}
}

void jw_string(struct jw *w, const char *s)
{
	jw_raw(w, "\"", 1);
	jw_escaped(w, s);
	jw_raw(w, "\"", 1);
}

void jw_key(struct jw *w, const char *key)
{
	jw_raw(w, ",", 1);
	jw_string(w, key);
	jw_raw(w, ":", 1);
}

void jw_int(struct jw *w, long long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%lld", v); /* integers ignore the locale */
	jw_raw(w, tmp, (size_t)n);
}

static long long pow10i(int d)
{
	long long p = 1;
	while (d-- > 0)
		p *= 10;
	return p;
}

/* r / 10^d (d <= 9) with d decimals, trailing zeros dropped if trim, into
 * buf (32 bytes). */
static size_t fixed(long long r, int d, bool trim, char *buf)
{
	unsigned long long p = (unsigned long long)pow10i(d);
	unsigned long long a = r < 0 ? 0ULL - (unsigned long long)r : (unsigned long long)r;
	int n = snprintf(buf, 32, "%s%llu", r < 0 ? "-" : "", a / p);
	char frac[9];
	unsigned long long f = a % p;
	for (int i = d - 1; i >= 0; i--) {
		frac[i] = (char)('0' + f % 10);
		f /= 10;
	}
	int fl = d;
	while (trim && fl > 0 && frac[fl - 1] == '0')
		fl--;
	if (fl > 0) {
		buf[n++] = '.';
		memcpy(buf + n, frac, (size_t)fl);
		n += fl;
	}
	buf[n] = 0;
	return (size_t)n;
}

void jw_fixed(struct jw *w, long long r, int d, bool trim)
{
	char tmp[32];
	jw_raw(w, tmp, fixed(r, d < 0 ? 0 : d > 9 ? 9 : d, trim, tmp));
}

size_t jw_number(double v, int decimals, char *buf)
{
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	double scaled = v * (double)pow10i(decimals);
	if (!isfinite(scaled) || fabs(scaled) > 9.0e18) {
		strcpy(buf, "null");
		return 4;
	}
	long long r = llround(scaled);
	if (r == 0) {
		strcpy(buf, "0");
		return 1;
	}
	return fixed(r, decimals, true, buf);
}

void jw_num(struct jw *w, double v, int decimals)
{
	char tmp[32];
	jw_raw(w, tmp, jw_number(v, decimals, tmp));
}

size_t jw_end(const struct jw *w)
{
	return w->ok ? w->len : 0;
}
