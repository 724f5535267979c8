/*
 * glyphs: the characters the console draws with, Unicode or plain ASCII.
 *
 * A UTF-8 terminal gets box lines, block bars and small symbols; any other
 * locale (LANG=C, a vt100) gets ASCII stand-ins of the same width (one
 * column each), so the layout is the same either way.  No curses here:
 * constant data, any thread.
 */
#ifndef ME_UI_GLYPHS_H
#define ME_UI_GLYPHS_H

#include <stdbool.h>

struct glyphs {
	bool unicode;
	/* box: horizontal, vertical, corners */
	const char *h, *v, *tl, *tr, *bl, *br;
	/* bars: a full cell, an empty cell, partial cells by eighths (1..7) */
	const char *bar_full, *bar_empty;
	const char *bar_part[8];
	const char *play;     /* the playing step */
	const char *on, *off; /* a step that is on / off */
	const char *sel;      /* the selected parameter */
};

const struct glyphs *glyphs_get(bool unicode);
/* True when a locale's codeset (nl_langinfo(CODESET)) is UTF-8. */
bool glyphs_codeset_is_utf8(const char *codeset);

#endif
