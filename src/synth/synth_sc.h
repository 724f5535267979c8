/*
 * synth_sc: the SuperCollider backend of the synth ops table.
 *
 * Voices are me_voice synths in a group of their own at the head of the
 * root node, followed by one me_fx synth (reverb, master volume) and, when
 * recording, me_rec at the tail.  See synth.h for the threads that may
 * call it and doc/live.md for the design.
 */
#ifndef ME_SYNTH_SYNTH_SC_H
#define ME_SYNTH_SYNTH_SC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synth/synth.h"

/* Node and buffer numbers the backend uses on the server. */
#define SYNTH_SC_GROUP 900 /* the voices' group */
#define SYNTH_SC_FX_NODE 901
#define SYNTH_SC_REC_NODE 902
#define SYNTH_SC_TRIAL_NODE 903
#define SYNTH_SC_FIRST_VOICE 1000 /* voice node ids cycle from here */
#define SYNTH_SC_LAST_VOICE 999999
#define SYNTH_SC_REC_BUF 1000

extern const struct synth_ops synth_sc_ops;

/* Whether the machine has a sound card (ALSA card 0); without one the
 * managed stack plays on JACK's dummy driver and nothing is audible. */
bool synth_sc_sound_card(void);

/* The NTP timetag of CLOCK_MONOTONIC time t, given the clocks read together now. */
uint64_t synth_sc_timetag(int64_t t, int64_t mono_now, int64_t real_now);

#endif
