/*
 * audio_card: which ALSA sound card the managed JACK server plays on.
 *
 * The setting synth.audio_device names a card by its ALSA id
 * ("Headphones", "vc4hdmi0", "CODEC"), its name ("bcm2835 Headphones",
 * "USB Audio CODEC"), "hw:CARD=ID" or "hw:N"; "auto" takes a USB
 * interface, else a HAT (or any other card with a playback device), else
 * the headphone jack, never HDMI (name it to have it) nor a card without
 * playback (a USB MIDI controller is a sound card too).  jackd is given
 * the choice as "hw:CARD=ID", which stays right when card numbers move.
 *
 * The cards come from the kernel's text files ASOUND/cards and ASOUND/pcm
 * (ASOUND is /proc/asound, or a directory of fake files in tests).
 * Parsing, classifying and choosing are pure functions; audio_card_scan()
 * reads the files.  audio_card_select() does the whole choice for the
 * managed JACK server, logs it when it changes and publishes it for the
 * snapshot (audio_card_current(), read by the worker only).  Any thread may
 * call the rest.
 */
#ifndef ME_DEV_AUDIO_CARD_H
#define ME_DEV_AUDIO_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AUDIO_CARD_MAX 32 /* ALSA's SNDRV_CARDS limit */
#define AUDIO_CARD_DIR "/proc/asound"
#define AUDIO_CARD_ENV "MYSTERY_ENGINE_ASOUND" /* another ASOUND directory (tests) */
#define AUDIO_CARD_SPEC_MAX 80                 /* longest setting + 1 */
#define AUDIO_CARD_DEV_MAX 32                  /* "hw:CARD=" + a 15-character id */

enum audio_card_kind {
	AUDIO_CARD_USB,        /* snd-usb-audio: an audio interface (or a MIDI controller) */
	AUDIO_CARD_HAT,        /* any other card: an I2S DAC HAT, a PC's codec */
	AUDIO_CARD_HEADPHONES, /* the Pi's 3.5 mm jack (bcm2835) */
	AUDIO_CARD_HDMI,       /* an HDMI output: often no speaker there */
	AUDIO_CARD_VIRTUAL,    /* snd-aloop, snd-dummy: no sound comes out */
	AUDIO_CARD_KIND_COUNT
};

struct audio_card {
	int index;   /* ALSA card number */
	char id[16]; /* ALSA id: at most 15 characters */
	char driver[32];
	char name[64]; /* the short name */
	char longname[128];
	bool playback; /* has a playback PCM (or the pcm file was unreadable) */
	enum audio_card_kind kind;
};

struct audio_card_list {
	int n;
	struct audio_card card[AUDIO_CARD_MAX];
};

enum audio_card_err {
	AUDIO_CARD_OK = 0,
	AUDIO_CARD_E_SPEC,        /* the setting is not a card description */
	AUDIO_CARD_E_READ,        /* the card list cannot be read */
	AUDIO_CARD_E_ABSENT,      /* the card asked for is not there (yet) */
	AUDIO_CARD_E_NO_PLAYBACK, /* the card asked for has no playback device */
	AUDIO_CARD_E_NONE,        /* auto: no card but HDMI, virtual or capture-only ones */
	AUDIO_CARD_E_COUNT
};

/* What the snapshot shows of the managed JACK server's card. */
enum audio_card_state {
	AUDIO_CARD_UNUSED,  /* no card of ours: dummy driver, a running JACK, no scsynth */
	AUDIO_CARD_CHOSEN,  /* jackd plays on it */
	AUDIO_CARD_MISSING, /* the card asked for is absent or unusable; retried */
	AUDIO_CARD_NO_CARD, /* auto found nothing to play on; retried */
	AUDIO_CARD_STATE_COUNT
};

struct audio_card_status {
	uint8_t state;                   /* enum audio_card_state */
	char card[AUDIO_CARD_SPEC_MAX];  /* the card's id when chosen, else the setting */
	char device[AUDIO_CARD_DEV_MAX]; /* "hw:CARD=ID" when chosen */
	char seen[160]; /* the cards seen: "0 vc4hdmi0 (hdmi), 2 Headphones (headphones)" */
};

/* 0 when spec is "auto", "hw:N", "hw:CARD=ID", an id or a name; else -1. */
int audio_card_check_spec(const char *spec);
/*
 * Parses the text of ASOUND/cards into out (cards beyond AUDIO_CARD_MAX and
 * lines that are not cards are skipped), then marks playback from the text
 * of ASOUND/pcm (NULL: unknown, every card counts as playing).
 */
void audio_card_parse(const char *cards, const char *pcm, struct audio_card_list *out);
/* What kind of card this is, from its id, driver and names. */
enum audio_card_kind audio_card_classify(const struct audio_card *c);
/* Reads dir/cards and dir/pcm (dir NULL: $MYSTERY_ENGINE_ASOUND, else /proc/asound). */
enum audio_card_err audio_card_scan(const char *dir, struct audio_card_list *out);
/* The card spec asks for in l (or auto's choice): its position in l->card in *which. */
enum audio_card_err audio_card_choose(const struct audio_card_list *l, const char *spec,
                                      int *which);
/* "hw:CARD=ID" for jackd. */
void audio_card_device(const struct audio_card *c, char *buf, size_t cap);
/* The cards in one line: "0 vc4hdmi0 (hdmi), 2 Headphones (headphones)". */
void audio_card_describe(const struct audio_card_list *l, char *buf, size_t cap);

/*
 * The managed JACK server's card now: scans dir (NULL as above), chooses
 * spec, writes "hw:CARD=ID" into dev, publishes the status and logs the
 * cards and the choice (or why there is none) whenever they change.
 * Start-up and supervisor threads.
 */
enum audio_card_err audio_card_select(const char *dir, const char *spec, char *dev, size_t cap);
/* No card of ours is in use (the dummy driver, a JACK server already running). */
void audio_card_unused(void);
/* The worker: the latest status (AUDIO_CARD_UNUSED until something is published). */
void audio_card_current(struct audio_card_status *out);

/* `mystery-engine --list-audio`: the cards, their kinds and what spec
 * chooses; 0 when spec finds a card to play on, else 1. */
int audio_card_list_print(FILE *out, const char *dir, const char *spec);

const char *audio_card_kind_name(enum audio_card_kind k);
const char *audio_card_state_name(enum audio_card_state s);
const char *audio_card_strerror(enum audio_card_err e);

#endif
