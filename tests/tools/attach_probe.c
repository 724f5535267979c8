/*
 * attach_probe: a console client of the control socket for bench/attach.sh.
 *
 *   attach_probe keys SOCKET N [GAP_MS]   N keys (tempo nudges, source key,
 *                                         alternately +1 and -1) GAP_MS apart
 *                                         (default 20); prints "base NS" (the
 *                                         engine's time 0, CLOCK_MONOTONIC)
 *                                         then one "sent NS" line per key
 *   attach_probe watch SOCKET SECONDS     reads snapshots like a console for
 *                                         SECONDS; prints "frames N fps F"
 *   attach_probe hold SOCKET              attaches as a console and never
 *                                         reads (a frozen terminal) until
 *                                         SIGTERM
 *
 * The snapshots it receives are those an attached console draws.  Main
 * thread only.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/param.h"
#include "ops/ctl_client.h"
#include "rt/rtclock.h"

static int usage(void)
{
	fprintf(stderr, "usage: attach_probe keys SOCKET N [GAP_MS] | watch SOCKET SECONDS | "
	                "hold SOCKET\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	int status;
	char why[1024];
	struct ctl_client *c = ctl_client_connect(argv[2], true, 30, &status, why, sizeof why);
	if (!c) {
		fprintf(stderr, "attach_probe: %s\n", why);
		return status;
	}
	struct snapshot *s = malloc(sizeof *s);
	if (!s)
		return 1;
	int rc = 0;
	if (strcmp(argv[1], "keys") == 0 && argc >= 4) {
		int n = atoi(argv[3]), gap = argc > 4 ? atoi(argv[4]) : 20;
		if (!ctl_client_fetch(c, s, why, sizeof why)) {
			fprintf(stderr, "attach_probe: %s\n", why);
			return 1;
		}
		printf("base %lld\n", (long long)s->clock_base_ns);
		for (int i = 0; i < n; i++) {
			struct command cmd;
			memset(&cmd, 0, sizeof cmd);
			cmd.type = CMD_NUDGE_PARAM;
			cmd.source = SRC_KEY;
			cmd.param = P_TEMPO;
			cmd.value = i % 2 ? -1 : 1;
			int64_t t = rtclock_mono_ns();
			if (!ctl_client_command(c, &cmd)) {
				rc = 1;
				break;
			}
			printf("sent %lld\n", (long long)t);
			ctl_client_poll(c, 0); /* keep reading, as a console does */
			struct timespec ts = {gap / 1000, (gap % 1000) * 1000000L};
			nanosleep(&ts, NULL);
			ctl_client_poll(c, 0);
		}
	} else if (strcmp(argv[1], "watch") == 0 && argc >= 4) {
		double secs = atof(argv[3]);
		int64_t until = rtclock_mono_ns() + (int64_t)(secs * 1e9);
		long frames = 0;
		while (rtclock_mono_ns() < until && !ctl_client_gone(c)) {
			ctl_client_poll(c, 50);
			if (ctl_client_snapshot(c, s, false))
				frames++;
		}
		printf("frames %ld fps %.1f\n", frames, frames / secs);
	} else if (strcmp(argv[1], "hold") == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigprocmask(SIG_BLOCK, &set, NULL);
		int sig;
		sigwait(&set, &sig);
	} else {
		rc = usage();
	}
	free(s);
	ctl_client_close(c);
	return rc;
}
