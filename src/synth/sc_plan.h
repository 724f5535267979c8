/*
 * sc_plan: what scsynth is told for the engine's events, live and offline.
 *
 * One plan turns events into server commands with their times: a note is
 * an /s_new of me_voice on a voice of the allocator (voice.h), a sound
 * parameter an /n_set, a stolen voice a forced release (a 10 ms fade, not a
 * cut), a pause a release of every voice along its own release time.  The
 * live backend (synth_sc.c) sends each command as a timetagged bundle; the
 * offline renderer (render.c) writes the same messages into the NRT score
 * (osc_score.c).  Both encode with sc_plan_message(), so the server hears
 * the same bytes at the same engine times, and an offline render stays the
 * reference for what plays live; the node layout they start from
 * (sc_plan_layout) is the same too.  See doc/synth.md.
 *
 * Pure logic on injected times: no I/O, no allocation, no lock; one owner
 * thread (the real-time worker live, the render loop offline).
 */
#ifndef ME_SYNTH_SC_PLAN_H
#define ME_SYNTH_SC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "synth/voice.h"

#define SC_PLAN_MS INT64_C(1000000)
/* A stolen voice fades out in this time (EnvGen's forced release). */
#define SC_PLAN_STEAL_FADE_NS (10 * SC_PLAN_MS)
/* Added to a note's span: the node is freed at the end of the control
 * block in which its envelope ends (two 64-sample blocks at 48 kHz). */
#define SC_PLAN_MARGIN_NS (3 * SC_PLAN_MS)
/* At most this much earlier than its event does a command sound. */
#define SC_PLAN_LEAD_MAX_NS (SC_PLAN_STEAL_FADE_NS + SC_PLAN_MARGIN_NS)
/* Fade of every voice when the program stops (synth_release_all). */
#define SC_PLAN_STOP_FADE_S 0.05
/* Most commands one event (a pause) may give. */
#define SC_PLAN_CMD_MAX (VOICE_MAX + 2)
/* Bytes of the longest message sc_plan_message() writes. */
#define SC_PLAN_MSG_MAX 192

/* Node ids the plan addresses (shared by the live server and the score). */
#define SC_PLAN_FIRST_VOICE 1000 /* voice node ids cycle from here */
#define SC_PLAN_LAST_VOICE 999999

enum sc_cmd_type {
	SC_CMD_NOTE,    /* /s_new me_voice node, head of the voices' group */
	SC_CMD_SET,     /* /n_set node name value */
	SC_CMD_RELEASE, /* /n_set node gate -1-fade: a voice, or the group (every voice) */
	SC_CMD_GROUP,   /* /g_new node, head of the root: the voices' group */
	SC_CMD_FX       /* /s_new me_fx node after the group, reading the voices' bus;
	                   value: the reverb mix, note.amp: the volume */
};

struct sc_note {
	float freq, amp, dur, cutoff, atk, rel; /* Hz, 0..1, s, Hz, s, s */
};

struct sc_cmd {
	uint8_t type;        /* enum sc_cmd_type */
	int64_t t;           /* engine ns at which the server does it */
	int32_t node;        /* a voice, SYNTHDEF_GROUP_VOICES or SYNTHDEF_NODE_FX */
	const char *name;    /* SC_CMD_SET: the control, a string literal */
	float value;         /* SC_CMD_SET: its value; SC_CMD_RELEASE: fade seconds */
	struct sc_note note; /* SC_CMD_NOTE */
};

struct sc_plan_settings {
	int voices;                 /* 1..VOICE_MAX */
	int64_t lookahead_ns;       /* how far ahead sequenced notes are sent */
	int64_t latency_ns;         /* added to the time of live events */
	double cutoff, mix, volume; /* starting values of the sound parameters */
	double attack, release;     /* voice attack and release, seconds */
};

struct sc_plan {
	struct sc_plan_settings set;
	struct voice_alloc va;
	double cutoff, mix, volume, attack, release; /* latest values */
	uint64_t notes, steals;
};

void sc_plan_init(struct sc_plan *p, const struct sc_plan_settings *set);
/*
 * The commands for one event (nothing for events the sound ignores), in
 * the order to send them; returns how many were written to out (cap must
 * be at least SC_PLAN_CMD_MAX).  Times: the event's, plus latency for a
 * live event; a stolen voice's release comes up to SC_PLAN_LEAD_MAX_NS
 * earlier, so that it has faded out when the new note starts.
 */
size_t sc_plan_event(struct sc_plan *p, const struct event *ev, struct sc_cmd *out, size_t cap);
/*
 * Releases every voice at t with a fade of fade_s seconds (a pause uses the
 * current release); a note booked to start after t is released at its
 * start (it stays silent).
 */
size_t sc_plan_release_all(struct sc_plan *p, int64_t t, double fade_s, struct sc_cmd *out,
                           size_t cap);
/*
 * The node layout a server needs before the first note, the same live (at
 * every server start) and in the score (at time 0): the voices' group at
 * the head of the root node, then me_fx with this reverb mix and volume.
 * Writes SC_PLAN_LAYOUT commands (time 0) to out.
 */
#define SC_PLAN_LAYOUT 2
size_t sc_plan_layout(double mix, double volume, struct sc_cmd *out);
/* Forgets the voices (the server was restarted); values are kept. */
void sc_plan_reset(struct sc_plan *p);
/* Voices sounding at t, fades included. */
int sc_plan_in_use(const struct sc_plan *p, int64_t t);
/* The OSC message of a command (no bundle), or 0 when cap is too small. */
size_t sc_plan_message(const struct sc_cmd *c, uint8_t *buf, size_t cap);
/* A bundle with timetag tt holding that one message, or 0. */
size_t sc_plan_bundle(const struct sc_cmd *c, uint64_t tt, uint8_t *buf, size_t cap);

#endif
