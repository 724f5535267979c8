/*
 * Tests of the command line: what each option stores, the render
 * subcommand's own arguments, and that every wrong option or value is a
 * usage error (status 2) that says what is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "cfg/cli.h"
#include "ops/preset.h"
#include "testlib.h"

#define ARGV(...) ((char *[]){"mystery-engine", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"mystery-engine", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, ...) parse_to(o, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static char err_text[8192];

/* Parses, keeping what was printed to the error stream in err_text. */
static int parse_to(struct cli_options *o, int argc, char **argv)
{
	FILE *f = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	int rc = cli_parse(o, argc, argv, f);
	rewind(f);
	size_t n = fread(err_text, 1, sizeof err_text - 1, f);
	err_text[n] = '\0';
	fclose(f);
	return rc;
}

static void test_common_options(void)
{
	struct cli_options o;
	CU_ASSERT_EQUAL(PARSE(&o, "-c", "my.conf", "-s", "sequencer.bpm=128", "--set",
	                      "synth.voices=4", "--seed", "42", "-vv", "-q", "--events", "-"),
	                0);
	CU_ASSERT_EQUAL(o.mode, CLI_RUN);
	CU_ASSERT_STRING_EQUAL(o.config_path, "my.conf");
	CU_ASSERT_EQUAL_FATAL(o.n_sets, 2);
	CU_ASSERT_STRING_EQUAL(o.sets[0], "sequencer.bpm=128");
	CU_ASSERT_STRING_EQUAL(o.sets[1], "synth.voices=4");
	CU_ASSERT(o.seed_set);
	CU_ASSERT_EQUAL(o.seed, 42);
	CU_ASSERT_EQUAL(o.verbosity, 1);
	CU_ASSERT_STRING_EQUAL(o.events_path, "-");
	CU_ASSERT_STRING_EQUAL(err_text, "");
	cli_free(&o);

	CU_ASSERT_EQUAL(PARSE(&o, "--seed", "18446744073709551615"), 0);
	CU_ASSERT_EQUAL(o.seed, UINT64_MAX);
	CU_ASSERT(!o.daemon);
	cli_free(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "--config=x.conf", "--quiet", "--quiet"), 0);
	CU_ASSERT_STRING_EQUAL(o.config_path, "x.conf");
	CU_ASSERT_EQUAL(o.verbosity, -2);
	CU_ASSERT(!o.seed_set);
	cli_free(&o);
}

static void test_run_options(void)
{
	struct cli_options o;
	CU_ASSERT_EQUAL(PARSE(&o, "--daemon", "--synth", "supercollider:127.0.0.1:57110",
	                      "--record", "take.wav", "--midi-in", "raw:/dev/ttyACM0@31250",
	                      "--led", "udp:10.0.0.2:7000", "--http", "[::1]:8080", "--preset",
	                      "night-1"),
	                0);
	CU_ASSERT(o.daemon);
	CU_ASSERT_STRING_EQUAL(o.synth, "supercollider:127.0.0.1:57110");
	CU_ASSERT_STRING_EQUAL(o.record, "take.wav");
	CU_ASSERT_STRING_EQUAL(o.midi_in, "raw:/dev/ttyACM0@31250");
	CU_ASSERT_STRING_EQUAL(o.led, "udp:10.0.0.2:7000");
	CU_ASSERT_STRING_EQUAL(o.http, "[::1]:8080");
	CU_ASSERT_STRING_EQUAL(o.preset, "night-1");
	cli_free(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "--synth", "none", "--http", "off", "--http", "0.0.0.0:80"), 0);
	CU_ASSERT_STRING_EQUAL(o.http, "0.0.0.0:80");
	cli_free(&o);
	/* a preset name as long as HTTP and the console allow (64) */
#define LONGEST "a234567890123456789012345678901234567890123456789012345678901234"
	CU_ASSERT_EQUAL(strlen(LONGEST), PRESET_NAME_MAX);
	CU_ASSERT_EQUAL(PARSE(&o, "--preset", LONGEST), 0);
	CU_ASSERT_STRING_EQUAL(o.preset, LONGEST);
	cli_free(&o);
}

static void test_modes(void)
{
	struct cli_options o;
	CU_ASSERT_EQUAL(PARSE(&o, "--check-config"), 0);
	CU_ASSERT_EQUAL(o.mode, CLI_CHECK_CONFIG);
	cli_free(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "--list-midi"), 0);
	CU_ASSERT_EQUAL(o.mode, CLI_LIST_MIDI);
	cli_free(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "--check-config", "--help"), 0);
	CU_ASSERT_EQUAL(o.mode, CLI_HELP);
	cli_free(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "--version"), 0);
	CU_ASSERT_EQUAL(o.mode, CLI_VERSION);
	cli_free(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "--check-config", "--list-midi"), CLI_EX_USAGE);
	CU_ASSERT(strstr(err_text, "exclude each other") != NULL);
	cli_free(&o);
}

/* render's options are parsed and checked once, with the common ones. */
static void test_render(void)
{
	struct cli_options o;
	CU_ASSERT_EQUAL(PARSE(&o, "render", "-c", "x.conf", "--seconds", "600", "-v", "--seed", "7",
	                      "-s", "sequencer.bpm=90", "--input", "take.mid", "--events",
	                      "out.jsonl", "--score", "s.osc", "--wav", "o.wav"),
	                0);
	CU_ASSERT_EQUAL(o.mode, CLI_RENDER);
	CU_ASSERT_STRING_EQUAL(o.config_path, "x.conf");
	CU_ASSERT_EQUAL(o.n_sets, 1);
	CU_ASSERT_EQUAL(o.verbosity, 1);
	CU_ASSERT_DOUBLE_EQUAL(o.render_seconds, 600, 0);
	CU_ASSERT_EQUAL(o.seed, 7);
	CU_ASSERT_STRING_EQUAL(o.render_input, "take.mid");
	CU_ASSERT_STRING_EQUAL(o.render_score, "s.osc");
	CU_ASSERT_STRING_EQUAL(o.render_wav, "o.wav");
	CU_ASSERT_STRING_EQUAL(o.events_path, "out.jsonl");
	CU_ASSERT_EQUAL(o.n_render_pauses, 0);
	cli_free(&o);

	CU_ASSERT_EQUAL(
	    PARSE(&o, "render", "--seconds=1.5", "-vq", "--pause-at", "2", "--pause-at", "0.5"), 0);
	CU_ASSERT_DOUBLE_EQUAL(o.render_seconds, 1.5, 0);
	CU_ASSERT_EQUAL(o.verbosity, 0);
	/* pauses in time order, in ns */
	CU_ASSERT_EQUAL_FATAL(o.n_render_pauses, 2);
	CU_ASSERT_EQUAL(o.render_pauses[0], 500 * NS_PER_MS);
	CU_ASSERT_EQUAL(o.render_pauses[1], 2 * NS_PER_SEC);
	cli_free(&o);

	/* --seconds is what a render cannot do without */
	CU_ASSERT_EQUAL(PARSE(&o, "render", "--seed", "3"), CLI_EX_USAGE);
	CU_ASSERT(strstr(err_text, "--seconds is required") != NULL);
	cli_free(&o);
}

/* Every mistake: status 2, the option named, the usage after it. */
static void test_usage_errors(void)
{
	static const struct {
		const char *a, *b, *says;
	} cases[] = {
	    {"--bogus", NULL, "unknown option `--bogus`"},
	    {"-x", NULL, "unknown option `-x`"},
	    {"--seed", "abc", "--seed: `abc`"},
	    {"--seed", "-1", "--seed: `-1`"},
	    {"--seed", "18446744073709551616", "--seed"},
	    {"--synth", "fluidsynth", "--synth: `fluidsynth`"},
	    {"--synth", "supercollider:host", "--synth"},
	    {"--http", "localhost:8080", "--http"},
	    {"--http", "127.0.0.1:0", "--http"},
	    {"--midi-in", "usb", "--midi-in: `usb`"},
	    {"--led", "serial:", "--led"},
	    {"--preset", "../../etc/passwd", "--preset"},
	    /* 65 characters: one over the limit HTTP and the console share */
	    {"--preset", "a234567890123456789012345678901234567890123456789012345678901234x",
	     "1 to 64 letters"},
	    {"--set", "sequencer.bpm", "expected KEY=VALUE"},
	    {"--set", "=3", "expected KEY=VALUE"},
	    {"--seconds", "10", "unknown option `--seconds`"},
	    {"stray", NULL, "unexpected argument `stray`"},
	    {"-v", "render", "`render` must come first"},
	    {"--config", NULL, "needs a value"},
	    {"--events", "", "--events"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cli_options o;
		char *argv[] = {"mystery-engine", (char *)cases[i].a, (char *)cases[i].b, NULL};
		int argc = cases[i].b ? 3 : 2;
		int rc = parse_to(&o, argc, argv);
		if (rc != CLI_EX_USAGE || !strstr(err_text, cases[i].says) ||
		    !strstr(err_text, "usage: mystery-engine"))
			fprintf(stderr, "\n  %s %s -> %d: %s", cases[i].a,
			        cases[i].b ? cases[i].b : "", rc, err_text);
		CU_ASSERT_EQUAL(rc, CLI_EX_USAGE);
		CU_ASSERT(strstr(err_text, cases[i].says) != NULL);
		CU_ASSERT(strstr(err_text, "usage: mystery-engine") != NULL);
		cli_free(&o);
	}
	struct cli_options o;
	CU_ASSERT_EQUAL(PARSE(&o, "render", "--daemon"), CLI_EX_USAGE);
	CU_ASSERT(strstr(err_text, "--daemon") != NULL);
	cli_free(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "render", "--seconds", "0"), CLI_EX_USAGE);
	CU_ASSERT(strstr(err_text, "--seconds: `0`") != NULL);
	cli_free(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "render", "--seconds", "nan"), CLI_EX_USAGE);
	cli_free(&o);
}

static void test_usage_text(void)
{
	FILE *f = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	cli_usage(f);
	rewind(f);
	size_t n = fread(err_text, 1, sizeof err_text - 1, f);
	err_text[n] = '\0';
	fclose(f);
	const char *opts[] = {"--daemon", "--check-config", "--list-midi", "--version", "--help",
	                      "--config", "--set",          "--seed",      "--events",  "--verbose",
	                      "--quiet",  "--synth",        "--record",    "--midi-in", "--led",
	                      "--http",   "--preset",       "--seconds",   "--input",   "--score",
	                      "--wav",    "render",         "78"};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		CU_ASSERT(strstr(err_text, opts[i]) != NULL);
}

TEST_SUITE(cli, NULL, NULL, TEST_CASE(test_common_options), TEST_CASE(test_run_options),
           TEST_CASE(test_modes), TEST_CASE(test_render), TEST_CASE(test_usage_errors),
           TEST_CASE(test_usage_text))
