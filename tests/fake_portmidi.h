/* fake_portmidi: the PortMidi stand-in's controls (see fake_portmidi.c). */
#ifndef ME_TESTS_FAKE_PORTMIDI_H
#define ME_TESTS_FAKE_PORTMIDI_H

#include <portmidi.h>
#include <stdatomic.h>
#include <stdint.h>

#define FAKE_PM_DEVICES 8
#define FAKE_PM_LOG 256

struct fake_pm_device {
	char name[64];
	int input, output;
	_Atomic int plugged;
	int opens;      /* streams opened on it */
	int32_t in[64]; /* messages waiting to be read */
	int n_in;
	int32_t out[FAKE_PM_LOG];   /* messages written */
	int64_t out_t[FAKE_PM_LOG]; /* when (CLOCK_MONOTONIC) */
	_Atomic int n_out;
};

struct fake_pm {
	struct fake_pm_device dev[FAKE_PM_DEVICES]; /* name "" ends the list */
	int index_of[FAKE_PM_DEVICES];              /* PortMidi id -> dev */
	int scans;
	int32_t last_latency;
};

extern struct fake_pm fake_pm;

#endif
