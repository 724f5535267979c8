/*
 * synth_midi: the "midi" synth backend, notes to an external synth.
 *
 * Behind the same ops table as scsynth's backend: a note becomes a note on
 * at its time with the engine's velocity and a note off at its end, on
 * settings.midi_channel, scheduled on the MIDI output (midi_out) that the
 * application opened and shares with the clock out; master volume goes out
 * as CC 7 (0..1 -> 0..127), filter cutoff as CC 74 (80..12000 Hz along the
 * cutoff's exponential curve -> 0..127).  A note of a pitch still sounding
 * ends the earlier one at its own start (its later note off is taken back),
 * so an early note off never cuts a new note.  A pause takes back the notes
 * scheduled after it and sends note offs and All Notes Off (CC 123) at the
 * pause; release_all (stop, exit) does the same now.  Live notes (a button)
 * leave at once.
 *
 * Threads: open/close from the start-up thread; events and release_all from
 * the worker (never blocking or allocating); status from any thread.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/param.h"
#include "dev/midi_out.h"
#include "rt/rtclock.h"
#include "synth/synth.h"

struct midi_state {
	struct midi_out *mo;
	uint8_t ch;          /* 0..15 */
	int64_t off_at[128]; /* pending note off of each pitch, 0 none */
	int cc7, cc74;       /* last values sent, -1 none */
	bool primed;         /* starting controllers sent */
	atomic_uint_fast64_t notes, messages;
};

/* 0..1 -> 0..127. */
static int cc_volume(double v)
{
	long c = lround(v * 127);
	return c < 0 ? 0 : c > 127 ? 127 : (int)c;
}

/* Filter cutoff (Hz) -> 0..127 along the exponential 80..12000 Hz curve. */
static int cc_cutoff(double hz)
{
	const struct param_info *p = &param_table[P_FILTER_CUTOFF];
	if (!(hz > p->min))
		return 0;
	long c = lround(127 * log(hz / p->min) / log(p->max / p->min));
	return c < 0 ? 0 : c > 127 ? 127 : (int)c;
}

static void put(struct midi_state *m, int64_t t, uint8_t a, uint8_t b, uint8_t c, size_t n)
{
	uint8_t msg[3] = {a, b, c};
	midi_out_send(m->mo, t, msg, n);
	atomic_fetch_add(&m->messages, 1);
}

static void cc(struct midi_state *m, int64_t t, int num, int val, int *last)
{
	if (*last == val)
		return;
	*last = val;
	put(m, t, (uint8_t)(0xb0 | m->ch), (uint8_t)num, (uint8_t)val, 3);
}

static void note(struct midi_state *m, const struct event *ev, int64_t now)
{
	int64_t t = ev->live ? now : ev->t;
	uint8_t p = ev->u.note.pitch & 0x7f;
	if (m->off_at[p] > t) {
		/* the same pitch still sounds: end it here, not later */
		midi_out_cancel(m->mo, (uint8_t)(0x80 | m->ch), 0xff, p, t);
		put(m, t, (uint8_t)(0x80 | m->ch), p, 0, 3);
	}
	uint8_t vel = ev->u.note.velocity ? ev->u.note.velocity & 0x7f : 1;
	put(m, t, (uint8_t)(0x90 | m->ch), p, vel, 3);
	int64_t dur = ev->u.note.dur > 0 ? ev->u.note.dur : 1;
	put(m, t + dur, (uint8_t)(0x80 | m->ch), p, 0, 3);
	m->off_at[p] = t + dur;
	atomic_fetch_add(&m->notes, 1);
}

/* Silences everything at t: later notes taken back, note offs, CC 123. */
static void silence(struct midi_state *m, int64_t t)
{
	midi_out_cancel(m->mo, (uint8_t)(0x90 | m->ch), 0xff, -1, t);
	midi_out_cancel(m->mo, (uint8_t)(0x80 | m->ch), 0xff, -1, t);
	for (int p = 0; p < 128; p++)
		if (m->off_at[p] > t) {
			put(m, t, (uint8_t)(0x80 | m->ch), (uint8_t)p, 0, 3);
			m->off_at[p] = 0;
		}
	put(m, t, (uint8_t)(0xb0 | m->ch), 123, 0, 3);
}

static enum synth_err midi_open(struct synth *s)
{
	if (!s->set.midi_out || s->set.midi_channel < 1 || s->set.midi_channel > 16)
		return SYNTH_E_SETTINGS;
	struct midi_state *m = calloc(1, sizeof *m);
	if (!m)
		return SYNTH_E_NOMEM;
	m->mo = s->set.midi_out;
	m->ch = (uint8_t)(s->set.midi_channel - 1);
	m->cc7 = m->cc74 = -1;
	s->priv = m;
	return SYNTH_OK;
}

static int midi_wait_ready(struct synth *s, int timeout_ms)
{
	return 0;
}

static void midi_events(struct synth *s, const struct event *ev, size_t n, int64_t now)
{
	struct midi_state *m = s->priv;
	if (!m->primed) {
		m->primed = true;
		cc(m, now, 7, cc_volume(s->set.volume), &m->cc7);
		cc(m, now, 74, cc_cutoff(s->set.cutoff), &m->cc74);
	}
	for (size_t i = 0; i < n; i++) {
		const struct event *e = &ev[i];
		switch (e->type) {
		case EV_NOTE:
			note(m, e, now);
			break;
		case EV_PARAM:
			if (e->u.param.id == P_MASTER_VOLUME)
				cc(m, e->t, 7, cc_volume(e->u.param.value), &m->cc7);
			else if (e->u.param.id == P_FILTER_CUTOFF)
				cc(m, e->t, 74, cc_cutoff(e->u.param.value), &m->cc74);
			break;
		case EV_TRANSPORT:
			if (!e->u.transport.running)
				silence(m, e->t);
			break;
		default:
			break;
		}
	}
}

static void midi_release_all(struct synth *s)
{
	silence(s->priv, rtclock_mono_ns());
}

static void midi_status(struct synth *s, struct synth_status *out)
{
	struct midi_state *m = s->priv;
	memset(out, 0, sizeof *out);
	out->backend = "midi";
	out->link = midi_out_state(m->mo);
	out->voices = s->set.voices;
	out->notes = atomic_load(&m->notes);
	out->bundles = atomic_load(&m->messages);
}

static void midi_close(struct synth *s)
{
	free(s->priv);
	s->priv = NULL;
}

const struct synth_ops synth_midi_ops = {
    .name = "midi",
    .open = midi_open,
    .wait_ready = midi_wait_ready,
    .events = midi_events,
    .release_all = midi_release_all,
    .status = midi_status,
    .close = midi_close,
};
