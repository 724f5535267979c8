/*
 * midi_in_pm: PortMidi inputs ("auto", "portmidi:NAME").
 *
 * The device is picked by name and opened through the process's one
 * PortMidi session (midi_pm.c), which scans again when it is not among the
 * devices it knows and a scan may find more, and which the clock input and
 * the MIDI output share.  PortMidi offers no descriptor to sleep on: the
 * thread polls the stream every pm_poll_ns (500 us by default, so a message
 * waits 250 us on average before it is stamped) and treats any error from
 * the read as the device being gone.  Active sensing and SysEx are filtered
 * in PortMidi.  Input thread only.
 */
#include <stdio.h>

#include <portmidi.h>

#include "core/engine.h"
#include "dev/midi_in_port.h"
#include "dev/midi_pm.h"
#include "rt/rtclock.h"

static int pm_open(struct midi_in *mi, char *why, size_t cap)
{
	char name[MIDI_PM_NAME_MAX];
	mi->pm_port = midi_pm_open(false, mi->target, name, sizeof name, why, cap);
	if (!mi->pm_port)
		return -1;
	midi_parse_init(&mi->parser);
	midi_in_set_port_name(mi, name);
	return 0;
}

/* Bytes of a packed PortMidi message (SysEx is filtered out). */
static size_t pm_bytes(uint32_t msg, uint8_t *b)
{
	b[0] = (uint8_t)Pm_MessageStatus(msg);
	b[1] = (uint8_t)Pm_MessageData1(msg);
	b[2] = (uint8_t)Pm_MessageData2(msg);
	if (b[0] >= 0xF8)
		return 1;
	int len = midi_parse_data_len(b[0]);
	return 1 + (size_t)(len < 0 ? 0 : len > 2 ? 2 : len);
}

static int pm_run(struct midi_in *mi, char *why, size_t cap)
{
	uint32_t msg[64];
	for (;;) {
		int n = midi_pm_read(mi->pm_port, msg, 64, why, cap);
		if (n < 0)
			return 0;
		if (n > 0) {
			int64_t t = rtclock_mono_ns();
			for (int i = 0; i < n; i++) {
				uint8_t b[3];
				size_t len = pm_bytes(msg[i], b);
				midi_in_feed(mi, b, len, t);
			}
			if (n == 64)
				continue;
		}
		if (midi_in_wait(mi, mi->opt.pm_poll_ns))
			return 1;
	}
}

static void pm_close(struct midi_in *mi)
{
	midi_pm_close(mi->pm_port);
	mi->pm_port = NULL;
}

const struct midi_in_ops midi_in_pm_ops = {
    .name = "portmidi",
    .open = pm_open,
    .run = pm_run,
    .close = pm_close,
};
