/*
 * suggest: "did you mean" for names a person typed.  A set of candidate
 * names, the closest one to a word (an edit distance where swapping two
 * neighbours counts one, letter case ignored, a limit that grows with the
 * word's length), and the list "a, b, c" for an "(allowed: ...)".  Pure
 * functions over the caller's set; any thread.
 */
#ifndef ME_CFG_SUGGEST_H
#define ME_CFG_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

#define SUGGEST_MAX 64

/* A set of names (not copied: they must outlive the set). */
struct suggest {
	const char *name[SUGGEST_MAX];
	int n;
};

/* Adds name unless it is there already or the set is full. */
void suggest_add(struct suggest *c, const char *name);
/* The closest candidate to word, or NULL when none is close enough. */
const char *suggest_best(const struct suggest *c, const char *word);
/* "a, b, c" (quoted when quote is set), or "none", into buf. */
void suggest_list(const struct suggest *c, bool quote, char *buf, size_t n);
/* ", did you mean `x`?" (or "\"x\"" when quote is set), or "". */
void suggest_did_you_mean(const struct suggest *c, const char *word, bool quote, char *buf,
                          size_t n);

#endif
