/*
 * rtclock: the runtime's time helpers (the core never reads a clock; the
 * worker, the logger and the benches do, through these).
 *
 * All times are int64_t nanoseconds.  Any thread may call them; none of them
 * allocates or takes a lock.
 */
#ifndef ME_RT_RTCLOCK_H
#define ME_RT_RTCLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now: for deadlines and latencies. */
int64_t rtclock_mono_ns(void);
/* CLOCK_REALTIME now (since the Unix epoch): for timestamps people read. */
int64_t rtclock_real_ns(void);
/* Sleep until CLOCK_MONOTONIC reaches mono_ns; returns at once if it has.
 * Retried when a signal interrupts it. */
void rtclock_sleep_until(int64_t mono_ns);
/* ns (>= 0) as a timespec, without narrowing: time_t is 64-bit everywhere
 * the project builds (configure.ac), tv_nsec < 10^9 fits any long. */
struct timespec rtclock_timespec(int64_t ns);

#endif
