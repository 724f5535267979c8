/*
 * jw: JSON text written into a caller's buffer, the same bytes in every
 * locale.  A bounded writer that never overruns (once something does not
 * fit it stays failed, so a cut line is never mistaken for a whole one),
 * strings escaped as JSON requires with invalid UTF-8 as U+FFFD, integers,
 * and numbers with a fixed number of decimals in integer arithmetic (no
 * printf of a double, whose decimal point follows the locale).  The event
 * log, the LED cues and the log lines all write their JSON through it.
 * Pure; any thread.
 */
#ifndef ME_CORE_JW_H
#define ME_CORE_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jw {
	char *buf;
	size_t cap, len;
	bool ok; /* false once something did not fit */
};

/* A writer into buf (cap bytes, kept NUL-terminated). */
struct jw jw_init(char *buf, size_t cap);
/* Raw text, as is. */
void jw_raw(struct jw *w, const char *s, size_t n);
void jw_text(struct jw *w, const char *s);
/* The inside of a JSON string: quotes, backslashes and control characters
 * escaped, invalid UTF-8 as \ufffd. */
void jw_escaped(struct jw *w, const char *s);
/* A JSON string with its quotes. */
void jw_string(struct jw *w, const char *s);
/* ,"key": */
void jw_key(struct jw *w, const char *key);
void jw_int(struct jw *w, long long v);
/* v with at most `decimals` decimals, trailing zeros dropped, "null" when
 * not finite (jw_number). */
void jw_num(struct jw *w, double v, int decimals);
/* r / 10^d (d 0..9) with d decimals, trailing zeros dropped when trim. */
void jw_fixed(struct jw *w, long long r, int d, bool trim);
/* The length written, or 0 when something did not fit. */
size_t jw_end(const struct jw *w);

/*
 * Writes v with at most `decimals` decimals (0..9), trailing zeros dropped,
 * "null" when not finite or too large.  Returns the length; buf needs 32
 * bytes.
 */
size_t jw_number(double v, int decimals, char *buf);
/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
size_t jw_utf8_len(const unsigned char *s, size_t n);

#endif
