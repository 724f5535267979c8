/*
 * wav_onsets: prints the note onsets of a 16-bit WAV file, one frame
 * position per line, for the black-box tests (see wav.h for the definition).
 *
 *   wav_onsets [-s] [-f FLOOR] [-t THRESHOLD] FILE.wav
 *
 * -s first prints "rate=R channels=C frames=N rms=X peak=Y" on stderr.
 * Exit status 0, or 1 when the file cannot be read.  Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lib/wav.h"

int main(int argc, char **argv)
{
	struct wav_onset_opts o;
	wav_onset_defaults(&o);
	int summary = 0, opt;
	while ((opt = getopt(argc, argv, "sf:t:")) != -1) {
		if (opt == 's')
			summary = 1;
		else if (opt == 'f')
			o.floor = atof(optarg);
		else if (opt == 't')
			o.threshold = atof(optarg);
		else
			optind = argc + 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: wav_onsets [-s] [-f FLOOR] [-t THRESHOLD] FILE.wav\n");
		return 1;
	}
	struct wav w;
	enum wav_err e = wav_read(argv[optind], &w);
	if (e) {
		fprintf(stderr, "wav_onsets: %s: %s\n", argv[optind], wav_strerror(e));
		return 1;
	}
	if (summary)
		fprintf(stderr, "rate=%d channels=%d frames=%zu rms=%.5f peak=%.5f\n", w.rate,
		        w.channels, w.frames, wav_rms(&w), wav_peak(&w));
	size_t n = wav_onsets(w.data, w.frames, w.channels, &o, NULL, 0);
	size_t *pos = malloc((n ? n : 1) * sizeof *pos);
	if (!pos) {
		wav_free(&w);
		return 1;
	}
	wav_onsets(w.data, w.frames, w.channels, &o, pos, n);
	for (size_t i = 0; i < n; i++)
		printf("%zu\n", pos[i]);
	free(pos);
	wav_free(&w);
	return 0;
}
