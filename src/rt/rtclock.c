/*
 * rtclock: CLOCK_MONOTONIC / CLOCK_REALTIME reads in nanoseconds and an
 * absolute-deadline sleep.
 *
 * Sleeping to absolute deadlines (TIMER_ABSTIME) keeps a periodic loop from
 * drifting: the time spent working between sleeps never accumulates.  Any
 * thread may call these; they never allocate or lock.
 */
#include <errno.h>
#include <time.h>

#include "rt/rtclock.h"

#define NS_PER_S INT64_C(1000000000)

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t rtclock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

int64_t rtclock_real_ns(void)
{
	return read_ns(CLOCK_REALTIME);
}

struct timespec rtclock_timespec(int64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / NS_PER_S), .tv_nsec = (long)(ns % NS_PER_S)};
	return ts;
}

void rtclock_sleep_until(int64_t mono_ns)
{
	if (mono_ns < 0)
		return;
	struct timespec ts = rtclock_timespec(mono_ns);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}
