/*
 * log: levelled, structured logging that the real-time worker may call.
 *
 * log_write() formats one fixed-size record (wall-clock time of the call,
 * level, event name, message) and pushes it onto a lock-free ring; a logger
 * thread started by log_open() writes the records out: human lines or JSON
 * lines on stderr, always JSON lines to the log file, which it rotates by
 * size.  log_write() never blocks and never allocates; when the ring is full
 * the record is dropped and counted, and the logger later writes one line
 * saying how many were lost.  Before log_open() and after log_close() records
 * are written synchronously to stderr as human lines.
 *
 * Threads: log_write(), log_set_level(), log_dropped() from any thread,
 * including the worker.  log_open(), log_reopen(), log_close(), log_hold()
 * from one control thread at a time (main, the config reloader).
 * See doc/logging.md.
 */
#ifndef ME_RT_LOG_H
#define ME_RT_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

struct log_options {
	enum log_level level;
	const char *file;    /* JSON lines here; NULL: no file */
	long max_size;       /* rotate before the file would exceed this; 0: never */
	int keep;            /* rotated files kept: file.1 .. file.keep (0..LOG_MAX_KEEP) */
	bool json;           /* stderr gets JSON lines instead of human lines */
	bool to_stderr;      /* write records to stderr at all */
	size_t ring_records; /* records the ring holds; 0: LOG_RING_DEFAULT */
};

/* Return values of log_open()/log_reopen(): 0 or a negative log_err. */
enum log_err {
	LOG_OK = 0,
	LOG_ERR_OPTIONS = -1, /* an option is out of range */
	LOG_ERR_FILE = -2,    /* the log file cannot be opened */
	LOG_ERR_NOMEM = -3,
	LOG_ERR_THREAD = -4, /* the logger thread cannot be started */
	LOG_ERR_STATE = -5,  /* log_open() while already open */
};

#define LOG_EVENT_MAX 40  /* event name, with its NUL */
#define LOG_MSG_MAX 408   /* message, with its NUL */
#define LOG_LINE_MAX 4096 /* enough for any formatted record */
#define LOG_RING_DEFAULT 1024
#define LOG_MAX_KEEP 100

/* One record as it travels through the ring. */
struct log_record {
	int64_t ts_ns;      /* CLOCK_REALTIME at the log_write() call */
	int32_t level;      /* enum log_level */
	uint32_t truncated; /* 1 when the message was cut to fit */
	char event[LOG_EVENT_MAX];
	char msg[LOG_MSG_MAX];
};

/* Start the logger thread with these options; 0 or a negative log_err.  A
 * failure is also written to stderr with what and where. */
int log_open(const struct log_options *o);
/* Stop accepting records, write out every record already accepted, flush,
 * close the file and join the logger thread.  Safe when not open. */
void log_close(void);
/* Live reload: new level, file, size limits and stderr format.  Every record
 * accepted before the call goes to the old destination, every record after
 * it to the new one; on failure the old settings stay.  Opens the log when
 * it is not open.  The ring size stays as it was. */
int log_reopen(const struct log_options *o);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);
/* "error", "warn" (or "warning"), "info", "debug", any case -> level; -1 if
 * s is NULL or none of these. */
int log_level_parse(const char *s);
/* The nearest level to l (a configured level moved by -v/-q). */
enum log_level log_level_clamp(int l);
/* "error", "warn", "info", "debug"; "?" for a value outside the enum. */
const char *log_level_name(enum log_level l);
const char *log_strerror(int err);

void log_write(enum log_level l, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level l, const char *event, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define log_error(ev, ...) log_write(LOG_ERROR, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_write(LOG_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...) log_write(LOG_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...) log_write(LOG_DEBUG, ev, __VA_ARGS__)

/* The last warning or error written (any thread but the real-time
 * worker); false when there has been none. */
bool log_last_problem(struct log_record *out);

/* Records dropped because the ring was full, since log_open(). */
uint64_t log_dropped(void);

/* Hold (true) or release (false) the logger thread: while held it writes
 * nothing and the ring fills.  For tests of the drop path; returns once the
 * logger has stopped.  No effect when not open. */
void log_hold(bool hold);

/* Fill a record as log_write() would (time now); no I/O. */
void log_record_set(struct log_record *r, enum log_level l, const char *event, const char *fmt,
                    va_list ap) __attribute__((format(printf, 4, 0)));
/* One JSON line (with its '\n') for a record into buf; returns its length.
 * With size >= LOG_LINE_MAX it always fits; a smaller buffer gets a cut,
 * still NUL-terminated prefix. */
size_t log_format_json(const struct log_record *r, char *buf, size_t size);
/* One human line "HH:MM:SS.mmm LEVEL event: message\n" (local time), control
 * characters escaped; as log_format_json() otherwise. */
size_t log_format_human(const struct log_record *r, char *buf, size_t size);

#endif
