/*
 * midi_clock: MIDI clock out (see midi_clock.h).  Every message is
 * scheduled at the pulse's own time on the midi_out, which writes it when
 * due, never early; the worker wakes for it through the sink's next_due.
 * Worker thread only, apart from new/free.  A reload reaches it like every
 * sink: the worker hands it the new configuration (its clock_out) before
 * the first event list made with it.
 */
#include "dev/midi_clock.h"

#include <stdlib.h>

#include "rt/snapshot.h"

struct midi_clock {
	struct midi_out *mo;
	bool want_on; /* the configuration's clock_out, from the last reload */
	bool clock_on;
	int64_t expect;      /* the pulse that continues the stream, -1: none */
	uint64_t generation; /* of the port when the stream was started */
	int64_t last_t;      /* time of the last pulse scheduled */
};

struct midi_clock *midi_clock_new(struct midi_out *mo, bool clock_on)
{
	struct midi_clock *mc = calloc(1, sizeof *mc);
	if (!mc)
		return NULL;
	mc->mo = mo;
	mc->clock_on = clock_on;
	mc->want_on = clock_on;
	mc->expect = -1;
	return mc;
}

void midi_clock_free(struct midi_clock *mc)
{
	free(mc);
}

void midi_clock_spp(int64_t pulse, uint8_t out[3])
{
	int64_t pos = (pulse / 6) & 0x3fff;
	out[0] = 0xf2;
	out[1] = (uint8_t)(pos & 0x7f);
	out[2] = (uint8_t)(pos >> 7);
}

static void send1(struct midi_clock *mc, int64_t t, uint8_t b)
{
	midi_out_send(mc->mo, t, &b, 1);
}

static void pulse(struct midi_clock *mc, const struct event *ev)
{
	if (midi_out_generation(mc->mo) != mc->generation) {
		mc->generation = midi_out_generation(mc->mo);
		mc->expect = -1; /* a newly opened port has not seen the start */
	}
	int64_t p = ev->u.clock.pulse;
	if (p != mc->expect) {
		uint8_t spp[3];
		midi_clock_spp(p, spp);
		midi_out_send(mc->mo, ev->t, spp, 3);
		send1(mc, ev->t, p == 0 ? 0xfa : 0xfb); /* Start : Continue */
	}
	send1(mc, ev->t, 0xf8);
	mc->expect = p + 1;
	mc->last_t = ev->t;
}

static void events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	struct midi_clock *mc = ctx;
	bool want = mc->want_on;
	if (want != mc->clock_on) {
		if (!want && mc->expect >= 0) {
			send1(mc, mc->last_t > now ? mc->last_t : now, 0xfc);
			mc->expect = -1;
		}
		mc->clock_on = want;
	}
	for (size_t i = 0; mc->clock_on && i < n; i++) {
		if (ev[i].type == EV_CLOCK) {
			pulse(mc, &ev[i]);
		} else if (ev[i].type == EV_TRANSPORT && !ev[i].u.transport.running &&
		           mc->expect >= 0) {
			/* after the pulses already scheduled: a pause never cuts one */
			send1(mc, ev[i].t > mc->last_t ? ev[i].t : mc->last_t, 0xfc);
			mc->expect = -1;
		}
	}
	midi_out_pump(mc->mo, now);
}

static void fill(void *ctx, struct snapshot *s)
{
	struct midi_clock *mc = ctx;
	struct midi_out_stats st;
	midi_out_get_stats(mc->mo, &st);
	s->link_midi_out = (uint8_t)midi_out_state(mc->mo);
	s->midi_out_messages = st.messages;
	s->midi_out_dropped = st.dropped_offline + st.dropped_full;
	s->midi_out_late_p99 = hist_quantile(midi_out_lateness(mc->mo), 0.99);
}

static void shutdown_(void *ctx)
{
	struct midi_clock *mc = ctx;
	if (mc->clock_on && mc->expect >= 0) {
		send1(mc, mc->last_t, 0xfc);
		mc->expect = -1;
	}
}

static int64_t next_due(void *ctx)
{
	struct midi_clock *mc = ctx;
	return midi_out_next_due(mc->mo);
}

/* A reload: clock out on or off from the next event list on (off sends Stop
 * after the pulses already scheduled; on resumes with Song Position and
 * Continue at the engine's next pulse). */
static void reconfigure(void *ctx, const struct engine_config *eng, const struct config *cfg)
{
	struct midi_clock *mc = ctx;
	(void)cfg;
	mc->want_on = eng->clock_out;
}

struct worker_sink midi_clock_sink(struct midi_clock *mc)
{
	struct worker_sink s = {.name = "midi_out",
	                        .events = events,
	                        .fill = fill,
	                        .shutdown = shutdown_,
	                        .next_due = next_due,
	                        .reconfigure = reconfigure,
	                        .ctx = mc};
	return s;
}
