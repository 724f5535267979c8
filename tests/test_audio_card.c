/*
 * Tests of audio_card: the card lists of real Raspberry Pi images
 * (tests/fixtures/asound/IMAGE/{cards,pcm}, copied from the kernel's
 * /proc/asound on those images) and the card each setting plays on: auto
 * never picks HDMI, prefers a USB interface or a HAT to the headphone jack,
 * skips a USB MIDI controller; a named card that is absent is reported and
 * found once it appears; jackd always gets "hw:CARD=ID".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/audio_card.h"
#include "testlib.h"

static const char *image(const char *name)
{
	static char dir[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(dir[k], sizeof dir[k], "%s/tests/fixtures/asound/%s", testlib_srcdir(), name);
	return dir[k];
}

/* The device spec chooses on image, or "" with the error in *e. */
static const char *chosen(const char *img, const char *spec, enum audio_card_err *e)
{
	static char dev[AUDIO_CARD_DEV_MAX];
	struct audio_card_list l;
	int i;
	dev[0] = '\0';
	*e = audio_card_scan(image(img), &l);
	if (*e == AUDIO_CARD_OK && (*e = audio_card_choose(&l, spec, &i)) == AUDIO_CARD_OK)
		audio_card_device(&l.card[i], dev, sizeof dev);
	return dev;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* Raspberry Pi OS 12 (KMS): HDMI takes cards 0 and 1, the jack is card 2. */
static void test_parse_bookworm(void)
{
	struct audio_card_list l;
	CU_ASSERT_EQUAL_FATAL(audio_card_scan(image("rpios-bookworm"), &l), AUDIO_CARD_OK);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_EQUAL(l.card[0].index, 0);
	CU_ASSERT_STRING_EQUAL(l.card[0].id, "vc4hdmi0");
	CU_ASSERT_STRING_EQUAL(l.card[0].driver, "vc4-hdmi");
	CU_ASSERT_STRING_EQUAL(l.card[0].name, "vc4-hdmi-0");
	CU_ASSERT_EQUAL(l.card[0].kind, AUDIO_CARD_HDMI);
	CU_ASSERT_EQUAL(l.card[1].kind, AUDIO_CARD_HDMI);
	CU_ASSERT_EQUAL(l.card[2].index, 2);
	CU_ASSERT_STRING_EQUAL(l.card[2].id, "Headphones");
	CU_ASSERT_STRING_EQUAL(l.card[2].driver, "bcm2835_headpho");
	CU_ASSERT_STRING_EQUAL(l.card[2].name, "bcm2835 Headphones");
	CU_ASSERT_STRING_EQUAL(l.card[2].longname, "bcm2835 Headphones");
	CU_ASSERT_EQUAL(l.card[2].kind, AUDIO_CARD_HEADPHONES);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_TRUE(l.card[i].playback);
	char seen[160];
	audio_card_describe(&l, seen, sizeof seen);
	CU_ASSERT_STRING_EQUAL(seen,
	                       "0 vc4hdmi0 (hdmi), 1 vc4hdmi1 (hdmi), 2 Headphones (headphones)");
}

/* A USB interface and the Teensy (USB MIDI only: a card without playback);
 * a HAT whose 15-character id fills the brackets. */
static void test_parse_usb_and_hat(void)
{
	struct audio_card_list l;
	CU_ASSERT_EQUAL_FATAL(audio_card_scan(image("usb-teensy"), &l), AUDIO_CARD_OK);
	CU_ASSERT_EQUAL_FATAL(l.n, 5);
	CU_ASSERT_STRING_EQUAL(l.card[3].id, "CODEC");
	CU_ASSERT_STRING_EQUAL(l.card[3].name, "USB Audio CODEC");
	CU_ASSERT_EQUAL(l.card[3].kind, AUDIO_CARD_USB);
	CU_ASSERT_TRUE(l.card[3].playback);
	CU_ASSERT_STRING_EQUAL(l.card[4].name, "Teensy MIDI");
	CU_ASSERT_EQUAL(l.card[4].kind, AUDIO_CARD_USB);
	CU_ASSERT_FALSE(l.card[4].playback);

	CU_ASSERT_EQUAL_FATAL(audio_card_scan(image("hat"), &l), AUDIO_CARD_OK);
	CU_ASSERT_EQUAL_FATAL(l.n, 4);
	CU_ASSERT_STRING_EQUAL(l.card[3].id, "sndrpihifiberry");
	CU_ASSERT_STRING_EQUAL(l.card[3].driver, "RPi-simple");
	CU_ASSERT_EQUAL(l.card[3].kind, AUDIO_CARD_HAT);
}

/* auto: never HDMI, whatever number the jack gets on each image. */
static void test_auto_per_image(void)
{
	enum audio_card_err e;
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "auto", &e), "hw:CARD=Headphones");
	CU_ASSERT_STRING_EQUAL(chosen("debian-raspi", "auto", &e), "hw:CARD=ALSA");
	CU_ASSERT_STRING_EQUAL(chosen("rpios-legacy", "auto", &e), "hw:CARD=Headphones");
	CU_ASSERT_STRING_EQUAL(chosen("usb-teensy", "auto", &e), "hw:CARD=CODEC");
	CU_ASSERT_STRING_EQUAL(chosen("hat", "auto", &e), "hw:CARD=sndrpihifiberry");
	CU_ASSERT_STRING_EQUAL(chosen("hdmi-only", "auto", &e), "");
	CU_ASSERT_EQUAL(e, AUDIO_CARD_E_NONE);
	CU_ASSERT_STRING_EQUAL(chosen("none", "auto", &e), "");
	CU_ASSERT_EQUAL(e, AUDIO_CARD_E_NONE);
}

/* A USB interface beats a HAT, a HAT beats the jack; the Teensy (no
 * playback) and a loopback card never play. */
static void test_auto_preferences(void)
{
	const char *cards =
	    " 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones\n"
	    "                      bcm2835 Headphones\n"
	    " 1 [Loopback       ]: Loopback - Loopback\n"
	    "                      Loopback 1\n"
	    " 2 [MIDI           ]: USB-Audio - Teensy MIDI\n"
	    "                      PJRC.COM, LLC. Teensy MIDI at usb-0000:01:00.0-1.2, full speed\n"
	    " 3 [sndrpihifiberry]: RPi-simple - snd_rpi_hifiberry_dac\n"
	    "                      snd_rpi_hifiberry_dac\n"
	    " 4 [Device         ]: USB-Audio - USB Audio Device\n"
	    "                      GeneralPlus USB Audio Device at usb-0000:01:00.0-1.4, full "
	    "speed\n";
	const char *pcm = "00-00: bcm2835 Headphones : bcm2835 Headphones : playback 8\n"
	                  "01-00: Loopback PCM : Loopback PCM : playback 8 : capture 8\n"
	                  "03-00: HifiBerry DAC HiFi pcm5102a-hifi-0 : HifiBerry DAC : playback 1\n"
	                  "04-00: USB Audio : USB Audio : playback 1 : capture 1\n";
	struct audio_card_list l;
	int i;
	audio_card_parse(cards, pcm, &l);
	CU_ASSERT_EQUAL_FATAL(l.n, 5);
	CU_ASSERT_EQUAL(l.card[1].kind, AUDIO_CARD_VIRTUAL);
	CU_ASSERT_EQUAL(audio_card_choose(&l, "auto", &i), AUDIO_CARD_OK);
	CU_ASSERT_STRING_EQUAL(l.card[i].id, "Device");
	l.card[4].playback = false; /* the interface gone: the HAT */
	CU_ASSERT_EQUAL(audio_card_choose(&l, "auto", &i), AUDIO_CARD_OK);
	CU_ASSERT_STRING_EQUAL(l.card[i].id, "sndrpihifiberry");
	l.card[3].playback = false; /* no HAT: the jack, not the loopback */
	CU_ASSERT_EQUAL(audio_card_choose(&l, "auto", &i), AUDIO_CARD_OK);
	CU_ASSERT_STRING_EQUAL(l.card[i].id, "Headphones");
	/* two USB interfaces: the lower card number */
	audio_card_parse(cards, pcm, &l);
	l.card[2].playback = true;
	CU_ASSERT_EQUAL(audio_card_choose(&l, "auto", &i), AUDIO_CARD_OK);
	CU_ASSERT_EQUAL(l.card[i].index, 2);
	/* without a pcm file every card counts as playing */
	audio_card_parse(cards, NULL, &l);
	CU_ASSERT_TRUE(l.card[2].playback);
}

/* By id, name, hw:CARD=ID or hw:N; HDMI when named; any case. */
static void test_named(void)
{
	enum audio_card_err e;
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "Headphones", &e), "hw:CARD=Headphones");
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "headphones", &e), "hw:CARD=Headphones");
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "bcm2835 Headphones", &e),
	                       "hw:CARD=Headphones");
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "vc4hdmi0", &e), "hw:CARD=vc4hdmi0");
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "hw:CARD=vc4hdmi1", &e),
	                       "hw:CARD=vc4hdmi1");
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "hw:2", &e), "hw:CARD=Headphones");
	CU_ASSERT_STRING_EQUAL(chosen("debian-raspi", "bcm2835 ALSA", &e), "hw:CARD=ALSA");
	CU_ASSERT_STRING_EQUAL(chosen("usb-teensy", "USB Audio CODEC", &e), "hw:CARD=CODEC");
	CU_ASSERT_STRING_EQUAL(chosen("usb-teensy", "CODEC", &e), "hw:CARD=CODEC");
	/* the jack's id differs between images: "Headphones" is absent on Debian's */
	CU_ASSERT_STRING_EQUAL(chosen("debian-raspi", "Headphones", &e), "");
	CU_ASSERT_EQUAL(e, AUDIO_CARD_E_ABSENT);
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "CODEC", &e), "");
	CU_ASSERT_EQUAL(e, AUDIO_CARD_E_ABSENT);
	CU_ASSERT_STRING_EQUAL(chosen("rpios-bookworm", "hw:7", &e), "");
	CU_ASSERT_EQUAL(e, AUDIO_CARD_E_ABSENT);
	/* the Teensy is a card, but not one to play on */
	CU_ASSERT_STRING_EQUAL(chosen("usb-teensy", "Teensy MIDI", &e), "");
	CU_ASSERT_EQUAL(e, AUDIO_CARD_E_NO_PLAYBACK);
	CU_ASSERT_EQUAL(audio_card_scan(image("no-such-image"), &(struct audio_card_list){0}),
	                AUDIO_CARD_E_READ);
}

/* The same interface on another card number is the same device for jackd. */
static void test_device_follows_the_card(void)
{
	const char *a =
	    " 1 [CODEC          ]: USB-Audio - USB Audio CODEC\n"
	    "                      Burr-Brown from TI USB Audio CODEC at usb-1, full speed\n";
	const char *b =
	    " 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones\n"
	    "                      bcm2835 Headphones\n"
	    " 4 [CODEC          ]: USB-Audio - USB Audio CODEC\n"
	    "                      Burr-Brown from TI USB Audio CODEC at usb-2, full speed\n";
	struct audio_card_list l;
	int i;
	char d1[AUDIO_CARD_DEV_MAX], d2[AUDIO_CARD_DEV_MAX];
	audio_card_parse(a, NULL, &l);
	CU_ASSERT_EQUAL_FATAL(audio_card_choose(&l, "USB Audio CODEC", &i), AUDIO_CARD_OK);
	audio_card_device(&l.card[i], d1, sizeof d1);
	audio_card_parse(b, NULL, &l);
	CU_ASSERT_EQUAL_FATAL(audio_card_choose(&l, "USB Audio CODEC", &i), AUDIO_CARD_OK);
	CU_ASSERT_EQUAL(l.card[i].index, 4);
	audio_card_device(&l.card[i], d2, sizeof d2);
	CU_ASSERT_STRING_EQUAL(d1, "hw:CARD=CODEC");
	CU_ASSERT_STRING_EQUAL(d2, d1);
}

/* Lines that are not cards are skipped; nothing overflows. */
static void test_parse_garbage(void)
{
	struct audio_card_list l;
	audio_card_parse("--- no soundcards ---\n", "", &l);
	CU_ASSERT_EQUAL(l.n, 0);
	audio_card_parse(" x [a]: b - c\n 99 [far            ]: d - e\n 3 [unclosed: d - e\n"
	                 " 3 [ok             ]: drv - A name - with a dash\n"
	                 "                      long name\n"
	                 " 3 [again          ]: drv - the same number twice\n"
	                 " 5 [averyveryveryverylongid]: drv - long id\n"
	                 " 6 [nodriver       ]: just a name\n",
	                 "junk\n03-00: x : y : capture 1\n", &l);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_STRING_EQUAL(l.card[0].id, "ok");
	CU_ASSERT_STRING_EQUAL(l.card[0].name, "A name - with a dash");
	CU_ASSERT_STRING_EQUAL(l.card[0].longname, "long name");
	CU_ASSERT_FALSE(l.card[0].playback); /* capture only */
	CU_ASSERT_EQUAL(strlen(l.card[1].id), 15);
	CU_ASSERT_STRING_EQUAL(l.card[2].name, "just a name");
	char many[8192] = "";
	for (int i = 0; i < 40; i++) {
		char line[64];
		snprintf(line, sizeof line, "%2d [c%-14d]: drv - card %d\n", i, i, i);
		strcat(many, line);
	}
	audio_card_parse(many, NULL, &l);
	CU_ASSERT_EQUAL(l.n, AUDIO_CARD_MAX);
}

static void test_check_spec(void)
{
	const char *good[] = {"auto",
	                      "Headphones",
	                      "vc4hdmi0",
	                      "hw:0",
	                      "hw:31",
	                      "hw:CARD=CODEC",
	                      "hw:CARD=sndrpihifiberry",
	                      "USB Audio CODEC",
	                      "bcm2835 ALSA"};
	const char *bad[] = {"",
	                     " Headphones",
	                     "Headphones ",
	                     "hw:",
	                     "hw:32",
	                     "hw:-1",
	                     "hw:1x",
	                     "hw:CARD=",
	                     "hw:CARD=sixteen-chars-id",
	                     "hw:CARD=a b",
	                     "a\"b",
	                     "tab\there",
	                     "hw:CARD=x,DEV=0"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CU_ASSERT_EQUAL(audio_card_check_spec(good[i]), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(audio_card_check_spec(bad[i]), -1);
	char longer[AUDIO_CARD_SPEC_MAX + 1];
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	CU_ASSERT_EQUAL(audio_card_check_spec(longer), -1);
}

/*
 * The managed server's card: absent at first (a clear state naming what
 * was asked and the cards seen), then the interface is plugged in and the
 * next attempt finds it; the worker's copy follows.
 */
static void test_select_absent_then_plugged(void)
{
	char dir[600], dev[AUDIO_CARD_DEV_MAX];
	snprintf(dir, sizeof dir, "%s/asound-plug", testlib_tmpdir());
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	const char *jack = " 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones\n"
	                   "                      bcm2835 Headphones\n";
	write_file(dir, "cards", jack);
	write_file(dir, "pcm", "00-00: bcm2835 Headphones : bcm2835 Headphones : playback 8\n");

	struct audio_card_status st;
	audio_card_unused();
	audio_card_current(&st);
	CU_ASSERT_EQUAL(st.state, AUDIO_CARD_UNUSED);

	CU_ASSERT_EQUAL(audio_card_select(dir, "CODEC", dev, sizeof dev), AUDIO_CARD_E_ABSENT);
	CU_ASSERT_STRING_EQUAL(dev, "");
	audio_card_current(&st);
	CU_ASSERT_EQUAL(st.state, AUDIO_CARD_MISSING);
	CU_ASSERT_STRING_EQUAL(st.card, "CODEC");
	CU_ASSERT_STRING_EQUAL(st.seen, "0 Headphones (headphones)");

	char both[512];
	snprintf(both, sizeof both, "%s%s", jack,
	         " 1 [CODEC          ]: USB-Audio - USB Audio CODEC\n"
	         "                      Burr-Brown from TI USB Audio CODEC at usb-1, full speed\n");
	write_file(dir, "cards", both);
	write_file(dir, "pcm",
	           "00-00: bcm2835 Headphones : bcm2835 Headphones : playback 8\n"
	           "01-00: USB Audio : USB Audio : playback 1 : capture 1\n");
	CU_ASSERT_EQUAL(audio_card_select(dir, "CODEC", dev, sizeof dev), AUDIO_CARD_OK);
	CU_ASSERT_STRING_EQUAL(dev, "hw:CARD=CODEC");
	audio_card_current(&st);
	CU_ASSERT_EQUAL(st.state, AUDIO_CARD_CHOSEN);
	CU_ASSERT_STRING_EQUAL(st.card, "CODEC");
	CU_ASSERT_STRING_EQUAL(st.device, "hw:CARD=CODEC");
	CU_ASSERT_STRING_EQUAL(st.seen, "0 Headphones (headphones), 1 CODEC (usb)");

	/* auto with only HDMI: no card, not HDMI */
	CU_ASSERT_EQUAL(audio_card_select(image("hdmi-only"), "auto", dev, sizeof dev),
	                AUDIO_CARD_E_NONE);
	audio_card_current(&st);
	CU_ASSERT_EQUAL(st.state, AUDIO_CARD_NO_CARD);
	audio_card_unused();
	audio_card_current(&st);
	CU_ASSERT_EQUAL(st.state, AUDIO_CARD_UNUSED);
}

/* --list-audio: every card with its kind, what auto takes, the result. */
static void test_list_print(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(audio_card_list_print(f, image("usb-teensy"), "auto"), 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, " 0  vc4hdmi0         hdmi        vc4-hdmi-0  (only when named)\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, " 3  CODEC            usb         USB Audio CODEC  <- auto\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, " 4  MIDI             usb         Teensy MIDI (no playback)\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "synth.audio_device \"auto\": hw:CARD=CODEC (USB Audio CODEC)\n"));
	free(text);

	f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(audio_card_list_print(f, image("rpios-bookworm"), "CODEC"), 1);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "Headphones  <- auto"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "synth.audio_device \"CODEC\": no such sound card now\n"));
	free(text);

	f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(audio_card_list_print(f, image("no-such-image"), "auto"), 1);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "cannot read"));
	free(text);
}

TEST_SUITE(audio_card, NULL, NULL, TEST_CASE(test_parse_bookworm),
           TEST_CASE(test_parse_usb_and_hat), TEST_CASE(test_auto_per_image),
           TEST_CASE(test_auto_preferences), TEST_CASE(test_named),
           TEST_CASE(test_device_follows_the_card), TEST_CASE(test_parse_garbage),
           TEST_CASE(test_check_spec), TEST_CASE(test_select_absent_then_plugged),
           TEST_CASE(test_list_print))
