/*
 * config: the schema of the configuration, and what every part of the
 * loader shares about it.
 *
 * One schema table (config_schema) drives everything: which keys exist at
 * which level, their types and ranges, the "did you mean" suggestions, the
 * --check-config output and the tests that keep the shipped file and the
 * man page complete.  Beside it: the checks of the string forms (device
 * specs, addresses, names), the status texts and where state lives.
 * config_load.c loads, config_tables.c applies the tables, config_source.c
 * reads files and --set, config_print.c prints (config_loader.h).
 *
 * No globals but the constant schema.  Main thread only (the loader
 * allocates and reads files).
 */
#include "cfg/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/scale.h"
#include "dev/audio_card.h"
#include "cfg/config_loader.h"
#include "dev/devspec.h"
#include "ops/osc_ctl.h"

#define OFF(field) offsetof(struct config, field)

static int check_server(const char *s);
static int check_address(const char *s);
static int check_hosts(const char *s);
static int check_state_dir(const char *s);
static int check_socket_path(const char *s);
static int check_group_name(const char *s);
static int check_jack_name(const char *s);

const struct config_key config_schema[] = {
    {"midi.input_port", CONFIG_T_STRING, 0, 0,
     "\"auto\", \"none\", \"portmidi:NAME\", \"raw:PATH[@BAUD]\"", "",
     "where MIDI comes from: the first PortMidi input, none, a PortMidi input by name, "
     "or a raw MIDI serial device",
     OFF(midi.input_port), config_check_midi_spec},
    {"midi.channel", CONFIG_T_INT, 0, 16, NULL, "", "MIDI channel listened to, 0 = omni",
     OFF(engine.midi_channel), NULL},
    {"midi.output_port", CONFIG_T_STRING, 0, 0, "\"none\", \"portmidi:NAME\", \"raw:PATH[@BAUD]\"",
     "",
     "where MIDI clock and notes go: nowhere, a PortMidi output by name, or a raw MIDI "
     "device (ALSA rawmidi node, serial tty, pty)",
     OFF(midi.output_port), config_check_midi_out_spec},
    {"midi.clock_out", CONFIG_T_BOOL, 0, 0, NULL, "",
     "send MIDI clock (24 a beat, Start, Stop, Continue) on the output", OFF(midi.clock_out), NULL},
    {"midi.notes_out", CONFIG_T_BOOL, 0, 0, NULL, "",
     "send the notes (and volume, cutoff as CC 7, CC 74) on the output", OFF(midi.notes_out), NULL},
    {"midi.out_channel", CONFIG_T_INT, 1, 16, NULL, "", "MIDI channel of the notes sent",
     OFF(midi.out_channel), NULL},
    {"midi.clock_input_port", CONFIG_T_STRING, 0, 0,
     "\"input\", \"portmidi:NAME\", \"raw:PATH[@BAUD]\"", "",
     "where MIDI clock comes from (sequencer.clock_source = \"midi\"): the MIDI input, "
     "or a port of its own",
     OFF(midi.clock_input_port), config_check_clock_in_spec},
    {"mapping.ccs", CONFIG_T_CCS, 0, 127, NULL, "CC number",
     "parameter name = MIDI CC number, or { cc; min; max; curve; } for a knob with its "
     "own range; reserved = CC number(s) ignored on purpose",
     0, NULL},
    {"mapping.buttons", CONFIG_T_BUTTONS, 0, 127, NULL, "MIDI note",
     "action = [first note, last note]; trigger_step presses steps 1, 2, ...", 0, NULL},
    {"mapping.button_press", CONFIG_T_CHOICE, 0, 0, "accent|add|toggle", "",
     "what a step button does to its step (it always sounds it)", OFF(engine.button_press), NULL},
    {"sequencer.steps", CONFIG_T_INT, 1, ENGINE_MAX_STEPS, NULL, "steps", "pattern length at start",
     OFF(engine.steps), NULL},
    {"sequencer.bpm", CONFIG_T_FLOAT, 20, 300, NULL, "BPM", "tempo", OFF(engine.bpm), NULL},
    {"sequencer.swing", CONFIG_T_FLOAT, 0, 0.5, NULL, "of a step", "delay of every second step",
     OFF(engine.swing), NULL},
    {"sequencer.density", CONFIG_T_FLOAT, 0, 1, NULL, "", "how many steps sound",
     OFF(engine.density), NULL},
    {"sequencer.drift", CONFIG_T_FLOAT, 0, 20, NULL, "%", "slow random tempo drift",
     OFF(engine.drift), NULL},
    {"sequencer.chaos_lock", CONFIG_T_FLOAT, 0, 1, NULL, "",
     "0 = mutation moves freely, 1 = locked", OFF(engine.chaos_lock), NULL},
    {"sequencer.root_note", CONFIG_T_INT, 0, 127, NULL, "MIDI note", "root of the scale (60 = C4)",
     OFF(engine.root), NULL},
    {"sequencer.octaves", CONFIG_T_INT, 1, 4, NULL, "octaves", "range of the melody",
     OFF(engine.octaves), NULL},
    {"sequencer.steps_per_beat", CONFIG_T_INT, 1, 8, NULL, "steps",
     "steps per beat (4 = sixteenths)", OFF(engine.steps_per_beat), NULL},
    {"sequencer.beats_per_bar", CONFIG_T_INT, 1, 16, NULL, "beats", "beats per bar",
     OFF(engine.beats_per_bar), NULL},
    {"sequencer.quantize_scale_changes", CONFIG_T_CHOICE, 0, 0, "immediate|beat|bar", "",
     "when a new scale takes effect", OFF(engine.quantize_scale_changes), NULL},
    {"sequencer.max_gap_ms", CONFIG_T_INT64, 0, 600000, NULL, "ms",
     "longest silence between notes, 0 = no limit, else >= 2000", OFF(engine.max_gap_ms), NULL},
    {"sequencer.drift_period_s", CONFIG_T_FLOAT, 1, 3600, NULL, "s",
     "time of one move of the drift's tempo wander", OFF(engine.drift_period_s), NULL},
    {"sequencer.clock_source", CONFIG_T_CHOICE, 0, 0, "internal|midi", "",
     "the steps' clock: the engine's own, or MIDI clock (from midi.clock_input_port)",
     OFF(engine.clock_source), NULL},
    {"sequencer.clock_timeout_ms", CONFIG_T_INT64, 100, 60000, NULL, "ms",
     "no MIDI clock for this long: the internal clock goes on at the last tempo",
     OFF(engine.clock_timeout_ms), NULL},
    {"sound.filter_cutoff", CONFIG_T_FLOAT, 80, 12000, NULL, "Hz", "low-pass filter cutoff",
     OFF(engine.filter_cutoff), NULL},
    {"sound.reverb_mix", CONFIG_T_FLOAT, 0, 1, NULL, "", "reverb wet share", OFF(engine.reverb_mix),
     NULL},
    {"sound.master_volume", CONFIG_T_FLOAT, 0, 1, NULL, "", "output level",
     OFF(engine.master_volume), NULL},
    {"sound.attack", CONFIG_T_FLOAT, 0.001, 4, NULL, "s", "voice attack", OFF(engine.attack), NULL},
    {"sound.release", CONFIG_T_FLOAT, 0.01, 10, NULL, "s", "voice release", OFF(engine.release),
     NULL},
    {"scales", CONFIG_T_NAMES, 1, ENGINE_MAX_SCALES, NULL, "",
     "scale names the scale_select control chooses among", 0, NULL},
    {"profiles", CONFIG_T_PROFILES, 0, ENGINE_MAX_PROFILES, NULL, "",
     "named parameter sets: parameter name = value, scale = a name from scales", 0, NULL},
    {"modes", CONFIG_T_NAMES, 1, ENGINE_MAX_PROFILES, NULL, "",
     "profile names the mode control chooses among", 0, NULL},
    {"palettes", CONFIG_T_NAMES, 1, ENGINE_MAX_PALETTES, NULL, "",
     "LED palette names sent with the cues", 0, NULL},
    {"mutation.enabled", CONFIG_T_BOOL, 0, 0, NULL, "", "mutate at all",
     OFF(engine.mutation_enabled), NULL},
    {"mutation.interval_min_s", CONFIG_T_FLOAT, 1, 86400, NULL, "s",
     "shortest time between mutations", OFF(engine.interval_min_s), NULL},
    {"mutation.interval_max_s", CONFIG_T_FLOAT, 1, 86400, NULL, "s",
     "longest time between mutations, >= interval_min_s", OFF(engine.interval_max_s), NULL},
    {"mutation.max_changes_per_cycle", CONFIG_T_INT, 1, EVENT_MUT_MAX, NULL, "parameters",
     "parameters changed per mutation", OFF(engine.max_changes_per_cycle), NULL},
    {"mutation.pull", CONFIG_T_FLOAT, 0, 1, NULL, "", "share of the way home each move takes back",
     OFF(engine.pull), NULL},
    {"mutation.params", CONFIG_T_MUTATION, 0, 0, NULL, "",
     "parameter name = { min; max; weight; step; }: the walk's range, how often it is "
     "chosen, its largest move as a share of the range",
     0, NULL},
    {"mutation.rewrites_per_min", CONFIG_T_FLOAT, 0, 600, NULL, "/min",
     "pattern rewrites a minute at chaos_lock 0 (times 1 - chaos_lock)",
     OFF(engine.rewrites_per_min), NULL},
    {"mutation.moves_per_hour", CONFIG_T_FLOAT, 0, 3600, NULL, "/h",
     "scale or root moves an hour on average, 0 = none", OFF(engine.moves_per_hour), NULL},
    {"mutation.roots", CONFIG_T_ROOTS, 0, ENGINE_MAX_ROOTS, NULL, "semitones",
     "roots the moves visit, in semitones from root_note, -12..12", 0, NULL},
    {"idle.timeout_ms", CONFIG_T_INT64, 1000, 86400000, NULL, "ms",
     "time without input before idle", OFF(engine.idle_timeout_ms), NULL},
    {"idle.ambient_profile", CONFIG_T_PROFILE_REF, 0, 0, NULL, "",
     "profile applied while idle, \"\" = none", 0, NULL},
    {"idle.fade_in_ms", CONFIG_T_INT64, 0, 600000, NULL, "ms", "fade into the ambient profile",
     OFF(engine.fade_in_ms), NULL},
    {"idle.fade_out_ms", CONFIG_T_INT64, 0, 600000, NULL, "ms", "fade back when someone plays",
     OFF(engine.fade_out_ms), NULL},
    {"idle.wake_activity_ms", CONFIG_T_INT64, 0, 60000, NULL, "ms", "activity needed to leave idle",
     OFF(engine.wake_activity_ms), NULL},
    {"idle.phrase_bars", CONFIG_T_INT, 0, 64, NULL, "bars",
     "length of an idle phrase, 0 = no phrases", OFF(engine.phrase_bars), NULL},
    {"idle.velocity", CONFIG_T_FLOAT, 0.05, 1, NULL, "",
     "loudness of idle notes, a share of their velocity", OFF(engine.idle_velocity), NULL},
    {"synth.backend", CONFIG_T_CHOICE, 0, 0, "supercollider|none|midi", "",
     "the sound engine (midi: notes to midi.output_port only)", OFF(synth.backend), NULL},
    {"synth.server", CONFIG_T_STRING, 0, 0, "\"managed\", \"HOST:PORT\"", "",
     "managed (start jackd and scsynth) or the address of a running scsynth", OFF(synth.server),
     check_server},
    {"synth.port", CONFIG_T_INT, 1, 65535, NULL, "", "UDP port of a managed scsynth",
     OFF(synth.port), NULL},
    {"synth.voices", CONFIG_T_INT, 1, 64, NULL, "voices", "notes sounding at once",
     OFF(synth.voices), NULL},
    {"synth.lookahead_ms", CONFIG_T_INT, 10, 500, NULL, "ms", "how far ahead notes are scheduled",
     OFF(synth.lookahead_ms), NULL},
    {"synth.latency_ms", CONFIG_T_INT, 1, 250, NULL, "ms", "how long after a live action it sounds",
     OFF(synth.latency_ms), NULL},
    {"synth.server_latency_ms", CONFIG_T_INT, 0, 1000, NULL, "ms",
     "how far ahead the server needs its bundles (0 = learn it)", OFF(synth.server_latency_ms),
     NULL},
    {"synth.late_drop_ms", CONFIG_T_INT, 5, 5000, NULL, "ms",
     "after a stall, notes later than this are dropped and the sequencer skips ahead",
     OFF(synth.late_drop_ms), NULL},
    {"synth.sample_rate", CONFIG_T_INT, 8000, 192000, NULL, "Hz", "audio sample rate",
     OFF(synth.sample_rate), NULL},
    {"synth.jack_period", CONFIG_T_INT, 16, 4096, NULL, "frames",
     "JACK frames per period, a power of two", OFF(synth.jack_period), NULL},
    {"synth.jack_driver", CONFIG_T_CHOICE, 0, 0, "auto|alsa|dummy", "",
     "JACK backend (dummy: no sound card)", OFF(synth.jack_driver), NULL},
    {"synth.jack_name", CONFIG_T_STRING, 0, 0, "1..63 of A-Z a-z 0-9 _ . -", "",
     "name of the JACK server used or started", OFF(synth.jack_name), check_jack_name},
    {"synth.audio_device", CONFIG_T_STRING, 0, 0,
     "\"auto\", a card's id or name, \"hw:CARD=ID\", \"hw:N\"", "",
     "ALSA card of a managed JACK server (auto: USB, then HAT, then the headphone jack; "
     "never HDMI unless named)",
     OFF(synth.audio_device), audio_card_check_spec},
    {"led.transport", CONFIG_T_STRING, 0, 0, "\"none\", \"serial:PATH[@BAUD]\", \"udp:HOST:PORT\"",
     "", "where LED cues go", OFF(led.transport), config_check_led_spec},
    {"led.max_rate", CONFIG_T_INT, 1, 2000, NULL, "frames/s", "most cue frames per second",
     OFF(led.max_rate), NULL},
    {"logging.level", CONFIG_T_CHOICE, 0, 0, "error|warn|info|debug", "",
     "least severe messages logged", OFF(logging.level), NULL},
    {"logging.file", CONFIG_T_STRING, 0, 0, "\"\", a path", "",
     "log file with JSON lines, \"\" = standard error only", OFF(logging.file), NULL},
    {"logging.max_size", CONFIG_T_INT64, 0, 1073741824, NULL, "bytes",
     "rotate the file beyond this size, 0 = never, else >= 4096", OFF(logging.max_size), NULL},
    {"logging.keep", CONFIG_T_INT, 0, 100, NULL, "files", "rotated files kept", OFF(logging.keep),
     NULL},
    {"api.enabled", CONFIG_T_BOOL, 0, 0, NULL, "", "serve the HTTP API", OFF(api.enabled), NULL},
    {"api.address", CONFIG_T_STRING, 0, 0, "an IPv4 or IPv6 address", "", "address to listen on",
     OFF(api.address), check_address},
    {"api.port", CONFIG_T_INT, 1, 65535, NULL, "", "TCP port", OFF(api.port), NULL},
    {"api.allow_control", CONFIG_T_BOOL, 0, 0, NULL, "", "accept requests that change parameters",
     OFF(api.allow_control), NULL},
    {"api.max_writes_per_s", CONFIG_T_INT, 1, 1000, NULL, "requests/s",
     "accepted control requests per second", OFF(api.max_writes_per_s), NULL},
    {"osc.enabled", CONFIG_T_BOOL, 0, 0, NULL, "", "serve the OSC control surface",
     OFF(osc.enabled), NULL},
    {"osc.address", CONFIG_T_STRING, 0, 0, "an IPv4 or IPv6 address", "", "address to listen on",
     OFF(osc.address), check_address},
    {"osc.port", CONFIG_T_INT, 1, 65535, NULL, "", "UDP port", OFF(osc.port), NULL},
    {"osc.allowed_hosts", CONFIG_T_STRING, 0, 0,
     "IP addresses or networks (ADDR/PREFIX), comma separated", "",
     "senders whose messages are read; all others are dropped", OFF(osc.allowed_hosts),
     check_hosts},
    {"osc.reply_port", CONFIG_T_INT, 0, 65535, NULL, "",
     "UDP port the state is echoed to, 0 = the port each sender sends from", OFF(osc.reply_port),
     NULL},
    {"osc.max_writes_per_s", CONFIG_T_INT, 1, 1000, NULL, "messages/s",
     "accepted control messages per second", OFF(osc.max_writes_per_s), NULL},
    {"state.dir", CONFIG_T_STRING, 0, 0, "\"\", an absolute path", "",
     "presets live in DIR/presets; \"\" = $STATE_DIRECTORY, else "
     "$XDG_STATE_HOME/mystery-engine, else ~/.local/state/mystery-engine",
     OFF(state.dir), check_state_dir},
    {"control.socket", CONFIG_T_STRING, 0, 0, "\"\", an absolute path of at most 107 bytes", "",
     "the control socket (attach, ctl); \"\" = $RUNTIME_DIRECTORY/control.sock, else "
     "$XDG_RUNTIME_DIR/mystery-engine/control.sock, else /tmp/mystery-engine-UID/control.sock",
     OFF(control.socket), check_socket_path},
    {"control.group", CONFIG_T_STRING, 0, 0, "\"\", a group name", "",
     "group allowed to connect to the control socket (mode 0660); \"\" = the program's group",
     OFF(control.group), check_group_name},
};

const size_t config_schema_count = sizeof config_schema / sizeof config_schema[0];
_Static_assert(sizeof config_schema / sizeof config_schema[0] <= CONFIG_KEYS_MAX,
               "config_loader.h: raise CONFIG_KEYS_MAX");

const char *const config_button_actions[CONFIG_N_ACTIONS] = {
    [BUTTON_TRIGGER_STEP] = "trigger_step",
};

const char *config_strerror(enum config_status s)
{
	switch (s) {
	case CONFIG_OK:
		return "no error";
	case CONFIG_ERR_IO:
		return "configuration file could not be read";
	case CONFIG_ERR_SYNTAX:
		return "configuration syntax error";
	case CONFIG_ERR_INVALID:
		return "invalid configuration";
	}
	return "unknown configuration error";
}

void config_errors_free(struct config_errors *errs)
{
	for (int i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = errs->cap = 0;
}

void config_state_dir(const struct config *cfg, char *buf, size_t n)
{
	const char *sd = getenv("STATE_DIRECTORY"), *xdg = getenv("XDG_STATE_HOME"),
	           *home = getenv("HOME");
	if (cfg->state.dir[0])
		snprintf(buf, n, "%s", cfg->state.dir);
	else if (sd && *sd)
		snprintf(buf, n, "%.*s", (int)strcspn(sd, ":"), sd);
	else if (xdg && xdg[0] == '/')
		snprintf(buf, n, "%s/mystery-engine", xdg);
	else if (home && *home)
		snprintf(buf, n, "%s/.local/state/mystery-engine", home);
	else if (n)
		buf[0] = '\0';
}

/* Checks of string forms: devices and addresses in devspec's grammar */

int config_check_midi_spec(const char *s)
{
	return devspec_check(s, 1u << DEVSPEC_NONE | 1u << DEVSPEC_AUTO | 1u << DEVSPEC_PORTMIDI |
	                            1u << DEVSPEC_RAW);
}

int config_check_midi_out_spec(const char *s)
{
	return devspec_check(s, 1u << DEVSPEC_NONE | 1u << DEVSPEC_PORTMIDI | 1u << DEVSPEC_RAW);
}

int config_check_clock_in_spec(const char *s)
{
	if (strcmp(s, "input") == 0)
		return 0;
	return devspec_check(s, 1u << DEVSPEC_PORTMIDI | 1u << DEVSPEC_RAW);
}

int config_check_host_port(const char *s)
{
	char host[DEVSPEC_HOST_MAX];
	int port;
	return devspec_host_port(s, host, sizeof host, &port);
}

int config_check_led_spec(const char *s)
{
	return devspec_check(s, 1u << DEVSPEC_NONE | 1u << DEVSPEC_SERIAL | 1u << DEVSPEC_UDP);
}

static int check_server(const char *s)
{
	return strcmp(s, "managed") == 0 ? 0 : config_check_host_port(s);
}

static int check_jack_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return -1;
	return 0;
}

static int check_address(const char *s)
{
	unsigned char a[16];
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1 ? 0 : -1;
}

static int check_hosts(const char *s)
{
	struct osc_ctl_host h[OSC_CTL_HOSTS_MAX];
	char err[160];
	return osc_ctl_hosts_parse(s, h, OSC_CTL_HOSTS_MAX, err, sizeof err) > 0 ? 0 : -1;
}

static int check_state_dir(const char *s)
{
	return s[0] == '\0' || s[0] == '/' ? 0 : -1;
}

static int check_socket_path(const char *s)
{
	return s[0] == '\0' || (s[0] == '/' && strlen(s) <= 107) ? 0 : -1;
}

/* A POSIX portable user or group name: letters, digits, . _ -, not first -. */
static int check_group_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return 0;
	if (n > 32 || s[0] == '-')
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return -1;
	return 0;
}
