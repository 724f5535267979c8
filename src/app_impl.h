/*
 * app_impl: the running program's state, shared by app.c (start, sinks,
 * devices, reload, stop) and app_readers.c (the console, the HTTP API, the
 * OSC control surface and the presets they load and save).  Private to the program.
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
#include "rt/snapshot.h"

struct console;
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

/* The LED port can be replaced on reload while the worker runs: the sink
 * reads the current port through an atomic pointer. */
struct app_led {
	_Atomic(struct led *) led;
};

struct app {
	const struct cli_options *opts;
	struct config *cfg;		/* the active configuration (owned; main thread) */
	struct engine *engine;
	struct inq *inq;
	struct worker *worker;
	struct synth *synth;
	struct midi_out *midi_out;	/* NULL: no MIDI output */
	struct synth *notes;		/* notes to the MIDI output beside scsynth, or NULL */
	struct midi_clock *midi_clock;	/* the MIDI output's sink (clock out, pump) */
	struct app_led led;
	struct evout *evout;
	_Atomic(struct midi_in *) midi;	/* read by the worker's snapshot */
	char midi_spec[CONFIG_STR_MAX];
	char led_spec[CONFIG_STR_MAX];
	struct console *console;
	struct http *http;
	struct osc_ctl *osc;		/* the OSC control surface, NULL when off */
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

#endif
