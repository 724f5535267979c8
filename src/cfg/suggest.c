/*
 * suggest: "did you mean" for names a person typed (see suggest.h).
 */
#include "cfg/suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Optimal string alignment distance (a swap of neighbours counts 1). */
static int edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 63 || m > 63)
		return 99;
	int d[64][64];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			int cost =
			    tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[n][m];
}

void suggest_add(struct suggest *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return;
	if (c->n < SUGGEST_MAX)
		c->name[c->n++] = name;
}

const char *suggest_best(const struct suggest *c, const char *word)
{
	size_t len = strlen(word);
	int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	const char *best = NULL;
	int best_d = limit + 1;
	for (int i = 0; i < c->n; i++) {
		int d = edit_distance(word, c->name[i]);
		if (d < best_d) {
			best_d = d;
			best = c->name[i];
		}
	}
	return best;
}

void suggest_list(const struct suggest *c, bool quote, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < c->n && used < n; i++) {
		int w = snprintf(buf + used, n - used, "%s%s%s%s", i ? ", " : "", quote ? "\"" : "",
		                 c->name[i], quote ? "\"" : "");
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (c->n == 0)
		snprintf(buf, n, "none");
}

void suggest_did_you_mean(const struct suggest *c, const char *word, bool quote, char *buf,
                          size_t n)
{
	const char *s = suggest_best(c, word);
	if (s)
		snprintf(buf, n, quote ? ", did you mean \"%s\"?" : ", did you mean `%s`?", s);
	else
		buf[0] = '\0';
}
