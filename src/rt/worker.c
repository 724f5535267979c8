/*
 * worker: the real-time thread that owns the core (see worker.h).
 *
 * Design.  One loop: sleep until something is due, armed as an absolute
 * CLOCK_MONOTONIC deadline on a timerfd with TFD_TIMER_ABSTIME (the
 * semantics of clock_nanosleep(TIMER_ABSTIME): no drift, no relative-time
 * arithmetic), in one ppoll() together with two doorbells: the MIDI input
 * queue's wake-up eventfd (armed with inq_arm(), so the input thread writes
 * it at most once per sleep) and an eventfd that command producers and
 * readers write.  A MIDI message is therefore handled as soon as it
 * arrives, and no wake-up can be lost between the check and the sleep.
 * Then: apply a pending configuration, drain the MIDI queue and the command
 * rings into the engine, advance the engine to now + look-ahead, hand the
 * events to every sink, record latencies, and publish a snapshot when a
 * reader asked for one.  Engine time is CLOCK_MONOTONIC minus the start
 * time (base); events leave the worker in monotonic time.
 *
 * Wake-ups.  There is no fixed period: the deadline is the earliest of the
 * engine's next unit (engine_next_due(): a step, a mutation, a fade tick,
 * the idle timeout) one look-ahead before its time, so every sequenced
 * event is handed out exactly one look-ahead early; a sink's own wish
 * (next_due(): the LED port's next frame, a MIDI out byte due at its exact
 * time); and the heartbeat (heartbeat_ns, the longest sleep: what the
 * systemd watchdog's feeder reads, half its feeding period; a minute
 * without a watchdog, as no reader needs a loop on a clock).  Inputs,
 * commands, a reload and a snapshot request ring the doorbell, and the
 * deadline is computed again after every loop, so a tempo change or a press
 * that makes something due earlier shortens the sleep.  At 120 BPM in
 * sixteenths this is about 8 loops a second instead of 100; paused, one a
 * heartbeat.
 *
 * Snapshots.  Readers (console, HTTP, presets) call worker_snapshot(): when
 * the latest publication is older than snapshot_period_ns they raise a
 * request, ring the doorbell and wait on an eventfd the worker writes after
 * publishing (bounded: a stalled worker yields the older copy).  So the
 * snapshot is as fresh as before (at most snapshot_period_ns old) and is
 * built only as often as somebody reads it.
 *
 * Stalls.  When the process could not run for a while (stopped, starved,
 * swapping), the steps it missed are not caught up in one burst: before
 * advancing, a step due more than late_drop_ns ago makes the engine skip to
 * the first step of its grid at or after now + look-ahead (engine_resync),
 * and any note still older than that (a button pressed during the stall) is
 * taken out of the list before the sinks see it.  Parameter changes are
 * kept.  Both are counted in the snapshot and logged once per stall.
 *
 * Everything the loop touches is allocated in worker_new().  The only
 * threads that share state with it do so through lock-free rings, atomics,
 * eventfds and the pub triple buffer.  Runs on its own thread; the
 * functions in worker.h say which thread may call them.
 */
#include "rt/worker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/scale.h"
#include "rt/inq.h"
#include "rt/log.h"
#include "rt/pub.h"
#include "rt/ring.h"
#include "rt/rtclock.h"

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_UNDER_ASAN 1
#endif
#endif

#define WORKER_EV_CAP 256                       /* events per engine_advance call */
#define WORKER_IN_CAP 256                       /* MIDI inputs per drain */
#define WORKER_CMD_CAP 64                       /* commands per ring per loop */
#define WORKER_CMD_RING 256                     /* command ring capacity */
#define WORKER_START_MARGIN_NS (10 * NS_PER_MS) /* first step after start + look-ahead */

struct worker {
	struct engine *engine;
	struct engine_config cfg; /* the active one, for names */
	struct inq *inq;
	struct inq *clock_inq; /* a clock input port of its own, or NULL */
	struct worker_options opt;

	struct worker_sink sinks[WORKER_MAX_SINKS];
	int n_sinks;
	struct ring *cmd[WORKER_CMD_COUNT];

	pthread_t thread;
	atomic_bool started, running;
	atomic_int bell;
	int bell_fd;            /* eventfd written by command producers */
	int timer_fd;           /* the absolute deadline */
	int64_t armed;          /* the deadline timer_fd holds, 0: none */
	atomic_int snap_wanted; /* a reader asks for a fresh snapshot */
	atomic_llong snap_at;   /* mono ns of the latest publication */
	int snap_fd;            /* eventfd: written after each publication */
	atomic_uint_fast64_t heartbeat;
	bool realtime;

	int64_t base;         /* mono ns of engine time 0 */
	int64_t last_input_t; /* engine time, non-decreasing */
	struct pub *pub;
	struct snapshot snap;      /* the worker's working copy */
	pthread_mutex_t read_lock; /* readers only: never the worker */

	/* hand-over of a new configuration (worker_reconfigure) */
	_Atomic(const struct engine_config *) pending_cfg;
	const struct config *pending_whole; /* written before pending_cfg */
	sem_t cfg_applied;                  /* posted by the worker once applied */
	pthread_mutex_t cfg_lock;           /* control thread only */

	struct hist latency, lateness;
	int64_t cpu_t0, cpu_wall0;
	int64_t last_tick; /* mono ns of the previous loop */
	uint64_t stalls, steps_skipped, late_notes_dropped;

	/* preallocated work space */
	struct event ev[WORKER_EV_CAP];
	struct engine_input in[WORKER_IN_CAP];
	uint64_t commands_dropped;
};

static struct timespec ns_to_ts(int64_t ns)
{
	return rtclock_timespec(ns);
}

struct worker *worker_new(struct engine *e, const struct engine_config *cfg, struct inq *inq,
                          const struct worker_options *o)
{
	struct worker *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->bell_fd = w->timer_fd = w->snap_fd = -1;
	sem_init(&w->cfg_applied, 0, 0);
	w->engine = e;
	w->cfg = *cfg;
	w->inq = inq;
	w->opt = *o;
	w->bell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	w->snap_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->bell_fd < 0 || w->timer_fd < 0 || w->snap_fd < 0)
		goto fail;
	if (w->opt.snapshot_period_ns <= 0)
		w->opt.snapshot_period_ns = 33 * NS_PER_MS;
	if (w->opt.heartbeat_ns <= 0)
		w->opt.heartbeat_ns = NS_PER_SEC;
	w->pub = pub_new(sizeof(struct snapshot));
	for (int i = 0; i < WORKER_CMD_COUNT; i++)
		w->cmd[i] = ring_new(WORKER_CMD_RING, sizeof(struct engine_input));
	for (int i = 0; i < WORKER_CMD_COUNT; i++)
		if (!w->cmd[i])
			goto fail;
	if (!w->pub)
		goto fail;
	hist_init(&w->latency);
	hist_init(&w->lateness);
	pthread_mutex_init(&w->read_lock, NULL);
	pthread_mutex_init(&w->cfg_lock, NULL);
	w->base = rtclock_mono_ns();
	return w;
fail:
	worker_free(w);
	return NULL;
}

int worker_add_sink(struct worker *w, const struct worker_sink *s)
{
	if (w->n_sinks >= WORKER_MAX_SINKS || atomic_load(&w->started))
		return -1;
	w->sinks[w->n_sinks++] = *s;
	return 0;
}

int worker_add_clock_input(struct worker *w, struct inq *q)
{
	if (w->clock_inq || atomic_load(&w->started))
		return -1;
	w->clock_inq = q;
	return 0;
}

struct ring *worker_command_ring(struct worker *w, enum worker_producer p)
{
	return (unsigned)p < WORKER_CMD_COUNT ? w->cmd[p] : NULL;
}

bool worker_command(struct worker *w, enum worker_producer p, const struct command *c)
{
	struct engine_input in = {.kind = INPUT_COMMAND};
	in.u.cmd = *c;
	struct ring *r = worker_command_ring(w, p);
	if (!r || !ring_push(r, &in))
		return false;
	worker_doorbell(w);
	return true;
}

void worker_doorbell(struct worker *w)
{
	atomic_store(&w->bell, 1);
	uint64_t one = 1;
	if (write(w->bell_fd, &one, sizeof one) < 0) {
		/* EAGAIN: the counter is already set, the worker wakes anyway */
	}
}

int64_t worker_base(const struct worker *w)
{
	return w->base;
}

uint64_t worker_heartbeat(const struct worker *w)
{
	return atomic_load(&w->heartbeat);
}

struct hist *worker_latency(struct worker *w)
{
	return &w->latency;
}

struct hist *worker_lateness(struct worker *w)
{
	return &w->lateness;
}

bool worker_is_realtime(const struct worker *w)
{
	return w->realtime;
}

/* Empties an eventfd or timerfd (non-blocking). */
static void drain_fd(int fd)
{
	uint64_t v;
	if (read(fd, &v, sizeof v) < 0) {
		/* EAGAIN: it had not fired */
	}
}

bool worker_snapshot(struct worker *w, struct snapshot *out)
{
	pthread_mutex_lock(&w->read_lock);
	int64_t age = rtclock_mono_ns() - atomic_load(&w->snap_at);
	if (atomic_load(&w->running) && age > w->opt.snapshot_period_ns) {
		drain_fd(w->snap_fd);
		atomic_store(&w->snap_wanted, 1);
		worker_doorbell(w);
		struct pollfd pf = {.fd = w->snap_fd, .events = POLLIN};
		int64_t until = rtclock_mono_ns() + WORKER_SNAPSHOT_WAIT_MS * NS_PER_MS;
		for (;;) {
			int64_t left = (until - rtclock_mono_ns() + NS_PER_MS - 1) / NS_PER_MS;
			if (left <= 0 || poll(&pf, 1, (int)left) >= 0 || errno != EINTR)
				break;
		}
	}
	bool ok = pub_read(w->pub, out);
	pthread_mutex_unlock(&w->read_lock);
	return ok && out->seq > 0;
}

static void snapshot_names(struct worker *w);

/* Engine, names and sinks take eng and cfg: the worker's thread, or the
 * caller's while the worker is not running. */
static void apply_config(struct worker *w, const struct engine_config *eng,
                         const struct config *cfg)
{
	engine_reconfigure(w->engine, eng);
	w->cfg = *eng;
	snapshot_names(w);
	for (int i = 0; i < w->n_sinks; i++)
		if (w->sinks[i].reconfigure)
			w->sinks[i].reconfigure(w->sinks[i].ctx, &w->cfg, cfg);
}

void worker_reconfigure(struct worker *w, const struct engine_config *eng, const struct config *cfg)
{
	pthread_mutex_lock(&w->cfg_lock);
	if (!atomic_load(&w->running)) {
		apply_config(w, eng, cfg);
	} else {
		w->pending_whole = cfg;
		atomic_store(&w->pending_cfg, eng);
		worker_doorbell(w);
		while (sem_wait(&w->cfg_applied) != 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&w->cfg_lock);
}

void worker_wait_loops(struct worker *w, unsigned n)
{
	uint64_t hb = worker_heartbeat(w);
	while (atomic_load(&w->running) && worker_heartbeat(w) < hb + n) {
		worker_doorbell(w);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

int64_t worker_next_wake(const struct worker_wake *ww)
{
	int64_t t = ww->now > INT64_MAX - ww->heartbeat_ns ? INT64_MAX : ww->now + ww->heartbeat_ns;
	if (ww->engine_due != INT64_MAX && ww->engine_due - ww->lookahead_ns + 1 < t)
		t = ww->engine_due - ww->lookahead_ns + 1;
	if (ww->sink_due < t)
		t = ww->sink_due;
	return t < ww->now ? ww->now : t;
}

/* Keeps the newest mutation changes, newest first. */
static void note_mutation(struct worker *w, const struct event *ev)
{
	struct snapshot *s = &w->snap;
	for (int i = 0; i < ev->u.mutation.n; i++) {
		int keep = s->n_mut < SNAP_MUT_MAX ? s->n_mut : SNAP_MUT_MAX - 1;
		memmove(&s->mut[1], &s->mut[0], (size_t)keep * sizeof s->mut[0]);
		s->mut[0].t = ev->t - w->base;
		s->mut[0].param = ev->u.mutation.ch[i].param;
		s->mut[0].from = ev->u.mutation.ch[i].from;
		s->mut[0].to = ev->u.mutation.ch[i].to;
		s->n_mut = keep + 1;
	}
}

static void copy_name(char *dst, const char *src)
{
	size_t n = strlen(src);
	if (n >= ENGINE_NAME_MAX)
		n = ENGINE_NAME_MAX - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The names readers need, from the active configuration. */
static void snapshot_names(struct worker *w)
{
	struct snapshot *s = &w->snap;
	const struct engine_config *c = &w->cfg;
	s->n_scales = c->n_scales;
	for (int i = 0; i < c->n_scales; i++)
		copy_name(s->scale_names[i], scale_name(c->scales[i]));
	s->n_modes = c->n_modes;
	for (int i = 0; i < c->n_modes; i++)
		copy_name(s->mode_names[i], c->profiles[c->modes[i]].name);
	s->n_palettes = c->n_palettes;
	for (int i = 0; i < c->n_palettes; i++)
		copy_name(s->palette_names[i], c->palettes[i]);
}

static void publish(struct worker *w, int64_t now)
{
	struct snapshot *s = &w->snap;
	s->seq++;
	s->uptime_ns = now - w->base;
	engine_get_state(w->engine, &s->eng);
	if (w->inq) {
		struct inq_stats st;
		inq_get_stats(w->inq, &st);
		s->inq_depth = st.depth;
		s->inq_max_depth = st.max_depth;
		s->inq_cap = st.cap;
		s->midi_coalesced = st.coalesced;
		s->midi_dropped = st.dropped_notes + st.dropped_other;
	}
	s->latency_p50 = hist_quantile(&w->latency, 0.5);
	s->latency_p99 = hist_quantile(&w->latency, 0.99);
	s->lateness_p50 = hist_quantile(&w->lateness, 0.5);
	s->lateness_p99 = hist_quantile(&w->lateness, 0.99);
	s->commands_dropped = w->commands_dropped;
	s->log_dropped = log_dropped();
	s->stalls = w->stalls;
	s->steps_skipped = w->steps_skipped;
	s->late_notes_dropped = w->late_notes_dropped;

	struct timespec cpu;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	int64_t cpu_ns = (int64_t)cpu.tv_sec * NS_PER_SEC + cpu.tv_nsec;
	if (now - w->cpu_wall0 >= NS_PER_SEC) {
		if (w->cpu_wall0)
			s->worker_cpu = (double)(cpu_ns - w->cpu_t0) / (double)(now - w->cpu_wall0);
		w->cpu_t0 = cpu_ns;
		w->cpu_wall0 = now;
	}
	for (int i = 0; i < w->n_sinks; i++)
		if (w->sinks[i].fill)
			w->sinks[i].fill(w->sinks[i].ctx, s);
	pub_write(w->pub, s);
	atomic_store(&w->snap_at, now);
	uint64_t one = 1;
	if (write(w->snap_fd, &one, sizeof one) < 0) {
		/* EAGAIN: a reader has not taken the last one yet; it wakes anyway */
	}
}

/* Takes every waiting input; returns the number of MIDI messages taken and
 * leaves their arrival times (mono) in arrivals[]. */
static size_t take_inputs(struct worker *w, int64_t now, int64_t *arrivals, size_t cap)
{
	size_t n_midi = 0;
	if (w->inq) {
		if (cap > WORKER_IN_CAP)
			cap = WORKER_IN_CAP;
		size_t n = inq_drain(w->inq, w->in, cap);
		if (w->clock_inq && n < cap) {
			/* the clock port's messages in arrival order among the others
			 * (both runs are in order; a short insertion merge) */
			size_t m = inq_drain(w->clock_inq, w->in + n, cap - n);
			for (size_t i = n; m && i < n + m; i++)
				for (size_t j = i; j > 0 && w->in[j].t < w->in[j - 1].t; j--) {
					struct engine_input x = w->in[j];
					w->in[j] = w->in[j - 1];
					w->in[j - 1] = x;
				}
			n += m;
		}
		for (size_t i = 0; i < n; i++) {
			arrivals[n_midi++] = w->in[i].t;
			int64_t t = w->in[i].t - w->base;
			if (t < w->last_input_t)
				t = w->last_input_t;
			w->in[i].t = w->last_input_t = t;
			engine_input(w->engine, &w->in[i]);
		}
	}
	int64_t t = now - w->base;
	if (t < w->last_input_t)
		t = w->last_input_t;
	for (int r = 0; r < WORKER_CMD_COUNT; r++) {
		struct engine_input in;
		for (int k = 0; k < WORKER_CMD_CAP && ring_pop(w->cmd[r], &in); k++) {
			in.t = w->last_input_t = t;
			engine_input(w->engine, &in);
		}
	}
	return n_midi;
}

/* After a stall: the sequencer resumes on its grid rather than catching up. */
static void resync(struct worker *w, int64_t now, int64_t to)
{
	int64_t gap = w->last_tick ? now - w->last_tick : 0;
	w->last_tick = now;
	if (w->opt.late_drop_ns <= 0)
		return;
	int64_t skipped = engine_resync(w->engine, now - w->base - w->opt.late_drop_ns, to);
	if (skipped <= 0)
		return;
	w->stalls++;
	w->steps_skipped += (uint64_t)skipped;
	log_warn("stall",
	         "the engine could not run for %.0f ms: %lld steps skipped, playing "
	         "resumes on the step grid",
	         (double)gap / 1e6, (long long)skipped);
}

/* Takes notes older than the tolerance out of ev[0..n); returns the new n. */
static size_t drop_late(struct worker *w, size_t n, int64_t now)
{
	if (w->opt.late_drop_ns <= 0)
		return n;
	size_t m = 0, dropped = 0;
	for (size_t i = 0; i < n; i++) {
		if (w->ev[i].type == EV_NOTE && w->ev[i].t < now - w->opt.late_drop_ns) {
			dropped++;
			continue;
		}
		if (m != i)
			w->ev[m] = w->ev[i];
		m++;
	}
	if (dropped) {
		w->late_notes_dropped += dropped;
		log_warn("late_notes",
		         "%zu notes dropped: their time had passed by more than "
		         "%lld ms",
		         dropped, (long long)(w->opt.late_drop_ns / NS_PER_MS));
	}
	return m;
}

static void tick(struct worker *w, int64_t now)
{
	int64_t arrivals[WORKER_IN_CAP];

	atomic_fetch_add(&w->heartbeat, 1);
	const struct engine_config *pc = atomic_load(&w->pending_cfg);
	if (pc) {
		apply_config(w, pc, w->pending_whole);
		atomic_store(&w->pending_cfg, NULL);
		sem_post(&w->cfg_applied);
	}

	size_t n_midi = take_inputs(w, now, arrivals, WORKER_IN_CAP);

	int64_t to = now - w->base + w->opt.lookahead_ns;
	resync(w, now, to);
	size_t n, kept;
	do {
		n = engine_advance(w->engine, to, w->ev, WORKER_EV_CAP);
		for (size_t i = 0; i < n; i++) {
			w->ev[i].t += w->base;
			if (w->ev[i].type == EV_MUTATION)
				note_mutation(w, &w->ev[i]);
		}
		kept = drop_late(w, n, now);
		for (int s = 0; s < w->n_sinks; s++)
			if (w->sinks[s].events)
				w->sinks[s].events(w->sinks[s].ctx, w->ev, kept, now);
	} while (n == WORKER_EV_CAP);

	if (n_midi) {
		int64_t sent = rtclock_mono_ns();
		for (size_t i = 0; i < n_midi; i++)
			hist_add(&w->latency, sent - arrivals[i]);
	}
}

static void become_realtime(struct worker *w)
{
	struct sched_param sp = {.sched_priority = 60};
	int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (rc == 0) {
		w->realtime = true;
		log_info("worker_realtime", "worker runs SCHED_FIFO priority %d",
		         sp.sched_priority);
	} else {
		log_warn("worker_realtime",
		         "SCHED_FIFO not allowed (%s): the worker runs at normal priority; "
		         "grant rtprio to the service's user (audio group) for tighter timing",
		         strerror(rc));
	}
}

/* Sleeps until the absolute deadline, a MIDI message or a command. */
static void sleep_until(struct worker *w, int64_t deadline)
{
	if (atomic_load(&w->bell))
		return;
	if (w->inq && !inq_arm(w->inq))
		return; /* messages are already waiting */
	if (w->clock_inq && !inq_arm(w->clock_inq)) {
		if (w->inq)
			inq_disarm(w->inq);
		return;
	}
	if (deadline != w->armed) { /* after a doorbell it often still holds it */
		struct itimerspec its = {.it_value = ns_to_ts(deadline)};
		timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
		w->armed = deadline;
	}
	struct pollfd pf[4] = {
	    {.fd = w->timer_fd, .events = POLLIN},
	    {.fd = w->bell_fd, .events = POLLIN},
	    {.fd = w->inq ? inq_wake_fd(w->inq) : -1, .events = POLLIN},
	    {.fd = w->clock_inq ? inq_wake_fd(w->clock_inq) : -1, .events = POLLIN},
	};
	while (ppoll(pf, 4, NULL, NULL) < 0 && errno == EINTR)
		;
	if (w->inq)
		inq_disarm(w->inq);
	if (w->clock_inq)
		inq_disarm(w->clock_inq);
	if (pf[0].revents) {
		drain_fd(w->timer_fd);
		w->armed = 0;
	}
	if (pf[1].revents)
		drain_fd(w->bell_fd);
}

/* Touches every page of the worker's state and of 256 KiB of its stack
 * (keeping their contents), so no page fault waits on the real-time path. */
static void prefault(struct worker *w)
{
	volatile char stack[256 * 1024];
	for (size_t i = 0; i < sizeof stack; i += 4096)
		stack[i] = 0;
	volatile char *p = (volatile char *)w;
	for (size_t i = 0; i < sizeof *w; i += 4096)
		p[i] = p[i];
}

/* When the worker must loop again, from the engine and the sinks. */
static int64_t next_deadline(struct worker *w, int64_t now)
{
	int64_t due = engine_next_due(w->engine);
	struct worker_wake ww = {
	    .now = now,
	    .engine_due = due == INT64_MAX ? INT64_MAX : due + w->base,
	    .lookahead_ns = w->opt.lookahead_ns,
	    .sink_due = INT64_MAX,
	    .heartbeat_ns = w->opt.heartbeat_ns,
	};
	for (int s = 0; s < w->n_sinks; s++) {
		if (!w->sinks[s].next_due)
			continue;
		int64_t t = w->sinks[s].next_due(w->sinks[s].ctx);
		if (t < ww.sink_due)
			ww.sink_due = t;
	}
	return worker_next_wake(&ww);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	if (w->opt.realtime)
		become_realtime(w);
	/* timers fire on time, not up to 50 us late (the default slack) */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	prefault(w);

	int64_t deadline = rtclock_mono_ns();
	bool first = true;
	while (atomic_load(&w->running)) {
		int64_t now = rtclock_mono_ns();
		if (now < deadline) {
			sleep_until(w, deadline);
			now = rtclock_mono_ns();
		}
		atomic_store(&w->bell, 0);
		if (now >= deadline)
			hist_add(&w->lateness, now - deadline);
		tick(w, now);
		if (atomic_exchange(&w->snap_wanted, 0) || first)
			publish(w, now);
		first = false;
		deadline = next_deadline(w, now);
	}
	for (int s = 0; s < w->n_sinks; s++)
		if (w->sinks[s].shutdown)
			w->sinks[s].shutdown(w->sinks[s].ctx);
	publish(w, rtclock_mono_ns());
	return NULL;
}

int worker_start(struct worker *w)
{
	if (w->opt.realtime) {
#ifdef WORKER_UNDER_ASAN
		log_info("worker_mlock", "memory not locked: AddressSanitizer build");
#else
		/* MCL_ONFAULT: lock pages as they are first touched, so idle
		 * library thread stacks (8 MB each) do not become resident; the
		 * worker touches its own stack and state before it plays. */
#ifdef MCL_ONFAULT
		int flags = MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT;
#else
		int flags = MCL_CURRENT | MCL_FUTURE;
#endif
		if (mlockall(flags) != 0)
			log_warn("worker_mlock", "mlockall not allowed (%s): memory may page",
			         strerror(errno));
		else
			log_info("worker_mlock", "memory locked");
#endif
	}
	snapshot_names(w);
	/* The first step sounds one look-ahead (plus a margin for the thread's
	 * start) from now, so that it is handed out in time like every later
	 * one. */
	engine_start(w->engine,
	             rtclock_mono_ns() - w->base + w->opt.lookahead_ns + WORKER_START_MARGIN_NS);
	atomic_store(&w->running, true);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		atomic_store(&w->running, false);
		return -1;
	}
	pthread_setname_np(w->thread, "worker");
	atomic_store(&w->started, true);
	return 0;
}

void worker_stop(struct worker *w)
{
	if (!atomic_load(&w->started))
		return;
	atomic_store(&w->running, false);
	worker_doorbell(w);
	pthread_join(w->thread, NULL);
	atomic_store(&w->started, false);
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	worker_stop(w);
	for (int i = 0; i < WORKER_CMD_COUNT; i++)
		ring_free(w->cmd[i]);
	pub_free(w->pub);
	if (w->bell_fd >= 0)
		close(w->bell_fd);
	if (w->timer_fd >= 0)
		close(w->timer_fd);
	if (w->snap_fd >= 0)
		close(w->snap_fd);
	pthread_mutex_destroy(&w->read_lock);
	pthread_mutex_destroy(&w->cfg_lock);
	sem_destroy(&w->cfg_applied);
	free(w);
}
