/*
 * smf_input: a Standard MIDI File read as timed MIDI messages.
 *
 * The offline renderer plays a .mid file in place of the controller: every
 * channel message of every track, merged by time, with the file's tempo map
 * turned into seconds.  Meta events and sysex are skipped.  A damaged or
 * non-MIDI file gives an error code and a sentence saying what is wrong and
 * where; it never crashes.  Not thread-safe while open (it routes libsmf's
 * log messages); the renderer's thread only.
 */
#ifndef ME_RENDER_SMF_INPUT_H
#define ME_RENDER_SMF_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/midi.h"

/* Files larger than this are refused (a controller recording is far smaller). */
#define SMF_INPUT_MAX_BYTES (64u * 1024u * 1024u)

enum smf_input_error {
	SMF_INPUT_OK,
	SMF_INPUT_E_OPEN,        /* cannot open or read the file */
	SMF_INPUT_E_TOO_BIG,     /* larger than SMF_INPUT_MAX_BYTES */
	SMF_INPUT_E_NOT_MIDI,    /* no MThd header: not a MIDI file */
	SMF_INPUT_E_UNSUPPORTED, /* format 2 or SMPTE time division */
	SMF_INPUT_E_DAMAGED,     /* truncated or malformed contents */
	SMF_INPUT_E_NOMEM,
	SMF_INPUT_E_COUNT
};

/* One message of the file at its time from the start of the file. */
struct smf_input_event {
	int64_t t; /* ns */
	struct midi_msg msg;
};

struct smf_input;

/*
 * Opens and checks a file.  On failure returns NULL, sets *err and writes
 * into detail (cap bytes) what is wrong, e.g. "track 2 ends without an End
 * of Track event (truncated file?)"; the caller adds the file name.
 */
struct smf_input *smf_input_open(const char *path, enum smf_input_error *err, char *detail,
                                 size_t cap);
/* The same from bytes in memory (tests, fuzzing); data is not kept. */
struct smf_input *smf_input_open_memory(const void *data, size_t len, enum smf_input_error *err,
                                        char *detail, size_t cap);
/* Time of the next message in ns, or INT64_MAX when none is left. */
int64_t smf_input_peek_time(const struct smf_input *in);
/* Takes the next message; returns 0 when none is left. */
int smf_input_next(struct smf_input *in, struct smf_input_event *out);
/* Number of channel messages in the file. */
size_t smf_input_count(const struct smf_input *in);
void smf_input_close(struct smf_input *in);
const char *smf_input_strerror(enum smf_input_error err);

#endif
