/*
 * core_pure: the core, linked with libc and libm alone.
 *
 * The core's house rule is plain C11 and libc: no threads, no I/O, no clock
 * reads, no library of the runtime.  This program is linked with nothing
 * but src/core/libcore.a and -lm (see tests/core.am): were any core file to
 * call into the runtime, libconfig, liblo or curses, the build of `make
 * check` would fail here.  tests/cli/core_pure.sh then checks what the core
 * asks of libc.  Run, it plays ten seconds of music twice from the same
 * seed on virtual time and checks that notes come out, the same both times,
 * and that the event log line and the LED cues of every event can be made.
 */
#include <stdio.h>
#include <string.h>

#include "core/cue.h"
#include "core/engine.h"
#include "core/evlog.h"

#define CAP 4096

static size_t play(struct event *ev, uint64_t seed)
{
	struct engine_config c;
	memset(&c, 0, sizeof c);
	c.bpm = 120;
	c.density = 1;
	c.steps = 16;
	c.octaves = 2;
	c.steps_per_beat = 4;
	c.beats_per_bar = 4;
	c.master_volume = 0.8;
	c.filter_cutoff = 2000;
	c.interval_min_s = c.interval_max_s = 60;
	c.idle_timeout_ms = 60000;
	engine_config_sanitize(&c);
	struct engine *e = engine_new(&c, seed);
	if (!e)
		return 0;
	size_t n = 0, k;
	while ((k = engine_advance(e, 10 * NS_PER_SEC, ev + n, CAP - n)) > 0 && n + k < CAP)
		n += k;
	engine_free(e);
	return n;
}

int main(void)
{
	static struct event a[CAP], b[CAP];
	size_t na = play(a, 7), nb = play(b, 7), notes = 0;
	for (size_t i = 0; i < na; i++)
		notes += a[i].type == EV_NOTE;
	if (notes == 0 || na != nb) {
		fprintf(stderr, "core_pure: %zu notes in %zu events, then %zu events\n", notes, na,
		        nb);
		return 1;
	}
	for (size_t i = 0; i < na; i++) {
		char line[EVLOG_LINE_MAX], json[CUE_JSON_MAX];
		uint8_t frame[64];
		struct cue q;
		if (a[i].type != b[i].type || a[i].t != b[i].t ||
		    (a[i].type == EV_NOTE && a[i].u.note.pitch != b[i].u.note.pitch)) {
			fprintf(stderr, "core_pure: event %zu differs between two runs\n", i);
			return 1;
		}
		if (evlog_logged((enum event_type)a[i].type) &&
		    evlog_format(&a[i], NULL, 0, line, sizeof line) == 0) {
			fprintf(stderr, "core_pure: event %zu has no log line\n", i);
			return 1;
		}
		if (cue_from_event(&a[i], &q) &&
		    (cue_encode_frame(&q, frame, sizeof frame) == 0 ||
		     cue_format_json(&q, NULL, NULL, json, sizeof json) == 0)) {
			fprintf(stderr, "core_pure: event %zu has a cue that cannot be sent\n", i);
			return 1;
		}
	}
	printf("core_pure: %zu events, %zu notes, the same twice\n", na, notes);
	return 0;
}
