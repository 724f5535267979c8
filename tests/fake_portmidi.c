/*
 * fake_portmidi: a PortMidi stand-in for tests/test_midi_pm_fake.c, linked
 * instead of libportmidi.  Devices are set by the test (fake_pm_devices);
 * Pm_Initialize() copies the list (a device plugged in later is seen only
 * after a new scan, as with PortMidi); a device unplugged makes its streams'
 * calls fail, as ALSA does.  Every Pm_WriteShort is recorded with the
 * CLOCK_MONOTONIC time of the call.  Calls from several threads are safe
 * only under midi_pm's mutex, like the real library.
 */
#include "fake_portmidi.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "rt/rtclock.h"

struct fake_pm fake_pm;

struct stream {
	int dev;
	int output;
	int gen; /* the initialisation it was opened in */
};

static PmDeviceInfo info[FAKE_PM_DEVICES];
static int n_info, init_gen;

PmError Pm_Initialize(void)
{
	n_info = 0;
	for (int i = 0; i < FAKE_PM_DEVICES && fake_pm.dev[i].name[0]; i++) {
		if (!fake_pm.dev[i].plugged)
			continue;
		info[n_info] = (PmDeviceInfo){.structVersion = 1,
		                              .interf = "FAKE",
		                              .name = fake_pm.dev[i].name,
		                              .input = fake_pm.dev[i].input,
		                              .output = fake_pm.dev[i].output};
		fake_pm.index_of[n_info++] = i;
	}
	init_gen++;
	fake_pm.scans++;
	return pmNoError;
}

PmError Pm_Terminate(void)
{
	init_gen++;
	return pmNoError;
}

int Pm_CountDevices(void)
{
	return n_info;
}

const PmDeviceInfo *Pm_GetDeviceInfo(PmDeviceID id)
{
	return id >= 0 && id < n_info ? &info[id] : NULL;
}

static PmError open_stream(PortMidiStream **s, PmDeviceID id, int output)
{
	if (id < 0 || id >= n_info || !fake_pm.dev[fake_pm.index_of[id]].plugged)
		return pmInvalidDeviceId;
	struct stream *st = calloc(1, sizeof *st);
	if (!st)
		return pmInsufficientMemory;
	st->dev = fake_pm.index_of[id];
	st->output = output;
	st->gen = init_gen;
	fake_pm.dev[st->dev].opens++;
	*s = st;
	return pmNoError;
}

PmError Pm_OpenInput(PortMidiStream **s, PmDeviceID id, void *d, int32_t n, PmTimeProcPtr tp,
                     void *ti)
{
	(void)d, (void)n, (void)tp, (void)ti;
	return open_stream(s, id, 0);
}

PmError Pm_OpenOutput(PortMidiStream **s, PmDeviceID id, void *d, int32_t n, PmTimeProcPtr tp,
                      void *ti, int32_t latency)
{
	(void)d, (void)n, (void)tp, (void)ti;
	fake_pm.last_latency = latency;
	return open_stream(s, id, 1);
}

PmError Pm_SetFilter(PortMidiStream *s, int32_t filters)
{
	(void)s, (void)filters;
	return pmNoError;
}

PmError Pm_Close(PortMidiStream *s)
{
	free(s);
	return pmNoError;
}

/* A stream of an unplugged device, or one a Pm_Terminate ended, fails. */
static int dead(const struct stream *st)
{
	return !fake_pm.dev[st->dev].plugged || st->gen != init_gen;
}

PmError Pm_Poll(PortMidiStream *s)
{
	struct stream *st = s;
	if (dead(st))
		return pmHostError;
	return fake_pm.dev[st->dev].n_in ? pmGotData : pmNoData;
}

int Pm_Read(PortMidiStream *s, PmEvent *buf, int32_t len)
{
	struct stream *st = s;
	if (dead(st))
		return pmHostError;
	struct fake_pm_device *d = &fake_pm.dev[st->dev];
	int n = 0;
	while (n < len && d->n_in) {
		buf[n++] = (PmEvent){.message = d->in[0], .timestamp = 0};
		memmove(d->in, d->in + 1, (size_t)--d->n_in * sizeof d->in[0]);
	}
	return n;
}

PmError Pm_WriteShort(PortMidiStream *s, PmTimestamp when, int32_t msg)
{
	struct stream *st = s;
	(void)when;
	if (dead(st))
		return pmHostError;
	struct fake_pm_device *d = &fake_pm.dev[st->dev];
	if (d->n_out < FAKE_PM_LOG) {
		d->out[d->n_out] = msg;
		d->out_t[d->n_out++] = rtclock_mono_ns();
	}
	return pmNoError;
}

const char *Pm_GetErrorText(PmError e)
{
	return e == pmHostError ? "fake host error" : "fake error";
}

void Pm_GetHostErrorText(char *msg, unsigned int len)
{
	if (len)
		msg[0] = '\0';
}
