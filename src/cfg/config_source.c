/*
 * config_source: where the layers of a load come from.  --set KEY=VALUE is
 * turned into a one-key libconfig text ("a = { b = VALUE; };"), quoted when
 * the key wants a string.  Files are found on the search path, and checked
 * before libconfig reads them: libconfig opens files (and the files they
 * @include) with fopen(), which waits forever on a FIFO without a writer,
 * so each is first opened here without blocking and checked to be a
 * regular file; a FIFO, a device or a directory is an error naming it (and
 * the @include line), never a hang.  Main thread only (part of
 * config_load()).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg/config.h"
#include "cfg/config_loader.h"
#include "cfg/config_read.h"

static bool key_char_ok(char c, bool first)
{
	return isalpha((unsigned char)c) ||
	       (!first && (isdigit((unsigned char)c) || c == '_' || c == '-'));
}

/* Whether the --set value of key is read as a string whatever it looks like. */
static bool wants_string(const char *key)
{
	const struct config_key *k = config_schema_find(key);
	if (k)
		return k->type == CONFIG_T_STRING || k->type == CONFIG_T_CHOICE ||
		       k->type == CONFIG_T_PROFILE_REF;
	size_t l = strlen(key);
	return strncmp(key, "profiles.", 9) == 0 && l > 6 && strcmp(key + l - 6, ".scale") == 0;
}

/* Appends s to buf as a libconfig string literal. */
void config_quote_into(char *buf, size_t n, const char *s)
{
	size_t u = strlen(buf);
	if (u + 1 < n)
		buf[u++] = '"';
	for (; *s && u + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[u++] = '\\';
			buf[u++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			u += (size_t)snprintf(buf + u, n - u, "\\x%02x", c);
		} else {
			buf[u++] = (char)c;
		}
	}
	if (u + 1 < n)
		buf[u++] = '"';
	buf[u] = '\0';
}

/* Builds "a = { b = VALUE\n; };" for key a.b; false when key is not a key path. */
static bool set_text(char *buf, size_t n, const char *key, size_t klen, const char *value,
                     bool quote)
{
	size_t u = 0;
	int depth = 0;
	const char *p = key, *end = key + klen;
	buf[0] = '\0';
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *ce = dot ? dot : end;
		if (ce == p)
			return false;
		for (const char *q = p; q < ce; q++)
			if (!key_char_ok(*q, q == p))
				return false;
		int w = snprintf(buf + u, n - u, "%.*s = %s", (int)(ce - p), p, dot ? "{ " : "");
		if (w < 0 || (size_t)w >= n - u)
			return false;
		u += (size_t)w;
		if (dot)
			depth++;
		p = dot ? dot + 1 : end;
		if (dot && p == end)
			return false;
	}
	if (quote)
		config_quote_into(buf, n, value);
	else
		snprintf(buf + u, n - u, "%s", value);
	u = strlen(buf);
	snprintf(buf + u, n - u, "\n;");
	for (int i = 0; i < depth; i++) {
		u = strlen(buf);
		snprintf(buf + u, n - u, " };");
	}
	return strlen(buf) + 1 < n;
}

/* Whether the parsed --set holds exactly one chain of single members. */
static bool single_path(const config_t *lc, int depth)
{
	const config_setting_t *s = config_root_setting(lc);
	for (int i = 0; i <= depth; i++) {
		if (!config_setting_is_group(s) || config_setting_length(s) != 1)
			return false;
		s = config_setting_get_elem(s, 0);
	}
	return true;
}

void config_apply_set(struct config_loader *L, const char *kv)
{
	char name[CONFIG_STR_MAX + 16];
	snprintf(name, sizeof name, "--set %s", kv);
	L->src = config_intern(L, name);
	L->is_set = true;
	struct config_origin o = {L->src, 0, ++L->seq};
	const char *eq = strchr(kv, '=');
	if (!eq) {
		config_errf(L, o, NULL, "expected KEY=VALUE");
		return;
	}
	size_t klen = (size_t)(eq - kv);
	char key[CONFIG_KEY_MAX];
	snprintf(key, sizeof key, "%.*s", (int)klen, kv);
	int depth = 0;
	for (size_t i = 0; i < klen; i++)
		depth += kv[i] == '.';
	size_t n = strlen(kv) * 5 + 64 + (size_t)depth * 4;
	char *text = malloc(n);
	if (!text)
		return;
	config_t lc;
	config_init(&lc);
	const char *value = eq + 1;
	bool quote = wants_string(key) && value[0] != '"';
	bool ok = set_text(text, n, kv, klen, value, quote);
	if (!ok) {
		config_errf(L, o, key, "not a key (keys look like sequencer.bpm)");
		goto out;
	}
	if (!config_read_string(&lc, text) || !single_path(&lc, depth)) {
		config_destroy(&lc);
		config_init(&lc);
		if (!set_text(text, n, kv, klen, value, true) || !config_read_string(&lc, text)) {
			config_errf(L, o, key, "cannot read the value");
			goto out;
		}
	}
	config_walk_group(L, config_root_setting(&lc), "");
out:
	config_destroy(&lc);
	free(text);
}

/* ---- special files ----
 *
 * libconfig reads files (and the files they @include) with fopen(), which
 * waits forever on a FIFO without a writer.  Before libconfig sees a file,
 * it and everything it includes are opened here without blocking and
 * checked to be regular files: a FIFO, a device or a directory is an error
 * naming it (and the @include line), never a hang.
 */

#define INCLUDE_DEPTH 10 /* libconfig's own limit */
#define SCAN_MAX (4 * 1024 * 1024)

/* NULL when path is a regular file, else why it cannot be read. */
const char *config_not_regular(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(buf, n, "%s", strerror(errno));
		return buf;
	}
	struct stat sb;
	int r = fstat(fd, &sb);
	close(fd);
	if (r != 0)
		snprintf(buf, n, "%s", strerror(errno));
	else if (S_ISREG(sb.st_mode))
		return NULL;
	else
		snprintf(buf, n, "%s, not a regular file", config_read_file_kind(sb.st_mode));
	return buf;
}

/* Checks every file path @includes, recursively, as libconfig will find
 * them (relative paths from the working directory); false after an error. */
bool config_check_includes(struct config_loader *L, const char *path, int depth)
{
	FILE *f = fopen(path, "re"); /* a regular file: checked before */
	if (!f)
		return true; /* libconfig reports it */
	char line[CONFIG_STR_MAX + 64];
	bool ok = true;
	long read = 0;
	for (int n = 1; ok && read < SCAN_MAX && fgets(line, sizeof line, f); n++) {
		read += (long)strlen(line);
		const char *p = line + strspn(line, " \t");
		if (strncmp(p, "@include", 8) != 0 || !strchr(" \t", p[8]))
			continue;
		p += 8 + strspn(p + 8, " \t");
		const char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
		if (!end)
			continue; /* libconfig reports the syntax */
		char inc[CONFIG_STR_MAX], why[128];
		snprintf(inc, sizeof inc, "%.*s", (int)(end - p - 1), p + 1);
		struct config_origin o = {config_intern(L, path), n, 0};
		if (depth >= INCLUDE_DEPTH) {
			config_errf(L, o, NULL, "@include \"%s\": included more than %d deep", inc,
			            INCLUDE_DEPTH);
			ok = false;
		} else if (config_not_regular(inc, why, sizeof why)) {
			config_errf(L, o, NULL, "@include \"%s\": cannot read: %s", inc, why);
			ok = false;
		} else {
			ok = config_check_includes(L, inc, depth + 1);
		}
	}
	fclose(f);
	return ok;
}

/* The first configuration file that exists, into buf; false if none. */
bool config_search(char *buf, size_t n)
{
	const char *rel = "mystery-engine/mystery-engine.conf";
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct stat st;
	if (xdg && xdg[0] == '/') {
		snprintf(buf, n, "%s/%s", xdg, rel);
		if (stat(buf, &st) == 0)
			return true;
	} else if (home && *home) {
		snprintf(buf, n, "%s/.config/%s", home, rel);
		if (stat(buf, &st) == 0)
			return true;
	}
	snprintf(buf, n, "%s/%s", SYSCONFDIR, rel);
	return stat(buf, &st) == 0;
}
