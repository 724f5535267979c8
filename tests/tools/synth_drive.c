/*
 * synth_drive: plays a timed grid of notes through the live synth backend
 * (synth_open/synth_events, as the worker does) and checks what a listener
 * would notice: the defs loaded, the recording is audible and its onsets
 * sit on the grid, the server never holds more synths than the voices plus
 * the effects, a killed scsynth comes back with sound, and closing leaves
 * no process and no shared-memory segment behind.
 *
 *   synth_drive [--server managed|HOST:PORT] [--port N] [--jack NAME]
 *               [--record FILE.wav] [--seconds S] [--step-ms MS] [--swing X]
 *               [--live-every N] [--voices N] [--burst] [--kill-at S]...
 *               [--kill-every S] [--check] [--quiet]
 *
 * Prints one "key value" line per figure; with --check exits 1 when a
 * check failed.  SIGTERM or SIGINT ends the run early (clean close).
 * Runs on its own thread as the worker would: sleeps to absolute deadlines.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt/log.h"
#include "rt/rtclock.h"
#include "cfg/config.h"
#include "synth/synth.h"
#include "../lib/wav.h"

#define MS INT64_C(1000000)
#define MAX_NOTES 20000
#define MAX_KILLS 64
#define MAX_PARTS (MAX_KILLS + 1)
/*
 * The check's tolerance for an onset, in samples: a quarter of a control
 * block.  A bundle that reached the server late, or whose timetag was not
 * honoured, starts at a block boundary, up to 63 samples off: three in
 * four such notes miss this.  On a quiet machine every onset lands within
 * one sample (bench/live_onsets.sh, doc/live.md); a busy one moves the
 * JACK dummy driver's clock, and scsynth's mapping of timetags onto it,
 * by a few samples, now and then by more.
 */
#define ONSET_TOL 16

struct note {
	int64_t send; /* when the drive hands it over */
	int64_t at;   /* when it should sound (mono ns) */
	int live;
	int part;  /* recording part it lands in, -1 when not sent */
	int burst; /* part of the dense burst (not measured) */
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static int cmp_send(const void *a, const void *b)
{
	const struct note *x = a, *y = b;
	return x->send < y->send ? -1 : x->send > y->send;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: synth_drive [--server managed|HOST:PORT] [--port N] [--jack NAME]\n"
	        "  [--record FILE.wav] [--seconds S] [--step-ms MS] [--swing X] [--live-every N]\n"
	        "  [--voices N] [--burst] [--kill-at S]... [--kill-every S] [--check]\n");
	exit(2);
}

static int failures;

/* One check's verdict with the figures it judged (printf-style), on one
 * line: "check WHAT ok|FAIL (figures)". */
static void check(int ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *what, const char *fmt, ...)
{
	char fig[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fig, sizeof fig, fmt, ap);
	va_end(ap);
	printf("check %-44s %s (%s)\n", what, ok ? "ok" : "FAIL", fig);
	if (!ok)
		failures++;
}

static void part_file(const char *path, int part, char *buf, size_t n)
{
	if (part == 0) {
		snprintf(buf, n, "%s", path);
		return;
	}
	size_t len = strlen(path);
	size_t stem = len > 4 && strcmp(path + len - 4, ".wav") == 0 ? len - 4 : len;
	snprintf(buf, n, "%.*s-%d.wav", (int)stem, path, part);
}

#define LOCAL_S 2.0

/* Least-squares line y = a + b x through the points with |x - x0| <= half. */
static void fit(const double *x, const double *y, int n, double x0, double half, double *a,
                double *b)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0;
	int m = 0;
	for (int i = 0; i < n; i++)
		if (fabs(x[i] - x0) <= half) {
			mx += x[i];
			my += y[i];
			m++;
		}
	mx /= m;
	my /= m;
	for (int i = 0; i < n; i++)
		if (fabs(x[i] - x0) <= half) {
			sxx += (x[i] - mx) * (x[i] - mx);
			sxy += (x[i] - mx) * (y[i] - my);
		}
	*b = sxx > 0 ? sxy / sxx : 48000.0;
	*a = my - *b * mx;
}

/*
 * Measures the onsets of one recording part against the notes sent into
 * it: anchors the grid on the median offset, then reports each note's
 * error in samples.  Returns the notes measured; *within counts |err| <= 1,
 * *near those within ONSET_TOL samples.
 */
static int measure_part(const char *file, const struct note *notes, int n, int part, int rate,
                        int *within, int *near, int *missing, double *err_min, double *err_max,
                        double *err_rms, double *rms_level, int *audible, double *fitted_rate,
                        double *clock_wander)
{
	struct wav w;
	enum wav_err e = wav_read(file, &w);
	*audible = 0;
	if (e != WAV_OK) {
		printf("part %d %s: %s\n", part, file, wav_strerror(e));
		return -1;
	}
	*rms_level = wav_rms(&w);
	*audible = *rms_level > 0.001;
	struct wav_onset_opts o;
	wav_onset_defaults(&o);
	size_t cap = 4 * MAX_NOTES;
	size_t *on = malloc(cap * sizeof *on);
	size_t n_on = wav_onsets(w.data, w.frames, w.channels, &o, on, cap);
	if (n_on > cap)
		n_on = cap;
	int64_t first_at = -1;
	for (int i = 0; i < n; i++)
		if (notes[i].part == part && !notes[i].burst &&
		    (first_at < 0 || notes[i].at < first_at))
			first_at = notes[i].at;
	int measured = 0;
	*within = *near = *missing = 0;
	*err_min = *err_max = *err_rms = 0;
	if (n_on == 0 || first_at < 0)
		goto done;
	/* Match in time order, predicting each note from the last matched
	 * one (the audio clock may run a little off the system clock), then
	 * fit position = a + b * time by least squares: the residuals are the
	 * onset errors on the audio clock's own grid. */
	double *xs = malloc((size_t)n * sizeof *xs), *ys = malloc((size_t)n * sizeof *ys);
	int k = 0;
	double last_pos = (double)on[0];
	int64_t last_at = first_at;
	for (int i = 0; i < n; i++) {
		if (notes[i].part != part || notes[i].burst)
			continue;
		double pred = last_pos + (double)(notes[i].at - last_at) * rate / 1e9;
		size_t best = 0;
		double bd = 1e18;
		for (size_t j = 0; j < n_on; j++) {
			double d = fabs((double)on[j] - pred);
			if (d < bd) {
				bd = d;
				best = j;
			}
		}
		if (bd > rate * 0.02) {
			(*missing)++;
			continue;
		}
		last_pos = (double)on[best];
		last_at = notes[i].at;
		xs[k] = (double)(notes[i].at - first_at) / 1e9;
		ys[k] = (double)on[best];
		k++;
	}
	if (k >= 2) {
		double a, b;
		fit(xs, ys, k, 0, 1e18, &a, &b);
		*fitted_rate = b;
		double sq = 0, wander = 0;
		*err_min = 1e9;
		*err_max = -1e9;
		for (int i = 0; i < k; i++) {
			/* The dummy driver's clock wanders slowly against the
			 * system clock (about a millisecond over a minute): each
			 * onset is measured against the grid of the notes within
			 * LOCAL_S around it. */
			double la, lb;
			fit(xs, ys, k, xs[i], LOCAL_S, &la, &lb);
			double ideal = la + lb * xs[i];
			double err = ys[i] - ideal;
			double g = fabs(ys[i] - (a + b * xs[i]));
			if (g > wander)
				wander = g;
			if (getenv("SYNTH_DRIVE_VERBOSE"))
				printf("  note %d at %.3f s err %.2f global %.2f\n", i, xs[i], err,
				       ys[i] - (a + b * xs[i]));
			if (err < *err_min)
				*err_min = err;
			if (err > *err_max)
				*err_max = err;
			sq += err * err;
			/* An onset falls on a whole sample: it is on time when it is
			 * within one sample of the sample nearest the ideal time. */
			*within += fabs(ys[i] - round(ideal)) <= 1.0;
			*near += fabs(err) <= ONSET_TOL;
		}
		*err_rms = sqrt(sq / k);
		*clock_wander = wander;
		measured = k;
	}
	free(xs);
	free(ys);
done:
	free(on);
	wav_free(&w);
	return measured;
}

static int alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

int main(int argc, char **argv)
{
	struct synth_settings set;
	struct config builtin;
	struct config_errors errs = {0};
	if (config_load(&builtin, CONFIG_BUILTIN, NULL, 0, &errs) != CONFIG_OK) {
		fprintf(stderr, "synth_drive: the built-in configuration does not load\n");
		return 2;
	}
	config_errors_free(&errs);
	synth_settings_from_config(&set, &builtin);
	double seconds = 10, step_ms = 500, swing = 0, kill_every = 0;
	double kill_at[MAX_KILLS];
	int n_kill_at = 0, live_every = 4, do_check = 0, burst = 0;
	set.reverb_mix = 0; /* dry: the notes are separated by silence */
	set.heartbeat_ms = 50;
	snprintf(set.jack_name, sizeof set.jack_name, "me-drive-%d", (int)getpid());

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE()                                                                                     \
	do {                                                                                       \
		if (!v)                                                                            \
			usage();                                                                   \
		i++;                                                                               \
	} while (0)
		if (strcmp(a, "--server") == 0) {
			TAKE();
			snprintf(set.server, sizeof set.server, "%s", v);
		} else if (strcmp(a, "--port") == 0) {
			TAKE();
			set.port = atoi(v);
		} else if (strcmp(a, "--jack") == 0) {
			TAKE();
			snprintf(set.jack_name, sizeof set.jack_name, "%s", v);
		} else if (strcmp(a, "--record") == 0) {
			TAKE();
			snprintf(set.record_path, sizeof set.record_path, "%s", v);
		} else if (strcmp(a, "--seconds") == 0) {
			TAKE();
			seconds = atof(v);
		} else if (strcmp(a, "--step-ms") == 0) {
			TAKE();
			step_ms = atof(v);
		} else if (strcmp(a, "--swing") == 0) {
			TAKE();
			swing = atof(v);
		} else if (strcmp(a, "--live-every") == 0) {
			TAKE();
			live_every = atoi(v);
		} else if (strcmp(a, "--voices") == 0) {
			TAKE();
			set.voices = atoi(v);
		} else if (strcmp(a, "--kill-at") == 0) {
			TAKE();
			if (n_kill_at < MAX_KILLS)
				kill_at[n_kill_at++] = atof(v);
		} else if (strcmp(a, "--kill-every") == 0) {
			TAKE();
			kill_every = atof(v);
		} else if (strcmp(a, "--burst") == 0) {
			burst = 1;
		} else if (strcmp(a, "--check") == 0) {
			do_check = 1;
		} else {
			usage();
		}
	}
	if (seconds <= 0 || step_ms < 20 || swing < 0 || swing > 0.5)
		usage();

	if (getenv("SYNTH_DRIVE_DEBUG"))
		log_set_level(LOG_DEBUG);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* Build the schedule: a grid (odd steps swung), every live_every-th
	 * note sent as a live action, then an optional dense burst. */
	static struct note notes[MAX_NOTES];
	int n = 0;
	int64_t look = (int64_t)set.lookahead_ms * MS, lat = (int64_t)set.latency_ms * MS;
	int64_t step = (int64_t)(step_ms * MS);
	int grid = (int)(seconds * 1000 / step_ms);
	for (int k = 0; k < grid && n < MAX_NOTES; k++) {
		struct note *nt = &notes[n++];
		nt->at = k * step + (k % 2 ? (int64_t)(swing * (double)step) : 0);
		nt->live = live_every > 0 && k % live_every == live_every - 1;
		nt->send = nt->at - (nt->live ? lat : look);
		nt->part = -1;
	}
	int64_t burst_from = grid * step + 500 * MS;
	if (burst)
		for (int k = 0; k < 50 && n < MAX_NOTES; k++) {
			struct note *nt = &notes[n++];
			nt->at = burst_from + k * 40 * MS;
			nt->send = nt->at - look;
			nt->part = -1;
			nt->burst = 1;
		}
	qsort(notes, (size_t)n, sizeof notes[0], cmp_send);

	const struct synth_ops *ops = synth_find("supercollider");
	enum synth_err err;
	int64_t t_open = rtclock_mono_ns();
	struct synth *s = synth_open(ops, &set, &err);
	if (!s) {
		fprintf(stderr, "synth_drive: %s\n", synth_strerror(err));
		return 1;
	}
	int ready = synth_wait_ready(s, 15000) == 0;
	printf("ready_after_ms %.1f\n", (double)(rtclock_mono_ns() - t_open) / MS);
	fflush(stdout); /* a script waits for this line */
	if (do_check)
		check(ready, "(a) server up, defs loaded and playable",
		      "ready after %.0f ms, want <= 15000",
		      (double)(rtclock_mono_ns() - t_open) / MS);
	if (!ready) {
		synth_close(s);
		return 1;
	}

	struct synth_status st;
	int64_t base = rtclock_mono_ns() + 300 * MS;
	int64_t kill_t[MAX_KILLS], ready_ms[MAX_KILLS], sound_ms[MAX_KILLS];
	int n_kills = 0, pending = 0;
	unsigned restarts_at_kill = 0;
	int next_fixed = 0;
	int64_t next_every = kill_every > 0 ? base + (int64_t)(kill_every * 1e9) : INT64_MAX;

	for (int i = 0; i < n && !got_signal; i++) {
		struct note *nt = &notes[i];
		int64_t send = base + nt->send;
		/* Kills due before this send. */
		for (;;) {
			int64_t due = INT64_MAX;
			if (next_fixed < n_kill_at)
				due = base + (int64_t)(kill_at[next_fixed] * 1e9);
			if (next_every < due)
				due = next_every;
			if (due > send || pending || n_kills >= MAX_KILLS)
				break;
			rtclock_sleep_until(due);
			synth_status(s, &st);
			if (st.server_pid > 0) {
				restarts_at_kill = st.restarts;
				kill_t[n_kills] = rtclock_mono_ns();
				kill(st.server_pid, SIGKILL);
				pending = 1;
			}
			if (next_fixed < n_kill_at &&
			    due == base + (int64_t)(kill_at[next_fixed] * 1e9))
				next_fixed++;
			else
				next_every += (int64_t)(kill_every * 1e9);
		}
		rtclock_sleep_until(send);
		struct event ev = {.type = EV_NOTE, .live = (uint8_t)nt->live};
		int64_t now = rtclock_mono_ns();
		/* A live action happens now and sounds latency_ms later. */
		ev.t = nt->live ? now : base + nt->at;
		ev.u.note.pitch = (uint8_t)(nt->burst ? 48 + i % 24 : 60 + (i * 7) % 12);
		ev.u.note.velocity = 100;
		ev.u.note.step = -1;
		ev.u.note.dur = nt->burst ? 1500 * MS : 40 * MS;
		synth_status(s, &st);
		uint64_t dropped = st.dropped;
		synth_events(s, &ev, 1, now);
		synth_status(s, &st);
		if (st.dropped == dropped && st.link == LINK_CONNECTED)
			nt->part = (int)st.record_part;
		nt->at = ev.t + (nt->live ? lat : 0);
		if (pending && st.restarts > restarts_at_kill &&
		    st.first_note_ns > kill_t[n_kills]) {
			ready_ms[n_kills] = (st.ready_ns - kill_t[n_kills]) / 1000;
			sound_ms[n_kills] = (st.first_note_ns - kill_t[n_kills]) / 1000;
			n_kills++;
			pending = 0;
		}
	}
	if (pending) {
		/* Wait for the server to come back for the last kill. */
		for (int w = 0; w < 500 && pending && !got_signal; w++) {
			rtclock_sleep_until(rtclock_mono_ns() + 10 * MS);
			synth_status(s, &st);
			if (st.link == LINK_CONNECTED && st.restarts > restarts_at_kill) {
				ready_ms[n_kills] = (st.ready_ns - kill_t[n_kills]) / 1000;
				sound_ms[n_kills] = -1;
				n_kills++;
				pending = 0;
			}
		}
	}
	/* Let the last notes ring out before closing. */
	rtclock_sleep_until(rtclock_mono_ns() + (got_signal ? 0 : 600 * MS));
	synth_status(s, &st);
	int server_pid = st.server_pid, jack_pid = st.jack_pid;
	if (got_signal)
		printf("signal %d\n", (int)got_signal);
	printf("notes %llu\nbundles %llu\ndropped %llu\nsteals %llu\nlate %llu\nrestarts %u\n",
	       (unsigned long long)st.notes, (unsigned long long)st.bundles,
	       (unsigned long long)st.dropped, (unsigned long long)st.steals,
	       (unsigned long long)st.late, st.restarts);
	printf("synths_peak %d\nvoices %d\ncpu_avg %.2f\ncpu_peak %.2f\n", st.synths_peak,
	       st.voices, st.cpu_avg, st.cpu_peak);
	int fx = 1 + (set.record_path[0] != 0);
	if (do_check && burst)
		check(st.synths_peak <= set.voices + fx && st.steals > 0,
		      "(c) synths <= voices + effects under a burst",
		      "peak %d synths, want <= %d + %d; %llu steals, want > 0", st.synths_peak,
		      set.voices, fx, (unsigned long long)st.steals);
	if (do_check && !got_signal)
		check(st.late == 0, "zero late bundles", "%llu late of %llu bundles",
		      (unsigned long long)st.late, (unsigned long long)st.bundles);

	synth_release_all(s);
	synth_close(s);

	char shm[64];
	struct stat sb;
	snprintf(shm, sizeof shm, "/dev/shm/SuperColliderServer_%d", set.port);
	int clean = stat(shm, &sb) != 0 && !alive(server_pid) && !alive(jack_pid);
	printf("clean_close %s\n", clean ? "yes" : "no");

	/* Recovery after each kill. */
	long long sorted[MAX_KILLS];
	for (int k = 0; k < n_kills; k++) {
		printf("kill %d ready_ms %.1f sound_ms %.1f\n", k + 1, ready_ms[k] / 1000.0,
		       sound_ms[k] / 1000.0);
		sorted[k] = sound_ms[k] >= 0 ? sound_ms[k] : INT64_MAX / 2;
	}
	if (n_kills) {
		qsort(sorted, (size_t)n_kills, sizeof sorted[0], cmp_ll);
		printf("recovery_median_ms %.1f\nrecovery_max_ms %.1f\n",
		       sorted[(n_kills - 1) / 2] / 1000.0, sorted[n_kills - 1] / 1000.0);
	}
	if (do_check && (n_kill_at || kill_every > 0)) {
		int ok = n_kills > 0 && n_kills == (n_kill_at ? n_kill_at : n_kills);
		for (int k = 0; k < n_kills; k++)
			ok = ok && sound_ms[k] >= 0 && sound_ms[k] <= 2000000;
		long long slowest = n_kills ? sorted[n_kills - 1] : -1;
		check(ok, "(d) sound again within 2 s after kill -9",
		      "%d kills, slowest %.0f ms (-1: no sound)", n_kills,
		      slowest >= 0 && slowest < INT64_MAX / 4 ? slowest / 1000.0 : -1.0);
	}

	/* The recording, part by part. */
	int measured_all = 0, within_all = 0, near_all = 0, missing_all = 0, audible_all = 1,
	    parts = 0;
	double worst = 0, sq_all = 0;
	if (set.record_path[0]) {
		for (int p = 0; p <= n_kills && p < MAX_PARTS; p++) {
			char file[SYNTH_STR_MAX + 16];
			int within = 0, near = 0, missing = 0, audible = 0;
			double mn = 0, mx = 0, rms = 0, level = 0, fitted = 0, wander = 0;
			part_file(set.record_path, p, file, sizeof file);
			int m = measure_part(file, notes, n, p, set.sample_rate, &within, &near,
			                     &missing, &mn, &mx, &rms, &level, &audible, &fitted,
			                     &wander);
			if (m < 0 && p < n_kills)
				continue; /* cut short by the kill: the file is not finished */
			printf(
			    "part %d onsets %d within_1 %d missing %d err_min %.2f err_max %.2f "
			    "err_rms %.2f level_rms %.4f audio_clock_ppm %.0f clock_wander %.1f\n",
			    p, m, within, missing, mn, mx, rms, level,
			    fitted > 0 ? (fitted / set.sample_rate - 1) * 1e6 : 0.0, wander);
			parts++;
			if (m <= 0 || !audible) {
				audible_all = 0;
				continue;
			}
			measured_all += m;
			within_all += within;
			near_all += near;
			missing_all += missing;
			sq_all += rms * rms * m;
			if (fabs(mn) > worst)
				worst = fabs(mn);
			if (fabs(mx) > worst)
				worst = fabs(mx);
		}
		printf("onsets %d\nonsets_within_1 %d\nonsets_missing %d\nonset_err_max_abs %.2f\n"
		       "onset_err_rms %.2f\n",
		       measured_all, within_all, missing_all, worst,
		       measured_all ? sqrt(sq_all / measured_all) : 0.0);
	}
	if (do_check && set.record_path[0] && !got_signal) {
		check(parts > 0 && audible_all && measured_all > 0, "(b) the recording is audible",
		      "%d parts, %d onsets measured", parts, measured_all);
		/* within ONSET_TOL; the share within one sample is printed, and
		 * bench/live_onsets.sh reports every onset */
		check(measured_all > 0 && near_all * 10 >= measured_all * 9,
		      "(b) onsets on the grid (+-16 samples)",
		      "%d of %d within +-%d samples, want >= 90 %%; %d within +-1 sample; largest "
		      "error %.2f samples",
		      near_all, measured_all, ONSET_TOL, within_all, worst);
		check(missing_all <= 2 * n_kills, "(b) every note sent was heard",
		      "%d missing, want <= %d (2 per kill)", missing_all, 2 * n_kills);
	}
	if (do_check)
		check(clean, "(e) close leaves no process and no /dev/shm segment", "%s",
		      clean ? "none left" : "scsynth, jackd or the segment left");
	return failures ? 1 : 0;
}
