/*
 * config: the instrument's configuration file (libconfig), its schema,
 * validation and printing.
 *
 * struct config is plain data (no pointers), so it can be copied, compared
 * and swapped on reload.  config_load() never touches *out unless the whole
 * configuration is valid.  Start-up and reload code (main thread) calls it;
 * it allocates and does I/O, so never the real-time worker.
 */
#ifndef ME_CFG_CONFIG_H
#define ME_CFG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/engine.h"

#define CONFIG_STR_MAX 1024         /* longest string value + 1 */
#define CONFIG_BUILTIN "<built-in>" /* source name of the embedded default */
#define CONFIG_EX_CONFIG 78         /* exit status on a configuration error */

enum config_synth_backend { CONFIG_SYNTH_SUPERCOLLIDER, CONFIG_SYNTH_NONE, CONFIG_SYNTH_MIDI };
enum config_jack_driver { CONFIG_JACK_AUTO, CONFIG_JACK_ALSA, CONFIG_JACK_DUMMY };

struct config {
	struct engine_config engine; /* midi channel, mapping .. idle */

	struct {
		char input_port[CONFIG_STR_MAX]; /* auto | portmidi:NAME | raw:PATH[@BAUD] | none */
		char output_port[CONFIG_STR_MAX];      /* none | raw:PATH[@BAUD] */
		bool clock_out;                        /* send MIDI clock on the output */
		bool notes_out;                        /* send the notes on the output */
		int out_channel;                       /* 1..16 */
		char clock_input_port[CONFIG_STR_MAX]; /* input | portmidi:NAME | raw:PATH[@BAUD] */
	} midi;
	struct {
		int backend;                 /* enum config_synth_backend */
		char server[CONFIG_STR_MAX]; /* "managed" or HOST:PORT */
		int port, voices, lookahead_ms, latency_ms, sample_rate, jack_period;
		int server_latency_ms;             /* 0 = learn it */
		int late_drop_ms;                  /* stall tolerance (see worker.h) */
		int jack_driver;                   /* enum config_jack_driver */
		char jack_name[CONFIG_STR_MAX];    /* JACK server used or started */
		char audio_device[CONFIG_STR_MAX]; /* ALSA card: auto | id | name | hw:... */
	} synth;
	struct {
		char transport[CONFIG_STR_MAX]; /* none | serial:PATH[@BAUD] | udp:HOST:PORT */
		int max_rate;                   /* frames per second */
	} led;
	struct {
		int level; /* enum log_level order: 0 error, 1 warn, 2 info, 3 debug */
		char file[CONFIG_STR_MAX]; /* "" = no file */
		int64_t max_size;          /* bytes, 0 = never rotate */
		int keep;
	} logging;
	struct {
		bool enabled;
		char address[CONFIG_STR_MAX]; /* IPv4 or IPv6 literal */
		int port;
		bool allow_control;
		int max_writes_per_s;
	} api;
	struct {
		bool enabled;
		char address[CONFIG_STR_MAX]; /* IPv4 or IPv6 literal */
		int port;
		char allowed_hosts[CONFIG_STR_MAX]; /* see osc_ctl_hosts_parse */
		int reply_port;                     /* 0: the sender's port */
		int max_writes_per_s;
	} osc;
	struct {
		char dir[CONFIG_STR_MAX]; /* "" = the default (see config_state_dir) */
	} state;
	struct {
		char socket[CONFIG_STR_MAX]; /* "" = the runtime folder's (ctl_default_path) */
		char group[CONFIG_STR_MAX];  /* "" = the process's group */
	} control;

	char source[CONFIG_STR_MAX]; /* file it came from, or CONFIG_BUILTIN */
};

/* Every error of one load, each a line `SOURCE[:LINE]: KEY: problem`. */
struct config_errors {
	char **msg;
	int n, cap;
};

enum config_status {
	CONFIG_OK,
	CONFIG_ERR_IO,      /* a file could not be read */
	CONFIG_ERR_SYNTAX,  /* libconfig could not parse it */
	CONFIG_ERR_INVALID, /* a key is unknown, mistyped or out of range */
};

const char *config_strerror(enum config_status s);

/*
 * Loads the configuration: the built-in default, then path (NULL: the first
 * that exists of $XDG_CONFIG_HOME/mystery-engine/mystery-engine.conf,
 * ~/.config/..., SYSCONFDIR/mystery-engine/mystery-engine.conf; CONFIG_BUILTIN:
 * no file), then each "KEY=VALUE" of sets in order.  Every error is appended to errs (which the
 * caller frees with config_errors_free); *out is written only on success.
 */
enum config_status config_load(struct config *out, const char *path, const char *const *sets,
                               int n_sets, struct config_errors *errs);
void config_errors_free(struct config_errors *errs);

/* Prints cfg in libconfig syntax, with comments; config_load() reads it back. */
void config_print(const struct config *cfg, FILE *out);

/* The directory presets and state live in (see state.dir); "" if none. */
void config_state_dir(const struct config *cfg, char *buf, size_t n);

/* The text of conf/mystery-engine.conf, embedded at build time. */
extern const char config_default_text[];

/* Checks of the string forms the command line shares; 0 if fine, else -1. */
int config_check_midi_spec(const char *s);     /* auto | none | portmidi:NAME | raw:PATH[@BAUD] */
int config_check_midi_out_spec(const char *s); /* none | portmidi:NAME | raw:PATH[@BAUD] */
int config_check_clock_in_spec(const char *s); /* input | portmidi:NAME | raw:PATH[@BAUD] */
int config_check_led_spec(const char *s);      /* none | serial:PATH[@BAUD] | udp:HOST:PORT */
int config_check_host_port(const char *s);     /* HOST:PORT or [IPV6]:PORT, port 1..65535 */

/* The schema: one row per key (tables count as one key). */
enum config_type {
	CONFIG_T_BOOL,
	CONFIG_T_INT,         /* int */
	CONFIG_T_INT64,       /* int64_t */
	CONFIG_T_FLOAT,       /* double */
	CONFIG_T_CHOICE,      /* one of choices, stored as its index (int) */
	CONFIG_T_STRING,      /* char[CONFIG_STR_MAX], form checked by check */
	CONFIG_T_PROFILE_REF, /* the name of a profile, or "" */
	CONFIG_T_NAMES,       /* list of names: scales, modes, palettes */
	CONFIG_T_CCS,         /* mapping.ccs: param = CC number */
	CONFIG_T_BUTTONS,     /* mapping.buttons: action = [first, last] */
	CONFIG_T_PROFILES,    /* profiles: name = { param = value; ... } */
	CONFIG_T_MUTATION,    /* mutation.params: param = { min; max; weight; step; } */
	CONFIG_T_ROOTS,       /* mutation.roots: list of semitone offsets */
};

struct config_key {
	const char *path; /* "sequencer.bpm" */
	enum config_type type;
	double min, max;     /* numbers: range; names: count */
	const char *choices; /* CHOICE: "a|b|c"; STRING: the forms allowed */
	const char *unit;
	const char *help;
	size_t offset;               /* of the value in struct config (scalars) */
	int (*check)(const char *s); /* STRING: 0 when the form is allowed */
};

extern const struct config_key config_schema[];
extern const size_t config_schema_count;

#endif
