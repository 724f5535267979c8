/*
 * cue_dump: prints the LED cues in a serial byte stream, one per line, as
 * the Teensy's firmware would see them: the bytes go one at a time through
 * contrib/teensy/me_cue_decoder.h, the decoder the firmware uses.
 *
 *   cue_dump [--offsets] [FILE]     (no FILE or "-": standard input)
 *
 * FILE may be a capture, a FIFO or a tty (read until end of file or EIO).
 * Lines:
 *
 *   note PITCH VELOCITY
 *   param ID NAME VALUE POSITION      (NAME "?" for an id this build lacks)
 *   mode INDEX | palette INDEX | idle 0|1
 *   step STEP ON VELOCITY PROBABILITY%
 *   stats bytes=N ok=N crc=N overlong=N framing=N unknown=N   (last line)
 *
 * --offsets appends " @N" to each cue: the offset of the 0x00 that ended
 * its frame, so a test can tell which frame a damaged byte belonged to.
 * Exit 0 when the stream was read (damaged frames are counted, not an
 * error), 1 when it could not be read, 2 on wrong usage.  Test tool; one
 * thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/param.h"
#include "me_cue_decoder.h"

static void print_cue(const struct me_cue *c)
{
	switch (c->type) {
	case ME_CUE_NOTE:
		printf("note %u %u", c->pitch, c->velocity);
		break;
	case ME_CUE_PARAM:
		printf("param %u %s %.7g %u", c->param,
		       c->param < P_COUNT ? param_table[c->param].name : "?", (double)c->value,
		       c->position);
		break;
	case ME_CUE_MODE:
		printf("mode %u", c->index);
		break;
	case ME_CUE_PALETTE:
		printf("palette %u", c->index);
		break;
	case ME_CUE_STEP:
		printf("step %u %u %u %u", c->step, c->on, c->velocity, c->prob);
		break;
	default:
		printf("idle %u", c->on);
		break;
	}
}

int main(int argc, char **argv)
{
	int offsets = 0;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--offsets") == 0) {
			offsets = 1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "usage: cue_dump [--offsets] [FILE]\n");
			return 2;
		} else if (!path) {
			path = argv[i];
		} else {
			fprintf(stderr, "cue_dump: one FILE at most\n");
			return 2;
		}
	}
	int fd = 0;
	if (path && strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_NOCTTY);
		if (fd < 0) {
			fprintf(stderr, "cue_dump: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}

	struct me_cue_decoder dec;
	me_cue_decoder_init(&dec);
	unsigned long long off = 0;
	unsigned char buf[4096];
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EIO) /* a pty whose other side closed */
			break;
		if (n < 0) {
			fprintf(stderr, "cue_dump: %s: %s\n", path ? path : "stdin",
			        strerror(errno));
			rc = 1;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++, off++) {
			struct me_cue c;
			if (!me_cue_decoder_feed(&dec, buf[i], &c))
				continue;
			print_cue(&c);
			if (offsets)
				printf(" @%llu", off);
			putchar('\n');
		}
	}
	printf("stats bytes=%llu ok=%lu crc=%lu overlong=%lu framing=%lu unknown=%lu\n", off,
	       (unsigned long)dec.frames_ok, (unsigned long)dec.crc_errors,
	       (unsigned long)dec.overlong, (unsigned long)dec.framing_errors,
	       (unsigned long)dec.unknown_type);
	if (fd != 0)
		close(fd);
	return rc;
}
