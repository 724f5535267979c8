/*
 * synth_sc: the SuperCollider backend (OSC over UDP to scsynth).
 *
 * Two sides.  The real-time side (synth_events, release_all; the worker)
 * turns events into OSC bundles written by hand into a preallocated buffer
 * and sends each with one non-blocking send() on its own connected UDP
 * socket: no allocation, no lock, no wait.  A bundle's timetag is the wall
 * clock read at sending time plus the monotonic distance to the event, so
 * a wall-clock step cannot move the schedule; live actions get latency_ms
 * on top, sequenced notes are already lookahead_ms ahead.  What to send
 * for each event (voices, steals, pause, parameters) comes from the sound
 * plan (sc_plan.c), the same one the offline score plays.
 *
 * The control side is one thread of ours with the sc_link connection: it
 * waits for the server (/notify), loads the defs (/d_recv, confirmed by a
 * trial /s_new), builds the voices' group, the fx synth and the recorder,
 * then sends /status every heartbeat_ms without waiting for the reply
 * (the next heartbeat looks whether it came).  In between it sleeps until
 * the next health tick or heartbeat and takes the replies that came
 * meanwhile in one go (the supervisor's news, the stop and the first
 * notes after a quiet spell ring its eventfd, so they are seen at once).
 * While nothing sounds it runs only when the meter could go stale
 * (synth_health_next_tick(): about every 2 s), and the heartbeat goes
 * along.  When the server dies (the supervisor reports it) or
 * stops answering, the link goes to RESTARTING
 * and the set-up runs again on the new server; a generation counter tells
 * the real-time side to forget its voices.  A death notice counts only for
 * the scsynth process the link was set up with: the late notice of a
 * replaced process never takes the new link down.  In managed mode the
 * supervisor (supervise.c) runs jackd (unless a JACK server already runs)
 * and scsynth, and keeps looking for them on PATH when they are missing.
 *
 * Sound health: me_fx meters the output and replies a few times a second;
 * the real-time side keeps the span of audible notes it scheduled; the
 * control thread feeds both to the detector (synth_health.c) and takes the
 * steps it asks for (restart scsynth, the stack, withhold the watchdog).
 * Everything the snapshot shows is kept in atomics.
 */
#include "synth/synth_sc.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/param.h"
#include "dev/audio_card.h"
#include "dev/devspec.h"
#include "rt/log.h"
#include "rt/rtclock.h"
#include "synth/sc_link.h"
#include "synth/sc_plan.h"
#include "synth/supervise.h"
#include "synth/synth_health.h"
#include "synth/wav_seal.h"
#include "synth/synthdef.h"

#define MS INT64_C(1000000)
#define NTP_UNIX_OFFSET INT64_C(2208988800)
#define TT_NOW UINT64_C(1)		/* the OSC timetag "immediately" */
#define PKT_MAX 512
/* On exit me_fx fades its output out (SYNTHDEF_LAG_S) and frees itself
 * before the voices are freed: stopping is a fade, not a click.  Its /n_end
 * is awaited this long at most. */
#define EXIT_FADE_WAIT_MS 1000
#define HEARTBEAT_MISSES 3		/* unanswered /status before the server counts as lost */
#define CTL_NAP_MAX_MS 2000		/* the control thread's longest sleep while all is well */
#define DEFS_RETRY_NS (10000 * MS)
#define REC_FRAMES 65536
#define MISSING_RETRY_NS (1000 * MS)	/* how often a missing jackd/scsynth is looked for */
/* A pass of the control loop that starts this much later than the nap
 * before it was to end (no pass waits: the heartbeat does not) means this
 * process did not run, not that it meant to sleep. */
#define SELF_STALL_NS (700 * MS)
_Static_assert(SYNTH_HEALTH_TICK_NS <= CTL_NAP_MAX_MS * MS,
    "the nap ends at the health tick");
/* A note counts as audible when amp x volume x its filter's attenuation
 * reaches -60 dBFS: 40 dB above the detector's floor. */
#define AUDIBLE_LEVEL 1e-3
#define NOTE_RING 256			/* recent notes' times, by node, for lateness */
#define LATE_MARGIN_NS (5 * MS)		/* /n_go later than an on-time note's: late */
/* Trial and probe nodes of the set-up (silent). */
#define PROBE_FIRST_NODE (SYNTH_SC_TRIAL_NODE + 1)

_Static_assert(SYNTH_SC_GROUP == SYNTHDEF_GROUP_VOICES && SYNTH_SC_FX_NODE == SYNTHDEF_NODE_FX &&
    SYNTH_SC_REC_NODE == SYNTHDEF_NODE_REC && SYNTH_SC_FIRST_VOICE == SC_PLAN_FIRST_VOICE,
    "the live node layout is the score's");

enum setup_result { SETUP_OK, SETUP_NO_ANSWER, SETUP_FAILED };

struct sc {
	struct synth *s;
	bool managed;
	char host[256];
	int port;
	char jack_name[64];

	/* real-time side (worker thread only) */
	int fd;
	struct sc_plan plan;
	unsigned seen_gen;
	uint8_t pkt[PKT_MAX];

	/* shared, lock-free */
	atomic_int link;		/* enum link_state */
	atomic_uint gen;		/* bumped on every (re)set-up of the server */
	_Atomic double cutoff, mix, volume;
	atomic_uint_fast64_t notes, bundles, dropped, steals, late;
	atomic_int voices_in_use, synths, synths_peak, server_pid, jack_pid;
	_Atomic float cpu_avg, cpu_peak;
	atomic_uint restarts, record_part;
	atomic_llong ready_ns, down_ns, first_note_ns;
	atomic_llong out_latency_ns;	/* the output latency scsynth compensates (its log) */
	atomic_int server_died, jack_restarted, stopping;
	atomic_int died_pid;		/* the scsynth whose death server_died reports */
	atomic_int warned_rt;		/* said that the audio runs without real-time priority */
	atomic_int jack_ok_pid;		/* our jackd when jack_lsp last found it running */

	/* sound health */
	atomic_llong exp_start, exp_end;	/* span of audible notes scheduled (worker) */
	atomic_llong last_t;			/* latest event time sent (worker) */
	atomic_llong note_t[NOTE_RING];		/* time of recent notes, by node (worker) */
	atomic_int note_node[NOTE_RING];
	_Atomic float out_peak, out_rms;
	atomic_llong meter_ns;
	atomic_uint_fast64_t meter_replies, health_faults, late_sent, late_go;
	atomic_uint health_restarts, stack_restarts;
	atomic_int sound, fault, start_fault;
	atomic_bool watchdog_ok;
	atomic_llong stdout_latency_ns;		/* "max output latency" scsynth printed, -1 none */
	atomic_bool ctl_quiet;			/* the control thread sleeps long: ring it for notes */

	/* control side */
	int wake_fd;			/* eventfd: news for the control thread */
	pthread_t ctl;
	bool ctl_started;
	struct sc_link *l;
	struct supervise *sc_sv;
	_Atomic(struct supervise *) jack_sv;	/* started late when the card was absent */
	bool jack_wait_card;		/* jackd waits for its sound card (audio_card.c) */
	char jack_card[AUDIO_CARD_DEV_MAX];	/* "hw:CARD=ID" jackd plays on */
	bool recording;
	bool lost_once;
	pid_t setup_pid;		/* the managed scsynth the link was set up with */
	pid_t gone_pid;			/* a managed scsynth known dead or being killed */
	int setup_fault;		/* enum synth_fault of the last failed set-up */
	int64_t earliest_ns;		/* an on-time note's /n_go comes this long before its tag */
	int64_t probed_lead_ns;		/* the largest lead the probes measured, 0 none yet */
	struct synth_health health;
	int64_t next_tick;
	int64_t answered_ns;		/* when /status was last answered */
	uint64_t status_seen;		/* /status.reply count at the last look */
	uint64_t status_asked;		/* that count when the last /status went out */
	bool status_out;		/* a heartbeat's /status went out */
	int64_t status_sent_ns;		/* when */
};

static void ctl_ring(struct sc *sc);

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
 * a note that starts within SYNTH_HEALTH_GAP_NS of the span's end extends it. */
static void expect_sound(struct sc *sc, int64_t t, const struct sc_note *nt)
{
	double freq = nt->freq, cutoff = nt->cutoff;
	double filt = cutoff >= freq ? 1.0 : (cutoff / freq) * (cutoff / freq);
	if (nt->amp * sc->plan.volume * filt < AUDIBLE_LEVEL)
		return;
	int64_t end = t + (int64_t)((double)nt->dur * 1e9);
	int64_t s0 = atomic_load_explicit(&sc->exp_start, memory_order_relaxed);
	int64_t e0 = atomic_load_explicit(&sc->exp_end, memory_order_relaxed);
	if (e0 >= s0 && t <= e0 + SYNTH_HEALTH_GAP_NS && end >= s0 - SYNTH_HEALTH_GAP_NS) {
		if (t < s0)
			atomic_store_explicit(&sc->exp_start, t, memory_order_relaxed);
		if (end > e0)
			atomic_store_explicit(&sc->exp_end, end, memory_order_release);
		return;
	}
	/* a new span: end first, so a reader never sees the old start with the new end */
	atomic_store_explicit(&sc->exp_end, INT64_MIN, memory_order_release);
	atomic_store_explicit(&sc->exp_start, t, memory_order_release);
	atomic_store_explicit(&sc->exp_end, end, memory_order_release);
}

/* Sends each command as a bundle timetagged at its time (now_tt: at once). */
static void send_cmds(struct sc *sc, const struct sc_cmd *c, size_t n, int64_t mono, int64_t real,
    bool now_tt)
{
	bool noted = false;
	for (size_t i = 0; i < n; i++) {
		const struct sc_cmd *ci = &c[i];
		uint64_t tt = now_tt && ci->t <= mono ? TT_NOW : synth_sc_timetag(ci->t, mono, real);
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
		expect_sound(sc, ci->t, &ci->note);
		noted = true;
		unsigned k = (unsigned)ci->node % NOTE_RING;
		atomic_store_explicit(&sc->note_node[k], 0, memory_order_relaxed);
		atomic_store_explicit(&sc->note_t[k], ci->t, memory_order_release);
		atomic_store_explicit(&sc->note_node[k], ci->node, memory_order_release);
		if (ci->t < mono)
			atomic_fetch_add_explicit(&sc->late_sent, 1, memory_order_relaxed);
	}
	/* Notes after a quiet spell: the control thread reads the meter often
	 * again (one ring a spell; the fence pairs the span written above with
	 * the flag, as the control thread sets the flag, then reads the span). */
	if (noted) {
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&sc->ctl_quiet, memory_order_relaxed) &&
		    atomic_exchange(&sc->ctl_quiet, false))
			ctl_ring(sc);
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
		size_t k = sc_plan_release_all(&sc->plan, mono, SC_PLAN_STOP_FADE_S, cmd,
		    SC_PLAN_CMD_MAX);
		send_cmds(sc, cmd, k, mono, real, true);
	} else {
		sc_plan_reset(&sc->plan);
	}
	atomic_store(&sc->voices_in_use, 0);
}

/* --- control side --------------------------------------------------------- */

static void nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Tells the control thread that a flag changed (any thread). */
static void ctl_ring(struct sc *sc)
{
	uint64_t one = 1;
	if (sc->wake_fd >= 0 && write(sc->wake_fd, &one, sizeof one) < 0) {
		/* EAGAIN: already rung */
	}
}

/* The control thread's sleep while the server is up: until `until` (the
 * next health tick or heartbeat), at most CTL_NAP_MAX_MS, or until
 * ctl_ring().  Returns when it was to end. */
static int64_t ctl_nap(struct sc *sc, int64_t until)
{
	int64_t now = rtclock_mono_ns();
	int64_t ms = (until - now + MS - 1) / MS;
	if (ms > CTL_NAP_MAX_MS)
		ms = CTL_NAP_MAX_MS;
	if (ms <= 0)
		return now;
	struct pollfd pf = {.fd = sc->wake_fd, .events = POLLIN};
	if (poll(&pf, 1, (int)ms) > 0) {
		uint64_t v;
		if (read(sc->wake_fd, &v, sizeof v) < 0) {
			/* EAGAIN: another reader took it */
		}
	}
	return now + ms * MS;
}


/* The file the current part of the recording goes to. */
static void record_file(const struct sc *sc, unsigned part, char *buf, size_t n)
{
	const char *path = sc->s->set.record_path;
	if (part == 0) {
		snprintf(buf, n, "%s", path);
		return;
	}
	size_t len = strlen(path);
	size_t stem = len > 4 && strcasecmp(path + len - 4, ".wav") == 0 ? len - 4 : len;
	snprintf(buf, n, "%.*s-%u.wav", (int)stem, path, part);
}

static void start_recording(struct sc *sc, unsigned part)
{
	char file[SYNTH_STR_MAX + 16];
	if (part > 0 && sc->managed) {
		/* The part before ends where its server died, never closed:
		 * its header still says it is empty. */
		char err[SYNTH_STR_MAX + 80];
		record_file(sc, part - 1, file, sizeof file);
		int r = wav_seal(file, err, sizeof err);
		if (r > 0)
			log_info("synth.record", "%s: sealed (its server ended without closing it)", file);
		else if (r < 0)
			log_warn("synth.record", "cannot seal the recording cut short: %s", err);
	}
	record_file(sc, part, file, sizeof file);
	enum sc_link_err e = sc_link_send_args(sc->l, "/b_alloc", "iii", SYNTH_SC_REC_BUF, REC_FRAMES, 2);
	if (!e)
		e = sc_link_wait(sc->l, "/done", "/b_alloc", -1, "/b_alloc", 2000);
	if (!e)
		e = sc_link_send_args(sc->l, "/b_write", "isssiii", SYNTH_SC_REC_BUF, file, "wav", "int16",
		    0, 0, 1);
	if (!e)
		e = sc_link_wait(sc->l, "/done", "/b_write", -1, "/b_write", 2000);
	if (e) {
		log_error("synth.record", "cannot record to %s: %s %s", file, sc_link_strerror(e),
		    sc_link_last_fail(sc->l));
		sc_link_send_args(sc->l, "/b_free", "i", SYNTH_SC_REC_BUF);
		return;
	}
	sc_link_send_args(sc->l, "/s_new", "siiisisi", synthdef_names[2], SYNTH_SC_REC_NODE, 1, 0, "buf",
	    SYNTH_SC_REC_BUF, "in", 0);
	sc->recording = true;
	atomic_store(&sc->record_part, part);
	log_info("synth.record", "recording the master output to %s", file);
}

static void stop_recording(struct sc *sc)
{
	if (!sc->recording)
		return;
	sc_link_send_args(sc->l, "/n_free", "i", SYNTH_SC_REC_NODE);
	sc_link_send_args(sc->l, "/b_close", "i", SYNTH_SC_REC_BUF);
	if (sc_link_wait(sc->l, "/done", "/b_close", -1, "/b_close", 2000))
		log_warn("synth.record", "the server did not confirm closing the recording");
	sc_link_send_args(sc->l, "/b_free", "i", SYNTH_SC_REC_BUF);
	sc_link_sync(sc->l, 2, 1000);
	sc->recording = false;
}

static bool stopping(struct sc *sc)
{
	return atomic_load(&sc->stopping) != 0;
}

/* The managed scsynth a set-up may talk to: running and not one known to
 * be gone (0 when none); an external server always counts (-1). */
static pid_t server_for_setup(struct sc *sc)
{
	if (!sc->managed)
		return -1;
	struct supervise_stats st;
	supervise_get_stats(sc->sc_sv, &st);
	return st.pid != 0 && st.pid != sc->gone_pid ? st.pid : 0;
}

/* Is the server the link is being set up with still there? */
static bool server_process_up(struct sc *sc)
{
	return server_for_setup(sc) == sc->setup_pid;
}

/* One message in a bundle timetagged now (wall clock, a little in the
 * past by the time it arrives): the server orders it after the bundles it
 * holds for earlier times, which a plain message would overtake. */
#define send_now_bundle(sc, path, ...) send_now_bundle_(sc, path, __VA_ARGS__, LO_ARGS_END)
static void send_now_bundle_(struct sc *sc, const char *path, const char *types, ...)
{
	lo_message m = lo_message_new();
	va_list ap;
	va_start(ap, types);
	if (m && lo_message_add_varargs(m, types, ap) < 0) {
		lo_message_free(m);
		m = NULL;
	}
	va_end(ap);
	sc_link_send_timed(sc->l, sc_link_timetag(rtclock_mono_ns()), 1, &path, &m);
}

/* Frees what an earlier session left on an external server: each node
 * with its own /n_free (scsynth stops a multi-node /n_free at the first
 * node it cannot find), then the recording buffer.  Failures are expected.
 * Trial and probe notes free themselves (doneAction). */
static void clear_leftovers(struct sc *sc)
{
	static const int32_t nodes[] = {SYNTH_SC_REC_NODE, SYNTH_SC_FX_NODE, SYNTH_SC_GROUP};
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		sc_link_send_args(sc->l, "/n_free", "i", nodes[i]);
	sc_link_send_args(sc->l, "/b_close", "i", SYNTH_SC_REC_BUF);
	sc_link_send_args(sc->l, "/b_free", "i", SYNTH_SC_REC_BUF);
	sc_link_sync(sc->l, 3, 1000);
}

/* The lead added to every timetag (see sc_events): configured, or for a
 * managed server the output latency it printed plus one JACK period, or
 * measured with silent probe notes. */
static enum sc_link_err learn_lead(struct sc *sc)
{
	const struct synth_settings *set = &sc->s->set;
	struct sc_lead m;
	int64_t out = atomic_load(&sc->stdout_latency_ns);
	int64_t period = (int64_t)set->jack_period * 1000000000 / set->sample_rate;
	int64_t lead;
	if (sc->managed && out >= 0 && set->server_latency_ms == 0) {
		/* Known without probing: no time lost coming back after a restart. */
		lead = out + period;
		log_info("synth.lead", "timetags move %.1f ms ahead: the output latency scsynth "
		    "printed plus one JACK period", (double)lead / 1e6);
		atomic_store(&sc->out_latency_ns, lead);
		return SC_LINK_OK;
	}
	/* A reply the server sends late (its non-real-time thread starved by
	 * a busy machine) makes the lead look shorter, never longer: so the
	 * first set-up takes the largest of three rounds, and the lead of a
	 * server only ever grows while the engine runs. */
	int rounds = sc->probed_lead_ns ? 1 : 3;
	for (int i = 0; i < rounds; i++) {
		enum sc_link_err e = sc_link_lead(sc->l, synthdef_names[0], PROBE_FIRST_NODE, 0, &m,
		    1000);
		if (e)
			return e;
		if (m.lead_ns > sc->probed_lead_ns) {
			sc->probed_lead_ns = m.lead_ns;
			sc->earliest_ns = m.earliest_ns;
		}
	}
	lead = set->server_latency_ms > 0 ? (int64_t)set->server_latency_ms * MS : sc->probed_lead_ns;
	log_info("synth.lead", "timetags move %.1f ms ahead: %s (probe notes: timetag - /n_go "
	    "%.1f .. %.1f ms, /status round trip %.1f ms)", (double)lead / 1e6,
	    set->server_latency_ms > 0 ? "synth.server_latency_ms" : "measured",
	    (double)m.earliest_ns / 1e6, (double)m.latest_ns / 1e6, (double)m.rtt_ns / 1e6);
	atomic_store(&sc->out_latency_ns, lead);
	return SC_LINK_OK;
}

/* Handshake and set-up of a (new) server: notify, defs, group, fx, recorder. */
static enum setup_result setup(struct sc *sc)
{
	enum sc_link_err e = SC_LINK_E_TIMEOUT;
	sc->setup_pid = server_for_setup(sc);
	if (sc->setup_pid == 0)
		return SETUP_NO_ANSWER;
	/* Asked often at first (a restarted server answers within a few
	 * hundred ms), then every 100 ms, for 3 s. */
	int64_t until = rtclock_mono_ns() + 3000 * MS;
	for (int i = 0; rtclock_mono_ns() < until && !stopping(sc) && server_process_up(sc); i++) {
		if (!sc->managed && sc->lost_once) {
			/* Bundles the server still holds from before (it was stopped,
			 * say) play at once when it goes on: cut them short, in the
			 * same control block, before the output hears them (volume
			 * 0 would glide down over SYNTHDEF_LAG_S, a burst fading
			 * out); the set-up makes a new effect synth. */
			send_now_bundle(sc, "/n_free", "i", SYNTH_SC_FX_NODE);
			send_now_bundle(sc, "/g_freeAll", "i", SYNTH_SC_GROUP);
		}
		e = sc_link_notify(sc->l, 1, i < 25 ? 20 : 100);
		if (e == SC_LINK_OK)
			break;
	}
	if (e != SC_LINK_OK) {
		sc->setup_fault = SYNTH_FAULT_NO_ANSWER;
		return SETUP_NO_ANSWER;
	}
	e = sc_link_load_defs(sc->l, 2000);
	if (e == SC_LINK_E_TIMEOUT)
		return SETUP_NO_ANSWER;
	if (e) {
		log_error("synth.defs", "loading the synth defs failed: %s %s", sc_link_strerror(e),
		    sc_link_last_fail(sc->l));
		sc->setup_fault = SYNTH_FAULT_DEFS;
		return SETUP_FAILED;
	}
	if (!sc->managed)
		clear_leftovers(sc);
	e = sc_link_trial(sc->l, synthdef_names[0], SYNTH_SC_TRIAL_NODE, 0, 1000);
	if (e == SC_LINK_E_TIMEOUT)
		return SETUP_NO_ANSWER;
	if (e) {
		log_error("synth.defs", "the server does not play %s: %s", synthdef_names[0],
		    sc_link_last_fail(sc->l));
		sc->setup_fault = SYNTH_FAULT_DEFS;
		return SETUP_FAILED;
	}
	if (learn_lead(sc))
		return SETUP_NO_ANSWER;
	/* the node layout, as the score starts from it (sc_plan_layout) */
	struct sc_cmd layout[SC_PLAN_LAYOUT];
	uint8_t msg[SC_PLAN_MSG_MAX];
	sc_plan_layout(atomic_load(&sc->mix), atomic_load(&sc->volume), layout);
	for (int i = 0; i < SC_PLAN_LAYOUT; i++)
		sc_link_send_raw(sc->l, msg, sc_plan_message(&layout[i], msg, sizeof msg));
	e = sc_link_wait(sc->l, "/n_go", NULL, SYNTH_SC_FX_NODE, "/s_new", 1000);
	if (e == SC_LINK_E_FAIL) {
		log_error("synth.fx", "the server refused the effects synth: %s",
		    sc_link_last_fail(sc->l));
		return SETUP_NO_ANSWER;
	}
	if (e)
		return SETUP_NO_ANSWER;
	sc->recording = false;
	if (sc->s->set.record_path[0])
		start_recording(sc, sc->lost_once ? atomic_load(&sc->record_part) + 1 : 0);
	e = sc_link_sync(sc->l, 1, 1000);
	if (e)
		return SETUP_NO_ANSWER;
	return SETUP_OK;
}

/* Why there is no sound now (the link state and the detector's verdict). */
static enum synth_fault current_fault(struct sc *sc, int link)
{
	if (link == LINK_CONNECTED) {
		int snd = atomic_load(&sc->sound);
		return snd == SYNTH_SOUND_SILENT    ? SYNTH_FAULT_SILENT
		       : snd == SYNTH_SOUND_NO_METER ? SYNTH_FAULT_NO_METER
						     : SYNTH_FAULT_NONE;
	}
	struct supervise_stats st;
	if (sc->jack_sv) {
		supervise_get_stats(sc->jack_sv, &st);
		if (st.missing)
			return SYNTH_FAULT_NO_JACKD;
	}
	if (sc->sc_sv) {
		supervise_get_stats(sc->sc_sv, &st);
		if (st.missing)
			return SYNTH_FAULT_NO_SCSYNTH;
		int f = atomic_load(&sc->start_fault);
		if (f != SYNTH_FAULT_NONE && st.pid == 0)
			return (enum synth_fault)f;
		if (st.state == SUPERVISE_ERROR)
			return SYNTH_FAULT_SERVER_EXITS;
	}
	if (link == LINK_ERROR || !sc->managed)
		return (enum synth_fault)sc->setup_fault;
	return SYNTH_FAULT_NONE;
}

/* Faults no restart of scsynth, the stack or the service can cure. */
static bool curable(enum synth_fault f)
{
	return f != SYNTH_FAULT_NO_SCSYNTH && f != SYNTH_FAULT_NO_JACKD && f != SYNTH_FAULT_DEFS &&
	       f != SYNTH_FAULT_PORT_TAKEN;
}

static void update_stats(struct sc *sc)
{
	struct supervise_stats st;
	bool error = false;
	if (sc->sc_sv) {
		supervise_get_stats(sc->sc_sv, &st);
		atomic_store(&sc->late, st.counted);
		atomic_store(&sc->server_pid, st.pid);
		error |= st.state == SUPERVISE_ERROR;
	}
	if (sc->jack_sv) {
		supervise_get_stats(sc->jack_sv, &st);
		atomic_store(&sc->jack_pid, st.pid);
		error |= st.state == SUPERVISE_ERROR;
	}
	if (error && atomic_load(&sc->link) != LINK_CONNECTED)
		atomic_store(&sc->link, LINK_ERROR);
	int link = atomic_load(&sc->link);
	enum synth_fault f = current_fault(sc, link);
	enum synth_fault was = (enum synth_fault)atomic_exchange(&sc->fault, (int)f);
	if (f != was && f != SYNTH_FAULT_NONE)
		log_error("synth.fault", "no sound: %s", synth_fault_text(f));
	else if (f != was)
		log_info("synth.fault", "cleared: %s", synth_fault_text(was));
}

/* Takes the figures of a /status.reply read since the last look; true
 * when there was one. */
static bool take_status(struct sc *sc)
{
	struct sc_status st;
	int64_t at;
	uint64_t n = sc_link_last_status(sc->l, &st, &at);
	if (n == sc->status_seen)
		return false;
	sc->status_seen = n;
	sc->answered_ns = at;
	atomic_store(&sc->cpu_avg, st.avg_cpu);
	atomic_store(&sc->cpu_peak, st.peak_cpu);
	atomic_store(&sc->synths, st.synths);
	if (st.synths > atomic_load(&sc->synths_peak))
		atomic_store(&sc->synths_peak, st.synths);
	return true;
}

/* A heartbeat: was the previous /status answered (its reply is read with
 * the meter's, in the naps' batches), then the next /status, not waited
 * for.  False when the previous one is still unanswered. */
static bool heartbeat(struct sc *sc)
{
	take_status(sc);
	bool answered = !sc->status_out || sc->status_seen > sc->status_asked;
	sc->status_asked = sc->status_seen;
	sc->status_out = sc_link_send_args(sc->l, "/status", "") == SC_LINK_OK;
	sc->status_sent_ns = rtclock_mono_ns();
	return answered;
}

static void lost(struct sc *sc, const char *why)
{
	atomic_store(&sc->link, LINK_RECONNECTING);
	atomic_store(&sc->sound, SYNTH_SOUND_DOWN);
	if (atomic_load(&sc->down_ns) < atomic_load(&sc->ready_ns))
		atomic_store(&sc->down_ns, rtclock_mono_ns());
	sc->lost_once = true;
	sc->recording = false;
	log_warn("synth.lost", "scsynth %s; bringing it back", why);
}

/* Replaces the managed scsynth the link uses (kills it; the supervisor
 * starts another), or sets an external one up again. */
static void replace_server(struct sc *sc, const char *why)
{
	lost(sc, why);
	if (sc->sc_sv && sc->setup_pid > 0) {
		sc->gone_pid = sc->setup_pid;
		supervise_restart(sc->sc_sv);
	}
}

/* A meter reply from me_fx (control thread, inside the link's waits and polls). */
static void on_meter(void *ud, int32_t node, int32_t id, const float *v, int n, int64_t arrived)
{
	struct sc *sc = ud;
	if (node != SYNTH_SC_FX_NODE || id != SYNTHDEF_METER_ID || n < 4)
		return;
	int64_t now = arrived;	/* replies may be read in a batch after it */
	float peak = fmaxf(v[0], v[2]), rms = fmaxf(v[1], v[3]);
	atomic_store(&sc->out_peak, peak);
	atomic_store(&sc->out_rms, rms);
	atomic_store(&sc->meter_ns, now);
	atomic_fetch_add(&sc->meter_replies, 1);
	if (atomic_load(&sc->link) != LINK_CONNECTED)
		return;
	int64_t e1 = atomic_load_explicit(&sc->exp_end, memory_order_acquire);
	int64_t s0 = atomic_load_explicit(&sc->exp_start, memory_order_acquire);
	int64_t e2 = atomic_load_explicit(&sc->exp_end, memory_order_acquire);
	bool expected = e1 == e2 && synth_health_expected(&sc->health, s0, e1, now);
	synth_health_meter(&sc->health, now, peak, expected);
}

/* A note started on an external server: its /n_go comes later than an
 * on-time note's when its bundle arrived too late (the server tells only
 * its own standard output). */
static void on_go(void *ud, int32_t node, int64_t arrived)
{
	struct sc *sc = ud;
	if (sc->managed || node < SYNTH_SC_FIRST_VOICE)
		return;
	unsigned k = (unsigned)node % NOTE_RING;
	if (atomic_load_explicit(&sc->note_node[k], memory_order_acquire) != node)
		return;
	int64_t t = atomic_load_explicit(&sc->note_t[k], memory_order_acquire);
	if (atomic_load_explicit(&sc->note_node[k], memory_order_acquire) != node)
		return;
	int64_t lead = atomic_load(&sc->out_latency_ns);
	int64_t over = arrived - (t + lead - sc->earliest_ns);
	if (over > LATE_MARGIN_NS) {
		atomic_fetch_add(&sc->late_go, 1);
		log_debug("synth.late", "note %d started %.1f ms after an on-time note would have",
		    (int)node, (double)over / 1e6);
	}
}

static void health_step(struct sc *sc, int64_t now, int link);

/* Why the meter went quiet, as far as the heartbeat tells: the last
 * /status, sent when the meter's next reply was already due, was answered
 * or not.  While the instrument is silent the heartbeat goes along with
 * the detector's runs, about every 2 s, so there may be none such. */
static const char *meter_why(const struct sc *sc)
{
	int64_t due = atomic_load(&sc->meter_ns) + INT64_C(1000000000) / SYNTHDEF_METER_HZ + 50 * MS;
	if (!sc->status_out || sc->status_sent_ns <= due)
		return "stopped metering its output";
	return sc->status_seen > sc->status_asked ? "answers but its audio does not run"
						   : "stopped answering";
}

/* Runs the detector and takes the step it asks for: at every pass of the
 * control loop while the link is ready (a pass comes when a tick or a
 * heartbeat is due, or news rang), at its own pace while the set-up loops;
 * then sets when it is due next (synth_health_next_tick()). */
static void health_tick(struct sc *sc, int64_t now)
{
	int link = atomic_load(&sc->link);
	bool ready = link == LINK_CONNECTED;
	if (!ready && now < sc->next_tick)
		return;
	sc->next_tick = now + SYNTH_HEALTH_TICK_NS;
	health_step(sc, now, link);
	if (atomic_load(&sc->link) == LINK_CONNECTED) {
		sc->next_tick = synth_health_next_tick(&sc->health, now,
		    atomic_load_explicit(&sc->exp_end, memory_order_acquire),
		    atomic_load(&sc->ready_ns), atomic_load(&sc->meter_ns));
		bool quiet = sc->next_tick > now + SYNTH_HEALTH_TICK_NS;
		atomic_store(&sc->ctl_quiet, quiet);
		if (quiet && atomic_load(&sc->exp_end) > now - SYNTH_HEALTH_HOLD_NS) {
			/* a note came between the look and the flag: not quiet */
			atomic_store(&sc->ctl_quiet, false);
			sc->next_tick = now + SYNTH_HEALTH_TICK_NS;
		}
	}
}

static void health_step(struct sc *sc, int64_t now, int link)
{
	bool ready = link == LINK_CONNECTED;
	enum synth_fault f = (enum synth_fault)atomic_load(&sc->fault);
	int step = sc->health.step;
	enum synth_health_action a = synth_health_tick(&sc->health, now, ready,
	    atomic_load(&sc->ready_ns), atomic_load(&sc->meter_ns), curable(f));
	atomic_store(&sc->sound, sc->health.sound);
	if (step > 0 && sc->health.step == 0)
		log_info("synth.health", "the sound path is healthy again");
	if (a == SYNTH_HEALTH_NONE) {
		atomic_store(&sc->watchdog_ok, synth_health_watchdog_ok(&sc->health));
		return;
	}
	atomic_fetch_add(&sc->health_faults, 1);
	const char *why = !ready ? "does not come back"
			  : sc->health.sound == SYNTH_SOUND_SILENT ? "is silent while notes should sound"
								   : meter_why(sc);
	switch (a) {
	case SYNTH_HEALTH_RESTART_SERVER:
		log_error("synth.health", "the server %s: restarting scsynth", why);
		atomic_fetch_add(&sc->health_restarts, 1);
		replace_server(sc, "restarted by the sound check");
		break;
	case SYNTH_HEALTH_RESTART_STACK:
		log_error("synth.health", "the server %s: restarting the audio stack", why);
		atomic_fetch_add(&sc->stack_restarts, 1);
		if (sc->jack_sv)
			supervise_restart(sc->jack_sv);
		replace_server(sc, "restarted with the audio stack by the sound check");
		break;
	case SYNTH_HEALTH_WITHHOLD_WATCHDOG:
		log_error("synth.health", "the server %s after restarts of scsynth and the audio "
		    "stack: no longer feeding systemd's watchdog", why);
		break;
	case SYNTH_HEALTH_NONE:
		break;
	}
	atomic_store(&sc->watchdog_ok, synth_health_watchdog_ok(&sc->health));
}

/* Frees the voices' group (and the effect, fx) once every bundle already
 * sent has played: in a bundle timetagged after the last of them, so none
 * of them lands in a group of the next session on the same server. */
static void free_nodes_after_sent(struct sc *sc, bool fx)
{
	int64_t t = atomic_load(&sc->last_t), now = rtclock_mono_ns();
	int64_t at = (t > now ? t : now) + atomic_load(&sc->out_latency_ns) + 20 * MS;
	static const char *const paths[] = {"/n_free", "/n_free"};
	const int32_t nodes[] = {SYNTH_SC_GROUP, SYNTH_SC_FX_NODE};
	int n = fx ? 2 : 1;
	lo_message m[2] = {NULL, NULL};
	for (int i = 0; i < n; i++) {
		m[i] = lo_message_new();
		if (m[i] && lo_message_add_int32(m[i], nodes[i]) < 0) {
			lo_message_free(m[i]);
			m[i] = NULL;
		}
	}
	sc_link_send_timed(sc->l, sc_link_timetag(at), n, paths, m);
}

static void *ctl_main(void *arg)
{
	struct sc *sc = arg;
	int64_t retry_at = 0, next_hb = 0, due = 0;
	bool prev_quick = false;	/* the previous pass neither set up nor replaced a server */
	int misses = 0;

	sc_link_on_node_reply(sc->l, SYNTHDEF_METER_PATH, on_meter, sc);
	sc_link_on_go(sc->l, on_go, sc);
	while (!stopping(sc)) {
		int64_t now = rtclock_mono_ns();
		if (prev_quick && now - due > SELF_STALL_NS) {
			/* This process was stopped or starved, not the server: what
			 * it could not read meanwhile is no sign of a hung server. */
			log_warn("synth.stall", "the control thread ran %.1f s later than it meant to: "
			    "the server's health is judged afresh from now", (double)(now - due) / 1e9);
			synth_health_resume(&sc->health, now);
			misses = 0;
			next_hb = 0;
			sc->status_out = false;
		}
		due = now;	/* a pass that does not sleep means to run again at once */
		prev_quick = true;
		update_stats(sc);
		health_tick(sc, now);
		if (atomic_exchange(&sc->jack_restarted, 0) && sc->sc_sv) {
			/* scsynth lost its JACK server: start it again on the new one. */
			replace_server(sc, "lost its JACK server");
		}
		if (atomic_load(&sc->link) != LINK_CONNECTED) {
			if (now < retry_at || server_for_setup(sc) == 0) {
				due = now + 10 * MS;
				sc_link_poll(sc->l, 10);
				continue;
			}
			enum setup_result r = setup(sc);
			prev_quick = false;
			if (r == SETUP_OK && sc->managed && atomic_load(&sc->died_pid) == sc->setup_pid)
				r = SETUP_NO_ANSWER;	/* it died during the set-up */
			if (r == SETUP_OK) {
				sc->setup_fault = SYNTH_FAULT_NONE;
				atomic_store(&sc->first_note_ns, 0);
				atomic_store(&sc->sound, SYNTH_SOUND_UNKNOWN);
				atomic_store(&sc->ready_ns, rtclock_mono_ns());
				atomic_fetch_add(&sc->gen, 1);
				if (sc->lost_once)
					atomic_fetch_add(&sc->restarts, 1);
				atomic_store_explicit(&sc->link, LINK_CONNECTED, memory_order_release);
				log_info("synth.ready", "scsynth at %s:%d ready (%u restarts)", sc->host,
				    sc->port, atomic_load(&sc->restarts));
				misses = 0;
				next_hb = 0;
				sc->status_out = false;
			} else if (r == SETUP_FAILED) {
				atomic_store(&sc->link, LINK_ERROR);
				retry_at = now + DEFS_RETRY_NS;
			} else {
				retry_at = now + 100 * MS;
			}
			continue;
		}
		if (atomic_exchange(&sc->server_died, 0)) {
			/* Only the death of the server this link talks to counts: the
			 * late notice of one already replaced is old news. */
			if (!sc->managed || atomic_load(&sc->died_pid) == sc->setup_pid) {
				sc->gone_pid = sc->setup_pid;
				lost(sc, "died");
				continue;
			}
		}
		if (now >= next_hb) {
			next_hb = now + (int64_t)sc->s->set.heartbeat_ms * MS;
			if (heartbeat(sc)) {
				misses = 0;
			} else if (++misses >= HEARTBEAT_MISSES) {
				replace_server(sc, "stopped answering /status");
				continue;
			}
		}
		/* Asleep until the next health tick or heartbeat (or news); the
		 * replies that came meanwhile (meter, /status, /n_go with their
		 * kernel receive times) are then taken in one go, not one wake
		 * each. */
		int64_t until = sc->next_tick;
		if (next_hb < until && !atomic_load(&sc->ctl_quiet))
			until = next_hb;	/* quiet: the heartbeat goes along with the tick */
		due = ctl_nap(sc, until);
		sc_link_poll(sc->l, 0);
		take_status(sc);
	}

	/* Leaving: fade the master out (the voices were released) and wait
	 * until the server has done it (me_fx frees itself, in the server's own
	 * time: a starved server cannot be cut short by our clock); then free
	 * the voices, now unheard, close the recording, free the group after
	 * the last bundle sent, unregister. */
	if (atomic_load(&sc->link) == LINK_CONNECTED) {
		sc_link_send_args(sc->l, "/n_set", "isf", SYNTH_SC_FX_NODE, "gate", 0.0f);
		bool faded = sc_link_wait(sc->l, "/n_end", NULL, SYNTH_SC_FX_NODE, NULL,
		    EXIT_FADE_WAIT_MS) == SC_LINK_OK;
		if (!faded)
			log_warn("synth.stop", "the server did not end the fade-out within %d ms",
			    EXIT_FADE_WAIT_MS);
		sc_link_send_args(sc->l, "/g_freeAll", "i", SYNTH_SC_GROUP);
		stop_recording(sc);
		free_nodes_after_sent(sc, !faded);
		sc_link_notify(sc->l, 0, 500);
	}
	atomic_store(&sc->link, LINK_WAITING);
	return NULL;
}

/* --- the managed audio stack ---------------------------------------------- */

static const char *const no_autostart[] = {"JACK_NO_START_SERVER=1", NULL};

/*
 * Does a JACK server called name run?  Told by the exit status of jack_lsp
 * (jackd2): 0 once libjack connected to the server, 1 when it could not;
 * never by reading what it prints (as a user without memory-locking rights
 * libjack first prints "Cannot lock down ..." whatever the answer, and
 * jack_wait -c exits 0 either way).  The server's name goes through
 * JACK_DEFAULT_SERVER.
 */
static bool jack_running(const char *name)
{
	char server[96];
	snprintf(server, sizeof server, "JACK_DEFAULT_SERVER=%s", name);
	const char *env[] = {server, "JACK_NO_START_SERVER=1", NULL};
	const char *argv[] = {"jack_lsp", NULL};
	return supervise_run(argv, env, NULL, 0, 2000 * MS) == 0;
}

bool synth_sc_sound_card(void)
{
	return access("/dev/snd/controlC0", F_OK) == 0;
}

/* Is the UDP port free on the loopback interface? */
static bool port_free(int port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

static enum synth_err start_jackd(struct sc *sc);

/* Before each scsynth start: its port must be free and JACK must run. */
static int sc_before_start(void *ud)
{
	struct sc *sc = ud;
	if (sc->jack_wait_card && (start_jackd(sc) != SYNTH_OK || sc->jack_wait_card))
		return -1;
	if (!port_free(sc->port)) {
		if (atomic_exchange(&sc->start_fault, SYNTH_FAULT_PORT_TAKEN) != SYNTH_FAULT_PORT_TAKEN)
			log_error("synth.port", "UDP port %d is taken: another scsynth runs there? "
			    "(set synth.port)", sc->port);
		return -1;
	}
	/* Our jackd, still the process that answered last time: no need to ask
	 * again (jack_lsp is a JACK client of its own, a few hundred ms on a
	 * busy machine, all of it added to the restart of a killed scsynth). */
	pid_t jack = 0;
	if (sc->jack_sv) {
		struct supervise_stats st;
		supervise_get_stats(sc->jack_sv, &st);
		jack = st.pid;
		if (jack != 0 && jack == atomic_load(&sc->jack_ok_pid)) {
			atomic_store(&sc->start_fault, SYNTH_FAULT_NONE);
			return 0;
		}
	}
	int64_t until = rtclock_mono_ns() + 3000 * MS;
	while (!stopping(sc)) {
		if (jack_running(sc->jack_name)) {
			atomic_store(&sc->jack_ok_pid, (int)jack);
			atomic_store(&sc->start_fault, SYNTH_FAULT_NONE);
			return 0;
		}
		if (rtclock_mono_ns() >= until)
			break;
		nap_ms(100);
	}
	if (atomic_exchange(&sc->start_fault, SYNTH_FAULT_JACK_DOWN) != SYNTH_FAULT_JACK_DOWN)
		log_warn("synth.jack", "JACK server '%s' is not running", sc->jack_name);
	return -1;
}

static void sc_on_exit(void *ud, pid_t pid, int status)
{
	struct sc *sc = ud;
	atomic_store(&sc->down_ns, rtclock_mono_ns());
	atomic_store(&sc->died_pid, (int)pid);
	atomic_store(&sc->server_died, 1);
	ctl_ring(sc);
	if (!stopping(sc))
		log_warn("synth.exit", "scsynth (pid %d) ended: %s %d", (int)pid,
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* The audio without real-time priority cannot keep time on a busy
 * machine: say so once (jackd's and scsynth's own lines are debug lines). */
static void warn_no_realtime(struct sc *sc, const char *who, const char *line)
{
	if (strstr(line, "Cannot use real-time scheduling") && !atomic_exchange(&sc->warned_rt, 1))
		log_warn("synth.realtime", "%s runs without real-time priority: on a busy machine "
		    "expect xruns and late notes (the service's user needs LimitRTPRIO, see "
		    "contrib/systemd)", who);
}

static void sc_on_line(void *ud, enum supervise_stream st, const char *line)
{
	struct sc *sc = ud;
	static const char key[] = "max output latency ";
	const char *p = strstr(line, key);
	if (p) {
		double ms = strtod(p + sizeof key - 1, NULL);
		if (ms >= 0 && ms < 1000)
			atomic_store(&sc->stdout_latency_ns, (long long)(ms * 1e6));
	}
	warn_no_realtime(sc, "scsynth", line);
	log_debug("scsynth", "%s", line);
}

static void jack_on_start(void *ud, pid_t pid, unsigned no)
{
	struct sc *sc = ud;
	if (no > 0)
		atomic_store(&sc->jack_restarted, 1);
	ctl_ring(sc);
}

static void jack_on_exit(void *ud, pid_t pid, int status)
{
	struct sc *sc = ud;
	if (!stopping(sc))
		log_warn("synth.exit", "jackd (pid %d) ended", (int)pid);
}

static void jack_on_line(void *ud, enum supervise_stream st, const char *line)
{
	warn_no_realtime(ud, "jackd", line);
	log_debug("jackd", "%s", line);
}

/* Before each jackd start on a sound card: that card must still be there
 * (a USB interface pulled out is waited for, not restarted into). */
static int jack_before_start(void *ud)
{
	struct sc *sc = ud;
	char dev[AUDIO_CARD_DEV_MAX];
	return audio_card_select(NULL, sc->jack_card, dev, sizeof dev) == AUDIO_CARD_OK ? 0 : -1;
}

/*
 * jackd on the sound card synth.audio_device names (audio_card.c: never
 * HDMI unless named), or on the dummy driver when there is no sound card.
 * A card that is not there leaves jackd unstarted with jack_wait_card set:
 * scsynth's before_start calls this again, so a USB interface plugged in
 * later starts the sound.
 */
static enum synth_err start_jackd(struct sc *sc)
{
	const struct synth_settings *set = &sc->s->set;
	enum supervise_err e;
	char rate[16], period[16];
	snprintf(rate, sizeof rate, "%d", set->sample_rate);
	snprintf(period, sizeof period, "%d", set->jack_period);
	bool alsa = set->jack_driver == SYNTH_JACK_ALSA ||
		    (set->jack_driver == SYNTH_JACK_AUTO && synth_sc_sound_card());
	sc->jack_wait_card = alsa && audio_card_select(NULL,
	    set->audio_device[0] ? set->audio_device : "auto", sc->jack_card,
	    sizeof sc->jack_card) != AUDIO_CARD_OK;
	if (sc->jack_wait_card)
		return SYNTH_OK;
	if (!alsa)
		audio_card_unused();
	const char *alsa_argv[] = {"jackd", "-n", sc->jack_name, "-d", "alsa", "-d", sc->jack_card,
	    "-r", rate, "-p", period, "-n", "3", NULL};
	const char *dummy_argv[] = {"jackd", "-n", sc->jack_name, "-d", "dummy", "-r", rate,
	    "-p", period, NULL};
	struct supervise_spec js = {
		.name = "jackd",
		.argv = alsa ? alsa_argv : dummy_argv,
		.env = no_autostart,
		.before_start = alsa ? jack_before_start : NULL,
		.on_start = jack_on_start,
		.on_exit = jack_on_exit,
		.on_line = jack_on_line,
		.missing_retry_ns = MISSING_RETRY_NS,
		.ud = sc,
	};
	struct supervise *sv = supervise_start(&js, &e);
	if (!sv) {
		log_error("synth.jack", "cannot start jackd: %s", supervise_strerror(e));
		return e == SUPERVISE_E_NOTFOUND ? SYNTH_E_PROGRAM : SYNTH_E_THREAD;
	}
	sc->jack_sv = sv;
	log_info("synth.jack", "started jackd '%s' with the %s driver%s%s", sc->jack_name,
	    alsa ? "ALSA" : "dummy", alsa ? " on " : "", alsa ? sc->jack_card : "");
	return SYNTH_OK;
}

static enum synth_err start_stack(struct sc *sc)
{
	enum supervise_err e;
	char port[16];
	snprintf(port, sizeof port, "%d", sc->port);

	atomic_store(&sc->stdout_latency_ns, -1);
	if (jack_running(sc->jack_name)) {
		log_info("synth.jack", "using the running JACK server '%s'", sc->jack_name);
		audio_card_unused();
	} else {
		enum synth_err je = start_jackd(sc);
		if (je != SYNTH_OK)
			return je;
	}

	char env_server[96], shm[64];
	snprintf(env_server, sizeof env_server, "JACK_DEFAULT_SERVER=%s", sc->jack_name);
	snprintf(shm, sizeof shm, "/dev/shm/SuperColliderServer_%d", sc->port);
	const char *sc_argv[] = {"scsynth", "-u", port, "-i", "0", "-o", "2", "-R", "0", "-l", "8",
	    NULL};
	const char *sc_env[] = {env_server, "JACK_NO_START_SERVER=1",
	    "SC_JACK_DEFAULT_OUTPUTS=system:playback_1,system:playback_2", NULL};
	struct supervise_spec ss = {
		.name = "scsynth",
		.argv = sc_argv,
		.env = sc_env,
		.count_prefix = "late ",
		.cleanup_path = shm,
		.before_start = sc_before_start,
		.on_exit = sc_on_exit,
		.on_line = sc_on_line,
		.missing_retry_ns = MISSING_RETRY_NS,
		.ud = sc,
	};
	sc->sc_sv = supervise_start(&ss, &e);
	if (!sc->sc_sv) {
		log_error("synth.scsynth", "cannot start scsynth: %s", supervise_strerror(e));
		return e == SUPERVISE_E_NOTFOUND ? SYNTH_E_PROGRAM : SYNTH_E_THREAD;
	}
	return SYNTH_OK;
}

/* --- open / close ---------------------------------------------------------- */

/* Splits "HOST:PORT" or "[V6]:PORT". */
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
	if (sc->managed && (e = start_stack(sc)) != SYNTH_OK)
		goto fail;

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&sc->ctl, NULL, ctl_main, sc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		e = SYNTH_E_THREAD;
		goto fail;
	}
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
		nap_ms(5);
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

static void sc_close(struct synth *s)
{
	struct sc *sc = s->priv;
	if (!sc)
		return;
	atomic_store(&sc->stopping, 1);
	ctl_ring(sc);
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
	.close = sc_close,
};
