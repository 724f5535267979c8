/*
 * portmidi_list: lists PortMidi's devices for --list-midi: the names
 * midi.input_port, midi.clock_input_port (portmidi:NAME, inputs) and
 * midi.output_port (portmidi:NAME, outputs) pick from.
 *
 * Pm_Initialize, one Pm_GetDeviceInfo per device, Pm_Terminate.  Machines without ALSA sequencer
 * (no sound card, a container) simply report no inputs.  Main thread, before any other PortMidi
 * user starts.
 */
#include "dev/portmidi_list.h"

#include <portmidi.h>

int portmidi_list_inputs(FILE *out, FILE *err)
{
	PmError e = Pm_Initialize();
	if (e != pmNoError) {
		fprintf(err, "mystery-engine: PortMidi: %s\n", Pm_GetErrorText(e));
		return -1;
	}
	int n = 0, n_out = 0, count = Pm_CountDevices();
	for (int dir = 0; dir < 2; dir++)
		for (int i = 0; i < count; i++) {
			const PmDeviceInfo *info = Pm_GetDeviceInfo(i);
			if (!info || !(dir ? info->output : info->input))
				continue;
			fprintf(out, "%d: %s (%s, %s)\n", i, info->name ? info->name : "?",
			        info->interf ? info->interf : "?", dir ? "output" : "input");
			*(dir ? &n_out : &n) += 1;
		}
	if (n == 0)
		fputs("no MIDI inputs found\n", out);
	if (n_out == 0)
		fputs("no MIDI outputs found\n", out);
	Pm_Terminate();
	return n;
}
