/*
 * serial: opens a device node for the device threads: a tty (USB serial,
 * UART, pty) in raw 8N1 mode at any baud rate (31250 for MIDI included),
 * an ALSA rawmidi node, or a FIFO; always non-blocking.  Any thread (the
 * device threads call it; never the real-time worker).
 */
#ifndef ME_DEV_SERIAL_H
#define ME_DEV_SERIAL_H

#include <stddef.h>

enum serial_err {
	SERIAL_OK,
	SERIAL_ERR_OPEN,    /* open() failed (errno kept) */
	SERIAL_ERR_TERMIOS, /* the tty refused raw mode (errno kept) */
	SERIAL_ERR_BAUD,    /* the tty refused the baud rate */
	SERIAL_ERR_COUNT
};

const char *serial_strerror(enum serial_err e);

enum serial_dir { SERIAL_READ, SERIAL_WRITE };

/*
 * Opens path non-blocking and close-on-exec.  A tty is put in raw 8N1 mode
 * at baud (termios2 with BOTHER, so any rate).  A FIFO opened for reading
 * is opened read-write so that it never reports end-of-file between
 * writers.  Returns the fd, or -1 with *err set (errno says why).
 */
int serial_open(const char *path, int baud, enum serial_dir dir, enum serial_err *err);

/* Puts an open tty in raw 8N1 mode at baud. Returns SERIAL_OK or the error. */
enum serial_err serial_configure(int fd, int baud);

/* The output baud rate the tty reports, or -1. */
int serial_get_baud(int fd);

#endif
