/*
 * synth_sc_ctl: the scsynth backend's control thread (sc_ctl_main) with
 * the sc_link connection; only that thread runs this file, except
 * sc_ctl_ring() (any thread).
 *
 * It waits for the server (/notify), loads the defs (/d_recv, confirmed by
 * a trial /s_new), builds the voices' group, the fx synth and the recorder,
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
 * replaced process never takes the new link down.
 *
 * Sound health: me_fx meters the output and replies a few times a second;
 * the real-time side keeps the span of audible notes it scheduled; this
 * thread feeds both to the detector (synth_health.c) and takes the
 * steps it asks for (restart scsynth, the stack, withhold the watchdog).
 * It also records the master output (me_rec) when synth.record_path is set.
 */
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "rt/log.h"
#include "rt/rtclock.h"
#include "synth/sc_link.h"
#include "synth/sc_plan.h"
#include "synth/supervise.h"
#include "synth/synth_health.h"
#include "synth/synth_sc_impl.h"
#include "synth/synthdef.h"
#include "synth/wav_seal.h"

/* On exit me_fx fades its output out (SYNTHDEF_LAG_S) and frees itself
 * before the voices are freed: stopping is a fade, not a click.  Its /n_end
 * is awaited this long at most. */
#define EXIT_FADE_WAIT_MS 1000
#define HEARTBEAT_MISSES 3  /* unanswered /status before the server counts as lost */
#define CTL_NAP_MAX_MS 2000 /* the control thread's longest sleep while all is well */
#define DEFS_RETRY_NS (10000 * MS)
#define REC_FRAMES 65536
/* A pass of the control loop that starts this much later than the nap
 * before it was to end (no pass waits: the heartbeat does not) means this
 * process did not run, not that it meant to sleep. */
#define SELF_STALL_NS (700 * MS)
_Static_assert(SYNTH_HEALTH_TICK_NS <= CTL_NAP_MAX_MS * MS, "the nap ends at the health tick");
/* Trial and probe nodes of the set-up (silent). */
#define PROBE_FIRST_NODE (SYNTH_SC_TRIAL_NODE + 1)

enum setup_result { SETUP_OK, SETUP_NO_ANSWER, SETUP_FAILED };

/* Tells the control thread that a flag changed (any thread). */
void sc_ctl_ring(struct sc *sc)
{
	uint64_t one = 1;
	if (sc->wake_fd >= 0 && write(sc->wake_fd, &one, sizeof one) < 0) {
		/* EAGAIN: already rung */
	}
}

/* The control thread's sleep while the server is up: until `until` (the
 * next health tick or heartbeat), at most CTL_NAP_MAX_MS, or until
 * sc_ctl_ring().  Returns when it was to end. */
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
			log_info("synth.record", "%s: sealed (its server ended without closing it)",
			         file);
		else if (r < 0)
			log_warn("synth.record", "cannot seal the recording cut short: %s", err);
	}
	record_file(sc, part, file, sizeof file);
	enum sc_link_err e =
	    sc_link_send_args(sc->l, "/b_alloc", "iii", SYNTH_SC_REC_BUF, REC_FRAMES, 2);
	if (!e)
		e = sc_link_wait(sc->l, "/done", "/b_alloc", -1, "/b_alloc", 2000);
	if (!e)
		e = sc_link_send_args(sc->l, "/b_write", "isssiii", SYNTH_SC_REC_BUF, file, "wav",
		                      "int16", 0, 0, 1);
	if (!e)
		e = sc_link_wait(sc->l, "/done", "/b_write", -1, "/b_write", 2000);
	if (e) {
		log_error("synth.record", "cannot record to %s: %s %s", file, sc_link_strerror(e),
		          sc_link_last_fail(sc->l));
		sc_link_send_args(sc->l, "/b_free", "i", SYNTH_SC_REC_BUF);
		return;
	}
	sc_link_send_args(sc->l, "/s_new", "siiisisi", synthdef_names[2], SYNTH_SC_REC_NODE, 1, 0,
	                  "buf", SYNTH_SC_REC_BUF, "in", 0);
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
		log_info("synth.lead",
		         "timetags move %.1f ms ahead: the output latency scsynth "
		         "printed plus one JACK period",
		         (double)lead / 1e6);
		atomic_store(&sc->out_latency_ns, lead);
		return SC_LINK_OK;
	}
	/* A reply the server sends late (its non-real-time thread starved by
	 * a busy machine) makes the lead look shorter, never longer: so the
	 * first set-up takes the largest of three rounds, and the lead of a
	 * server only ever grows while the engine runs. */
	int rounds = sc->probe.lead_ns ? 1 : 3;
	for (int i = 0; i < rounds; i++) {
		enum sc_link_err e =
		    sc_link_lead(sc->l, synthdef_names[0], PROBE_FIRST_NODE, 0, &m, 1000);
		if (e)
			return e;
		if (m.lead_ns > sc->probe.lead_ns)
			sc->probe = m;
	}
	const struct sc_lead *p = &sc->probe;
	lead = set->server_latency_ms > 0 ? (int64_t)set->server_latency_ms * MS : p->lead_ns;
	log_info("synth.lead",
	         "timetags move %.1f ms ahead: %s (probe notes: timetag - /n_go "
	         "%.1f .. %.1f ms, /status round trip %.1f ms)",
	         (double)lead / 1e6,
	         set->server_latency_ms > 0 ? "synth.server_latency_ms" : "measured",
	         (double)p->earliest_ns / 1e6, (double)p->latest_ns / 1e6, (double)p->rtt_ns / 1e6);
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
	if (sc->cut_pending) {
		/* Bundles the server still holds from before (it was stopped,
		 * say) play at once when it goes on: cut them short, in the same
		 * control block, before the output hears them (volume 0 would
		 * glide down over SYNTHDEF_LAG_S, a burst fading out); the set-up
		 * makes a new effect synth.  Once a loss: the worker sends
		 * nothing more until the link is ready, so the cut, queued behind
		 * all of it, stays the last word. */
		send_now_bundle(sc, "/n_free", "i", SYNTH_SC_FX_NODE);
		send_now_bundle(sc, "/g_freeAll", "i", SYNTH_SC_GROUP);
		sc->cut_pending = false;
		log_info("synth.cut",
		         "cut what the server held from before: 2 bundles timetagged now "
		         "(its log calls them late)");
	}
	for (int i = 0; rtclock_mono_ns() < until && !sc_stopping(sc) && server_process_up(sc);
	     i++) {
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
		return snd == SYNTH_SOUND_SILENT     ? SYNTH_FAULT_SILENT
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
	sc->cut_pending = !sc->managed;
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
	int64_t now = arrived; /* replies may be read in a batch after it */
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
	int64_t sent = atomic_load_explicit(&sc->note_sent[k], memory_order_acquire);
	if (atomic_load_explicit(&sc->note_node[k], memory_order_acquire) != node)
		return;
	int64_t over =
	    sc_link_late_ns(&sc->probe, t + atomic_load(&sc->out_latency_ns), sent, arrived);
	if (over > 0) {
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
	int64_t due =
	    atomic_load(&sc->meter_ns) + INT64_C(1000000000) / SYNTHDEF_METER_HZ + 50 * MS;
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
		int64_t span_end = atomic_load_explicit(&sc->exp_end, memory_order_acquire);
		bool watched = now - atomic_load(&sc->watched_ns) < SC_WATCH_HOLD_NS;
		sc->next_tick =
		    synth_health_next_tick(&sc->health, now, span_end, atomic_load(&sc->ready_ns),
		                           atomic_load(&sc->meter_ns), watched);
		/* quiet: nothing sounds, the pace waits for the meter to go stale
		 * (playing while nobody looks is slow too, but not quiet) */
		bool quiet = span_end <= now - SYNTH_HEALTH_HOLD_NS &&
		             sc->next_tick > now + SYNTH_HEALTH_TICK_NS;
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
	enum synth_health_action a =
	    synth_health_tick(&sc->health, now, ready, atomic_load(&sc->ready_ns),
	                      atomic_load(&sc->meter_ns), curable(f));
	atomic_store(&sc->sound, sc->health.sound);
	if (step > 0 && sc->health.step == 0)
		log_info("synth.health", "the sound path is healthy again");
	if (a == SYNTH_HEALTH_NONE) {
		atomic_store(&sc->watchdog_ok, synth_health_watchdog_ok(&sc->health));
		return;
	}
	atomic_fetch_add(&sc->health_faults, 1);
	const char *why = !ready ? "does not come back"
	                  : sc->health.sound == SYNTH_SOUND_SILENT
	                      ? "is silent while notes should sound"
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
		log_error("synth.health",
		          "the server %s after restarts of scsynth and the audio "
		          "stack: no longer feeding systemd's watchdog",
		          why);
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

void *sc_ctl_main(void *arg)
{
	struct sc *sc = arg;
	int64_t retry_at = 0, next_hb = 0, due = 0;
	bool prev_quick = false; /* the previous pass neither set up nor replaced a server */
	int misses = 0;

	sc_link_on_node_reply(sc->l, SYNTHDEF_METER_PATH, on_meter, sc);
	sc_link_on_go(sc->l, on_go, sc);
	while (!sc_stopping(sc)) {
		int64_t now = rtclock_mono_ns();
		if (prev_quick && now - due > SELF_STALL_NS) {
			/* This process was stopped or starved, not the server: what
			 * it could not read meanwhile is no sign of a hung server. */
			log_warn("synth.stall",
			         "the control thread ran %.1f s later than it meant to: "
			         "the server's health is judged afresh from now",
			         (double)(now - due) / 1e9);
			synth_health_resume(&sc->health, now);
			misses = 0;
			next_hb = 0;
			sc->status_out = false;
		}
		due = now; /* a pass that does not sleep means to run again at once */
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
			if (r == SETUP_OK && sc->managed &&
			    atomic_load(&sc->died_pid) == sc->setup_pid)
				r = SETUP_NO_ANSWER; /* it died during the set-up */
			if (r == SETUP_OK) {
				sc->setup_fault = SYNTH_FAULT_NONE;
				atomic_store(&sc->first_note_ns, 0);
				atomic_store(&sc->sound, SYNTH_SOUND_UNKNOWN);
				atomic_store(&sc->ready_ns, rtclock_mono_ns());
				atomic_fetch_add(&sc->gen, 1);
				if (sc->lost_once)
					atomic_fetch_add(&sc->restarts, 1);
				atomic_store_explicit(&sc->link, LINK_CONNECTED,
				                      memory_order_release);
				log_info("synth.ready", "scsynth at %s:%d ready (%u restarts)",
				         sc->host, sc->port, atomic_load(&sc->restarts));
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
			until = next_hb; /* quiet: the heartbeat goes along with the tick */
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
