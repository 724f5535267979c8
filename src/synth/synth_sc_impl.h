/*
 * synth_sc_impl: the scsynth backend's state, shared by synth_sc.c (the
 * ops table, open and close, the real-time side), synth_sc_ctl.c (the
 * control thread: set-up, heartbeat, sound health, meter, recording) and
 * synth_sc_stack.c (the managed jackd + scsynth).  Which thread may touch
 * which field is written beside it.  Private to the backend.
 */
#ifndef ME_SYNTH_SYNTH_SC_IMPL_H
#define ME_SYNTH_SYNTH_SC_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dev/audio_card.h"
#include "synth/sc_link.h"
#include "synth/sc_plan.h"
#include "synth/synth_health.h"
#include "synth/synth_sc.h"

struct supervise;

#define MS INT64_C(1000000)
#define PKT_MAX 512
#define NOTE_RING 256 /* recent notes' times, by node, for lateness */
/* A reader that looked less than this ago still looks (synth_watch()):
 * the meter is read at the 250 ms pace. */
#define SC_WATCH_HOLD_NS (3000 * MS)

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
	atomic_int link; /* enum link_state */
	atomic_uint gen; /* bumped on every (re)set-up of the server */
	_Atomic double cutoff, mix, volume;
	atomic_uint_fast64_t notes, bundles, dropped, steals, late;
	atomic_int voices_in_use, synths, synths_peak, server_pid, jack_pid;
	_Atomic float cpu_avg, cpu_peak;
	atomic_uint restarts, record_part;
	atomic_llong ready_ns, down_ns, first_note_ns;
	atomic_llong out_latency_ns; /* the output latency scsynth compensates (its log) */
	atomic_int server_died, jack_restarted, stopping;
	atomic_int died_pid;    /* the scsynth whose death server_died reports */
	atomic_int warned_rt;   /* said that the audio runs without real-time priority */
	atomic_int jack_ok_pid; /* our jackd when jack_lsp last found it running */

	/* sound health */
	atomic_llong exp_start, exp_end;   /* span of audible notes scheduled (worker) */
	atomic_llong last_t;               /* latest event time sent (worker) */
	atomic_llong note_t[NOTE_RING];    /* time of recent notes, by node (worker) */
	atomic_llong note_sent[NOTE_RING]; /* when their bundles were sent (worker) */
	atomic_int note_node[NOTE_RING];
	_Atomic float out_peak, out_rms;
	atomic_llong meter_ns;
	atomic_uint_fast64_t meter_replies, health_faults, late_sent, late_go;
	atomic_uint health_restarts, stack_restarts;
	atomic_int sound, fault, start_fault;
	atomic_bool watchdog_ok;
	atomic_llong stdout_latency_ns; /* "max output latency" scsynth printed, -1 none */
	atomic_bool ctl_quiet;          /* the control thread sleeps long: ring it for notes */
	atomic_llong watched_ns;        /* when a reader last looked (synth_watch()) */

	/* control side */
	int wake_fd; /* eventfd: news for the control thread */
	pthread_t ctl;
	bool ctl_started;
	struct sc_link *l;
	struct supervise *sc_sv;
	_Atomic(struct supervise *) jack_sv; /* started late when the card was absent */
	bool jack_wait_card;                 /* jackd waits for its sound card (audio_card.c) */
	char jack_card[AUDIO_CARD_DEV_MAX];  /* "hw:CARD=ID" jackd plays on */
	bool recording;
	bool lost_once;
	bool cut_pending;     /* an external server lost: cut what it holds (setup) */
	pid_t setup_pid;      /* the managed scsynth the link was set up with */
	pid_t gone_pid;       /* a managed scsynth known dead or being killed */
	int setup_fault;      /* enum synth_fault of the last failed set-up */
	struct sc_lead probe; /* the probe round with the largest lead (lead_ns 0: none yet) */
	struct synth_health health;
	int64_t next_tick;
	int64_t answered_ns;    /* when /status was last answered */
	uint64_t status_seen;   /* /status.reply count at the last look */
	uint64_t status_asked;  /* that count when the last /status went out */
	bool status_out;        /* a heartbeat's /status went out */
	int64_t status_sent_ns; /* when */
};

static inline bool sc_stopping(struct sc *sc)
{
	return atomic_load(&sc->stopping) != 0;
}

/* Sleeps ms milliseconds (the start-up and supervisor threads, never the worker). */
void sc_nap_ms(int ms);

/* Tells the control thread that a flag changed (any thread). */
void sc_ctl_ring(struct sc *sc);

/* The control thread (synth_sc_ctl.c), started by sc_open(). */
void *sc_ctl_main(void *arg);

/* Starts the managed stack: jackd unless a JACK server already runs, and
 * the supervised scsynth (synth_sc_stack.c; the opening thread). */
enum synth_err sc_start_stack(struct sc *sc);

#endif
