/*
 * smf_input: a Standard MIDI File read as timed MIDI messages.
 *
 * Design: the file is read whole and checked here first, chunk by chunk and
 * event by event, against the SMF specification; any fault is reported with
 * the track and byte offset.  While checking, each track is rewritten into a
 * plain copy that holds only channel messages (with explicit status bytes),
 * tempo changes and End of Track, at the same ticks.  libsmf then loads that
 * copy: it merges the tracks by time and turns ticks into seconds through the
 * tempo map.  libsmf asserts or misreads on some malformed input (short
 * tracks, long meta events), so it is never handed the raw bytes.  Its log
 * messages are caught while a file is open (not thread-safe: the renderer's
 * thread only, which opens files before it starts playing).
 */
#include "render/smf_input.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <smf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libsmf counts ticks in an int; 2^28 - 1 also fits a 4-byte delta. */
#define MAX_TICKS 0x0FFFFFFFu

struct smf_input {
	smf_t *smf;
	size_t count;
	bool have_next;
	struct smf_input_event next;
	guint log_handler;
	char log_msg[160];
};

/* A growing byte buffer for the rewritten file. */
struct bytes {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

/* The checker's view of the input. */
struct reader {
	const uint8_t *p;
	size_t len;
	char *detail;
	size_t cap;
	enum smf_input_error err;
};

static const char *const error_text[SMF_INPUT_E_COUNT] = {
    [SMF_INPUT_OK] = "no error",
    [SMF_INPUT_E_OPEN] = "cannot read the file",
    [SMF_INPUT_E_TOO_BIG] = "file too large",
    [SMF_INPUT_E_NOT_MIDI] = "not a Standard MIDI File",
    [SMF_INPUT_E_UNSUPPORTED] = "unsupported MIDI file",
    [SMF_INPUT_E_DAMAGED] = "damaged MIDI file",
    [SMF_INPUT_E_NOMEM] = "out of memory",
};

const char *smf_input_strerror(enum smf_input_error err)
{
	if ((unsigned)err >= SMF_INPUT_E_COUNT)
		return "unknown error";
	return error_text[err];
}

__attribute__((format(printf, 3, 4))) static int fail(struct reader *r, enum smf_input_error err,
                                                      const char *fmt, ...)
{
	va_list ap;

	r->err = err;
	if (r->cap > 0) {
		va_start(ap, fmt);
		vsnprintf(r->detail, r->cap, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void put(struct bytes *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_byte(struct bytes *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_be32_at(struct bytes *b, size_t at, uint32_t v)
{
	if (b->oom)
		return;
	b->p[at] = (uint8_t)(v >> 24);
	b->p[at + 1] = (uint8_t)(v >> 16);
	b->p[at + 2] = (uint8_t)(v >> 8);
	b->p[at + 3] = (uint8_t)v;
}

/* Writes a variable-length quantity (v <= MAX_TICKS: at most 4 bytes). */
static void put_vlq(struct bytes *b, uint32_t v)
{
	uint8_t tmp[4];
	int n = 0;

	tmp[n++] = v & 0x7F;
	while ((v >>= 7) != 0 && n < 4)
		tmp[n++] = 0x80 | (v & 0x7F);
	while (n > 0)
		put_byte(b, tmp[--n]);
}

/* Reads a variable-length quantity of at most 4 bytes at *i (< end). */
static int get_vlq(struct reader *r, size_t *i, size_t end, int track, uint32_t *out)
{
	uint32_t v = 0;
	size_t start = *i;

	*out = 0; /* defined even on failure: keeps -O3's flow analysis quiet */
	for (int n = 0; n < 4; n++) {
		if (*i >= end)
			return fail(r, SMF_INPUT_E_DAMAGED,
			            "track %d ends inside a number at byte %zu "
			            "(truncated file?)",
			            track, start);
		uint8_t c = r->p[(*i)++];
		v = v << 7 | (c & 0x7F);
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return fail(r, SMF_INPUT_E_DAMAGED, "track %d, byte %zu: number longer than 4 bytes", track,
	            start);
}

/* Data bytes that follow a channel status. */
static int channel_data_len(uint8_t status)
{
	uint8_t hi = status & 0xF0;
	return hi == 0xC0 || hi == 0xD0 ? 1 : 2;
}

/*
 * Checks the track whose body is r->p[begin, end) and appends its plain copy
 * to out.  Counts the channel messages into *count.
 */
static int check_track(struct reader *r, size_t begin, size_t end, int track, struct bytes *out,
                       size_t *count)
{
	size_t i = begin;
	uint32_t tick = 0, pending = 0;
	uint8_t running = 0;
	bool eot = false;
	size_t len_at;

	put(out, "MTrk\0\0\0\0", 8);
	len_at = out->len - 4;

	while (i < end && !eot) {
		uint32_t delta;
		if (get_vlq(r, &i, end, track, &delta) < 0)
			return -1;
		if (delta > MAX_TICKS - tick)
			return fail(r, SMF_INPUT_E_DAMAGED, "track %d lasts more than %u ticks",
			            track, MAX_TICKS);
		tick += delta;
		pending += delta;
		if (i >= end)
			return fail(r, SMF_INPUT_E_DAMAGED,
			            "track %d ends inside an event at byte %zu "
			            "(truncated file?)",
			            track, i);

		size_t at = i;
		uint8_t status = r->p[i];
		if (status < 0x80) {
			if (running == 0)
				return fail(r, SMF_INPUT_E_DAMAGED,
				            "track %d, byte %zu: data byte 0x%02X "
				            "without a status byte",
				            track, at, status);
			status = running;
		} else {
			i++;
		}

		if (status < 0xF0) {
			int n = channel_data_len(status);
			if (end - i < (size_t)n)
				return fail(r, SMF_INPUT_E_DAMAGED,
				            "track %d ends inside a message at byte "
				            "%zu (truncated file?)",
				            track, at);
			for (int k = 0; k < n; k++)
				if (r->p[i + k] & 0x80)
					return fail(r, SMF_INPUT_E_DAMAGED,
					            "track %d, byte %zu: status byte "
					            "0x%02X inside a message",
					            track, i + k, r->p[i + k]);
			put_vlq(out, pending);
			put_byte(out, status);
			put(out, r->p + i, (size_t)n);
			pending = 0;
			i += (size_t)n;
			running = status;
			(*count)++;
		} else if (status == 0xF0 || status == 0xF7) {
			uint32_t len;
			if (get_vlq(r, &i, end, track, &len) < 0)
				return -1;
			if (len > end - i)
				return fail(r, SMF_INPUT_E_DAMAGED,
				            "track %d, byte %zu: sysex of %u bytes "
				            "runs past the end of the track",
				            track, at, len);
			i += len;
		} else if (status == 0xFF) {
			uint32_t len;
			if (i >= end)
				return fail(r, SMF_INPUT_E_DAMAGED,
				            "track %d ends inside a meta event at byte "
				            "%zu (truncated file?)",
				            track, at);
			uint8_t type = r->p[i++];
			if (type & 0x80)
				return fail(r, SMF_INPUT_E_DAMAGED,
				            "track %d, byte %zu: bad meta event type "
				            "0x%02X",
				            track, at, type);
			if (get_vlq(r, &i, end, track, &len) < 0)
				return -1;
			if (len > end - i)
				return fail(r, SMF_INPUT_E_DAMAGED,
				            "track %d, byte %zu: meta event of %u "
				            "bytes runs past the end of the track",
				            track, at, len);
			if (type == 0x2F) {
				eot = true;
			} else if (type == 0x51) {
				if (len != 3)
					return fail(r, SMF_INPUT_E_DAMAGED,
					            "track %d, byte %zu: tempo event "
					            "of %u bytes, expected 3",
					            track, at, len);
				uint32_t us = (uint32_t)r->p[i] << 16 | (uint32_t)r->p[i + 1] << 8 |
				              r->p[i + 2];
				if (us == 0)
					return fail(r, SMF_INPUT_E_DAMAGED,
					            "track %d, byte %zu: tempo of 0 "
					            "microseconds per quarter note",
					            track, at);
				put_vlq(out, pending);
				put(out, "\xFF\x51\x03", 3);
				put(out, r->p + i, 3);
				pending = 0;
			}
			i += len;
		} else {
			return fail(r, SMF_INPUT_E_DAMAGED,
			            "track %d, byte %zu: status 0x%02X does not belong "
			            "in a MIDI file",
			            track, at, status);
		}
	}
	if (!eot)
		return fail(r, SMF_INPUT_E_DAMAGED,
		            "track %d ends without an End of Track event "
		            "(truncated file?)",
		            track);
	put_vlq(out, pending);
	put(out, "\xFF\x2F\x00", 3);
	if (!out->oom)
		put_be32_at(out, len_at, (uint32_t)(out->len - len_at - 4));
	return 0;
}

/* Checks the whole file and writes its plain copy into out. */
static int check_file(struct reader *r, struct bytes *out, size_t *count)
{
	const uint8_t *p = r->p;

	if (r->len < 4 || memcmp(p, "MThd", 4) != 0)
		return fail(r, SMF_INPUT_E_NOT_MIDI, "no MThd header: not a Standard MIDI File");
	if (r->len < 14)
		return fail(r, SMF_INPUT_E_DAMAGED,
		            "file ends inside the header after %zu bytes "
		            "(truncated file?)",
		            r->len);
	uint32_t hlen = be32(p + 4);
	if (hlen < 6)
		return fail(r, SMF_INPUT_E_DAMAGED, "header of %u bytes, expected 6", hlen);
	if (hlen > r->len - 8)
		return fail(r, SMF_INPUT_E_DAMAGED,
		            "header of %u bytes runs past the end of the file", hlen);
	unsigned format = be16(p + 8);
	unsigned ntracks = be16(p + 10);
	unsigned division = be16(p + 12);
	if (format > 2)
		return fail(r, SMF_INPUT_E_DAMAGED, "unknown format %u", format);
	if (format == 2)
		return fail(r, SMF_INPUT_E_UNSUPPORTED,
		            "format 2 (independent sequences) is not supported; "
		            "use format 0 or 1");
	if (ntracks == 0)
		return fail(r, SMF_INPUT_E_DAMAGED, "the header declares no tracks");
	if (division & 0x8000)
		return fail(r, SMF_INPUT_E_UNSUPPORTED,
		            "SMPTE time division is not supported; use ticks per "
		            "quarter note");
	if (division == 0)
		return fail(r, SMF_INPUT_E_DAMAGED, "time division of 0 ticks per quarter note");

	uint8_t head[14] = {'M',
	                    'T',
	                    'h',
	                    'd',
	                    0,
	                    0,
	                    0,
	                    6,
	                    0,
	                    ntracks > 1 ? 1 : 0,
	                    (uint8_t)(ntracks >> 8),
	                    (uint8_t)ntracks,
	                    (uint8_t)(division >> 8),
	                    (uint8_t)division};
	put(out, head, sizeof(head));

	size_t pos = 8 + (size_t)hlen;
	unsigned found = 0;
	while (found < ntracks) {
		if (pos == r->len)
			return fail(r, SMF_INPUT_E_DAMAGED,
			            "the header declares %u tracks but the file holds "
			            "%u (truncated file?)",
			            ntracks, found);
		if (r->len - pos < 8)
			return fail(r, SMF_INPUT_E_DAMAGED,
			            "file ends inside a chunk header at byte %zu "
			            "(truncated file?)",
			            pos);
		uint32_t clen = be32(p + pos + 4);
		bool is_track = memcmp(p + pos, "MTrk", 4) == 0;
		if (clen > r->len - pos - 8)
			return fail(r, SMF_INPUT_E_DAMAGED,
			            "%s at byte %zu claims %u bytes but only %zu "
			            "remain (truncated file?)",
			            is_track ? "track" : "chunk", pos, clen, r->len - pos - 8);
		/* Chunks of unknown type are skipped, as the format asks. */
		if (is_track) {
			found++;
			if (check_track(r, pos + 8, pos + 8 + clen, (int)found, out, count) < 0)
				return -1;
		}
		pos += 8 + (size_t)clen;
	}
	if (out->oom)
		return fail(r, SMF_INPUT_E_NOMEM, "out of memory");
	return 0;
}

static void catch_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                      gpointer data)
{
	struct smf_input *in = data;

	(void)domain;
	if (in->log_msg[0] == '\0' &&
	    (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
		snprintf(in->log_msg, sizeof(in->log_msg), "%s", message);
}

/* Reads the next channel message from libsmf into in->next. */
static void fetch(struct smf_input *in)
{
	smf_event_t *ev;

	in->have_next = false;
	while ((ev = smf_get_next_event(in->smf)) != NULL) {
		if (ev->midi_buffer_length < 2 || ev->midi_buffer[0] < 0x80 ||
		    ev->midi_buffer[0] >= 0xF0)
			continue;
		uint8_t status = ev->midi_buffer[0];
		uint8_t d1 = ev->midi_buffer[1];
		uint8_t d2 = ev->midi_buffer_length > 2 ? ev->midi_buffer[2] : 0;
		struct midi_msg *m = &in->next.msg;

		memset(m, 0, sizeof(*m));
		m->channel = (uint8_t)((status & 0x0F) + 1);
		switch (status & 0xF0) {
		case 0x80:
			m->kind = MIDI_NOTE_OFF;
			m->number = d1;
			m->value = d2;
			break;
		case 0x90:
			m->kind = d2 == 0 ? MIDI_NOTE_OFF : MIDI_NOTE_ON;
			m->number = d1;
			m->value = d2;
			break;
		case 0xA0:
			m->kind = MIDI_POLY_PRESSURE;
			m->number = d1;
			m->value = d2;
			break;
		case 0xB0:
			m->kind = MIDI_CC;
			m->number = d1;
			m->value = d2;
			break;
		case 0xC0:
			m->kind = MIDI_PROGRAM;
			m->value = d1;
			break;
		case 0xD0:
			m->kind = MIDI_CHANNEL_PRESSURE;
			m->value = d1;
			break;
		default:
			m->kind = MIDI_PITCH_BEND;
			m->value = (uint16_t)(d1 | d2 << 7);
			break;
		}
		double ns = ev->time_seconds * 1e9;
		if (!(ns >= 0))
			ns = 0;
		in->next.t = ns >= 9.2e18 ? INT64_MAX - 1 : (int64_t)llround(ns);
		in->have_next = true;
		return;
	}
}

struct smf_input *smf_input_open_memory(const void *data, size_t len, enum smf_input_error *err,
                                        char *detail, size_t cap)
{
	struct reader r = {data, len, detail, cap, SMF_INPUT_OK};
	struct bytes plain = {0};
	struct smf_input *in;
	size_t count = 0;

	if (cap > 0)
		detail[0] = '\0';
	if (len > SMF_INPUT_MAX_BYTES) {
		fail(&r, SMF_INPUT_E_TOO_BIG,
		     "%zu bytes, more than the %u "
		     "a MIDI file may have here",
		     len, SMF_INPUT_MAX_BYTES);
		*err = r.err;
		return NULL;
	}
	if (check_file(&r, &plain, &count) < 0) {
		free(plain.p);
		*err = r.err;
		return NULL;
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL) {
		free(plain.p);
		fail(&r, SMF_INPUT_E_NOMEM, "out of memory");
		*err = r.err;
		return NULL;
	}
	in->count = count;
	in->log_handler = g_log_set_handler(
	    "libsmf", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, catch_log, in);
	in->smf = smf_load_from_memory(plain.p, (int)plain.len);
	free(plain.p);
	if (in->smf == NULL) {
		fail(&r, SMF_INPUT_E_DAMAGED, "libsmf cannot read it: %s",
		     in->log_msg[0] ? in->log_msg : "no reason given");
		smf_input_close(in);
		*err = r.err;
		return NULL;
	}
	/* Without a rewind libsmf takes each track's first event as due at 0. */
	smf_rewind(in->smf);
	fetch(in);
	*err = SMF_INPUT_OK;
	return in;
}

struct smf_input *smf_input_open(const char *path, enum smf_input_error *err, char *detail,
                                 size_t cap)
{
	struct reader r = {NULL, 0, detail, cap, SMF_INPUT_OK};
	struct smf_input *in = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL) {
		fail(&r, SMF_INPUT_E_OPEN, "%s", strerror(errno));
		goto out;
	}
	for (;;) {
		size_t want = len + 65536;
		if (want > SMF_INPUT_MAX_BYTES + 1u)
			want = SMF_INPUT_MAX_BYTES + 1u;
		uint8_t *p = realloc(buf, want);
		if (p == NULL) {
			fail(&r, SMF_INPUT_E_NOMEM, "out of memory");
			goto out;
		}
		buf = p;
		size_t room = want - len;
		size_t got = fread(buf + len, 1, room, f);
		len += got;
		if (got < room) {
			if (ferror(f)) {
				fail(&r, SMF_INPUT_E_OPEN, "read error: %s", strerror(errno));
				goto out;
			}
			break;
		}
		if (len > SMF_INPUT_MAX_BYTES) {
			fail(&r, SMF_INPUT_E_TOO_BIG,
			     "more than %u bytes, "
			     "too large for a MIDI file here",
			     SMF_INPUT_MAX_BYTES);
			goto out;
		}
	}
	in = smf_input_open_memory(buf, len, err, detail, cap);
	fclose(f);
	free(buf);
	return in;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	*err = r.err;
	return NULL;
}

int64_t smf_input_peek_time(const struct smf_input *in)
{
	return in->have_next ? in->next.t : INT64_MAX;
}

int smf_input_next(struct smf_input *in, struct smf_input_event *out)
{
	if (!in->have_next)
		return 0;
	*out = in->next;
	fetch(in);
	return 1;
}

size_t smf_input_count(const struct smf_input *in)
{
	return in->count;
}

void smf_input_close(struct smf_input *in)
{
	if (in == NULL)
		return;
	if (in->smf != NULL)
		smf_delete(in->smf);
	if (in->log_handler != 0)
		g_log_remove_handler("libsmf", in->log_handler);
	free(in);
}
