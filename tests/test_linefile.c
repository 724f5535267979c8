/* Tests of linefile: a file that cannot take a whole write (here a file
 * size limit, RLIMIT_FSIZE, standing in for a full disk) keeps whole lines
 * only, and says how many of the lines given made it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt/linefile.h"
#include "testlib.h"

struct result {
	int e;
	size_t lines;
};

/* In a child process under a file size limit of `limit` bytes: writes each
 * of bufs to path (opened with `flags`), one linefile_write each; the
 * results come back through a pipe. */
static void run_limited(const char *path, int flags, long limit, const char *const *bufs, int n,
                        struct result *out)
{
	int p[2];
	CU_ASSERT_FATAL(pipe(p) == 0);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG */
		struct rlimit rl;
		getrlimit(RLIMIT_FSIZE, &rl);
		rl.rlim_cur = (rlim_t)limit;
		int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
		if (fd < 0 || setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		for (int i = 0; i < n; i++) {
			struct result r;
			memset(&r, 0, sizeof r); /* no uninitialised padding down the pipe */
			r.e = linefile_write(fd, bufs[i], strlen(bufs[i]), &r.lines);
			if (write(p[1], &r, sizeof r) != (ssize_t)sizeof r)
				_exit(3);
		}
		_exit(0);
	}
	close(p[1]);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(read(p[0], &out[i], sizeof out[i]), (ssize_t)sizeof out[i]);
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void read_file(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* A file of the test's own that does not exist yet. */
static void fresh_path(char *path, size_t size, const char *name, int flags)
{
	snprintf(path, size, "%s/linefile-%s-%d.txt", testlib_tmpdir(), name, flags);
	unlink(path);
}

/* 20-byte lines into a file that takes 100 bytes: the first two writes
 * fill it to the byte (five lines); the next two find no room, write
 * nothing and say so. */
static void check_file(int flags)
{
	char path[512];
	fresh_path(path, sizeof path, "full", flags);
	const char *bufs[] = {
	    "line 1 ............\nline 2 ............\nline 3 ............\n",
	    "line 4 ............\nline 5 ............\n", /* 40 bytes into 40 of room */
	    "line 6 ............\n",                      /* no room */
	    "line 7\n",                                   /* no room either */
	};
	struct result r[4];
	/* 100 bytes: lines 1-3 (60), then 40 bytes of room */
	run_limited(path, flags, 100, bufs, 4, r);
	CU_ASSERT_EQUAL(r[0].e, 0);
	CU_ASSERT_EQUAL(r[0].lines, 3);
	CU_ASSERT_EQUAL(r[1].e, 0);
	CU_ASSERT_EQUAL(r[1].lines, 2);
	CU_ASSERT_EQUAL(r[2].e, EFBIG);
	CU_ASSERT_EQUAL(r[2].lines, 0);
	CU_ASSERT_EQUAL(r[3].e, EFBIG);
	char got[512];
	read_file(path, got, sizeof got);
	CU_ASSERT_STRING_EQUAL(got,
	                       "line 1 ............\nline 2 ............\nline 3 ............\n"
	                       "line 4 ............\nline 5 ............\n");
}

/* Room for one line and a half: the whole line stays, the half goes, and
 * the next line starts where the whole one ended. */
static void check_torn(int flags)
{
	char path[512];
	fresh_path(path, sizeof path, "torn", flags);
	const char *bufs[] = {
	    "first line ........\n",
	    "second line .......\nthird line ........\n", /* 30 bytes of room: torn */
	};
	struct result r[2];
	run_limited(path, flags, 50, bufs, 2, r);
	CU_ASSERT_EQUAL(r[0].e, 0);
	CU_ASSERT_EQUAL(r[1].e, EFBIG);
	CU_ASSERT_EQUAL(r[1].lines, 1);
	char got[512];
	read_file(path, got, sizeof got);
	CU_ASSERT_STRING_EQUAL(got, "first line ........\nsecond line .......\n");
	/* with room again the file goes on at a line's beginning */
	int fd = open(path, O_WRONLY | (flags & O_APPEND));
	CU_ASSERT_FATAL(fd >= 0);
	if (!(flags & O_APPEND))
		lseek(fd, 0, SEEK_END);
	size_t lines;
	CU_ASSERT_EQUAL(linefile_write(fd, "fourth\n", 7, &lines), 0);
	CU_ASSERT_EQUAL(lines, 1);
	close(fd);
	read_file(path, got, sizeof got);
	CU_ASSERT_STRING_EQUAL(got, "first line ........\nsecond line .......\nfourth\n");
}

static void test_full_file(void)
{
	check_file(O_TRUNC);
}

static void test_full_file_append(void)
{
	check_file(O_APPEND);
}

static void test_torn_line_cut(void)
{
	check_torn(O_TRUNC);
	check_torn(O_APPEND);
}

/* A pipe with no reader: nothing is written, and the error says why. */
static void test_closed_pipe(void)
{
	int p[2];
	CU_ASSERT_FATAL(pipe(p) == 0);
	close(p[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	size_t lines = 9;
	CU_ASSERT_EQUAL(linefile_write(p[1], "a\nb\n", 4, &lines), EPIPE);
	CU_ASSERT_EQUAL(lines, 0);
	signal(SIGPIPE, old);
	close(p[1]);
}

TEST_SUITE(linefile, NULL, NULL, TEST_CASE(test_full_file), TEST_CASE(test_full_file_append),
           TEST_CASE(test_torn_line_cut), TEST_CASE(test_closed_pipe))
