/*
 * synth_health: does the instrument sound when it should?
 *
 * A pure detector (no clock, no I/O: times are arguments) fed by the synth
 * backend's control thread.  The server measures its own output (a peak/RMS
 * meter in me_fx replying a few times a second); the real-time side keeps
 * the span of audible notes it scheduled.  Each meter reply is compared with
 * that span: notes should sound over the reply's window but the output stays
 * below the floor for silent_ns counts as silent-by-fault.  No reply for
 * stale_ns while the server answers means its audio has stopped; a link not
 * ready for down_ns is a server that does not come back.  A musician's
 * density 0, volume 0 or pause schedules no audible notes, so quiet is then
 * right, never a fault.
 *
 * On a fault the detector escalates one step at a time, each after the
 * previous one had grace_ns to work (or worked, and a new fault came):
 * restart the server, then the whole audio stack, then withhold systemd's
 * watchdog (so systemd restarts the service; without systemd the stack
 * keeps being restarted every retry_ns).  reset_ns of healthy sound after
 * a step starts over.  A fault
 * no restart can cure (scsynth not installed, defs refused) never escalates.
 * See doc/live.md.  Any thread, one caller at a time.
 */
#ifndef ME_SYNTH_SYNTH_HEALTH_H
#define ME_SYNTH_SYNTH_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

/* What the detector says about the sound, as the snapshot shows it. */
enum synth_sound {
	SYNTH_SOUND_UNKNOWN,  /* no reading yet */
	SYNTH_SOUND_OK,       /* the output sounds (or nothing should) and the meter runs */
	SYNTH_SOUND_SILENT,   /* notes should sound, the output stays below the floor */
	SYNTH_SOUND_NO_METER, /* the server answers but its output meter does not */
	SYNTH_SOUND_DOWN,     /* the server is not ready */
	SYNTH_SOUND_COUNT
};

enum synth_health_action {
	SYNTH_HEALTH_NONE,
	SYNTH_HEALTH_RESTART_SERVER,   /* restart scsynth (or set up an external one again) */
	SYNTH_HEALTH_RESTART_STACK,    /* restart jackd and scsynth */
	SYNTH_HEALTH_WITHHOLD_WATCHDOG /* stop feeding systemd's watchdog */
};

struct synth_health_config {
	float floor;       /* peak below this is silence (full scale 1) */
	int64_t window_ns; /* what one meter reply covers */
	int64_t silent_ns; /* expected-but-silent time that makes a fault */
	int64_t stale_ns;  /* no meter reply this long while ready: a fault */
	int64_t down_ns;   /* not ready this long: a fault */
	int64_t grace_ns;  /* a step's time to work before the next */
	int64_t retry_ns;  /* with the watchdog withheld: stack restarts this often */
	int64_t reset_ns;  /* healthy this long after a step: start over */
};

struct synth_health {
	struct synth_health_config cfg;
	enum synth_sound sound;
	int step;              /* steps taken: 0 none .. 3 watchdog withheld */
	int64_t step_at;       /* when the last step was taken */
	int64_t silent_run;    /* expected-but-silent time so far */
	int64_t down_since;    /* when the link was last seen not ready, -1 while ready */
	int64_t healthy_since; /* start of the current healthy stretch, -1 none */
	uint64_t faults;       /* faults found (each may cause a step) */
	bool silent;           /* silent-by-fault until the output sounds again */
	bool recovered;        /* the path was healthy since the last step */
	bool was_ready;
	int64_t ready_at;   /* ready_ns of the readiness seen last */
	int64_t resumed_at; /* the caller ran again after a stall of its own, 0 never */
};

/* Defaults: floor 1e-5 (-100 dBFS), window 200 ms, silent 3 s, stale 2 s,
 * down 10 s, grace 10 s, retry 30 s, reset 30 s. */
void synth_health_default_config(struct synth_health_config *c);
/* cfg NULL = the defaults. */
void synth_health_init(struct synth_health *h, const struct synth_health_config *cfg);

/*
 * Whether notes should sound over a meter window ending at now, given the
 * span [start, end] of audible notes the real-time side scheduled (engine
 * times, CLOCK_MONOTONIC ns; end < start when none; notes less than
 * SYNTH_HEALTH_GAP_NS apart make one span): the span must cover enough of
 * the window, and of a margin before it for the reply's travel, that some
 * note sounds inside the window measured.
 */
#define SYNTH_HEALTH_GAP_NS INT64_C(100000000)
bool synth_health_expected(const struct synth_health *h, int64_t start, int64_t end, int64_t now);

/* A meter reply at now: the output's peak over its window, and whether
 * notes should have sounded there (synth_health_expected()). */
void synth_health_meter(struct synth_health *h, int64_t now, float peak, bool expected);

/*
 * Called a few times a second: is the link ready (and since when), when
 * did the last meter reply arrive (0 never), and could a restart cure
 * what keeps the link down (false for a missing program or refused defs).
 * Returns the step to take now, if any.
 */
enum synth_health_action synth_health_tick(struct synth_health *h, int64_t now, bool ready,
                                           int64_t ready_ns, int64_t meter_ns, bool curable);

/*
 * The caller itself did not run for a while (its process was stopped, or
 * the machine starved it) and runs again at now: the meter replies it
 * could not read in that time are no fault of the server, so the meter's
 * time-out counts from now.  A link that is down stays down: its time is
 * the server's.
 */
void synth_health_resume(struct synth_health *h, int64_t now);

/*
 * The pace of the caller (the synth backend's control thread, which reads
 * the meter's replies when it runs): when should it run the detector
 * next, given that it ran it at now?  Every SYNTH_HEALTH_TICK_NS while a
 * reader looks at the figures (watched: a console, an HTTP client asked
 * for them lately; the meter's figures stay fresh for it), while the sound
 * is not ok or a step is still being judged, and while the link is not
 * ready.  Otherwise:
 *  - notes should sound or did so less than SYNTH_HEALTH_HOLD_NS ago
 *    (span_end: the end of the span of audible notes scheduled): once every
 *    SYNTH_HEALTH_UNWATCHED_TICK_NS, or when the meter would go stale if
 *    that is sooner, and every SYNTH_HEALTH_TICK_NS again from the first
 *    quiet reply while notes should sound, so a hung server and 3 s of
 *    silence are found as soon as at the 250 ms pace (within a tick);
 *  - nothing sounds: nothing can go wrong before the meter goes stale, so
 *    the next run is due when it would (its last reply, the readiness or
 *    the resume, whichever is latest, plus stale_ns): a hung server is
 *    found as soon as before, and a silent instrument costs next to no
 *    wake-ups.  The caller runs it sooner when audible notes are
 *    scheduled meanwhile.
 */
#define SYNTH_HEALTH_TICK_NS INT64_C(250000000)
#define SYNTH_HEALTH_HOLD_NS INT64_C(2000000000)
#define SYNTH_HEALTH_UNWATCHED_TICK_NS INT64_C(1000000000)
int64_t synth_health_next_tick(const struct synth_health *h, int64_t now, int64_t span_end,
                               int64_t ready_ns, int64_t meter_ns, bool watched);

/* Whether systemd's watchdog may be fed (false once the last step is taken). */
bool synth_health_watchdog_ok(const struct synth_health *h);

const char *synth_sound_name(enum synth_sound s);
const char *synth_health_action_name(enum synth_health_action a);

#endif
