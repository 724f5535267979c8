/*
 * snapshot: everything a reader (console, HTTP) may see of the running
 * instrument, as one self-contained plain struct.
 *
 * The worker fills one when a reader asks (worker_snapshot(): at most 33 ms
 * old) and publishes it through a pub (triple buffer): readers copy it
 * without ever making the worker wait.
 * It carries the names readers need (scales, modes, palettes), so a reader
 * needs nothing else from the engine: a console that later attaches to a
 * running daemon needs only this and the command ring.
 */
#ifndef ME_RT_SNAPSHOT_H
#define ME_RT_SNAPSHOT_H

#include <stdint.h>

#include "core/engine.h"
#include "core/midi.h"
#include "rt/link.h"

#define SNAP_MUT_MAX 32    /* mutation changes kept, newest first */
#define SNAP_PATH_MAX 1040 /* a configured directory, with room for a subfolder */

struct snap_mutation {
	int64_t t;     /* ns since start */
	uint8_t param; /* enum param_id */
	double from, to;
};

struct snapshot {
	uint64_t seq; /* increments with every publication */
	int64_t uptime_ns;
	struct engine_state eng;

	/* names for the indices in eng */
	char scale_names[ENGINE_MAX_SCALES][ENGINE_NAME_MAX]; /* per scale_select */
	int n_scales;
	char mode_names[ENGINE_MAX_PROFILES][ENGINE_NAME_MAX];
	int n_modes;
	char palette_names[ENGINE_MAX_PALETTES][ENGINE_NAME_MAX];
	int n_palettes;

	/* links */
	uint8_t link_midi, link_synth, link_led; /* enum link_state */
	char midi_port[64];

	/* MIDI input */
	uint64_t midi_in[MIDI_KIND_COUNT];
	uint64_t midi_parse_errors, midi_dropped, midi_coalesced, midi_reconnects;
	uint32_t inq_depth, inq_max_depth, inq_cap;

	/* timing (ns) */
	int64_t latency_p50, latency_p99;   /* MIDI arrival to bundle sent */
	int64_t lateness_p50, lateness_p99; /* worker wake-up after its deadline */
	double worker_cpu;                  /* fraction of one core, last second */

	/* sound */
	uint64_t notes_played, bundles_sent, late_bundles, backend_restarts;
	int voices_active, voices_max;
	double server_cpu_avg, server_cpu_peak;
	int server_synths;

	/* sound health: the server's output meter and the detector (synth_health.h) */
	float out_peak, out_rms;  /* last meter reading, full scale 1 */
	int64_t out_meter_age_ns; /* since the last meter reply, -1 never */
	uint64_t meter_replies, sound_faults, late_sent;
	uint64_t synth_dropped; /* events not sent to the server */
	uint32_t health_restarts, stack_restarts;
	uint8_t sound;              /* enum synth_sound */
	uint8_t watchdog_ok;        /* systemd's watchdog is fed */
	char synth_fault[128];      /* why there is no sound, "" when none */
	char synth_fault_short[24]; /* the same in a few words, for the console */

	/* LEDs and the rest */
	uint64_t led_frames, led_dropped;
	uint64_t events_dropped, commands_dropped, log_dropped;

	uint64_t events_lost; /* not written: the event log's output failed */

	/* stalls: the worker could not run for longer than synth.late_drop_ms */
	uint64_t stalls, steps_skipped, late_notes_dropped;

	struct snap_mutation mut[SNAP_MUT_MAX];
	int n_mut;

	/* MIDI out (clock and notes) */
	uint8_t link_midi_out; /* enum link_state */
	uint64_t midi_out_messages, midi_out_dropped;
	int64_t midi_out_late_p99; /* written after their time, ns */
	/* Filled by the reader's side, not the worker: the last warning or
	 * error logged ("event: message") and when (CLOCK_REALTIME ns, 0 none),
	 * and whether the sound goes to no sound card (JACK's dummy driver). */
	char problem[160];
	int64_t problem_at_ns;
	uint8_t audio_dummy;
	uint8_t recording;     /* --record: the sound goes to a file too */
	uint8_t problem_error; /* the problem was an error, not a warning */
	uint8_t learning;      /* MIDI learn: 1 + the parameter waiting for a CC, 0 none */
	char learned[160];     /* what the last learn did */
	int64_t learned_at_ns; /* when (CLOCK_REALTIME ns, 0 never) */
	int64_t clock_base_ns; /* CLOCK_MONOTONIC of engine time 0 (event log t) */

	/* the sound card of a JACK server the program started (audio_card.h) */
	uint8_t audio_state;  /* enum audio_card_state */
	char audio_card[80];  /* its id when chosen, else what synth.audio_device asks */
	char audio_seen[160]; /* the cards seen: "0 vc4hdmi0 (hdmi), 2 Headphones (headphones)" */
	/* MIDI clock on a port of its own (midi.clock_input_port) */
	uint8_t link_clock_in; /* enum link_state; OFF: the MIDI input's */
	uint64_t clock_in_reconnects;

	/* where presets are loaded from and saved to, as the running
	 * configuration says (it changes with a reload) */
	char preset_dir[SNAP_PATH_MAX];
};

#endif
