/*
 * portmidi_list: `mystery-engine --list-midi`, the MIDI inputs and outputs
 * PortMidi sees.
 * Main thread; initialises and terminates PortMidi itself.
 */
#ifndef ME_DEV_PORTMIDI_LIST_H
#define ME_DEV_PORTMIDI_LIST_H

#include <stdio.h>

/*
 * Prints one line "N: NAME (INTERFACE, input)" per input device, then
 * "N: NAME (INTERFACE, output)" per output, or "no MIDI inputs found" /
 * "no MIDI outputs found".  Returns the number of inputs, or -1 when
 * PortMidi fails (the reason printed to err).
 */
int portmidi_list_inputs(FILE *out, FILE *err);

#endif
