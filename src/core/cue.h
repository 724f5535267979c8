/*
 * cue: the abstract LED cues the Pi sends to the Teensy, which animates them.
 *
 * Engine events become cues (cue_from_event): notes, parameter moves, mode,
 * palette, idle, and every edit of a step (a button, a key, a preset).  A
 * cue goes out either as a
 * compact binary frame for the serial link (cue_encode_frame: 0x00, COBS of
 * type, payload and CRC-8, 0x00) or as one JSON object for UDP
 * (cue_format_json).  doc/led-protocol.md describes both byte by byte;
 * contrib/teensy/me_cue_decoder.h is the receiving side.  Pure functions;
 * any thread.
 */
#ifndef ME_CORE_CUE_H
#define ME_CORE_CUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

/* The values are the frame's type byte: never renumber them. */
enum cue_kind {
	CUE_NONE = 0,
	CUE_NOTE = 1,    /* payload: pitch, velocity */
	CUE_PARAM = 2,   /* payload: id, value float32 BE, position u16 BE */
	CUE_MODE = 3,    /* payload: mode index */
	CUE_PALETTE = 4, /* payload: palette index */
	CUE_IDLE = 5,    /* payload: 1 = idle entered, 0 = left */
	CUE_STEP = 6,    /* payload: step, on, velocity, probability % */
	CUE_KIND_COUNT
};

/* Longest payload (a param cue) and longest frame, COBS and 0x00 included. */
#define CUE_PAYLOAD_MAX 7
#define CUE_FRAME_MAX (1 + 1 + 1 + CUE_PAYLOAD_MAX + 1 + 1)
/* Generous room for one JSON cue with names up to ENGINE_NAME_MAX. */
#define CUE_JSON_MAX 256

struct cue {
	uint8_t kind; /* enum cue_kind */
	int64_t t;    /* ns, engine time of the event it came from */
	union {
		struct {
			uint8_t pitch, velocity;
		} note;
		struct {
			uint8_t id;   /* enum param_id */
			double value; /* in the parameter's units */
		} param;
		struct {
			uint8_t index;
		} mode, palette;
		struct {
			uint8_t on;
		} idle;
		struct {
			uint8_t step; /* 0..63, the pattern's step */
			uint8_t on;
			uint8_t velocity; /* 1..127 */
			uint8_t prob;     /* gate probability, percent 0..100 */
		} step;
	} u;
};

const char *cue_kind_name(enum cue_kind k);

/* Maps an engine event to its cue.  Returns 1 with *out filled, 0 for none. */
int cue_from_event(const struct event *ev, struct cue *out);

/* CRC-8/SMBUS: polynomial 0x07, init 0x00, not reflected, no final xor. */
uint8_t cue_crc8(const uint8_t *p, size_t n);

/* Parameter value as a 16-bit position along its control curve (0..65535). */
uint16_t cue_param_position(const struct cue *c);

/*
 * Writes the cue's serial frame (starting and ending with 0x00) to buf.
 * Returns its length, or 0 when the cue is not valid or cap is too small
 * (CUE_FRAME_MAX is always enough).
 */
size_t cue_encode_frame(const struct cue *c, uint8_t *buf, size_t cap);

/*
 * Writes the cue as one JSON object (NUL-terminated, no newline).  mode_names
 * and palette_names are NULL-terminated lists (or NULL); an index past the
 * list is written as its decimal number in a string.  Returns the length
 * without the NUL, or 0 when the cue is not valid or cap is too small.
 */
size_t cue_format_json(const struct cue *c, const char *const *mode_names,
                       const char *const *palette_names, char *buf, size_t cap);

#endif
