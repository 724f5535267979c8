/*
 * supervise: keeps one child process (jackd, scsynth) running.
 *
 * supervise_start() spawns the child and a supervisor thread that reads
 * its stdout and stderr line by line (each line goes to a callback, lines
 * starting with a chosen prefix are counted), notices its death with
 * waitpid() and starts it again after a back-off that doubles from
 * backoff_min to backoff_max while it keeps failing.  After error_after
 * consecutive failures the state is SUPERVISE_ERROR and it retries every
 * error_retry.  A program not on PATH is either an error of
 * supervise_start() or, with missing_retry_ns, looked for again until it
 * appears (stats.missing meanwhile).  supervise_stop() sends SIGTERM, then
 * SIGKILL, and removes the child's leftover file (cleanup_path).  Any thread may call the
 * functions here; the callbacks run on the supervisor thread.
 */
#ifndef ME_SYNTH_SUPERVISE_H
#define ME_SYNTH_SUPERVISE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SUPERVISE_MAX_ARGS 32
#define SUPERVISE_MAX_ENV 8
#define SUPERVISE_LINE_MAX 512

enum supervise_state {
	SUPERVISE_STARTING, /* spawned, not yet stable */
	SUPERVISE_RUNNING,  /* has run at least stable_ns */
	SUPERVISE_BACKOFF,  /* died; waiting to start it again */
	SUPERVISE_ERROR,    /* failed error_after times in a row; slow retries */
	SUPERVISE_STOPPED
};

enum supervise_err {
	SUPERVISE_OK = 0,
	SUPERVISE_E_ARGS,     /* no program, or too many arguments or variables */
	SUPERVISE_E_NOTFOUND, /* the program is not on PATH */
	SUPERVISE_E_NOMEM,
	SUPERVISE_E_THREAD, /* the supervisor thread could not start */
	SUPERVISE_E_SPAWN   /* fork or exec failed (see errno) */
};

enum supervise_stream { SUPERVISE_STDOUT, SUPERVISE_STDERR };

struct supervise;

struct supervise_spec {
	const char *name;         /* for logs: "scsynth" */
	const char *const *argv;  /* NULL-terminated; argv[0] looked up on PATH */
	const char *const *env;   /* "NAME=value" added to the environment */
	const char *count_prefix; /* lines starting with it are counted, or NULL */
	const char *cleanup_path; /* removed after each death and at stop, or NULL */
	int64_t backoff_min_ns;   /* after a quick failure; 0: 100 ms (a
	                           * process that ran stable_ns is
	                           * restarted at once) */
	int64_t backoff_max_ns;   /* 0: 5 s */
	int64_t stable_ns;        /* a run this long resets the failures; 0: 2 s */
	int error_after;          /* 0: 5 consecutive failures */
	int64_t error_retry_ns;   /* 0: 10 s */
	int64_t stop_grace_ns;    /* SIGTERM to SIGKILL; 0: 2 s */
	/* A program not on PATH: 0 fails supervise_start() (SUPERVISE_E_NOTFOUND);
	 * otherwise the supervisor looks for it again this often (each look a
	 * failed attempt, stats.missing set) and starts it once it appears. */
	int64_t missing_retry_ns;
	/* Called before each start; nonzero skips this attempt as a failure. */
	int (*before_start)(void *ud);
	/* Called after each start with the child's pid and the start number (0 first). */
	void (*on_start)(void *ud, pid_t pid, unsigned start_no);
	/* Called when the child has died, with its waitpid() status. */
	void (*on_exit)(void *ud, pid_t pid, int status);
	/* Called for every line the child prints (without the newline). */
	void (*on_line)(void *ud, enum supervise_stream st, const char *line);
	void *ud;
};

struct supervise_stats {
	enum supervise_state state;
	pid_t pid;             /* 0 when not running */
	unsigned starts;       /* successful spawns */
	unsigned restarts;     /* starts after the first */
	unsigned failures;     /* consecutive failures now */
	uint64_t lines;        /* lines read */
	uint64_t counted;      /* lines starting with count_prefix */
	int last_status;       /* waitpid() status of the last death */
	int64_t next_start_ns; /* CLOCK_MONOTONIC of the next attempt when waiting */
	int missing;           /* the program was not on PATH at the last look */
};

struct supervise *supervise_start(const struct supervise_spec *spec, enum supervise_err *err);
/* Stops the child (SIGTERM, then SIGKILL after the grace) and the thread; frees sv. */
void supervise_stop(struct supervise *sv);
void supervise_get_stats(struct supervise *sv, struct supervise_stats *out);
/* Kills the child so that it starts again at once (not counted as a failure). */
void supervise_restart(struct supervise *sv);
const char *supervise_state_name(enum supervise_state st);
const char *supervise_strerror(enum supervise_err e);

/*
 * Runs argv to completion (at most timeout_ns, then SIGKILL) and copies
 * its stdout into out (cap bytes, NUL-terminated).  Returns the exit status
 * (0..255), or -1 when it could not run or was killed.  For short probes
 * such as `jack_wait -c`; blocks, so not for the real-time thread.
 */
int supervise_run(const char *const *argv, const char *const *env, char *out, size_t cap,
                  int64_t timeout_ns);

#endif
