/*
 * log: levelled records through a lock-free ring to a logger thread.
 *
 * Callers (any thread, the real-time worker included) format into a
 * fixed-size struct log_record on their own stack and push it onto a
 * multi-producer ring (ring_mpmc); a full ring drops the record and counts
 * it.  After the push they post a semaphore (an atomic increment unless the
 * logger sleeps on it), so the caller never waits, locks or allocates.
 *
 * The logger thread drains the ring, formats each record and writes it to
 * stderr (human or JSON lines) and to the file (JSON lines, each line one
 * write, whole or not at all: linefile; lines a full disk refused are
 * counted and the count written once the file takes lines again), reports
 * new drops in one line, and rotates the file by size
 * between lines (file -> file.1 -> ... -> file.keep), so no line is ever
 * split across files.  log_reopen() hands a new, already opened destination
 * to the logger, which first writes out everything queued to the old one.
 *
 * The logger sleeps on that semaphore.  The control calls (stop, hold,
 * reopen) post it too, each after setting its request.  Before
 * sleeping the logger empties the semaphore and then looks at every request
 * and at the ring once more, so an idle logger wakes only when asked (and
 * once a minute as a net), never because a post was taken by its own
 * emptying.
 *
 * Shutdown without losing records: a caller marks itself in flight (an
 * atomic counter) before checking that the log is open; log_close() first
 * marks the log closed, then waits for the in-flight count to reach zero, so
 * every record pushed is pushed before the logger's last drain.
 *
 * Before log_open() and after log_close() records are written synchronously
 * to stderr.  Threads: see log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rt/linefile.h"
#include "rt/log.h"
#include "rt/ring.h"
#include "rt/rtclock.h"

/* Every producer posts the semaphore after what it announces is set, and
 * the logger looks at all of it again once the semaphore is empty (see
 * logger_main), so no post is lost; the timed wake is only a last net. */
#define IDLE_WAKE_NS (60 * INT64_C(1000000000))
#define HOLD_POLL_NS (10 * INT64_C(1000000))

/* Where the logger writes; owned by the logger thread once started. */
struct sink {
	bool json;
	bool to_stderr;
	char *file; /* NULL: no file */
	long max_size;
	int keep;
	int fd;            /* the file, -1 none */
	long size;         /* bytes in the current file */
	bool write_failed; /* reported once, until it succeeds again */
	uint64_t lost;     /* lines not written since it failed */
	int lost_errno;    /* why */
};

static _Atomic int log_level_now = LOG_INFO;
static _Atomic bool log_accepting;     /* records go to the ring */
static _Atomic unsigned log_in_flight; /* log_write() calls past the level test */
static _Atomic uint64_t log_drops;
static _Atomic bool log_stopping;
static _Atomic bool log_holding;
static _Atomic bool log_held;

static struct ring_mpmc *log_ring;
static sem_t log_wake;
static pthread_t log_thread;
static bool log_running;                  /* under log_api_lock */
static struct sink log_sink = {.fd = -1}; /* the logger thread's */
static uint64_t log_drops_reported;       /* the logger thread's */

/* Serialises log_open/log_reopen/log_close among control threads. */
static pthread_mutex_t log_api_lock = PTHREAD_MUTEX_INITIALIZER;
/* A reopen request handed to the logger thread. */
static pthread_mutex_t log_ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_ctl_done = PTHREAD_COND_INITIALIZER;
static struct sink log_pending = {.fd = -1};
static bool log_pending_set;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *log_level_name(enum log_level l)
{
	return (unsigned)l <= LOG_DEBUG ? level_names[l] : "?";
}

int log_level_parse(const char *s)
{
	if (!s)
		return -1;
	for (int i = LOG_ERROR; i <= LOG_DEBUG; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return LOG_WARN;
	return -1;
}

const char *log_strerror(int err)
{
	switch (err) {
	case LOG_OK:
		return "success";
	case LOG_ERR_OPTIONS:
		return "invalid log options";
	case LOG_ERR_FILE:
		return "cannot open the log file";
	case LOG_ERR_NOMEM:
		return "out of memory";
	case LOG_ERR_THREAD:
		return "cannot start the logger thread";
	case LOG_ERR_STATE:
		return "the log is already open";
	}
	return "unknown log error";
}

void log_set_level(enum log_level l)
{
	if (l < LOG_ERROR)
		l = LOG_ERROR;
	if (l > LOG_DEBUG)
		l = LOG_DEBUG;
	atomic_store_explicit(&log_level_now, (int)l, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_level_now, memory_order_relaxed);
}

uint64_t log_dropped(void)
{
	return atomic_load_explicit(&log_drops, memory_order_relaxed);
}

/* The synchronous path: one write of one line (human or JSON) to stderr. */
static void write_stderr_now(const struct log_record *r, bool json)
{
	char line[LOG_LINE_MAX];
	size_t n =
	    json ? log_format_json(r, line, sizeof line) : log_format_human(r, line, sizeof line);
	fwrite(line, 1, n, stderr);
}

/* A record from this module about itself, written synchronously to stderr
 * (as JSON when the log's stderr lines are: a daemon's journal). */
static void say_now(bool json, enum log_level l, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say_now(bool json, enum log_level l, const char *event, const char *fmt, ...)
{
	struct log_record r;
	va_list ap;
	va_start(ap, fmt);
	log_record_set(&r, l, event, fmt, ap);
	va_end(ap);
	write_stderr_now(&r, json);
}

void log_vwrite(enum log_level l, const char *event, const char *fmt, va_list ap)
{
	if ((int)l > atomic_load_explicit(&log_level_now, memory_order_relaxed))
		return;
	struct log_record r;
	log_record_set(&r, l, event, fmt, ap);
	atomic_fetch_add(&log_in_flight, 1);
	if (atomic_load(&log_accepting)) {
		if (ring_mpmc_push(log_ring, &r))
			sem_post(&log_wake);
		else
			atomic_fetch_add_explicit(&log_drops, 1, memory_order_relaxed);
	} else {
		write_stderr_now(&r, false);
	}
	atomic_fetch_sub(&log_in_flight, 1);
}

void log_write(enum log_level l, const char *event, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(l, event, fmt, ap);
	va_end(ap);
}

/* ---- the logger thread's side ---- */

static int open_file(struct sink *s)
{
	int fd = open(s->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	s->fd = fd;
	s->size = (long)st.st_size;
	return 0;
}

static void close_sink(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->lost)
		say_now(s->json, LOG_WARN, "log_lost", "%llu log lines were not written to %s (%s)",
		        (unsigned long long)s->lost, s->file, strerror(s->lost_errno));
	s->lost = 0;
	free(s->file);
	s->file = NULL;
}

/* "file.i" (i > 0) or "file" into buf. */
static void rotated_name(const struct sink *s, int i, char *buf, size_t size)
{
	if (i == 0)
		snprintf(buf, size, "%s", s->file);
	else
		snprintf(buf, size, "%s.%d", s->file, i);
}

/* file.(keep-1) -> file.keep, ..., file -> file.1, then a fresh file. */
static void rotate(struct sink *s)
{
	char from[PATH_MAX], to[PATH_MAX];
	close(s->fd);
	s->fd = -1;
	if (s->keep == 0) {
		if (unlink(s->file) < 0 && errno != ENOENT)
			say_now(s->json, LOG_ERROR, "log_rotate_failed", "cannot remove %s: %s",
			        s->file, strerror(errno));
	}
	for (int i = s->keep; i > 0; i--) {
		rotated_name(s, i - 1, from, sizeof from);
		rotated_name(s, i, to, sizeof to);
		if (rename(from, to) < 0 && errno != ENOENT)
			say_now(s->json, LOG_ERROR, "log_rotate_failed",
			        "cannot rename %s to %s: %s", from, to, strerror(errno));
	}
	if (open_file(s) < 0)
		say_now(s->json, LOG_ERROR, "log_file_failed",
		        "cannot open %s: %s; file logging stops", s->file, strerror(errno));
}

static void emit(struct sink *s, const struct log_record *r);

/* A warning of the logger's own, into the sink like any record. */
static void emit_own(struct sink *s, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void emit_own(struct sink *s, const char *event, const char *fmt, ...)
{
	struct log_record r;
	va_list ap;
	va_start(ap, fmt);
	log_record_set(&r, LOG_WARN, event, fmt, ap);
	va_end(ap);
	emit(s, &r);
}

/* One line to the file, whole or not at all (linefile): while the file
 * cannot be written (a full disk) its lines are counted, the failure is
 * said once on stderr, and the count goes into the file with the first
 * line that makes it again. */
static void write_file(struct sink *s, const char *line, size_t n)
{
	if (s->max_size > 0 && s->size > 0 && s->size + (long)n > s->max_size)
		rotate(s);
	if (s->fd < 0)
		return;
	size_t lines;
	int e = linefile_write(s->fd, line, n, &lines);
	if (e) {
		s->lost++;
		s->lost_errno = e;
		if (!s->write_failed)
			say_now(s->json, LOG_ERROR, "log_write_failed",
			        "cannot write %s: %s; its lines are lost (and counted) until it "
			        "can be written again",
			        s->file, strerror(e));
		s->write_failed = true;
		return;
	}
	s->size += (long)n;
	if (s->write_failed) {
		s->write_failed = false;
		uint64_t lost = s->lost;
		s->lost = 0;
		emit_own(s, "log_lost",
		         "%llu log lines are missing before this one: writing %s failed (%s)",
		         (unsigned long long)lost, s->file, strerror(s->lost_errno));
	}
}

/* The last warning or error, for the console (logger thread writes,
 * readers copy; the real-time worker never takes this lock). */
static pthread_mutex_t last_problem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_record last_problem;

bool log_last_problem(struct log_record *out)
{
	pthread_mutex_lock(&last_problem_lock);
	bool have = last_problem.ts_ns != 0;
	if (have)
		*out = last_problem;
	pthread_mutex_unlock(&last_problem_lock);
	return have;
}

static void emit(struct sink *s, const struct log_record *r)
{
	if (r->level <= LOG_WARN) {
		/* a warning does not hide an error of the last 30 s */
		pthread_mutex_lock(&last_problem_lock);
		if (r->level == LOG_ERROR || last_problem.level != LOG_ERROR ||
		    r->ts_ns - last_problem.ts_ns > 30 * INT64_C(1000000000))
			last_problem = *r;
		pthread_mutex_unlock(&last_problem_lock);
	}
	char line[LOG_LINE_MAX];
	size_t n = 0;
	bool json_done = false;
	if (s->to_stderr) {
		if (s->json) {
			n = log_format_json(r, line, sizeof line);
			json_done = true;
		} else {
			n = log_format_human(r, line, sizeof line);
		}
		fwrite(line, 1, n, stderr);
	}
	if (s->file) {
		if (!json_done)
			n = log_format_json(r, line, sizeof line);
		write_file(s, line, n);
	}
}

static void report_drops(struct sink *s)
{
	uint64_t d = atomic_load_explicit(&log_drops, memory_order_relaxed);
	if (d == log_drops_reported)
		return;
	uint64_t n = d - log_drops_reported;
	log_drops_reported = d;
	emit_own(s, "log_dropped", "%llu log records dropped: the log ring was full",
	         (unsigned long long)n);
}

static void drain(struct sink *s)
{
	struct log_record r;
	while (ring_mpmc_pop(log_ring, &r))
		emit(s, &r);
	report_drops(s);
}

static void wait_wake(int64_t ns)
{
	struct timespec ts = rtclock_timespec(rtclock_mono_ns() + ns);
	while (sem_clockwait(&log_wake, CLOCK_MONOTONIC, &ts) < 0 && errno == EINTR)
		;
}

/* Take over a pending reopen: old destination drained first. */
static void take_pending(void)
{
	pthread_mutex_lock(&log_ctl_lock);
	if (log_pending_set) {
		drain(&log_sink);
		close_sink(&log_sink);
		log_sink = log_pending;
		log_pending_set = false;
		pthread_cond_broadcast(&log_ctl_done);
	}
	pthread_mutex_unlock(&log_ctl_lock);
}

/* Something a post announces: a stop, a hold, a reopen or records. */
static bool work_announced(void)
{
	if (atomic_load(&log_stopping) || atomic_load(&log_holding))
		return true;
	pthread_mutex_lock(&log_ctl_lock);
	bool pending = log_pending_set;
	pthread_mutex_unlock(&log_ctl_lock);
	return pending || ring_mpmc_depth(log_ring) != 0;
}

static void *logger_main(void *arg)
{
	(void)arg;
	for (;;) {
		bool stop = atomic_load(&log_stopping);
		if (!stop && atomic_load(&log_holding)) {
			atomic_store(&log_held, true);
			take_pending(); /* a reload is not held up */
			wait_wake(HOLD_POLL_NS);
			continue;
		}
		atomic_store(&log_held, false);
		drain(&log_sink);
		take_pending();
		if (stop)
			break;
		while (sem_trywait(&log_wake) == 0)
			;
		/* The posts just taken may have announced more than records: a
		 * stop, a hold or a reopen set before its post.  Everything a
		 * post announces is looked at again after the semaphore is
		 * empty, so a post that came in the meantime is not slept
		 * through; one after this look is still on the semaphore. */
		if (!work_announced())
			wait_wake(IDLE_WAKE_NS);
	}
	drain(&log_sink);
	return NULL;
}

/* ---- control ---- */

static int check_options(const struct log_options *o)
{
	if (!o) {
		say_now(false, LOG_ERROR, "log_options", "no log options given");
		return LOG_ERR_OPTIONS;
	}
	if ((unsigned)o->level > LOG_DEBUG) {
		say_now(o->json, LOG_ERROR, "log_options",
		        "log level %d is not one of error, warn, info, "
		        "debug",
		        (int)o->level);
		return LOG_ERR_OPTIONS;
	}
	if (o->file && (!*o->file || strlen(o->file) > PATH_MAX - 16)) {
		say_now(o->json, LOG_ERROR, "log_options", "log file name is %s",
		        *o->file ? "too long" : "empty");
		return LOG_ERR_OPTIONS;
	}
	if (o->max_size < 0) {
		say_now(o->json, LOG_ERROR, "log_options",
		        "log max_size %ld is negative (0 turns "
		        "rotation off)",
		        o->max_size);
		return LOG_ERR_OPTIONS;
	}
	if (o->keep < 0 || o->keep > LOG_MAX_KEEP) {
		say_now(o->json, LOG_ERROR, "log_options", "log keep %d is outside 0..%d", o->keep,
		        LOG_MAX_KEEP);
		return LOG_ERR_OPTIONS;
	}
	if (o->ring_records > RING_MAX_CAPACITY) {
		say_now(o->json, LOG_ERROR, "log_options", "log ring_records %zu is above %zu",
		        o->ring_records, (size_t)RING_MAX_CAPACITY);
		return LOG_ERR_OPTIONS;
	}
	return LOG_OK;
}

/* A sink for the options, its file opened. */
static int make_sink(const struct log_options *o, struct sink *s)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->json = o->json;
	s->to_stderr = o->to_stderr;
	s->max_size = o->max_size;
	s->keep = o->keep;
	if (!o->file)
		return LOG_OK;
	s->file = strdup(o->file);
	if (!s->file)
		return LOG_ERR_NOMEM;
	if (open_file(s) < 0) {
		say_now(s->json, LOG_ERROR, "log_file_failed", "cannot open log file %s: %s",
		        o->file, strerror(errno));
		free(s->file);
		s->file = NULL;
		return LOG_ERR_FILE;
	}
	return LOG_OK;
}

static int open_locked(const struct log_options *o)
{
	int err = check_options(o);
	if (err)
		return err;
	struct sink s;
	if ((err = make_sink(o, &s)))
		return err;
	log_ring = ring_mpmc_new(o->ring_records ? o->ring_records : LOG_RING_DEFAULT,
	                         sizeof(struct log_record));
	if (!log_ring || sem_init(&log_wake, 0, 0) < 0) {
		close_sink(&s);
		ring_mpmc_free(log_ring);
		log_ring = NULL;
		return LOG_ERR_NOMEM;
	}
	log_sink = s;
	log_drops_reported = 0;
	atomic_store(&log_drops, 0);
	atomic_store(&log_stopping, false);
	atomic_store(&log_holding, false);
	atomic_store(&log_held, false);
	log_set_level(o->level);
	/* The logger starts before the program blocks its signals: it blocks
	 * them all itself, so a SIGHUP meant for the main loop's sigtimedwait()
	 * can never land on it and kill the process. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int trc = pthread_create(&log_thread, NULL, logger_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (trc == 0)
		pthread_setname_np(log_thread, "logger");
	if (trc != 0) {
		say_now(o->json, LOG_ERROR, "log_thread_failed", "cannot start the logger thread");
		close_sink(&log_sink);
		sem_destroy(&log_wake);
		ring_mpmc_free(log_ring);
		log_ring = NULL;
		return LOG_ERR_THREAD;
	}
	log_running = true;
	atomic_store(&log_accepting, true);
	return LOG_OK;
}

int log_open(const struct log_options *o)
{
	pthread_mutex_lock(&log_api_lock);
	int err = log_running ? LOG_ERR_STATE : open_locked(o);
	pthread_mutex_unlock(&log_api_lock);
	return err;
}

int log_reopen(const struct log_options *o)
{
	pthread_mutex_lock(&log_api_lock);
	int err;
	if (!log_running) {
		err = open_locked(o);
		pthread_mutex_unlock(&log_api_lock);
		return err;
	}
	struct sink s;
	if ((err = check_options(o)) || (err = make_sink(o, &s))) {
		pthread_mutex_unlock(&log_api_lock);
		return err;
	}
	log_set_level(o->level);
	pthread_mutex_lock(&log_ctl_lock);
	log_pending = s;
	log_pending_set = true;
	sem_post(&log_wake);
	while (log_pending_set)
		pthread_cond_wait(&log_ctl_done, &log_ctl_lock);
	pthread_mutex_unlock(&log_ctl_lock);
	pthread_mutex_unlock(&log_api_lock);
	return LOG_OK;
}

void log_hold(bool hold)
{
	pthread_mutex_lock(&log_api_lock);
	if (log_running) {
		atomic_store(&log_holding, hold);
		sem_post(&log_wake);
		while (hold && !atomic_load(&log_held))
			sched_yield();
	}
	pthread_mutex_unlock(&log_api_lock);
}

void log_close(void)
{
	pthread_mutex_lock(&log_api_lock);
	if (log_running) {
		atomic_store(&log_accepting, false);
		while (atomic_load(&log_in_flight) != 0)
			sched_yield();
		atomic_store(&log_holding, false);
		atomic_store(&log_stopping, true);
		sem_post(&log_wake);
		pthread_join(log_thread, NULL);
		close_sink(&log_sink);
		sem_destroy(&log_wake);
		ring_mpmc_free(log_ring);
		log_ring = NULL;
		log_running = false;
	}
	pthread_mutex_unlock(&log_api_lock);
}
