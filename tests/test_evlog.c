/* Tests of the event log lines: the schema of doc/events.md, byte for byte. */
#include <locale.h>
#include <string.h>

#include "core/engine.h"
#include "core/evlog.h"
#include "core/jw.h"
#include "core/scale.h"
#include "testlib.h"

static char line[EVLOG_LINE_MAX];
static struct engine_config cfg;

static const char *fmt(const struct event *ev, int64_t t0)
{
	size_t n = evlog_format(ev, &cfg, t0, line, sizeof line);
	CU_ASSERT_EQUAL(n, strlen(line));
	return line;
}

static void test_types(void)
{
	testlib_default_config(&cfg);
	struct event ev = {.type = EV_NOTE, .t = 1500000000};
	ev.u.note.pitch = 62;
	ev.u.note.velocity = 90;
	ev.u.note.step = 3;
	ev.u.note.dur = 68181818;
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":1.500000,\"type\":\"note\",\"pitch\":62,\"velocity\":90,"
	                       "\"duration\":0.068182,\"step\":3}\n");

	memset(&ev, 0, sizeof ev);
	ev.type = EV_PARAM;
	ev.t = 2 * NS_PER_SEC + 1234567;
	ev.u.param.id = P_TEMPO;
	ev.u.param.source = SRC_MIDI;
	ev.u.param.value = 77.94621;
	CU_ASSERT_STRING_EQUAL(
	    fmt(&ev, NS_PER_SEC),
	    "{\"t\":1.001235,\"type\":\"param\",\"name\":\"tempo\",\"value\":77.9462,"
	    "\"source\":\"midi\"}\n");
	ev.u.param.id = P_PALETTE;
	ev.u.param.value = 1;
	ev.u.param.source = SRC_MUTATION;
	CU_ASSERT_STRING_EQUAL(
	    fmt(&ev, ev.t), "{\"t\":0.000000,\"type\":\"param\",\"name\":\"palette\",\"value\":1,"
	                    "\"label\":\"tide\",\"source\":\"mutation\"}\n");
	ev.u.param.id = P_SCALE_SELECT;
	ev.u.param.value = 2;
	ev.u.param.source = SRC_IDLE;
	CU_ASSERT_STRING_EQUAL(
	    fmt(&ev, ev.t),
	    "{\"t\":0.000000,\"type\":\"param\",\"name\":\"scale_select\",\"value\":2,"
	    "\"label\":\"pentatonic\",\"source\":\"idle\"}\n");

	memset(&ev, 0, sizeof ev);
	ev.type = EV_SCALE;
	ev.t = 4363636364;
	ev.u.scale.scale = SCALE_MINOR;
	ev.u.scale.root = 57;
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":4.363636,\"type\":\"scale\",\"scale\":\"minor\",\"root\":57,"
	                       "\"root_name\":\"A3\"}\n");

	memset(&ev, 0, sizeof ev);
	ev.type = EV_MUTATION;
	ev.t = 180 * NS_PER_SEC;
	ev.u.mutation.n = 2;
	ev.u.mutation.ch[0] = (struct event_change){P_DENSITY, 0.85, 0.79123};
	ev.u.mutation.ch[1] = (struct event_change){P_FILTER_CUTOFF, 2400, 2012.5};
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":180.000000,\"type\":\"mutation\",\"changes\":["
	                       "{\"name\":\"density\",\"from\":0.85,\"to\":0.7912},"
	                       "{\"name\":\"filter_cutoff\",\"from\":2400,\"to\":2012.5}]}\n");

	memset(&ev, 0, sizeof ev);
	ev.type = EV_IDLE;
	ev.t = 30 * NS_PER_SEC;
	ev.u.idle.on = 1;
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":30.000000,\"type\":\"idle\",\"state\":\"enter\"}\n");
	ev.u.idle.on = 0;
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":30.000000,\"type\":\"idle\",\"state\":\"exit\"}\n");

	memset(&ev, 0, sizeof ev);
	ev.type = EV_MODE;
	ev.u.mode.mode = 1;
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":0.000000,\"type\":\"mode\",\"mode\":\"mystic\"}\n");

	memset(&ev, 0, sizeof ev);
	ev.type = EV_INPUT;
	ev.t = 250 * NS_PER_MS;
	ev.u.input = (struct midi_msg){.kind = MIDI_CC, .channel = 1, .number = 20, .value = 64};
	CU_ASSERT_STRING_EQUAL(
	    fmt(&ev, 0),
	    "{\"t\":0.250000,\"type\":\"input\",\"kind\":\"cc\",\"channel\":1,\"number\":20,"
	    "\"value\":64}\n");

	memset(&ev, 0, sizeof ev);
	ev.type = EV_TRANSPORT;
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":0.000000,\"type\":\"transport\",\"state\":\"paused\"}\n");
	ev.type = EV_STEP_EDIT;
	ev.u.step_edit.step = 4;
	ev.u.step_edit.on = 1;
	ev.u.step_edit.prob = 1;
	ev.u.step_edit.velocity = 116;
	ev.u.step_edit.source = SRC_MIDI;
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":0.000000,\"type\":\"step_edit\",\"step\":4,\"on\":true,"
	                       "\"probability\":1,\"velocity\":116,\"source\":\"midi\"}\n");

	/* The pattern: the active steps' degrees, null where a step is off. */
	memset(&ev, 0, sizeof ev);
	ev.type = EV_PATTERN;
	ev.u.pattern.cause = PATTERN_REWRITE;
	ev.u.pattern.len = 5;
	ev.u.pattern.shift = -2;
	ev.u.pattern.step = 3;
	ev.u.pattern.off = 1u << 1;
	const int8_t deg[5] = {0, 4, 7, -1, 13};
	memcpy(ev.u.pattern.degree, deg, sizeof deg);
	ev.u.pattern.degree[5] = 9; /* past the length: not shown */
	CU_ASSERT_STRING_EQUAL(
	    fmt(&ev, 0), "{\"t\":0.000000,\"type\":\"pattern\",\"cause\":\"rewrite\",\"length\":5,"
	                 "\"shift\":-2,\"step\":3,\"degrees\":[0,null,7,-1,13]}\n");
	ev.u.pattern.step = -1;
	ev.u.pattern.cause = PATTERN_START;
	ev.u.pattern.len = 64;
	ev.u.pattern.off = ~UINT64_C(0);
	size_t n = evlog_format(&ev, &cfg, 0, line, sizeof line);
	CU_ASSERT(n > 0 && n < sizeof line);
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"cause\":\"start\""));
	CU_ASSERT_PTR_NULL(strstr(line, "\"step\""));

	/* The playhead is not logged. */
	ev.type = EV_STEP;
	CU_ASSERT_EQUAL(evlog_format(&ev, &cfg, 0, line, sizeof line), 0);
}

static void test_numbers(void)
{
	char b[32];
	jw_number(0.30000000000000004, 4, b);
	CU_ASSERT_STRING_EQUAL(b, "0.3");
	jw_number(-0.00004, 4, b);
	CU_ASSERT_STRING_EQUAL(b, "0");
	jw_number(-1.23456, 4, b);
	CU_ASSERT_STRING_EQUAL(b, "-1.2346");
	jw_number(12000, 4, b);
	CU_ASSERT_STRING_EQUAL(b, "12000");
	jw_number(0.99999, 4, b);
	CU_ASSERT_STRING_EQUAL(b, "1");
	jw_number(1.0 / 0.0, 4, b);
	CU_ASSERT_STRING_EQUAL(b, "null");
	/* Before the start: negative seconds, still six decimals. */
	testlib_default_config(&cfg);
	struct event ev = {.type = EV_IDLE, .t = -1500};
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0),
	                       "{\"t\":-0.000002,\"type\":\"idle\",\"state\":\"exit\"}\n");
}

/* Names from the config are escaped; no config gives numbers; short buffers give 0. */
static void test_edges(void)
{
	testlib_default_config(&cfg);
	strcpy(cfg.profiles[0].name, "say \"hi\"\\");
	struct event ev = {.type = EV_MODE};
	CU_ASSERT_STRING_EQUAL(
	    fmt(&ev, 0), "{\"t\":0.000000,\"type\":\"mode\",\"mode\":\"say \\\"hi\\\"\\\\\"}\n");
	ev.u.mode.mode = 9;
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0), "{\"t\":0.000000,\"type\":\"mode\",\"mode\":\"9\"}\n");
	CU_ASSERT(evlog_format(&ev, NULL, 0, line, sizeof line) > 0);
	char small[16];
	CU_ASSERT_EQUAL(evlog_format(&ev, &cfg, 0, small, sizeof small), 0);
	/* The longest line fits. */
	struct event m = {.type = EV_MUTATION, .t = INT64_MAX};
	m.u.mutation.n = EVENT_MUT_MAX;
	for (int i = 0; i < EVENT_MUT_MAX; i++)
		m.u.mutation.ch[i] =
		    (struct event_change){P_SEQUENCE_LENGTH, -123456789.123, -987654321.987};
	CU_ASSERT(evlog_format(&m, &cfg, -1, line, sizeof line) > 0);
	CU_ASSERT(strstr(line, "\"t\":9223372036.854776,") != NULL);
}

/* A comma decimal locale changes nothing. */
static void test_locale(void)
{
	testlib_default_config(&cfg);
	struct event ev = {.type = EV_PARAM, .t = 1500000};
	ev.u.param.id = P_REVERB_MIX;
	ev.u.param.value = 0.25;
	const char *want =
	    "{\"t\":0.001500,\"type\":\"param\",\"name\":\"reverb_mix\",\"value\":0.25,"
	    "\"source\":\"config\"}\n";
	CU_ASSERT_STRING_EQUAL(fmt(&ev, 0), want);
	const char *locales[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "ru_RU.UTF-8"};
	for (size_t i = 0; i < 4; i++)
		if (setlocale(LC_NUMERIC, locales[i])) {
			CU_ASSERT_STRING_EQUAL(fmt(&ev, 0), want);
			break;
		}
	setlocale(LC_NUMERIC, "C");
}

/* The same seed and inputs give the same log, byte for byte. */
static void test_log_determinism(void)
{
	static char log_a[1 << 20], log_b[1 << 20];
	static struct event evs[4096];
	char *logs[2] = {log_a, log_b};
	size_t len[2] = {0, 0};
	testlib_default_config(&cfg);
	cfg.interval_min_s = 2;
	cfg.interval_max_s = 4;
	for (int r = 0; r < 2; r++) {
		struct engine *e = engine_new(&cfg, 31337);
		engine_start(e, 1000 * NS_PER_SEC);
		for (int64_t to = 1000 * NS_PER_SEC; to < 1100 * NS_PER_SEC; to += 10 * NS_PER_MS) {
			if (to % (3 * NS_PER_SEC) == 0) {
				struct engine_input in = {.kind = INPUT_MIDI, .t = to};
				in.u.midi =
				    (struct midi_msg){.kind = MIDI_CC,
				                      .channel = 1,
				                      .number = 21,
				                      .value = (uint16_t)(to / NS_PER_SEC % 128)};
				engine_input(e, &in);
			}
			size_t n = engine_advance(e, to, evs, 4096);
			for (size_t i = 0; i < n; i++) {
				size_t k = evlog_format(&evs[i], &cfg, 1000 * NS_PER_SEC,
				                        logs[r] + len[r], sizeof log_a - len[r]);
				len[r] += k;
			}
		}
		engine_free(e);
	}
	CU_ASSERT(len[0] > 10000);
	CU_ASSERT_EQUAL(len[0], len[1]);
	CU_ASSERT(memcmp(log_a, log_b, len[0]) == 0);
	/* The log starts with the scale in force at the start. */
	CU_ASSERT(strncmp(log_a, "{\"t\":0.000000,\"type\":\"scale\",\"scale\":\"major\"", 44) ==
	          0);
}

TEST_SUITE(evlog, NULL, NULL, TEST_CASE(test_types), TEST_CASE(test_numbers), TEST_CASE(test_edges),
           TEST_CASE(test_locale), TEST_CASE(test_log_determinism))
