/*
 * midi_clock: MIDI clock out.  Turns the engine's EV_CLOCK pulses (24 a
 * beat, on the unswung step grid: tempo changes and drift in, swing out)
 * and transport events into clock, Start, Stop, Continue and Song Position
 * bytes scheduled on a midi_out at the pulses' exact times, and pumps the
 * port.  The first pulse of the run (pulse 0) goes out as Song Position 0,
 * Start, Clock; a pulse that does not follow the last one sent (after a
 * pause, a stall's skip, a reopened port) as Song Position, Continue, Clock;
 * a pause sends Stop.
 *
 * Threads: midi_clock_new/free from the control thread; everything else
 * from the worker (its sink callbacks; a reload of midi.clock_out comes
 * through the sink's reconfigure, as the engine's clock_out).
 */
#ifndef ME_RT_MIDI_CLOCK_H
#define ME_RT_MIDI_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "dev/midi_out.h"
#include "rt/worker.h"

struct midi_clock;

/* clock_on false: only pumps the port (notes out without clock). */
struct midi_clock *midi_clock_new(struct midi_out *mo, bool clock_on);
void midi_clock_free(struct midi_clock *mc);
/* The worker sink: events, fill (link and counters), shutdown (Stop),
 * next_due (the port's next message), reconfigure (clock out turned on or
 * off by a reload). */
struct worker_sink midi_clock_sink(struct midi_clock *mc);

/* The Song Position Pointer of a pulse: sixteenths (6 pulses) from the
 * start, wrapped at 14 bits; 3 bytes into out. */
void midi_clock_spp(int64_t pulse, uint8_t out[3]);

#endif
