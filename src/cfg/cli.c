/*
 * cli: parses and checks the command line (getopt_long).
 *
 * Two option tables share the common options: one for running the
 * instrument, one for the `render` subcommand.  Parsing stops at the first
 * non-option ("+"), so argv is never reordered; a leftover argument is an
 * error.  Each value's form is checked here with the same checks the
 * configuration uses, so a bad --midi-in reads like a bad midi.input_port.
 * Main thread, at start-up; getopt's globals make it non-reentrant.
 */
#include "cfg/cli.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cfg/config.h"
#include "dev/devspec.h"
#include "ops/preset.h"
#include "render/render.h"

enum {
	OPT_DAEMON = 256,
	OPT_CHECK_CONFIG,
	OPT_LIST_MIDI,
	OPT_LIST_AUDIO,
	OPT_VERSION,
	OPT_SEED,
	OPT_EVENTS,
	OPT_SYNTH,
	OPT_RECORD,
	OPT_MIDI_IN,
	OPT_LED,
	OPT_HTTP,
	OPT_PRESET,
	OPT_SECONDS,
	OPT_INPUT,
	OPT_SCORE,
	OPT_WAV,
	OPT_PAUSE_AT,
	OPT_MIDI_OUT,
	OPT_CLOCK_IN,
	OPT_JSON,
};

#define COMMON_OPTIONS                                                                             \
	{"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},           \
	    {"seed", required_argument, NULL, OPT_SEED},                                           \
	    {"events", required_argument, NULL, OPT_EVENTS}, {"verbose", no_argument, NULL, 'v'},  \
	    {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},                   \
	{                                                                                          \
		"version", no_argument, NULL, OPT_VERSION                                          \
	}

static const struct option run_options[] = {
    COMMON_OPTIONS,
    {"daemon", no_argument, NULL, OPT_DAEMON},
    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
    {"list-midi", no_argument, NULL, OPT_LIST_MIDI},
    {"list-audio", no_argument, NULL, OPT_LIST_AUDIO},
    {"synth", required_argument, NULL, OPT_SYNTH},
    {"record", required_argument, NULL, OPT_RECORD},
    {"midi-in", required_argument, NULL, OPT_MIDI_IN},
    {"midi-out", required_argument, NULL, OPT_MIDI_OUT},
    {"clock-in", required_argument, NULL, OPT_CLOCK_IN},
    {"led", required_argument, NULL, OPT_LED},
    {"http", required_argument, NULL, OPT_HTTP},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"socket", required_argument, NULL, 'S'},
    {NULL, 0, NULL, 0},
};

/* attach and ctl: the socket, and JSON answers for ctl */
static const struct option client_options[] = {
    COMMON_OPTIONS,
    {"socket", required_argument, NULL, 'S'},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

static const struct option render_options[] = {
    COMMON_OPTIONS,
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"input", required_argument, NULL, OPT_INPUT},
    {"score", required_argument, NULL, OPT_SCORE},
    {"wav", required_argument, NULL, OPT_WAV},
    {"pause-at", required_argument, NULL, OPT_PAUSE_AT},
    {NULL, 0, NULL, 0},
};

void cli_usage(FILE *out)
{
	fputs(
	    "usage: mystery-engine [OPTIONS]\n"
	    "       mystery-engine render [RENDER-OPTIONS]\n"
	    "       mystery-engine attach [-S SOCKET]\n"
	    "       mystery-engine ctl [-S SOCKET] [--json] COMMAND [ARGS]\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE      read FILE instead of searching for the configuration\n"
	    "  -s, --set KEY=VALUE    override a configuration key (repeatable),\n"
	    "                         e.g. --set sequencer.bpm=128\n"
	    "      --seed N           random seed, 0..18446744073709551615 (default: from the "
	    "time)\n"
	    "      --events FILE      write every engine event as JSON lines ('-' = stdout)\n"
	    "  -v, --verbose          log more (repeatable)\n"
	    "  -q, --quiet            log less (repeatable)\n"
	    "      --daemon           run as a service: JSON log lines, no console\n"
	    "      --check-config     validate the configuration, print the effective one, exit\n"
	    "      --list-midi        list the MIDI inputs and outputs and exit\n"
	    "      --list-audio       list the sound cards, show synth.audio_device's choice, "
	    "exit\n"
	    "      --synth BACKEND    none | supercollider | supercollider:HOST:PORT | midi\n"
	    "      --record FILE.wav  record the sound to FILE.wav\n"
	    "      --midi-in SPEC     auto | none | portmidi:NAME | raw:PATH[@BAUD]\n"
	    "      --midi-out SPEC    none | portmidi:NAME | raw:PATH[@BAUD]: MIDI clock and notes "
	    "out\n"
	    "      --clock-in SPEC    input | portmidi:NAME | raw:PATH[@BAUD]: where MIDI clock\n"
	    "                         comes from (with sequencer.clock_source = \"midi\")\n"
	    "      --led SPEC         none | serial:PATH[@BAUD] | udp:HOST:PORT\n"
	    "      --http ADDR:PORT   where the HTTP API listens, or off\n"
	    "      --preset NAME      load the preset NAME at start\n"
	    "  -S, --socket PATH      the control socket (see control.socket)\n"
	    "  -h, --help             show this help and exit\n"
	    "      --version          show the version and exit\n"
	    "\n"
	    "Render options (besides -c, -s, --seed, --events, -v, -q):\n"
	    "      --seconds N        length of the rendering in seconds (> 0)\n"
	    "      --input FILE.mid   play the MIDI file into the engine\n"
	    "      --score OUT.osc    write the OSC score for scsynth -N\n"
	    "      --wav OUT.wav      render the sound to OUT.wav (needs scsynth)\n"
	    "      --pause-at S       press pause (to pause or resume) at S seconds (repeatable)\n"
	    "\n"
	    "attach: the console of the running instrument (q or d detaches, Q stops it).\n"
	    "ctl COMMAND: status | get PARAM | set PARAM VALUE | preset save|load NAME |\n"
	    "             reload | pause | resume     (--json: answers as JSON)\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 wrong usage, 69 no running instance,\n"
	    "77 permission denied, 78 configuration error.\n"
	    "See mystery-engine(1).\n",
	    out);
}

__attribute__((format(printf, 2, 3))) static int fail(FILE *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mystery-engine: ", err);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	cli_usage(err);
	return CLI_EX_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	if (!*s || !isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool valid_synth(const char *s)
{
	if (strcmp(s, "none") == 0 || strcmp(s, "supercollider") == 0 || strcmp(s, "midi") == 0)
		return true;
	char host[DEVSPEC_HOST_MAX];
	int port;
	return strncmp(s, "supercollider:", 14) == 0 &&
	       devspec_host_port(s + 14, host, sizeof host, &port) == 0;
}

/* ADDR:PORT with ADDR an IPv4 address or a bracketed IPv6 one, or "off". */
static bool valid_http(const char *s)
{
	if (strcmp(s, "off") == 0)
		return true;
	char host[DEVSPEC_HOST_MAX];
	int port;
	unsigned char a[16];
	if (devspec_host_port(s, host, sizeof host, &port) != 0)
		return false;
	return s[0] == '[' || inet_pton(AF_INET, host, a) == 1; /* [V6] is checked */
}

/* Checks and stores one option's value; returns 0 or the usage status. */
static int take(struct cli_options *o, int c, const char *arg, FILE *err)
{
	switch (c) {
	case 'c':
		if (!*arg)
			return fail(err, "--config: the file name is empty");
		o->config_path = arg;
		return 0;
	case 's': {
		const char *eq = strchr(arg, '=');
		if (!eq || eq == arg)
			return fail(err, "--set: expected KEY=VALUE, not `%s`", arg);
		o->sets[o->n_sets++] = arg;
		return 0;
	}
	case OPT_SEED:
		if (!parse_u64(arg, &o->seed))
			return fail(err, "--seed: `%s` is not a number from 0 to %s", arg,
			            "18446744073709551615");
		o->seed_set = true;
		return 0;
	case OPT_EVENTS:
		if (!*arg)
			return fail(err, "--events: the file name is empty");
		o->events_path = arg;
		return 0;
	case 'v':
		o->verbosity++;
		return 0;
	case 'q':
		o->verbosity--;
		return 0;
	case OPT_DAEMON:
		o->daemon = true;
		return 0;
	case OPT_SYNTH:
		if (!valid_synth(arg))
			return fail(err, "--synth: `%s` is not allowed (allowed: %s)", arg,
			            "none, supercollider, supercollider:HOST:PORT, midi");
		o->synth = arg;
		return 0;
	case OPT_RECORD:
		if (!*arg)
			return fail(err, "--record: the file name is empty");
		o->record = arg;
		return 0;
	case OPT_MIDI_IN:
		if (config_check_midi_spec(arg) != 0)
			return fail(err, "--midi-in: `%s` is not allowed (allowed: %s)", arg,
			            "auto, none, portmidi:NAME, raw:PATH[@BAUD]");
		o->midi_in = arg;
		return 0;
	case OPT_MIDI_OUT:
		if (config_check_midi_out_spec(arg) != 0)
			return fail(err, "--midi-out: `%s` is not allowed (allowed: %s)", arg,
			            "none, portmidi:NAME, raw:PATH[@BAUD]");
		o->midi_out = arg;
		return 0;
	case OPT_CLOCK_IN:
		if (config_check_clock_in_spec(arg) != 0)
			return fail(err, "--clock-in: `%s` is not allowed (allowed: %s)", arg,
			            "input, portmidi:NAME, raw:PATH[@BAUD]");
		o->clock_in = arg;
		return 0;
	case OPT_LED:
		if (config_check_led_spec(arg) != 0)
			return fail(err, "--led: `%s` is not allowed (allowed: %s)", arg,
			            "none, serial:PATH[@BAUD], udp:HOST:PORT");
		o->led = arg;
		return 0;
	case OPT_HTTP:
		if (!valid_http(arg))
			return fail(err, "--http: `%s` is not allowed (allowed: %s)", arg,
			            "ADDR:PORT with an IP address and a port 1..65535, or off");
		o->http = arg;
		return 0;
	case 'S':
		if (!*arg || strlen(arg) >= 108)
			return fail(err, "--socket: `%s` is not a socket path (1 to 107 bytes)",
			            arg);
		o->socket = arg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_PRESET:
		if (!preset_name_ok(arg))
			return fail(err,
			            "--preset: `%s` is not allowed (allowed: 1 to %d "
			            "letters, digits, _ or -)",
			            arg, PRESET_NAME_MAX);
		o->preset = arg;
		return 0;
	case OPT_SECONDS: {
		char *end;
		errno = 0;
		double v = strtod(arg, &end);
		if (!*arg || *end || errno || !isfinite(v) || v <= 0 || v > RENDER_MAX_SECONDS)
			return fail(
			    err,
			    "--seconds: `%s` is not a number of seconds (allowed: more than 0, "
			    "up to %.0f)",
			    arg, RENDER_MAX_SECONDS);
		o->render_seconds = v;
		return 0;
	}
	case OPT_INPUT:
	case OPT_SCORE:
	case OPT_WAV:
		if (!*arg)
			return fail(err, "the file name is empty");
		*(c == OPT_INPUT   ? &o->render_input
		  : c == OPT_SCORE ? &o->render_score
		                   : &o->render_wav) = arg;
		return 0;
	case OPT_PAUSE_AT: {
		char *end;
		errno = 0;
		double v = strtod(arg, &end);
		if (o->n_render_pauses == CLI_PAUSES_MAX)
			return fail(err, "--pause-at given more than %d times", CLI_PAUSES_MAX);
		if (!*arg || *end || errno || !isfinite(v) || v < 0 || v > RENDER_MAX_SECONDS)
			return fail(err,
			            "--pause-at '%s': expected a number of seconds from 0 to %.0f",
			            arg, RENDER_MAX_SECONDS);
		/* kept in time order (insertion: there are few) */
		int64_t t = (int64_t)llround(v * (double)NS_PER_SEC);
		int i = o->n_render_pauses++;
		for (; i > 0 && o->render_pauses[i - 1] > t; i--)
			o->render_pauses[i] = o->render_pauses[i - 1];
		o->render_pauses[i] = t;
		return 0;
	}
	}
	return fail(err, "internal: unhandled option");
}

int cli_parse(struct cli_options *o, int argc, char **argv, FILE *err)
{
	memset(o, 0, sizeof *o);
	o->mode = CLI_RUN;
	o->sets = calloc((size_t)argc + 1, sizeof *o->sets);
	if (!o->sets)
		return fail(err, "out of memory");

	int first = 1; /* index of argv[0] of the parse */
	const struct option *table = run_options;
	if (argc > 1 && strcmp(argv[1], "render") == 0) {
		o->mode = CLI_RENDER;
		first = 1;
		table = render_options;
	} else if (argc > 1 && (strcmp(argv[1], "attach") == 0 || strcmp(argv[1], "ctl") == 0)) {
		o->mode = argv[1][0] == 'a' ? CLI_ATTACH : CLI_CTL;
		first = 1;
		table = client_options;
	} else {
		first = 0;
	}
	int n = argc - first;
	char **av = argv + first;
	bool help = false, version = false;
	int modes = 0;

	opterr = 0;
	optind = 0; /* GNU: full re-initialisation */
	for (;;) {
		int c = getopt_long(n, av, "+:c:s:S:vqh", table, NULL);
		if (c == -1)
			break;
		if (c == '?') {
			if (optopt)
				return fail(err, "unknown option `-%c`", optopt);
			return fail(err, "unknown option `%s`", av[optind - 1]);
		}
		if (c == ':')
			return fail(err, "option `%s` needs a value", av[optind - 1]);
		int r = 0;
		switch (c) {
		case 'h':
			help = true;
			break;
		case OPT_VERSION:
			version = true;
			break;
		case OPT_CHECK_CONFIG:
			o->mode = CLI_CHECK_CONFIG;
			modes++;
			break;
		case OPT_LIST_MIDI:
			o->mode = CLI_LIST_MIDI;
			modes++;
			break;
		case OPT_LIST_AUDIO:
			o->mode = CLI_LIST_AUDIO;
			modes++;
			break;
		default:
			r = take(o, c, optarg, err);
		}
		if (r)
			return r;
	}
	if (o->mode == CLI_CTL) { /* the command and its arguments */
		o->ctl_argv = av + optind;
		o->ctl_argc = n - optind;
		optind = n;
	}
	if (optind < n) {
		if (strcmp(av[optind], "render") == 0)
			return fail(err,
			            "`render` must come first: mystery-engine render [OPTIONS]");
		return fail(err, "unexpected argument `%s`", av[optind]);
	}
	if (help) {
		o->mode = CLI_HELP;
		return 0;
	}
	if (version) {
		o->mode = CLI_VERSION;
		return 0;
	}
	if (modes > 1)
		return fail(err, "--check-config, --list-midi and --list-audio exclude each other");
	if (o->mode == CLI_RENDER && o->render_seconds <= 0)
		return fail(err, "render: --seconds is required");
	return 0;
}

void cli_free(struct cli_options *o)
{
	free(o->sets);
	o->sets = NULL;
	o->n_sets = 0;
}
