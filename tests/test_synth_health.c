/* Tests of the sound detector: silence while notes should sound is a fault,
 * a musician's silence never is, and the steps escalate from restarting
 * scsynth to the audio stack to systemd's watchdog, each after the previous
 * one had its time, and start over once the sound is healthy again. */
#include "synth/synth_health.h"
#include "testlib.h"

#define MS 1000000LL
#define S 1000000000LL

/* A simulated run: meter replies every 200 ms with `peak`, the detector
 * ticking every 100 ms, the link ready (since ready_ns) or not. */
struct sim {
	struct synth_health h;
	int64_t now, ready_ns, meter_ns;
	bool ready, curable, meter_on;
	float peak;
	int64_t span_start, span_end; /* audible notes scheduled */
	int actions[8];               /* how many of each action */
	int64_t last_action_at;
	enum synth_health_action last;
	int64_t down_until; /* a restart brings the link back then */
};

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof *s);
	synth_health_init(&s->h, NULL);
	s->ready = true;
	s->curable = true;
	s->meter_on = true;
	s->span_end = -1;
	s->last = SYNTH_HEALTH_NONE;
	s->down_until = -1;
}

/* Notes sound continuously from now on (the span keeps growing). */
static void notes_on(struct sim *s)
{
	s->span_start = s->now;
	s->span_end = INT64_MAX / 2;
}

static void notes_off(struct sim *s)
{
	s->span_end = s->now;
}

/* Runs until `until`; actions are counted (a restart takes the link down
 * for 300 ms when restart_down is set). */
static void sim_run(struct sim *s, int64_t until, bool restart_down)
{
	while (s->now < until) {
		s->now += 100 * MS;
		if (s->down_until >= 0 && s->now >= s->down_until) {
			s->ready = true;
			s->ready_ns = s->now;
			s->down_until = -1;
		}
		if (s->ready && s->meter_on && s->now % (200 * MS) == 0) {
			bool exp = synth_health_expected(&s->h, s->span_start, s->span_end, s->now);
			s->meter_ns = s->now;
			synth_health_meter(&s->h, s->now, s->peak, exp);
		}
		enum synth_health_action a = synth_health_tick(&s->h, s->now, s->ready, s->ready_ns,
		                                               s->meter_ns, s->curable);
		if (a != SYNTH_HEALTH_NONE) {
			s->actions[a]++;
			s->last = a;
			s->last_action_at = s->now;
			if (restart_down && a != SYNTH_HEALTH_WITHHOLD_WATCHDOG) {
				s->ready = false;
				s->down_until = s->now + 300 * MS;
			}
		}
	}
}

static int total_actions(const struct sim *s)
{
	int n = 0;
	for (int i = 1; i < 8; i++)
		n += s->actions[i];
	return n;
}

static void test_sound_is_healthy(void)
{
	struct sim s;
	sim_init(&s);
	s.peak = 0.2f;
	notes_on(&s);
	sim_run(&s, 600 * S, true);
	CU_ASSERT_EQUAL(total_actions(&s), 0);
	CU_ASSERT_EQUAL(s.h.sound, SYNTH_SOUND_OK);
	CU_ASSERT_TRUE(synth_health_watchdog_ok(&s.h));
}

/* Density 0, volume 0 or a pause schedule no audible notes: a silent output
 * for ten minutes is right, not a fault. */
static void test_musicians_silence_is_no_fault(void)
{
	struct sim s;
	sim_init(&s);
	s.peak = 0.0f;
	sim_run(&s, 600 * S, true);
	CU_ASSERT_EQUAL(total_actions(&s), 0);
	CU_ASSERT_EQUAL(s.h.sound, SYNTH_SOUND_OK);
	/* notes, then a pause: the silence after the last note is fine too */
	s.peak = 0.2f;
	notes_on(&s);
	sim_run(&s, 610 * S, true);
	notes_off(&s);
	s.peak = 0.0f;
	sim_run(&s, 1200 * S, true);
	CU_ASSERT_EQUAL(total_actions(&s), 0);
	CU_ASSERT_TRUE(synth_health_watchdog_ok(&s.h));
}

static void test_silent_output_restarts_scsynth(void)
{
	struct sim s;
	sim_init(&s);
	s.peak = 0.2f;
	notes_on(&s);
	sim_run(&s, 10 * S, false);
	s.peak = 0.0f; /* the output goes dead while notes play */
	sim_run(&s, 12800 * MS, false);
	CU_ASSERT_EQUAL(total_actions(&s), 0); /* 2.8 s of silence: not yet */
	sim_run(&s, 14 * S, false);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], 1);
	CU_ASSERT_EQUAL(s.h.sound, SYNTH_SOUND_SILENT);
	CU_ASSERT_TRUE(s.last_action_at >= 13 * S && s.last_action_at <= 13400 * MS);
	CU_ASSERT_TRUE(synth_health_watchdog_ok(&s.h));
}

static void test_short_silence_is_no_fault(void)
{
	struct sim s;
	sim_init(&s);
	notes_on(&s);
	for (int i = 0; i < 100; i++) {
		s.peak = 0.0f; /* 2.6 s of silence ... */
		sim_run(&s, s.now + 2600 * MS, false);
		s.peak = 0.1f; /* ... then sound again */
		sim_run(&s, s.now + 400 * MS, false);
	}
	CU_ASSERT_EQUAL(total_actions(&s), 0);
}

/* The ladder: scsynth, then the stack, then the watchdog, each after the
 * previous step had its grace; without systemd the stack keeps being
 * restarted every retry_ns. */
static void test_escalation_ladder(void)
{
	struct sim s;
	sim_init(&s);
	notes_on(&s);
	s.peak = 0.0f;
	sim_run(&s, 3400 * MS, true);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], 1);
	int64_t t1 = s.last_action_at;
	sim_run(&s, t1 + 9 * S, true);
	CU_ASSERT_EQUAL(total_actions(&s), 1); /* within the grace */
	sim_run(&s, t1 + 11 * S, true);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_STACK], 1);
	CU_ASSERT_TRUE(synth_health_watchdog_ok(&s.h));
	int64_t t2 = s.last_action_at;
	CU_ASSERT_TRUE(t2 - t1 >= 10 * S);
	sim_run(&s, t2 + 11 * S, true);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_WITHHOLD_WATCHDOG], 1);
	CU_ASSERT_FALSE(synth_health_watchdog_ok(&s.h));
	int64_t t3 = s.last_action_at;
	CU_ASSERT_TRUE(t3 - t2 >= 10 * S);
	sim_run(&s, t3 + 95 * S, true);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_STACK], 1 + 3);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], 1);
	CU_ASSERT_FALSE(synth_health_watchdog_ok(&s.h));
}

/* Sound back after a step: 30 s of health start the ladder over, and the
 * watchdog is fed again. */
static void test_recovery_starts_over(void)
{
	struct sim s;
	sim_init(&s);
	notes_on(&s);
	s.peak = 0.0f;
	sim_run(&s, 40 * S, true);
	CU_ASSERT_FALSE(synth_health_watchdog_ok(&s.h));
	s.peak = 0.2f;
	sim_run(&s, 60 * S, true);
	CU_ASSERT_FALSE(synth_health_watchdog_ok(&s.h)); /* 20 s: not yet */
	sim_run(&s, 75 * S, true);
	CU_ASSERT_TRUE(synth_health_watchdog_ok(&s.h));
	CU_ASSERT_EQUAL(s.h.step, 0);
	int before = s.actions[SYNTH_HEALTH_RESTART_SERVER];
	s.peak = 0.0f;
	sim_run(&s, 80 * S, true);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], before + 1);
	CU_ASSERT_EQUAL(s.last, SYNTH_HEALTH_RESTART_SERVER);
}

/* A step that worked (the sound came back) needs no grace: a new fault a
 * few seconds later is acted on at once, one step further (the ladder
 * starts over only after 30 s of health). */
static void test_new_fault_after_recovery(void)
{
	struct sim s;
	sim_init(&s);
	notes_on(&s);
	s.peak = 0.2f;
	sim_run(&s, 5 * S, true);
	s.meter_on = false; /* hung */
	sim_run(&s, 7500 * MS, true);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], 1);
	int64_t t1 = s.last_action_at;
	s.meter_on = true; /* the restart worked */
	sim_run(&s, t1 + 3 * S, true);
	CU_ASSERT_EQUAL(s.h.sound, SYNTH_SOUND_OK);
	s.meter_on = false; /* hung again */
	sim_run(&s, t1 + 5500 * MS, true);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_STACK], 1);
	CU_ASSERT_TRUE(s.last_action_at - t1 < 6 * S);
	s.meter_on = true;
	sim_run(&s, t1 + 40 * S, true);
	CU_ASSERT_EQUAL(s.h.step, 0);
	CU_ASSERT_EQUAL(total_actions(&s), 2);
}

/* A hung server: no meter reply for 2 s while the link is ready. */
static void test_meter_stops(void)
{
	struct sim s;
	sim_init(&s);
	s.peak = 0.2f;
	sim_run(&s, 5 * S, false);
	s.meter_on = false;
	sim_run(&s, 6900 * MS, false);
	CU_ASSERT_EQUAL(total_actions(&s), 0);
	sim_run(&s, 7200 * MS, false);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], 1);
	CU_ASSERT_EQUAL(s.h.sound, SYNTH_SOUND_NO_METER);
}

/* The engine itself stopped for 4 s (SIGSTOP, a starved machine): the
 * replies it could not read are no fault of the server; a server that
 * then stays quiet is found 2 s after the engine runs again. */
static void test_own_stall_is_no_fault(void)
{
	struct sim s;
	sim_init(&s);
	s.peak = 0.2f;
	notes_on(&s);
	sim_run(&s, 5 * S, false);
	s.now += 4 * S; /* the engine did not run: no ticks, no replies read */
	synth_health_resume(&s.h, s.now);
	sim_run(&s, 60 * S, false);
	CU_ASSERT_EQUAL(total_actions(&s), 0);
	CU_ASSERT_EQUAL(s.h.sound, SYNTH_SOUND_OK);

	/* Without resume, the same gap reads as a server that stopped metering. */
	sim_init(&s);
	s.peak = 0.2f;
	notes_on(&s);
	sim_run(&s, 5 * S, false);
	s.now += 4 * S;
	sim_run(&s, 9100 * MS, false);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], 1);

	/* After a resume the meter time-out still works. */
	sim_init(&s);
	s.peak = 0.2f;
	sim_run(&s, 5 * S, false);
	s.now += 4 * S;
	synth_health_resume(&s.h, s.now);
	s.meter_on = false;
	sim_run(&s, 10900 * MS, false);
	CU_ASSERT_EQUAL(total_actions(&s), 0);
	sim_run(&s, 11200 * MS, false);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], 1);
}

/* A link that stays down: a fault after 10 s when a restart can cure it,
 * never when it cannot (scsynth not installed): then the watchdog is fed. */
static void test_link_down(void)
{
	struct sim s;
	sim_init(&s);
	s.ready = false;
	sim_run(&s, 9800 * MS, false);
	CU_ASSERT_EQUAL(total_actions(&s), 0);
	CU_ASSERT_EQUAL(s.h.sound, SYNTH_SOUND_DOWN);
	sim_run(&s, 10200 * MS, false);
	CU_ASSERT_EQUAL(s.actions[SYNTH_HEALTH_RESTART_SERVER], 1);

	sim_init(&s);
	s.ready = false;
	s.curable = false;
	sim_run(&s, 3600 * S, false);
	CU_ASSERT_EQUAL(total_actions(&s), 0);
	CU_ASSERT_TRUE(synth_health_watchdog_ok(&s.h));
}

/* A reply covers 200 ms and travels up to 50 ms; notes less than 100 ms
 * apart make one span: a span counts when it covers more than 150 ms of
 * the 250 ms before the reply, so that some note sounds in the window
 * measured, wherever it lies. */
static void test_expected_window(void)
{
	struct synth_health h;
	synth_health_init(&h, NULL);
	int64_t now = 10 * S;
	CU_ASSERT_TRUE(synth_health_expected(&h, now - 250 * MS, now, now));
	CU_ASSERT_TRUE(synth_health_expected(&h, now - 160 * MS, now + 5 * S, now));
	CU_ASSERT_TRUE(synth_health_expected(&h, now - 5 * S, now - 90 * MS, now));
	CU_ASSERT_FALSE(synth_health_expected(&h, now - 159 * MS, now, now));
	CU_ASSERT_FALSE(synth_health_expected(&h, now - 5 * S, now - 91 * MS, now));
	CU_ASSERT_FALSE(synth_health_expected(&h, now + 1 * MS, now + 5 * S, now)); /* not yet */
	CU_ASSERT_FALSE(synth_health_expected(&h, now - 1 * S, now - 2 * S, now));  /* none */
	CU_ASSERT_STRING_EQUAL(synth_sound_name(SYNTH_SOUND_NO_METER), "no_meter");
	CU_ASSERT_STRING_EQUAL(synth_health_action_name(SYNTH_HEALTH_RESTART_STACK),
	                       "restart_stack");
}

/*
 * The control thread's pace (synth_health_next_tick).  The thread runs
 * when the detector is due, when a heartbeat is due (every hb_ns; 0 none)
 * or when the real-time side rings for the first notes after a quiet
 * spell; each run reads the meter replies that came since in one batch
 * (every 200 ms from the phase, until the server stops metering), then runs
 * the detector and asks when it is due next.
 */
struct pace {
	struct synth_health h;
	int64_t now, hb_ns, next_tick, next_hb;
	int64_t next_reply, meter_stop, meter_ns;
	int64_t dead_at; /* replies from then on measure silence */
	int64_t span_start, span_end;
	float peak;
	bool watched; /* a reader looks at the figures (synth_watch()) */
	int runs;
	int64_t last_run, longest_gap; /* between runs, since pace_gaps() */
	int64_t fault_at;
	enum synth_health_action first;
};

static void pace_init(struct pace *p, int64_t phase, int64_t hb_ns)
{
	memset(p, 0, sizeof *p);
	synth_health_init(&p->h, NULL);
	p->hb_ns = hb_ns;
	p->next_hb = hb_ns ? 0 : INT64_MAX;
	p->next_reply = phase;
	p->meter_stop = INT64_MAX;
	p->dead_at = INT64_MAX;
	p->span_end = -1;
	p->peak = 0.0f;
	p->fault_at = -1;
	p->watched = false;
}

static void pace_run_once(struct pace *p)
{
	while (p->next_reply <= p->now && p->next_reply < p->meter_stop) {
		bool exp = synth_health_expected(&p->h, p->span_start, p->span_end, p->next_reply);
		float peak = p->next_reply >= p->dead_at ? 0.0f : p->peak;
		synth_health_meter(&p->h, p->next_reply, peak, exp);
		p->meter_ns = p->next_reply;
		p->next_reply += 200 * MS;
	}
	enum synth_health_action a = synth_health_tick(&p->h, p->now, true, 0, p->meter_ns, true);
	if (a != SYNTH_HEALTH_NONE && p->fault_at < 0) {
		p->fault_at = p->now;
		p->first = a;
	}
	p->next_tick =
	    synth_health_next_tick(&p->h, p->now, p->span_end, 0, p->meter_ns, p->watched);
	CU_ASSERT_TRUE(p->next_tick > p->now);
	if (p->now >= p->next_hb)
		p->next_hb = p->now + p->hb_ns;
	if (p->now - p->last_run > p->longest_gap)
		p->longest_gap = p->now - p->last_run;
	p->last_run = p->now;
	p->runs++;
}

/* Runs until `until` or the first fault. */
static void pace_until(struct pace *p, int64_t until)
{
	while (p->fault_at < 0) {
		int64_t t = p->next_tick < p->next_hb ? p->next_tick : p->next_hb;
		if (t > until)
			break;
		p->now = t;
		pace_run_once(p);
	}
	p->now = until;
}

/* The real-time side schedules audible notes over [start, end] and rings. */
static void pace_notes(struct pace *p, int64_t start, int64_t end)
{
	p->span_start = start;
	p->span_end = end;
	pace_run_once(p);
}

static void pace_gaps(struct pace *p)
{
	p->longest_gap = 0;
}

/* Nothing to sound for ten minutes: the detector runs about once every
 * 2 s (when the meter could go stale), not four times a second, and the
 * heartbeat's runs are the only others. */
static void test_quiet_pace(void)
{
	struct pace p;
	pace_init(&p, 70 * MS, 0);
	pace_until(&p, 600 * S);
	CU_ASSERT_EQUAL(p.fault_at, -1);
	CU_ASSERT_TRUE(p.runs <= 600 / 1.8 + 5);
	CU_ASSERT_TRUE(p.runs >= 600 / 2);
	CU_ASSERT_EQUAL(p.h.sound, SYNTH_SOUND_OK);
	pace_init(&p, 70 * MS, 1 * S);
	pace_until(&p, 600 * S);
	CU_ASSERT_EQUAL(p.fault_at, -1);
	CU_ASSERT_TRUE(p.runs <= 600 + 10);
}

/* A server that hangs while nothing sounds is found as soon as the meter is
 * 2 s late, whatever the phase of its replies and of the runs: never later
 * than at the fixed 250 ms pace (2.25 s). */
static void test_quiet_pace_finds_hung_server(void)
{
	int64_t worst = 0, best = INT64_MAX;
	for (int k = 0; k < 200; k++) {
		struct pace p;
		pace_init(&p, (k * 7 % 20) * 10 * MS, k % 2 ? 1 * S : 0);
		int64_t stop = 30 * S + k * 37 * MS;
		pace_until(&p, stop);
		p.meter_stop = stop;
		pace_until(&p, stop + 10 * S);
		CU_ASSERT_EQUAL(p.first, SYNTH_HEALTH_RESTART_SERVER);
		CU_ASSERT_EQUAL(p.h.sound, SYNTH_SOUND_NO_METER);
		int64_t took = p.fault_at - stop;
		if (took > worst)
			worst = took;
		if (took < best)
			best = took;
	}
	CU_ASSERT_TRUE(worst <= 2 * S);
	CU_ASSERT_TRUE(best >= 1800 * MS);
}

/* While a reader looks the detector runs every 250 ms (the meter's figures
 * fresh for the console) and a dead output is found as at the fixed pace:
 * 3 s of silence, 3.0 .. 3.4 s after it went dead. */
static void test_playing_pace(void)
{
	struct pace p;
	pace_init(&p, 30 * MS, 1 * S);
	p.watched = true; /* the console is attached */
	pace_until(&p, 5 * S);
	pace_notes(&p, 5 * S + 50 * MS, INT64_MAX / 2);
	p.peak = 0.2f;
	pace_gaps(&p);
	pace_until(&p, 10 * S);
	CU_ASSERT_EQUAL(p.fault_at, -1);
	CU_ASSERT_TRUE(p.longest_gap <= 250 * MS);
	CU_ASSERT_TRUE(p.runs >= 4 * 5);
	p.peak = 0.0f; /* the output goes dead while notes play */
	pace_until(&p, 20 * S);
	CU_ASSERT_EQUAL(p.first, SYNTH_HEALTH_RESTART_SERVER);
	CU_ASSERT_EQUAL(p.h.sound, SYNTH_SOUND_SILENT);
	CU_ASSERT_TRUE(p.fault_at >= 13 * S && p.fault_at <= 13400 * MS);
}

/* Notes after a quiet spell, nobody looking: the ring brings a run at
 * once and the playing pace (a run a second); it lasts while they sound
 * and 2 s after, then the pace is quiet again.  A dead output in a later
 * spell is found as soon as in a long one. */
static void test_notes_after_quiet(void)
{
	struct pace p;
	pace_init(&p, 130 * MS, 1 * S);
	pace_until(&p, 10300 * MS);
	CU_ASSERT_TRUE(p.next_tick - p.now > 1 * S); /* quiet */
	pace_notes(&p, 10350 * MS, 11300 * MS);
	p.peak = 0.2f;
	CU_ASSERT_EQUAL(p.next_tick, 10300 * MS + 1 * S);
	pace_gaps(&p);
	pace_until(&p, 13300 * MS);
	CU_ASSERT_TRUE(p.longest_gap <= 1 * S);
	p.peak = 0.0f;
	pace_until(&p, 14 * S);
	CU_ASSERT_TRUE(p.next_tick - p.last_run > 1 * S); /* quiet again */
	pace_until(&p, 40 * S);
	CU_ASSERT_EQUAL(p.fault_at, -1); /* silence after the notes is right */
	pace_notes(&p, 40 * S + 50 * MS, INT64_MAX / 2);
	pace_until(&p, 60 * S);
	CU_ASSERT_EQUAL(p.first, SYNTH_HEALTH_RESTART_SERVER);
	CU_ASSERT_EQUAL(p.h.sound, SYNTH_SOUND_SILENT);
	CU_ASSERT_TRUE(p.fault_at >= 43 * S && p.fault_at <= 43400 * MS);
}

/* The engine's own stall while quiet: no fault, and a server that then
 * stays silent is found 2 s after the engine runs again. */
static void test_quiet_pace_own_stall(void)
{
	struct pace p;
	pace_init(&p, 10 * MS, 1 * S);
	pace_until(&p, 20 * S);
	p.now += 4 * S; /* stopped: no runs, replies wait in the socket */
	synth_health_resume(&p.h, p.now);
	pace_run_once(&p);
	pace_until(&p, 60 * S);
	CU_ASSERT_EQUAL(p.fault_at, -1);
	int64_t back = p.now;
	p.now += 4 * S;
	synth_health_resume(&p.h, p.now);
	p.meter_stop = back; /* and the server hung meanwhile */
	int64_t resumed = p.now;
	pace_run_once(&p);
	pace_until(&p, 80 * S);
	CU_ASSERT_EQUAL(p.first, SYNTH_HEALTH_RESTART_SERVER);
	CU_ASSERT_TRUE(p.fault_at - resumed >= 2 * S && p.fault_at - resumed <= 2 * S + 1 * MS);
}

/* Notes sound from 5 s; the output goes dead at `dead` or the server hangs
 * at `hang` (0: never); returns when the first fault was found (-1 none),
 * with the pace's runs and longest gap between 6 and 66 s in *p. */
static int64_t pace_playing(struct pace *p, int k, bool watched, int64_t dead, int64_t hang)
{
	pace_init(p, (k * 7 % 20) * 10 * MS, 1 * S);
	p->watched = watched;
	pace_until(p, 5 * S);
	pace_notes(p, 5 * S + 50 * MS, INT64_MAX / 2);
	p->peak = 0.2f;
	pace_until(p, 6 * S);
	pace_gaps(p);
	int runs = p->runs;
	pace_until(p, 66 * S);
	runs = p->runs - runs;
	int64_t gap = p->longest_gap;
	if (dead)
		p->dead_at = dead;
	if (hang)
		p->meter_stop = hang;
	pace_until(p, 100 * S);
	p->runs = runs;
	p->longest_gap = gap;
	return p->fault_at;
}

/* Notes sound and nobody looks: the detector runs once a second (with the
 * heartbeat), not four times; a reader brings the 250 ms pace back at its
 * next run; a dead output is found at most one 250 ms tick later than
 * when somebody looks (3 s of silence), a hung server as soon (2 s after
 * its last reply). */
static void test_playing_unwatched_pace(void)
{
	for (int k = 0; k < 40; k++) {
		struct pace p, w;
		CU_ASSERT_EQUAL(pace_playing(&p, k, false, 0, 0), -1);
		CU_ASSERT_TRUE(p.runs <= 61 && p.runs >= 59);
		CU_ASSERT_TRUE(p.longest_gap <= 1 * S);
		CU_ASSERT_EQUAL(pace_playing(&w, k, true, 0, 0), -1);
		CU_ASSERT_TRUE(w.runs >= 4 * 59);
		CU_ASSERT_TRUE(w.longest_gap <= 250 * MS);

		p.watched = true; /* a reader comes (and rings: a run now) */
		pace_run_once(&p);
		CU_ASSERT_EQUAL(p.next_tick, p.now + 250 * MS);

		int64_t dead = 70 * S + k * 37 * MS;
		int64_t found = pace_playing(&p, k, false, dead, 0);
		int64_t found_w = pace_playing(&w, k, true, dead, 0);
		CU_ASSERT_EQUAL(p.first, SYNTH_HEALTH_RESTART_SERVER);
		CU_ASSERT_EQUAL(p.h.sound, SYNTH_SOUND_SILENT);
		CU_ASSERT_TRUE(found - dead >= 2800 * MS && found - dead <= 3400 * MS);
		CU_ASSERT_TRUE(found >= found_w && found - found_w <= 250 * MS);

		int64_t hang = 70 * S + k * 37 * MS;
		found = pace_playing(&p, k, false, 0, hang);
		found_w = pace_playing(&w, k, true, 0, hang);
		CU_ASSERT_EQUAL(p.first, SYNTH_HEALTH_RESTART_SERVER);
		CU_ASSERT_EQUAL(p.h.sound, SYNTH_SOUND_NO_METER);
		CU_ASSERT_TRUE(found - hang <= 2 * S && found - hang >= 1800 * MS);
		CU_ASSERT_TRUE(found <= found_w);
	}
}

/* A reader looks while nothing sounds (the console attached to a silent
 * instrument): the meter is read every 250 ms for it; when it leaves, the
 * quiet pace comes back (a run about every 2 s). */
static void test_watched_quiet_pace(void)
{
	struct pace p;
	pace_init(&p, 70 * MS, 1 * S);
	pace_until(&p, 20 * S);
	CU_ASSERT_TRUE(p.next_tick - p.last_run > 1 * S);
	p.watched = true;
	pace_run_once(&p); /* the reader's ring */
	pace_gaps(&p);
	int runs = p.runs;
	pace_until(&p, 40 * S);
	CU_ASSERT_TRUE(p.longest_gap <= 250 * MS);
	CU_ASSERT_TRUE(p.runs - runs >= 4 * 19);
	CU_ASSERT_TRUE(p.h.sound == SYNTH_SOUND_OK && p.fault_at == -1);
	p.watched = false;
	pace_until(&p, 41 * S);
	runs = p.runs;
	pace_until(&p, 81 * S);
	CU_ASSERT_TRUE(p.runs - runs <= 40); /* the heartbeat's, a second */
	CU_ASSERT_EQUAL(p.fault_at, -1);
}

TEST_SUITE(synth_health, NULL, NULL, TEST_CASE(test_sound_is_healthy),
           TEST_CASE(test_musicians_silence_is_no_fault),
           TEST_CASE(test_silent_output_restarts_scsynth),
           TEST_CASE(test_short_silence_is_no_fault), TEST_CASE(test_escalation_ladder),
           TEST_CASE(test_recovery_starts_over), TEST_CASE(test_new_fault_after_recovery),
           TEST_CASE(test_meter_stops), TEST_CASE(test_own_stall_is_no_fault),
           TEST_CASE(test_link_down), TEST_CASE(test_expected_window), TEST_CASE(test_quiet_pace),
           TEST_CASE(test_quiet_pace_finds_hung_server), TEST_CASE(test_playing_pace),
           TEST_CASE(test_notes_after_quiet), TEST_CASE(test_quiet_pace_own_stall),
           TEST_CASE(test_playing_unwatched_pace), TEST_CASE(test_watched_quiet_pace))
