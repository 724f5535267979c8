/*
 * PortMidi ports by name (midi_pm: picking a device, the error that lists
 * what exists), the portmidi:NAME MIDI output without its device (waiting,
 * its messages dropped and counted, never a hang), and what a clock port
 * and the notes input beside it each pass on.  No MIDI device is needed:
 * what only a device can show (a message reaching it on time, a reconnect)
 * is listed in doc/gear.md.
 */
#include <string.h>
#include <time.h>

#include "dev/midi_in.h"
#include "dev/midi_out.h"
#include "dev/midi_pm.h"
#include "rt/rtclock.h"
#include "testlib.h"

#define WAIT_NS (5 * NS_PER_SEC)

static const struct midi_pm_device devs[] = {
    {"Midi Through Port-0", true, true}, {"Teensy MIDI 2", true, true},
    {"Teensy MIDI", true, true},         {"Volca Beats", false, true},
    {"Launchpad Mini", true, false},
};
#define N_DEVS ((int)(sizeof devs / sizeof devs[0]))

static void test_pick(void)
{
	/* a substring picks the first that contains it, any case */
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, true, "volca"), 3);
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, true, "teensy"), 1);
	/* an exact name wins over an earlier device that merely contains it */
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, true, "teensy midi"), 2);
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, false, "Teensy MIDI"), 2);
	/* the direction counts: the Launchpad has no output, the Volca no input */
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, true, "Launchpad"), -1);
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, false, "Volca"), -1);
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, false, "Launchpad"), 4);
	/* auto (inputs only): the first that is not a Through port */
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, false, ""), 1);
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, false, NULL), 1);
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, true, ""), -1);
	CU_ASSERT_EQUAL(midi_pm_pick(devs, 0, true, "volca"), -1);
	CU_ASSERT_EQUAL(midi_pm_pick(devs, N_DEVS, true, "Korg"), -1);
}

static void test_describe_missing(void)
{
	char buf[512];
	size_t n = midi_pm_describe_missing(buf, sizeof buf, devs, N_DEVS, true, "Korg");
	CU_ASSERT_STRING_EQUAL(buf, "no PortMidi output matches \"Korg\" (outputs: "
	                            "\"Midi Through Port-0\", \"Teensy MIDI 2\", \"Teensy MIDI\", "
	                            "\"Volca Beats\")");
	CU_ASSERT_EQUAL(n, strlen(buf));
	midi_pm_describe_missing(buf, sizeof buf, devs, N_DEVS, false, "Korg");
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "inputs: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"Launchpad Mini\")"));
	CU_ASSERT_PTR_NULL(strstr(buf, "Volca"));
	midi_pm_describe_missing(buf, sizeof buf, devs, 0, true, "Korg");
	CU_ASSERT_STRING_EQUAL(buf, "no PortMidi output matches \"Korg\" (no outputs)");
	midi_pm_describe_missing(buf, sizeof buf, devs, 1, false, "");
	CU_ASSERT_STRING_EQUAL(buf, "no PortMidi input other than Through ports (inputs: "
	                            "\"Midi Through Port-0\")");
	/* too many to list: whole names only, then ", ...)", within the buffer */
	char small[72];
	n = midi_pm_describe_missing(small, sizeof small, devs, N_DEVS, true, "Korg");
	CU_ASSERT_EQUAL(n, strlen(small));
	CU_ASSERT_TRUE(n < sizeof small);
	CU_ASSERT_STRING_EQUAL(small, "no PortMidi output matches \"Korg\" (outputs: "
	                              "\"Midi Through Port-0\", ...)");
	char tiny[8];
	n = midi_pm_describe_missing(tiny, sizeof tiny, devs, N_DEVS, true, "Korg");
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_EQUAL(midi_pm_describe_missing(tiny, 0, devs, N_DEVS, true, "Korg"), 0);
}

static void test_out_specs(void)
{
	CU_ASSERT_EQUAL(midi_out_check_spec("portmidi:Volca"), MIDI_OUT_OK);
	CU_ASSERT_EQUAL(midi_out_check_spec("portmidi:"), MIDI_OUT_ERR_SPEC);
	CU_ASSERT_EQUAL(midi_out_check_spec("portmidi"), MIDI_OUT_ERR_SPEC);
	CU_ASSERT_PTR_NOT_NULL(strstr(midi_out_strerror(MIDI_OUT_ERR_SPEC), "portmidi:NAME"));
}

/* Without the device: the output waits for it (never an error), what comes
 * due meanwhile is dropped and counted, and closing does not hang. */
static void test_out_missing_waits(void)
{
	struct midi_out_options o = {.backoff_first_ns = NS_PER_MS,
	                             .backoff_max_ns = 4 * NS_PER_MS};
	enum midi_out_err err = MIDI_OUT_ERR_COUNT;
	struct midi_out *mo = midi_out_open("portmidi:No Such Synth", &o, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mo);
	CU_ASSERT_EQUAL(err, MIDI_OUT_OK);
	CU_ASSERT_EQUAL(midi_out_state(mo), LINK_WAITING);
	int64_t now = rtclock_mono_ns();
	const uint8_t on[3] = {0x90, 60, 100}, clock = 0xF8;
	CU_ASSERT_TRUE(midi_out_send(mo, now, on, 3));
	CU_ASSERT_TRUE(midi_out_send(mo, now + 1, &clock, 1));
	CU_ASSERT_TRUE(midi_out_send(mo, now + 10 * NS_PER_SEC, &clock, 1));
	CU_ASSERT_EQUAL(midi_out_next_due(mo), now);
	midi_out_pump(mo, now + 2);
	struct midi_out_stats st;
	midi_out_get_stats(mo, &st);
	CU_ASSERT_EQUAL(st.dropped_offline, 2);
	CU_ASSERT_EQUAL(st.messages, 0);
	CU_ASSERT_EQUAL(st.queued, 1); /* the one not due yet waits */
	CU_ASSERT_EQUAL(midi_out_next_due(mo), now + 10 * NS_PER_SEC);
	CU_ASSERT_EQUAL(midi_out_state(mo), LINK_WAITING);
	int64_t t0 = rtclock_mono_ns();
	midi_out_close(mo);
	CU_ASSERT_TRUE(rtclock_mono_ns() - t0 < WAIT_NS);
}

/* The open reports why, naming the ALSA sequencer when there is none, or
 * listing the outputs that exist. */
static void test_open_missing_says_why(void)
{
	char name[MIDI_PM_NAME_MAX] = "", why[512] = "";
	struct midi_pm_port *p =
	    midi_pm_open(true, "No Such Synth", name, sizeof name, why, sizeof why);
	CU_ASSERT_PTR_NULL(p);
	midi_pm_close(p);
	CU_ASSERT_TRUE(strstr(why, "no ALSA sequencer") != NULL ||
	               strstr(why, "matches \"No Such Synth\"") != NULL);
}

/* A clock port passes clock and transport only; the notes input beside it
 * passes everything else. */
static void test_filters(void)
{
	static const enum midi_kind clock[] = {MIDI_CLOCK, MIDI_START, MIDI_CONTINUE, MIDI_STOP};
	static const enum midi_kind other[] = {MIDI_NOTE_ON, MIDI_NOTE_OFF, MIDI_CC,
	                                       MIDI_PITCH_BEND, MIDI_PROGRAM};
	for (size_t i = 0; i < sizeof clock / sizeof clock[0]; i++) {
		CU_ASSERT_TRUE(midi_in_passes(MIDI_IN_CLOCK_ONLY, clock[i]));
		CU_ASSERT_FALSE(midi_in_passes(MIDI_IN_NO_CLOCK, clock[i]));
		CU_ASSERT_TRUE(midi_in_passes(MIDI_IN_ALL, clock[i]));
	}
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
		CU_ASSERT_FALSE(midi_in_passes(MIDI_IN_CLOCK_ONLY, other[i]));
		CU_ASSERT_TRUE(midi_in_passes(MIDI_IN_NO_CLOCK, other[i]));
		CU_ASSERT_TRUE(midi_in_passes(MIDI_IN_ALL, other[i]));
	}
}

TEST_SUITE(midi_pm, NULL, NULL, TEST_CASE(test_pick), TEST_CASE(test_describe_missing),
           TEST_CASE(test_out_specs), TEST_CASE(test_out_missing_waits),
           TEST_CASE(test_open_missing_says_why), TEST_CASE(test_filters))
