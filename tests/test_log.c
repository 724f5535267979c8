/* Tests of the logger: what an operator finds in the log file and on the
 * terminal (shape, escaping, levels, rotation, drops, shutdown), and of the
 * runtime clock helpers it stamps records with. */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rt/log.h"
#include "rt/rtclock.h"
#include "testlib.h"

#define MAX_LINES 4096

struct lines {
	int n;
	char *l[MAX_LINES];
};

static void lines_free(struct lines *ls)
{
	for (int i = 0; i < ls->n; i++)
		free(ls->l[i]);
	ls->n = 0;
}

/* Every line of a file (0 lines when it does not exist). */
static void read_lines(const char *path, struct lines *ls)
{
	ls->n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	while (ls->n < MAX_LINES && (len = getline(&buf, &cap, f)) > 0) {
		ls->l[ls->n++] = strdup(buf);
	}
	free(buf);
	fclose(f);
}

static const char *tmp_path(const char *name)
{
	static char buf[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", testlib_tmpdir(), name);
	return buf[k];
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static struct log_options file_opts(const char *path, enum log_level level)
{
	struct log_options o = {.level = level, .file = path};
	return o;
}

/* A parsed JSON line, checked for the fields every record has. */
static json_t *parse_record(const char *line)
{
	json_error_t err;
	size_t n = strlen(line);
	CU_ASSERT(n > 0 && line[n - 1] == '\n');
	json_t *j = json_loads(line, 0, &err);
	CU_ASSERT_PTR_NOT_NULL(j);
	if (!j)
		return NULL;
	CU_ASSERT(json_is_string(json_object_get(j, "ts")));
	CU_ASSERT(json_is_string(json_object_get(j, "level")));
	CU_ASSERT(json_is_string(json_object_get(j, "event")));
	CU_ASSERT(json_is_string(json_object_get(j, "msg")));
	return j;
}

static const char *jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s ? s : "";
}

/* Run fn with stderr sent to a file; the file's lines come back. */
static void capture_stderr(void (*fn)(void *), void *arg, struct lines *out)
{
	const char *path = tmp_path("stderr.txt");
	fflush(stderr);
	int saved = dup(2);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	read_lines(path, out);
}

static void test_levels(void)
{
	CU_ASSERT_EQUAL(log_level_parse("error"), LOG_ERROR);
	CU_ASSERT_EQUAL(log_level_parse("WARN"), LOG_WARN);
	CU_ASSERT_EQUAL(log_level_parse("warning"), LOG_WARN);
	CU_ASSERT_EQUAL(log_level_parse("info"), LOG_INFO);
	CU_ASSERT_EQUAL(log_level_parse("debug"), LOG_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("verbose"), -1);
	CU_ASSERT_EQUAL(log_level_parse(""), -1);
	CU_ASSERT_EQUAL(log_level_parse(NULL), -1);
	for (int l = LOG_ERROR; l <= LOG_DEBUG; l++)
		CU_ASSERT_EQUAL(log_level_parse(log_level_name(l)), l);
	CU_ASSERT_STRING_EQUAL(log_level_name((enum log_level)9), "?");
	CU_ASSERT_STRING_NOT_EQUAL(log_strerror(LOG_ERR_FILE), log_strerror(LOG_ERR_OPTIONS));
}

/* Quotes, backslashes, newlines, control characters, UTF-8 and a stray
 * byte all come out as valid JSON that reads back as what was logged. */
static void test_json_escaping(void)
{
	const char *path = tmp_path("escape.log");
	struct log_options o = file_opts(path, LOG_DEBUG);
	int64_t before = rtclock_real_ns();
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	log_info("midi_connected", "port \"Teensy MIDI\" at %s", "hw:1,0,0");
	log_warn("odd", "line1\nline2\ttab\\back\r\x01\x1f\x7f end");
	log_error("utf8", "caf\xc3\xa9 \xe2\x99\xaa");
	log_debug("bad_bytes", "x\xffy\xc3");
	log_info(NULL, "no event");
	log_close();
	int64_t after = rtclock_real_ns();
	struct lines ls;
	read_lines(path, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, 5);
	json_t *j = parse_record(ls.l[0]);
	CU_ASSERT_STRING_EQUAL(jstr(j, "level"), "info");
	CU_ASSERT_STRING_EQUAL(jstr(j, "event"), "midi_connected");
	CU_ASSERT_STRING_EQUAL(jstr(j, "msg"), "port \"Teensy MIDI\" at hw:1,0,0");
	/* "2026-11-24T05:40:01.123Z", within the test's own time window. */
	const char *ts = jstr(j, "ts");
	CU_ASSERT_EQUAL(strlen(ts), 24);
	struct tm tm = {0};
	int ms = -1;
	CU_ASSERT_EQUAL(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
	                       &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
	                7);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int64_t t_ms = (int64_t)timegm(&tm) * 1000 + ms;
	CU_ASSERT(t_ms >= before / 1000000 && t_ms <= after / 1000000);
	json_decref(j);

	j = parse_record(ls.l[1]);
	CU_ASSERT_STRING_EQUAL(jstr(j, "level"), "warn");
	CU_ASSERT_STRING_EQUAL(jstr(j, "msg"), "line1\nline2\ttab\\back\r\x01\x1f\x7f end");
	CU_ASSERT_PTR_NULL(strchr(ls.l[1], '\t')); /* escaped, not raw */
	json_decref(j);
	j = parse_record(ls.l[2]);
	CU_ASSERT_STRING_EQUAL(jstr(j, "level"), "error");
	CU_ASSERT_STRING_EQUAL(jstr(j, "msg"), "caf\xc3\xa9 \xe2\x99\xaa");
	json_decref(j);
	j = parse_record(ls.l[3]);
	CU_ASSERT_STRING_EQUAL(jstr(j, "level"), "debug");
	CU_ASSERT_STRING_EQUAL(jstr(j, "msg"), "x\xef\xbf\xbdy\xef\xbf\xbd"); /* U+FFFD */
	json_decref(j);
	j = parse_record(ls.l[4]);
	CU_ASSERT_STRING_EQUAL(jstr(j, "event"), "-");
	json_decref(j);
	lines_free(&ls);
}

/* Over-long messages are cut, marked, and never split a UTF-8 character. */
static void test_truncation(void)
{
	char big[LOG_MSG_MAX * 2 + 1];
	for (size_t i = 0; i < LOG_MSG_MAX * 2; i += 2)
		memcpy(big + i, "\xc3\xa9", 2); /* é */
	big[LOG_MSG_MAX * 2] = '\0';
	/* Cut at an even and at an odd byte offset into the 2-byte characters. */
	for (int shift = 0; shift < 2; shift++) {
		const char *fmt = shift ? "x%s" : "%s";
		struct log_options o =
		    file_opts(tmp_path(shift ? "trunc1.log" : "trunc0.log"), LOG_INFO);
		CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
		log_info("long", fmt, big);
		log_close();
		struct lines ls;
		read_lines(o.file, &ls);
		CU_ASSERT_EQUAL_FATAL(ls.n, 1);
		json_t *j = parse_record(ls.l[0]);
		const char *msg = jstr(j, "msg");
		CU_ASSERT(strlen(msg) < LOG_MSG_MAX + 4);
		CU_ASSERT(strlen(msg) > LOG_MSG_MAX - 8);
		CU_ASSERT_PTR_NULL(strstr(msg, "\xef\xbf\xbd")); /* nothing mangled */
		CU_ASSERT_STRING_EQUAL(msg + strlen(msg) - 3, "...");
		CU_ASSERT(json_is_true(json_object_get(j, "truncated")));
		json_decref(j);
		lines_free(&ls);
	}
}

static void write_levels(void)
{
	log_error("e", "error %d", 1);
	log_warn("w", "warn %d", 2);
	log_info("i", "info %d", 3);
	log_debug("d", "debug %d", 4);
}

static void test_level_filter(void)
{
	const char *path = tmp_path("levels.log");
	struct log_options o = file_opts(path, LOG_WARN);
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	write_levels();
	log_set_level(LOG_DEBUG);
	CU_ASSERT_EQUAL(log_get_level(), LOG_DEBUG);
	write_levels();
	log_set_level(LOG_ERROR);
	write_levels();
	log_close();
	struct lines ls;
	read_lines(path, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, 2 + 4 + 1);
	const char *want[] = {"e", "w", "e", "w", "i", "d", "e"};
	for (int i = 0; i < ls.n; i++) {
		json_t *j = parse_record(ls.l[i]);
		CU_ASSERT_STRING_EQUAL(jstr(j, "event"), want[i]);
		json_decref(j);
	}
	lines_free(&ls);
	log_set_level(LOG_INFO);
}

/* Read file.k .. file.1, file in that order (oldest first) into one list of
 * sequence numbers; check every file's size and every line's shape. */
static int collect_rotated(const char *path, int keep, long max_size, int *seq, int max)
{
	int n = 0;
	char name[600];
	for (int k = keep; k >= 0; k--) {
		if (k)
			snprintf(name, sizeof name, "%s.%d", path, k);
		else
			snprintf(name, sizeof name, "%s", path);
		if (!file_exists(name))
			continue;
		CU_ASSERT(file_size(name) <= max_size);
		struct lines ls;
		read_lines(name, &ls);
		for (int i = 0; i < ls.n && n < max; i++) {
			json_t *j = parse_record(ls.l[i]); /* whole lines only */
			if (j)
				seq[n++] = atoi(jstr(j, "msg") + strlen("record "));
			json_decref(j);
		}
		lines_free(&ls);
	}
	return n;
}

static void test_rotation_keeps_everything(void)
{
	const char *path = tmp_path("rot.log");
	struct log_options o = file_opts(path, LOG_INFO);
	o.max_size = 2000;
	o.keep = 6;
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	for (int i = 0; i < 60; i++)
		log_info("step", "record %d padding padding padding", i);
	log_close();
	CU_ASSERT_TRUE(file_exists(tmp_path("rot.log.1")));
	CU_ASSERT_TRUE(file_exists(tmp_path("rot.log.3")));
	CU_ASSERT_FALSE(file_exists(tmp_path("rot.log.7")));
	int seq[100];
	int n = collect_rotated(path, 6, o.max_size, seq, 100);
	CU_ASSERT_EQUAL(n, 60);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(seq[i], i);
	/* Files are filled: each rotated one lacks less than a line's room. */
	CU_ASSERT(file_size(tmp_path("rot.log.1")) > 2000 - 150);
}

static void test_rotation_drops_oldest(void)
{
	const char *path = tmp_path("old.log");
	struct log_options o = file_opts(path, LOG_INFO);
	o.max_size = 1000;
	o.keep = 2;
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	for (int i = 0; i < 100; i++)
		log_info("step", "record %d padding padding padding", i);
	log_close();
	CU_ASSERT_TRUE(file_exists(tmp_path("old.log.2")));
	CU_ASSERT_FALSE(file_exists(tmp_path("old.log.3")));
	int seq[100];
	int n = collect_rotated(path, 2, o.max_size, seq, 100);
	CU_ASSERT(n > 10 && n < 100);
	/* What is left is the newest records, without a gap. */
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(seq[i], 100 - n + i);

	/* keep = 0: the file is started afresh, nothing else kept. */
	const char *p0 = tmp_path("zero.log");
	o = file_opts(p0, LOG_INFO);
	o.max_size = 500;
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	for (int i = 0; i < 30; i++)
		log_info("step", "record %d padding padding padding", i);
	log_close();
	CU_ASSERT_FALSE(file_exists(tmp_path("zero.log.1")));
	n = collect_rotated(p0, 0, o.max_size, seq, 100);
	CU_ASSERT(n > 0 && n < 30);
	CU_ASSERT_EQUAL(seq[n - 1], 29);
}

/* An existing log is appended to, and its size counts toward rotation. */
static void test_append_existing(void)
{
	const char *path = tmp_path("append.log");
	struct log_options o = file_opts(path, LOG_INFO);
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	for (int i = 0; i < 5; i++)
		log_info("first_run", "record %d", i);
	log_close();
	long size = file_size(path);
	CU_ASSERT(size > 5 * 60);
	o.max_size = size + 40; /* less than one more line */
	o.keep = 1;
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	log_info("second_run", "record 5");
	log_close();
	struct lines ls;
	read_lines(tmp_path("append.log.1"), &ls);
	CU_ASSERT_EQUAL(ls.n, 5);
	lines_free(&ls);
	read_lines(path, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(ls.l[0], "second_run"));
	lines_free(&ls);
}

/* A disk that takes no more (here a file size limit of 1000 bytes): the
 * file keeps whole lines only; the failure is said once on stderr; the
 * next file of the rotation, which has room, first gets the line that made
 * it and then how many are missing before it; closing says the count of
 * lines lost since.  Runs in a child process (the limit is the process's). */
static void log_to_full_file(const char *path, const char *err_path)
{
	int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(2);
	close(fd);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl;
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = 1000;
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		_exit(3);
	struct log_options o = file_opts(path, LOG_INFO);
	o.max_size = 1100; /* a long line rotates, short ones fail first */
	o.keep = 1;
	if (log_open(&o) != 0)
		_exit(4);
	for (int i = 0; i < 30; i++)
		log_info("step", "record %d padding padding padding", i);
	char pad[400];
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	log_info("long", "%s", pad);
	for (int i = 0; i < 10; i++)
		log_info("late", "record %d padding padding padding padding padding", i);
	log_close();
	_exit(0);
}

static void test_full_disk(void)
{
	const char *path = tmp_path("full.log"), *err_path = tmp_path("full.err");
	unlink(path);
	unlink(tmp_path("full.log.1"));
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		log_to_full_file(path, err_path);
	int st = 0;
	waitpid(pid, &st, 0);
	CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the first file: records 0 .. k-1, every line whole */
	struct lines ls;
	read_lines(tmp_path("full.log.1"), &ls);
	int k = ls.n;
	CU_ASSERT(k >= 3 && k < 30);
	for (int i = 0; i < ls.n; i++) {
		json_t *j = parse_record(ls.l[i]);
		char want[64];
		snprintf(want, sizeof want, "record %d padding", i);
		CU_ASSERT_PTR_NOT_NULL(j ? strstr(jstr(j, "msg"), want) : NULL);
		json_decref(j);
	}
	CU_ASSERT(file_size(tmp_path("full.log.1")) <= 1000);
	lines_free(&ls);
	/* the second: the long line, how many are missing before it, then as
	 * many of the rest as fit */
	read_lines(path, &ls);
	CU_ASSERT_FATAL(ls.n >= 3);
	json_t *j = parse_record(ls.l[0]);
	CU_ASSERT_STRING_EQUAL(j ? jstr(j, "event") : "", "long");
	json_decref(j);
	j = parse_record(ls.l[1]);
	char want[160];
	snprintf(want, sizeof want, "%d log lines are missing before this one: writing %s failed",
	         30 - k, path);
	CU_ASSERT_STRING_EQUAL(j ? jstr(j, "event") : "", "log_lost");
	CU_ASSERT_PTR_NOT_NULL(j ? strstr(jstr(j, "msg"), want) : NULL);
	json_decref(j);
	int late = 0;
	for (int i = 2; i < ls.n; i++) {
		j = parse_record(ls.l[i]);
		late += j && strcmp(jstr(j, "event"), "late") == 0;
		json_decref(j);
	}
	CU_ASSERT(late >= 1 && late < 10);
	lines_free(&ls);
	/* stderr: the failure each time it begins, at the end the lines lost since */
	read_lines(err_path, &ls);
	int failed = 0, lost = 0;
	for (int i = 0; i < ls.n; i++) {
		failed += strstr(ls.l[i], "log_write_failed") != NULL;
		if (strstr(ls.l[i], "log_lost")) {
			lost++;
			snprintf(want, sizeof want, "%d log lines were not written to %s",
			         10 - late, path);
			CU_ASSERT_PTR_NOT_NULL(strstr(ls.l[i], want));
		}
	}
	CU_ASSERT_EQUAL(failed, 2); /* once in each file */
	CU_ASSERT_EQUAL(lost, 1);
	lines_free(&ls);
}

/* A full ring drops and counts; the operator later reads how many. */
static void test_drops_counted(void)
{
	const char *path = tmp_path("drops.log");
	struct log_options o = file_opts(path, LOG_INFO);
	o.ring_records = 4;
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	log_hold(true);
	for (int i = 0; i < 10; i++)
		log_info("burst", "record %d", i);
	CU_ASSERT_EQUAL(log_dropped(), 6);
	log_hold(false);
	log_close();
	struct lines ls;
	read_lines(path, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, 5);
	for (int i = 0; i < 4; i++) {
		json_t *j = parse_record(ls.l[i]);
		char want[32];
		snprintf(want, sizeof want, "record %d", i);
		CU_ASSERT_STRING_EQUAL(jstr(j, "msg"), want);
		json_decref(j);
	}
	json_t *j = parse_record(ls.l[4]);
	CU_ASSERT_STRING_EQUAL(jstr(j, "event"), "log_dropped");
	CU_ASSERT_STRING_EQUAL(jstr(j, "level"), "warn");
	CU_ASSERT_EQUAL(atoi(jstr(j, "msg")), 6);
	json_decref(j);
	lines_free(&ls);
}

struct burst {
	int id, n;
};

static void *burst_main(void *arg)
{
	struct burst *b = arg;
	for (int i = 0; i < b->n; i++)
		log_info("thread", "%d %d", b->id, i);
	return NULL;
}

/* Three threads log at once; log_close() writes out every accepted record,
 * each thread's in its order. */
static void test_close_drains(void)
{
	const char *path = tmp_path("drain.log");
	struct log_options o = file_opts(path, LOG_INFO);
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	struct burst b[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		b[i] = (struct burst){i, 300};
		pthread_create(&t[i], NULL, burst_main, &b[i]);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	log_close();
	CU_ASSERT_EQUAL(log_dropped(), 0);
	struct lines ls;
	read_lines(path, &ls);
	CU_ASSERT_EQUAL(ls.n, 900);
	int next[3] = {0};
	for (int i = 0; i < ls.n; i++) {
		json_t *j = parse_record(ls.l[i]);
		int id = -1, k = -1;
		sscanf(jstr(j, "msg"), "%d %d", &id, &k);
		CU_ASSERT_FATAL(id >= 0 && id < 3);
		CU_ASSERT_EQUAL(k, next[id]);
		next[id] = k + 1;
		json_decref(j);
	}
	lines_free(&ls);
}

/* The logger thread, started before the program blocks its signals, blocks
 * them itself: a SIGHUP meant for the main loop must never land on it (its
 * default action would end the program with status 129). */
static void test_logger_blocks_signals(void)
{
	const char *path = tmp_path("signals.log");
	struct log_options o = file_opts(path, LOG_INFO);
	sigset_t none, saved; /* opened by a thread that blocks nothing, like main() */
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, &saved);
	int rc = log_open(&o);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	DIR *d = opendir("/proc/self/task");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	struct dirent *de;
	int found = 0;
	while ((de = readdir(d))) {
		char file[320], line[256];
		snprintf(file, sizeof file, "/proc/self/task/%s/status", de->d_name);
		FILE *f = de->d_name[0] == '.' ? NULL : fopen(file, "r");
		if (!f)
			continue;
		bool logger = false;
		unsigned long long blocked = 0;
		while (fgets(line, sizeof line, f)) {
			if (strncmp(line, "Name:", 5) == 0)
				logger = strstr(line, "logger") != NULL;
			if (strncmp(line, "SigBlk:", 7) == 0)
				blocked = strtoull(line + 7, NULL, 16);
		}
		fclose(f);
		if (!logger)
			continue;
		found++;
		CU_ASSERT_TRUE(blocked & (1ull << (SIGHUP - 1)));
		CU_ASSERT_TRUE(blocked & (1ull << (SIGTERM - 1)));
		CU_ASSERT_TRUE(blocked & (1ull << (SIGINT - 1)));
		CU_ASSERT_TRUE(blocked & (1ull << (SIGPIPE - 1)));
	}
	closedir(d);
	CU_ASSERT_TRUE(found);
	log_close();
}

/* A live reload moves the log to a new file without losing a record. */
static void test_reopen(void)
{
	const char *a = tmp_path("a.log"), *b = tmp_path("b.log");
	struct log_options o = file_opts(a, LOG_INFO);
	CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
	CU_ASSERT_EQUAL(log_open(&o), LOG_ERR_STATE);
	for (int i = 0; i < 5; i++)
		log_info("before", "%d", i);
	log_debug("before", "filtered out");
	struct log_options o2 = file_opts(b, LOG_DEBUG);
	CU_ASSERT_EQUAL(log_reopen(&o2), 0);
	for (int i = 0; i < 5; i++)
		log_debug("after", "%d", i);
	/* A reload that fails keeps the log where it was. */
	struct log_options bad = file_opts("/nonexistent-dir/x.log", LOG_INFO);
	CU_ASSERT_EQUAL(log_reopen(&bad), LOG_ERR_FILE);
	log_debug("after", "still here");
	log_close();
	struct lines la, lb;
	read_lines(a, &la);
	read_lines(b, &lb);
	CU_ASSERT_EQUAL(la.n, 5);
	CU_ASSERT_EQUAL(lb.n, 6);
	for (int i = 0; i < la.n; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(la.l[i], "\"event\":\"before\""));
	for (int i = 0; i < lb.n; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(lb.l[i], "\"event\":\"after\""));
	lines_free(&la);
	lines_free(&lb);
	log_set_level(LOG_INFO);
}

/* Lines in a file (-1 when it cannot be read). */
static long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long n = 0;
	int c;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* A stop, a hold and a reload that come while the logger is busy writing
 * a burst are answered at once, not after its idle wake-up (a minute): the
 * logger once emptied its semaphore after reading "not stopping", took the
 * stop's post with the records' and slept; the program then took that long
 * to exit.  Many cycles, each racing the request against a burst being
 * written, and every record still arrives.  The bound is generous: a lost
 * post costs the whole idle wake-up. */
static void test_requests_while_busy(void)
{
	const char *path = tmp_path("busy.log");
	unlink(path);
	const int cycles = 200, burst = 100;
	const int64_t bound = 5 * INT64_C(1000000000);
	int64_t worst = 0;
	int slow = 0, done = 0;
	for (int c = 0; c < cycles && !slow; c++, done++) {
		struct log_options o = file_opts(path, LOG_INFO);
		CU_ASSERT_EQUAL_FATAL(log_open(&o), 0);
		for (int i = 0; i < burst; i++)
			log_info("busy", "cycle %d record %d", c, i);
		int64_t t0 = rtclock_mono_ns();
		log_hold(true); /* returns once the logger holds */
		int64_t t1 = rtclock_mono_ns();
		log_hold(false);
		for (int i = 0; i < burst; i++)
			log_info("busy", "cycle %d record %d", c, burst + i);
		int64_t t2 = rtclock_mono_ns();
		CU_ASSERT_EQUAL(log_reopen(&o), 0); /* returns once the logger took it */
		int64_t t3 = rtclock_mono_ns();
		for (int i = 0; i < burst; i++)
			log_info("busy", "cycle %d record %d", c, 2 * burst + i);
		int64_t t4 = rtclock_mono_ns();
		log_close(); /* returns once the logger ended */
		int64_t t5 = rtclock_mono_ns();
		int64_t d[3] = {t1 - t0, t3 - t2, t5 - t4};
		for (int k = 0; k < 3; k++) {
			if (d[k] > worst)
				worst = d[k];
			slow += d[k] > bound;
		}
	}
	if (slow)
		fprintf(stderr, "\nlog: a request took %.1f s in cycle %d\n", (double)worst / 1e9,
		        done);
	CU_ASSERT_EQUAL(slow, 0);
	CU_ASSERT_EQUAL(log_dropped(), 0);
	CU_ASSERT_EQUAL(count_lines(path), (long)done * 3 * burst);
}

static void test_bad_options(void)
{
	struct log_options o = file_opts("/nonexistent-dir/x.log", LOG_INFO);
	CU_ASSERT_EQUAL(log_open(&o), LOG_ERR_FILE);
	o = file_opts(tmp_path("ok.log"), LOG_INFO);
	o.keep = -1;
	CU_ASSERT_EQUAL(log_open(&o), LOG_ERR_OPTIONS);
	o.keep = 1;
	o.max_size = -5;
	CU_ASSERT_EQUAL(log_open(&o), LOG_ERR_OPTIONS);
	o.max_size = 0;
	o.level = (enum log_level)12;
	CU_ASSERT_EQUAL(log_open(&o), LOG_ERR_OPTIONS);
	o.level = LOG_INFO;
	o.file = "";
	CU_ASSERT_EQUAL(log_open(&o), LOG_ERR_OPTIONS);
	CU_ASSERT_EQUAL(log_open(NULL), LOG_ERR_OPTIONS);
	log_close(); /* not open: harmless */
}

static void write_one(void *arg)
{
	(void)arg;
	log_info("startup", "hello\nworld");
}

/* Before log_open() a record goes straight to stderr as a human line. */
static void test_stderr_before_open(void)
{
	struct lines ls = {0};
	capture_stderr(write_one, NULL, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, 1);
	int hh, mm, ss, ms;
	char rest[100] = "";
	CU_ASSERT_EQUAL(sscanf(ls.l[0], "%2d:%2d:%2d.%3d %99[^\n]", &hh, &mm, &ss, &ms, rest), 5);
	CU_ASSERT_STRING_EQUAL(rest, "INFO  startup: hello\\nworld");
	lines_free(&ls);
}

static void run_logger(void *arg)
{
	struct log_options *o = arg;
	CU_ASSERT_EQUAL_FATAL(log_open(o), 0);
	log_warn("synth_down", "scsynth \"gone\"");
	log_debug("hidden", "not shown");
	log_close();
}

/* The logger thread writes human lines, or JSON lines, to stderr. */
static void test_stderr_formats(void)
{
	struct log_options o = {.level = LOG_INFO, .to_stderr = true};
	struct lines ls;
	capture_stderr(run_logger, &o, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(ls.l[0], " WARN  synth_down: scsynth \"gone\"\n"));
	CU_ASSERT_EQUAL(ls.l[0][2], ':');
	lines_free(&ls);
	o.json = true;
	capture_stderr(run_logger, &o, &ls);
	CU_ASSERT_EQUAL_FATAL(ls.n, 1);
	json_t *j = parse_record(ls.l[0]);
	CU_ASSERT_STRING_EQUAL(jstr(j, "msg"), "scsynth \"gone\"");
	json_decref(j);
	lines_free(&ls);
	o.to_stderr = false;
	capture_stderr(run_logger, &o, &ls);
	CU_ASSERT_EQUAL(ls.n, 0);
	lines_free(&ls);
}

/* The formatters never overrun a short buffer. */
static void test_format_small_buffer(void)
{
	struct log_record r = {.ts_ns = 0, .level = LOG_INFO};
	strcpy(r.event, "ev");
	memset(r.msg, '"', LOG_MSG_MAX - 1);
	r.msg[LOG_MSG_MAX - 1] = '\0';
	char buf[LOG_LINE_MAX + 8];
	memset(buf, 'Z', sizeof buf);
	size_t n = log_format_json(&r, buf, 50);
	CU_ASSERT(n < 50);
	CU_ASSERT_EQUAL(buf[n], '\0');
	CU_ASSERT_EQUAL(buf[50], 'Z');
	n = log_format_json(&r, buf, LOG_LINE_MAX);
	CU_ASSERT_EQUAL(buf[n - 1], '\n');
	CU_ASSERT_STRING_EQUAL(buf + n - 5, "\\\"\"}\n");
	n = log_format_human(&r, buf, 20);
	CU_ASSERT(n < 20);
	CU_ASSERT_STRING_EQUAL(buf, "00:00:00.000 INFO  ");
}

TEST_SUITE(log, NULL, NULL, TEST_CASE(test_levels), TEST_CASE(test_json_escaping),
           TEST_CASE(test_full_disk), TEST_CASE(test_truncation), TEST_CASE(test_level_filter),
           TEST_CASE(test_rotation_keeps_everything), TEST_CASE(test_rotation_drops_oldest),
           TEST_CASE(test_append_existing), TEST_CASE(test_drops_counted),
           TEST_CASE(test_close_drains), TEST_CASE(test_reopen),
           TEST_CASE(test_requests_while_busy), TEST_CASE(test_logger_blocks_signals),
           TEST_CASE(test_bad_options), TEST_CASE(test_stderr_before_open),
           TEST_CASE(test_stderr_formats), TEST_CASE(test_format_small_buffer))

static void test_mono_advances(void)
{
	int64_t a = rtclock_mono_ns();
	int64_t b = rtclock_mono_ns();
	CU_ASSERT(a > 0 && b >= a);
	int64_t real = rtclock_real_ns();
	CU_ASSERT(llabs(real / 1000000000 - (int64_t)time(NULL)) <= 1);
}

/* Sleeping to a deadline never returns before it; a past deadline returns. */
static void test_sleep_until(void)
{
	int64_t deadline = rtclock_mono_ns() + 2000000;
	rtclock_sleep_until(deadline);
	CU_ASSERT(rtclock_mono_ns() >= deadline);
	int64_t past = rtclock_mono_ns() - 1000000;
	rtclock_sleep_until(past);
	rtclock_sleep_until(-1);
	CU_ASSERT(rtclock_mono_ns() > past);
}

TEST_SUITE(rtclock, NULL, NULL, TEST_CASE(test_mono_advances), TEST_CASE(test_sleep_until))
