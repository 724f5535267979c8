/*
 * Tests of the configuration: the shipped file and the built-in default,
 * every kind of mistake an operator can make (with the line it points at),
 * --set overrides, printing and reading back, the search order, and that the
 * schema, the shipped file and the man page list the same keys.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/engine.h"
#include "core/param.h"
#include "core/scale.h"
#include "cfg/config.h"
#include "testlib.h"

static char path_buf[2048];

static const char *src_path(const char *rel)
{
	snprintf(path_buf, sizeof path_buf, "%s/%s", testlib_srcdir(), rel);
	return path_buf;
}

static const char *fixture(const char *name)
{
	static char buf[1024];
	snprintf(buf, sizeof buf, "%s/tests/fixtures/conf/%s", testlib_srcdir(), name);
	return buf;
}

/* The line of file that contains text (1-based), 0 if none. */
static int line_of(const char *file, const char *text)
{
	FILE *f = fopen(file, "r");
	char line[1024];
	int n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		n++;
		if (strstr(line, text)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

/* Whole file into a malloc'd string. */
static char *slurp(const char *file)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

/* Whether a and b name the same file (source names are absolute paths). */
static bool same_path(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	bool same = ra && rb && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

static void write_file(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static enum config_status load(struct config *c, const char *path, const char *const *sets, int n,
                               struct config_errors *e)
{
	memset(e, 0, sizeof *e);
	return config_load(c, path, sets, n, e);
}

/* True when some error message starts with prefix and contains every part. */
static bool has_error(const struct config_errors *e, const char *prefix, const char *part1,
                      const char *part2)
{
	for (int i = 0; i < e->n; i++) {
		const char *m = e->msg[i];
		if (strncmp(m, prefix, strlen(prefix)) == 0 && (!part1 || strstr(m, part1)) &&
		    (!part2 || strstr(m, part2)))
			return true;
	}
	for (int i = 0; i < e->n; i++)
		fprintf(stderr, "\n  got: %s", e->msg[i]);
	return false;
}

/* "FILE:LINE: " of the fixture line containing text. */
static const char *at(const char *file, const char *text)
{
	static char buf[1200];
	snprintf(buf, sizeof buf, "%s:%d: ", file, line_of(file, text));
	return buf;
}

static int find_cc(const struct engine_config *e, int what)
{
	for (int i = 0; i < 128; i++)
		if (e->cc_param[i] == what)
			return i;
	return -1;
}

/* The shipped file loads cleanly and gives the documented defaults. */
static void test_shipped_defaults(void)
{
	struct config c;
	struct config_errors e;
	const char *path = src_path("conf/mystery-engine.conf");
	CU_ASSERT_EQUAL_FATAL(load(&c, path, NULL, 0, &e), CONFIG_OK);
	CU_ASSERT_EQUAL(e.n, 0);
	char *abs = realpath(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(abs);
	CU_ASSERT_STRING_EQUAL(c.source, abs);
	CU_ASSERT_EQUAL(c.source[0], '/');
	free(abs);
	const struct engine_config *g = &c.engine;
	CU_ASSERT_EQUAL(g->cc_param[20], P_TEMPO);
	CU_ASSERT_EQUAL(g->cc_param[21], P_FILTER_CUTOFF);
	CU_ASSERT_EQUAL(g->cc_param[50], P_SEQUENCE_LENGTH);
	CU_ASSERT_EQUAL(g->cc_param[53], CC_RESERVED);
	CU_ASSERT_EQUAL(g->cc_param[62], P_DRIFT);
	CU_ASSERT_EQUAL(g->cc_param[0], CC_UNMAPPED);
	CU_ASSERT_EQUAL(g->cc_param[127], CC_UNMAPPED);
	CU_ASSERT_EQUAL(g->n_buttons, 1);
	CU_ASSERT_EQUAL(g->buttons[0].action, BUTTON_TRIGGER_STEP);
	CU_ASSERT_EQUAL(g->buttons[0].first, 60);
	CU_ASSERT_EQUAL(g->buttons[0].last, 71);
	CU_ASSERT_EQUAL(g->midi_channel, 0);
	CU_ASSERT_EQUAL(g->steps, 8);
	CU_ASSERT_DOUBLE_EQUAL(g->bpm, 110.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(g->swing, 0.12, 1e-12);
	CU_ASSERT_EQUAL(g->root, 60);
	CU_ASSERT_EQUAL(g->quantize_scale_changes, QUANTIZE_BAR);
	CU_ASSERT_EQUAL(g->n_scales, 3);
	CU_ASSERT_EQUAL(g->scales[0], scale_find("major"));
	CU_ASSERT_EQUAL(g->scales[1], scale_find("minor"));
	CU_ASSERT_EQUAL(g->scales[2], scale_find("pentatonic"));
	CU_ASSERT_EQUAL_FATAL(g->n_profiles, 4);
	CU_ASSERT_EQUAL_FATAL(g->n_modes, 3);
	const char *modes[] = {"calm", "mystic", "pulse"};
	for (int i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(g->profiles[g->modes[i]].name, modes[i]);
	CU_ASSERT_FATAL(g->ambient_profile >= 0);
	const struct engine_profile *amb = &g->profiles[g->ambient_profile];
	CU_ASSERT_STRING_EQUAL(amb->name, "ambient");
	CU_ASSERT_DOUBLE_EQUAL(amb->value[P_TEMPO], 72.0, 1e-12);
	CU_ASSERT(amb->mask & (1u << P_SCALE_SELECT));
	CU_ASSERT_EQUAL(g->scales[(int)amb->value[P_SCALE_SELECT]], scale_find("pentatonic"));
	CU_ASSERT_EQUAL(g->n_palettes, 3);
	CU_ASSERT_STRING_EQUAL(g->palettes[1], "tide");
	CU_ASSERT(g->mutation_enabled);
	CU_ASSERT_EQUAL(g->idle_timeout_ms, 30000);
	CU_ASSERT_EQUAL(c.synth.backend, CONFIG_SYNTH_SUPERCOLLIDER);
	CU_ASSERT_STRING_EQUAL(c.synth.server, "managed");
	CU_ASSERT_EQUAL(c.synth.port, 57110);
	CU_ASSERT_EQUAL(c.synth.jack_driver, CONFIG_JACK_AUTO);
	CU_ASSERT_STRING_EQUAL(c.midi.input_port, "auto");
	CU_ASSERT_STRING_EQUAL(c.led.transport, "none");
	CU_ASSERT_EQUAL(c.logging.level, 2);
	CU_ASSERT_EQUAL(c.logging.max_size, 10485760);
	CU_ASSERT(c.api.enabled);
	CU_ASSERT(!c.api.allow_control);
	CU_ASSERT_STRING_EQUAL(c.api.address, "127.0.0.1");
	CU_ASSERT_EQUAL(c.api.port, 8080);
	config_errors_free(&e);
}

/* The embedded default is the shipped file. */
static void test_builtin_is_shipped(void)
{
	char *text = slurp(src_path("conf/mystery-engine.conf"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(config_default_text, text);
	free(text);

	struct config shipped, builtin;
	struct config_errors e;
	memset(&shipped, 0, sizeof shipped);
	memset(&builtin, 0, sizeof builtin);
	CU_ASSERT_EQUAL_FATAL(load(&shipped, src_path("conf/mystery-engine.conf"), NULL, 0, &e),
	                      CONFIG_OK);
	config_errors_free(&e);
	CU_ASSERT_EQUAL_FATAL(load(&builtin, fixture("empty.conf"), NULL, 0, &e), CONFIG_OK);
	config_errors_free(&e);
	CU_ASSERT(memcmp(&shipped.engine, &builtin.engine, sizeof shipped.engine) == 0);
	CU_ASSERT(memcmp(&shipped.midi, &builtin.midi,
	                 offsetof(struct config, source) - offsetof(struct config, midi)) == 0);
}

/* A value out of range names the file, its line, the key and the range. */
static void test_range_error(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("bpm_range.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT(
	    has_error(&e, at(f, "bpm = 900"), "sequencer.bpm: 900", "(allowed: 20 to 300 BPM)"));
	config_errors_free(&e);

	f = fixture("steps.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT(has_error(&e, at(f, "steps = 65"), "sequencer.steps", "1 to 64"));
	config_errors_free(&e);
	const char *ok[] = {"sequencer.steps=64"};
	CU_ASSERT_EQUAL(load(&c, fixture("empty.conf"), ok, 1, &e), CONFIG_OK);
	CU_ASSERT_EQUAL(c.engine.steps, 64);
	config_errors_free(&e);
}

/* Every mistake of a file is reported at once, in line order. */
static void test_all_errors(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("three_errors.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL_FATAL(e.n, 3);
	CU_ASSERT(strstr(e.msg[0], "sequencer.bpm") != NULL);
	CU_ASSERT(strncmp(e.msg[1], at(f, "swing"), strlen(at(f, "swing"))) == 0);
	CU_ASSERT(strstr(e.msg[1], "sequencer.swing: expected a number from 0 to 0.5") != NULL);
	CU_ASSERT(strncmp(e.msg[2], at(f, "voices"), strlen(at(f, "voices"))) == 0);
	CU_ASSERT(strstr(e.msg[2], "synth.voices: 65 is out of range") != NULL);
	config_errors_free(&e);
}

static void test_did_you_mean(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("typo.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT(has_error(&e, at(f, "bmp"), "sequencer.bmp: unknown key", "did you mean `bpm`?"));
	config_errors_free(&e);

	const char *sets[] = {"sequencer.quantize_scale_changes=baar", "synth.voises=4",
	                      "mapping.ccs.tmepo=3", "profiles.calm.desnity=0.5"};
	CU_ASSERT_EQUAL(load(&c, fixture("empty.conf"), sets, 4, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 4);
	CU_ASSERT(
	    has_error(&e, "--set sequencer.quantize_scale_changes=baar: ", "did you mean \"bar\"?",
	              "(allowed: \"immediate\", \"beat\", \"bar\")"));
	CU_ASSERT(
	    has_error(&e, "--set synth.voises=4: synth.voises: ", "did you mean `voices`?", NULL));
	CU_ASSERT(has_error(&e, "--set mapping.ccs.tmepo=3: ", "did you mean `tempo`?", NULL));
	CU_ASSERT(
	    has_error(&e, "--set profiles.calm.desnity=0.5: ", "did you mean `density`?", NULL));
	config_errors_free(&e);
}

/* Wrong types: each message says what was expected. */
static void test_type_errors(void)
{
	struct config c;
	struct config_errors e;
	char file[1100];
	snprintf(file, sizeof file, "%s/types.conf", testlib_tmpdir());
	write_file(file, "sequencer = {\n"
	                 "  steps = 8.5;\n"
	                 "  quantize_scale_changes = 3;\n"
	                 "};\n"
	                 "mutation = { enabled = \"yes\"; };\n"
	                 "midi = { input_port = \"usb\"; };\n"
	                 "scales = \"major\";\n"
	                 "sound = 3;\n");
	CU_ASSERT_EQUAL(load(&c, file, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 6);
	CU_ASSERT(has_error(&e, at(file, "steps"),
	                    "sequencer.steps: expected an integer from 1 to 64", NULL));
	CU_ASSERT(has_error(&e, at(file, "quantize"), "expected one of \"immediate\"", NULL));
	CU_ASSERT(
	    has_error(&e, at(file, "enabled"), "mutation.enabled: expected true or false", NULL));
	CU_ASSERT(has_error(&e, at(file, "input_port"), "midi.input_port: \"usb\" is not a valid",
	                    "raw:PATH[@BAUD]"));
	CU_ASSERT(has_error(&e, at(file, "scales"), "scales: expected a list of names", NULL));
	CU_ASSERT(has_error(&e, at(file, "sound"), "sound: expected a group", "filter_cutoff"));
	config_errors_free(&e);
}

static void test_cc_twice(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("cc_twice.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT(has_error(&e, at(f, "filter_cutoff = 20"), "CC 20 mapped twice",
	                    "`tempo` and `filter_cutoff`"));
	config_errors_free(&e);
}

static void test_buttons(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("buttons.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT(has_error(&e, at(f, "trigger_step"), "mapping.buttons.trigger_step",
	                    "first note 72 is above last note 60"));
	config_errors_free(&e);
	f = fixture("button_range.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT(has_error(&e, at(f, "trigger_step"), "note 130 is out of range", "0 to 127"));
	config_errors_free(&e);
	const char *sets[] = {"mapping.buttons.trigger_step=[1,2,3]"};
	CU_ASSERT_EQUAL(load(&c, fixture("empty.conf"), sets, 1, &e), CONFIG_ERR_INVALID);
	CU_ASSERT(
	    has_error(&e, "--set mapping.buttons.trigger_step=[1,2,3]: ", "[first, last]", NULL));
	config_errors_free(&e);
}

static void test_scales(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("scales.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT(has_error(&e, at(f, "dorain"), "scales: unknown scale `dorain`",
	                    "did you mean `dorian`?"));
	config_errors_free(&e);

	f = fixture("profile_scale.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT(has_error(&e, at(f, "\"dorian\""), "profiles.dark.scale",
	                    "scale `dorian` is not in `scales` (allowed: major, minor)"));
	config_errors_free(&e);

	const char *sets[] = {"profiles.calm.scale=minr"};
	CU_ASSERT_EQUAL(load(&c, fixture("empty.conf"), sets, 1, &e), CONFIG_ERR_INVALID);
	CU_ASSERT(has_error(&e, "--set profiles.calm.scale=minr: profiles.calm.scale: ",
	                    "unknown scale `minr`", "did you mean `minor`?"));
	config_errors_free(&e);
}

static void test_missing_profiles(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("modes.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 2);
	CU_ASSERT(
	    has_error(&e, at(f, "mystik"), "modes: no profile `mystik`", "did you mean `mystic`?"));
	CU_ASSERT(has_error(&e, at(f, "ambience"), "idle.ambient_profile: no profile `ambience`",
	                    "did you mean `ambient`?"));
	config_errors_free(&e);
}

/* The later of the two interval keys gets the blame. */
static void test_intervals(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("intervals.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT(has_error(&e, at(f, "interval_min_s"), "mutation.interval_min_s",
	                    "300 is above interval_max_s 90"));
	config_errors_free(&e);
	const char *sets[] = {"mutation.interval_max_s=400"};
	CU_ASSERT_EQUAL(load(&c, f, sets, 1, &e), CONFIG_OK);
	CU_ASSERT_DOUBLE_EQUAL(c.engine.interval_max_s, 400, 0);
	config_errors_free(&e);
}

static void test_syntax_error(void)
{
	struct config c;
	struct config_errors e;
	const char *f = fixture("syntax.conf");
	CU_ASSERT_EQUAL(load(&c, f, NULL, 0, &e), CONFIG_ERR_SYNTAX);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT(has_error(&e, at(f, "density"), "syntax error", NULL));
	config_errors_free(&e);
}

static void test_io_error(void)
{
	struct config c;
	struct config_errors e;
	char file[1100];
	snprintf(file, sizeof file, "%s/does-not-exist.conf", testlib_tmpdir());
	CU_ASSERT_EQUAL(load(&c, file, NULL, 0, &e), CONFIG_ERR_IO);
	CU_ASSERT(has_error(&e, file, "cannot read", "No such file"));
	config_errors_free(&e);
	CU_ASSERT_EQUAL(load(&c, testlib_tmpdir(), NULL, 0, &e), CONFIG_ERR_IO);
	CU_ASSERT(has_error(&e, testlib_tmpdir(), "not a regular file", NULL));
	config_errors_free(&e);
}

/*
 * Special files where configuration is expected: refused at once, named
 * with the @include line that pulls them in (a FIFO without a writer would
 * otherwise hang the start and --check-config forever).  A regular file
 * included, even nested, still loads.
 */
static void test_special_files(void)
{
	struct config c;
	struct config_errors e = {0};
	char dir[1100], fifo[1200], main_f[1200], mid[1200], good[1200];
	snprintf(dir, sizeof dir, "%s/special-conf", testlib_tmpdir());
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
	snprintf(fifo, sizeof fifo, "%s/fifo.conf", dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0644), 0);

	CU_ASSERT_EQUAL(load(&c, fifo, NULL, 0, &e), CONFIG_ERR_IO);
	CU_ASSERT(has_error(&e, fifo, "cannot read", "a FIFO"));
	config_errors_free(&e);

	/* main includes mid (line 2), mid includes the FIFO (line 1) */
	snprintf(main_f, sizeof main_f, "%s/main.conf", dir);
	snprintf(mid, sizeof mid, "%s/mid.conf", dir);
	FILE *f = fopen(main_f, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "# includes\n  @include \"%s\"\n", mid);
	fclose(f);
	f = fopen(mid, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "@include \"%s\"\n", fifo);
	fclose(f);
	CU_ASSERT_EQUAL(load(&c, main_f, NULL, 0, &e), CONFIG_ERR_IO);
	char where[1300];
	snprintf(where, sizeof where, "%s:1", mid);
	CU_ASSERT(has_error(&e, where, "@include", "a FIFO"));
	config_errors_free(&e);

	/* a directory and /dev/null are not configuration either */
	f = fopen(mid, "w");
	fprintf(f, "@include \"%s\"\n", dir);
	fclose(f);
	CU_ASSERT_EQUAL(load(&c, main_f, NULL, 0, &e), CONFIG_ERR_IO);
	CU_ASSERT(has_error(&e, where, "@include", "a directory"));
	config_errors_free(&e);
	f = fopen(mid, "w");
	fprintf(f, "@include \"/dev/null\"\n");
	fclose(f);
	CU_ASSERT_EQUAL(load(&c, main_f, NULL, 0, &e), CONFIG_ERR_IO);
	CU_ASSERT(has_error(&e, where, "@include", "a device"));
	config_errors_free(&e);

	/* regular files, nested: loaded */
	snprintf(good, sizeof good, "%s/good.conf", dir);
	f = fopen(good, "w");
	fprintf(f, "sequencer = { bpm = 133.0; };\n");
	fclose(f);
	f = fopen(mid, "w");
	fprintf(f, "@include \"%s\"\n", good);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(load(&c, main_f, NULL, 0, &e), CONFIG_OK);
	CU_ASSERT_EQUAL(c.engine.bpm, 133);
	config_errors_free(&e);
}

/* A file sets what it names; the rest keeps the default; a table is replaced whole. */
static void test_partial_file(void)
{
	struct config c;
	struct config_errors e;
	CU_ASSERT_EQUAL_FATAL(load(&c, fixture("partial.conf"), NULL, 0, &e), CONFIG_OK);
	CU_ASSERT_DOUBLE_EQUAL(c.engine.bpm, 128, 0);
	CU_ASSERT_DOUBLE_EQUAL(c.engine.swing, 0.12, 1e-12);
	CU_ASSERT_EQUAL(c.engine.cc_param[30], P_TEMPO);
	CU_ASSERT_EQUAL(c.engine.cc_param[31], P_FILTER_CUTOFF);
	CU_ASSERT_EQUAL(c.engine.cc_param[20], CC_UNMAPPED);
	CU_ASSERT_EQUAL(c.engine.cc_param[53], CC_UNMAPPED);
	CU_ASSERT_EQUAL(find_cc(&c.engine, P_DENSITY), -1);
	CU_ASSERT_EQUAL(c.engine.n_profiles, 4);
	CU_ASSERT_EQUAL(c.synth.port, 57110);
	config_errors_free(&e);
}

/* --set changes one key (or one table entry) on top of the file. */
static void test_set_overrides(void)
{
	struct config c;
	struct config_errors e;
	const char *sets[] = {
	    "sequencer.bpm=128",
	    "synth.voices=16",
	    "scales=[\"minor\", \"dorian\", \"pentatonic\"]",
	    "mapping.ccs.tempo=30",
	    "mapping.ccs.reserved=[1, 2]",
	    "profiles.calm.tempo=95",
	    "profiles.fresh.density=0.2",
	    "logging.file=0",
	    "synth.server=127.0.0.1:57120",
	    "midi.input_port=raw:/dev/ttyACM0@31250",
	    "mutation.enabled=false",
	    "idle.ambient_profile=",
	};
	int n = (int)(sizeof sets / sizeof sets[0]);
	CU_ASSERT_EQUAL_FATAL(load(&c, src_path("conf/mystery-engine.conf"), sets, n, &e),
	                      CONFIG_OK);
	CU_ASSERT_DOUBLE_EQUAL(c.engine.bpm, 128, 0);
	CU_ASSERT_EQUAL(c.synth.voices, 16);
	CU_ASSERT_EQUAL(c.engine.n_scales, 3);
	CU_ASSERT_EQUAL(c.engine.scales[1], scale_find("dorian"));
	CU_ASSERT_EQUAL(c.engine.cc_param[30], P_TEMPO);
	CU_ASSERT_EQUAL(c.engine.cc_param[20], CC_UNMAPPED);
	CU_ASSERT_EQUAL(c.engine.cc_param[21], P_FILTER_CUTOFF);
	CU_ASSERT_EQUAL(c.engine.cc_param[1], CC_RESERVED);
	CU_ASSERT_EQUAL(c.engine.cc_param[2], CC_RESERVED);
	CU_ASSERT_EQUAL(c.engine.cc_param[53], CC_UNMAPPED);
	const struct engine_profile *calm = &c.engine.profiles[0];
	CU_ASSERT_STRING_EQUAL(calm->name, "calm");
	CU_ASSERT_DOUBLE_EQUAL(calm->value[P_TEMPO], 95, 0);
	CU_ASSERT_DOUBLE_EQUAL(calm->value[P_DENSITY], 0.6, 1e-12);
	CU_ASSERT_EQUAL_FATAL(c.engine.n_profiles, 5);
	CU_ASSERT_STRING_EQUAL(c.engine.profiles[4].name, "fresh");
	CU_ASSERT_EQUAL(c.engine.profiles[4].mask, 1u << P_DENSITY);
	CU_ASSERT_STRING_EQUAL(c.logging.file, "0");
	CU_ASSERT_STRING_EQUAL(c.synth.server, "127.0.0.1:57120");
	CU_ASSERT_STRING_EQUAL(c.midi.input_port, "raw:/dev/ttyACM0@31250");
	CU_ASSERT(!c.engine.mutation_enabled);
	CU_ASSERT_EQUAL(c.engine.ambient_profile, -1);
	config_errors_free(&e);
}

static void test_set_errors(void)
{
	struct config c;
	struct config_errors e;
	const char *sets[] = {"sequencer.bpm=abc", "mapping.ccs.tempo=21",
	                      "nokey=1",           "sequencer..bpm=1",
	                      "synth.voices",      "sequencer.bpm=1; x = 2"};
	CU_ASSERT_EQUAL(load(&c, fixture("empty.conf"), sets, 6, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 6);
	CU_ASSERT(has_error(
	    &e, "--set sequencer.bpm=abc: sequencer.bpm: expected a number from 20 to 300", NULL,
	    NULL));
	CU_ASSERT(has_error(&e, "--set mapping.ccs.tempo=21: mapping.ccs.tempo: CC 21 mapped twice",
	                    "`filter_cutoff` and `tempo`", NULL));
	CU_ASSERT(has_error(&e, "--set nokey=1: nokey: unknown key", NULL, NULL));
	CU_ASSERT(has_error(&e, "--set sequencer..bpm=1: ", "not a key", NULL));
	CU_ASSERT(has_error(&e, "--set synth.voices: ", "expected KEY=VALUE", NULL));
	/* a value cannot smuggle in a second key: it is read as a string */
	CU_ASSERT(has_error(&e, "--set sequencer.bpm=1; x = 2: sequencer.bpm: expected a number",
	                    NULL, NULL));
	config_errors_free(&e);
}

/* A failed (re)load leaves the running configuration untouched. */
static void test_failed_load_keeps_old(void)
{
	struct config c, before;
	struct config_errors e;
	CU_ASSERT_EQUAL_FATAL(load(&c, fixture("partial.conf"), NULL, 0, &e), CONFIG_OK);
	config_errors_free(&e);
	before = c;
	CU_ASSERT_EQUAL(load(&c, fixture("three_errors.conf"), NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT(memcmp(&c, &before, sizeof c) == 0);
	config_errors_free(&e);
}

/* What --check-config prints reads back to the same configuration. */
static void test_print_reads_back(void)
{
	struct config a, b;
	struct config_errors e;
	const char *sets[] = {
	    "sequencer.swing=0.1234567890123", "mapping.ccs.reserved=[5, 6, 7]",
	    "state.dir=/var/lib/me \"q\"",     "logging.file=/tmp/a\\b",
	    "profiles.calm.scale=minor",       "profiles.pulse.sequence_length=12",
	    "idle.timeout_ms=86400000",        "sound.filter_cutoff=80.5"};
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	CU_ASSERT_EQUAL_FATAL(load(&a, src_path("conf/mystery-engine.conf"), sets, 8, &e),
	                      CONFIG_OK);
	config_errors_free(&e);
	char file[1100];
	snprintf(file, sizeof file, "%s/printed.conf", testlib_tmpdir());
	FILE *f = fopen(file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	config_print(&a, f);
	fclose(f);
	CU_ASSERT_EQUAL(load(&b, file, NULL, 0, &e), CONFIG_OK);
	for (int i = 0; i < e.n; i++)
		fprintf(stderr, "\n  %s", e.msg[i]);
	config_errors_free(&e);
	CU_ASSERT(memcmp(&a.engine, &b.engine, sizeof a.engine) == 0);
	CU_ASSERT(memcmp(&a.midi, &b.midi,
	                 offsetof(struct config, source) - offsetof(struct config, midi)) == 0);
	CU_ASSERT_STRING_EQUAL(b.state.dir, "/var/lib/me \"q\"");
	CU_ASSERT(same_path(b.source, file));
}

/*
 * A knob with its own range: the table form, its checks with file and line,
 * and --set changing one field or moving the knob while keeping its range.
 */
static void test_knob_ranges(void)
{
	struct config c;
	struct config_errors e;
	char file[1100];
	snprintf(file, sizeof file, "%s/knobs.conf", testlib_tmpdir());
	write_file(file,
	           "mapping = { ccs = {\n"
	           "\tfilter_cutoff = { cc = 21; min = 400.0; max = 6000.0; curve = \"exp\"; };\n"
	           "\tdensity = { cc = 24; min = 0.2; max = 1.0; };\n"
	           "\ttempo = 20;\n"
	           "}; };\n");
	CU_ASSERT_EQUAL_FATAL(load(&c, file, NULL, 0, &e), CONFIG_OK);
	const struct engine_cc_range *r = &c.engine.cc_range[21];
	CU_ASSERT(r->set && r->curve == CURVE_EXP && r->min == 400 && r->max == 6000);
	CU_ASSERT(c.engine.cc_range[24].set && c.engine.cc_range[24].curve == CURVE_LINEAR);
	CU_ASSERT_FALSE(c.engine.cc_range[20].set); /* the plain form: the whole range */
	CU_ASSERT_EQUAL(c.engine.cc_param[20], P_TEMPO);
	config_errors_free(&e);

	write_file(file, "mapping = { ccs = {\n"
	                 "\tfilter_cutoff = { cc = 21; min = 9000.0; max = 6000.0; };\n"
	                 "\treverb_mix = { cc = 22; max = 1.5; };\n"
	                 "\tswing = { cc = 23; curve = \"log\"; };\n"
	                 "\tdensity = { cc = 24; min = 0.0; curve = \"exp\"; };\n"
	                 "\tscale_select = { cc = 51; min = 0; };\n"
	                 "\ttempo = { min = 60.0; };\n"
	                 "\tdrift = { cc = 62; mx = 5.0; };\n"
	                 "}; };\n");
	CU_ASSERT_EQUAL(load(&c, file, NULL, 0, &e), CONFIG_ERR_INVALID);
	CU_ASSERT_EQUAL(e.n, 7);
	CU_ASSERT(has_error(&e, at(file, "filter_cutoff"), "mapping.ccs.filter_cutoff",
	                    "min 9000 is not below max 6000"));
	CU_ASSERT(has_error(&e, at(file, "reverb_mix"), "mapping.ccs.reverb_mix.max: 1.5",
	                    "(allowed: 0 to 1)"));
	CU_ASSERT(
	    has_error(&e, at(file, "swing"), "mapping.ccs.swing.curve", "\"log\" is not allowed"));
	CU_ASSERT(has_error(&e, at(file, "density"), "mapping.ccs.density",
	                    "exp curve needs min above 0"));
	CU_ASSERT(has_error(&e, at(file, "scale_select"), "mapping.ccs.scale_select.min",
	                    "no range or curve"));
	CU_ASSERT(has_error(&e, at(file, "tempo"), "mapping.ccs.tempo", "expected cc ="));
	CU_ASSERT(has_error(&e, at(file, "drift"), "mapping.ccs.drift.mx: unknown key",
	                    "did you mean `max`?"));
	config_errors_free(&e);

	/* --set: one field of a mapped knob; moving a knob keeps its range */
	const char *sets[] = {"mapping.ccs.filter_cutoff.min=500.0", "mapping.ccs.tempo=30"};
	CU_ASSERT_EQUAL_FATAL(load(&c, src_path("conf/mystery-engine.conf"), sets, 2, &e),
	                      CONFIG_OK);
	r = &c.engine.cc_range[21];
	CU_ASSERT_EQUAL(c.engine.cc_param[21], P_FILTER_CUTOFF);
	CU_ASSERT(r->set && r->min == 500 && r->max == 8000 && r->curve == CURVE_EXP);
	CU_ASSERT_EQUAL(c.engine.cc_param[30], P_TEMPO);
	CU_ASSERT(c.engine.cc_range[30].set && c.engine.cc_range[30].max == 150);
	CU_ASSERT_FALSE(c.engine.cc_range[20].set);
	config_errors_free(&e);
}

/* The walk's keys: merged per parameter and field, ranges and lists checked. */
static void test_walk_keys(void)
{
	struct config c;
	struct config_errors e;
	const char *ok[] = {"mutation.params.tempo.max=140.0",
	                    "mutation.params.master_volume={"
	                    "min = 0.5; max = 0.9; weight = 1.0; }",
	                    "mutation.roots=[0, -5, 12]",
	                    "sequencer.max_gap_ms=0",
	                    "mapping.button_press=toggle",
	                    "mutation.moves_per_hour=0"};
	CU_ASSERT_EQUAL_FATAL(load(&c, src_path("conf/mystery-engine.conf"), ok, 6, &e), CONFIG_OK);
	const struct engine_mutation *t = &c.engine.mut[P_TEMPO];
	CU_ASSERT(t->min == 60 && t->max == 140 && t->weight == 1 && t->step == 0.06);
	const struct engine_mutation *v = &c.engine.mut[P_MASTER_VOLUME];
	CU_ASSERT(v->min == 0.5 && v->max == 0.9 && v->weight == 1 && v->step == 0.1);
	CU_ASSERT_EQUAL(c.engine.n_roots, 3);
	CU_ASSERT_EQUAL(c.engine.roots[1], -5);
	CU_ASSERT_EQUAL(c.engine.max_gap_ms, 0);
	CU_ASSERT_EQUAL(c.engine.button_press, PRESS_TOGGLE);
	CU_ASSERT_EQUAL(c.engine.moves_per_hour, 0);
	config_errors_free(&e);

	const char *bad[] = {"mutation.params.tempo.min=200.0",
	                     "mutation.params.scale_select={"
	                     "weight = 1.0; }",
	                     "mutation.params.densty={ min = 0.2; }",
	                     "mutation.params.swing.step=1.5",
	                     "mutation.roots=[0, 5, 5]",
	                     "mutation.roots=[13]",
	                     "sequencer.max_gap_ms=500",
	                     "mapping.button_press=smash",
	                     "mutation.params.reverb_mix.min=-0.1"};
	CU_ASSERT_EQUAL(load(&c, src_path("conf/mystery-engine.conf"), bad, 9, &e),
	                CONFIG_ERR_INVALID);
	CU_ASSERT(has_error(&e, "--set mutation.params.tempo.min=200.0: mutation.params.tempo",
	                    "min 200 is not below max 150", NULL));
	CU_ASSERT(has_error(&e, "--set mutation.params.scale_select=", "is not walked",
	                    "moves_per_hour"));
	CU_ASSERT(has_error(&e, "--set mutation.params.densty=", "unknown key",
	                    "did you mean `density`?"));
	CU_ASSERT(has_error(&e, "--set mutation.params.swing.step=1.5: ", "1.5 is out of range",
	                    "(allowed: 0 to 1)"));
	CU_ASSERT(has_error(&e, "--set mutation.roots=[0, 5, 5]: mutation.roots",
	                    "5 is listed twice", NULL));
	CU_ASSERT(has_error(&e, "--set mutation.roots=[13]: mutation.roots", "13 is out of range",
	                    "-12 to 12"));
	CU_ASSERT(has_error(&e, "--set sequencer.max_gap_ms=500: ", "too short", "2000 to 600000"));
	CU_ASSERT(has_error(&e, "--set mapping.button_press=smash: ", "\"smash\" is not allowed",
	                    "\"accent\", \"add\", \"toggle\""));
	CU_ASSERT(
	    has_error(&e, "--set mutation.params.reverb_mix.min=-0.1: ", "out of range", NULL));
	config_errors_free(&e);

	/* what --check-config prints of them reads back the same */
	const char *sets[] = {
	    "mutation.params.drift={ min = 1.0; max = 3.0; weight = 2.0; step = 0.5; }",
	    "mutation.roots=[]",
	    "mapping.ccs.swing={ cc = 23; min = 0.1; max = 0.2; "
	    "curve = \"linear\"; }"};
	struct config a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	CU_ASSERT_EQUAL_FATAL(load(&a, src_path("conf/mystery-engine.conf"), sets, 3, &e),
	                      CONFIG_OK);
	config_errors_free(&e);
	CU_ASSERT_EQUAL(a.engine.n_roots, 0);
	char file[1100];
	snprintf(file, sizeof file, "%s/walk.conf", testlib_tmpdir());
	FILE *f = fopen(file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	config_print(&a, f);
	fclose(f);
	CU_ASSERT_EQUAL(load(&b, file, NULL, 0, &e), CONFIG_OK);
	config_errors_free(&e);
	CU_ASSERT(memcmp(&a.engine, &b.engine, sizeof a.engine) == 0);
}

static void set_env(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

/* No -c: $XDG_CONFIG_HOME, else ~/.config, else the system file, else built-in. */
static void test_search_order(void)
{
	char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char xdg[1100], home[1100], file[1200];
	snprintf(xdg, sizeof xdg, "%s/xdg", testlib_tmpdir());
	snprintf(home, sizeof home, "%s/home", testlib_tmpdir());
	snprintf(file, sizeof file, "%s/mystery-engine", xdg);
	mkdir(xdg, 0700);
	mkdir(file, 0700);
	snprintf(file, sizeof file, "%s/mystery-engine/mystery-engine.conf", xdg);
	write_file(file, "sequencer = { bpm = 99.0; };\n");
	snprintf(path_buf, sizeof path_buf, "%s/.config", home);
	mkdir(home, 0700);
	mkdir(path_buf, 0700);
	snprintf(path_buf, sizeof path_buf, "%s/.config/mystery-engine", home);
	mkdir(path_buf, 0700);
	char hfile[2200];
	snprintf(hfile, sizeof hfile, "%s/mystery-engine.conf", path_buf);
	write_file(hfile, "sequencer = { bpm = 77.0; };\n");

	struct config c;
	struct config_errors e;
	set_env("XDG_CONFIG_HOME", xdg);
	set_env("HOME", home);
	CU_ASSERT_EQUAL(load(&c, NULL, NULL, 0, &e), CONFIG_OK);
	CU_ASSERT(same_path(c.source, file));
	CU_ASSERT_DOUBLE_EQUAL(c.engine.bpm, 99, 0);
	config_errors_free(&e);

	set_env("XDG_CONFIG_HOME", NULL);
	CU_ASSERT_EQUAL(load(&c, NULL, NULL, 0, &e), CONFIG_OK);
	CU_ASSERT(same_path(c.source, hfile));
	CU_ASSERT_DOUBLE_EQUAL(c.engine.bpm, 77, 0);
	config_errors_free(&e);

	/* -c wins over both */
	CU_ASSERT_EQUAL(load(&c, fixture("partial.conf"), NULL, 0, &e), CONFIG_OK);
	CU_ASSERT_DOUBLE_EQUAL(c.engine.bpm, 128, 0);
	config_errors_free(&e);

	set_env("XDG_CONFIG_HOME", old_xdg);
	set_env("HOME", old_home);
	free(old_xdg);
	free(old_home);
}

/* Every key of the schema is in the shipped file with a comment, and in the man page. */
static void test_schema_documented(void)
{
	config_t lc;
	config_init(&lc);
	const char *conf = src_path("conf/mystery-engine.conf");
	char conf_path[2048];
	snprintf(conf_path, sizeof conf_path, "%s", conf);
	CU_ASSERT_FATAL(config_read_file(&lc, conf_path) == CONFIG_TRUE);
	char *text = slurp(conf_path);
	char *man = slurp(src_path("doc/mystery-engine.1"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(man);
	CU_ASSERT(config_schema_count > 40);
	for (size_t i = 0; i < config_schema_count; i++) {
		const char *key = config_schema[i].path;
		const config_setting_t *s = config_lookup(&lc, key);
		if (!s) {
			fprintf(stderr, "\n  %s is missing from the shipped file", key);
			CU_FAIL("schema key missing from conf/mystery-engine.conf");
			continue;
		}
		/* the comment is on the key's own line or on the line above */
		int line = (int)config_setting_source_line(s);
		const char *p = text;
		for (int l = 1; l < line - 1 && p; l++)
			p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		const char *end = strchr(p, '\n');
		end = end ? strchr(end + 1, '\n') : NULL;
		bool commented = false;
		for (const char *q = p; q && end && q < end; q++)
			commented |= *q == '#';
		if (!commented)
			fprintf(stderr, "\n  %s has no comment in the shipped file", key);
		CU_ASSERT(commented);
		if (!strstr(man, key))
			fprintf(stderr, "\n  %s is missing from doc/mystery-engine.1", key);
		CU_ASSERT(strstr(man, key) != NULL);
	}
	/* every parameter can be mapped, and the man page says so; the voice
	 * envelope (set by profiles) is named in the mapping's comment but not
	 * mapped by default */
	for (int p = 0; p < P_COUNT; p++) {
		char key[128];
		snprintf(key, sizeof key, "mapping.ccs.%s", param_table[p].name);
		bool mapped = config_lookup(&lc, key) != NULL;
		if (p == P_ATTACK || p == P_RELEASE) {
			CU_ASSERT(!mapped && strstr(text, param_table[p].name));
		} else {
			CU_ASSERT(mapped);
		}
		CU_ASSERT(strstr(man, param_table[p].name) != NULL);
	}
	const char *options[] = {"\\-\\-daemon",  "\\-\\-check\\-config", "\\-\\-list\\-midi",
	                         "\\-\\-set",     "\\-\\-seed",           "\\-\\-events",
	                         "\\-\\-synth",   "\\-\\-record",         "\\-\\-midi\\-in",
	                         "\\-\\-led",     "\\-\\-http",           "\\-\\-preset",
	                         "\\-\\-seconds", "\\-\\-input",          "\\-\\-score",
	                         "\\-\\-wav",     "\\-\\-verbose",        "\\-\\-quiet",
	                         "\\-\\-config",  "\\-\\-socket",         "\\-\\-json"};
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
		if (!strstr(man, options[i]))
			fprintf(stderr, "\n  %s is missing from doc/mystery-engine.1", options[i]);
		CU_ASSERT(strstr(man, options[i]) != NULL);
	}
	free(text);
	free(man);
	config_destroy(&lc);
}

/* Keys that set a parameter's start value allow exactly the parameter's range. */
static void test_schema_matches_params(void)
{
	static const struct {
		const char *key;
		int param;
	} pairs[] = {
	    {"sequencer.bpm", P_TEMPO},
	    {"sequencer.swing", P_SWING},
	    {"sequencer.density", P_DENSITY},
	    {"sequencer.drift", P_DRIFT},
	    {"sequencer.chaos_lock", P_CHAOS_LOCK},
	    {"sequencer.steps", P_SEQUENCE_LENGTH},
	    {"sound.filter_cutoff", P_FILTER_CUTOFF},
	    {"sound.reverb_mix", P_REVERB_MIX},
	    {"sound.master_volume", P_MASTER_VOLUME},
	    {"sound.attack", P_ATTACK},
	    {"sound.release", P_RELEASE},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		const struct config_key *k = NULL;
		for (size_t j = 0; j < config_schema_count; j++)
			if (strcmp(config_schema[j].path, pairs[i].key) == 0)
				k = &config_schema[j];
		CU_ASSERT_PTR_NOT_NULL_FATAL(k);
		CU_ASSERT_DOUBLE_EQUAL(k->min, param_table[pairs[i].param].min, 0);
		CU_ASSERT_DOUBLE_EQUAL(k->max, param_table[pairs[i].param].max, 0);
	}
}

static void test_string_forms(void)
{
	CU_ASSERT_EQUAL(config_check_midi_spec("auto"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("none"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("portmidi:Teensy MIDI"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("raw:/dev/ttyACM0"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("raw:/dev/ttyACM0@31250"), 0);
	CU_ASSERT_EQUAL(config_check_midi_spec("portmidi:"), -1);
	CU_ASSERT_EQUAL(config_check_midi_spec("raw:"), -1);
	CU_ASSERT_EQUAL(config_check_midi_spec("raw:/dev/x@fast"), -1);
	CU_ASSERT_EQUAL(config_check_midi_spec("raw:/dev/x@0"), -1);
	CU_ASSERT_EQUAL(config_check_midi_spec("usb"), -1);
	CU_ASSERT_EQUAL(config_check_led_spec("udp:192.168.1.20:7000"), 0);
	CU_ASSERT_EQUAL(config_check_led_spec("udp:[::1]:7000"), 0);
	CU_ASSERT_EQUAL(config_check_led_spec("serial:/dev/ttyACM1@115200"), 0);
	CU_ASSERT_EQUAL(config_check_led_spec("udp:host"), -1);
	CU_ASSERT_EQUAL(config_check_led_spec("udp:host:70000"), -1);
	CU_ASSERT_EQUAL(config_check_led_spec("udp::7000"), -1);
	CU_ASSERT_EQUAL(config_check_led_spec("udp:[zz]:7000"), -1);
	CU_ASSERT_EQUAL(config_check_host_port("localhost:57110"), 0);
	CU_ASSERT_EQUAL(config_check_host_port("local host:57110"), -1);
}

static void test_state_dir(void)
{
	struct config c;
	char buf[1100];
	memset(&c, 0, sizeof c);
	char *old_sd = getenv("STATE_DIRECTORY") ? strdup(getenv("STATE_DIRECTORY")) : NULL;
	char *old_xdg = getenv("XDG_STATE_HOME") ? strdup(getenv("XDG_STATE_HOME")) : NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	set_env("STATE_DIRECTORY", "/var/lib/mystery-engine:/other");
	config_state_dir(&c, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "/var/lib/mystery-engine");
	set_env("STATE_DIRECTORY", NULL);
	set_env("XDG_STATE_HOME", "/xdg/state");
	config_state_dir(&c, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "/xdg/state/mystery-engine");
	set_env("XDG_STATE_HOME", NULL);
	set_env("HOME", "/home/pi");
	config_state_dir(&c, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "/home/pi/.local/state/mystery-engine");
	snprintf(c.state.dir, sizeof c.state.dir, "/srv/me");
	config_state_dir(&c, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(buf, "/srv/me");
	set_env("STATE_DIRECTORY", old_sd);
	set_env("XDG_STATE_HOME", old_xdg);
	set_env("HOME", old_home);
	free(old_sd);
	free(old_xdg);
	free(old_home);
}

TEST_SUITE(config, NULL, NULL, TEST_CASE(test_shipped_defaults), TEST_CASE(test_builtin_is_shipped),
           TEST_CASE(test_range_error), TEST_CASE(test_all_errors), TEST_CASE(test_did_you_mean),
           TEST_CASE(test_type_errors), TEST_CASE(test_cc_twice), TEST_CASE(test_buttons),
           TEST_CASE(test_scales), TEST_CASE(test_missing_profiles), TEST_CASE(test_intervals),
           TEST_CASE(test_syntax_error), TEST_CASE(test_io_error), TEST_CASE(test_special_files),
           TEST_CASE(test_partial_file), TEST_CASE(test_set_overrides), TEST_CASE(test_set_errors),
           TEST_CASE(test_failed_load_keeps_old), TEST_CASE(test_print_reads_back),
           TEST_CASE(test_knob_ranges), TEST_CASE(test_walk_keys), TEST_CASE(test_search_order),
           TEST_CASE(test_schema_documented), TEST_CASE(test_schema_matches_params),
           TEST_CASE(test_string_forms), TEST_CASE(test_state_dir))
