/*
 * midi_in_raw: the raw byte stream input ("raw:PATH[@BAUD]"): an ALSA
 * rawmidi node, a serial tty (raw 8N1 at BAUD, 31250 by default, any rate
 * through termios2), a FIFO or a pty.  The input thread sleeps in poll() on
 * the device and the stop eventfd, so a byte is read, stamped and queued as
 * soon as the kernel has it.  End of file, POLLHUP/POLLERR with nothing left
 * to read, or a read error (EIO when a pty's other side closed, ENODEV when
 * a USB device was unplugged) mean the device is gone: the thread closes it
 * and reopens PATH on its backoff schedule.  Input thread only.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dev/midi_in_port.h"
#include "rt/rtclock.h"
#include "dev/serial.h"

static int raw_open(struct midi_in *mi, char *why, size_t cap)
{
	enum serial_err e;
	int fd = serial_open(mi->target, mi->baud, SERIAL_READ, &e);
	if (fd < 0) {
		snprintf(why, cap, "%s (%s)", serial_strerror(e), strerror(errno));
		return -1;
	}
	mi->fd = fd;
	/* a message cut by the disconnection must not glue onto new bytes */
	midi_parse_init(&mi->parser);
	midi_in_set_port_name(mi, mi->target);
	return 0;
}

static int raw_run(struct midi_in *mi, char *why, size_t cap)
{
	uint8_t buf[512];
	struct pollfd pfd[2] = {
	    {.fd = mi->fd, .events = POLLIN},
	    {.fd = mi->stop_fd, .events = POLLIN},
	};
	for (;;) {
		int r = poll(pfd, 2, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, cap, "poll: %s", strerror(errno));
			return 0;
		}
		if (pfd[1].revents || atomic_load(&mi->stop))
			return 1;
		if (pfd[0].revents & POLLNVAL) {
			snprintf(why, cap, "descriptor closed");
			return 0;
		}
		for (;;) {
			ssize_t n = read(mi->fd, buf, sizeof buf);
			if (n > 0) {
				int64_t t = rtclock_mono_ns();
				atomic_store_explicit(
				    &mi->bytes,
				    atomic_load_explicit(&mi->bytes, memory_order_relaxed) +
				        (uint64_t)n,
				    memory_order_relaxed);
				midi_in_feed(mi, buf, (size_t)n, t);
				if ((size_t)n < sizeof buf)
					break;
				continue;
			}
			if (n == 0) {
				snprintf(why, cap, "end of file");
				return 0;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (pfd[0].revents & (POLLHUP | POLLERR)) {
					snprintf(why, cap, "hung up");
					return 0;
				}
				break;
			}
			snprintf(why, cap, "%s", strerror(errno));
			return 0;
		}
	}
}

static void raw_close(struct midi_in *mi)
{
	if (mi->fd >= 0)
		close(mi->fd);
	mi->fd = -1;
}

const struct midi_in_ops midi_in_raw_ops = {
    .name = "raw",
    .open = raw_open,
    .run = raw_run,
    .close = raw_close,
};
