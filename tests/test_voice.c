/* Tests of the voice allocator: a player never hears more than N voices,
 * the oldest note gives way, a voice fading out still counts and keeps its
 * node id, and release-all silences everything. */
#include "synth/voice.h"
#include "testlib.h"

#define MS 1000000LL

static void test_free_voices_first(void)
{
	struct voice_alloc va;
	struct voice_slot stolen = {-1, 0, 0};
	voice_init(&va, 4, 1000, 1999);
	for (int i = 0; i < 4; i++) {
		int32_t node = voice_alloc(&va, i * 10 * MS, 500 * MS, &stolen);
		CU_ASSERT_EQUAL(node, 1000 + i);
		CU_ASSERT_EQUAL(stolen.node, 0);
	}
	CU_ASSERT_EQUAL(voice_in_use(&va, 40 * MS), 4);
	CU_ASSERT_EQUAL(va.steals, 0);
}

static void test_oldest_stolen_when_full(void)
{
	struct voice_alloc va;
	struct voice_slot stolen;
	int32_t nodes[3];
	voice_init(&va, 3, 1, 100);
	/* Started in the order 2nd, 0th, 1st: the slot started at 5 ms is oldest. */
	nodes[0] = voice_alloc(&va, 20 * MS, 1000 * MS, &stolen);
	nodes[1] = voice_alloc(&va, 5 * MS, 1000 * MS, &stolen);
	nodes[2] = voice_alloc(&va, 30 * MS, 1000 * MS, &stolen);
	int32_t n = voice_alloc(&va, 40 * MS, 1000 * MS, &stolen);
	CU_ASSERT_EQUAL(stolen.node, nodes[1]);
	CU_ASSERT_EQUAL(stolen.start, 5 * MS);
	CU_ASSERT_NOT_EQUAL(n, nodes[1]);
	n = voice_alloc(&va, 50 * MS, 1000 * MS, &stolen);
	CU_ASSERT_EQUAL(stolen.node, nodes[0]);
	CU_ASSERT_EQUAL(va.steals, 2);
	CU_ASSERT_EQUAL(voice_in_use(&va, 50 * MS), 3);
}

static void test_ended_voice_is_reused(void)
{
	struct voice_alloc va;
	struct voice_slot stolen;
	voice_init(&va, 2, 1, 100);
	voice_alloc(&va, 0, 100 * MS, &stolen);
	voice_alloc(&va, 0, 300 * MS, &stolen);
	/* At 150 ms the first note is over: no steal. */
	voice_alloc(&va, 150 * MS, 400 * MS, &stolen);
	CU_ASSERT_EQUAL(stolen.node, 0);
	CU_ASSERT_EQUAL(voice_in_use(&va, 200 * MS), 2);
	CU_ASSERT_EQUAL(voice_in_use(&va, 350 * MS), 1);
	CU_ASSERT_EQUAL(voice_in_use(&va, 400 * MS), 0);
}

/* Notes scheduled ahead count: a voice booked for later is not free now. */
static void test_future_note_is_taken(void)
{
	struct voice_alloc va;
	struct voice_slot stolen;
	voice_init(&va, 1, 1, 100);
	int32_t a = voice_alloc(&va, 100 * MS, 200 * MS, &stolen);
	voice_alloc(&va, 50 * MS, 80 * MS, &stolen);
	CU_ASSERT_EQUAL(stolen.node, a);
}

static void test_release_all(void)
{
	struct voice_alloc va;
	struct voice_slot stolen, out[8];
	voice_init(&va, 4, 10, 99);
	int32_t a = voice_alloc(&va, 0, 100 * MS, &stolen);
	int32_t b = voice_alloc(&va, 0, 500 * MS, &stolen);
	int32_t c = voice_alloc(&va, 10 * MS, 600 * MS, &stolen);
	(void)a;
	int n = voice_release_all(&va, 200 * MS, out, 8);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_TRUE((out[0].node == b && out[1].node == c) ||
	               (out[0].node == c && out[1].node == b));
	CU_ASSERT_EQUAL(out[0].node == c ? out[0].start : out[1].start, 10 * MS);
	CU_ASSERT_EQUAL(voice_in_use(&va, 300 * MS), 0);
	/* All four voices are free again. */
	for (int i = 0; i < 4; i++) {
		voice_alloc(&va, 300 * MS, 900 * MS, &stolen);
		CU_ASSERT_EQUAL(stolen.node, 0);
	}
}

/* A dense random stream of notes never holds more than N voices, and every
 * stolen node is one that was sounding. */
static void test_never_more_than_n(void)
{
	struct voice_alloc va;
	uint32_t seed = 12345;
	struct voice_slot stolen;
	int over = 0, bad_steal = 0;
	voice_init(&va, 8, 1000, 1000 + 4095);
	int64_t t = 0;
	for (int i = 0; i < 5000; i++) {
		seed = seed * 1103515245u + 12345u;
		t += (seed >> 16) % (40 * MS);
		int64_t dur = ((seed >> 8) % 2000) * MS;
		int before = voice_in_use(&va, t);
		voice_alloc(&va, t, t + dur, &stolen);
		if (stolen.node != 0 && before < 8)
			bad_steal++;
		if (voice_in_use(&va, t) > 8)
			over++;
	}
	CU_ASSERT_EQUAL(over, 0);
	CU_ASSERT_EQUAL(bad_steal, 0);
	CU_ASSERT_TRUE(va.steals > 0);
	CU_ASSERT_EQUAL(va.allocs, 5000);
}

static void test_node_ids_cycle(void)
{
	struct voice_alloc va;
	struct voice_slot stolen;
	voice_init(&va, 2, 7, 9);
	CU_ASSERT_EQUAL(voice_alloc(&va, 0, 1, &stolen), 7);
	CU_ASSERT_EQUAL(voice_alloc(&va, 2, 3, &stolen), 8);
	CU_ASSERT_EQUAL(voice_alloc(&va, 4, 5, &stolen), 9);
	CU_ASSERT_EQUAL(voice_alloc(&va, 6, 7, &stolen), 7);
	voice_init(&va, 0, 1, 10);
	CU_ASSERT_EQUAL(va.n, 1);
	voice_init(&va, 1000, 1, 10);
	CU_ASSERT_EQUAL(va.n, VOICE_MAX);
}

/* A stolen voice fading out is counted until its fade ends, and its node id
 * is not given to a new note before then, even when the ids wrap around. */
static void test_fading_counted(void)
{
	struct voice_alloc va;
	struct voice_slot stolen;
	voice_init(&va, 2, 1, 5);
	int32_t a = voice_alloc(&va, 0, 1000 * MS, &stolen);
	int32_t b = voice_alloc(&va, 10 * MS, 1000 * MS, &stolen);
	int32_t c = voice_alloc(&va, 100 * MS, 1000 * MS, &stolen);
	CU_ASSERT_EQUAL(stolen.node, a);
	CU_ASSERT_EQUAL(c, 3);
	/* released 10 ms before the new note, faded out 2 ms after it */
	voice_fade(&va, a, stolen.start, 102 * MS);
	CU_ASSERT_EQUAL(voice_in_use(&va, 95 * MS), 2);
	CU_ASSERT_EQUAL(voice_in_use(&va, 101 * MS), 3);
	CU_ASSERT_EQUAL(voice_in_use(&va, 102 * MS), 2);
	int32_t d = voice_alloc(&va, 101 * MS, 1000 * MS, &stolen);
	CU_ASSERT_EQUAL(stolen.node, b);
	voice_fade(&va, b, stolen.start, 111 * MS);
	int32_t e = voice_alloc(&va, 105 * MS, 1000 * MS, &stolen);
	CU_ASSERT_EQUAL(stolen.node, c);
	voice_fade(&va, c, stolen.start, 115 * MS);
	CU_ASSERT_EQUAL(d, 4);
	CU_ASSERT_EQUAL(e, 5);
	/* the ids wrap: 1 has faded out and is free, 2 and 3 are still fading */
	int32_t f = voice_alloc(&va, 106 * MS, 1000 * MS, &stolen);
	CU_ASSERT_EQUAL(f, 1);
	int32_t g = voice_alloc(&va, 107 * MS, 1000 * MS, &stolen);
	CU_ASSERT_EQUAL(g, 4);
	CU_ASSERT_EQUAL(voice_in_use(&va, 108 * MS), 4);
	/* a pause: both notes released, their fades counted, ids reserved */
	struct voice_slot out[4];
	CU_ASSERT_EQUAL(voice_release_all(&va, 200 * MS, out, 4), 2);
	voice_fade(&va, out[0].node, out[0].start, 500 * MS);
	voice_fade(&va, out[1].node, out[1].start, 500 * MS);
	CU_ASSERT_EQUAL(voice_in_use(&va, 300 * MS), 2);
	int32_t h = voice_alloc(&va, 300 * MS, 1000 * MS, &stolen);
	CU_ASSERT_EQUAL(stolen.node, 0);
	CU_ASSERT_EQUAL(h, 5);
	CU_ASSERT_EQUAL(voice_in_use(&va, 300 * MS), 3);
	CU_ASSERT_EQUAL(voice_in_use(&va, 600 * MS), 1);
	voice_reset(&va);
	CU_ASSERT_EQUAL(voice_in_use(&va, 300 * MS), 0);
}

/* A burst of steals longer than the list of fades keeps the latest fades. */
static void test_fading_list_full(void)
{
	struct voice_alloc va;
	voice_init(&va, 1, 1, 100000);
	for (int i = 0; i < 3 * VOICE_FADING_MAX; i++)
		voice_fade(&va, 1000 + i, 0, (1000 + i) * MS);
	CU_ASSERT_EQUAL(va.n_fading, VOICE_FADING_MAX);
	CU_ASSERT_EQUAL(voice_in_use(&va, (1000 + 3 * VOICE_FADING_MAX - 1) * MS - 1), 1);
	CU_ASSERT_EQUAL(voice_in_use(&va, (1000 + 2 * VOICE_FADING_MAX) * MS),
	                VOICE_FADING_MAX - 1);
}

TEST_SUITE(voice, NULL, NULL, TEST_CASE(test_free_voices_first),
           TEST_CASE(test_oldest_stolen_when_full), TEST_CASE(test_ended_voice_is_reused),
           TEST_CASE(test_future_note_is_taken), TEST_CASE(test_release_all),
           TEST_CASE(test_never_more_than_n), TEST_CASE(test_node_ids_cycle),
           TEST_CASE(test_fading_counted), TEST_CASE(test_fading_list_full))
