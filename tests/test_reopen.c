/*
 * Tests of a device port's reopen thread (src/dev/reopen.c), rounds driven
 * one by one with an injected clock and a stand-in device: the backoff
 * between failed opens, the state and counters a reader sees, the fd handed
 * to the worker and back, the fast retry a long-lived link earns and a
 * flapping one does not; then the thread itself, woken and stopped.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dev/reopen.h"
#include "rt/link.h"
#include "rt/rtclock.h"
#include "testlib.h"

#define MS INT64_C(1000000)

static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

/* The stand-in device: fails while `fail`, else opens /dev/null. */
struct dev {
	int fail, opens;
};

static int dev_open(void *ctx, char *why, size_t cap)
{
	struct dev *d = ctx;
	if (d->fail) {
		snprintf(why, cap, "not there");
		return -1;
	}
	d->opens++;
	return open("/dev/null", O_WRONLY | O_CLOEXEC);
}

static void init(struct reopen *r, struct dev *d, int64_t settle_ns)
{
	struct reopen_options o = {
	    .open = dev_open,
	    .ctx = d,
	    .event = "test_dev",
	    .thread = "test",
	    .name = "test device",
	    .backoff_first_ns = 10 * MS,
	    .backoff_max_ns = 80 * MS,
	    .settle_ns = settle_ns,
	    .clock = fake_clock,
	};
	fake_now = 1000 * MS;
	CU_ASSERT_EQUAL_FATAL(reopen_init(r, &o), 0);
}

/* A missing device: attempts at first, doubling delays capped at max; the
 * state says waiting until it opens, then connected, and the worker gets
 * the fd once. */
static void test_backoff_until_open(void)
{
	struct reopen r;
	struct dev d = {.fail = 1};
	init(&r, &d, 0);
	CU_ASSERT_EQUAL(atomic_load(&r.state), LINK_WAITING);
	const int64_t want[] = {10, 20, 40, 80, 80, 80};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		CU_ASSERT_EQUAL(reopen_step(&r), want[i] * MS);
	CU_ASSERT_EQUAL(atomic_load(&r.attempts), 6);
	CU_ASSERT_EQUAL(atomic_load(&r.state), LINK_WAITING);
	CU_ASSERT_EQUAL(reopen_adopt(&r), -1);

	d.fail = 0;
	CU_ASSERT_EQUAL(reopen_step(&r), -1); /* open: sleep until woken */
	CU_ASSERT_EQUAL(atomic_load(&r.state), LINK_CONNECTED);
	CU_ASSERT_EQUAL(atomic_load(&r.reconnects), 0); /* the first open is no reconnect */
	int fd = reopen_adopt(&r);
	CU_ASSERT(fd >= 0);
	CU_ASSERT_EQUAL(reopen_adopt(&r), -1);
	CU_ASSERT_EQUAL(reopen_step(&r), -1); /* a link and nothing handed back */
	CU_ASSERT_EQUAL(d.opens, 1);
	CU_ASSERT_EQUAL(reopen_stop(&r, fd), fd);
	close(fd);
}

/* The worker hands a dead fd back: reconnecting, the thread closes it and
 * reopens; the reopening counts as a reconnect.  With settle 0 every loss
 * retries first fast. */
static void test_lost_and_reopened(void)
{
	struct reopen r;
	struct dev d = {.fail = 1};
	init(&r, &d, 0);
	reopen_step(&r);
	reopen_step(&r); /* the next delay would be 40 ms */
	d.fail = 0;
	reopen_step(&r);
	int fd = reopen_adopt(&r);
	CU_ASSERT_FATAL(fd >= 0);

	CU_ASSERT_EQUAL(reopen_lost(&r, fd), 0);
	CU_ASSERT_EQUAL(atomic_load(&r.state), LINK_RECONNECTING);
	CU_ASSERT_EQUAL(reopen_step(&r), 10 * MS); /* closed; the first delay again */
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD), -1);   /* the thread closed it */
	CU_ASSERT_EQUAL(reopen_step(&r), -1);
	CU_ASSERT_EQUAL(atomic_load(&r.state), LINK_CONNECTED);
	CU_ASSERT_EQUAL(atomic_load(&r.reconnects), 1);
	CU_ASSERT_EQUAL(d.opens, 2);
	/* a fresh fd nobody adopted is the caller's at stop */
	fd = reopen_stop(&r, -1);
	CU_ASSERT(fd >= 0);
	close(fd);
}

/* settle < 0 (the backoff's max, the LED port's choice): a port lost at
 * once keeps doubling; one that lived at least max retries first fast. */
static void test_flapping_port_no_fast_retry(void)
{
	struct reopen r;
	struct dev d = {0};
	init(&r, &d, -1);
	CU_ASSERT_EQUAL(reopen_step(&r), -1);
	int64_t delays[4];
	for (int i = 0; i < 4; i++) {
		fake_now += 1 * MS; /* dies 1 ms after it opened */
		reopen_lost(&r, reopen_adopt(&r));
		delays[i] = reopen_step(&r);
		fake_now += delays[i];
		CU_ASSERT_EQUAL(reopen_step(&r), -1);
	}
	CU_ASSERT_EQUAL(delays[0], 10 * MS);
	CU_ASSERT_EQUAL(delays[1], 20 * MS);
	CU_ASSERT_EQUAL(delays[2], 40 * MS);
	CU_ASSERT_EQUAL(delays[3], 80 * MS);
	fake_now += 80 * MS; /* this one lived the backoff's max */
	reopen_lost(&r, reopen_adopt(&r));
	CU_ASSERT_EQUAL(reopen_step(&r), 10 * MS);
	CU_ASSERT_EQUAL(atomic_load(&r.reconnects), 4);
	int fd = reopen_stop(&r, -1);
	CU_ASSERT_EQUAL(fd, -1); /* nothing open */
}

/* Only a changed reason is worth a new log line: the reason is kept. */
static void test_reason_kept(void)
{
	struct reopen r;
	struct dev d = {.fail = 1};
	init(&r, &d, 0);
	reopen_step(&r);
	CU_ASSERT_STRING_EQUAL(r.last_why, "not there");
	d.fail = 0;
	reopen_step(&r);
	CU_ASSERT_STRING_EQUAL(r.last_why, "");
	int fd = reopen_stop(&r, -1);
	CU_ASSERT(fd >= 0);
	close(fd);
}

static int64_t wait_connected(struct reopen *r)
{
	int64_t end = rtclock_mono_ns() + 5 * INT64_C(1000000000);
	while (atomic_load(&r->state) != LINK_CONNECTED && rtclock_mono_ns() < end) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return atomic_load(&r->state);
}

/* The real thread: opens on its own, reopens a handed-back fd when woken,
 * and stops promptly though it sleeps until woken. */
static void test_thread(void)
{
	struct reopen r;
	struct dev d = {0};
	struct reopen_options o = {
	    .open = dev_open,
	    .ctx = &d,
	    .event = "test_dev",
	    .name = "test device",
	    .backoff_first_ns = 1 * MS,
	    .backoff_max_ns = 4 * MS,
	};
	CU_ASSERT_EQUAL_FATAL(reopen_init(&r, &o), 0);
	CU_ASSERT_EQUAL_FATAL(reopen_start(&r, NULL, NULL), 0);
	CU_ASSERT_EQUAL(wait_connected(&r), LINK_CONNECTED);
	int fd = reopen_adopt(&r);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(reopen_lost(&r, fd), 0);
	CU_ASSERT_EQUAL(wait_connected(&r), LINK_CONNECTED);
	CU_ASSERT_EQUAL(atomic_load(&r.reconnects), 1);
	int64_t t0 = rtclock_mono_ns();
	fd = reopen_stop(&r, -1);
	CU_ASSERT(rtclock_mono_ns() - t0 < 2 * INT64_C(1000000000));
	CU_ASSERT(fd >= 0);
	close(fd);
}

/* The serial opener the LED port and the MIDI output use: a missing device
 * says why (without its name: the log line names it); a FIFO with a reader
 * opens for writing. */
static void test_serial_open(void)
{
	char path[512], why[256] = "";
	snprintf(path, sizeof path, "%s/reopen_missing", testlib_tmpdir());
	struct reopen_serial sp = {path, 31250};
	CU_ASSERT_EQUAL(reopen_serial_open(&sp, why, sizeof why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "No such file"));
	CU_ASSERT_PTR_NULL(strstr(why, path));

	snprintf(path, sizeof path, "%s/reopen_fifo", testlib_tmpdir());
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	int rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CU_ASSERT_FATAL(rd >= 0);
	int fd = reopen_serial_open(&sp, why, sizeof why);
	CU_ASSERT(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "x", 1), 1);
	char c = 0;
	CU_ASSERT_EQUAL(read(rd, &c, 1), 1);
	CU_ASSERT_EQUAL(c, 'x');
	close(fd);
	close(rd);
	unlink(path);
}

TEST_SUITE(reopen, NULL, NULL, TEST_CASE(test_serial_open), TEST_CASE(test_backoff_until_open),
           TEST_CASE(test_lost_and_reopened), TEST_CASE(test_flapping_port_no_fast_retry),
           TEST_CASE(test_reason_kept), TEST_CASE(test_thread))
