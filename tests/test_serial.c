/*
 * Tests of serial: raw mode at MIDI's 31250 baud on a pty (the
 * stand-in for the Teensy), FIFOs, and clear errors for missing devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/serial.h"
#include "testlib.h"

static int open_master(char *slave, size_t cap)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave, cap) != 0)
		return -1;
	return m;
}

/* Reads exactly n bytes within about a second. */
static ssize_t read_n(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	for (int tries = 0; got < n && tries < 100; tries++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10) <= 0)
			continue;
		ssize_t r = read(fd, buf + got, n - got);
		if (r > 0)
			got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Every byte value crosses the pty unchanged both ways, at 31250 baud. */
static void test_pty_raw_31250(void)
{
	if (testlib_emulator_lacks(TESTLIB_LACK_TCGETS2, __func__))
		return;
	char slave[128];
	int m = open_master(slave, sizeof slave);
	CU_ASSERT_FATAL(m >= 0);
	enum serial_err e;
	int in = serial_open(slave, 31250, SERIAL_READ, &e);
	CU_ASSERT_EQUAL_FATAL(e, SERIAL_OK);
	CU_ASSERT_FATAL(in >= 0);
	CU_ASSERT_EQUAL(serial_get_baud(in), 31250);
	CU_ASSERT_TRUE(fcntl(in, F_GETFL) & O_NONBLOCK);

	uint8_t all[256], got[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	CU_ASSERT_EQUAL_FATAL(write(m, all, 256), 256);
	CU_ASSERT_EQUAL(read_n(in, got, 256), 256);
	CU_ASSERT_EQUAL(memcmp(all, got, 256), 0);
	/* nothing was echoed back to the Teensy side */
	uint8_t extra;
	CU_ASSERT_EQUAL(read_n(m, &extra, 1), 0);
	close(in);

	int out = serial_open(slave, 115200, SERIAL_WRITE, &e);
	CU_ASSERT_FATAL(out >= 0);
	CU_ASSERT_EQUAL(serial_get_baud(out), 115200);
	CU_ASSERT_EQUAL(write(out, all, 256), 256);
	CU_ASSERT_EQUAL(read_n(m, got, 256), 256);
	CU_ASSERT_EQUAL(memcmp(all, got, 256), 0); /* no CR/LF rewriting */
	close(out);
	close(m);
}

static void test_missing_device(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/no-such-tty", testlib_tmpdir());
	enum serial_err e;
	errno = 0;
	CU_ASSERT_EQUAL(serial_open(path, 31250, SERIAL_READ, &e), -1);
	CU_ASSERT_EQUAL(e, SERIAL_ERR_OPEN);
	CU_ASSERT_EQUAL(errno, ENOENT);
}

/* A FIFO read end never reports end-of-file between writers. */
static void test_fifo_no_eof(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/serial-fifo", testlib_tmpdir());
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	enum serial_err e;
	int fd = serial_open(path, 31250, SERIAL_READ, &e);
	CU_ASSERT_FATAL(fd >= 0);
	uint8_t b[4];
	CU_ASSERT_EQUAL(read(fd, b, sizeof b), -1);
	CU_ASSERT_EQUAL(errno, EAGAIN);
	int w = open(path, O_WRONLY);
	CU_ASSERT_FATAL(w >= 0);
	CU_ASSERT_EQUAL(write(w, "\x90\x3c\x40", 3), 3);
	close(w);
	CU_ASSERT_EQUAL(read_n(fd, b, 3), 3);
	CU_ASSERT_EQUAL(b[0], 0x90);
	CU_ASSERT_EQUAL(read(fd, b, sizeof b), -1); /* writer gone: still no EOF */
	CU_ASSERT_EQUAL(errno, EAGAIN);
	close(fd);
	unlink(path);
}

TEST_SUITE(serial, NULL, NULL, TEST_CASE(test_pty_raw_31250), TEST_CASE(test_missing_device),
           TEST_CASE(test_fifo_no_eof))
