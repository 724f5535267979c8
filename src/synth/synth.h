/*
 * synth: the sound backends behind one ops table.
 *
 * "none" plays nothing (it only counts), "supercollider" sends timetagged
 * OSC bundles to scsynth (synth_sc.c), either a server it starts and
 * supervises itself (jackd and scsynth, "managed") or a running one
 * (HOST:PORT).  The start-up thread calls synth_open(), synth_wait_ready()
 * and synth_close(); the real-time worker calls synth_events() and
 * synth_release_all() (never blocking, never allocating); any thread may
 * call synth_status() (lock-free).  See doc/live.md.
 */
#ifndef ME_SYNTH_SYNTH_H
#define ME_SYNTH_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "rt/link.h"

struct config;
struct midi_out;
struct sc_plan_settings;

#define SYNTH_STR_MAX 1024
#define SYNTH_HEARTBEAT_MS 1000 /* /status period */

enum synth_jack_driver { SYNTH_JACK_AUTO, SYNTH_JACK_ALSA, SYNTH_JACK_DUMMY };

/* Everything a backend needs, as plain data (copied by synth_open()). */
struct synth_settings {
	char server[SYNTH_STR_MAX]; /* "managed" or "HOST:PORT" of a running scsynth */
	int port;                   /* UDP port of a managed scsynth */
	int voices;                 /* notes sounding at once, 1..64 */
	int lookahead_ms;           /* how far ahead the worker schedules notes */
	int latency_ms;             /* added to live actions (live == 1) */
	int sample_rate, jack_period;
	int jack_driver;       /* enum synth_jack_driver */
	char jack_name[64];    /* JACK server name; "" = "default" */
	char audio_device[80]; /* ALSA card of a started jackd (audio_card.h); "" = auto */
	char record_path[SYNTH_STR_MAX];   /* record the master output here; "" = no */
	double cutoff, reverb_mix, volume; /* starting values of the parameters */
	double attack, release;            /* starting voice attack and release, s */
	int heartbeat_ms;                  /* /status period; SYNTH_HEARTBEAT_MS */
	/* the "midi" backend: the port it schedules on (not owned) and the channel */
	struct midi_out *midi_out;
	int midi_channel;      /* 1..16 */
	int server_latency_ms; /* the server's lead added to timetags; 0 = learn it */
};

enum synth_err {
	SYNTH_OK = 0,
	SYNTH_E_BACKEND,  /* no backend of that name */
	SYNTH_E_SETTINGS, /* a setting is out of range or malformed */
	SYNTH_E_ADDRESS,  /* the server address does not resolve */
	SYNTH_E_SOCKET,   /* the UDP socket could not be opened */
	SYNTH_E_PROGRAM,  /* jackd or scsynth is not installed */
	SYNTH_E_THREAD,   /* a thread could not be started */
	SYNTH_E_NOMEM
};

/* Why there is no sound, as the snapshot shows it next to the link state. */
enum synth_fault {
	SYNTH_FAULT_NONE,
	SYNTH_FAULT_NO_SCSYNTH,   /* scsynth is not installed (not on PATH) */
	SYNTH_FAULT_NO_JACKD,     /* no JACK server runs and jackd is not installed */
	SYNTH_FAULT_JACK_DOWN,    /* the JACK server does not run */
	SYNTH_FAULT_PORT_TAKEN,   /* another program holds the server's UDP port */
	SYNTH_FAULT_SERVER_EXITS, /* scsynth keeps exiting */
	SYNTH_FAULT_NO_ANSWER,    /* the server does not answer */
	SYNTH_FAULT_DEFS,         /* the server refuses the synth defs */
	SYNTH_FAULT_SILENT,       /* notes should sound, the output stays silent */
	SYNTH_FAULT_NO_METER,     /* the server answers, its audio does not run */
	SYNTH_FAULT_COUNT
};

struct synth_status {
	const char *backend; /* "none", "supercollider" */
	enum link_state link;
	float cpu_avg, cpu_peak; /* server CPU, percent (last /status.reply) */
	int synths, synths_peak; /* synths on the server now, and the most seen */
	int voices, voices_in_use;
	uint64_t late;            /* "late" lines scsynth printed */
	unsigned restarts;        /* times the server came back after a loss */
	uint64_t notes, bundles;  /* notes played, bundles sent */
	uint64_t dropped;         /* events not sent (server not ready, send failed) */
	uint64_t steals;          /* notes that took the oldest voice */
	int server_pid, jack_pid; /* managed children (0 when none) */
	int64_t ready_ns;         /* CLOCK_MONOTONIC when the link last became ready */
	int64_t down_ns;          /* when the server was last found gone, 0 never */
	int64_t first_note_ns;    /* when the first note after ready_ns sounds, 0 none yet */
	int64_t out_latency_ns;   /* the server's lead (output latency + a period), added to
	                             every timetag */
	unsigned record_part;     /* recording file number: 0 = the given path, n = PATH-n.wav */

	/* sound health: the server's output meter and the detector (synth_health.h) */
	float out_peak, out_rms; /* last meter reply, full scale 1, the louder channel */
	int64_t meter_ns;        /* CLOCK_MONOTONIC of the last meter reply, 0 none */
	uint64_t meter_replies;
	int sound;                /* enum synth_sound */
	enum synth_fault fault;   /* why there is no sound now, SYNTH_FAULT_NONE */
	uint64_t health_faults;   /* faults the detector acted on */
	unsigned health_restarts; /* server restarts it asked for */
	unsigned stack_restarts;  /* audio stack restarts it asked for */
	bool watchdog_ok;         /* systemd's watchdog may be fed */
	uint64_t late_sent;       /* bundles that left after the server needed them */
};

struct synth;

struct synth_ops {
	const char *name;
	enum synth_err (*open)(struct synth *s);
	/* Waits up to timeout_ms for the link to be ready; 0 when it is. */
	int (*wait_ready)(struct synth *s, int timeout_ms);
	void (*events)(struct synth *s, const struct event *ev, size_t n, int64_t now_ns);
	void (*release_all)(struct synth *s);
	void (*status)(struct synth *s, struct synth_status *out);
	/* A reader looks at the figures now (optional; real-time worker). */
	void (*watch)(struct synth *s, int64_t now_ns);
	void (*close)(struct synth *s);
};

struct synth {
	const struct synth_ops *ops;
	struct synth_settings set;
	void *priv; /* the backend's state */
};

extern const struct synth_ops synth_none_ops;
extern const struct synth_ops synth_midi_ops; /* notes to an external synth (synth_midi.c) */

/* The backend called name ("none", "supercollider"), or NULL. */
const struct synth_ops *synth_find(const char *name);
/* The settings of a loaded configuration (synth section and starting
 * parameters); the built-in one (config_load(CONFIG_BUILTIN)) gives the
 * defaults. */
void synth_settings_from_config(struct synth_settings *set, const struct config *cfg);
/* What the scsynth mapping plays with these settings: the live backend and
 * the offline score alike. */
void synth_plan_settings(const struct synth_settings *set, struct sc_plan_settings *ps);
/*
 * Applies a --synth argument: "none", "supercollider" (managed) or
 * "supercollider:HOST:PORT".  Returns the backend, or NULL when spec is
 * malformed.
 */
const struct synth_ops *synth_parse_spec(const char *spec, struct synth_settings *set);

/*
 * Opens a backend (start-up thread: may block briefly, allocates, spawns
 * the audio stack).  A server that is slow or failing does not make it
 * fail: the link keeps retrying and synth_status() tells how it goes.
 */
struct synth *synth_open(const struct synth_ops *ops, const struct synth_settings *set,
                         enum synth_err *err);
int synth_wait_ready(struct synth *s, int timeout_ms);
/* Real-time worker: plays events (engine time = CLOCK_MONOTONIC ns). */
void synth_events(struct synth *s, const struct event *ev, size_t n, int64_t now_ns);
/* Real-time worker: silences every voice now. */
void synth_release_all(struct synth *s);
void synth_status(struct synth *s, struct synth_status *out);
/*
 * Real-time worker, when it fills a snapshot for a reader (console, HTTP):
 * someone looks at the figures, so keep them fresh (the output meter is
 * read every 250 ms; with nobody looking for 3 s, once a second while
 * notes sound and every 2 s while none do, faults found as soon as ever).
 */
void synth_watch(struct synth *s, int64_t now_ns);
/* Releases the voices, stops the audio stack it started and frees s. */
void synth_close(struct synth *s);

/* What an operator reads for a fault ("scsynth is not installed ..."); "" for none. */
const char *synth_fault_text(enum synth_fault f);
/* The same in a few words ("no scsynth"); "" for none. */
const char *synth_fault_name(enum synth_fault f);
const char *synth_strerror(enum synth_err e);

#endif
