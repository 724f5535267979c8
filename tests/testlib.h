/*
 * testlib: how a test file registers its CUnit suite.
 *
 *   static void test_x(void) { CU_ASSERT_EQUAL(1 + 1, 2); }
 *   TEST_SUITE(scale, NULL, NULL,
 *       TEST_CASE(test_x))
 *
 * Each tests/test_<module>.c declares one suite; the runner (unit_main.c)
 * registers every suite linked into it, so adding a test file needs no edit
 * elsewhere.  `tests/unit SUITE...` runs only the named suites.
 */
#ifndef ME_TESTLIB_H
#define ME_TESTLIB_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>

struct test_suite {
	const char *name;
	CU_InitializeFunc init;
	CU_CleanupFunc cleanup;
	const CU_TestInfo *tests;
	struct test_suite *next;
};

void testlib_add(struct test_suite *s);

#define TEST_CASE(fn)                                                                              \
	{                                                                                          \
#fn, fn                                                                            \
	}

#define TEST_SUITE(sname, init_fn, cleanup_fn, ...)                                                \
	static CU_TestInfo sname##_tests_[] = {__VA_ARGS__, CU_TEST_INFO_NULL};                    \
	static struct test_suite sname##_suite_ = {#sname, init_fn, cleanup_fn, sname##_tests_,    \
	                                           NULL};                                          \
	__attribute__((constructor)) static void sname##_register_(void)                           \
	{                                                                                          \
		testlib_add(&sname##_suite_);                                                      \
	}

struct engine_config;
/* The built-in configuration (conf/mystery-engine.conf as embedded). */
void testlib_default_config(struct engine_config *out);

/* Directory of the source tree (for fixtures), from $top_srcdir or ".". */
const char *testlib_srcdir(void);
/* A fresh private temporary directory, removed by the runner at exit. */
const char *testlib_tmpdir(void);

/*
 * What a user-mode emulator (qemu-user, as contrib/cross-check.sh runs the
 * arm64 and armhf builds) does not emulate.  A test that needs one of these
 * starts with
 *
 *   if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__)) return;
 *
 * which answers true only when the runner was told it runs under an
 * emulator (ME_EMULATOR set in the environment) AND the probe finds the
 * limit now; it then prints "SKIP[emulator:RULE] TEST: why" on stdout.
 * Natively and on the hardware it answers false, and the test runs: there,
 * a missing TCGETS2 is a failure like any other.
 */
enum testlib_lack {
	TESTLIB_LACK_TCGETS2, /* ioctl(TCGETS2) on a pty answers ENOSYS (termios2, BOTHER) */
	TESTLIB_LACK_RSS,     /* /proc/self/stat reports 0 resident pages */
};
bool testlib_emulator_lacks(enum testlib_lack what, const char *test);

#endif
