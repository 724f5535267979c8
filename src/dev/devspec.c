/*
 * devspec: the grammar of device and server addresses (see devspec.h).
 * Pure parsing; any thread.
 */
#include "dev/devspec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

int devspec_path_baud(const char *s, char *path, size_t cap, int *baud)
{
	if (!s || !*s || cap == 0)
		return -1;
	size_t len = strlen(s);
	const char *at = strrchr(s, '@');
	*baud = 0;
	if (at) {
		size_t dl = strlen(at + 1);
		if (!all_digits(at + 1, dl) || dl > 7)
			return -1;
		long b = strtol(at + 1, NULL, 10);
		if (b < DEVSPEC_BAUD_MIN || b > DEVSPEC_BAUD_MAX)
			return -1;
		*baud = (int)b;
		len = (size_t)(at - s);
	}
	if (len == 0 || len >= cap)
		return -1;
	memcpy(path, s, len);
	path[len] = '\0';
	return 0;
}

int devspec_host_port(const char *s, char *host, size_t cap, int *port)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	if (!colon || colon == s)
		return -1;
	size_t pl = strlen(colon + 1);
	if (!all_digits(colon + 1, pl) || pl > 5)
		return -1;
	long p = strtol(colon + 1, NULL, 10);
	if (p < 1 || p > 65535)
		return -1;
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	bool v6 = h[0] == '[';
	if (v6) {
		if (hl < 3 || h[hl - 1] != ']')
			return -1;
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= cap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (v6) {
		unsigned char a[16];
		if (inet_pton(AF_INET6, host, a) != 1)
			return -1;
	} else {
		for (size_t i = 0; i < hl; i++)
			if (!isalnum((unsigned char)host[i]) && host[i] != '.' && host[i] != '-')
				return -1;
	}
	*port = (int)p;
	return 0;
}

int devspec_parse(const char *spec, struct devspec *out)
{
	memset(out, 0, sizeof *out);
	if (!spec)
		return -1;
	if (strcmp(spec, "none") == 0) {
		out->kind = DEVSPEC_NONE;
		return 0;
	}
	if (strcmp(spec, "auto") == 0) {
		out->kind = DEVSPEC_AUTO;
		return 0;
	}
	if (strncmp(spec, "portmidi:", 9) == 0) {
		const char *name = spec + 9;
		if (!*name || strlen(name) >= sizeof out->path)
			return -1;
		strcpy(out->path, name);
		out->kind = DEVSPEC_PORTMIDI;
		return 0;
	}
	if (strncmp(spec, "raw:", 4) == 0) {
		out->kind = DEVSPEC_RAW;
		return devspec_path_baud(spec + 4, out->path, sizeof out->path, &out->baud);
	}
	if (strncmp(spec, "serial:", 7) == 0) {
		out->kind = DEVSPEC_SERIAL;
		return devspec_path_baud(spec + 7, out->path, sizeof out->path, &out->baud);
	}
	if (strncmp(spec, "udp:", 4) == 0) {
		out->kind = DEVSPEC_UDP;
		return devspec_host_port(spec + 4, out->host, sizeof out->host, &out->port);
	}
	return -1;
}

int devspec_check(const char *spec, unsigned kinds)
{
	struct devspec *d = malloc(sizeof *d);
	if (!d)
		return -1;
	int rc = devspec_parse(spec, d) == 0 && (kinds & 1u << d->kind) ? 0 : -1;
	free(d);
	return rc;
}
