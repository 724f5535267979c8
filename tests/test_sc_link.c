/* Tests of how the engine tells a late note on an external server from its
 * /n_go (sc_link_late_ns): figures as an engine measured them on a server
 * with JACK periods of 256 frames (5.3 ms) and of 2048 frames (43 ms). */
#include "synth/sc_link.h"
#include "testlib.h"

#define MS INT64_C(1000000)

/* probe notes' timetag - /n_go 1.3 .. 6.2 ms, /status round trip 3.9 ms */
static const struct sc_lead p256 = {
    .lead_ns = 10100000, .earliest_ns = 1300000, .latest_ns = 6200000, .rtt_ns = 3900000};
/* 0.9 .. 43.2 ms, round trip 42.4 ms (the /status waits for a period) */
static const struct sc_lead p2048 = {
    .lead_ns = 85600000, .earliest_ns = 900000, .latest_ns = 43200000, .rtt_ns = 42400000};

#define DUE (1000 * MS)

/* Notes sent 60 ms ahead (the sequencer's look-ahead plus the lead) that
 * start anywhere in the period their timetag falls in are on time. */
static void test_on_time(void)
{
	for (int64_t x = p256.earliest_ns; x <= p256.latest_ns; x += MS / 10)
		CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, DUE - 60 * MS, DUE - x), 0);
	/* a live note, sent with the lead and 10 ms of slack */
	CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, DUE - 20 * MS, DUE - p256.earliest_ns), 0);
}

/* A bundle sent after its time starts in the first period after it
 * arrives: 9.3 ms after an on-time note would have. */
static void test_late(void)
{
	int64_t sent = DUE + 3 * MS, arrived = sent + 5 * MS;
	CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, sent, arrived),
	                arrived - (DUE - p256.earliest_ns));
	CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, sent, arrived), 9300000);
	/* by the margin, not more: on time; a nanosecond more: late */
	int64_t edge = DUE - p256.earliest_ns + SC_LINK_LATE_MARGIN_NS;
	CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, DUE, edge), 0);
	CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, DUE, edge + 1), SC_LINK_LATE_MARGIN_NS + 1);
}

/* The server's clock stepped by more than a period, so notes start later
 * than the probe said, yet the server held each bundle for its timetag:
 * not late (a clean-clone check once counted 18 such notes, 5.0 .. 6.7 ms
 * "late", where the server printed 2 late lines).  Nor is an on-time note
 * whose /n_go the server's reply thread sent 22 ms late. */
static void test_held_for_its_time(void)
{
	for (int64_t x = p256.earliest_ns; x <= p256.latest_ns; x += MS / 10) {
		CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, DUE - 60 * MS, DUE - x + 7 * MS), 0);
		CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, DUE - 20 * MS, DUE - x + 7 * MS), 0);
		CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, DUE - 20 * MS, DUE - x + 22 * MS), 0);
	}
	/* the limit: the round trip, the probes' spread and the margin after
	 * the send (13.8 ms here) */
	int64_t sent = DUE - 4 * MS, at_once = sent + 13800000;
	CU_ASSERT(sc_link_late_ns(&p256, DUE, sent, at_once) > 0);
	CU_ASSERT_EQUAL(sc_link_late_ns(&p256, DUE, sent, at_once + 1), 0);
}

/* A lead far too short (1 ms, 10 ms of look-ahead) for periods of 2048
 * frames: a note whose bundle came late starts up to a period after it
 * arrived and is counted; one whose bundle made it is not. */
static void test_short_lead(void)
{
	int64_t due = DUE, sent = due - 11 * MS;
	for (int64_t wait = 0; wait <= 43 * MS; wait += MS) {
		int64_t arrived = sent + 2 * MS + wait;
		int64_t over = arrived - (due - p2048.earliest_ns);
		CU_ASSERT_EQUAL(sc_link_late_ns(&p2048, due, sent, arrived),
		                over > SC_LINK_LATE_MARGIN_NS ? over : 0);
	}
	CU_ASSERT_EQUAL(sc_link_late_ns(&p2048, due, sent, sent + 40 * MS), 29900000);
}

TEST_SUITE(sc_link, NULL, NULL, TEST_CASE(test_on_time), TEST_CASE(test_late),
           TEST_CASE(test_held_for_its_time), TEST_CASE(test_short_lead))
