/*
 * sc_plan: the engine's events as scsynth commands, shared by the live
 * backend and the offline score.
 *
 * Design: the plan keeps the latest values of the sound parameters and a
 * voice allocator.  A note takes a voice; when every voice is busy the
 * oldest is stolen and released with EnvGen's forced release (gate
 * -1 - 0.01: a 10 ms fade along the release curve).  A sequenced note is
 * sent lookahead_ms ahead, so its stolen voice is released early enough to
 * have faded out (and been freed) when the new note starts: the server
 * never holds more voices than configured.  A live note comes only
 * latency_ms ahead: its stolen voice is released at the note's own time
 * and fades under it, counted by the allocator until it is gone.  A pause
 * releases the whole group along the release time, and each note already
 * sent for later at its own start; the reverb rings on in me_fx.  Nothing
 * is ever freed while it sounds: every end is a release.  The OSC writer serialises by hand into a
 * caller buffer: no allocation, usable on the real-time path.
 *
 * Threads: one owner per plan (see sc_plan.h); the writer functions are
 * pure and may be called from any thread.
 */
#include "synth/sc_plan.h"

#include <stdbool.h>
#include <string.h>

#include "core/param.h"
#include "synth/synthdef.h"

#define NS_PER_S 1000000000.0

void sc_plan_init(struct sc_plan *p, const struct sc_plan_settings *set)
{
	memset(p, 0, sizeof *p);
	p->set = *set;
	if (p->set.lookahead_ns < 0)
		p->set.lookahead_ns = 0;
	if (p->set.latency_ns < 0)
		p->set.latency_ns = 0;
	p->cutoff = set->cutoff;
	p->mix = set->mix;
	p->volume = set->volume;
	p->attack = set->attack > 0 ? set->attack : 0;
	p->release = set->release > 0 ? set->release : 0;
	voice_init(&p->va, set->voices, SC_PLAN_FIRST_VOICE, SC_PLAN_LAST_VOICE);
}

void sc_plan_reset(struct sc_plan *p)
{
	voice_reset(&p->va);
}

int sc_plan_in_use(const struct sc_plan *p, int64_t t)
{
	return voice_in_use(&p->va, t);
}

static int64_t ns_of(double s)
{
	return (int64_t)(s * NS_PER_S + 0.5);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static struct sc_cmd *push(struct sc_cmd *out, size_t cap, size_t *n, enum sc_cmd_type type,
                           int64_t t, int32_t node)
{
	if (*n >= cap)
		return NULL;
	struct sc_cmd *c = &out[(*n)++];
	memset(c, 0, sizeof *c);
	c->type = (uint8_t)type;
	c->t = t;
	c->node = node;
	return c;
}

/*
 * How much before its note a stolen voice is released: the whole fade when
 * the note was sent far enough ahead (never more than half the lookahead,
 * so the release is still in the future when it is sent), none for a live
 * note, which arrives only latency_ms ahead.
 */
static int64_t steal_lead(const struct sc_plan *p, bool live)
{
	if (live)
		return 0;
	return min64(SC_PLAN_LEAD_MAX_NS, p->set.lookahead_ns / 2);
}

static size_t note(struct sc_plan *p, const struct event *ev, int64_t t, struct sc_cmd *out,
                   size_t cap)
{
	size_t n = 0;
	if (ev->u.note.velocity == 0 || ev->u.note.dur <= 0)
		return 0;
	int64_t span = ns_of(p->attack) + ev->u.note.dur + ns_of(p->release) + SC_PLAN_MARGIN_NS;
	struct voice_slot victim;
	int32_t node = voice_alloc(&p->va, t, t + span, &victim);
	if (victim.node) {
		int64_t at = max64(t - steal_lead(p, ev->live), victim.start);
		struct sc_cmd *c = push(out, cap, &n, SC_CMD_RELEASE, at, victim.node);
		if (c)
			c->value = (float)(SC_PLAN_STEAL_FADE_NS / NS_PER_S);
		/* the forced release runs its full time from wherever it starts */
		voice_fade(&p->va, victim.node, victim.start,
		           at + SC_PLAN_STEAL_FADE_NS + SC_PLAN_MARGIN_NS);
		p->steals++;
	}
	struct sc_cmd *c = push(out, cap, &n, SC_CMD_NOTE, t, node);
	if (c) {
		c->note.freq = (float)synthdef_freq_of(ev->u.note.pitch);
		c->note.amp = (float)synthdef_amp_of(ev->u.note.velocity);
		c->note.dur = (float)(ev->u.note.dur / NS_PER_S);
		c->note.cutoff = (float)p->cutoff;
		c->note.atk = (float)p->attack;
		c->note.rel = (float)p->release;
		p->notes++;
	}
	return n;
}

static size_t param(struct sc_plan *p, const struct event *ev, int64_t t, struct sc_cmd *out,
                    size_t cap)
{
	size_t n = 0;
	double v = ev->u.param.value;
	int32_t node;
	const char *name;
	switch (ev->u.param.id) {
	case P_FILTER_CUTOFF:
		p->cutoff = v;
		node = SYNTHDEF_GROUP_VOICES;
		name = "cutoff";
		break;
	case P_REVERB_MIX:
		p->mix = v;
		node = SYNTHDEF_NODE_FX;
		name = "mix";
		break;
	case P_MASTER_VOLUME:
		p->volume = v;
		node = SYNTHDEF_NODE_FX;
		name = "volume";
		break;
	case P_ATTACK:
		p->attack = v > 0 ? v : 0; /* notes from now on */
		return 0;
	case P_RELEASE:
		p->release = v > 0 ? v : 0; /* notes from now on, and a pause */
		return 0;
	default:
		return 0;
	}
	struct sc_cmd *c = push(out, cap, &n, SC_CMD_SET, t, node);
	if (c) {
		c->name = name;
		c->value = (float)v;
	}
	return n;
}

size_t sc_plan_release_all(struct sc_plan *p, int64_t t, double fade_s, struct sc_cmd *out,
                           size_t cap)
{
	size_t n = 0;
	struct voice_slot held[VOICE_MAX];
	int k = voice_release_all(&p->va, t, held, VOICE_MAX);
	if (fade_s < 0)
		fade_s = 0;
	struct sc_cmd *c = push(out, cap, &n, SC_CMD_RELEASE, t, SYNTHDEF_GROUP_VOICES);
	if (c)
		c->value = (float)fade_s;
	for (int i = 0; i < k && i < VOICE_MAX; i++) {
		int64_t at = t;
		if (held[i].start > t) {
			/*
			 * Sent ahead for after t: released at its own start, so
			 * it never rises from silence.  A release, not /n_free:
			 * should the message come late (the worker held up, the
			 * pause itself sent late), the note fades instead of
			 * being cut while it sounds.
			 */
			at = held[i].start;
			c = push(out, cap, &n, SC_CMD_RELEASE, at, held[i].node);
			if (c)
				c->value = (float)fade_s;
		}
		voice_fade(&p->va, held[i].node, held[i].start,
		           at + ns_of(fade_s) + SC_PLAN_MARGIN_NS);
	}
	return n;
}

size_t sc_plan_event(struct sc_plan *p, const struct event *ev, struct sc_cmd *out, size_t cap)
{
	int64_t t = ev->t + (ev->live ? p->set.latency_ns : 0);
	switch (ev->type) {
	case EV_NOTE:
		return note(p, ev, t, out, cap);
	case EV_PARAM:
		return param(p, ev, t, out, cap);
	case EV_TRANSPORT:
		if (!ev->u.transport.running)
			return sc_plan_release_all(p, t, p->release, out, cap);
		return 0;
	default:
		return 0;
	}
}

/* --- OSC without allocation ------------------------------------------------ */

struct oscw {
	uint8_t *p;
	size_t len, cap;
	bool bad;
};

static void w_bytes(struct oscw *w, const void *b, size_t n)
{
	if (w->bad || w->len + n > w->cap) {
		w->bad = true;
		return;
	}
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void w_u32(struct oscw *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	w_bytes(w, b, 4);
}

static void w_i32(struct oscw *w, int32_t v)
{
	w_u32(w, (uint32_t)v);
}

static void w_f32(struct oscw *w, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	w_u32(w, u);
}

/* A string with its NUL, padded to a multiple of four bytes. */
static void w_str(struct oscw *w, const char *s)
{
	static const uint8_t zeros[4];
	size_t n = strlen(s);
	w_bytes(w, s, n);
	w_bytes(w, zeros, 4 - (n & 3));
}

static void w_named(struct oscw *w, const char *name, float v)
{
	w_str(w, name);
	w_f32(w, v);
}

static void w_message(struct oscw *w, const struct sc_cmd *c)
{
	switch (c->type) {
	case SC_CMD_NOTE:
		w_str(w, "/s_new");
		w_str(w, ",siiisfsfsfsfsfsf");
		w_str(w, synthdef_names[0]);
		w_i32(w, c->node);
		w_i32(w, 0);                     /* add to the head of ... */
		w_i32(w, SYNTHDEF_GROUP_VOICES); /* ... the voices' group */
		w_named(w, "freq", c->note.freq);
		w_named(w, "amp", c->note.amp);
		w_named(w, "dur", c->note.dur);
		w_named(w, "cutoff", c->note.cutoff);
		w_named(w, "atk", c->note.atk);
		w_named(w, "rel", c->note.rel);
		break;
	case SC_CMD_SET:
	case SC_CMD_RELEASE:
		w_str(w, "/n_set");
		w_str(w, ",isf");
		w_i32(w, c->node);
		if (c->type == SC_CMD_SET)
			w_named(w, c->name ? c->name : "", c->value);
		else
			w_named(w, "gate", -1.0f - c->value);
		break;
	case SC_CMD_GROUP:
		w_str(w, "/g_new");
		w_str(w, ",iii");
		w_i32(w, c->node);
		w_i32(w, 0); /* add to the head of ... */
		w_i32(w, 0); /* ... the root node */
		break;
	case SC_CMD_FX:
		w_str(w, "/s_new");
		w_str(w, ",siiisisfsfsi");
		w_str(w, synthdef_names[1]);
		w_i32(w, c->node);
		w_i32(w, 3);                     /* add after ... */
		w_i32(w, SYNTHDEF_GROUP_VOICES); /* ... the voices' group */
		w_str(w, "in");
		w_i32(w, SYNTHDEF_FX_BUS);
		w_named(w, "mix", c->value);
		w_named(w, "volume", c->note.amp);
		w_str(w, "out");
		w_i32(w, 0);
		break;
	default:
		w->bad = true;
	}
}

size_t sc_plan_layout(double mix, double volume, struct sc_cmd *out)
{
	out[0] = (struct sc_cmd){.type = SC_CMD_GROUP, .node = SYNTHDEF_GROUP_VOICES};
	out[1] = (struct sc_cmd){.type = SC_CMD_FX,
	                         .node = SYNTHDEF_NODE_FX,
	                         .value = (float)mix,
	                         .note.amp = (float)volume};
	return SC_PLAN_LAYOUT;
}

size_t sc_plan_message(const struct sc_cmd *c, uint8_t *buf, size_t cap)
{
	struct oscw w = {buf, 0, cap, false};
	w_message(&w, c);
	return w.bad ? 0 : w.len;
}

size_t sc_plan_bundle(const struct sc_cmd *c, uint64_t tt, uint8_t *buf, size_t cap)
{
	struct oscw w = {buf, 0, cap, false};
	w_str(&w, "#bundle");
	w_u32(&w, (uint32_t)(tt >> 32));
	w_u32(&w, (uint32_t)tt);
	size_t at = w.len;
	w_u32(&w, 0);
	w_message(&w, c);
	if (w.bad)
		return 0;
	uint32_t n = (uint32_t)(w.len - at - 4);
	uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	memcpy(w.p + at, b, 4);
	return w.len;
}
