/*
 * Tests of devspec, the one grammar of device and server addresses: serial
 * ports with their rate, MIDI inputs and LED transports as the
 * configuration and the command line check them, HOST:PORT in every form
 * the program takes.
 */
#include <string.h>

#include "cfg/config.h"
#include "dev/devspec.h"
#include "testlib.h"

static void test_path_baud(void)
{
	char path[64];
	int baud;
	CU_ASSERT_EQUAL(devspec_path_baud("/dev/ttyACM0", path, sizeof path, &baud), 0);
	CU_ASSERT_STRING_EQUAL(path, "/dev/ttyACM0");
	CU_ASSERT_EQUAL(baud, 0); /* not given: the device's default */
	CU_ASSERT_EQUAL(devspec_path_baud("/dev/ttyAMA0@31250", path, sizeof path, &baud), 0);
	CU_ASSERT_STRING_EQUAL(path, "/dev/ttyAMA0");
	CU_ASSERT_EQUAL(baud, 31250);
	/* only the last @ is the rate */
	CU_ASSERT_EQUAL(devspec_path_baud("/tmp/a@b/tty@57600", path, sizeof path, &baud), 0);
	CU_ASSERT_STRING_EQUAL(path, "/tmp/a@b/tty");
	CU_ASSERT_EQUAL(baud, 57600);

	const char *bad[] = {"",          "@9600",           "/dev/x@",  "/dev/x@fast",
	                     "/dev/x@10", "/dev/x@99999999", "/dev/x@-5"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(devspec_path_baud(bad[i], path, sizeof path, &baud), -1);
	char tiny[4];
	CU_ASSERT_EQUAL(devspec_path_baud("/dev/ttyUSB0", tiny, sizeof tiny, &baud), -1);
}

/* Every form parses to its kind and parts. */
static void test_kinds(void)
{
	struct devspec d;
	CU_ASSERT_EQUAL(devspec_parse("none", &d), 0);
	CU_ASSERT_EQUAL(d.kind, DEVSPEC_NONE);
	CU_ASSERT_EQUAL(devspec_parse("auto", &d), 0);
	CU_ASSERT_EQUAL(d.kind, DEVSPEC_AUTO);
	CU_ASSERT_EQUAL(devspec_parse("portmidi:Teensy MIDI", &d), 0);
	CU_ASSERT_EQUAL(d.kind, DEVSPEC_PORTMIDI);
	CU_ASSERT_STRING_EQUAL(d.path, "Teensy MIDI");
	CU_ASSERT_EQUAL(devspec_parse("raw:/dev/snd/midiC1D0", &d), 0);
	CU_ASSERT_EQUAL(d.kind, DEVSPEC_RAW);
	CU_ASSERT_STRING_EQUAL(d.path, "/dev/snd/midiC1D0");
	CU_ASSERT_EQUAL(d.baud, 0);
	CU_ASSERT_EQUAL(devspec_parse("serial:/dev/ttyACM1@115200", &d), 0);
	CU_ASSERT_EQUAL(d.kind, DEVSPEC_SERIAL);
	CU_ASSERT_STRING_EQUAL(d.path, "/dev/ttyACM1");
	CU_ASSERT_EQUAL(d.baud, 115200);
	CU_ASSERT_EQUAL(devspec_parse("udp:[::1]:7000", &d), 0);
	CU_ASSERT_EQUAL(d.kind, DEVSPEC_UDP);
	CU_ASSERT_STRING_EQUAL(d.host, "::1");
	CU_ASSERT_EQUAL(d.port, 7000);
	CU_ASSERT_EQUAL(devspec_parse(NULL, &d), -1);
	CU_ASSERT_EQUAL(devspec_parse("tcp:x:1", &d), -1);
	/* a device takes only its own kinds */
	CU_ASSERT_EQUAL(config_check_midi_spec("serial:/dev/ttyACM0"), -1);
	CU_ASSERT_EQUAL(config_check_led_spec("raw:/dev/ttyACM0"), -1);
	CU_ASSERT_EQUAL(config_check_led_spec("auto"), -1);
}

static void test_host_port(void)
{
	char host[64];
	int port = 0;
	CU_ASSERT_EQUAL(devspec_host_port("localhost:57110", host, sizeof host, &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "localhost");
	CU_ASSERT_EQUAL(port, 57110);
	CU_ASSERT_EQUAL(devspec_host_port("[fe80::1]:80", host, sizeof host, &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "fe80::1");
	const char *bad[] = {"localhost",    ":80",       "h:0",    "h:65536", "h:8x",
	                     "local host:1", "[::1:9000", "[zz]:1", "[]:1",    "h:123456"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(devspec_host_port(bad[i], host, sizeof host, &port), -1);
	char tiny[4];
	CU_ASSERT_EQUAL(devspec_host_port("teensy.local:7000", tiny, sizeof tiny, &port), -1);
}

TEST_SUITE(devspec, NULL, NULL, TEST_CASE(test_path_baud), TEST_CASE(test_kinds),
           TEST_CASE(test_host_port))
