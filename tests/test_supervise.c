/* Tests of the child-process supervisor with /bin/sh children: an operator
 * relies on a dead server coming back, on its output being captured and
 * counted, on a clear error state when it keeps failing, and on a stop that
 * leaves nothing running. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "synth/supervise.h"
#include "testlib.h"

#define MS 1000000LL
#define MAX_STARTS 16

struct record {
	pthread_mutex_t lock;
	int64_t start_t[MAX_STARTS];
	pid_t pids[MAX_STARTS];
	int starts, exits;
	int out_lines, err_lines;
	char last_out[128];
	int refuse; /* before_start refuses this many attempts */
	int refused;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void on_start(void *ud, pid_t pid, unsigned no)
{
	struct record *r = ud;
	pthread_mutex_lock(&r->lock);
	if (r->starts < MAX_STARTS) {
		r->start_t[r->starts] = now_ns();
		r->pids[r->starts] = pid;
	}
	r->starts++;
	pthread_mutex_unlock(&r->lock);
}

static void on_exit_cb(void *ud, pid_t pid, int status)
{
	struct record *r = ud;
	pthread_mutex_lock(&r->lock);
	r->exits++;
	pthread_mutex_unlock(&r->lock);
}

static void on_line(void *ud, enum supervise_stream st, const char *line)
{
	struct record *r = ud;
	pthread_mutex_lock(&r->lock);
	if (st == SUPERVISE_STDOUT) {
		r->out_lines++;
		snprintf(r->last_out, sizeof r->last_out, "%s", line);
	} else {
		r->err_lines++;
	}
	pthread_mutex_unlock(&r->lock);
}

static int before_start(void *ud)
{
	struct record *r = ud;
	pthread_mutex_lock(&r->lock);
	int no = r->refused < r->refuse;
	r->refused += no;
	pthread_mutex_unlock(&r->lock);
	return no;
}

static int starts_of(struct record *r)
{
	pthread_mutex_lock(&r->lock);
	int n = r->starts;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Waits up to ms for at least n starts. */
static int wait_starts(struct record *r, int n, int ms)
{
	for (int i = 0; i < ms / 5 && starts_of(r) < n; i++)
		sleep_ms(5);
	return starts_of(r) >= n;
}

static void spec_init(struct supervise_spec *sp, struct record *r, const char *const *argv)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->lock, NULL);
	memset(sp, 0, sizeof *sp);
	sp->name = "test";
	sp->argv = argv;
	sp->on_start = on_start;
	sp->on_exit = on_exit_cb;
	sp->on_line = on_line;
	sp->ud = r;
}

static int alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* A child that keeps exiting is started again, waiting longer each time. */
static void test_restart_with_growing_backoff(void)
{
	const char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
	struct supervise_spec sp;
	struct record r;
	enum supervise_err err;
	spec_init(&sp, &r, argv);
	sp.backoff_min_ns = 40 * MS;
	sp.backoff_max_ns = 160 * MS;
	sp.stable_ns = 10000 * MS;
	sp.error_after = 100;
	struct supervise *sv = supervise_start(&sp, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	CU_ASSERT_TRUE(wait_starts(&r, 6, 5000));
	struct supervise_stats st;
	supervise_get_stats(sv, &st);
	supervise_stop(sv);
	CU_ASSERT_TRUE(st.restarts >= 5);
	CU_ASSERT_TRUE(WIFEXITED(st.last_status) && WEXITSTATUS(st.last_status) == 3);
	/* Gaps are at least 40, 80, 160, 160, 160 ms: a delay that did not grow
	 * from its 40 ms would fail the third.  (Only lower bounds: on a loaded
	 * machine, or under an emulator, a spawn can take longer than the
	 * difference between two delays, so no gap is compared with another.) */
	int64_t want[] = {40, 80, 160, 160, 160};
	for (int i = 0; i < 5; i++) {
		int64_t gap = r.start_t[i + 1] - r.start_t[i];
		CU_ASSERT_TRUE(gap >= want[i] * MS);
	}
	pthread_mutex_destroy(&r.lock);
}

/* Output lines reach the callback and those with the prefix are counted. */
static void test_lines_captured_and_counted(void)
{
	const char *argv[] = {
	    "/bin/sh", "-c",
	    "echo 'SuperCollider 3 server ready.'; echo 'late 0.012'; echo 'late 0.2';"
	    " echo 'not late'; echo oops >&2; printf 'no newline'; sleep 30",
	    NULL};
	struct supervise_spec sp;
	struct record r;
	spec_init(&sp, &r, argv);
	sp.count_prefix = "late ";
	struct supervise *sv = supervise_start(&sp, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	struct supervise_stats st;
	for (int i = 0; i < 400; i++) {
		supervise_get_stats(sv, &st);
		if (st.lines >= 5)
			break;
		sleep_ms(5);
	}
	CU_ASSERT_EQUAL(st.counted, 2);
	CU_ASSERT_EQUAL(st.lines, 5);
	supervise_stop(sv);
	/* The unterminated last line arrives when the child ends. */
	CU_ASSERT_EQUAL(r.out_lines, 5);
	CU_ASSERT_EQUAL(r.err_lines, 1);
	CU_ASSERT_STRING_EQUAL(r.last_out, "no newline");
	pthread_mutex_destroy(&r.lock);
}

/* Repeated failures end in the error state, with slow retries. */
static void test_error_state_after_failures(void)
{
	const char *argv[] = {"/bin/sh", "-c", "exit 1", NULL};
	struct supervise_spec sp;
	struct record r;
	spec_init(&sp, &r, argv);
	sp.backoff_min_ns = 10 * MS;
	sp.backoff_max_ns = 20 * MS;
	sp.error_after = 3;
	sp.error_retry_ns = 10000 * MS;
	struct supervise *sv = supervise_start(&sp, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	struct supervise_stats st = {0};
	for (int i = 0; i < 400; i++) {
		supervise_get_stats(sv, &st);
		if (st.state == SUPERVISE_ERROR)
			break;
		sleep_ms(5);
	}
	CU_ASSERT_EQUAL(st.state, SUPERVISE_ERROR);
	CU_ASSERT_EQUAL(st.failures, 3);
	CU_ASSERT_TRUE(st.next_start_ns - now_ns() > 9000 * MS);
	sleep_ms(200);
	CU_ASSERT_EQUAL(starts_of(&r), 3);
	/* Stopping does not wait for the slow retry. */
	int64_t t0 = now_ns();
	supervise_stop(sv);
	CU_ASSERT_TRUE(now_ns() - t0 < 1000 * MS);
	pthread_mutex_destroy(&r.lock);
}

/* A refused start (the server it needs is down) counts as a failure too. */
static void test_before_start_refusal(void)
{
	const char *argv[] = {"/bin/sh", "-c", "sleep 30", NULL};
	struct supervise_spec sp;
	struct record r;
	spec_init(&sp, &r, argv);
	sp.backoff_min_ns = 10 * MS;
	sp.before_start = before_start;
	r.refuse = 2;
	struct supervise *sv = supervise_start(&sp, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	CU_ASSERT_TRUE(wait_starts(&r, 1, 3000));
	struct supervise_stats st;
	supervise_get_stats(sv, &st);
	CU_ASSERT_EQUAL(r.refused, 2);
	CU_ASSERT_EQUAL(st.failures, 2);
	CU_ASSERT_TRUE(st.pid > 0);
	supervise_stop(sv);
	pthread_mutex_destroy(&r.lock);
}

/* Stop ends a child that ignores SIGTERM, and removes its leftover file. */
static void test_stop_kills_child(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/leftover", testlib_tmpdir());
	char script[700];
	snprintf(script, sizeof script,
	         "trap '' TERM; : > '%s'; echo up; while :; do sleep 1; done", path);
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct supervise_spec sp;
	struct record r;
	spec_init(&sp, &r, argv);
	sp.cleanup_path = path;
	sp.stop_grace_ns = 200 * MS;
	struct supervise *sv = supervise_start(&sp, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	for (int i = 0; i < 400; i++) {
		pthread_mutex_lock(&r.lock);
		int up = r.out_lines > 0;
		pthread_mutex_unlock(&r.lock);
		if (up)
			break;
		sleep_ms(5);
	}
	struct stat sb;
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	pid_t pid = r.pids[0];
	CU_ASSERT_TRUE(alive(pid));
	supervise_stop(sv);
	CU_ASSERT_FALSE(alive(pid));
	CU_ASSERT_NOT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(r.starts, 1);
	pthread_mutex_destroy(&r.lock);
}

/* A child started from a thread that blocks SIGTERM still gets SIGTERM. */
static void test_child_gets_fresh_signal_mask(void)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct supervise_spec sp;
	struct record r;
	sigset_t term, old;
	spec_init(&sp, &r, argv);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	struct supervise *sv = supervise_start(&sp, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	CU_ASSERT_TRUE(wait_starts(&r, 1, 2000));
	sleep_ms(50);
	int64_t t0 = now_ns();
	supervise_stop(sv);
	/* Ended by SIGTERM, well before the 2 s grace that precedes SIGKILL. */
	CU_ASSERT_TRUE(now_ns() - t0 < 1000 * MS);
	CU_ASSERT_FALSE(alive(r.pids[0]));
	pthread_mutex_destroy(&r.lock);
}

/* A requested restart happens at once and is not a failure. */
static void test_requested_restart(void)
{
	const char *argv[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
	struct supervise_spec sp;
	struct record r;
	spec_init(&sp, &r, argv);
	sp.backoff_min_ns = 3000 * MS;
	struct supervise *sv = supervise_start(&sp, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	CU_ASSERT_TRUE(wait_starts(&r, 1, 2000));
	supervise_restart(sv);
	CU_ASSERT_TRUE(wait_starts(&r, 2, 1000));
	struct supervise_stats st;
	supervise_get_stats(sv, &st);
	CU_ASSERT_EQUAL(st.failures, 0);
	CU_ASSERT_EQUAL(st.restarts, 1);
	CU_ASSERT_NOT_EQUAL(r.pids[0], r.pids[1]);
	CU_ASSERT_FALSE(alive(r.pids[0]));
	supervise_stop(sv);
	pthread_mutex_destroy(&r.lock);
}

/* A process that ran stably and then died (a killed scsynth) is started
 * again at once: the back-off is for quick failures only. */
static void test_stable_death_restarts_at_once(void)
{
	const char *argv[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
	struct supervise_spec sp;
	struct record r;
	spec_init(&sp, &r, argv);
	sp.backoff_min_ns = 3000 * MS;
	sp.stable_ns = 50 * MS;
	struct supervise *sv = supervise_start(&sp, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	CU_ASSERT_TRUE(wait_starts(&r, 1, 2000));
	struct timespec nap = {0, 200 * 1000000L};
	nanosleep(&nap, NULL);
	kill(r.pids[0], SIGKILL);
	CU_ASSERT_TRUE(wait_starts(&r, 2, 1500));
	struct supervise_stats st;
	supervise_get_stats(sv, &st);
	CU_ASSERT_EQUAL(st.failures, 0);
	supervise_stop(sv);
	pthread_mutex_destroy(&r.lock);
}

static void test_bad_specs(void)
{
	const char *missing[] = {"me-no-such-program-here", NULL};
	const char *empty[] = {NULL};
	const char *env[] = {"A=1", "B=2", "C=3", "D=4", "E=5", "F=6", "G=7", "H=8", "I=9", NULL};
	const char *ok[] = {"/bin/true", NULL};
	struct supervise_spec sp;
	struct record r;
	enum supervise_err err;
	spec_init(&sp, &r, missing);
	CU_ASSERT_PTR_NULL(supervise_start(&sp, &err));
	CU_ASSERT_EQUAL(err, SUPERVISE_E_NOTFOUND);
	sp.argv = empty;
	CU_ASSERT_PTR_NULL(supervise_start(&sp, &err));
	CU_ASSERT_EQUAL(err, SUPERVISE_E_ARGS);
	sp.argv = ok;
	sp.env = env;
	CU_ASSERT_PTR_NULL(supervise_start(&sp, &err));
	CU_ASSERT_EQUAL(err, SUPERVISE_E_ARGS);
	CU_ASSERT_TRUE(strlen(supervise_strerror(SUPERVISE_E_NOTFOUND)) > 0);
	CU_ASSERT_EQUAL(r.starts, 0);
	pthread_mutex_destroy(&r.lock);
}

/* A program not installed yet: the supervisor says so (missing, error
 * state) and starts it once it appears, without being restarted itself. */
static void test_missing_program_appears(void)
{
	char dir[] = "/tmp/me-supervise-XXXXXX", prog[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(prog, sizeof prog, "%s/server", dir);
	const char *argv[] = {prog, NULL};
	struct supervise_spec sp;
	struct record r;
	struct supervise_stats st;
	enum supervise_err err;
	spec_init(&sp, &r, argv);
	sp.missing_retry_ns = 20 * MS;
	struct supervise *sv = supervise_start(&sp, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sv);
	/* polled (at most 5 s): a busy machine may not run the supervisor soon */
	for (int i = 0; i < 500; i++) {
		supervise_get_stats(sv, &st);
		if (st.missing && st.state == SUPERVISE_ERROR)
			break;
		sleep_ms(10);
	}
	CU_ASSERT_TRUE(st.missing);
	CU_ASSERT_EQUAL(st.state, SUPERVISE_ERROR);
	CU_ASSERT_EQUAL(st.starts, 0);
	FILE *f = fopen(prog, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("#!/bin/sh\nexec sleep 30\n", f);
	fclose(f);
	chmod(prog, 0755);
	for (int i = 0; i < 1000 && !r.starts; i++)
		sleep_ms(10);
	supervise_get_stats(sv, &st);
	CU_ASSERT_FALSE(st.missing);
	CU_ASSERT_EQUAL(st.starts, 1);
	CU_ASSERT_NOT_EQUAL(st.pid, 0);
	supervise_stop(sv);
	unlink(prog);
	rmdir(dir);
	pthread_mutex_destroy(&r.lock);
}

static void test_run_captures_output(void)
{
	const char *argv[] = {"/bin/sh", "-c", "echo \"value=$ME_PROBE\"; exit 4", NULL};
	const char *env[] = {"ME_PROBE=42", NULL};
	const char *slow[] = {"sleep", "10", NULL};
	char out[64];
	CU_ASSERT_EQUAL(supervise_run(argv, env, out, sizeof out, 2000 * MS), 4);
	CU_ASSERT_STRING_EQUAL(out, "value=42\n");
	int64_t t0 = now_ns();
	CU_ASSERT_EQUAL(supervise_run(slow, NULL, out, sizeof out, 100 * MS), -1);
	CU_ASSERT_TRUE(now_ns() - t0 < 2000 * MS);
}

TEST_SUITE(supervise, NULL, NULL, TEST_CASE(test_restart_with_growing_backoff),
           TEST_CASE(test_lines_captured_and_counted), TEST_CASE(test_error_state_after_failures),
           TEST_CASE(test_before_start_refusal), TEST_CASE(test_stop_kills_child),
           TEST_CASE(test_child_gets_fresh_signal_mask), TEST_CASE(test_requested_restart),
           TEST_CASE(test_stable_death_restarts_at_once), TEST_CASE(test_bad_specs),
           TEST_CASE(test_missing_program_appears), TEST_CASE(test_run_captures_output))
