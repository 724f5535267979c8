/*
 * app_impl: the running program's state, shared by app.c (start, sinks,
 * devices, reload, stop), app_readers.c (the console, the HTTP API, the
 * OSC control surface, the control socket and the presets they load and
 * save) and app_learn.c (MIDI learn).  Private to the program.
 */
#ifndef ME_SRC_APP_IMPL_H
#define ME_SRC_APP_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/engine.h"
#include "cfg/cli.h"
#include "cfg/config.h"
#include "ops/learn.h"
#include "rt/snapshot.h"

struct console;
struct ctl_server;
struct evout;
struct http;
struct inq;
struct led;
struct midi_clock;
struct midi_in;
struct midi_out;
struct osc_ctl;
struct synth;
struct worker;

#define APP_INQ_CAP 1024
#define APP_CLOCK_INQ_CAP 256 /* a clock port's queue: pulses and transport only */

/* The LED port can be replaced on reload while the worker runs: the sink
 * reads the current port through an atomic pointer. */
struct app_led {
	_Atomic(struct led *) led;
};

/* MIDI learn: the worker's sink notes the last CC that arrived; a thread
 * of its own waits for one while a console learns, records it in the map
 * (saved to the state folder) and asks the main thread for a reload, which
 * lays the map over the configuration (app_learn.c). */
struct app_learn {
	atomic_int param;      /* being learned, -1 none */
	atomic_uint seen;      /* CCs that reached the engine */
	atomic_int cc;         /* the last one's number */
	atomic_int owner[128]; /* the parameter each CC moves now, -1 none */
	pthread_mutex_t lock;  /* map, msg (never the worker) */
	struct learn_map map;
	char msg[160];
	int64_t msg_at_ns; /* CLOCK_REALTIME */
	pthread_t thread;
	bool thread_on;
};

/* Who stopped the instrument, when not a plain signal. */
enum app_stop_by { APP_STOP_SIGNAL, APP_STOP_ATTACHED, APP_STOP_HANGUP };

struct app {
	const struct cli_options *opts;
	struct config *cfg; /* the active configuration (owned; main thread) */
	struct engine *engine;
	struct inq *inq;
	struct worker *worker;
	struct synth *synth;
	struct midi_out *midi_out;     /* NULL: no MIDI output */
	struct synth *notes;           /* notes to the MIDI output beside scsynth, or NULL */
	struct midi_clock *midi_clock; /* the MIDI output's sink (clock out, pump) */
	struct app_led led;
	struct evout *evout;
	_Atomic(struct midi_in *) midi; /* read by the worker's snapshot */
	char midi_spec[CONFIG_STR_MAX];
	struct inq *clock_inq;                /* from the clock port's thread to the worker */
	_Atomic(struct midi_in *) clock_midi; /* the clock port, NULL: none of its own */
	char clock_spec[CONFIG_STR_MAX];      /* "input": the clock comes on the MIDI input */
	char led_spec[CONFIG_STR_MAX];
	struct console *console;
	struct http *http;
	struct osc_ctl *osc;         /* the OSC control surface, NULL when off */
	struct ctl_server *ctl;      /* the control socket (attach, ctl) */
	atomic_uint reloads;         /* reloads done (the control socket waits on it) */
	pthread_mutex_t reload_lock; /* reload_text, reload_ok */
	char reload_text[512];       /* what the last reload did */
	bool reload_ok;
	atomic_int stop_by; /* enum app_stop_by when not a plain signal */
	bool audio_dummy;   /* the managed stack on JACK's dummy driver (set at start) */
	struct app_learn learn;
	char state_dir[CONFIG_STR_MAX]; /* where the learned map lives (set at start) */
	pthread_t main_thread;
	atomic_bool quit_requested;
	atomic_bool worker_running;
	const char *mode_names[ENGINE_MAX_PROFILES + 1];
	const char *palette_names[ENGINE_MAX_PALETTES + 1];
	/* the worker's side (sink callbacks): where presets live, for readers */
	char wk_preset_dir[SNAP_PATH_MAX];
};

/* --- app_readers.c ------------------------------------------------------- */

/* DIR/presets for the configuration's state directory, into buf. */
char *app_preset_dir(const struct config *cfg, char *buf, size_t n);
/* Main thread, before the worker starts: the preset asked for on the
 * command line; 0 or -1 (logged). */
int app_load_first_preset(struct app *a, const char *name);
/* The HTTP API, when the configuration or --http asks for it. */
void app_start_http(struct app *a);
/* The OSC control surface, when the configuration turns it on. */
void app_start_osc(struct app *a);
/* The console on the terminal (log lines then go to the file only). */
void app_start_console(struct app *a);
/* Log lines to the terminal again (on), or to the log file only. */
void app_log_to_terminal(const struct app *a, bool on);
/* The control socket (attach, ctl). */
void app_start_ctl(struct app *a);

/* --- app_learn.c --------------------------------------------------------- */

/* Main thread, before the worker starts: the learned map from the state
 * folder, laid over the starting configuration. */
void app_learn_start(struct app *a);
/* Main thread (a reload): lays the learned map over eng. */
void app_learn_apply(struct app *a, struct engine_config *eng);
/* Starts learning a controller for param (or cancels with -1); any
 * control-side thread.  0, or -1 with the reason in msg. */
int app_learn_request(struct app *a, int param, char *msg, size_t n);
/* A message for the console's key bar (and the log). */
void app_learn_say(struct app_learn *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Worker sink: notes the CCs that reach the engine. */
void app_learn_sink_events(void *ctx, const struct event *ev, size_t n, int64_t now);
/* Stops a learning under way and joins its thread (teardown). */
void app_learn_stop(struct app *a);

#endif
