/*
 * serial: raw, non-blocking device nodes for the MIDI input and the LED cue
 * port.  A tty is configured through termios2 (TCGETS2/TCSETS2 with BOTHER)
 * instead of <termios.h>, because the classic API only knows the B<rate>
 * table and MIDI runs at 31250 baud; that is why this file includes the
 * kernel's <asm/termbits.h> and must not include <termios.h>.  Raw mode is
 * the cfmakeraw() set: no echo, no line editing, no CR/LF rewriting, 8 data
 * bits, no parity, one stop bit, receiver on, modem lines ignored.
 * Any thread but the real-time worker (open() and tcsetattr may sleep).
 */
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/serial.h"

const char *serial_strerror(enum serial_err e)
{
	static const char *const msg[SERIAL_ERR_COUNT] = {
	    [SERIAL_OK] = "no error",
	    [SERIAL_ERR_OPEN] = "cannot open the device",
	    [SERIAL_ERR_TERMIOS] = "cannot put the tty in raw mode",
	    [SERIAL_ERR_BAUD] = "the tty refused the baud rate",
	};
	return (unsigned)e < SERIAL_ERR_COUNT ? msg[e] : "unknown serial error";
}

enum serial_err serial_configure(int fd, int baud)
{
	struct termios2 t;
	if (ioctl(fd, TCGETS2, &t) < 0)
		return SERIAL_ERR_TERMIOS;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON |
	                         IXOFF | IXANY);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS | CBAUD | (CBAUD << IBSHIFT));
	t.c_cflag |= CS8 | CREAD | CLOCAL | BOTHER | (BOTHER << IBSHIFT);
	t.c_ispeed = (speed_t)baud;
	t.c_ospeed = (speed_t)baud;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (ioctl(fd, TCSETS2, &t) < 0)
		return errno == EINVAL ? SERIAL_ERR_BAUD : SERIAL_ERR_TERMIOS;
	/* The driver may round the rate; more than 3 % off fails a UART link. */
	int got = serial_get_baud(fd);
	if (got <= 0 || labs((long)got - baud) * 100 > (long)baud * 3) {
		errno = EINVAL;
		return SERIAL_ERR_BAUD;
	}
	return SERIAL_OK;
}

int serial_get_baud(int fd)
{
	struct termios2 t;
	if (ioctl(fd, TCGETS2, &t) < 0)
		return -1;
	return (int)t.c_ospeed;
}

int serial_open(const char *path, int baud, enum serial_dir dir, enum serial_err *err)
{
	enum serial_err dummy;
	if (!err)
		err = &dummy;
	int flags = O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	struct stat st;
	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		flags |= O_RDWR; /* a FIFO never hits EOF while we hold a writer */
	else
		flags |= dir == SERIAL_READ ? O_RDONLY : O_WRONLY;
	int fd = open(path, flags);
	if (fd < 0) {
		*err = SERIAL_ERR_OPEN;
		return -1;
	}
	if (isatty(fd)) {
		enum serial_err e = serial_configure(fd, baud);
		if (e != SERIAL_OK) {
			int saved = errno;
			close(fd);
			errno = saved;
			*err = e;
			return -1;
		}
	}
	*err = SERIAL_OK;
	return fd;
}
