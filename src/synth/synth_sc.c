/*
 * synth_sc: the SuperCollider backend (OSC over UDP to scsynth): its ops
 * table, opening and closing, and the real-time side.
 *
 * The real-time side (synth_events, release_all; the worker)
 * turns events into OSC bundles written by hand into a preallocated buffer
 * and sends each with one non-blocking send() on its own connected UDP
 * socket: no allocation, no lock, no wait.  A bundle's timetag is the wall
 * clock read at sending time plus the monotonic distance to the event, so
 * a wall-clock step cannot move the schedule; live actions get latency_ms
 * on top, sequenced notes are already lookahead_ms ahead.  What to send
 * for each event (voices, steals, pause, parameters) comes from the sound
 * plan (sc_plan.c), the same one the offline score plays.  It keeps the
 * span of audible notes it scheduled for the sound health check.
 *
 * open, wait_ready and close run on the start-up thread, status on any
 * (see synth.h).  The control thread is in synth_sc_ctl.c, the managed
 * jackd + scsynth in synth_sc_stack.c, the state they share in
 * synth_sc_impl.h.  Everything the snapshot shows is kept in atomics.
 */
#include "synth/synth_sc.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/param.h"
#include "dev/devspec.h"
#include "rt/log.h"
#include "rt/rtclock.h"
#include "synth/sc_link.h"
#include "synth/sc_plan.h"
#include "synth/supervise.h"
#include "synth/synth_health.h"
#include "synth/synth_sc_impl.h"
#include "synth/synthdef.h"

#define NTP_UNIX_OFFSET INT64_C(2208988800)
#define TT_NOW UINT64_C(1) /* the OSC timetag "immediately" */
/* A note counts as audible when amp x volume x its filter's attenuation
 * reaches -60 dBFS: 40 dB above the detector's floor. */
#define AUDIBLE_LEVEL 1e-3

_Static_assert(SYNTH_SC_GROUP == SYNTHDEF_GROUP_VOICES && SYNTH_SC_FX_NODE == SYNTHDEF_NODE_FX &&
                   SYNTH_SC_REC_NODE == SYNTHDEF_NODE_REC &&
                   SYNTH_SC_FIRST_VOICE == SC_PLAN_FIRST_VOICE,
               "the live node layout is the score's");

uint64_t synth_sc_timetag(int64_t t, int64_t mono_now, int64_t real_now)
{
	int64_t real = real_now + (t - mono_now);
	if (real < 0)
		real = 0;
	uint64_t sec = (uint64_t)(real / 1000000000 + NTP_UNIX_OFFSET);
	uint64_t ns = (uint64_t)(real % 1000000000);
	return sec << 32 | ((ns << 32) / 1000000000u);
}

/* --- real-time side ------------------------------------------------------ */

static void send_pkt(struct sc *sc, size_t len)
{
	ssize_t r = len ? send(sc->fd, sc->pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL) : -1;
	/* A bundle sent just after the server died leaves an ICMP "port
	 * unreachable" on the connected socket, which fails the next send
	 * once (the first note after the restart): that send is repeated. */
	if (r < 0 && len && errno == ECONNREFUSED)
		r = send(sc->fd, sc->pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r != (ssize_t)len) {
		atomic_fetch_add(&sc->dropped, 1);
		return;
	}
	atomic_fetch_add(&sc->bundles, 1);
}

/* Keeps the latest sound parameters for the next set-up of the server. */
static void keep_params(struct sc *sc)
{
	atomic_store_explicit(&sc->cutoff, sc->plan.cutoff, memory_order_relaxed);
	atomic_store_explicit(&sc->mix, sc->plan.mix, memory_order_relaxed);
	atomic_store_explicit(&sc->volume, sc->plan.volume, memory_order_relaxed);
}

/* Keeps the span of audible notes the detector compares with the meter:
 * a note that starts within SYNTH_HEALTH_GAP_NS of the span's end extends
 * it.  False for a note too soft to count. */
static bool expect_sound(struct sc *sc, int64_t t, const struct sc_note *nt)
{
	double freq = nt->freq, cutoff = nt->cutoff;
	double filt = cutoff >= freq ? 1.0 : (cutoff / freq) * (cutoff / freq);
	if (nt->amp * sc->plan.volume * filt < AUDIBLE_LEVEL)
		return false;
	int64_t end = t + (int64_t)((double)nt->dur * 1e9);
	int64_t s0 = atomic_load_explicit(&sc->exp_start, memory_order_relaxed);
	int64_t e0 = atomic_load_explicit(&sc->exp_end, memory_order_relaxed);
	if (e0 >= s0 && t <= e0 + SYNTH_HEALTH_GAP_NS && end >= s0 - SYNTH_HEALTH_GAP_NS) {
		if (t < s0)
			atomic_store_explicit(&sc->exp_start, t, memory_order_relaxed);
		if (end > e0)
			atomic_store_explicit(&sc->exp_end, end, memory_order_release);
		return true;
	}
	/* a new span: end first, so a reader never sees the old start with the new end */
	atomic_store_explicit(&sc->exp_end, INT64_MIN, memory_order_release);
	atomic_store_explicit(&sc->exp_start, t, memory_order_release);
	atomic_store_explicit(&sc->exp_end, end, memory_order_release);
	return true;
}

/* Sends each command as a bundle timetagged at its time (now_tt: at once). */
static void send_cmds(struct sc *sc, const struct sc_cmd *c, size_t n, int64_t mono, int64_t real,
                      bool now_tt)
{
	bool noted = false;
	for (size_t i = 0; i < n; i++) {
		const struct sc_cmd *ci = &c[i];
		uint64_t tt =
		    now_tt && ci->t <= mono ? TT_NOW : synth_sc_timetag(ci->t, mono, real);
		send_pkt(sc, sc_plan_bundle(ci, tt, sc->pkt, sizeof sc->pkt));
		if (ci->t > atomic_load_explicit(&sc->last_t, memory_order_relaxed))
			atomic_store_explicit(&sc->last_t, ci->t, memory_order_relaxed);
		if (ci->type == SC_CMD_RELEASE && ci->node == SYNTH_SC_GROUP) {
			/* nothing sounds after a pause any more */
			if (atomic_load_explicit(&sc->exp_end, memory_order_relaxed) > ci->t)
				atomic_store_explicit(&sc->exp_end, ci->t, memory_order_release);
		}
		if (ci->type != SC_CMD_NOTE)
			continue;
		atomic_fetch_add(&sc->notes, 1);
		if (atomic_load(&sc->first_note_ns) == 0)
			atomic_store(&sc->first_note_ns, ci->t);
		if (expect_sound(sc, ci->t, &ci->note))
			noted = true;
		unsigned k = (unsigned)ci->node % NOTE_RING;
		atomic_store_explicit(&sc->note_node[k], 0, memory_order_relaxed);
		atomic_store_explicit(&sc->note_t[k], ci->t, memory_order_release);
		atomic_store_explicit(&sc->note_sent[k], mono, memory_order_release);
		atomic_store_explicit(&sc->note_node[k], ci->node, memory_order_release);
		if (ci->t < mono)
			atomic_fetch_add_explicit(&sc->late_sent, 1, memory_order_relaxed);
	}
	/* Audible notes after a quiet spell: the control thread reads the meter
	 * often again (one ring a spell; notes too soft to count expect no
	 * sound, so they do not ring; the fence pairs the span written above with
	 * the flag, as the control thread sets the flag, then reads the span). */
	if (noted) {
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&sc->ctl_quiet, memory_order_relaxed) &&
		    atomic_exchange(&sc->ctl_quiet, false))
			sc_ctl_ring(sc);
	}
}

static bool sounds(const struct event *ev)
{
	return ev->type == EV_NOTE || ev->type == EV_PARAM ||
	       (ev->type == EV_TRANSPORT && !ev->u.transport.running);
}

static void sc_events(struct synth *s, const struct event *ev, size_t n, int64_t now_ns)
{
	struct sc *sc = s->priv;
	struct sc_cmd cmd[SC_PLAN_CMD_MAX];
	if (atomic_load_explicit(&sc->link, memory_order_acquire) != LINK_CONNECTED) {
		/* The plan follows the parameters, kept for the next set-up of
		 * the server; its voices are forgotten when the link is ready. */
		for (size_t i = 0; i < n; i++) {
			sc_plan_event(&sc->plan, &ev[i], cmd, SC_PLAN_CMD_MAX);
			if (sounds(&ev[i]))
				atomic_fetch_add(&sc->dropped, 1);
		}
		keep_params(sc);
		return;
	}
	unsigned gen = atomic_load(&sc->gen);
	if (gen != sc->seen_gen) {
		sc_plan_reset(&sc->plan);
		sc->seen_gen = gen;
	}
	/* The two clocks read together: a timetag is the wall clock now plus
	 * the monotonic distance to the event. */
	int64_t mono = rtclock_mono_ns();
	int64_t real = rtclock_real_ns();
	/* scsynth plays a timetag at the speaker: it acts on a bundle its
	 * output latency plus up to one period before the tag.  Every tag is
	 * moved by that lead, so events reach the server as far ahead of what
	 * it needs as the engine scheduled them. */
	real += atomic_load_explicit(&sc->out_latency_ns, memory_order_relaxed);
	uint64_t steals = sc->plan.steals;
	for (size_t i = 0; i < n; i++) {
		size_t k = sc_plan_event(&sc->plan, &ev[i], cmd, SC_PLAN_CMD_MAX);
		send_cmds(sc, cmd, k, mono, real, false);
	}
	atomic_fetch_add(&sc->steals, sc->plan.steals - steals);
	keep_params(sc);
	atomic_store_explicit(&sc->voices_in_use, sc_plan_in_use(&sc->plan, mono),
	                      memory_order_relaxed);
}

static void sc_release_all(struct synth *s)
{
	struct sc *sc = s->priv;
	int64_t mono = rtclock_mono_ns();
	int64_t real = rtclock_real_ns() + atomic_load(&sc->out_latency_ns);
	if (atomic_load_explicit(&sc->link, memory_order_acquire) == LINK_CONNECTED) {
		struct sc_cmd cmd[SC_PLAN_CMD_MAX];
		size_t k =
		    sc_plan_release_all(&sc->plan, mono, SC_PLAN_STOP_FADE_S, cmd, SC_PLAN_CMD_MAX);
		send_cmds(sc, cmd, k, mono, real, true);
	} else {
		sc_plan_reset(&sc->plan);
	}
	atomic_store(&sc->voices_in_use, 0);
}

/* --- open / close ---------------------------------------------------------- */

void sc_nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The real-time side's socket: UDP, connected to the server, non-blocking sends. */
static enum synth_err open_socket(struct sc *sc)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	char port[16];
	snprintf(port, sizeof port, "%d", sc->port);
	if (getaddrinfo(sc->host, port, &hints, &res) != 0 || !res)
		return SYNTH_E_ADDRESS;
	enum synth_err e = SYNTH_E_SOCKET;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		                a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			int sz = 256 * 1024;
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
			sc->fd = fd;
			e = SYNTH_OK;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return e;
}

static void sc_close(struct synth *s);

static enum synth_err sc_open(struct synth *s)
{
	struct sc *sc = calloc(1, sizeof *sc);
	if (!sc)
		return SYNTH_E_NOMEM;
	s->priv = sc;
	sc->s = s;
	sc->fd = -1;
	sc->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sc->wake_fd < 0) {
		sc_close(s);
		return SYNTH_E_THREAD;
	}
	const struct synth_settings *set = &s->set;
	atomic_store(&sc->link, LINK_WAITING);
	atomic_store(&sc->cutoff, set->cutoff);
	atomic_store(&sc->mix, set->reverb_mix);
	atomic_store(&sc->volume, set->volume);
	atomic_store(&sc->exp_end, INT64_MIN);
	atomic_store(&sc->watchdog_ok, true);
	synth_health_init(&sc->health, NULL);
	struct sc_plan_settings ps;
	synth_plan_settings(set, &ps);
	sc_plan_init(&sc->plan, &ps);
	snprintf(sc->jack_name, sizeof sc->jack_name, "%s",
	         set->jack_name[0] ? set->jack_name : "default");

	enum synth_err e = SYNTH_OK;
	if (strcmp(set->server, "managed") == 0) {
		sc->managed = true;
		snprintf(sc->host, sizeof sc->host, "127.0.0.1");
		sc->port = set->port;
	} else if (devspec_host_port(set->server, sc->host, sizeof sc->host, &sc->port) != 0) {
		log_error("synth.server", "synth.server \"%s\": expected \"managed\" or HOST:PORT",
		          set->server);
		e = SYNTH_E_SETTINGS;
		goto fail;
	}
	e = open_socket(sc);
	if (e) {
		log_error("synth.server", "%s: %s", set->server, synth_strerror(e));
		goto fail;
	}
	enum sc_link_err le;
	sc->l = sc_link_open(sc->host, sc->port, &le);
	if (!sc->l) {
		log_error("synth.server", "%s", sc_link_strerror(le));
		e = le == SC_LINK_E_NOMEM ? SYNTH_E_NOMEM : SYNTH_E_SOCKET;
		goto fail;
	}
	if (sc->managed && (e = sc_start_stack(sc)) != SYNTH_OK)
		goto fail;

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&sc->ctl, NULL, sc_ctl_main, sc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		e = SYNTH_E_THREAD;
		goto fail;
	}
	pthread_setname_np(sc->ctl, "synth-ctl");
	sc->ctl_started = true;
	return SYNTH_OK;
fail:
	sc_close(s);
	return e;
}

static int sc_wait_ready(struct synth *s, int timeout_ms)
{
	struct sc *sc = s->priv;
	int64_t until = rtclock_mono_ns() + (int64_t)timeout_ms * MS;
	while (atomic_load(&sc->link) != LINK_CONNECTED) {
		/* In the error state (scsynth not installed, say) it will not be soon. */
		if (rtclock_mono_ns() >= until || atomic_load(&sc->link) == LINK_ERROR)
			return -1;
		sc_nap_ms(5);
	}
	return 0;
}

static void sc_status(struct synth *s, struct synth_status *out)
{
	struct sc *sc = s->priv;
	memset(out, 0, sizeof *out);
	out->backend = "supercollider";
	out->link = atomic_load(&sc->link);
	out->cpu_avg = atomic_load(&sc->cpu_avg);
	out->cpu_peak = atomic_load(&sc->cpu_peak);
	out->synths = atomic_load(&sc->synths);
	out->synths_peak = atomic_load(&sc->synths_peak);
	out->voices = s->set.voices;
	out->voices_in_use = atomic_load(&sc->voices_in_use);
	out->late = atomic_load(&sc->late);
	out->restarts = atomic_load(&sc->restarts);
	out->notes = atomic_load(&sc->notes);
	out->bundles = atomic_load(&sc->bundles);
	out->dropped = atomic_load(&sc->dropped);
	out->steals = atomic_load(&sc->steals);
	out->server_pid = atomic_load(&sc->server_pid);
	out->jack_pid = atomic_load(&sc->jack_pid);
	out->ready_ns = atomic_load(&sc->ready_ns);
	out->down_ns = atomic_load(&sc->down_ns);
	out->first_note_ns = atomic_load(&sc->first_note_ns);
	out->record_part = atomic_load(&sc->record_part);
	out->out_latency_ns = atomic_load(&sc->out_latency_ns);
	out->out_peak = atomic_load(&sc->out_peak);
	out->out_rms = atomic_load(&sc->out_rms);
	out->meter_ns = atomic_load(&sc->meter_ns);
	out->meter_replies = atomic_load(&sc->meter_replies);
	out->sound = atomic_load(&sc->sound);
	out->fault = (enum synth_fault)atomic_load(&sc->fault);
	out->health_faults = atomic_load(&sc->health_faults);
	out->health_restarts = atomic_load(&sc->health_restarts);
	out->stack_restarts = atomic_load(&sc->stack_restarts);
	out->watchdog_ok = atomic_load(&sc->watchdog_ok);
	out->late_sent = atomic_load(&sc->late_sent);
	/* scsynth prints late bundles on its standard output, which only a
	 * managed server shares; for another server they are counted from
	 * the /n_go of each note.  A bundle the worker sent after its time
	 * is counted apart (late_sent): the lead may still have covered it,
	 * and a late start shows in its /n_go anyway. */
	if (!sc->managed)
		out->late = atomic_load(&sc->late_go);
}

/* The snapshot's fill (the worker, when a reader asks): a reader that
 * comes after nobody looked for a while has the control thread read the
 * meter at once and every 250 ms from then on. */
static void sc_watch(struct synth *s, int64_t now_ns)
{
	struct sc *sc = s->priv;
	int64_t was = atomic_exchange_explicit(&sc->watched_ns, now_ns, memory_order_relaxed);
	if (now_ns - was >= SC_WATCH_HOLD_NS &&
	    atomic_load_explicit(&sc->link, memory_order_relaxed) == LINK_CONNECTED)
		sc_ctl_ring(sc);
}

static void sc_close(struct synth *s)
{
	struct sc *sc = s->priv;
	if (!sc)
		return;
	atomic_store(&sc->stopping, 1);
	sc_ctl_ring(sc);
	if (sc->ctl_started)
		pthread_join(sc->ctl, NULL);
	/* scsynth before the JACK server it plays on. */
	supervise_stop(sc->sc_sv);
	supervise_stop(sc->jack_sv);
	sc_link_close(sc->l);
	if (sc->fd >= 0)
		close(sc->fd);
	if (sc->wake_fd >= 0)
		close(sc->wake_fd);
	free(sc);
	s->priv = NULL;
}

const struct synth_ops synth_sc_ops = {
    .name = "supercollider",
    .open = sc_open,
    .wait_ready = sc_wait_ready,
    .events = sc_events,
    .release_all = sc_release_all,
    .status = sc_status,
    .watch = sc_watch,
    .close = sc_close,
};
