/*
 * Tests of MIDI learn's map, and of where the control socket lives: a
 * learned CC moves the parameter's knob (keeping its range) and takes the
 * CC from whatever it moved before; the map survives a save and a load;
 * a damaged or foreign learned file is refused with file and line and
 * changes nothing; the socket path follows systemd's RuntimeDirectory, then
 * XDG_RUNTIME_DIR, and clients look in every place an instance may use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/param.h"
#include "ops/ctl_proto.h"
#include "ops/learn.h"
#include "testlib.h"

static void config_with_knobs(struct engine_config *c)
{
	testlib_default_config(c);
	for (int cc = 0; cc < 128; cc++) {
		c->cc_param[cc] = CC_UNMAPPED;
		memset(&c->cc_range[cc], 0, sizeof c->cc_range[cc]);
	}
	c->cc_param[20] = P_TEMPO;
	c->cc_range[20] = (struct engine_cc_range){true, CURVE_EXP, 60, 150};
	c->cc_param[21] = P_FILTER_CUTOFF;
	c->cc_range[21] = (struct engine_cc_range){true, CURVE_EXP, 300, 8000};
	c->cc_param[53] = CC_RESERVED;
}

static void test_apply_moves_the_knob(void)
{
	struct engine_config c;
	config_with_knobs(&c);
	struct learn_map m;
	learn_map_clear(&m);
	CU_ASSERT_EQUAL(learn_map_count(&m), 0);
	learn_map_set(&m, P_FILTER_CUTOFF, 30);
	learn_apply(&c, &m);
	CU_ASSERT_EQUAL(c.cc_param[30], P_FILTER_CUTOFF);
	CU_ASSERT_EQUAL(c.cc_param[21], CC_UNMAPPED); /* the old CC is free */
	CU_ASSERT(c.cc_range[30].set);                /* the knob's range came along */
	CU_ASSERT_DOUBLE_EQUAL(c.cc_range[30].min, 300, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(c.cc_range[30].max, 8000, 1e-9);
	CU_ASSERT_EQUAL(c.cc_param[20], P_TEMPO); /* the others stay */
	CU_ASSERT_EQUAL(learn_owner(&c, 30), P_FILTER_CUTOFF);
	CU_ASSERT_EQUAL(learn_owner(&c, 53), -1); /* reserved moves nothing */
	CU_ASSERT_EQUAL(learn_owner(&c, 128), -1);
}

static void test_learning_a_taken_cc_replaces(void)
{
	struct engine_config c;
	config_with_knobs(&c);
	struct learn_map m;
	learn_map_clear(&m);
	/* CC 20 moved tempo; learned for reverb_mix it moves only reverb_mix */
	learn_map_set(&m, P_REVERB_MIX, 20);
	learn_apply(&c, &m);
	CU_ASSERT_EQUAL(c.cc_param[20], P_REVERB_MIX);
	CU_ASSERT(!c.cc_range[20].set); /* reverb_mix had no knob: its whole range */
	for (int cc = 0; cc < 128; cc++)
		CU_ASSERT_NOT_EQUAL(c.cc_param[cc], P_TEMPO);
	/* in the map, one CC belongs to one parameter */
	learn_map_set(&m, P_SWING, 20);
	CU_ASSERT_EQUAL(m.cc[P_REVERB_MIX], -1);
	CU_ASSERT_EQUAL(m.cc[P_SWING], 20);
	CU_ASSERT_EQUAL(learn_map_count(&m), 1);
	learn_map_set(&m, P_SWING, 200); /* not a CC: ignored */
	learn_map_set(&m, P_COUNT, 5);
	CU_ASSERT_EQUAL(m.cc[P_SWING], 20);
	CU_ASSERT_EQUAL(learn_map_count(&m), 1);
}

static const char *state_dir(const char *name)
{
	static char d[512];
	snprintf(d, sizeof d, "%s/%s", testlib_tmpdir(), name);
	return d;
}

static void write_text(const char *dir, const char *text)
{
	char path[600];
	char err[256];
	snprintf(path, sizeof path, "%s/%s", dir, LEARN_FILE);
	struct learn_map m;
	learn_map_clear(&m);
	CU_ASSERT_EQUAL_FATAL(learn_save(dir, &m, err, sizeof err), 0); /* makes the folder */
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void test_save_and_load(void)
{
	const char *d = state_dir("learn-ok");
	char err[512];
	struct learn_map m, back;
	CU_ASSERT_EQUAL(learn_load(d, &back, err, sizeof err), 0); /* no file: empty */
	CU_ASSERT_EQUAL(learn_map_count(&back), 0);
	learn_map_clear(&m);
	learn_map_set(&m, P_TEMPO, 21);
	learn_map_set(&m, P_DRIFT, 0);
	learn_map_set(&m, P_RELEASE, 127);
	CU_ASSERT_EQUAL_FATAL(learn_save(d, &m, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(learn_load(d, &back, err, sizeof err), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &back, sizeof m), 0);
	char tmp[600]; /* nothing temporary is left */
	snprintf(tmp, sizeof tmp, "%s/.learned.tmp.%ld", d, (long)getpid());
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
}

static void test_damaged_file(void)
{
	const char *d = state_dir("learn-bad");
	char err[512];
	struct learn_map m;
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"learned = { tempo = 21;\n", "learned.conf:2: "},
	    {"learned = { tempo = 21;\n  tempoo = 3; };\n", "learned.conf:2: learned.tempoo"},
	    {"learned = { tempo = 300; };\n", "learned.conf:1: learned.tempo"},
	    {"learned = { tempo = \"x\"; };\n", "learned.conf:1: learned.tempo"},
	    {"mapping = { };\n", "expected learned = {"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_text(d, cases[i].text);
		err[0] = '\0';
		CU_ASSERT_EQUAL(learn_load(d, &m, err, sizeof err), -1);
		if (!strstr(err, cases[i].want))
			fprintf(stderr, "\n  case %zu: %s", i, err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].want));
		CU_ASSERT_EQUAL(learn_map_count(&m), 0);
	}
	/* a FIFO under the name is refused at once, never waited on */
	char path[600];
	snprintf(path, sizeof path, "%s/%s", d, LEARN_FILE);
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0644), 0);
	CU_ASSERT_EQUAL(learn_load(d, &m, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
	unlink(path);
}

static void test_socket_paths(void)
{
	char p[CTL_PATH_MAX];
	char *rd = getenv("RUNTIME_DIRECTORY") ? strdup(getenv("RUNTIME_DIRECTORY")) : NULL;
	char *xdg = getenv("XDG_RUNTIME_DIR") ? strdup(getenv("XDG_RUNTIME_DIR")) : NULL;
	setenv("RUNTIME_DIRECTORY", "/run/mystery-engine:/run/other", 1);
	CU_ASSERT_EQUAL(ctl_default_path(p, sizeof p), 0);
	CU_ASSERT_STRING_EQUAL(p, "/run/mystery-engine/control.sock");
	unsetenv("RUNTIME_DIRECTORY");
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	CU_ASSERT_EQUAL(ctl_default_path(p, sizeof p), 0);
	CU_ASSERT_STRING_EQUAL(p, "/run/user/1000/mystery-engine/control.sock");
	setenv("XDG_RUNTIME_DIR", "relative", 1); /* not absolute: ignored */
	CU_ASSERT_EQUAL(ctl_default_path(p, sizeof p), 0);
	char want[CTL_PATH_MAX];
	snprintf(want, sizeof want, "/tmp/mystery-engine-%u/control.sock", (unsigned)getuid());
	CU_ASSERT_STRING_EQUAL(p, want);

	/* clients: the configured one first, then every default, no duplicates */
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	char paths[8][CTL_PATH_MAX];
	int n = ctl_candidate_paths("/srv/me.sock", paths, 8);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(paths[0], "/srv/me.sock");
	CU_ASSERT_STRING_EQUAL(paths[1], "/run/user/1000/mystery-engine/control.sock");
	CU_ASSERT_STRING_EQUAL(paths[2], "/run/mystery-engine/control.sock");
	CU_ASSERT_STRING_EQUAL(paths[3], want);
	CU_ASSERT_EQUAL(ctl_candidate_paths("", paths, 2), 2);

	/* a runtime folder too long for a socket path is an error, not a cut */
	char longdir[200];
	memset(longdir, 'x', sizeof longdir - 1);
	longdir[0] = '/';
	longdir[sizeof longdir - 1] = '\0';
	setenv("RUNTIME_DIRECTORY", longdir, 1);
	CU_ASSERT_EQUAL(ctl_default_path(p, sizeof p), -1);

	if (rd)
		setenv("RUNTIME_DIRECTORY", rd, 1);
	else
		unsetenv("RUNTIME_DIRECTORY");
	if (xdg)
		setenv("XDG_RUNTIME_DIR", xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(rd);
	free(xdg);
	CU_ASSERT_EQUAL(ctl_payload_size(CTL_SNAPSHOT), sizeof(struct snapshot));
	CU_ASSERT_EQUAL(ctl_payload_size(0), 0);
	CU_ASSERT_EQUAL(ctl_payload_size(CTL_MSG_COUNT), 0);
}

TEST_SUITE(learn, NULL, NULL, TEST_CASE(test_apply_moves_the_knob),
           TEST_CASE(test_learning_a_taken_cc_replaces), TEST_CASE(test_save_and_load),
           TEST_CASE(test_damaged_file), TEST_CASE(test_socket_paths))
