/*
 * unit_main: the CUnit runner for every module's suite (see testlib.h).
 *
 *   tests/unit [SUITE...]     every suite, or the named ones (a name may be
 *                             given as tests/suites/SUITE.unit, as `make
 *                             check` runs each suite: one TESTS entry each)
 *   tests/unit --list         the names of the suites linked in
 *
 * Exit status is 0 only when every test passed.
 */
#include <CUnit/Basic.h>
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "testlib.h"

static struct test_suite *suites;
static char tmpdir[256];

void testlib_add(struct test_suite *s)
{
	struct test_suite **p = &suites;
	while (*p && strcmp((*p)->name, s->name) < 0)
		p = &(*p)->next;
	s->next = *p;
	*p = s;
}

const char *testlib_srcdir(void)
{
	const char *d = getenv("top_srcdir");
	return d && *d ? d : ".";
}

const char *testlib_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/me-unit.XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(99);
		}
	}
	return tmpdir;
}

/* Does TCGETS2 answer ENOSYS on a fresh pty? */
static bool lacks_tcgets2(void)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct termios2 t;
	bool lacks = ioctl(fd, TCGETS2, &t) < 0 && errno == ENOSYS;
	close(fd);
	return lacks;
}

/* Does /proc/self/stat report no resident pages (field 24), which no
 * running process has? */
static bool lacks_rss(void)
{
	FILE *f = fopen("/proc/self/stat", "re");
	if (!f)
		return false;
	char buf[1024];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	int field = 2;
	while (p && field < 24)
		if ((p = strchr(p + 1, ' ')))
			field++;
	return p && strtoll(p + 1, NULL, 10) == 0;
}

bool testlib_emulator_lacks(enum testlib_lack what, const char *test)
{
	static const struct {
		const char *rule, *why;
		bool (*probe)(void);
	} lack[] = {
	    [TESTLIB_LACK_TCGETS2] = {"tcgets2",
	                              "ioctl(TCGETS2) answers ENOSYS: the emulator lacks termios2",
	                              lacks_tcgets2},
	    [TESTLIB_LACK_RSS] =
	        {"rss", "/proc/self/stat shows 0 resident pages: the emulator does not report them",
	         lacks_rss},
	};
	const char *emu = getenv("ME_EMULATOR");
	if (!emu || !*emu || !lack[what].probe())
		return false;
	printf("SKIP[emulator:%s] %s: %s (%s)\n", lack[what].rule, test, lack[what].why, emu);
	fflush(stdout);
	return true;
}

static void remove_tmpdir(void)
{
	if (tmpdir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

/* Whether suite name was asked for: by name, or as the TESTS entry
 * tests/suites/NAME.unit that `make check` runs it as. */
static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		size_t n = strlen(a);
		if (n > 5 && strcmp(a + n - 5, ".unit") == 0)
			n -= 5;
		if (strlen(name) == n && strncmp(a, name, n) == 0)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (struct test_suite *s = suites; s; s = s->next)
			printf("%s\n", s->name);
		return 0;
	}
	atexit(remove_tmpdir);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	int n = 0;
	for (struct test_suite *s = suites; s; s = s->next) {
		if (!wanted(s->name, argc, argv))
			continue;
		CU_pSuite cs = CU_add_suite(s->name, s->init, s->cleanup);
		if (!cs)
			return 99;
		for (const CU_TestInfo *t = s->tests; t->pName; t++)
			if (!CU_add_test(cs, t->pName, t->pTestFunc))
				return 99;
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "no test suite matched\n");
		return 99;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	unsigned run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	return failed == 0 && run > 0 ? 0 : 1;
}
