/*
 * cli: the command line, parsed and checked into struct cli_options.
 *
 *   mystery-engine [OPTIONS]                  run the instrument
 *   mystery-engine render [RENDER-OPTIONS]    play offline on virtual time
 *
 * Every value is checked here (forms, ranges) so later code only reads the
 * struct.  Strings point into argv.  Main thread, once at start-up.
 */
#ifndef ME_CFG_CLI_H
#define ME_CFG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_EX_USAGE 2    /* exit status of a wrong option or value */
#define CLI_PAUSES_MAX 64 /* most --pause-at of one render */

enum cli_mode {
	CLI_RUN,          /* the instrument */
	CLI_RENDER,       /* `render`: offline, virtual time */
	CLI_CHECK_CONFIG, /* --check-config: print the effective configuration */
	CLI_LIST_MIDI,    /* --list-midi */
	CLI_LIST_AUDIO,   /* --list-audio */
	CLI_VERSION,
	CLI_HELP,
	CLI_ATTACH, /* `attach`: the console of a running instance */
	CLI_CTL,    /* `ctl COMMAND`: one command to a running instance */
};

struct cli_options {
	enum cli_mode mode;

	/* common to running and rendering */
	const char *config_path; /* -c FILE; NULL: search */
	const char **sets;       /* -s KEY=VALUE, in order */
	int n_sets;
	uint64_t seed;           /* --seed N */
	bool seed_set;           /* false: the caller picks one from the time */
	const char *events_path; /* --events FILE, "-" = stdout; NULL = none */
	int verbosity;           /* +1 per -v, -1 per -q */

	/* running */
	bool daemon;          /* --daemon: service mode, JSON logs, no console */
	const char *synth;    /* --synth none|supercollider|supercollider:HOST:PORT */
	const char *record;   /* --record FILE.wav */
	const char *midi_in;  /* --midi-in SPEC (as midi.input_port) */
	const char *midi_out; /* --midi-out SPEC (as midi.output_port) */
	const char *clock_in; /* --clock-in SPEC (as midi.clock_input_port) */
	const char *led;      /* --led SPEC (as led.transport) */
	const char *http;     /* --http ADDR:PORT or "off" */
	const char *preset;   /* --preset NAME */
	const char *socket;   /* -S/--socket PATH: the control socket */

	/* attach and ctl */
	bool json;       /* --json: ctl answers as JSON */
	char **ctl_argv; /* ctl: COMMAND ARGS... (into argv) */
	int ctl_argc;

	/* rendering */
	double render_seconds;    /* --seconds N, 0 < N <= RENDER_MAX_SECONDS; 0 = not given */
	const char *render_input; /* --input FILE.mid */
	const char *render_score; /* --score OUT.osc */
	const char *render_wav;   /* --wav OUT.wav */
	int64_t render_pauses[CLI_PAUSES_MAX]; /* --pause-at S, ns, ascending */
	int n_render_pauses;
};

/*
 * Parses argv into o.  Returns 0, or CLI_EX_USAGE after printing what is
 * wrong and the usage to err.  Free with cli_free() in both cases.
 */
int cli_parse(struct cli_options *o, int argc, char **argv, FILE *err);
void cli_free(struct cli_options *o);
void cli_usage(FILE *out);

#endif
