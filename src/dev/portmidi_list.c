/*
 * portmidi_list: lists PortMidi's input devices for --list-midi.
 *
 * Pm_Initialize, one Pm_GetDeviceInfo per device, Pm_Terminate; output
 * devices are skipped.  Machines without ALSA sequencer (no sound card, a
 * container) simply report no inputs.  Main thread, before any other
 * PortMidi user starts.
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
	int n = 0, count = Pm_CountDevices();
	for (int i = 0; i < count; i++) {
		const PmDeviceInfo *info = Pm_GetDeviceInfo(i);
		if (!info || !info->input)
			continue;
		fprintf(out, "%d: %s (%s)\n", i, info->name ? info->name : "?",
			info->interf ? info->interf : "?");
		n++;
	}
	if (n == 0)
		fputs("no MIDI inputs found\n", out);
	Pm_Terminate();
	return n;
}
