/*
 * Tests of the MIDI file reader: the messages of the generated fixtures
 * (tests/fixtures/midi/gen_fixtures.py) arrive merged, at the seconds their
 * tempo map gives; damaged, truncated and random files are refused with a
 * sentence saying why, and never crash the reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/smf_input.h"
#include "testlib.h"

#define MS INT64_C(1000000)

struct expect {
	int64_t t;
	enum midi_kind kind;
	int channel, number, value;
};

static uint8_t *load_fixture(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fixtures/midi/%s", testlib_srcdir(), name);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	uint8_t *buf = malloc(65536);
	*len = buf ? fread(buf, 1, 65536, f) : 0;
	fclose(f);
	return buf;
}

static struct smf_input *open_fixture(const char *name)
{
	char path[512], detail[200];
	enum smf_input_error err;
	snprintf(path, sizeof(path), "%s/tests/fixtures/midi/%s", testlib_srcdir(), name);
	struct smf_input *in = smf_input_open(path, &err, detail, sizeof(detail));
	if (in == NULL)
		fprintf(stderr, "%s: %s: %s\n", path, smf_input_strerror(err), detail);
	return in;
}

static void check_sequence(struct smf_input *in, const struct expect *want, size_t n)
{
	struct smf_input_event ev;
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(smf_input_peek_time(in), want[i].t);
		CU_ASSERT_FATAL(smf_input_next(in, &ev) == 1);
		/* Times are rounded to the nanosecond. */
		CU_ASSERT(ev.t >= want[i].t - 1 && ev.t <= want[i].t + 1);
		CU_ASSERT_EQUAL(ev.msg.kind, want[i].kind);
		CU_ASSERT_EQUAL(ev.msg.channel, want[i].channel);
		CU_ASSERT_EQUAL(ev.msg.number, want[i].number);
		CU_ASSERT_EQUAL(ev.msg.value, want[i].value);
	}
	CU_ASSERT_EQUAL(smf_input_next(in, &ev), 0);
	CU_ASSERT_EQUAL(smf_input_peek_time(in), INT64_MAX);
}

/*
 * Three tracks merged; 120 BPM for the first 960 ticks (1 s) then 240 BPM;
 * sysex and text events skipped; note-on velocity 0 becomes a note-off.
 */
static void test_tempo_map_and_merge(void)
{
	static const struct expect want[] = {
	    {500 * MS, MIDI_CC, 1, 20, 100},
	    {750 * MS, MIDI_PROGRAM, 2, 0, 5},
	    {1125 * MS, MIDI_CHANNEL_PRESSURE, 2, 0, 77},
	    {1125 * MS, MIDI_POLY_PRESSURE, 2, 64, 33},
	    {1250 * MS, MIDI_NOTE_ON, 1, 60, 100},
	    {1375 * MS, MIDI_NOTE_OFF, 1, 60, 0},
	    {1500 * MS, MIDI_PITCH_BEND, 1, 0, 0x2800},
	    {1750 * MS, MIDI_NOTE_OFF, 16, 61, 64},
	};
	struct smf_input *in = open_fixture("tempo_map.mid");
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_EQUAL(smf_input_count(in), 8);
	check_sequence(in, want, sizeof(want) / sizeof(want[0]));
	smf_input_close(in);
}

/* A file without tempo events plays at the standard 120 BPM. */
static void test_default_tempo(void)
{
	static const struct expect want[] = {
	    {2000 * MS, MIDI_CC, 1, 20, 90},      {2500 * MS, MIDI_CC, 1, 20, 100},
	    {3000 * MS, MIDI_CC, 1, 20, 110},     {4000 * MS, MIDI_NOTE_ON, 1, 60, 100},
	    {4250 * MS, MIDI_NOTE_OFF, 1, 60, 0},
	};
	struct smf_input *in = open_fixture("cc_note.mid");
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	check_sequence(in, want, sizeof(want) / sizeof(want[0]));
	smf_input_close(in);
}

/* Tracks whose first events are not at tick 0 still merge by time. */
static void test_late_first_events(void)
{
	static const struct expect want[] = {
	    {500 * MS, MIDI_CC, 2, 7, 64},
	    {1000 * MS, MIDI_NOTE_ON, 1, 62, 80},
	    {1500 * MS, MIDI_NOTE_OFF, 1, 62, 0},
	};
	struct smf_input *in = open_fixture("late_start.mid");
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	check_sequence(in, want, sizeof(want) / sizeof(want[0]));
	smf_input_close(in);
}

static void test_empty_file(void)
{
	struct smf_input *in = open_fixture("empty.mid");
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_EQUAL(smf_input_count(in), 0);
	check_sequence(in, NULL, 0);
	smf_input_close(in);
}

static void test_missing_and_not_midi(void)
{
	char path[512], detail[200];
	enum smf_input_error err;

	snprintf(path, sizeof(path), "%s/no-such-file.mid", testlib_tmpdir());
	CU_ASSERT_PTR_NULL(smf_input_open(path, &err, detail, sizeof(detail)));
	CU_ASSERT_EQUAL(err, SMF_INPUT_E_OPEN);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "No such file"));

	snprintf(path, sizeof(path), "%s/words.mid", testlib_tmpdir());
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("these are words, not music\n", f);
	fclose(f);
	CU_ASSERT_PTR_NULL(smf_input_open(path, &err, detail, sizeof(detail)));
	CU_ASSERT_EQUAL(err, SMF_INPUT_E_NOT_MIDI);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "MThd"));
}

static void expect_refused(const uint8_t *data, size_t len, enum smf_input_error want,
                           const char *words)
{
	char detail[200];
	enum smf_input_error err;
	struct smf_input *in = smf_input_open_memory(data, len, &err, detail, sizeof(detail));
	CU_ASSERT_PTR_NULL(in);
	smf_input_close(in);
	CU_ASSERT_EQUAL(err, want);
	if (strstr(detail, words) == NULL) {
		fprintf(stderr, "\n  detail \"%s\" lacks \"%s\"\n", detail, words);
		CU_FAIL("detail does not say what is wrong");
	}
}

/* Header faults are named. */
static void test_header_faults(void)
{
	uint8_t fmt2[] = "MThd\0\0\0\6\0\2\0\1\0\140MTrk\0\0\0\4\0\377\57\0";
	uint8_t smpte[] = "MThd\0\0\0\6\0\0\0\1\347\50MTrk\0\0\0\4\0\377\57\0";
	uint8_t notracks[] = "MThd\0\0\0\6\0\0\0\0\0\140";
	uint8_t shorthead[] = "MThd\0\0\0\4\0\0\0\1";
	uint8_t missing[] = "MThd\0\0\0\6\0\1\0\2\0\140MTrk\0\0\0\4\0\377\57\0";
	uint8_t noeot[] = "MThd\0\0\0\6\0\0\0\1\0\140MTrk\0\0\0\4\0\220\74\100";
	uint8_t orphan[] = "MThd\0\0\0\6\0\0\0\1\0\140MTrk\0\0\0\7\0\74\100\0\377\57\0";
	uint8_t badtempo[] = "MThd\0\0\0\6\0\0\0\1\0\140MTrk\0\0\0\12\0\377\121\2\1\2\0\377\57\0";

	expect_refused(fmt2, sizeof(fmt2) - 1, SMF_INPUT_E_UNSUPPORTED, "format 2");
	expect_refused(smpte, sizeof(smpte) - 1, SMF_INPUT_E_UNSUPPORTED, "SMPTE");
	expect_refused(notracks, sizeof(notracks) - 1, SMF_INPUT_E_DAMAGED, "no tracks");
	expect_refused(shorthead, sizeof(shorthead) - 1, SMF_INPUT_E_DAMAGED, "header");
	expect_refused(missing, sizeof(missing) - 1, SMF_INPUT_E_DAMAGED,
	               "declares 2 tracks but the file holds 1");
	expect_refused(noeot, sizeof(noeot) - 1, SMF_INPUT_E_DAMAGED, "End of Track");
	expect_refused(orphan, sizeof(orphan) - 1, SMF_INPUT_E_DAMAGED, "without a status byte");
	expect_refused(badtempo, sizeof(badtempo) - 1, SMF_INPUT_E_DAMAGED,
	               "tempo event of 2 bytes");
}

/* Chunks of unknown type are skipped; long meta events are read whole. */
static void test_alien_chunk_and_long_meta(void)
{
	uint8_t buf[600];
	size_t n = 0;
	memcpy(buf, "MThd\0\0\0\6\0\0\0\1\0\140XFIL\0\0\0\3abc", 25);
	n = 25;
	/* Track: 300-byte text event, then note on 64 at tick 96 (0.5 s). */
	size_t body = 5 + 300 + 4 + 4;
	memcpy(buf + n, "MTrk", 4);
	buf[n + 4] = 0;
	buf[n + 5] = 0;
	buf[n + 6] = (uint8_t)(body >> 8);
	buf[n + 7] = (uint8_t)body;
	n += 8;
	memcpy(buf + n, "\0\377\1\202\54", 5); /* delta 0, text, len 300 */
	n += 5;
	memset(buf + n, '\220', 300); /* bytes that look like status */
	n += 300;
	memcpy(buf + n, "\140\220\100\1\0\377\57\0", 8);
	n += 8;
	CU_ASSERT_EQUAL_FATAL(n, 25 + 8 + body);

	char detail[200];
	enum smf_input_error err;
	struct smf_input *in = smf_input_open_memory(buf, n, &err, detail, sizeof(detail));
	if (in == NULL)
		fprintf(stderr, "\n  %s\n", detail);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	static const struct expect want[] = {
	    {500 * MS, MIDI_NOTE_ON, 1, 64, 1},
	};
	check_sequence(in, want, 1);
	smf_input_close(in);
}

/* Reads every message; asserts what any accepted file must give. */
static void drain_accepted(struct smf_input *in)
{
	struct smf_input_event ev;
	int64_t last = 0;
	size_t n = 0;
	while (smf_input_next(in, &ev)) {
		CU_ASSERT(ev.t >= last);
		last = ev.t;
		CU_ASSERT(ev.msg.channel >= 1 && ev.msg.channel <= 16);
		CU_ASSERT(ev.msg.kind <= MIDI_PITCH_BEND);
		CU_ASSERT(ev.msg.number < 128);
		CU_ASSERT(ev.msg.value < 16384);
		n++;
	}
	CU_ASSERT_EQUAL(n, smf_input_count(in));
}

/* Outcome of one damaged input: refused with a reason, or read sanely. */
static int try_bytes(const uint8_t *data, size_t len)
{
	char detail[200];
	enum smf_input_error err;
	struct smf_input *in = smf_input_open_memory(data, len, &err, detail, sizeof(detail));
	if (in == NULL) {
		CU_ASSERT(err != SMF_INPUT_OK);
		CU_ASSERT(detail[0] != '\0');
		return 0;
	}
	CU_ASSERT_EQUAL(err, SMF_INPUT_OK);
	drain_accepted(in);
	smf_input_close(in);
	return 1;
}

/* Every cut of a good file is refused as damaged (or not MIDI at all). */
static void test_truncated(void)
{
	size_t len;
	uint8_t *full = load_fixture("tempo_map.mid", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(full);
	CU_ASSERT_EQUAL(try_bytes(full, len), 1);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *part = malloc(cut + 1); /* exact size for ASan */
		memcpy(part, full, cut);
		CU_ASSERT_EQUAL(try_bytes(part, cut), 0);
		free(part);
	}
	free(full);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random damage to a good file and random bytes never crash the reader. */
static void test_random_damage(void)
{
	size_t len;
	uint8_t *full = load_fixture("tempo_map.mid", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(full);
	uint64_t seed = 0x9E3779B97F4A7C15u;
	int accepted = 0, refused = 0;
	uint8_t *buf = malloc(len);
	for (int round = 0; round < 3000; round++) {
		memcpy(buf, full, len);
		int hits = 1 + (int)(xorshift(&seed) % 4);
		for (int k = 0; k < hits; k++)
			buf[xorshift(&seed) % len] = (uint8_t)xorshift(&seed);
		if (try_bytes(buf, len))
			accepted++;
		else
			refused++;
	}
	free(buf);
	for (int round = 0; round < 1000; round++) {
		size_t n = 14 + xorshift(&seed) % 200;
		uint8_t *junk = malloc(n);
		for (size_t k = 0; k < n; k++)
			junk[k] = (uint8_t)xorshift(&seed);
		/* A valid-looking header makes the track checks run. */
		memcpy(junk, "MThd\0\0\0\6\0\1\0\2\1\340", 14);
		if (n >= 22)
			memcpy(junk + 14, "MTrk", 4);
		try_bytes(junk, n);
		free(junk);
	}
	free(full);
	/* Both outcomes occur: the damage is neither always fatal nor ignored. */
	CU_ASSERT(accepted > 0);
	CU_ASSERT(refused > 0);
}

TEST_SUITE(smf_input, NULL, NULL, TEST_CASE(test_tempo_map_and_merge),
           TEST_CASE(test_default_tempo), TEST_CASE(test_late_first_events),
           TEST_CASE(test_empty_file), TEST_CASE(test_missing_and_not_midi),
           TEST_CASE(test_header_faults), TEST_CASE(test_alien_chunk_and_long_meta),
           TEST_CASE(test_truncated), TEST_CASE(test_random_damage))
