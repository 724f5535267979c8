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
 * then sends /status every heartbeat_ms.  When the server dies (the
 * supervisor reports it) or stops answering, the link goes to RESTARTING
 * and the set-up runs again on the new server; a generation counter tells
 * the real-time side to forget its voices.  In managed mode the supervisor
 * (supervise.c) runs jackd (unless a JACK server already runs) and
 * scsynth.  Everything the snapshot shows is kept in atomics.
 */
#include "rt/synth_sc.h"

#include <errno.h>
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/param.h"
#include "rt/log.h"
#include "rt/rtclock.h"
#include "rt/sc_link.h"
#include "rt/sc_plan.h"
#include "rt/supervise.h"
#include "rt/synthdef.h"

#define MS INT64_C(1000000)
#define NTP_UNIX_OFFSET INT64_C(2208988800)
#define TT_NOW UINT64_C(1)		/* the OSC timetag "immediately" */
#define PKT_MAX 512
/* On exit me_fx fades its output out (SYNTHDEF_LAG_S) and frees itself
 * before the voices are freed: stopping is a fade, not a click.  Its /n_end
 * is awaited this long at most. */
#define EXIT_FADE_WAIT_MS 1000
#define HEARTBEAT_MISSES 3		/* unanswered /status before the server counts as lost */
#define DEFS_RETRY_NS (10000 * MS)
#define REC_FRAMES 65536

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
	atomic_int link;		/* enum synth_link */
	atomic_uint gen;		/* bumped on every (re)set-up of the server */
	_Atomic double cutoff, mix, volume;
	atomic_uint_fast64_t notes, bundles, dropped, steals, late;
	atomic_int voices_in_use, synths, synths_peak, server_pid, jack_pid;
	_Atomic float cpu_avg, cpu_peak;
	atomic_uint restarts, record_part;
	atomic_llong ready_ns, down_ns, first_note_ns;
	atomic_llong out_latency_ns;	/* the output latency scsynth compensates (its log) */
	atomic_int server_died, jack_restarted, stopping;

	/* control side */
	pthread_t ctl;
	bool ctl_started;
	struct sc_link *l;
	struct supervise *jack_sv, *sc_sv;
	bool recording;
	bool lost_once;
};

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

/* Sends each command as a bundle timetagged at its time (now_tt: at once). */
static void send_cmds(struct sc *sc, const struct sc_cmd *c, size_t n, int64_t mono, int64_t real,
    bool now_tt)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t tt = now_tt && c[i].t <= mono ? TT_NOW : synth_sc_timetag(c[i].t, mono, real);
		send_pkt(sc, sc_plan_bundle(&c[i], tt, sc->pkt, sizeof sc->pkt));
		if (c[i].type == SC_CMD_NOTE) {
			atomic_fetch_add(&sc->notes, 1);
			if (atomic_load(&sc->first_note_ns) == 0)
				atomic_store(&sc->first_note_ns, c[i].t);
		}
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
	if (atomic_load_explicit(&sc->link, memory_order_acquire) != SYNTH_LINK_READY) {
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
	/* scsynth plays a timetag at the speaker, its output latency after it
	 * computes the sample; every tag is moved by that latency, so events
	 * reach the server as far ahead as the engine scheduled them. */
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
	if (atomic_load_explicit(&sc->link, memory_order_acquire) == SYNTH_LINK_READY) {
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

/* Is the managed scsynth process running (the external one always counts)? */
static bool server_process_up(struct sc *sc)
{
	if (!sc->managed)
		return true;
	struct supervise_stats st;
	supervise_get_stats(sc->sc_sv, &st);
	return st.pid != 0;
}

/* Handshake and set-up of a (new) server: notify, defs, group, fx, recorder. */
static enum setup_result setup(struct sc *sc)
{
	enum sc_link_err e = SC_LINK_E_TIMEOUT;
	for (int i = 0; i < 30 && !stopping(sc) && server_process_up(sc); i++) {
		e = sc_link_notify(sc->l, 1, 100);
		if (e == SC_LINK_OK)
			break;
	}
	if (e != SC_LINK_OK)
		return SETUP_NO_ANSWER;
	e = sc_link_load_defs(sc->l, 2000);
	if (e == SC_LINK_E_TIMEOUT)
		return SETUP_NO_ANSWER;
	if (e) {
		log_error("synth.defs", "loading the synth defs failed: %s %s", sc_link_strerror(e),
		    sc_link_last_fail(sc->l));
		return SETUP_FAILED;
	}
	if (!sc->managed) {
		/* Our nodes from an earlier session of the same server. */
		sc_link_send_args(sc->l, "/n_free", "iii", SYNTH_SC_REC_NODE, SYNTH_SC_FX_NODE,
		    SYNTH_SC_GROUP);
		sc_link_send_args(sc->l, "/b_close", "i", SYNTH_SC_REC_BUF);
		sc_link_sync(sc->l, 3, 1000);
	}
	e = sc_link_trial(sc->l, synthdef_names[0], SYNTH_SC_TRIAL_NODE, 0, 1000);
	if (e == SC_LINK_E_TIMEOUT)
		return SETUP_NO_ANSWER;
	if (e) {
		log_error("synth.defs", "the server does not play %s: %s", synthdef_names[0],
		    sc_link_last_fail(sc->l));
		return SETUP_FAILED;
	}
	sc_link_send_args(sc->l, "/g_new", "iii", SYNTH_SC_GROUP, 0, 0);
	sc_link_send_args(sc->l, "/s_new", "siiisisfsfsi", synthdef_names[1], SYNTH_SC_FX_NODE, 3,
	    SYNTH_SC_GROUP, "in", SYNTHDEF_FX_BUS, "mix", (float)atomic_load(&sc->mix), "volume",
	    (float)atomic_load(&sc->volume), "out", 0);
	sc->recording = false;
	if (sc->s->set.record_path[0])
		start_recording(sc, sc->lost_once ? atomic_load(&sc->record_part) + 1 : 0);
	e = sc_link_sync(sc->l, 1, 1000);
	if (e)
		return SETUP_NO_ANSWER;
	return SETUP_OK;
}

static void update_stats(struct sc *sc)
{
	struct supervise_stats st;
	if (sc->sc_sv) {
		supervise_get_stats(sc->sc_sv, &st);
		atomic_store(&sc->late, st.counted);
		atomic_store(&sc->server_pid, st.pid);
		if (st.state == SUPERVISE_ERROR && atomic_load(&sc->link) != SYNTH_LINK_READY)
			atomic_store(&sc->link, SYNTH_LINK_ERROR);
	}
	if (sc->jack_sv) {
		supervise_get_stats(sc->jack_sv, &st);
		atomic_store(&sc->jack_pid, st.pid);
		if (st.state == SUPERVISE_ERROR && atomic_load(&sc->link) != SYNTH_LINK_READY)
			atomic_store(&sc->link, SYNTH_LINK_ERROR);
	}
}

static bool heartbeat(struct sc *sc)
{
	struct sc_status st;
	if (sc_link_status(sc->l, &st, 300) != SC_LINK_OK)
		return false;
	atomic_store(&sc->cpu_avg, st.avg_cpu);
	atomic_store(&sc->cpu_peak, st.peak_cpu);
	atomic_store(&sc->synths, st.synths);
	if (st.synths > atomic_load(&sc->synths_peak))
		atomic_store(&sc->synths_peak, st.synths);
	return true;
}

static void lost(struct sc *sc, const char *why)
{
	atomic_store(&sc->link, SYNTH_LINK_RESTARTING);
	if (atomic_load(&sc->down_ns) < atomic_load(&sc->ready_ns))
		atomic_store(&sc->down_ns, rtclock_mono_ns());
	sc->lost_once = true;
	sc->recording = false;
	log_warn("synth.lost", "scsynth %s; bringing it back", why);
}

static void *ctl_main(void *arg)
{
	struct sc *sc = arg;
	int64_t retry_at = 0, next_hb = 0;
	int misses = 0;

	while (!stopping(sc)) {
		int64_t now = rtclock_mono_ns();
		update_stats(sc);
		if (atomic_exchange(&sc->jack_restarted, 0) && sc->sc_sv) {
			/* scsynth lost its JACK server: start it again on the new one. */
			supervise_restart(sc->sc_sv);
		}
		if (atomic_load(&sc->link) != SYNTH_LINK_READY) {
			if (now < retry_at || !server_process_up(sc)) {
				nap_ms(10);
				continue;
			}
			atomic_store(&sc->server_died, 0);
			enum setup_result r = setup(sc);
			if (r == SETUP_OK) {
				atomic_store(&sc->first_note_ns, 0);
				atomic_store(&sc->ready_ns, rtclock_mono_ns());
				atomic_fetch_add(&sc->gen, 1);
				if (sc->lost_once)
					atomic_fetch_add(&sc->restarts, 1);
				atomic_store_explicit(&sc->link, SYNTH_LINK_READY, memory_order_release);
				log_info("synth.ready", "scsynth at %s:%d ready (%u restarts)", sc->host,
				    sc->port, atomic_load(&sc->restarts));
				misses = 0;
				next_hb = 0;
			} else if (r == SETUP_FAILED) {
				atomic_store(&sc->link, SYNTH_LINK_ERROR);
				retry_at = now + DEFS_RETRY_NS;
			} else {
				retry_at = now + 100 * MS;
			}
			continue;
		}
		if (atomic_exchange(&sc->server_died, 0)) {
			lost(sc, "died");
			continue;
		}
		if (now >= next_hb) {
			next_hb = now + (int64_t)sc->s->set.heartbeat_ms * MS;
			if (heartbeat(sc)) {
				misses = 0;
			} else if (++misses >= HEARTBEAT_MISSES) {
				lost(sc, "stopped answering /status");
				if (sc->sc_sv)
					supervise_restart(sc->sc_sv);
				continue;
			}
		}
		nap_ms(10);
	}

	/* Leaving: fade the master out (the voices were released) and wait
	 * until the server has done it (me_fx frees itself, in the server's own
	 * time: a starved server cannot be cut short by our clock); then free
	 * the voices, now unheard, close the recording, unregister. */
	if (atomic_load(&sc->link) == SYNTH_LINK_READY) {
		sc_link_send_args(sc->l, "/n_set", "isf", SYNTH_SC_FX_NODE, "gate", 0.0f);
		bool faded = sc_link_wait(sc->l, "/n_end", NULL, SYNTH_SC_FX_NODE, NULL,
		    EXIT_FADE_WAIT_MS) == SC_LINK_OK;
		if (!faded)
			log_warn("synth.stop", "the server did not end the fade-out within %d ms",
			    EXIT_FADE_WAIT_MS);
		sc_link_send_args(sc->l, "/g_freeAll", "i", SYNTH_SC_GROUP);
		stop_recording(sc);
		if (faded)
			sc_link_send_args(sc->l, "/n_free", "i", SYNTH_SC_GROUP);
		else
			sc_link_send_args(sc->l, "/n_free", "ii", SYNTH_SC_FX_NODE, SYNTH_SC_GROUP);
		sc_link_notify(sc->l, 0, 500);
	}
	atomic_store(&sc->link, SYNTH_LINK_STARTING);
	return NULL;
}

/* --- the managed audio stack ---------------------------------------------- */

static const char *const no_autostart[] = {"JACK_NO_START_SERVER=1", NULL};

/* Does a JACK server called name run?  (jack_wait prints "running" or "not running".) */
static bool jack_running(const char *name)
{
	const char *argv[] = {"jack_wait", "-c", "-s", name, NULL};
	char out[128];
	if (supervise_run(argv, no_autostart, out, sizeof out, 2000 * MS) < 0)
		return false;
	return strncmp(out, "running", 7) == 0;
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

/* Before each scsynth start: its port must be free and JACK must run. */
static int sc_before_start(void *ud)
{
	struct sc *sc = ud;
	if (!port_free(sc->port)) {
		log_error("synth.port", "UDP port %d is taken: another scsynth runs there? "
		    "(set synth.port)", sc->port);
		return -1;
	}
	for (int i = 0; i < 30 && !stopping(sc); i++) {
		if (jack_running(sc->jack_name))
			return 0;
		nap_ms(100);
	}
	log_warn("synth.jack", "JACK server '%s' is not running", sc->jack_name);
	return -1;
}

static void sc_on_exit(void *ud, pid_t pid, int status)
{
	struct sc *sc = ud;
	atomic_store(&sc->down_ns, rtclock_mono_ns());
	atomic_store(&sc->server_died, 1);
	if (!stopping(sc))
		log_warn("synth.exit", "scsynth (pid %d) ended: %s %d", (int)pid,
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void sc_on_line(void *ud, enum supervise_stream st, const char *line)
{
	struct sc *sc = ud;
	static const char key[] = "max output latency ";
	const char *p = strstr(line, key);
	if (p) {
		double ms = strtod(p + sizeof key - 1, NULL);
		if (ms >= 0 && ms < 1000)
			atomic_store(&sc->out_latency_ns, (long long)(ms * 1e6));
	}
	log_debug("scsynth", "%s", line);
}

static void jack_on_start(void *ud, pid_t pid, unsigned no)
{
	struct sc *sc = ud;
	if (no > 0)
		atomic_store(&sc->jack_restarted, 1);
}

static void jack_on_exit(void *ud, pid_t pid, int status)
{
	struct sc *sc = ud;
	if (!stopping(sc))
		log_warn("synth.exit", "jackd (pid %d) ended", (int)pid);
}

static void jack_on_line(void *ud, enum supervise_stream st, const char *line)
{
	log_debug("jackd", "%s", line);
}

static enum synth_err start_stack(struct sc *sc)
{
	const struct synth_settings *set = &sc->s->set;
	enum supervise_err e;
	char rate[16], period[16], port[16];
	snprintf(rate, sizeof rate, "%d", set->sample_rate);
	snprintf(period, sizeof period, "%d", set->jack_period);
	snprintf(port, sizeof port, "%d", sc->port);

	if (jack_running(sc->jack_name)) {
		log_info("synth.jack", "using the running JACK server '%s'", sc->jack_name);
	} else {
		bool alsa = set->jack_driver == SYNTH_JACK_ALSA ||
			    (set->jack_driver == SYNTH_JACK_AUTO && synth_sc_sound_card());
		const char *alsa_argv[] = {"jackd", "-n", sc->jack_name, "-d", "alsa", "-d", "hw:0",
		    "-r", rate, "-p", period, "-n", "3", NULL};
		const char *dummy_argv[] = {"jackd", "-n", sc->jack_name, "-d", "dummy", "-r", rate,
		    "-p", period, NULL};
		struct supervise_spec js = {
			.name = "jackd",
			.argv = alsa ? alsa_argv : dummy_argv,
			.env = no_autostart,
			.on_start = jack_on_start,
			.on_exit = jack_on_exit,
			.on_line = jack_on_line,
			.ud = sc,
		};
		sc->jack_sv = supervise_start(&js, &e);
		if (!sc->jack_sv) {
			log_error("synth.jack", "cannot start jackd: %s", supervise_strerror(e));
			return e == SUPERVISE_E_NOTFOUND ? SYNTH_E_PROGRAM : SYNTH_E_THREAD;
		}
		log_info("synth.jack", "started jackd '%s' with the %s driver", sc->jack_name,
		    alsa ? "ALSA" : "dummy");
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
static int parse_host_port(const char *s, char *host, size_t n, int *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -1;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || p < 1 || p > 65535)
		return -1;
	const char *h = s;
	size_t len = (size_t)(colon - s);
	if (h[0] == '[' && len >= 2 && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (len == 0 || len >= n)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	*port = (int)p;
	return 0;
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
	const struct synth_settings *set = &s->set;
	atomic_store(&sc->link, SYNTH_LINK_STARTING);
	atomic_store(&sc->cutoff, set->cutoff);
	atomic_store(&sc->mix, set->reverb_mix);
	atomic_store(&sc->volume, set->volume);
	struct sc_plan_settings ps;
	sc_plan_settings_default(&ps);
	ps.voices = set->voices;
	ps.lookahead_ns = (int64_t)set->lookahead_ms * MS;
	ps.latency_ns = (int64_t)set->latency_ms * MS;
	ps.cutoff = set->cutoff;
	ps.mix = set->reverb_mix;
	ps.volume = set->volume;
	ps.attack = set->attack;
	ps.release = set->release;
	sc_plan_init(&sc->plan, &ps);
	snprintf(sc->jack_name, sizeof sc->jack_name, "%s",
	    set->jack_name[0] ? set->jack_name : "default");

	enum synth_err e = SYNTH_OK;
	if (strcmp(set->server, "managed") == 0) {
		sc->managed = true;
		snprintf(sc->host, sizeof sc->host, "127.0.0.1");
		sc->port = set->port;
	} else if (parse_host_port(set->server, sc->host, sizeof sc->host, &sc->port) != 0) {
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
	while (atomic_load(&sc->link) != SYNTH_LINK_READY) {
		if (rtclock_mono_ns() >= until)
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
}

static void sc_close(struct synth *s)
{
	struct sc *sc = s->priv;
	if (!sc)
		return;
	atomic_store(&sc->stopping, 1);
	if (sc->ctl_started)
		pthread_join(sc->ctl, NULL);
	/* scsynth before the JACK server it plays on. */
	supervise_stop(sc->sc_sv);
	supervise_stop(sc->jack_sv);
	sc_link_close(sc->l);
	if (sc->fd >= 0)
		close(sc->fd);
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
