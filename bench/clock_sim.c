/*
 * clock_sim: the MIDI clock follower's figures (bench/clock.sh).  Feeds the
 * core pulses at 120 BPM with +-1 ms of uniform random jitter, seeded, the
 * way the worker would (each pulse at its arrival time, the engine advanced
 * to now + 50 ms every millisecond), then a tempo step to 140, and prints:
 * the time until the followed tempo stays within 0.1 % of 120, the step
 * onsets' distance from their pulses' ideal times (p50, p99, max) once
 * settled, the time until it stays within 1 % of 140 after the step and
 * the largest overshoot.  Medians and extremes over SEEDS runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cfg/config.h"
#include "core/engine.h"
#include "core/rng.h"

#define PULSE(bpm) (60e9 / ((bpm)*24.0))

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int seeds = argc > 1 ? atoi(argv[1]) : 20;
	static double settle[1000], follow[1000], over[1000], phase[200000];
	int n_phase = 0;
	static struct config builtin;
	struct config_errors errs = {0};
	if (config_load(&builtin, CONFIG_BUILTIN, NULL, 0, &errs) != CONFIG_OK) {
		fprintf(stderr, "clock_sim: the built-in configuration does not load\n");
		return 2;
	}
	config_errors_free(&errs);
	for (int s = 0; s < seeds && s < 1000; s++) {
		struct engine_config cfg = builtin.engine;
		cfg.clock_source = CLOCK_SOURCE_MIDI;
		cfg.swing = 0;
		cfg.bpm = 100;
		struct engine *e = engine_new(&cfg, (uint64_t)s + 1);
		engine_start(e, 0);
		struct rng r;
		rng_seed(&r, (uint64_t)s + 100, 0);
		struct engine_input in = {.kind = INPUT_MIDI, .t = 0};
		in.u.midi.kind = MIDI_START;
		engine_input(e, &in);
		static struct event ev[512];
		static double ideal[4096], steps[4096];
		int n_ideal = 0, n_steps = 0;
		double next = 1e6, t_step = 10e9, bpm = 120;
		double settled = -1, followed = -1, peak = 0;
		for (int64_t now = 0; now < 12 * NS_PER_SEC; now += NS_PER_MS) {
			while (next <= (double)now) {
				ideal[n_ideal++] = next;
				in.u.midi.kind = MIDI_CLOCK;
				in.t = llround(next + rng_range(&r, -1, 1) * 1e6);
				if (in.t < now - NS_PER_MS)
					in.t = now - NS_PER_MS;
				engine_input(e, &in);
				next += PULSE(next >= t_step ? 140 : 120);
			}
			size_t n;
			while ((n = engine_advance(e, now + 50 * NS_PER_MS, ev, 512)) > 0)
				for (size_t i = 0; i < n; i++) {
					if (ev[i].type != EV_STEP || ev[i].t < 3e9 ||
					    ev[i].t > t_step)
						continue;
					if (n_steps < 4096)
						steps[n_steps++] = (double)ev[i].t;
				}
			struct engine_state st;
			engine_get_state(e, &st);
			double b = st.clock_bpm;
			if (now < t_step) {
				if (fabs(b / 120 - 1) > 0.001)
					settled = -1;
				else if (settled < 0)
					settled = now / 1e9;
			} else {
				bpm = b;
				if (fabs(bpm / 140 - 1) > 0.01)
					followed = -1;
				else if (followed < 0)
					followed = (now - t_step) / 1e9;
				if (bpm / 140 - 1 > peak)
					peak = bpm / 140 - 1;
			}
		}
		for (int i = 0; i < n_steps && n_phase < 200000; i++) {
			long k = lround((steps[i] - ideal[0]) / (6 * PULSE(120)));
			if (k >= 0 && 6 * k < n_ideal)
				phase[n_phase++] = fabs(steps[i] - ideal[6 * k]) / 1e6;
		}
		settle[s] = settled;
		follow[s] = followed;
		over[s] = peak * 100;
		engine_free(e);
	}
	qsort(settle, (size_t)seeds, sizeof(double), cmp);
	qsort(follow, (size_t)seeds, sizeof(double), cmp);
	qsort(over, (size_t)seeds, sizeof(double), cmp);
	qsort(phase, (size_t)n_phase, sizeof(double), cmp);
	printf("clock_in_seeds %d\n", seeds);
	printf("clock_in_settle_0.1pct_s median %.3f max %.3f\n", settle[seeds / 2],
	       settle[seeds - 1]);
	printf("clock_in_step_phase_ms steps %d p50 %.3f p99 %.3f max %.3f\n", n_phase,
	       phase[n_phase / 2], phase[(int)(n_phase * 0.99)], phase[n_phase - 1]);
	printf("clock_in_follow_120_to_140_within_1pct_s median %.3f max %.3f\n", follow[seeds / 2],
	       follow[seeds - 1]);
	printf("clock_in_overshoot_pct max %.3f\n", over[seeds - 1]);
	return 0;
}
