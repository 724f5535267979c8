/*
 * Tests of the systemd notifications: a service manager listening on
 * $NOTIFY_SOCKET hears READY=1, STOPPING=1 and WATCHDOG=1 (the latter only
 * while the worker's heartbeat moves); the watchdog period is half of
 * WatchdogSec.  Built without libsystemd, nothing is sent and the watchdog
 * is off.
 */
#include <config.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ops/sdnotify.h"
#include "testlib.h"

/* A datagram socket standing in for systemd; -1 on failure. */
static int listen_notify(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s/notify.sock", testlib_tmpdir());
	unlink(a.sun_path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	setenv("NOTIFY_SOCKET", a.sun_path, 1);
	return fd;
}

/* The next message, or "" after 200 ms of silence. */
static void next_message(int fd, char *buf, size_t n)
{
	struct pollfd p = {fd, POLLIN, 0};
	buf[0] = '\0';
	if (poll(&p, 1, 200) == 1) {
		ssize_t r = recv(fd, buf, n - 1, 0);
		buf[r > 0 ? r : 0] = '\0';
	}
}

static void test_watchdog_decision(void)
{
	struct sdnotify_watchdog w = {0};
	CU_ASSERT_FALSE(sdnotify_watchdog_alive(&w, 5)); /* first reading */
	CU_ASSERT_TRUE(sdnotify_watchdog_alive(&w, 9));
	CU_ASSERT_FALSE(sdnotify_watchdog_alive(&w, 9)); /* worker stuck */
	CU_ASSERT_FALSE(sdnotify_watchdog_alive(&w, 9));
	CU_ASSERT_TRUE(sdnotify_watchdog_alive(&w, 10)); /* moving again */
	struct sdnotify_watchdog z = {0};
	CU_ASSERT_FALSE(sdnotify_watchdog_alive(&z, 0));
	CU_ASSERT_FALSE(sdnotify_watchdog_alive(&z, 0));
}

static void test_messages(void)
{
	int fd = listen_notify();
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	char pid[32], msg[512];
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_USEC", "10000000", 1);
	setenv("WATCHDOG_PID", pid, 1);

	sdnotify_ready("playing");
	next_message(fd, msg, sizeof msg);
	if (sdnotify_available()) {
		CU_ASSERT_PTR_NOT_NULL(strstr(msg, "READY=1"));
		CU_ASSERT_PTR_NOT_NULL(strstr(msg, "STATUS=playing"));
		CU_ASSERT_EQUAL(sdnotify_watchdog_period_ns(), 5000000000LL);
	} else {
		CU_ASSERT_STRING_EQUAL(msg, "");
		CU_ASSERT_EQUAL(sdnotify_watchdog_period_ns(), 0);
	}

	struct sdnotify_watchdog w = {0};
	CU_ASSERT_FALSE(sdnotify_watchdog_feed(&w, 1));
	CU_ASSERT_FALSE(sdnotify_watchdog_feed(&w, 1));
	next_message(fd, msg, sizeof msg);
	CU_ASSERT_STRING_EQUAL(msg, ""); /* no heartbeat, no ping */
	CU_ASSERT_EQUAL(sdnotify_watchdog_feed(&w, 2), sdnotify_available());
	next_message(fd, msg, sizeof msg);
	CU_ASSERT_STRING_EQUAL(msg, sdnotify_available() ? "WATCHDOG=1" : "");

	sdnotify_stopping();
	next_message(fd, msg, sizeof msg);
	CU_ASSERT_STRING_EQUAL(msg, sdnotify_available() ? "STOPPING=1" : "");

	/* A watchdog meant for another process is not ours. */
	setenv("WATCHDOG_PID", "1", 1);
	CU_ASSERT_EQUAL(sdnotify_watchdog_period_ns(), 0);

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	CU_ASSERT_EQUAL(sdnotify_watchdog_period_ns(), 0);
	sdnotify_ready(NULL); /* outside systemd: nothing, no error */
	close(fd);
}

TEST_SUITE(sdnotify, NULL, NULL, TEST_CASE(test_watchdog_decision), TEST_CASE(test_messages))
