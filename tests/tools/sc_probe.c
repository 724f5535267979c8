/*
 * sc_probe: drives a private scsynth for the black-box tests (tests/cli/sc_*.sh)
 * through the same sc_link code the live backend uses.
 *
 *   sc_probe -p PORT status            one /status round trip (readiness)
 *   sc_probe -p PORT defs              load the defs, trial /s_new of each
 *   sc_probe -p PORT trial NAME        trial /s_new of NAME: exit 1 on /fail
 *   sc_probe -p PORT record OUT.wav N INTERVAL_MS LEAD_MS
 *                                      record the output with me_rec while N
 *                                      me_voice notes play on a grid, each
 *                                      bundle sent LEAD_MS before its time
 *
 * Exit status: 0 success, 1 the server refused (/fail), 2 any other error.
 * Single-threaded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt/rtclock.h"
#include "synth/sc_link.h"
#include "synth/synthdef.h"

#define TRIAL_GROUP 2000
#define TRIAL_NODE 2001
#define REC_BUF 0

static int timeout_ms = 2000;

static void usage(void)
{
	fprintf(stderr, "usage: sc_probe -p PORT [-t TIMEOUT_MS] status|defs|trial NAME|"
	                "record OUT.wav N INTERVAL_MS LEAD_MS\n");
	exit(2);
}

static int check(struct sc_link *l, enum sc_link_err e, const char *what)
{
	if (!e)
		return 0;
	fprintf(stderr, "sc_probe: %s: %s", what, sc_link_strerror(e));
	if (e == SC_LINK_E_FAIL)
		fprintf(stderr, " (%s)", sc_link_last_fail(l));
	fputc('\n', stderr);
	return e == SC_LINK_E_FAIL ? 1 : 2;
}

static int cmd_status(struct sc_link *l)
{
	struct sc_status st;
	int rc = check(l, sc_link_status(l, &st, timeout_ms), "/status");
	if (!rc)
		printf("status ugens=%d synths=%d groups=%d defs=%d cpu=%.1f%% rate=%.1f\n",
		       st.ugens, st.synths, st.groups, st.defs, st.avg_cpu, st.actual_rate);
	return rc;
}

/* Registers, loads the defs and makes the trial group. */
static int setup(struct sc_link *l)
{
	int rc = check(l, sc_link_notify(l, 1, timeout_ms), "/notify 1");
	if (!rc)
		rc = check(l, sc_link_load_defs(l, timeout_ms), "/d_recv");
	if (!rc)
		rc = check(l, sc_link_send_args(l, "/g_new", "iii", TRIAL_GROUP, 0, 0), "/g_new");
	if (!rc)
		rc = check(l, sc_link_sync(l, 1, timeout_ms), "/sync");
	return rc;
}

static void teardown(struct sc_link *l)
{
	sc_link_send_args(l, "/n_free", "i", TRIAL_GROUP);
	sc_link_sync(l, 2, timeout_ms);
	sc_link_notify(l, 0, timeout_ms);
}

static int trial(struct sc_link *l, const char *name)
{
	enum sc_link_err e = sc_link_trial(l, name, TRIAL_NODE, TRIAL_GROUP, timeout_ms);
	if (e == SC_LINK_OK)
		printf("%s: ok (/n_go)\n", name);
	else if (e == SC_LINK_E_FAIL)
		printf("%s: /fail %s\n", name, sc_link_last_fail(l));
	char what[300];
	snprintf(what, sizeof what, "trial /s_new %s", name);
	return check(l, e, what);
}

static int cmd_defs(struct sc_link *l)
{
	int rc = setup(l);
	for (int i = 0; !rc && i < SYNTHDEF_COUNT; i++)
		rc = trial(l, synthdef_names[i]);
	teardown(l);
	return rc;
}

static int cmd_trial(struct sc_link *l, const char *name)
{
	int rc = setup(l);
	if (!rc)
		rc = trial(l, name);
	teardown(l);
	return rc;
}

static void sleep_until(int64_t t_ns)
{
	struct timespec ts = {(time_t)(t_ns / 1000000000), (long)(t_ns % 1000000000)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int cmd_record(struct sc_link *l, const char *path, int n, int interval_ms, int lead_ms)
{
	if (n < 1 || n > 1000 || interval_ms < 20 || lead_ms < 0 || lead_ms > 1000) {
		fprintf(stderr,
		        "sc_probe: record: N 1..1000, INTERVAL_MS >= 20, LEAD_MS 0..1000\n");
		return 2;
	}
	int rc = check(l, sc_link_notify(l, 1, timeout_ms), "/notify 1");
	if (!rc)
		rc = check(l, sc_link_load_defs(l, timeout_ms), "/d_recv");
	if (!rc)
		rc = check(l, sc_link_send_args(l, "/g_new", "iii", SYNTHDEF_GROUP_VOICES, 0, 0),
		           "/g_new");
	/* reverb off: isolated notes end in exact silence */
	if (!rc)
		rc = check(l,
		           sc_link_send_args(l, "/s_new", "siiisisfsf", synthdef_names[1],
		                             SYNTHDEF_NODE_FX, 3, SYNTHDEF_GROUP_VOICES, "in",
		                             SYNTHDEF_FX_BUS, "mix", 0.0f, "volume", 1.0f),
		           "/s_new me_fx");
	if (!rc)
		rc = check(l, sc_link_send_args(l, "/b_alloc", "iii", REC_BUF, 65536, 2),
		           "/b_alloc");
	if (!rc)
		rc = check(l, sc_link_wait(l, "/done", "/b_alloc", -1, "/b_alloc", timeout_ms),
		           "/b_alloc");
	if (!rc)
		rc = check(l,
		           sc_link_send_args(l, "/b_write", "isssiii", REC_BUF, path, "wav",
		                             "int16", 0, 0, 1),
		           "/b_write");
	if (!rc)
		rc = check(l, sc_link_wait(l, "/done", "/b_write", -1, "/b_write", timeout_ms),
		           "/b_write");
	if (!rc)
		rc = check(l,
		           sc_link_send_args(l, "/s_new", "siiisi", synthdef_names[2],
		                             SYNTHDEF_NODE_REC, 1, 0, "buf", REC_BUF),
		           "/s_new me_rec");
	if (!rc)
		rc = check(l,
		           sc_link_wait(l, "/n_go", NULL, SYNTHDEF_NODE_REC, "/s_new", timeout_ms),
		           "/s_new me_rec");
	struct sc_status before, after;
	if (!rc)
		rc = check(l, sc_link_status(l, &before, timeout_ms), "/status");
	if (rc)
		return rc;

	int64_t interval = (int64_t)interval_ms * 1000000;
	int64_t lead = (int64_t)lead_ms * 1000000;
	int64_t t0 = rtclock_mono_ns() + lead + 200000000;
	int64_t min_ahead = INT64_MAX;
	for (int k = 0; k < n && !rc; k++) {
		int64_t target = t0 + k * interval;
		sleep_until(target - lead);
		lo_message m = lo_message_new();
		const char *s_new = "/s_new";
		int64_t ahead = target - rtclock_mono_ns();
		if (ahead < min_ahead)
			min_ahead = ahead;
		if (m)
			lo_message_add(m, "siiisfsfsfsfsf", synthdef_names[0], -1, 0,
			               SYNTHDEF_GROUP_VOICES, "freq",
			               (float)synthdef_freq_of(60 + k % 12), "amp", 0.3f, "dur",
			               0.05f, "cutoff", 16000.0f, "rel", 0.05f);
		/* a NULL message (out of memory) fails the send */
		rc = check(l, sc_link_send_timed(l, sc_link_timetag(target), 1, &s_new, &m),
		           "bundle");
	}
	/* scsynth's estimate of the device's rate against the wall clock maps
	 * the timetags to samples: report it with the spacing */
	if (!rc)
		rc = check(l, sc_link_status(l, &after, timeout_ms), "/status");
	/* let the last note ring out, then close the file */
	sleep_until(t0 + (int64_t)(n - 1) * interval + 400000000);
	sc_link_send_args(l, "/n_free", "i", SYNTHDEF_NODE_REC);
	sc_link_send_args(l, "/b_close", "i", REC_BUF);
	int rc2 =
	    check(l, sc_link_wait(l, "/done", "/b_close", -1, "/b_close", timeout_ms), "/b_close");
	sc_link_send_args(l, "/b_free", "i", REC_BUF);
	sc_link_send_args(l, "/n_free", "i", SYNTHDEF_GROUP_VOICES);
	sc_link_send_args(l, "/n_free", "i", SYNTHDEF_NODE_FX);
	sc_link_sync(l, 3, timeout_ms);
	sc_link_notify(l, 0, timeout_ms);
	if (!rc)
		rc = rc2;
	if (!rc)
		printf("notes=%d interval_ms=%d min_lead_ms=%.3f rate=%.3f\n", n, interval_ms,
		       min_ahead / 1e6, (before.actual_rate + after.actual_rate) / 2);
	return rc;
}

int main(int argc, char **argv)
{
	int port = 0, opt;
	while ((opt = getopt(argc, argv, "p:t:")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 't')
			timeout_ms = atoi(optarg);
		else
			usage();
	}
	if (port <= 0 || optind >= argc || timeout_ms <= 0)
		usage();
	const char *cmd = argv[optind];
	int nargs = argc - optind - 1;
	if (!((strcmp(cmd, "status") == 0 && nargs == 0) ||
	      (strcmp(cmd, "defs") == 0 && nargs == 0) ||
	      (strcmp(cmd, "trial") == 0 && nargs == 1) ||
	      (strcmp(cmd, "record") == 0 && nargs == 4)))
		usage();
	enum sc_link_err e;
	struct sc_link *l = sc_link_open(NULL, port, &e);
	if (!l) {
		fprintf(stderr, "sc_probe: %s\n", sc_link_strerror(e));
		return 2;
	}
	int rc;
	if (strcmp(cmd, "status") == 0)
		rc = cmd_status(l);
	else if (strcmp(cmd, "defs") == 0)
		rc = cmd_defs(l);
	else if (strcmp(cmd, "trial") == 0)
		rc = cmd_trial(l, argv[optind + 1]);
	else
		rc = cmd_record(l, argv[optind + 1], atoi(argv[optind + 2]), atoi(argv[optind + 3]),
		                atoi(argv[optind + 4]));
	sc_link_close(l);
	return rc;
}
