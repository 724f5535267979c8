/*
 * synth_sc_stack: the scsynth backend's managed audio stack.  In managed
 * mode the supervisor (supervise.c) runs jackd (unless a JACK server
 * already runs) and scsynth, and keeps looking for them on PATH when they
 * are missing.  sc_start_stack() runs on the thread that opens the synth;
 * the callbacks (before each start, each exit, each line printed) run on
 * the supervisors' threads and talk to the control thread through the
 * atomics of struct sc and sc_ctl_ring().
 */
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dev/audio_card.h"
#include "rt/log.h"
#include "rt/rtclock.h"
#include "synth/supervise.h"
#include "synth/synth_health.h"
#include "synth/synth_sc_impl.h"

#define MISSING_RETRY_NS (1000 * MS) /* how often a missing jackd/scsynth is looked for */

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
		if (atomic_exchange(&sc->start_fault, SYNTH_FAULT_PORT_TAKEN) !=
		    SYNTH_FAULT_PORT_TAKEN)
			log_error("synth.port",
			          "UDP port %d is taken: another scsynth runs there? "
			          "(set synth.port)",
			          sc->port);
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
	while (!sc_stopping(sc)) {
		if (jack_running(sc->jack_name)) {
			atomic_store(&sc->jack_ok_pid, (int)jack);
			atomic_store(&sc->start_fault, SYNTH_FAULT_NONE);
			return 0;
		}
		if (rtclock_mono_ns() >= until)
			break;
		sc_nap_ms(100);
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
	sc_ctl_ring(sc);
	if (!sc_stopping(sc))
		log_warn("synth.exit", "scsynth (pid %d) ended: %s %d", (int)pid,
		         WIFSIGNALED(status) ? "signal" : "status",
		         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* The audio without real-time priority cannot keep time on a busy
 * machine: say so once (jackd's and scsynth's own lines are debug lines). */
static void warn_no_realtime(struct sc *sc, const char *who, const char *line)
{
	if (strstr(line, "Cannot use real-time scheduling") && !atomic_exchange(&sc->warned_rt, 1))
		log_warn("synth.realtime",
		         "%s runs without real-time priority: on a busy machine "
		         "expect xruns and late notes (the service's user needs LimitRTPRIO, see "
		         "contrib/systemd)",
		         who);
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
	sc_ctl_ring(sc);
}

static void jack_on_exit(void *ud, pid_t pid, int status)
{
	struct sc *sc = ud;
	if (!sc_stopping(sc))
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
	sc->jack_wait_card =
	    alsa && audio_card_select(NULL, set->audio_device[0] ? set->audio_device : "auto",
	                              sc->jack_card, sizeof sc->jack_card) != AUDIO_CARD_OK;
	if (sc->jack_wait_card)
		return SYNTH_OK;
	if (!alsa)
		audio_card_unused();
	const char *alsa_argv[] = {"jackd", "-n",          sc->jack_name, "-d", "alsa",
	                           "-d",    sc->jack_card, "-r",          rate, "-p",
	                           period,  "-n",          "3",           NULL};
	const char *dummy_argv[] = {"jackd", "-n", sc->jack_name, "-d",   "dummy",
	                            "-r",    rate, "-p",          period, NULL};
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

enum synth_err sc_start_stack(struct sc *sc)
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
	const char *sc_argv[] = {"scsynth", "-u", port, "-i", "0", "-o",
	                         "2",       "-R", "0",  "-l", "8", NULL};
	const char *sc_env[] = {env_server, "JACK_NO_START_SERVER=1",
	                        "SC_JACK_DEFAULT_OUTPUTS=system:playback_1,system:playback_2",
	                        NULL};
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
