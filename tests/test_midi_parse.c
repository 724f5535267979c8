/*
 * Tests of the MIDI byte parser: every rule of the byte stream a real
 * controller or a DIN-to-USB cable may produce, with the bytes written out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/midi_parse.h"
#include "testlib.h"

#define MAX_OUT 32

static struct midi_parser parser;
static struct midi_msg out[MAX_OUT];

/* Feeds bytes to the shared parser; returns how many messages came out. */
static int feed(const uint8_t *b, size_t n)
{
	int got = 0;
	for (size_t i = 0; i < n; i++) {
		struct midi_msg m;
		if (midi_parse_byte(&parser, b[i], &m)) {
			CU_ASSERT_FATAL(got < MAX_OUT);
			out[got++] = m;
		}
	}
	return got;
}

#define FEED(...) feed((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static int setup(void)
{
	midi_parse_init(&parser);
	return 0;
}

static void fresh(void)
{
	midi_parse_init(&parser);
	memset(out, 0, sizeof out);
}

static void check(int i, enum midi_kind kind, int channel, int number, int value)
{
	CU_ASSERT_EQUAL(out[i].kind, kind);
	CU_ASSERT_EQUAL(out[i].channel, channel);
	CU_ASSERT_EQUAL(out[i].number, number);
	CU_ASSERT_EQUAL(out[i].value, value);
}

static void test_note_on_off(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x90, 0x3C, 0x64, 0x80, 0x3C, 0x40), 2);
	check(0, MIDI_NOTE_ON, 1, 60, 100);
	check(1, MIDI_NOTE_OFF, 1, 60, 64);
	CU_ASSERT_EQUAL(parser.messages[MIDI_NOTE_ON], 1);
	CU_ASSERT_EQUAL(parser.messages[MIDI_NOTE_OFF], 1);
}

static void test_velocity_zero_is_note_off(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x95, 0x40, 0x00), 1);
	check(0, MIDI_NOTE_OFF, 6, 64, 0);
	CU_ASSERT_EQUAL(parser.messages[MIDI_NOTE_ON], 0);
}

/* A keyboard playing a chord sends one status and then only data bytes. */
static void test_running_status(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x93, 0x3C, 0x64, 0x40, 0x50, 0x43, 0x00), 3);
	check(0, MIDI_NOTE_ON, 4, 60, 100);
	check(1, MIDI_NOTE_ON, 4, 64, 80);
	check(2, MIDI_NOTE_OFF, 4, 67, 0);
	/* a knob sweep */
	CU_ASSERT_EQUAL(FEED(0xB0, 0x4A, 0x01, 0x4A, 0x02, 0x4A, 0x03), 3);
	check(2, MIDI_CC, 1, 74, 3);
	CU_ASSERT_EQUAL(parser.stray_data, 0);
}

static void test_channels(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x9F, 0x24, 0x7F, 0xB0, 0x07, 0x00, 0xE9, 0x00, 0x40), 3);
	check(0, MIDI_NOTE_ON, 16, 36, 127);
	check(1, MIDI_CC, 1, 7, 0);
	check(2, MIDI_PITCH_BEND, 10, 0, 8192);
}

static void test_one_data_byte_messages(void)
{
	fresh();
	/* program change and channel pressure, both with running status */
	CU_ASSERT_EQUAL(FEED(0xC2, 0x05, 0x06, 0xD7, 0x40, 0x7F), 4);
	check(0, MIDI_PROGRAM, 3, 0, 5);
	check(1, MIDI_PROGRAM, 3, 0, 6);
	check(2, MIDI_CHANNEL_PRESSURE, 8, 0, 64);
	check(3, MIDI_CHANNEL_PRESSURE, 8, 0, 127);
	CU_ASSERT_EQUAL(FEED(0xA1, 0x3C, 0x22), 1);
	check(0, MIDI_POLY_PRESSURE, 2, 60, 34);
}

/* Bend: LSB first, 14 bits, centre 8192. */
static void test_pitch_bend(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0xE0, 0x00, 0x00, 0x7F, 0x7F, 0x01, 0x00, 0x00, 0x01, 0x00, 0x40), 5);
	check(0, MIDI_PITCH_BEND, 1, 0, 0);
	check(1, MIDI_PITCH_BEND, 1, 0, 16383);
	check(2, MIDI_PITCH_BEND, 1, 0, 1);
	check(3, MIDI_PITCH_BEND, 1, 0, 128);
	check(4, MIDI_PITCH_BEND, 1, 0, 8192);
}

/* Clock bytes land between the bytes of a note without breaking it. */
static void test_realtime_inside_message(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x90, 0xF8, 0x3C, 0xFA, 0x64), 3);
	check(0, MIDI_CLOCK, 0, 0xF8, 0);
	check(1, MIDI_START, 0, 0xFA, 0);
	check(2, MIDI_NOTE_ON, 1, 60, 100);
	CU_ASSERT_EQUAL(parser.truncated, 0);
}

static void test_realtime_keeps_running_status(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x90, 0x3C, 0x64, 0xF8, 0xFE, 0x3E, 0x64), 4);
	check(0, MIDI_NOTE_ON, 1, 60, 100);
	check(1, MIDI_CLOCK, 0, 0xF8, 0);
	check(2, MIDI_OTHER_REALTIME, 0, 0xFE, 0);
	check(3, MIDI_NOTE_ON, 1, 62, 100);
}

static void test_transport_and_other_realtime(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0xFA, 0xF8, 0xF8, 0xFC, 0xFB, 0xF9, 0xFD, 0xFE, 0xFF), 9);
	check(0, MIDI_START, 0, 0xFA, 0);
	check(3, MIDI_STOP, 0, 0xFC, 0);
	check(4, MIDI_CONTINUE, 0, 0xFB, 0);
	for (int i = 5; i < 9; i++)
		CU_ASSERT_EQUAL(out[i].kind, MIDI_OTHER_REALTIME);
	check(8, MIDI_OTHER_REALTIME, 0, 0xFF, 0);
	CU_ASSERT_EQUAL(parser.messages[MIDI_CLOCK], 2);
	CU_ASSERT_EQUAL(parser.messages[MIDI_START], 1);
	CU_ASSERT_EQUAL(parser.messages[MIDI_CONTINUE], 1);
	CU_ASSERT_EQUAL(parser.messages[MIDI_STOP], 1);
	CU_ASSERT_EQUAL(parser.messages[MIDI_OTHER_REALTIME], 4);
}

static void test_sysex_skipped_with_realtime_inside(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0xF0, 0x7E, 0x7F, 0xF8, 0x06, 0x01, 0xF7, 0x90, 0x3C, 0x64), 2);
	check(0, MIDI_CLOCK, 0, 0xF8, 0);
	check(1, MIDI_NOTE_ON, 1, 60, 100);
	CU_ASSERT_EQUAL(parser.sysex, 1);
	CU_ASSERT_EQUAL(parser.sysex_unterminated, 0);
	CU_ASSERT_EQUAL(parser.sysex_bytes, 4);
	CU_ASSERT_EQUAL(parser.stray_data, 0);
}

/* A firmware dump of a megabyte goes by without any message or buffer. */
static void test_sysex_any_length(void)
{
	fresh();
	const size_t n = 1 << 20;
	uint8_t *dump = malloc(n);
	CU_ASSERT_FATAL(dump != NULL);
	for (size_t i = 0; i < n; i++)
		dump[i] = (uint8_t)(i * 31 % 128);
	CU_ASSERT_EQUAL(FEED(0xF0), 0);
	CU_ASSERT_EQUAL(feed(dump, n), 0);
	CU_ASSERT_EQUAL(FEED(0xF7, 0x90, 0x3C, 0x64), 1);
	check(0, MIDI_NOTE_ON, 1, 60, 100);
	CU_ASSERT_EQUAL(parser.sysex_bytes, n);
	CU_ASSERT_EQUAL(parser.sysex, 1);
	free(dump);
}

/* A SysEx whose F7 got lost ends at the next status byte, which counts. */
static void test_sysex_ended_by_status(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0xF0, 0x01, 0x02, 0x90, 0x3C, 0x64), 1);
	check(0, MIDI_NOTE_ON, 1, 60, 100);
	CU_ASSERT_EQUAL(parser.sysex, 1);
	CU_ASSERT_EQUAL(parser.sysex_unterminated, 1);
	CU_ASSERT_EQUAL(parser.sysex_bytes, 2);
}

static void test_sysex_clears_running_status(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x90, 0x3C, 0x64, 0xF0, 0x01, 0xF7, 0x3C, 0x00), 1);
	CU_ASSERT_EQUAL(parser.stray_data, 2);
}

/* Song position, song select, MTC quarter frame, tune request. */
static void test_system_common(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x90, 0x3C, 0x64, 0xF2, 0x10, 0x20, 0x3E, 0x64), 1);
	CU_ASSERT_EQUAL(parser.common, 1);
	CU_ASSERT_EQUAL(parser.stray_data, 2);
	CU_ASSERT_EQUAL(FEED(0xB0, 0x01, 0x02, 0xF3, 0x05, 0x01, 0x02), 1);
	CU_ASSERT_EQUAL(parser.common, 2);
	CU_ASSERT_EQUAL(parser.stray_data, 4);
	CU_ASSERT_EQUAL(FEED(0xF1, 0x31, 0xF6, 0x40), 0);
	CU_ASSERT_EQUAL(parser.common, 4);
	CU_ASSERT_EQUAL(parser.stray_data, 5);
	/* realtime inside a system common message */
	CU_ASSERT_EQUAL(FEED(0xF2, 0x10, 0xF8, 0x20, 0x90, 0x3C, 0x64), 2);
	CU_ASSERT_EQUAL(out[0].kind, MIDI_CLOCK);
	CU_ASSERT_EQUAL(parser.common, 5);
	CU_ASSERT_EQUAL(parser.truncated, 0);
}

static void test_undefined_status(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x90, 0x3C, 0x64, 0xF4, 0x3C, 0x64, 0xF5, 0x01), 1);
	CU_ASSERT_EQUAL(parser.undefined, 2);
	CU_ASSERT_EQUAL(parser.stray_data, 3);
}

/* Plugging in mid-stream: data bytes before any status are dropped. */
static void test_stray_data(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x3C, 0x64, 0x7F, 0x90, 0x3C, 0x64), 1);
	check(0, MIDI_NOTE_ON, 1, 60, 100);
	CU_ASSERT_EQUAL(parser.stray_data, 3);
	CU_ASSERT_EQUAL(FEED(0xF7), 0);
	CU_ASSERT_EQUAL(parser.stray_eox, 1);
}

static void test_truncated_message(void)
{
	fresh();
	CU_ASSERT_EQUAL(FEED(0x90, 0x3C, 0xB0, 0x07, 0x64), 1);
	check(0, MIDI_CC, 1, 7, 100);
	CU_ASSERT_EQUAL(parser.truncated, 1);
	CU_ASSERT_EQUAL(parser.messages[MIDI_NOTE_ON], 0);
}

static void test_buffer_variant(void)
{
	fresh();
	const uint8_t b[] = {0x90, 0x3C, 0x64, 0xF8, 0x3E, 0x64, 0x40, 0x64};
	struct midi_msg m[2];
	size_t used = 0;
	CU_ASSERT_EQUAL(midi_parse_buf(&parser, b, sizeof b, m, 2, &used), 2);
	CU_ASSERT_EQUAL(used, 4);
	CU_ASSERT_EQUAL(m[0].kind, MIDI_NOTE_ON);
	CU_ASSERT_EQUAL(m[1].kind, MIDI_CLOCK);
	size_t more = 0;
	CU_ASSERT_EQUAL(midi_parse_buf(&parser, b + used, sizeof b - used, m, 2, &more), 2);
	CU_ASSERT_EQUAL(more, 4);
	CU_ASSERT_EQUAL(m[0].number, 62);
	CU_ASSERT_EQUAL(m[1].number, 64);
}

static void test_data_len(void)
{
	CU_ASSERT_EQUAL(midi_parse_data_len(0x9A), 2);
	CU_ASSERT_EQUAL(midi_parse_data_len(0xC0), 1);
	CU_ASSERT_EQUAL(midi_parse_data_len(0xDF), 1);
	CU_ASSERT_EQUAL(midi_parse_data_len(0xF2), 2);
	CU_ASSERT_EQUAL(midi_parse_data_len(0xF3), 1);
	CU_ASSERT_EQUAL(midi_parse_data_len(0xF6), 0);
	CU_ASSERT_EQUAL(midi_parse_data_len(0x40), 0);
}

TEST_SUITE(midi_parse, setup, NULL, TEST_CASE(test_note_on_off),
           TEST_CASE(test_velocity_zero_is_note_off), TEST_CASE(test_running_status),
           TEST_CASE(test_channels), TEST_CASE(test_one_data_byte_messages),
           TEST_CASE(test_pitch_bend), TEST_CASE(test_realtime_inside_message),
           TEST_CASE(test_realtime_keeps_running_status),
           TEST_CASE(test_transport_and_other_realtime),
           TEST_CASE(test_sysex_skipped_with_realtime_inside), TEST_CASE(test_sysex_any_length),
           TEST_CASE(test_sysex_ended_by_status), TEST_CASE(test_sysex_clears_running_status),
           TEST_CASE(test_system_common), TEST_CASE(test_undefined_status),
           TEST_CASE(test_stray_data), TEST_CASE(test_truncated_message),
           TEST_CASE(test_buffer_variant), TEST_CASE(test_data_len))
