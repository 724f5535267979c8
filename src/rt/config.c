/*
 * config: loads, validates and prints the configuration.
 *
 * One schema table (config_schema) drives everything: which keys exist at
 * which level, their types and ranges, the "did you mean" suggestions, the
 * --check-config output and the tests that keep the shipped file and the
 * man page complete.  A load applies layers onto one struct config: the
 * built-in default (conf/mystery-engine.conf embedded at build time, parsed
 * like any file), then the chosen file, then each --set KEY=VALUE (parsed as
 * a one-key libconfig file).  Scalars merge key by key; the tables
 * (mapping.ccs, mapping.buttons, profiles, scales, modes, palettes) are
 * replaced whole when a file sets them and changed entry by entry by --set.
 * Names that refer to other keys (modes, idle.ambient_profile, a profile's
 * scale) are resolved once all layers are in.  Every problem is collected
 * with the source and line it came from; nothing stops at the first.
 *
 * No globals: each load owns its state, so a reload (SIGHUP) can run while
 * the old configuration stays in use.  Main thread only (allocates, reads
 * files).
 */
#include "rt/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/event.h"
#include "core/scale.h"
#include "rt/midi_out.h"
#include "rt/osc_ctl.h"
#include "rt/audio_card.h"

#define OFF(field) offsetof(struct config, field)
#define PATH_MAX_KEY 256
#define MAX_CANDIDATES 64

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
	    "or a raw MIDI serial device", OFF(midi.input_port), config_check_midi_spec},
	{"midi.channel", CONFIG_T_INT, 0, 16, NULL, "", "MIDI channel listened to, 0 = omni",
	    OFF(engine.midi_channel), NULL},
	{"midi.output_port", CONFIG_T_STRING, 0, 0,
	    "\"none\", \"portmidi:NAME\", \"raw:PATH[@BAUD]\"", "",
	    "where MIDI clock and notes go: nowhere, a PortMidi output by name, or a raw MIDI "
	    "device (ALSA rawmidi node, serial tty, pty)", OFF(midi.output_port), config_check_midi_out_spec},
	{"midi.clock_out", CONFIG_T_BOOL, 0, 0, NULL, "",
	    "send MIDI clock (24 a beat, Start, Stop, Continue) on the output",
	    OFF(midi.clock_out), NULL},
	{"midi.notes_out", CONFIG_T_BOOL, 0, 0, NULL, "",
	    "send the notes (and volume, cutoff as CC 7, CC 74) on the output",
	    OFF(midi.notes_out), NULL},
	{"midi.out_channel", CONFIG_T_INT, 1, 16, NULL, "", "MIDI channel of the notes sent",
	    OFF(midi.out_channel), NULL},
	{"midi.clock_input_port", CONFIG_T_STRING, 0, 0,
	    "\"input\", \"portmidi:NAME\", \"raw:PATH[@BAUD]\"", "",
	    "where MIDI clock comes from (sequencer.clock_source = \"midi\"): the MIDI input, "
	    "or a port of its own", OFF(midi.clock_input_port), config_check_clock_in_spec},
	{"mapping.ccs", CONFIG_T_CCS, 0, 127, NULL, "CC number",
	    "parameter name = MIDI CC number, or { cc; min; max; curve; } for a knob with its "
	    "own range; reserved = CC number(s) ignored on purpose", 0, NULL},
	{"mapping.buttons", CONFIG_T_BUTTONS, 0, 127, NULL, "MIDI note",
	    "action = [first note, last note]; trigger_step presses steps 1, 2, ...", 0, NULL},
	{"mapping.button_press", CONFIG_T_CHOICE, 0, 0, "accent|add|toggle", "",
	    "what a step button does to its step (it always sounds it)",
	    OFF(engine.button_press), NULL},
	{"sequencer.steps", CONFIG_T_INT, 1, ENGINE_MAX_STEPS, NULL, "steps",
	    "pattern length at start", OFF(engine.steps), NULL},
	{"sequencer.bpm", CONFIG_T_FLOAT, 20, 300, NULL, "BPM", "tempo", OFF(engine.bpm), NULL},
	{"sequencer.swing", CONFIG_T_FLOAT, 0, 0.5, NULL, "of a step",
	    "delay of every second step", OFF(engine.swing), NULL},
	{"sequencer.density", CONFIG_T_FLOAT, 0, 1, NULL, "", "how many steps sound",
	    OFF(engine.density), NULL},
	{"sequencer.drift", CONFIG_T_FLOAT, 0, 20, NULL, "%", "slow random tempo drift",
	    OFF(engine.drift), NULL},
	{"sequencer.chaos_lock", CONFIG_T_FLOAT, 0, 1, NULL, "",
	    "0 = mutation moves freely, 1 = locked", OFF(engine.chaos_lock), NULL},
	{"sequencer.root_note", CONFIG_T_INT, 0, 127, NULL, "MIDI note",
	    "root of the scale (60 = C4)", OFF(engine.root), NULL},
	{"sequencer.octaves", CONFIG_T_INT, 1, 4, NULL, "octaves", "range of the melody",
	    OFF(engine.octaves), NULL},
	{"sequencer.steps_per_beat", CONFIG_T_INT, 1, 8, NULL, "steps",
	    "steps per beat (4 = sixteenths)", OFF(engine.steps_per_beat), NULL},
	{"sequencer.beats_per_bar", CONFIG_T_INT, 1, 16, NULL, "beats", "beats per bar",
	    OFF(engine.beats_per_bar), NULL},
	{"sequencer.quantize_scale_changes", CONFIG_T_CHOICE, 0, 0, "immediate|beat|bar", "",
	    "when a new scale takes effect", OFF(engine.quantize_scale_changes), NULL},
	{"sequencer.max_gap_ms", CONFIG_T_INT64, 0, 600000, NULL, "ms",
	    "longest silence between notes, 0 = no limit, else >= 2000",
	    OFF(engine.max_gap_ms), NULL},
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
	{"sound.reverb_mix", CONFIG_T_FLOAT, 0, 1, NULL, "", "reverb wet share",
	    OFF(engine.reverb_mix), NULL},
	{"sound.master_volume", CONFIG_T_FLOAT, 0, 1, NULL, "", "output level",
	    OFF(engine.master_volume), NULL},
	{"sound.attack", CONFIG_T_FLOAT, 0.001, 4, NULL, "s", "voice attack",
	    OFF(engine.attack), NULL},
	{"sound.release", CONFIG_T_FLOAT, 0.01, 10, NULL, "s", "voice release",
	    OFF(engine.release), NULL},
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
	{"mutation.pull", CONFIG_T_FLOAT, 0, 1, NULL, "",
	    "share of the way home each move takes back", OFF(engine.pull), NULL},
	{"mutation.params", CONFIG_T_MUTATION, 0, 0, NULL, "",
	    "parameter name = { min; max; weight; step; }: the walk's range, how often it is "
	    "chosen, its largest move as a share of the range", 0, NULL},
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
	{"idle.fade_in_ms", CONFIG_T_INT64, 0, 600000, NULL, "ms",
	    "fade into the ambient profile", OFF(engine.fade_in_ms), NULL},
	{"idle.fade_out_ms", CONFIG_T_INT64, 0, 600000, NULL, "ms",
	    "fade back when someone plays", OFF(engine.fade_out_ms), NULL},
	{"idle.wake_activity_ms", CONFIG_T_INT64, 0, 60000, NULL, "ms",
	    "activity needed to leave idle", OFF(engine.wake_activity_ms), NULL},
	{"idle.phrase_bars", CONFIG_T_INT, 0, 64, NULL, "bars",
	    "length of an idle phrase, 0 = no phrases", OFF(engine.phrase_bars), NULL},
	{"idle.velocity", CONFIG_T_FLOAT, 0.05, 1, NULL, "",
	    "loudness of idle notes, a share of their velocity", OFF(engine.idle_velocity), NULL},
	{"synth.backend", CONFIG_T_CHOICE, 0, 0, "supercollider|none|midi", "",
	    "the sound engine (midi: notes to midi.output_port only)",
	    OFF(synth.backend), NULL},
	{"synth.server", CONFIG_T_STRING, 0, 0, "\"managed\", \"HOST:PORT\"", "",
	    "managed (start jackd and scsynth) or the address of a running scsynth",
	    OFF(synth.server), check_server},
	{"synth.port", CONFIG_T_INT, 1, 65535, NULL, "", "UDP port of a managed scsynth",
	    OFF(synth.port), NULL},
	{"synth.voices", CONFIG_T_INT, 1, 64, NULL, "voices", "notes sounding at once",
	    OFF(synth.voices), NULL},
	{"synth.lookahead_ms", CONFIG_T_INT, 10, 500, NULL, "ms",
	    "how far ahead notes are scheduled", OFF(synth.lookahead_ms), NULL},
	{"synth.latency_ms", CONFIG_T_INT, 1, 250, NULL, "ms",
	    "how long after a live action it sounds", OFF(synth.latency_ms), NULL},
	{"synth.server_latency_ms", CONFIG_T_INT, 0, 1000, NULL, "ms",
	    "how far ahead the server needs its bundles (0 = learn it)",
	    OFF(synth.server_latency_ms), NULL},
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
	    "never HDMI unless named)", OFF(synth.audio_device), audio_card_check_spec},
	{"led.transport", CONFIG_T_STRING, 0, 0,
	    "\"none\", \"serial:PATH[@BAUD]\", \"udp:HOST:PORT\"", "", "where LED cues go",
	    OFF(led.transport), config_check_led_spec},
	{"led.max_rate", CONFIG_T_INT, 1, 2000, NULL, "frames/s", "most cue frames per second",
	    OFF(led.max_rate), NULL},
	{"logging.level", CONFIG_T_CHOICE, 0, 0, "error|warn|info|debug", "",
	    "least severe messages logged", OFF(logging.level), NULL},
	{"logging.file", CONFIG_T_STRING, 0, 0, "\"\", a path", "",
	    "log file with JSON lines, \"\" = standard error only", OFF(logging.file), NULL},
	{"logging.max_size", CONFIG_T_INT64, 0, 1073741824, NULL, "bytes",
	    "rotate the file beyond this size, 0 = never, else >= 4096", OFF(logging.max_size), NULL},
	{"logging.keep", CONFIG_T_INT, 0, 100, NULL, "files", "rotated files kept",
	    OFF(logging.keep), NULL},
	{"api.enabled", CONFIG_T_BOOL, 0, 0, NULL, "", "serve the HTTP API", OFF(api.enabled),
	    NULL},
	{"api.address", CONFIG_T_STRING, 0, 0, "an IPv4 or IPv6 address", "",
	    "address to listen on", OFF(api.address), check_address},
	{"api.port", CONFIG_T_INT, 1, 65535, NULL, "", "TCP port", OFF(api.port), NULL},
	{"api.allow_control", CONFIG_T_BOOL, 0, 0, NULL, "",
	    "accept requests that change parameters", OFF(api.allow_control), NULL},
	{"api.max_writes_per_s", CONFIG_T_INT, 1, 1000, NULL, "requests/s",
	    "accepted control requests per second", OFF(api.max_writes_per_s), NULL},
	{"osc.enabled", CONFIG_T_BOOL, 0, 0, NULL, "", "serve the OSC control surface",
	    OFF(osc.enabled), NULL},
	{"osc.address", CONFIG_T_STRING, 0, 0, "an IPv4 or IPv6 address", "",
	    "address to listen on", OFF(osc.address), check_address},
	{"osc.port", CONFIG_T_INT, 1, 65535, NULL, "", "UDP port", OFF(osc.port), NULL},
	{"osc.allowed_hosts", CONFIG_T_STRING, 0, 0,
	    "IP addresses or networks (ADDR/PREFIX), comma separated", "",
	    "senders whose messages are read; all others are dropped", OFF(osc.allowed_hosts),
	    check_hosts},
	{"osc.reply_port", CONFIG_T_INT, 0, 65535, NULL, "",
	    "UDP port the state is echoed to, 0 = the port each sender sends from",
	    OFF(osc.reply_port), NULL},
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

#define SCHEMA_N (sizeof config_schema / sizeof config_schema[0])

static const char *const button_actions[] = {[BUTTON_TRIGGER_STEP] = "trigger_step"};
#define N_ACTIONS (int)(sizeof button_actions / sizeof button_actions[0])

/* Where a value came from: source name (interned), line (0: none), order. */
struct origin {
	const char *src;
	int line;
	unsigned seq;
};

/* The state of one load. */
struct loader {
	struct config *cfg;
	struct config_errors *errs;
	const char *src;	/* the current layer's name */
	bool is_set;		/* the current layer is a --set */
	unsigned seq;
	char **names;		/* interned source names */
	int n_names;

	struct origin key[SCHEMA_N];
	struct origin cc[128];
	struct origin button[ENGINE_MAX_BUTTONS];

	char mode_name[ENGINE_MAX_PROFILES][ENGINE_NAME_MAX];
	struct origin mode[ENGINE_MAX_PROFILES];
	char ambient[ENGINE_NAME_MAX];
	char profile_scale[ENGINE_MAX_PROFILES][ENGINE_NAME_MAX];
	struct origin profile_scale_at[ENGINE_MAX_PROFILES];
	struct origin profile_param[ENGINE_MAX_PROFILES][P_COUNT];
	struct origin mut_at[P_COUNT];		/* where a parameter's walk was last set */
	struct origin range_at[128];		/* where a CC's range was last set */
	bool bad_scales, bad_profiles;
	char child[SCHEMA_N][PATH_MAX_KEY];	/* names listed by schema_children */
	struct err_key *err_keys;	/* where each error of this load points */
	int n_err_keys;
};

/* Sort key of one error: source (in order of first use), line, order made. */
struct err_key {
	int src, line, order;
	char *msg;
};

/* A set of names for "did you mean" and "(allowed: ...)". */
struct candidates {
	const char *name[MAX_CANDIDATES];
	int n;
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

static void errors_add(struct config_errors *e, const char *msg)
{
	if (e->n == e->cap) {
		int cap = e->cap ? e->cap * 2 : 8;
		char **m = realloc(e->msg, (size_t)cap * sizeof *m);
		if (!m)
			return;
		e->msg = m;
		e->cap = cap;
	}
	char *s = strdup(msg);
	if (s)
		e->msg[e->n++] = s;
}

void config_errors_free(struct config_errors *errs)
{
	for (int i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = errs->cap = 0;
}

/* Keeps a copy of a source name for as long as the load runs. */
static const char *intern(struct loader *L, const char *s)
{
	for (int i = 0; i < L->n_names; i++)
		if (strcmp(L->names[i], s) == 0)
			return L->names[i];
	char **n = realloc(L->names, (size_t)(L->n_names + 1) * sizeof *n);
	if (!n)
		return "?";
	L->names = n;
	char *c = strdup(s);
	if (!c)
		return "?";
	L->names[L->n_names++] = c;
	return c;
}

static struct origin origin_of(struct loader *L, const config_setting_t *s)
{
	struct origin o = {L->src, 0, ++L->seq};
	if (!L->is_set && s) {
		const char *f = config_setting_source_file(s);
		if (f)
			o.src = intern(L, f);
		o.line = (int)config_setting_source_line(s);
	}
	return o;
}

__attribute__((format(printf, 4, 5))) static void errf(struct loader *L, struct origin o,
						       const char *key, const char *fmt, ...)
{
	char msg[1024], line[2800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char where[1100];
	if (o.line > 0)
		snprintf(where, sizeof where, "%s:%d", o.src, o.line);
	else
		snprintf(where, sizeof where, "%s", o.src);
	if (key)
		snprintf(line, sizeof line, "%s: %s: %s", where, key, msg);
	else
		snprintf(line, sizeof line, "%s: %s", where, msg);
	int before = L->errs->n;
	errors_add(L->errs, line);
	struct err_key *k = realloc(L->err_keys, (size_t)(L->n_err_keys + 1) * sizeof *k);
	if (L->errs->n == before || !k)
		return;
	L->err_keys = k;
	int src = 0;
	while (src < L->n_names && L->names[src] != o.src)
		src++;
	k[L->n_err_keys] = (struct err_key){src, o.line, L->n_err_keys, L->errs->msg[before]};
	L->n_err_keys++;
}

static int err_key_cmp(const void *a, const void *b)
{
	const struct err_key *x = a, *y = b;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Puts the errors of this load (the last n_err_keys) in source and line order. */
static void sort_errors(struct loader *L)
{
	int n = L->n_err_keys, first = L->errs->n - n;
	if (n < 2 || first < 0)
		return;
	qsort(L->err_keys, (size_t)n, sizeof *L->err_keys, err_key_cmp);
	for (int i = 0; i < n; i++)
		L->errs->msg[first + i] = L->err_keys[i].msg;
}

static void err_at(struct loader *L, const config_setting_t *s, const char *key, const char *msg)
{
	errf(L, origin_of(L, s), key, "%s", msg);
}

/* Optimal string alignment distance (a swap of neighbours counts 1). */
static int edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 63 || m > 63)
		return 99;
	int d[64][64];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[n][m];
}

static void cand_add(struct candidates *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return;
	if (c->n < MAX_CANDIDATES)
		c->name[c->n++] = name;
}

/* The closest candidate to word, or NULL when none is close enough. */
static const char *cand_suggest(const struct candidates *c, const char *word)
{
	size_t len = strlen(word);
	int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	const char *best = NULL;
	int best_d = limit + 1;
	for (int i = 0; i < c->n; i++) {
		int d = edit_distance(word, c->name[i]);
		if (d < best_d) {
			best_d = d;
			best = c->name[i];
		}
	}
	return best;
}

/* "a, b, c" (quoted when quote is set) into buf. */
static void cand_list(const struct candidates *c, bool quote, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < c->n && used < n; i++) {
		int w = snprintf(buf + used, n - used, "%s%s%s%s", i ? ", " : "", quote ? "\"" : "",
				 c->name[i], quote ? "\"" : "");
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (c->n == 0)
		snprintf(buf, n, "none");
}

/* ", did you mean `x`?" or "". */
static void did_you_mean(const struct candidates *c, const char *word, bool quote, char *buf,
			 size_t n)
{
	const char *s = cand_suggest(c, word);
	if (s)
		snprintf(buf, n, quote ? ", did you mean \"%s\"?" : ", did you mean `%s`?", s);
	else
		buf[0] = '\0';
}

static const struct config_key *schema_find(const char *path)
{
	for (size_t i = 0; i < SCHEMA_N; i++)
		if (strcmp(config_schema[i].path, path) == 0)
			return &config_schema[i];
	return NULL;
}

/* Names allowed directly below the group at path ("" = top level). */
static void schema_children(const char *path, struct candidates *c, char store[][PATH_MAX_KEY])
{
	size_t plen = strlen(path);
	c->n = 0;
	for (size_t i = 0; i < SCHEMA_N; i++) {
		const char *p = config_schema[i].path;
		if (plen) {
			if (strncmp(p, path, plen) != 0 || p[plen] != '.')
				continue;
			p += plen + 1;
		}
		size_t l = strcspn(p, ".");
		if (l >= PATH_MAX_KEY)
			continue;
		memcpy(store[i], p, l);
		store[i][l] = '\0';
		cand_add(c, store[i]);
	}
}

/* Whether path is a group of the schema (a prefix of some key). */
static bool schema_is_group(const char *path)
{
	size_t plen = strlen(path);
	for (size_t i = 0; i < SCHEMA_N; i++)
		if (strncmp(config_schema[i].path, path, plen) == 0 &&
		    config_schema[i].path[plen] == '.')
			return true;
	return false;
}

static void unknown_key(struct loader *L, const config_setting_t *s, const char *full,
			const struct candidates *c)
{
	char dym[128], allowed[1024];
	const char *leaf = strrchr(full, '.');
	did_you_mean(c, leaf ? leaf + 1 : full, false, dym, sizeof dym);
	cand_list(c, false, allowed, sizeof allowed);
	errf(L, origin_of(L, s), full, "unknown key%s (allowed: %s)", dym, allowed);
}

/* path.name into out (PATH_MAX_KEY bytes), cut short if too long. */
static void join(char *out, const char *path, const char *name)
{
	int w = *path ? snprintf(out, PATH_MAX_KEY, "%s.%s", path, name)
		      : snprintf(out, PATH_MAX_KEY, "%s", name);
	if (w < 0)
		out[0] = '\0';
}

/* A number as people write it: 86400000, 0.5, 1e-05. */
struct num {
	char s[40];
};

static struct num num(double v)
{
	struct num r;
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(r.s, sizeof r.s, "%.0f", v);
	else
		snprintf(r.s, sizeof r.s, "%g", v);
	return r;
}

static void range_text(const struct config_key *k, char *buf, size_t n)
{
	snprintf(buf, n, "%s to %s%s%s", num(k->min).s, num(k->max).s, *k->unit ? " " : "",
		 k->unit);
}

static bool get_number(const config_setting_t *s, double *v, bool *integral)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*v = config_setting_get_int(s);
		*integral = true;
		return true;
	case CONFIG_TYPE_INT64:
		*v = (double)config_setting_get_int64(s);
		*integral = true;
		return true;
	case CONFIG_TYPE_FLOAT:
		*v = config_setting_get_float(s);
		*integral = false;
		return true;
	default:
		return false;
	}
}

/* Checks a number against a key's range; reports and returns false if bad. */
static bool number_ok(struct loader *L, const config_setting_t *s, const struct config_key *k,
		      const char *full, double *out)
{
	double v;
	bool integral;
	char range[128];
	range_text(k, range, sizeof range);
	bool want_int = k->type != CONFIG_T_FLOAT;
	if (!get_number(s, &v, &integral) || (want_int && !integral)) {
		errf(L, origin_of(L, s), full, "expected %s from %s", want_int ? "an integer" : "a number",
		     range);
		return false;
	}
	if (!(v >= k->min && v <= k->max)) {
		errf(L, origin_of(L, s), full, "%s is out of range (allowed: %s)", num(v).s, range);
		return false;
	}
	if (strcmp(k->path, "synth.jack_period") == 0 && ((long)v & ((long)v - 1)) != 0) {
		errf(L, origin_of(L, s), full,
		     "%s is not a power of two (allowed: 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)",
		     num(v).s);
		return false;
	}
	if (strcmp(k->path, "sequencer.max_gap_ms") == 0 && v > 0 && v < 2000) {
		errf(L, origin_of(L, s), full,
		     "%s is too short (allowed: 0 = no limit, or 2000 to 600000 ms)", num(v).s);
		return false;
	}
	if (strcmp(k->path, "logging.max_size") == 0 && v > 0 && v < 4096) {
		errf(L, origin_of(L, s), full,
		     "%s is too small to rotate (allowed: 0 = never, or 4096 to 1073741824 bytes)",
		     num(v).s);
		return false;
	}
	*out = v;
	return true;
}

static void choices_of(const struct config_key *k, struct candidates *c, char store[][32])
{
	const char *p = k->choices;
	c->n = 0;
	while (*p && c->n < 16) {
		size_t l = strcspn(p, "|");
		if (l > 31)
			l = 31;
		memcpy(store[c->n], p, l);
		store[c->n][l] = '\0';
		cand_add(c, store[c->n]);
		p += strcspn(p, "|");
		if (*p == '|')
			p++;
	}
}

/* Copies a string value into dst (size n); reports and returns false if it does not fit. */
static bool string_ok(struct loader *L, const config_setting_t *s, const char *full,
		      const char *what, size_t n, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		errf(L, origin_of(L, s), full, "expected %s", what);
		return false;
	}
	const char *v = config_setting_get_string(s);
	if (strlen(v) >= n) {
		errf(L, origin_of(L, s), full, "longer than %zu characters", n - 1);
		return false;
	}
	*out = v;
	return true;
}

static void apply_scalar(struct loader *L, const struct config_key *k, const config_setting_t *s,
			 const char *full)
{
	char *base = (char *)L->cfg;
	double v;
	const char *str;
	switch (k->type) {
	case CONFIG_T_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			err_at(L, s, full, "expected true or false");
			return;
		}
		*(bool *)(base + k->offset) = config_setting_get_bool(s) != 0;
		break;
	case CONFIG_T_INT:
		if (!number_ok(L, s, k, full, &v))
			return;
		*(int *)(base + k->offset) = (int)v;
		break;
	case CONFIG_T_INT64:
		if (!number_ok(L, s, k, full, &v))
			return;
		*(int64_t *)(base + k->offset) = (int64_t)v;
		break;
	case CONFIG_T_FLOAT:
		if (!number_ok(L, s, k, full, &v))
			return;
		*(double *)(base + k->offset) = v;
		break;
	case CONFIG_T_CHOICE: {
		struct candidates c;
		char store[16][32], allowed[256], dym[128];
		choices_of(k, &c, store);
		cand_list(&c, true, allowed, sizeof allowed);
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			errf(L, origin_of(L, s), full, "expected one of %s", allowed);
			return;
		}
		str = config_setting_get_string(s);
		for (int i = 0; i < c.n; i++) {
			if (strcmp(c.name[i], str) == 0) {
				*(int *)(base + k->offset) = i;
				L->key[k - config_schema] = origin_of(L, s);
				return;
			}
		}
		did_you_mean(&c, str, true, dym, sizeof dym);
		errf(L, origin_of(L, s), full, "\"%s\" is not allowed%s (allowed: %s)", str, dym, allowed);
		return;
	}
	case CONFIG_T_STRING: {
		char what[300];
		snprintf(what, sizeof what, "a string: %s", k->choices);
		if (!string_ok(L, s, full, what, CONFIG_STR_MAX, &str))
			return;
		if (k->check && k->check(str) != 0) {
			errf(L, origin_of(L, s), full, "\"%s\" is not a valid value (allowed: %s)", str,
			     k->choices);
			return;
		}
		snprintf(base + k->offset, CONFIG_STR_MAX, "%s", str);
		break;
	}
	case CONFIG_T_PROFILE_REF:
		if (!string_ok(L, s, full, "a profile name or \"\"", ENGINE_NAME_MAX, &str))
			return;
		snprintf(L->ambient, sizeof L->ambient, "%s", str);
		break;
	default:
		return;
	}
	L->key[k - config_schema] = origin_of(L, s);
}

static bool is_seq(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

static void param_candidates(struct candidates *c, const char *extra)
{
	c->n = 0;
	for (int i = 0; i < P_COUNT; i++)
		cand_add(c, param_table[i].name);
	if (extra)
		cand_add(c, extra);
}

static void scale_candidates(struct candidates *c)
{
	c->n = 0;
	for (int i = 0; i < SCALE_COUNT; i++)
		cand_add(c, scale_name(i));
}

/* Binds CC number cc to what (a param id or CC_RESERVED), reporting a double mapping. */
static void map_cc(struct loader *L, int cc, int what, const config_setting_t *s, const char *full)
{
	int *map = L->cfg->engine.cc_param;
	if (map[cc] != CC_UNMAPPED) {
		const char *a = map[cc] == CC_RESERVED ? "reserved" : param_table[map[cc]].name;
		const char *b = what == CC_RESERVED ? "reserved" : param_table[what].name;
		struct origin f = L->cc[cc];
		if (f.line > 0)
			errf(L, origin_of(L, s), full,
			     "CC %d mapped twice: `%s` and `%s` (first at %s:%d)", cc, a, b, f.src,
			     f.line);
		else
			errf(L, origin_of(L, s), full, "CC %d mapped twice: `%s` and `%s` (first in %s)",
			     cc, a, b, f.src);
		return;
	}
	map[cc] = what;
	L->cc[cc] = origin_of(L, s);
}

static bool cc_number(struct loader *L, const config_setting_t *s, const char *full, int *out)
{
	double v;
	bool integral;
	if (!get_number(s, &v, &integral) || !integral) {
		err_at(L, s, full, "expected a MIDI CC number from 0 to 127");
		return false;
	}
	if (v < 0 || v > 127) {
		errf(L, origin_of(L, s), full, "CC %s is out of range (allowed: 0 to 127)", num(v).s);
		return false;
	}
	*out = (int)v;
	return true;
}

/* Copies a knob's range field by field, so the padding stays zero (configs compare bytewise). */
static void put_range(struct engine_cc_range *dst, const struct engine_cc_range *src)
{
	memset(dst, 0, sizeof *dst);
	dst->set = src->set;
	dst->curve = src->curve;
	dst->min = src->min;
	dst->max = src->max;
}

/* A knob's range fields: min and max in the parameter's range, curve linear or exp. */
static bool knob_range(struct loader *L, const config_setting_t *m, const char *full, int p,
		       struct engine_cc_range *r, bool *has_cc, int *cc)
{
	const struct param_info *pi = &param_table[p];
	bool ok = true, selector = p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE;
	*has_cc = false;
	for (int i = 0; i < config_setting_length(m); i++) {
		const config_setting_t *f = config_setting_get_elem(m, (unsigned)i);
		const char *fname = config_setting_name(f);
		char key[PATH_MAX_KEY];
		join(key, full, fname);
		if (strcmp(fname, "cc") == 0) {
			ok &= *has_cc = cc_number(L, f, key, cc);
			continue;
		}
		bool is_min = strcmp(fname, "min") == 0, is_max = strcmp(fname, "max") == 0;
		bool is_curve = strcmp(fname, "curve") == 0;
		if (!is_min && !is_max && !is_curve) {
			struct candidates c = {.n = 0};
			cand_add(&c, "cc");
			cand_add(&c, "min");
			cand_add(&c, "max");
			cand_add(&c, "curve");
			unknown_key(L, f, key, &c);
			ok = false;
			continue;
		}
		if (selector) {
			errf(L, origin_of(L, f), key,
			     "`%s` divides its knob among its entries: no range or curve (allowed: cc)",
			     pi->name);
			ok = false;
			continue;
		}
		if (is_curve) {
			const char *str;
			bool stepped = pi->curve == CURVE_STEPPED;
			if (!string_ok(L, f, key, stepped ? "\"stepped\"" : "\"linear\" or \"exp\"", 16,
				       &str)) {
				ok = false;
			} else if (stepped ? strcmp(str, "stepped") == 0 : strcmp(str, "linear") == 0) {
				r->curve = stepped ? CURVE_STEPPED : CURVE_LINEAR;
			} else if (!stepped && strcmp(str, "exp") == 0) {
				r->curve = CURVE_EXP;
			} else {
				errf(L, origin_of(L, f), key, "\"%s\" is not allowed (allowed: %s)", str,
				     stepped ? "\"stepped\"" : "\"linear\", \"exp\"");
				ok = false;
			}
			continue;
		}
		struct config_key k = {key, pi->curve == CURVE_STEPPED ? CONFIG_T_INT : CONFIG_T_FLOAT,
				       pi->min, pi->max, NULL, pi->unit, "", 0, NULL};
		double v;
		if (!number_ok(L, f, &k, key, &v))
			ok = false;
		else if (is_min)
			r->min = v;
		else
			r->max = v;
	}
	if (ok && !selector && !(r->min < r->max)) {
		errf(L, origin_of(L, m), full, "min %s is not below max %s", num(r->min).s,
		     num(r->max).s);
		ok = false;
	}
	if (ok && r->curve == CURVE_EXP && !(r->min > 0)) {
		errf(L, origin_of(L, m), full, "an exp curve needs min above 0 (min is %s)",
		     num(r->min).s);
		ok = false;
	}
	r->set = !selector;
	return ok;
}

static void apply_ccs(struct loader *L, const config_setting_t *g, const char *path)
{
	int *map = L->cfg->engine.cc_param;
	struct engine_cc_range *range = L->cfg->engine.cc_range;
	if (!L->is_set) {
		for (int i = 0; i < 128; i++) {
			map[i] = CC_UNMAPPED;
			memset(&range[i], 0, sizeof range[i]);
		}
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[PATH_MAX_KEY];
		join(full, path, name);
		int p = strcmp(name, "reserved") == 0 ? CC_RESERVED : param_find(name);
		if (p == -1) {
			struct candidates c;
			param_candidates(&c, "reserved");
			unknown_key(L, m, full, &c);
			continue;
		}
		int old_cc = -1;
		for (int cc = 0; cc < 128 && p != CC_RESERVED; cc++)
			if (map[cc] == p && old_cc < 0)
				old_cc = cc;
		int cc = -1;
		if (config_setting_is_group(m)) {
			if (p == CC_RESERVED) {
				err_at(L, m, full, "expected a CC number or an array of CC numbers");
				continue;
			}
			const struct param_info *pi = &param_table[p];
			struct engine_cc_range r = {false, (uint8_t)pi->curve, pi->min, pi->max};
			/* --set may change one field of a knob that is already mapped */
			if (L->is_set && old_cc >= 0 && range[old_cc].set)
				r = range[old_cc];
			bool has_cc;
			if (!knob_range(L, m, full, p, &r, &has_cc, &cc))
				continue;
			if (!has_cc && !(L->is_set && old_cc >= 0)) {
				err_at(L, m, full, "expected cc = a MIDI CC number from 0 to 127");
				continue;
			}
			if (!has_cc) {
				put_range(&range[old_cc], &r);
				L->range_at[old_cc] = origin_of(L, m);
				continue;
			}
			/* A key names the whole set of CCs bound to it: drop the old ones. */
			for (int c = 0; c < 128; c++)
				if (map[c] == p) {
					map[c] = CC_UNMAPPED;
					memset(&range[c], 0, sizeof range[c]);
				}
			if (map[cc] == CC_UNMAPPED) {
				put_range(&range[cc], &r);
				L->range_at[cc] = origin_of(L, m);
			}
			map_cc(L, cc, p, m, full);
			continue;
		}
		/* --set moving a knob to another CC keeps its range */
		struct engine_cc_range kept = {false, 0, 0, 0};
		if (L->is_set && old_cc >= 0)
			kept = range[old_cc];
		/* A key names the whole set of CCs bound to it: drop the old ones. */
		for (int c = 0; c < 128; c++)
			if (map[c] == p) {
				map[c] = CC_UNMAPPED;
				memset(&range[c], 0, sizeof range[c]);
			}
		if (p == CC_RESERVED && is_seq(m)) {
			for (int j = 0; j < config_setting_length(m); j++)
				if (cc_number(L, config_setting_get_elem(m, (unsigned)j), full, &cc))
					map_cc(L, cc, p, m, full);
		} else if (cc_number(L, m, full, &cc)) {
			if (kept.set && map[cc] == CC_UNMAPPED)
				put_range(&range[cc], &kept);
			map_cc(L, cc, p, m, full);
		}
	}
}

/* mutation.params: each parameter's walk, merged field by field over what came before. */
static void apply_mutation(struct loader *L, const config_setting_t *g, const char *path)
{
	struct engine_config *e = &L->cfg->engine;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[PATH_MAX_KEY];
		join(full, path, name);
		int p = param_find(name);
		if (p < 0) {
			struct candidates c = {.n = 0};
			for (int k = 0; k < P_COUNT; k++)
				if (k != P_SCALE_SELECT && k != P_MODE && k != P_PALETTE)
					cand_add(&c, param_table[k].name);
			unknown_key(L, m, full, &c);
			continue;
		}
		if (p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE) {
			errf(L, origin_of(L, m), full, "`%s` is not walked (%s)", name,
			     p == P_SCALE_SELECT ? "scales move with mutation.moves_per_hour"
						 : "only the performer chooses it");
			continue;
		}
		if (!config_setting_is_group(m)) {
			err_at(L, m, full, "expected { min = ...; max = ...; weight = ...; step = ...; }");
			continue;
		}
		const struct param_info *pi = &param_table[p];
		struct engine_mutation w = e->mut[p];
		bool ok = true;
		for (int j = 0; j < config_setting_length(m); j++) {
			const config_setting_t *f = config_setting_get_elem(m, (unsigned)j);
			const char *fname = config_setting_name(f);
			char key[PATH_MAX_KEY];
			join(key, full, fname);
			double *dst = strcmp(fname, "min") == 0 ? &w.min
				      : strcmp(fname, "max") == 0 ? &w.max
				      : strcmp(fname, "weight") == 0 ? &w.weight
				      : strcmp(fname, "step") == 0 ? &w.step : NULL;
			if (!dst) {
				struct candidates c = {.n = 0};
				cand_add(&c, "min");
				cand_add(&c, "max");
				cand_add(&c, "weight");
				cand_add(&c, "step");
				unknown_key(L, f, key, &c);
				ok = false;
				continue;
			}
			bool bound = dst == &w.min || dst == &w.max;
			struct config_key k = {key,
					       bound && pi->curve == CURVE_STEPPED ? CONFIG_T_INT
										   : CONFIG_T_FLOAT,
					       bound ? pi->min : 0, bound ? pi->max : dst == &w.step ? 1 : 100,
					       NULL, bound ? pi->unit : "", "", 0, NULL};
			ok &= number_ok(L, f, &k, key, dst);
		}
		if (!ok)
			continue;
		e->mut[p] = w;
		L->mut_at[p] = origin_of(L, m);
	}
}

/* mutation.roots: semitone offsets -12..12, no duplicates. */
static void apply_roots(struct loader *L, const struct config_key *k, const config_setting_t *s,
			const char *full)
{
	struct engine_config *e = &L->cfg->engine;
	if (!is_seq(s)) {
		err_at(L, s, full, "expected a list of semitones [0, 5, 7, ...]");
		return;
	}
	int n = config_setting_length(s);
	if (n > (int)k->max) {
		errf(L, origin_of(L, s), full, "%d roots (allowed: 0 to %d)", n, (int)k->max);
		return;
	}
	int roots[ENGINE_MAX_ROOTS];
	bool ok = true;
	for (int i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
		struct config_key r = {full, CONFIG_T_INT, -12, 12, NULL, "semitones", "", 0, NULL};
		double v;
		if (!number_ok(L, el, &r, full, &v)) {
			ok = false;
			continue;
		}
		roots[i] = (int)v;
		for (int j = 0; j < i; j++)
			if (roots[j] == roots[i]) {
				errf(L, origin_of(L, el), full, "%d is listed twice", roots[i]);
				ok = false;
			}
	}
	if (!ok)
		return;
	memcpy(e->roots, roots, (size_t)n * sizeof roots[0]);
	e->n_roots = n;
	L->key[k - config_schema] = origin_of(L, s);
}

static void apply_buttons(struct loader *L, const config_setting_t *g, const char *path)
{
	struct engine_config *e = &L->cfg->engine;
	if (!L->is_set)
		e->n_buttons = 0;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[PATH_MAX_KEY];
		join(full, path, name);
		int action = -1;
		for (int a = 0; a < N_ACTIONS; a++)
			if (strcmp(button_actions[a], name) == 0)
				action = a;
		if (action < 0) {
			struct candidates c = {.n = 0};
			for (int a = 0; a < N_ACTIONS; a++)
				cand_add(&c, button_actions[a]);
			unknown_key(L, m, full, &c);
			continue;
		}
		int note[2] = {0, 0};
		bool ok = is_seq(m) && config_setting_length(m) == 2, in_range = true;
		for (int j = 0; ok && j < 2; j++) {
			double v;
			bool integral;
			const config_setting_t *el = config_setting_get_elem(m, (unsigned)j);
			ok = get_number(el, &v, &integral) && integral;
			if (ok && (v < 0 || v > 127)) {
				errf(L, origin_of(L, m), full, "note %s is out of range (allowed: 0 to 127)",
				     num(v).s);
				in_range = false;
				break;
			}
			note[j] = (int)v;
		}
		if (!ok) {
			err_at(L, m, full, "expected [first, last], two MIDI notes from 0 to 127");
			continue;
		}
		if (!in_range)
			continue;
		if (note[0] > note[1]) {
			errf(L, origin_of(L, m), full, "first note %d is above last note %d", note[0],
			     note[1]);
			continue;
		}
		int slot = e->n_buttons;
		for (int b = 0; b < e->n_buttons; b++)
			if (e->buttons[b].action == action)
				slot = b;
		if (slot >= ENGINE_MAX_BUTTONS) {
			errf(L, origin_of(L, m), full, "more than %d buttons", ENGINE_MAX_BUTTONS);
			continue;
		}
		e->buttons[slot] = (struct engine_button){(uint8_t)action, (uint8_t)note[0],
							  (uint8_t)note[1]};
		if (slot == e->n_buttons)
			e->n_buttons++;
		L->button[slot] = origin_of(L, m);
	}
}

static bool name_ok(struct loader *L, const config_setting_t *s, const char *full,
		    const char *name)
{
	if (!*name) {
		err_at(L, s, full, "empty name");
		return false;
	}
	if (strlen(name) >= ENGINE_NAME_MAX) {
		errf(L, origin_of(L, s), full, "name \"%s\" is longer than %d characters", name,
		     ENGINE_NAME_MAX - 1);
		return false;
	}
	return true;
}

static void apply_profile(struct loader *L, int idx, const config_setting_t *g, const char *path)
{
	struct engine_profile *pr = &L->cfg->engine.profiles[idx];
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[PATH_MAX_KEY];
		join(full, path, name);
		if (strcmp(name, "scale") == 0) {
			const char *str;
			if (string_ok(L, m, full, "a scale name from `scales`", ENGINE_NAME_MAX, &str)) {
				snprintf(L->profile_scale[idx], ENGINE_NAME_MAX, "%s", str);
				L->profile_scale_at[idx] = origin_of(L, m);
			} else {
				L->bad_profiles = true;
			}
			continue;
		}
		int p = param_find(name);
		if (p < 0) {
			struct candidates c;
			param_candidates(&c, "scale");
			unknown_key(L, m, full, &c);
			continue;
		}
		const struct param_info *pi = &param_table[p];
		struct config_key k = {full, pi->curve == CURVE_STEPPED ? CONFIG_T_INT : CONFIG_T_FLOAT,
				       pi->min, pi->max, NULL, pi->unit, "", 0, NULL};
		double v;
		if (!number_ok(L, m, &k, full, &v))
			continue;
		pr->value[p] = v;
		pr->mask |= 1u << p;
		L->profile_param[idx][p] = origin_of(L, m);
	}
}

static void apply_profiles(struct loader *L, const config_setting_t *g, const char *path)
{
	struct engine_config *e = &L->cfg->engine;
	if (!L->is_set) {
		e->n_profiles = 0;
		memset(e->profiles, 0, sizeof e->profiles);
		memset(L->profile_scale, 0, sizeof L->profile_scale);
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char full[PATH_MAX_KEY];
		join(full, path, name);
		if (!config_setting_is_group(m)) {
			err_at(L, m, full, "expected a profile { parameter = value; ... }");
			L->bad_profiles = true;
			continue;
		}
		if (!name_ok(L, m, full, name)) {
			L->bad_profiles = true;
			continue;
		}
		int idx = e->n_profiles;
		for (int p = 0; p < e->n_profiles; p++)
			if (strcmp(e->profiles[p].name, name) == 0)
				idx = p;
		if (idx >= ENGINE_MAX_PROFILES) {
			errf(L, origin_of(L, m), full, "more than %d profiles", ENGINE_MAX_PROFILES);
			L->bad_profiles = true;
			continue;
		}
		if (idx == e->n_profiles) {
			memset(&e->profiles[idx], 0, sizeof e->profiles[idx]);
			snprintf(e->profiles[idx].name, ENGINE_NAME_MAX, "%s", name);
			L->profile_scale[idx][0] = '\0';
			e->n_profiles++;
		}
		apply_profile(L, idx, m, full);
	}
}

static void apply_names(struct loader *L, const struct config_key *k, const config_setting_t *s,
			const char *full)
{
	struct engine_config *e = &L->cfg->engine;
	bool scales = strcmp(k->path, "scales") == 0, modes = strcmp(k->path, "modes") == 0;
	if (!is_seq(s)) {
		err_at(L, s, full, "expected a list of names [\"a\", \"b\", ...]");
		goto bad;
	}
	int n = config_setting_length(s);
	if (n < (int)k->min || n > (int)k->max) {
		errf(L, origin_of(L, s), full, "%d names (allowed: %s to %s)", n, num(k->min).s,
		     num(k->max).s);
		goto bad;
	}
	char seen[ENGINE_MAX_PROFILES][ENGINE_NAME_MAX];
	bool ok = true;
	for (int i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
		const char *name;
		seen[i][0] = '\0';
		if (!string_ok(L, el, full, "a list of names [\"a\", \"b\", ...]", ENGINE_NAME_MAX,
			       &name) ||
		    !name_ok(L, el, full, name)) {
			ok = false;
			continue;
		}
		bool dup = false;
		for (int j = 0; j < i; j++)
			dup |= strcmp(seen[j], name) == 0;
		snprintf(seen[i], ENGINE_NAME_MAX, "%s", name);
		if (dup) {
			errf(L, origin_of(L, el), full, "\"%s\" is listed twice", name);
			ok = false;
			continue;
		}
		if (scales) {
			int id = scale_find(name);
			if (id < 0) {
				struct candidates c;
				char dym[128], allowed[512];
				scale_candidates(&c);
				did_you_mean(&c, name, false, dym, sizeof dym);
				cand_list(&c, false, allowed, sizeof allowed);
				errf(L, origin_of(L, el), full, "unknown scale `%s`%s (allowed: %s)", name,
				     dym, allowed);
				ok = false;
				continue;
			}
			e->scales[i] = id;
		} else if (modes) {
			snprintf(L->mode_name[i], ENGINE_NAME_MAX, "%s", name);
			L->mode[i] = origin_of(L, el);
		} else {
			snprintf(e->palettes[i], ENGINE_NAME_MAX, "%s", name);
		}
	}
	if (!ok)
		goto bad;
	if (scales)
		e->n_scales = n;
	else if (modes)
		e->n_modes = n;
	else
		e->n_palettes = n;
	L->key[k - config_schema] = origin_of(L, s);
	if (scales)
		L->bad_scales = false;
	return;
bad:
	if (scales)
		L->bad_scales = true;
	if (modes)
		e->n_modes = 0;
}

static void apply_key(struct loader *L, const struct config_key *k, const config_setting_t *s,
		      const char *full)
{
	switch (k->type) {
	case CONFIG_T_NAMES:
		apply_names(L, k, s, full);
		return;
	case CONFIG_T_ROOTS:
		apply_roots(L, k, s, full);
		return;
	case CONFIG_T_MUTATION:
		if (!config_setting_is_group(s)) {
			err_at(L, s, full, "expected a group { parameter = { min; max; weight; step; }; ... }");
			return;
		}
		apply_mutation(L, s, full);
		L->key[k - config_schema] = origin_of(L, s);
		return;
	case CONFIG_T_CCS:
	case CONFIG_T_BUTTONS:
	case CONFIG_T_PROFILES:
		if (!config_setting_is_group(s)) {
			err_at(L, s, full,
			       k->type == CONFIG_T_CCS
				   ? "expected a group { parameter = CC number; ... }"
			       : k->type == CONFIG_T_BUTTONS
				   ? "expected a group { action = [first, last]; ... }"
				   : "expected a group { name = { parameter = value; ... }; ... }");
			if (k->type == CONFIG_T_PROFILES)
				L->bad_profiles = true;
			return;
		}
		if (k->type == CONFIG_T_CCS)
			apply_ccs(L, s, full);
		else if (k->type == CONFIG_T_BUTTONS)
			apply_buttons(L, s, full);
		else
			apply_profiles(L, s, full);
		L->key[k - config_schema] = origin_of(L, s);
		return;
	default:
		apply_scalar(L, k, s, full);
	}
}

static void walk_group(struct loader *L, const config_setting_t *g, const char *path)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		char full[PATH_MAX_KEY];
		join(full, path, config_setting_name(m));
		const struct config_key *k = schema_find(full);
		if (k) {
			apply_key(L, k, m, full);
			continue;
		}
		struct candidates c;
		if (schema_is_group(full)) {
			if (config_setting_is_group(m)) {
				walk_group(L, m, full);
			} else {
				char allowed[1024];
				schema_children(full, &c, L->child);
				cand_list(&c, false, allowed, sizeof allowed);
				errf(L, origin_of(L, m), full, "expected a group { ... } of keys (allowed: %s)",
				     allowed);
			}
			continue;
		}
		schema_children(path, &c, L->child);
		unknown_key(L, m, full, &c);
	}
}

/* Applies the libconfig text (or file, when text is NULL) as one layer. */
static enum config_status apply_source(struct loader *L, const char *file, const char *text,
				       const char *name)
{
	config_t lc;
	config_init(&lc);
	L->src = intern(L, name);
	L->is_set = false;
	int ok = file ? config_read_file(&lc, file) : config_read_string(&lc, text);
	enum config_status st = CONFIG_OK;
	if (!ok) {
		struct origin o = {L->src, config_error_line(&lc), 0};
		if (config_error_file(&lc))
			o.src = intern(L, config_error_file(&lc));
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO) {
			errf(L, o, NULL, "cannot read: %s", errno ? strerror(errno) : "I/O error");
			st = CONFIG_ERR_IO;
		} else {
			errf(L, o, NULL, "%s", config_error_text(&lc));
			st = CONFIG_ERR_SYNTAX;
		}
	} else {
		walk_group(L, config_root_setting(&lc), "");
	}
	config_destroy(&lc);
	return st;
}

static bool key_char_ok(char c, bool first)
{
	return isalpha((unsigned char)c) || (!first && (isdigit((unsigned char)c) || c == '_' || c == '-'));
}

/* Whether the --set value of key is read as a string whatever it looks like. */
static bool wants_string(const char *key)
{
	const struct config_key *k = schema_find(key);
	if (k)
		return k->type == CONFIG_T_STRING || k->type == CONFIG_T_CHOICE ||
		       k->type == CONFIG_T_PROFILE_REF;
	size_t l = strlen(key);
	return strncmp(key, "profiles.", 9) == 0 && l > 6 && strcmp(key + l - 6, ".scale") == 0;
}

/* Appends s to buf as a libconfig string literal. */
static void quote_into(char *buf, size_t n, const char *s)
{
	size_t u = strlen(buf);
	if (u + 1 < n)
		buf[u++] = '"';
	for (; *s && u + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[u++] = '\\';
			buf[u++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			u += (size_t)snprintf(buf + u, n - u, "\\x%02x", c);
		} else {
			buf[u++] = (char)c;
		}
	}
	if (u + 1 < n)
		buf[u++] = '"';
	buf[u] = '\0';
}

/* Builds "a = { b = VALUE\n; };" for key a.b; false when key is not a key path. */
static bool set_text(char *buf, size_t n, const char *key, size_t klen, const char *value,
		     bool quote)
{
	size_t u = 0;
	int depth = 0;
	const char *p = key, *end = key + klen;
	buf[0] = '\0';
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *ce = dot ? dot : end;
		if (ce == p)
			return false;
		for (const char *q = p; q < ce; q++)
			if (!key_char_ok(*q, q == p))
				return false;
		int w = snprintf(buf + u, n - u, "%.*s = %s", (int)(ce - p), p, dot ? "{ " : "");
		if (w < 0 || (size_t)w >= n - u)
			return false;
		u += (size_t)w;
		if (dot)
			depth++;
		p = dot ? dot + 1 : end;
		if (dot && p == end)
			return false;
	}
	if (quote)
		quote_into(buf, n, value);
	else
		snprintf(buf + u, n - u, "%s", value);
	u = strlen(buf);
	snprintf(buf + u, n - u, "\n;");
	for (int i = 0; i < depth; i++) {
		u = strlen(buf);
		snprintf(buf + u, n - u, " };");
	}
	return strlen(buf) + 1 < n;
}

/* Whether the parsed --set holds exactly one chain of single members. */
static bool single_path(const config_t *lc, int depth)
{
	const config_setting_t *s = config_root_setting(lc);
	for (int i = 0; i <= depth; i++) {
		if (!config_setting_is_group(s) || config_setting_length(s) != 1)
			return false;
		s = config_setting_get_elem(s, 0);
	}
	return true;
}

static void apply_set(struct loader *L, const char *kv)
{
	char name[CONFIG_STR_MAX + 16];
	snprintf(name, sizeof name, "--set %s", kv);
	L->src = intern(L, name);
	L->is_set = true;
	struct origin o = {L->src, 0, ++L->seq};
	const char *eq = strchr(kv, '=');
	if (!eq) {
		errf(L, o, NULL, "expected KEY=VALUE");
		return;
	}
	size_t klen = (size_t)(eq - kv);
	char key[PATH_MAX_KEY];
	snprintf(key, sizeof key, "%.*s", (int)klen, kv);
	int depth = 0;
	for (size_t i = 0; i < klen; i++)
		depth += kv[i] == '.';
	size_t n = strlen(kv) * 5 + 64 + (size_t)depth * 4;
	char *text = malloc(n);
	if (!text)
		return;
	config_t lc;
	config_init(&lc);
	const char *value = eq + 1;
	bool quote = wants_string(key) && value[0] != '"';
	bool ok = set_text(text, n, kv, klen, value, quote);
	if (!ok) {
		errf(L, o, key, "not a key (keys look like sequencer.bpm)");
		goto out;
	}
	if (!config_read_string(&lc, text) || !single_path(&lc, depth)) {
		config_destroy(&lc);
		config_init(&lc);
		if (!set_text(text, n, kv, klen, value, true) || !config_read_string(&lc, text)) {
			errf(L, o, key, "cannot read the value");
			goto out;
		}
	}
	walk_group(L, config_root_setting(&lc), "");
out:
	config_destroy(&lc);
	free(text);
}

static struct origin later(struct origin a, struct origin b)
{
	return a.seq >= b.seq ? a : b;
}

static int profile_index(const struct engine_config *e, const char *name)
{
	for (int i = 0; i < e->n_profiles; i++)
		if (strcmp(e->profiles[i].name, name) == 0)
			return i;
	return -1;
}

static void profile_missing(struct loader *L, struct origin o, const char *key, const char *name)
{
	const struct engine_config *e = &L->cfg->engine;
	struct candidates c = {.n = 0};
	char dym[128], allowed[1024];
	for (int i = 0; i < e->n_profiles; i++)
		cand_add(&c, e->profiles[i].name);
	did_you_mean(&c, name, false, dym, sizeof dym);
	cand_list(&c, false, allowed, sizeof allowed);
	errf(L, o, key, "no profile `%s`%s (allowed: %s)", name, dym, allowed);
}

static struct origin key_origin(struct loader *L, const char *path)
{
	return L->key[schema_find(path) - config_schema];
}

/* Rules that span keys, once every layer is in; resolves names to indices. */
static void finalize(struct loader *L)
{
	struct engine_config *e = &L->cfg->engine;
	if (e->interval_min_s > e->interval_max_s) {
		struct origin a = key_origin(L, "mutation.interval_min_s");
		struct origin b = key_origin(L, "mutation.interval_max_s");
		struct origin o = later(a, b);
		errf(L, o, o.seq == a.seq ? "mutation.interval_min_s" : "mutation.interval_max_s",
		     "interval_min_s %s is above interval_max_s %s", num(e->interval_min_s).s,
		     num(e->interval_max_s).s);
	}
	for (int p = 0; p < P_COUNT; p++) {
		const struct engine_mutation *w = &e->mut[p];
		if (w->min < w->max || p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE)
			continue;
		char key[PATH_MAX_KEY];
		snprintf(key, sizeof key, "mutation.params.%s", param_table[p].name);
		errf(L, L->mut_at[p], key, "min %s is not below max %s", num(w->min).s,
		     num(w->max).s);
	}
	const int sel_param[3] = {P_SCALE_SELECT, P_MODE, P_PALETTE};
	const int sel_n[3] = {e->n_scales, e->n_modes, e->n_palettes};
	const char *sel_list[3] = {"scales", "modes", "palettes"};
	for (int i = 0; i < e->n_profiles && !L->bad_profiles; i++) {
		struct engine_profile *pr = &e->profiles[i];
		char key[PATH_MAX_KEY];
		for (int j = 0; j < 3; j++) {
			int p = sel_param[j];
			if ((pr->mask & (1u << p)) && pr->value[p] >= sel_n[j] && sel_n[j] > 0) {
				snprintf(key, sizeof key, "profiles.%s.%s", pr->name, param_table[p].name);
				errf(L, L->profile_param[i][p], key,
				     "%s is out of range (allowed: 0 to %d, an index into `%s`)",
				     num(pr->value[p]).s, sel_n[j] - 1, sel_list[j]);
			}
		}
		const char *sname = L->profile_scale[i];
		if (!*sname || L->bad_scales)
			continue;
		snprintf(key, sizeof key, "profiles.%s.scale", pr->name);
		struct origin o = L->profile_scale_at[i];
		if (pr->mask & (1u << P_SCALE_SELECT)) {
			errf(L, o, key, "sets both scale and scale_select (keep one)");
			continue;
		}
		int id = scale_find(sname), idx = -1;
		for (int j = 0; j < e->n_scales; j++)
			if (e->scales[j] == id)
				idx = j;
		struct candidates c = {.n = 0};
		char dym[128], allowed[512];
		if (id >= 0 && idx < 0) {
			for (int j = 0; j < e->n_scales; j++)
				cand_add(&c, scale_name(e->scales[j]));
			cand_list(&c, false, allowed, sizeof allowed);
			errf(L, o, key, "scale `%s` is not in `scales` (allowed: %s)", sname, allowed);
			continue;
		}
		if (id < 0) {
			for (int j = 0; j < e->n_scales; j++)
				cand_add(&c, scale_name(e->scales[j]));
			did_you_mean(&c, sname, false, dym, sizeof dym);
			cand_list(&c, false, allowed, sizeof allowed);
			errf(L, o, key, "unknown scale `%s`%s (allowed: %s)", sname, dym, allowed);
			continue;
		}
		pr->mask |= 1u << P_SCALE_SELECT;
		pr->value[P_SCALE_SELECT] = idx;
	}
	if (L->bad_profiles)
		return;
	for (int i = 0; i < e->n_modes; i++) {
		int p = profile_index(e, L->mode_name[i]);
		if (p < 0)
			profile_missing(L, L->mode[i], "modes", L->mode_name[i]);
		e->modes[i] = p;
	}
	e->ambient_profile = -1;
	if (L->ambient[0]) {
		e->ambient_profile = profile_index(e, L->ambient);
		if (e->ambient_profile < 0)
			profile_missing(L, key_origin(L, "idle.ambient_profile"),
					"idle.ambient_profile", L->ambient);
	}
}

/* ---- special files ----
 *
 * libconfig reads files (and the files they @include) with fopen(), which
 * waits forever on a FIFO without a writer.  Before libconfig sees a file,
 * it and everything it includes are opened here without blocking and
 * checked to be regular files: a FIFO, a device or a directory is an error
 * naming it (and the @include line), never a hang.
 */

#define INCLUDE_DEPTH 10	/* libconfig's own limit */
#define SCAN_MAX (4 * 1024 * 1024)

/* NULL when path is a regular file, else why it cannot be read. */
static const char *not_regular(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(buf, n, "%s", strerror(errno));
		return buf;
	}
	struct stat sb;
	int r = fstat(fd, &sb);
	close(fd);
	if (r != 0)
		snprintf(buf, n, "%s", strerror(errno));
	else if (S_ISREG(sb.st_mode))
		return NULL;
	else
		snprintf(buf, n, "%s, not a regular file",
			 S_ISFIFO(sb.st_mode)			? "a FIFO"
			 : S_ISDIR(sb.st_mode)			? "a directory"
			 : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device"
								      : "a special file");
	return buf;
}

/* Checks every file path @includes, recursively, as libconfig will find
 * them (relative paths from the working directory); false after an error. */
static bool check_includes(struct loader *L, const char *path, int depth)
{
	FILE *f = fopen(path, "re");	/* a regular file: checked before */
	if (!f)
		return true;			/* libconfig reports it */
	char line[CONFIG_STR_MAX + 64];
	bool ok = true;
	long read = 0;
	for (int n = 1; ok && read < SCAN_MAX && fgets(line, sizeof line, f); n++) {
		read += (long)strlen(line);
		const char *p = line + strspn(line, " \t");
		if (strncmp(p, "@include", 8) != 0 || !strchr(" \t", p[8]))
			continue;
		p += 8 + strspn(p + 8, " \t");
		const char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
		if (!end)
			continue;		/* libconfig reports the syntax */
		char inc[CONFIG_STR_MAX], why[128];
		snprintf(inc, sizeof inc, "%.*s", (int)(end - p - 1), p + 1);
		struct origin o = {intern(L, path), n, 0};
		if (depth >= INCLUDE_DEPTH) {
			errf(L, o, NULL, "@include \"%s\": included more than %d deep", inc,
			     INCLUDE_DEPTH);
			ok = false;
		} else if (not_regular(inc, why, sizeof why)) {
			errf(L, o, NULL, "@include \"%s\": cannot read: %s", inc, why);
			ok = false;
		} else {
			ok = check_includes(L, inc, depth + 1);
		}
	}
	fclose(f);
	return ok;
}

/* The first configuration file that exists, into buf; false if none. */
static bool search(char *buf, size_t n)
{
	const char *rel = "mystery-engine/mystery-engine.conf";
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct stat st;
	if (xdg && xdg[0] == '/') {
		snprintf(buf, n, "%s/%s", xdg, rel);
		if (stat(buf, &st) == 0)
			return true;
	} else if (home && *home) {
		snprintf(buf, n, "%s/.config/%s", home, rel);
		if (stat(buf, &st) == 0)
			return true;
	}
	snprintf(buf, n, "%s/%s", SYSCONFDIR, rel);
	return stat(buf, &st) == 0;
}

enum config_status config_load(struct config *out, const char *path, const char *const *sets,
			       int n_sets, struct config_errors *errs)
{
	struct loader *L = calloc(1, sizeof *L);
	struct config *cfg = calloc(1, sizeof *cfg);
	enum config_status st = CONFIG_OK;
	int before = errs->n;
	if (!L || !cfg) {
		errors_add(errs, "out of memory loading the configuration");
		free(L);
		free(cfg);
		return CONFIG_ERR_IO;
	}
	L->cfg = cfg;
	L->errs = errs;
	for (int i = 0; i < 128; i++)
		cfg->engine.cc_param[i] = CC_UNMAPPED;
	/* A parameter the files do not walk: its whole range, weight 0. */
	for (int p = 0; p < P_COUNT; p++) {
		cfg->engine.mut[p].min = param_table[p].min;
		cfg->engine.mut[p].max = param_table[p].max;
		cfg->engine.mut[p].step = 0.1;
		L->mut_at[p] = (struct origin){intern(L, CONFIG_BUILTIN), 0, 0};
	}

	st = apply_source(L, NULL, config_default_text, CONFIG_BUILTIN);
	snprintf(cfg->source, sizeof cfg->source, "%s", CONFIG_BUILTIN);

	char found[CONFIG_STR_MAX];
	if (!path && search(found, sizeof found))
		path = found;
	if (path && st == CONFIG_OK) {
		char why[128];
		if (not_regular(path, why, sizeof why)) {
			struct origin o = {intern(L, path), 0, 0};
			errf(L, o, NULL, "cannot read: %s", why);
			st = CONFIG_ERR_IO;
		} else if (!check_includes(L, path, 1)) {
			st = CONFIG_ERR_IO;
		} else {
			errno = 0;
			st = apply_source(L, path, NULL, path);
			/* absolute, so that a reload finds it whatever the working directory */
			char *abs = realpath(path, NULL);
			snprintf(cfg->source, sizeof cfg->source, "%s", abs ? abs : path);
			free(abs);
		}
	}
	for (int i = 0; i < n_sets && st == CONFIG_OK; i++)
		apply_set(L, sets[i]);
	if (st == CONFIG_OK)
		finalize(L);
	if (st == CONFIG_OK && errs->n > before)
		st = CONFIG_ERR_INVALID;
	if (st == CONFIG_OK)
		*out = *cfg;
	if (errs->n - before == L->n_err_keys)
		sort_errors(L);
	free(L->err_keys);
	for (int i = 0; i < L->n_names; i++)
		free(L->names[i]);
	free(L->names);
	free(L);
	free(cfg);
	return st;
}

/* Printing */

static void print_string(FILE *out, const char *s)
{
	char buf[CONFIG_STR_MAX * 4 + 8] = "";
	quote_into(buf, sizeof buf, s);
	fputs(buf, out);
}

/* The shortest text that reads back as v, always with a point or exponent. */
static void print_float(FILE *out, double v)
{
	char buf[400];
	bool plain = fabs(v) >= 1e-4 && fabs(v) < 1e15;
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, plain ? "%.*f" : "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	fputs(buf, out);
}

/* A parameter's value: an integer for stepped parameters, else a float. */
static void print_number(FILE *out, int p, double v)
{
	if (param_table[p].curve == CURVE_STEPPED)
		fprintf(out, "%d", (int)v);
	else
		print_float(out, v);
}

static void indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		fputc('\t', out);
}

static void print_comment(FILE *out, const struct config_key *k)
{
	fprintf(out, "\t# %s", k->help);
	switch (k->type) {
	case CONFIG_T_INT:
	case CONFIG_T_INT64:
	case CONFIG_T_FLOAT:
		fprintf(out, "; %s..%s%s%s", num(k->min).s, num(k->max).s, *k->unit ? " " : "",
			k->unit);
		break;
	case CONFIG_T_CHOICE:
	case CONFIG_T_STRING:
		fprintf(out, "; %s", k->choices);
		break;
	default:
		break;
	}
	fputc('\n', out);
}

static void print_names(FILE *out, const struct config *cfg, const struct config_key *k)
{
	const struct engine_config *e = &cfg->engine;
	int n = strcmp(k->path, "scales") == 0 ? e->n_scales
		: strcmp(k->path, "modes") == 0 ? e->n_modes
						: e->n_palettes;
	fputc('[', out);
	for (int i = 0; i < n; i++) {
		const char *s = strcmp(k->path, "scales") == 0 ? scale_name(e->scales[i])
				: strcmp(k->path, "modes") == 0 ? e->profiles[e->modes[i]].name
								: e->palettes[i];
		if (i)
			fputs(", ", out);
		print_string(out, s);
	}
	fputs("];", out);
}

static void print_table(FILE *out, const struct config *cfg, const struct config_key *k,
			int depth)
{
	const struct engine_config *e = &cfg->engine;
	fputs("{\n", out);
	if (k->type == CONFIG_T_CCS) {
		static const char *const curves[] = {"linear", "exp", "stepped"};
		for (int p = 0; p < P_COUNT; p++)
			for (int cc = 0; cc < 128; cc++) {
				if (e->cc_param[cc] != p)
					continue;
				const struct engine_cc_range *r = &e->cc_range[cc];
				indent(out, depth + 1);
				if (!r->set) {
					fprintf(out, "%s = %d;\n", param_table[p].name, cc);
					continue;
				}
				fprintf(out, "%s = { cc = %d; min = ", param_table[p].name, cc);
				print_number(out, p, r->min);
				fputs("; max = ", out);
				print_number(out, p, r->max);
				fprintf(out, "; curve = \"%s\"; };\n", curves[r->curve % 3]);
			}
		int n = 0;
		for (int cc = 0; cc < 128; cc++)
			n += e->cc_param[cc] == CC_RESERVED;
		if (n) {
			indent(out, depth + 1);
			fputs(n > 1 ? "reserved = [" : "reserved = ", out);
			for (int cc = 0, i = 0; cc < 128; cc++)
				if (e->cc_param[cc] == CC_RESERVED)
					fprintf(out, "%s%d", i++ ? ", " : "", cc);
			fputs(n > 1 ? "];\n" : ";\n", out);
		}
	} else if (k->type == CONFIG_T_MUTATION) {
		for (int p = 0; p < P_COUNT; p++) {
			const struct engine_mutation *w = &e->mut[p];
			if (p == P_SCALE_SELECT || p == P_MODE || p == P_PALETTE)
				continue;
			indent(out, depth + 1);
			fprintf(out, "%s = { min = ", param_table[p].name);
			print_number(out, p, w->min);
			fputs("; max = ", out);
			print_number(out, p, w->max);
			fputs("; weight = ", out);
			print_float(out, w->weight);
			fputs("; step = ", out);
			print_float(out, w->step);
			fputs("; };\n", out);
		}
	} else if (k->type == CONFIG_T_BUTTONS) {
		for (int b = 0; b < e->n_buttons; b++) {
			indent(out, depth + 1);
			fprintf(out, "%s = [%d, %d];\n", button_actions[e->buttons[b].action],
				e->buttons[b].first, e->buttons[b].last);
		}
	} else {
		for (int i = 0; i < e->n_profiles; i++) {
			const struct engine_profile *pr = &e->profiles[i];
			indent(out, depth + 1);
			fprintf(out, "%s = {\n", pr->name);
			for (int p = 0; p < P_COUNT; p++) {
				if (!(pr->mask & (1u << p)))
					continue;
				indent(out, depth + 2);
				if (p == P_SCALE_SELECT) {
					int idx = (int)pr->value[p];
					fputs("scale = ", out);
					print_string(out, idx >= 0 && idx < e->n_scales
							      ? scale_name(e->scales[idx])
							      : "");
					fputs(";\n", out);
					continue;
				}
				fprintf(out, "%s = ", param_table[p].name);
				if (param_table[p].curve == CURVE_STEPPED)
					fprintf(out, "%d", (int)pr->value[p]);
				else
					print_float(out, pr->value[p]);
				fputs(";\n", out);
			}
			indent(out, depth + 1);
			fputs("};\n", out);
		}
	}
	indent(out, depth);
	fputs("};", out);
}

static void print_value(FILE *out, const struct config *cfg, const struct config_key *k,
			int depth)
{
	const char *base = (const char *)cfg;
	switch (k->type) {
	case CONFIG_T_BOOL:
		fputs(*(const bool *)(base + k->offset) ? "true;" : "false;", out);
		break;
	case CONFIG_T_INT:
		fprintf(out, "%d;", *(const int *)(base + k->offset));
		break;
	case CONFIG_T_INT64:
		fprintf(out, "%lld;", (long long)*(const int64_t *)(base + k->offset));
		break;
	case CONFIG_T_FLOAT:
		print_float(out, *(const double *)(base + k->offset));
		fputc(';', out);
		break;
	case CONFIG_T_CHOICE: {
		struct candidates c;
		char store[16][32];
		int v = *(const int *)(base + k->offset);
		choices_of(k, &c, store);
		print_string(out, v >= 0 && v < c.n ? c.name[v] : "");
		fputc(';', out);
		break;
	}
	case CONFIG_T_STRING:
		print_string(out, base + k->offset);
		fputc(';', out);
		break;
	case CONFIG_T_PROFILE_REF: {
		int a = cfg->engine.ambient_profile;
		print_string(out, a >= 0 && a < cfg->engine.n_profiles ? cfg->engine.profiles[a].name
								      : "");
		fputc(';', out);
		break;
	}
	case CONFIG_T_NAMES:
		print_names(out, cfg, k);
		break;
	case CONFIG_T_ROOTS:
		fputc('[', out);
		for (int i = 0; i < cfg->engine.n_roots; i++)
			fprintf(out, "%s%d", i ? ", " : "", cfg->engine.roots[i]);
		fputs("];", out);
		break;
	default:
		print_table(out, cfg, k, depth);
		break;
	}
}

/* Number of leading path components a and b share. */
static int common_depth(const char *a, const char *b)
{
	int d = 0;
	for (;;) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		if (!a[la] || !b[lb] || la != lb || strncmp(a, b, la) != 0)
			return d;
		d++;
		a += la + 1;
		b += lb + 1;
	}
}

static int path_depth(const char *p)
{
	int d = 0;
	for (; *p; p++)
		d += *p == '.';
	return d;
}

void config_print(const struct config *cfg, FILE *out)
{
	fputs("# mystery-engine effective configuration (from ", out);
	for (const char *c = cfg->source; *c; c++)
		fputc((unsigned char)*c < 0x20 ? '?' : *c, out);
	fputs(")\n", out);
	const char *prev = "";
	int open = 0;
	for (size_t i = 0; i < SCHEMA_N; i++) {
		const struct config_key *k = &config_schema[i];
		int keep = common_depth(prev, k->path);
		for (; open > keep; open--) {
			indent(out, open - 1);
			fputs("};\n", out);
		}
		const char *p = k->path;
		for (int d = 0; d < open; d++)
			p += strcspn(p, ".") + 1;
		int depth = path_depth(k->path);
		while (open < depth) {
			size_t l = strcspn(p, ".");
			indent(out, open);
			fprintf(out, "%.*s = {\n", (int)l, p);
			p += l + 1;
			open++;
		}
		indent(out, open);
		fprintf(out, "%s = ", p);
		print_value(out, cfg, k, open);
		print_comment(out, k);
		prev = k->path;
	}
	for (; open > 0; open--) {
		indent(out, open - 1);
		fputs("};\n", out);
	}
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

/* Checks of string forms */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* PATH[@BAUD]: a non-empty path, and a baud rate 1..4000000 if given. */
static int check_device(const char *s)
{
	const char *at = strrchr(s, '@');
	if (!*s || at == s)
		return -1;
	if (!at)
		return 0;
	size_t l = strlen(at + 1);
	if (!all_digits(at + 1, l) || l > 7)
		return -1;
	long baud = strtol(at + 1, NULL, 10);
	return baud >= 1 && baud <= 4000000 ? 0 : -1;
}

int config_check_midi_spec(const char *s)
{
	if (strcmp(s, "auto") == 0 || strcmp(s, "none") == 0)
		return 0;
	if (strncmp(s, "portmidi:", 9) == 0)
		return s[9] ? 0 : -1;
	if (strncmp(s, "raw:", 4) == 0)
		return check_device(s + 4);
	return -1;
}

int config_check_midi_out_spec(const char *s)
{
	return midi_out_check_spec(s) == MIDI_OUT_OK ? 0 : -1;
}

int config_check_clock_in_spec(const char *s)
{
	if (strcmp(s, "input") == 0)
		return 0;
	if (strcmp(s, "auto") == 0 || strcmp(s, "none") == 0)
		return -1;
	return config_check_midi_spec(s);
}

int config_check_host_port(const char *s)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -1;
	size_t pl = strlen(colon + 1);
	if (!all_digits(colon + 1, pl) || pl > 5)
		return -1;
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return -1;
	size_t hl = (size_t)(colon - s);
	char host[256];
	if (hl >= sizeof host)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (host[0] == '[') {
		unsigned char a[16];
		if (hl < 3 || host[hl - 1] != ']')
			return -1;
		host[hl - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, a) == 1 ? 0 : -1;
	}
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '.' && host[i] != '-')
			return -1;
	return 0;
}

int config_check_led_spec(const char *s)
{
	if (strcmp(s, "none") == 0)
		return 0;
	if (strncmp(s, "serial:", 7) == 0)
		return check_device(s + 7);
	if (strncmp(s, "udp:", 4) == 0)
		return config_check_host_port(s + 4);
	return -1;
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
