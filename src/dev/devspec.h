/*
 * devspec: the one grammar of the addresses the program's devices and
 * servers take, in the configuration and on the command line alike:
 *
 *   none | auto | portmidi:NAME | raw:PATH[@BAUD] | serial:PATH[@BAUD]
 *   | udp:HOST:PORT
 *
 * and HOST:PORT alone (synth.server, --synth supercollider:HOST:PORT,
 * --http ADDR:PORT).  HOST is a name (letters, digits, '.', '-'), an IPv4
 * address or a bracketed IPv6 one ([::1]); PORT 1..65535; BAUD 50..4000000
 * (the last '@' starts it, so a path may hold one).  Which kinds a device
 * accepts is the device's business (MIDI in: none, auto, portmidi, raw; LED
 * cues: none, serial, udp).  Pure parsing; any thread.
 */
#ifndef ME_DEV_DEVSPEC_H
#define ME_DEV_DEVSPEC_H

#include <stddef.h>

enum devspec_kind {
	DEVSPEC_NONE,
	DEVSPEC_AUTO,
	DEVSPEC_PORTMIDI, /* path: the port's name */
	DEVSPEC_RAW,      /* path, baud: a raw MIDI device */
	DEVSPEC_SERIAL,   /* path, baud: a serial port */
	DEVSPEC_UDP,      /* host, port */
};

#define DEVSPEC_PATH_MAX 1024
#define DEVSPEC_HOST_MAX 256
#define DEVSPEC_BAUD_MIN 50
#define DEVSPEC_BAUD_MAX 4000000

struct devspec {
	enum devspec_kind kind;
	char path[DEVSPEC_PATH_MAX];
	int baud;                    /* 0: not given (the device's default) */
	char host[DEVSPEC_HOST_MAX]; /* without brackets */
	int port;
};

/* Parses spec; 0, or -1 when it is not one of the forms above. */
int devspec_parse(const char *spec, struct devspec *out);
/* Whether spec parses to a kind in the mask (1u << DEVSPEC_...). */
int devspec_check(const char *spec, unsigned kinds);
/* "PATH[@BAUD]" into path (cap bytes) and baud (0 without "@BAUD"); 0 or -1. */
int devspec_path_baud(const char *s, char *path, size_t cap, int *baud);
/* "HOST:PORT" or "[V6]:PORT" into host (cap bytes, no brackets) and port;
 * 0 or -1. */
int devspec_host_port(const char *s, char *host, size_t cap, int *port);

#endif
