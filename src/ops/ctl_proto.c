/*
 * ctl_proto: message sizes and socket paths of the control socket (see
 * ctl_proto.h).  Pure apart from reading the environment; any thread.
 */
#include "ops/ctl_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t ctl_payload_size(uint32_t type)
{
	switch (type) {
	case CTL_HELLO:
		return sizeof(struct ctl_hello);
	case CTL_WELCOME:
		return sizeof(struct ctl_welcome);
	case CTL_SNAPSHOT:
		return sizeof(struct snapshot);
	case CTL_COMMAND:
		return sizeof(struct command);
	case CTL_REQUEST:
		return sizeof(struct ctl_request);
	case CTL_REPLY:
		return sizeof(struct ctl_reply);
	default:
		return 0;
	}
}

const char *ctl_req_name(enum ctl_req r)
{
	static const char *const names[CTL_REQ_COUNT] = {
	    [CTL_REQ_SNAPSHOT] = "snapshot",
	    [CTL_REQ_RELOAD] = "reload",
	    [CTL_REQ_PRESET_SAVE] = "preset save",
	    [CTL_REQ_PRESET_LOAD] = "preset load",
	    [CTL_REQ_PAUSE] = "pause",
	    [CTL_REQ_RESUME] = "resume",
	    [CTL_REQ_SET] = "set",
	    [CTL_REQ_STOP] = "stop",
	    [CTL_REQ_LEARN] = "learn",
	    [CTL_REQ_LEARN_CANCEL] = "learn cancel",
	};
	return (unsigned)r < CTL_REQ_COUNT ? names[r] : "unknown request";
}

static int put(char *buf, size_t n, const char *fmt, const char *a, const char *b)
{
	int k = snprintf(buf, n, fmt, a, b);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

static int xdg_path(char *buf, size_t n)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (!xdg || xdg[0] != '/')
		return -1;
	return put(buf, n, "%s/mystery-engine/%s", xdg, CTL_SOCKET_NAME);
}

static int tmp_path(char *buf, size_t n)
{
	int k = snprintf(buf, n, "/tmp/mystery-engine-%u/%s", (unsigned)getuid(), CTL_SOCKET_NAME);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int ctl_default_path(char *buf, size_t n)
{
	const char *rd = getenv("RUNTIME_DIRECTORY");
	if (rd && rd[0] == '/') {
		/* systemd lists several directories separated by ':' */
		char first[CTL_PATH_MAX];
		snprintf(first, sizeof first, "%.*s", (int)strcspn(rd, ":"), rd);
		return put(buf, n, "%s/%s", first, CTL_SOCKET_NAME);
	}
	if (xdg_path(buf, n) == 0)
		return 0;
	return tmp_path(buf, n);
}

static int add(char paths[][CTL_PATH_MAX], int k, int max, const char *p)
{
	if (k >= max || !p[0])
		return k;
	for (int i = 0; i < k; i++)
		if (strcmp(paths[i], p) == 0)
			return k;
	snprintf(paths[k], CTL_PATH_MAX, "%s", p);
	return k + 1;
}

int ctl_candidate_paths(const char *configured, char paths[][CTL_PATH_MAX], int max)
{
	char p[CTL_PATH_MAX];
	int k = 0;
	if (configured && configured[0])
		k = add(paths, k, max, configured);
	if (ctl_default_path(p, sizeof p) == 0)
		k = add(paths, k, max, p);
	k = add(paths, k, max, "/run/mystery-engine/" CTL_SOCKET_NAME);
	if (xdg_path(p, sizeof p) == 0)
		k = add(paths, k, max, p);
	if (tmp_path(p, sizeof p) == 0)
		k = add(paths, k, max, p);
	return k;
}
