/*
 * nrt_score: writes a scsynth -N score with osc_score, for tests/cli/sc_nrt.sh.
 *
 *   nrt_score [-r RATE] [-e END_S] [-m MIX] [-v VOLUME] [-c CUTOFF] [-d DUR]
 *             [-k PITCH] OUT.osc T1 T2 ...
 *
 * Writes the effect settings at time 0, then one note at each time Ti (in
 * the order given), then closes the score at END_S.  Exit status 0, or 1
 * with the writer's error on stderr (e.g. times out of order).
 * Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "synth/osc_score.h"

static void usage(void)
{
	fprintf(stderr, "usage: nrt_score [-r RATE] [-e END_S] [-m MIX] [-v VOLUME] "
	                "[-c CUTOFF] [-d DUR] [-k PITCH] OUT.osc T...\n");
	exit(1);
}

int main(int argc, char **argv)
{
	int rate = 48000, pitch = 69, opt;
	double end = -1, mix = 0, volume = 1, cutoff = 16000, dur = 0.05;
	while ((opt = getopt(argc, argv, "r:e:m:v:c:d:k:")) != -1) {
		switch (opt) {
		case 'r':
			rate = atoi(optarg);
			break;
		case 'e':
			end = atof(optarg);
			break;
		case 'm':
			mix = atof(optarg);
			break;
		case 'v':
			volume = atof(optarg);
			break;
		case 'c':
			cutoff = atof(optarg);
			break;
		case 'd':
			dur = atof(optarg);
			break;
		case 'k':
			pitch = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	enum osc_score_err e;
	struct osc_score *s = osc_score_open(argv[optind], rate, mix, volume, &e);
	if (!s) {
		fprintf(stderr, "nrt_score: %s: %s\n", argv[optind], osc_score_strerror(e));
		return 1;
	}
	double last = 0;
	for (int i = optind + 1; !e && i < argc; i++) {
		double t = atof(argv[i]);
		e = osc_score_note(s, t, pitch, 100, dur, cutoff);
		if (t > last)
			last = t;
	}
	if (e) {
		fprintf(stderr, "nrt_score: %s: %s\n", osc_score_strerror(e), osc_score_error(s));
		osc_score_close(s, last + 1);
		return 1;
	}
	e = osc_score_close(s, end >= 0 ? end : last + 1);
	if (e) {
		fprintf(stderr, "nrt_score: closing: %s\n", osc_score_strerror(e));
		return 1;
	}
	return 0;
}
