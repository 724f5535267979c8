/*
 * glyphs: the two glyph sets of the console (see glyphs.h).
 * Constant tables; any thread.
 */
#include "ui/glyphs.h"

#include <ctype.h>
#include <stddef.h>

static const struct glyphs glyphs_unicode = {
    .unicode = true,
    .h = "\u2500",
    .v = "\u2502",
    .tl = "\u250c",
    .tr = "\u2510",
    .bl = "\u2514",
    .br = "\u2518",
    .bar_full = "\u2588",
    .bar_empty = " ",
    .bar_part = {" ", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589"},
    .play = "\u25b6",
    .on = "\u25cf",
    .off = "\u25cb",
    .sel = "\u25b8",
};

static const struct glyphs glyphs_ascii = {
    .unicode = false,
    .h = "-",
    .v = "|",
    .tl = "+",
    .tr = "+",
    .bl = "+",
    .br = "+",
    .bar_full = "#",
    .bar_empty = ".",
    .bar_part = {".", ".", ".", ".", "=", "=", "=", "="},
    .play = ">",
    .on = "*",
    .off = ".",
    .sel = ">",
};

const struct glyphs *glyphs_get(bool unicode)
{
	return unicode ? &glyphs_unicode : &glyphs_ascii;
}

bool glyphs_codeset_is_utf8(const char *codeset)
{
	static const char want[] = "utf8";
	size_t j = 0;
	if (!codeset)
		return false;
	/* "UTF-8", "utf8", "UTF8" all name it; compare ignoring case and '-' */
	for (const char *p = codeset; *p; p++) {
		if (*p == '-' || *p == '_')
			continue;
		if (j >= sizeof want - 1 || tolower((unsigned char)*p) != want[j])
			return false;
		j++;
	}
	return j == sizeof want - 1;
}
