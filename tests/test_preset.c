/*
 * Tests of presets: what is saved comes back exactly and sounds the same
 * once applied to an engine; damaged, truncated or out-of-range files are
 * reported with file and line and change nothing; names cannot escape the
 * directory; saving leaves no temporary files behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/param.h"
#include "ops/preset.h"
#include "testlib.h"

/* A state unlike the defaults: every parameter and step differs. */
static void sample_state(struct engine_state *st)
{
	memset(st, 0, sizeof *st);
	for (int i = 0; i < P_COUNT; i++)
		st->value[i] = param_table[i].def;
	st->value[P_TEMPO] = 97.25;
	st->value[P_FILTER_CUTOFF] = 1234.5;
	st->value[P_REVERB_MIX] = 0.3;
	st->value[P_SWING] = 0.1;
	st->value[P_DENSITY] = 0.45;
	st->value[P_MASTER_VOLUME] = 0.7;
	st->value[P_SEQUENCE_LENGTH] = 12;
	st->value[P_CHAOS_LOCK] = 0.25;
	st->value[P_DRIFT] = 3.5;
	st->n_steps = 12;
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		st->steps[k].prob = (k % 10) / 9.0;
		st->steps[k].degree = (int8_t)(k % 7 - 3);
		st->steps[k].velocity = (uint8_t)(20 + k);
		st->steps[k].length = 0.05 + k * 0.0625;
		st->steps[k].on = k % 3 != 0;
	}
}

static const char *dir(void)
{
	static char d[512];
	snprintf(d, sizeof d, "%s/presets", testlib_tmpdir());
	char err[256];
	CU_ASSERT_EQUAL_FATAL(preset_dir_ensure(d, err, sizeof err), PRESET_OK);
	return d;
}

static void write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(text, 1, n, f), n);
	fclose(f);
}

static void test_names(void)
{
	CU_ASSERT_TRUE(preset_name_ok("evening_drone-2"));
	CU_ASSERT_TRUE(preset_name_ok("A"));
	char longest[PRESET_NAME_MAX + 2];
	memset(longest, 'a', sizeof longest);
	longest[PRESET_NAME_MAX] = '\0';
	CU_ASSERT_TRUE(preset_name_ok(longest));
	longest[PRESET_NAME_MAX] = 'a';
	longest[PRESET_NAME_MAX + 1] = '\0';
	CU_ASSERT_FALSE(preset_name_ok(longest));
	CU_ASSERT_FALSE(preset_name_ok(""));
	CU_ASSERT_FALSE(preset_name_ok(NULL));
	CU_ASSERT_FALSE(preset_name_ok("../etc/passwd"));
	CU_ASSERT_FALSE(preset_name_ok("a/b"));
	CU_ASSERT_FALSE(preset_name_ok(".hidden"));
	CU_ASSERT_FALSE(preset_name_ok("with space"));

	struct engine_state st;
	struct preset p;
	char err[256] = "";
	sample_state(&st);
	CU_ASSERT_EQUAL(preset_save(dir(), "../escape", &st, err, sizeof err), PRESET_ERR_NAME);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "../escape"));
	CU_ASSERT_EQUAL(preset_load(dir(), "../../x", &p, err, sizeof err), PRESET_ERR_NAME);
	char outside[600];
	snprintf(outside, sizeof outside, "%s/escape.preset", testlib_tmpdir());
	CU_ASSERT_EQUAL(access(outside, F_OK), -1);
}

static void test_round_trip(void)
{
	struct engine_state st;
	struct preset p;
	char err[512] = "";
	sample_state(&st);
	CU_ASSERT_EQUAL_FATAL(preset_save(dir(), "round", &st, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL_FATAL(preset_load(dir(), "round", &p, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(p.mask, (1u << P_COUNT) - 1);
	for (int i = 0; i < P_COUNT; i++)
		CU_ASSERT_EQUAL(p.value[i], st.value[i]);
	CU_ASSERT_EQUAL(p.n_steps, ENGINE_MAX_STEPS);
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		CU_ASSERT_EQUAL(p.steps[k].prob, st.steps[k].prob);
		CU_ASSERT_EQUAL(p.steps[k].degree, st.steps[k].degree);
		CU_ASSERT_EQUAL(p.steps[k].velocity, st.steps[k].velocity);
		CU_ASSERT_EQUAL(p.steps[k].length, st.steps[k].length);
		CU_ASSERT_EQUAL(p.steps[k].on, st.steps[k].on);
	}
	/* No temporary file is left next to it. */
	char names[8][PRESET_NAME_MAX + 1];
	CU_ASSERT_EQUAL(preset_list(dir(), names, 8) >= 1, 1);
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s/.round.tmp.%ld", dir(), (long)getpid());
	CU_ASSERT_EQUAL(access(tmp, F_OK), -1);
}

/* Applying a loaded preset to an engine gives the saved parameters and pattern. */
static void test_applies_to_engine(void)
{
	struct engine_config cfg;
	testlib_default_config(&cfg);
	struct engine *e = engine_new(&cfg, 7);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	engine_start(e, 0);

	struct engine_state st, now;
	struct preset p;
	char err[512];
	sample_state(&st);
	CU_ASSERT_EQUAL_FATAL(preset_save(dir(), "apply", &st, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL_FATAL(preset_load(dir(), "apply", &p, err, sizeof err), PRESET_OK);

	struct command cmds[PRESET_MAX_COMMANDS];
	size_t n = preset_commands(&p, cmds, PRESET_MAX_COMMANDS);
	CU_ASSERT_EQUAL(n, (size_t)(P_COUNT + ENGINE_MAX_STEPS));
	CU_ASSERT_EQUAL(cmds[0].param, P_MODE);
	struct event ev[256];
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(cmds[i].source, SRC_PRESET);
		struct engine_input in = {.kind = INPUT_COMMAND, .t = 1000};
		in.u.cmd = cmds[i];
		engine_input(e, &in);
		while (engine_advance(e, 2000, ev, 256) == 256)
			;
	}
	engine_get_state(e, &now);
	for (int i = 0; i < P_COUNT; i++) {
		if (i == P_SCALE_SELECT || i == P_MODE || i == P_PALETTE)
			continue; /* selectors: bounded by the configuration's lists */
		CU_ASSERT_DOUBLE_EQUAL(now.value[i], st.value[i], 1e-9);
		CU_ASSERT_EQUAL(now.source[i], SRC_PRESET);
	}
	CU_ASSERT_EQUAL(now.n_steps, 12);
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		CU_ASSERT_DOUBLE_EQUAL(now.steps[k].prob, st.steps[k].prob, 1e-12);
		CU_ASSERT_EQUAL(now.steps[k].velocity, st.steps[k].velocity);
		CU_ASSERT_EQUAL(now.steps[k].on, st.steps[k].on);
	}
	engine_free(e);

	/* A short buffer gets the first commands only. */
	CU_ASSERT_EQUAL(preset_commands(&p, cmds, 3), 3);
}

/*
 * Every cut of a saved file is refused with its name and a line, and *out is
 * untouched; only cuts that lose nothing but the final ";\n" (optional in
 * libconfig) may load, and then they load the whole preset.
 */
static void test_truncated(void)
{
	struct engine_state st;
	sample_state(&st);
	char *text = preset_format(&st);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	size_t full = strlen(text);
	char path[600], err[512];
	snprintf(path, sizeof path, "%s/cut.preset", dir());
	struct preset whole;
	write_file(path, text, full);
	CU_ASSERT_EQUAL_FATAL(preset_load(dir(), "cut", &whole, err, sizeof err), PRESET_OK);
	for (size_t cut = 0; cut < full; cut += cut + 40 < full ? 7 : 1) {
		write_file(path, text, cut);
		struct preset p, sentinel;
		memset(&p, 0x5a, sizeof p);
		sentinel = p;
		err[0] = '\0';
		int rc = preset_load(dir(), "cut", &p, err, sizeof err);
		if (rc == PRESET_OK) {
			CU_ASSERT_TRUE(cut >= full - 2);
			CU_ASSERT_EQUAL(memcmp(&p, &whole, sizeof p), 0);
			continue;
		}
		CU_ASSERT_TRUE(rc == PRESET_ERR_SYNTAX || rc == PRESET_ERR_INVALID);
		CU_ASSERT_EQUAL(memcmp(&p, &sentinel, sizeof p), 0);
		/* "DIR/cut.preset:LINE: ..." */
		CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
		CU_ASSERT_EQUAL(err[strlen(path)], ':');
		CU_ASSERT_TRUE(atoi(err + strlen(path) + 1) >= 1);
	}
	free(text);
}

static void expect_invalid(const char *text, int code, const char *where, const char *what)
{
	char path[600], err[512] = "";
	snprintf(path, sizeof path, "%s/bad.preset", dir());
	write_file(path, text, strlen(text));
	struct preset p;
	CU_ASSERT_EQUAL(preset_load(dir(), "bad", &p, err, sizeof err), code);
	char want[700];
	snprintf(want, sizeof want, "%s:%s", path, where);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
		fprintf(stderr, "\n  got `%s`\n  want `%s ... %s`\n", err, want, what);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
}

static void test_invalid_values(void)
{
	expect_invalid("version = 1;\nparams = {\n  tempo = 500.0;\n};\n", PRESET_ERR_INVALID,
	               "3: params.tempo", "out of range");
	expect_invalid("version = 1;\nparams = {\n  tempo = \"fast\";\n};\n", PRESET_ERR_INVALID,
	               "3: params.tempo", "expected a number");
	expect_invalid("version = 1;\nparams = {\n  loudness = 1.0;\n};\n", PRESET_ERR_INVALID,
	               "3: params.loudness", "unknown parameter");
	expect_invalid("version = 1;\nparams = {\n  sequence_length = 4.5;\n};\n",
	               PRESET_ERR_INVALID, "3: params.sequence_length", "whole number");
	expect_invalid("version = 1;\nextra = 2;\nparams = { };\n", PRESET_ERR_INVALID, "2: extra",
	               "unknown key");
	expect_invalid("version = 2;\nparams = { };\n", PRESET_ERR_INVALID, "1: version",
	               "out of range");
	expect_invalid("params = { };\n", PRESET_ERR_INVALID, "1: version", "missing");
	expect_invalid("version = 1;\nn_steps = 2;\nsteps = (\n"
	               "  { prob = 1.0; degree = 0; velocity = 100; length = 0.5; on = true; },\n"
	               "  { prob = 1.5; degree = 0; velocity = 100; length = 0.5; on = true; }\n"
	               ");\nparams = { };\n",
	               PRESET_ERR_INVALID, "5: steps[1].prob", "out of range");
	expect_invalid(
	    "version = 1;\nn_steps = 1;\nsteps = (\n"
	    "  { prob = 1.0; degree = 0; length = 0.5; on = true; }\n);\nparams = { };\n",
	    PRESET_ERR_INVALID, "4: steps[0].velocity", "missing");
	expect_invalid("version = 1;\nn_steps = 3;\nsteps = (\n"
	               "  { prob = 1.0; degree = 0; velocity = 9; length = 0.5; on = true; }\n);\n"
	               "params = { };\n",
	               PRESET_ERR_INVALID, "2: n_steps", "incomplete");
	expect_invalid("version = 1;\nn_steps = 1;\nsteps = (\n"
	               "  { prob = 1.0; degree = 0; velocity = 9; length = 0.5; on = true; }\n);\n"
	               "params = { sequence_length = 4; };\n",
	               PRESET_ERR_INVALID, "2: n_steps", "disagrees");
	expect_invalid("version = 1;\nparams = {\n  tempo = 120.0;\n", PRESET_ERR_SYNTAX,
	               "4:", "damaged preset");
	expect_invalid("version = 1;\nparams = { tempo = 1\x00"
	               "20.0; };\n",
	               PRESET_ERR_SYNTAX, "2:", "damaged preset");
}

/* Random bytes never crash the loader and are never accepted. */
static void test_garbage(void)
{
	char path[600];
	snprintf(path, sizeof path, "%s/junk.preset", dir());
	unsigned x = 12345;
	for (int round = 0; round < 200; round++) {
		char buf[300];
		size_t n = 1 + round % (sizeof buf - 1);
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (char)(x >> 16);
		}
		write_file(path, buf, n);
		struct preset p;
		char err[512] = "";
		int rc = preset_load(dir(), "junk", &p, err, sizeof err);
		CU_ASSERT_TRUE(rc == PRESET_ERR_SYNTAX || rc == PRESET_ERR_INVALID);
		CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
	}
}

/* A hand-written preset may set only some parameters and keep the pattern. */
static void test_partial(void)
{
	char path[600], err[512] = "";
	snprintf(path, sizeof path, "%s/partial.preset", dir());
	const char *text = "version = 1;\nparams = { tempo = 72; reverb_mix = 0.6; };\n";
	write_file(path, text, strlen(text));
	struct preset p;
	CU_ASSERT_EQUAL_FATAL(preset_load(dir(), "partial", &p, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(p.mask, (1u << P_TEMPO) | (1u << P_REVERB_MIX));
	CU_ASSERT_EQUAL(p.value[P_TEMPO], 72);
	CU_ASSERT_EQUAL(p.n_steps, 0);
	struct command c[PRESET_MAX_COMMANDS];
	CU_ASSERT_EQUAL(preset_commands(&p, c, PRESET_MAX_COMMANDS), 2);
}

static void test_missing(void)
{
	struct preset p;
	char err[512] = "";
	CU_ASSERT_EQUAL(preset_load(dir(), "nothing_here", &p, err, sizeof err),
	                PRESET_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nothing_here.preset"));
	struct engine_state st;
	sample_state(&st);
	char nodir[600];
	snprintf(nodir, sizeof nodir, "%s/no/such/dir", testlib_tmpdir());
	CU_ASSERT_EQUAL(preset_save(nodir, "x", &st, err, sizeof err), PRESET_ERR_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, nodir));
	CU_ASSERT_EQUAL(preset_list(nodir, NULL, 0), 0);
	CU_ASSERT_STRING_NOT_EQUAL(preset_strerror(PRESET_ERR_SYNTAX), "");
	CU_ASSERT_STRING_EQUAL(preset_strerror(42), "unknown preset error");
}

/* Under a preset's name, a FIFO, a directory, a device or a link is refused
 * at once (a FIFO without a writer would otherwise wait forever), and a
 * link planted as a save's temporary file is not written through. */
static void test_special_files(void)
{
	char d[600], path[700], target[700], err[512];
	snprintf(d, sizeof d, "%s/special", testlib_tmpdir());
	CU_ASSERT_EQUAL_FATAL(preset_dir_ensure(d, err, sizeof err), PRESET_OK);
	struct engine_state st;
	sample_state(&st);
	struct preset p;

	snprintf(path, sizeof path, "%s/fifo.preset", d);
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0644), 0);
	err[0] = '\0';
	CU_ASSERT_EQUAL(preset_load(d, "fifo", &p, err, sizeof err), PRESET_ERR_NOT_REGULAR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "fifo.preset: a FIFO"));

	snprintf(path, sizeof path, "%s/dir.preset", d);
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
	CU_ASSERT_EQUAL(preset_load(d, "dir", &p, err, sizeof err), PRESET_ERR_NOT_REGULAR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a directory"));

	snprintf(path, sizeof path, "%s/dev.preset", d);
	CU_ASSERT_EQUAL_FATAL(symlink("/dev/zero", path), 0);
	CU_ASSERT_EQUAL(preset_load(d, "dev", &p, err, sizeof err), PRESET_ERR_NOT_REGULAR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "symbolic link"));
	CU_ASSERT_EQUAL(preset_load_file("/dev/zero", &p, err, sizeof err), PRESET_ERR_NOT_REGULAR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a device"));

	/* A good preset outside the folder, linked in: not followed. */
	snprintf(target, sizeof target, "%s/outside", testlib_tmpdir());
	CU_ASSERT_EQUAL_FATAL(preset_dir_ensure(target, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL_FATAL(preset_save(target, "good", &st, err, sizeof err), PRESET_OK);
	snprintf(target, sizeof target, "%s/outside/good.preset", testlib_tmpdir());
	snprintf(path, sizeof path, "%s/link.preset", d);
	CU_ASSERT_EQUAL_FATAL(symlink(target, path), 0);
	CU_ASSERT_EQUAL(preset_load(d, "link", &p, err, sizeof err), PRESET_ERR_NOT_REGULAR);

	/* A link where the save's temporary file goes: replaced, not followed. */
	snprintf(path, sizeof path, "%s/.mine.tmp.%ld", d, (long)getpid());
	CU_ASSERT_EQUAL_FATAL(symlink(target, path), 0);
	st.value[P_TEMPO] = 66;
	CU_ASSERT_EQUAL(preset_save(d, "mine", &st, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(preset_load_file(target, &p, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(p.value[P_TEMPO], 97.25); /* the outside file is untouched */
	CU_ASSERT_EQUAL(preset_load(d, "mine", &p, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(p.value[P_TEMPO], 66);
	CU_ASSERT_STRING_EQUAL(preset_strerror(PRESET_ERR_NOT_REGULAR), "not a regular file");
}

static void test_list_and_stale(void)
{
	char d[600], err[512];
	snprintf(d, sizeof d, "%s/listing/a/b", testlib_tmpdir());
	CU_ASSERT_EQUAL_FATAL(preset_dir_ensure(d, err, sizeof err), PRESET_OK);
	struct stat sb;
	CU_ASSERT_EQUAL(stat(d, &sb), 0);
	CU_ASSERT_TRUE(S_ISDIR(sb.st_mode));

	/* A temporary file of a writer that died (a reaped child's pid). */
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	char stale[700];
	snprintf(stale, sizeof stale, "%s/.zeta.tmp.%ld", d, (long)dead);
	write_file(stale, "version = 1;\n", 13);

	struct engine_state st;
	sample_state(&st);
	CU_ASSERT_EQUAL(preset_save(d, "zeta", &st, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(preset_save(d, "alpha", &st, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(preset_save(d, "Mid-1", &st, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(access(stale, F_OK), -1);
	char junk[700];
	snprintf(junk, sizeof junk, "%s/not a preset.preset", d);
	write_file(junk, "x", 1);
	snprintf(junk, sizeof junk, "%s/notes.txt", d);
	write_file(junk, "x", 1);

	char names[8][PRESET_NAME_MAX + 1];
	CU_ASSERT_EQUAL_FATAL(preset_list(d, names, 8), 3);
	CU_ASSERT_STRING_EQUAL(names[0], "Mid-1");
	CU_ASSERT_STRING_EQUAL(names[1], "alpha");
	CU_ASSERT_STRING_EQUAL(names[2], "zeta");
	CU_ASSERT_EQUAL(preset_list(d, names, 2), 3);

	/* Saving over a preset replaces it whole. */
	st.value[P_TEMPO] = 61;
	CU_ASSERT_EQUAL(preset_save(d, "zeta", &st, err, sizeof err), PRESET_OK);
	struct preset p;
	CU_ASSERT_EQUAL(preset_load(d, "zeta", &p, err, sizeof err), PRESET_OK);
	CU_ASSERT_EQUAL(p.value[P_TEMPO], 61);
}

TEST_SUITE(preset, NULL, NULL, TEST_CASE(test_names), TEST_CASE(test_round_trip),
           TEST_CASE(test_applies_to_engine), TEST_CASE(test_truncated),
           TEST_CASE(test_invalid_values), TEST_CASE(test_garbage), TEST_CASE(test_partial),
           TEST_CASE(test_missing), TEST_CASE(test_special_files), TEST_CASE(test_list_and_stale))
