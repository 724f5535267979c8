/*
 * audio_card: the ALSA card list, what kind each card is, and the choice
 * of the card the managed JACK server plays on.
 *
 * The kernel prints its cards in /proc/asound/cards, two lines each
 * (sound/core/init.c):
 *
 *    2 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones
 *                         bcm2835 Headphones
 *
 * and its PCM devices in /proc/asound/pcm, "CC-DD: id : name : playback N
 * : capture N".  Both are parsed leniently: a line that is not a card is
 * skipped, never trusted.  The kind comes from the driver and the names:
 * snd-usb-audio's driver is "USB-Audio", the Pi's HDMI outputs are
 * "vc4-hdmi" (or named "... HDMI ..."), its headphone jack is a bcm2835
 * driver ("bcm2835 Headphones", or "bcm2835 ALSA" on older kernels),
 * snd-aloop and snd-dummy are virtual; anything else with a playback
 * device is taken for a HAT.
 *
 * audio_card_select() is called by the start-up thread and by the audio
 * stack's supervisor threads (synth_sc_stack.c), so the published status is
 * written under a mutex of its own and handed to the worker through a
 * triple buffer (pub.h): the worker never waits.
 */
#include "dev/audio_card.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rt/log.h"
#include "rt/pub.h"

#define FILE_MAX 65536 /* more than 32 cards' worth of text */

const char *audio_card_kind_name(enum audio_card_kind k)
{
	static const char *const name[AUDIO_CARD_KIND_COUNT] = {
	    [AUDIO_CARD_USB] = "usb",
	    [AUDIO_CARD_HAT] = "hat",
	    [AUDIO_CARD_HEADPHONES] = "headphones",
	    [AUDIO_CARD_HDMI] = "hdmi",
	    [AUDIO_CARD_VIRTUAL] = "virtual",
	};
	return (unsigned)k < AUDIO_CARD_KIND_COUNT ? name[k] : "?";
}

const char *audio_card_state_name(enum audio_card_state s)
{
	static const char *const name[AUDIO_CARD_STATE_COUNT] = {
	    [AUDIO_CARD_UNUSED] = "unused",
	    [AUDIO_CARD_CHOSEN] = "chosen",
	    [AUDIO_CARD_MISSING] = "missing",
	    [AUDIO_CARD_NO_CARD] = "no card",
	};
	return (unsigned)s < AUDIO_CARD_STATE_COUNT ? name[s] : "?";
}

const char *audio_card_strerror(enum audio_card_err e)
{
	static const char *const msg[AUDIO_CARD_E_COUNT] = {
	    [AUDIO_CARD_OK] = "ok",
	    [AUDIO_CARD_E_SPEC] = "expected \"auto\", \"hw:N\", \"hw:CARD=ID\", a card's id or "
	                          "its name",
	    [AUDIO_CARD_E_READ] = "cannot read the list of sound cards",
	    [AUDIO_CARD_E_ABSENT] = "no such sound card now",
	    [AUDIO_CARD_E_NO_PLAYBACK] = "the sound card has no playback device",
	    [AUDIO_CARD_E_NONE] = "no sound card to play on (HDMI is taken only when named)",
	};
	return (unsigned)e < AUDIO_CARD_E_COUNT ? msg[e] : "unknown error";
}

/* --- the setting ------------------------------------------------------------ */

static bool is_id_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

int audio_card_check_spec(const char *spec)
{
	size_t n = spec ? strlen(spec) : 0;
	if (n == 0 || n >= AUDIO_CARD_SPEC_MAX || spec[0] == ' ' || spec[n - 1] == ' ')
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)spec[i] < 0x20 || (unsigned char)spec[i] > 0x7e ||
		    spec[i] == '"')
			return -1;
	if (strncmp(spec, "hw:", 3) != 0)
		return 0;
	const char *v = spec + 3;
	if (strncmp(v, "CARD=", 5) == 0) {
		size_t len = strlen(v + 5);
		if (len == 0 || len > 15)
			return -1;
		for (size_t i = 0; i < len; i++)
			if (!is_id_char(v[5 + i]))
				return -1;
		return 0;
	}
	char *end;
	long k = strtol(v, &end, 10);
	return isdigit((unsigned char)*v) && *end == '\0' && k >= 0 && k < AUDIO_CARD_MAX ? 0 : -1;
}

/* --- parsing ------------------------------------------------------------------ */

/* Copies [s, s + n) without surrounding blanks into buf; bytes that are
 * not printable ASCII become '?' (the text goes to logs, JSON, the console). */
static void copy_trim(char *buf, size_t cap, const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	buf[n] = '\0';
}

/* " 2 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones" into c; false
 * when the line is not a card's first line. */
static bool parse_card_line(const char *line, size_t len, struct audio_card *c)
{
	char tmp[512];
	if (len >= sizeof tmp)
		len = sizeof tmp - 1;
	memcpy(tmp, line, len);
	tmp[len] = '\0';
	char *p = tmp;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	char *end;
	long index = strtol(p, &end, 10);
	if (index < 0 || index >= AUDIO_CARD_MAX || strncmp(end, " [", 2) != 0)
		return false;
	char *id = end + 2, *close = strstr(id, "]: ");
	if (!close)
		return false;
	char *rest = close + 3, *dash = strstr(rest, " - ");
	memset(c, 0, sizeof *c);
	c->index = (int)index;
	copy_trim(c->id, sizeof c->id, id, (size_t)(close - id));
	if (dash) {
		copy_trim(c->driver, sizeof c->driver, rest, (size_t)(dash - rest));
		copy_trim(c->name, sizeof c->name, dash + 3, strlen(dash + 3));
	} else {
		copy_trim(c->name, sizeof c->name, rest, strlen(rest));
	}
	return c->id[0] != '\0';
}

enum audio_card_kind audio_card_classify(const struct audio_card *c)
{
	if (strcmp(c->driver, "Loopback") == 0 || strcmp(c->driver, "Dummy") == 0 ||
	    strcmp(c->driver, "VirMIDI") == 0)
		return AUDIO_CARD_VIRTUAL;
	if (strcasestr(c->driver, "hdmi") || strcasestr(c->id, "hdmi") ||
	    strcasestr(c->name, "hdmi"))
		return AUDIO_CARD_HDMI;
	if (strcmp(c->driver, "USB-Audio") == 0 || strstr(c->longname, " at usb-"))
		return AUDIO_CARD_USB;
	if (strcmp(c->id, "Headphones") == 0 || strncmp(c->driver, "bcm2835", 7) == 0 ||
	    strncmp(c->name, "bcm2835", 7) == 0)
		return AUDIO_CARD_HEADPHONES;
	return AUDIO_CARD_HAT;
}

static struct audio_card *find_index(struct audio_card_list *l, long index)
{
	for (int i = 0; i < l->n; i++)
		if (l->card[i].index == index)
			return &l->card[i];
	return NULL;
}

void audio_card_parse(const char *cards, const char *pcm, struct audio_card_list *out)
{
	memset(out, 0, sizeof *out);
	struct audio_card *last = NULL;
	for (const char *s = cards ? cards : ""; *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		struct audio_card c;
		if (out->n < AUDIO_CARD_MAX && parse_card_line(s, len, &c) &&
		    !find_index(out, c.index)) {
			out->card[out->n] = c;
			last = &out->card[out->n++];
		} else if (last && !last->longname[0] && len > 0 && s[0] == ' ') {
			copy_trim(last->longname, sizeof last->longname, s, len);
		} else {
			last = NULL;
		}
		s += len + (nl ? 1 : 0);
	}
	for (int i = 0; i < out->n; i++) {
		out->card[i].playback = pcm == NULL;
		out->card[i].kind = audio_card_classify(&out->card[i]);
	}
	/* "00-00: id : name : playback 1 : capture 1" */
	for (const char *s = pcm ? pcm : ""; *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char line[256];
		copy_trim(line, sizeof line, s, len);
		char *end;
		long index = strtol(line, &end, 10);
		struct audio_card *c;
		if (isdigit((unsigned char)line[0]) && *end == '-' && strstr(line, ": playback ") &&
		    (c = find_index(out, index)))
			c->playback = true;
		s += len + (nl ? 1 : 0);
	}
}

/* Reads a whole (small, /proc) file into a malloc'd string; NULL on failure. */
static char *read_text(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = malloc(FILE_MAX);
	size_t n = buf ? fread(buf, 1, FILE_MAX - 1, f) : 0;
	bool bad = !buf || ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static const char *asound_dir(const char *dir)
{
	if (dir)
		return dir;
	const char *env = getenv(AUDIO_CARD_ENV);
	return env && *env ? env : AUDIO_CARD_DIR;
}

enum audio_card_err audio_card_scan(const char *dir, struct audio_card_list *out)
{
	dir = asound_dir(dir);
	char *cards = read_text(dir, "cards");
	if (!cards) {
		memset(out, 0, sizeof *out);
		return AUDIO_CARD_E_READ;
	}
	char *pcm = read_text(dir, "pcm");
	audio_card_parse(cards, pcm, out);
	free(cards);
	free(pcm);
	return AUDIO_CARD_OK;
}

/* --- choosing ------------------------------------------------------------------ */

static int auto_rank(const struct audio_card *c)
{
	if (!c->playback)
		return -1;
	switch (c->kind) {
	case AUDIO_CARD_USB:
		return 0;
	case AUDIO_CARD_HAT:
		return 1;
	case AUDIO_CARD_HEADPHONES:
		return 2;
	default:
		return -1;
	}
}

/* The position of the card whose field matches want (exactly, then in any case). */
static int match(const struct audio_card_list *l, const char *want, size_t offset)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < l->n; i++) {
			const char *f = (const char *)&l->card[i] + offset;
			if (pass == 0 ? strcmp(f, want) == 0 : strcasecmp(f, want) == 0)
				return i;
		}
	return -1;
}

enum audio_card_err audio_card_choose(const struct audio_card_list *l, const char *spec, int *which)
{
	*which = -1;
	if (audio_card_check_spec(spec) != 0)
		return AUDIO_CARD_E_SPEC;
	if (strcmp(spec, "auto") == 0) {
		int best = -1;
		for (int i = 0; i < l->n; i++) {
			int r = auto_rank(&l->card[i]);
			if (r >= 0 && (best < 0 || r < auto_rank(&l->card[best]) ||
			               (r == auto_rank(&l->card[best]) &&
			                l->card[i].index < l->card[best].index)))
				best = i;
		}
		*which = best;
		return best >= 0 ? AUDIO_CARD_OK : AUDIO_CARD_E_NONE;
	}
	int i = -1;
	if (strncmp(spec, "hw:CARD=", 8) == 0) {
		i = match(l, spec + 8, offsetof(struct audio_card, id));
	} else if (strncmp(spec, "hw:", 3) == 0) {
		long index = strtol(spec + 3, NULL, 10);
		for (int k = 0; k < l->n; k++)
			if (l->card[k].index == index)
				i = k;
	} else {
		i = match(l, spec, offsetof(struct audio_card, id));
		if (i < 0)
			i = match(l, spec, offsetof(struct audio_card, name));
		if (i < 0)
			i = match(l, spec, offsetof(struct audio_card, longname));
	}
	if (i < 0)
		return AUDIO_CARD_E_ABSENT;
	*which = i;
	return l->card[i].playback ? AUDIO_CARD_OK : AUDIO_CARD_E_NO_PLAYBACK;
}

void audio_card_device(const struct audio_card *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "hw:CARD=%s", c->id);
}

void audio_card_describe(const struct audio_card_list *l, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	if (l->n == 0)
		snprintf(buf, cap, "none");
	for (int i = 0; i < l->n && n < cap; i++) {
		const struct audio_card *c = &l->card[i];
		int w = snprintf(buf + n, cap - n, "%s%d %s (%s%s)", i ? ", " : "", c->index, c->id,
		                 audio_card_kind_name(c->kind), c->playback ? "" : ", no playback");
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* --- the managed server's card ------------------------------------------------ */

static pthread_mutex_t sel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct audio_card_status sel_last; /* the last published, under sel_lock */
static _Atomic(struct pub *) sel_pub;

/* Publishes st when it differs from the last one; true when it did. */
static bool publish(const struct audio_card_status *st)
{
	pthread_mutex_lock(&sel_lock);
	bool changed = memcmp(st, &sel_last, sizeof *st) != 0;
	struct pub *p = atomic_load(&sel_pub);
	if (!p && (p = pub_new(sizeof *st)))
		atomic_store(&sel_pub, p);
	if (changed && p) {
		sel_last = *st;
		pub_write(p, st);
	}
	pthread_mutex_unlock(&sel_lock);
	return changed;
}

enum audio_card_err audio_card_select(const char *dir, const char *spec, char *dev, size_t cap)
{
	struct audio_card_list l;
	struct audio_card_status st;
	memset(&st, 0, sizeof st);
	enum audio_card_err e = audio_card_scan(dir, &l);
	int i = -1;
	if (e == AUDIO_CARD_OK)
		e = audio_card_choose(&l, spec, &i);
	audio_card_describe(&l, st.seen, sizeof st.seen);
	if (e == AUDIO_CARD_OK) {
		st.state = AUDIO_CARD_CHOSEN;
		snprintf(st.card, sizeof st.card, "%s", l.card[i].id);
		audio_card_device(&l.card[i], st.device, sizeof st.device);
		snprintf(dev, cap, "%s", st.device);
	} else {
		st.state = strcmp(spec, "auto") == 0 ? AUDIO_CARD_NO_CARD : AUDIO_CARD_MISSING;
		snprintf(st.card, sizeof st.card, "%s", spec);
		if (cap)
			dev[0] = '\0';
	}
	if (!publish(&st))
		return e;
	if (e == AUDIO_CARD_OK)
		log_info("audio_card",
		         "sound card %s: %s \"%s\" (%s), asked for \"%s\"; "
		         "cards: %s",
		         st.device, audio_card_kind_name(l.card[i].kind), l.card[i].name,
		         l.card[i].longname, spec, st.seen);
	else if (e == AUDIO_CARD_E_READ)
		log_error("audio_card", "sound card \"%s\": %s (%s/cards); retrying", spec,
		          audio_card_strerror(e), asound_dir(dir));
	else
		log_error("audio_card", "sound card \"%s\": %s; cards: %s; retrying", spec,
		          audio_card_strerror(e), st.seen);
	return e;
}

void audio_card_unused(void)
{
	struct audio_card_status st;
	memset(&st, 0, sizeof st);
	st.state = AUDIO_CARD_UNUSED;
	publish(&st);
}

void audio_card_current(struct audio_card_status *out)
{
	struct pub *p = atomic_load(&sel_pub);
	if (!p || !pub_read(p, out)) {
		memset(out, 0, sizeof *out);
		out->state = AUDIO_CARD_UNUSED;
	}
}

/* --- --list-audio ---------------------------------------------------------------- */

int audio_card_list_print(FILE *out, const char *dir, const char *spec)
{
	struct audio_card_list l;
	dir = asound_dir(dir);
	if (audio_card_scan(dir, &l) != AUDIO_CARD_OK) {
		fprintf(out, "no ALSA sound cards: cannot read %s/cards (%s)\n", dir,
		        strerror(errno));
		return 1;
	}
	int chosen = -1, best = -1;
	enum audio_card_err e = audio_card_choose(&l, spec, &chosen);
	audio_card_choose(&l, "auto", &best);
	if (l.n == 0)
		fputs("no ALSA sound cards\n", out);
	for (int i = 0; i < l.n; i++) {
		const struct audio_card *c = &l.card[i];
		fprintf(out, "%2d  %-15s  %-10s  %s%s%s\n", c->index, c->id,
		        audio_card_kind_name(c->kind), c->name, c->playback ? "" : " (no playback)",
		        i == best                    ? "  <- auto"
		        : c->kind == AUDIO_CARD_HDMI ? "  (only when named)"
		                                     : "");
	}
	if (e == AUDIO_CARD_OK) {
		char dev[AUDIO_CARD_DEV_MAX];
		audio_card_device(&l.card[chosen], dev, sizeof dev);
		fprintf(out, "synth.audio_device \"%s\": %s (%s)\n", spec, dev,
		        l.card[chosen].name);
		return 0;
	}
	fprintf(out, "synth.audio_device \"%s\": %s\n", spec, audio_card_strerror(e));
	return 1;
}
