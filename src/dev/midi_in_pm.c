/*
 * midi_in_pm: PortMidi inputs ("auto", "portmidi:NAME").
 *
 * PortMidi only sees the devices present at Pm_Initialize(), so each
 * connection attempt is a full Pm_Terminate() + Pm_Initialize() scan that
 * picks the first input whose name matches (midi_in_name_matches).
 * PortMidi offers no descriptor to sleep on: the thread polls the stream
 * every pm_poll_ns (500 us by default, so a message waits 250 us on average
 * before it is stamped) and treats any error from Pm_Poll/Pm_Read as the
 * device being gone.  ALSA's own error lines (printed on stderr when the
 * sequencer is missing, at every scan) are routed to the debug log instead,
 * through snd_lib_error_set_handler found at run time in the ALSA library
 * PortMidi already loaded, so a waiting input does not scribble over the
 * console.  Active sensing and SysEx are filtered in PortMidi.
 *
 * Rescans are rationed: Pm_Initialize() leaks about 140 bytes per call in
 * PortMidi 217 (find_default_device), so a waiting input rescans only when
 * /dev/snd changed since the last scan (a USB device plugged in adds its
 * nodes there) or 30 s went by; without /dev/snd/seq (no ALSA sequencer)
 * it does not scan at all.  The backoff schedule still paces the checks.
 * Input thread only (PortMidi is not thread-safe; nothing else in the
 * program uses it while the engine runs).
 */
#include <dlfcn.h>
#include <errno.h>
#include <portmidi.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "rt/log.h"
#include "core/engine.h"
#include "dev/midi_in_port.h"
#include "rt/rtclock.h"

typedef void (*alsa_error_handler)(const char *file, int line, const char *func, int err,
				   const char *fmt, ...);

static void alsa_to_log(const char *file, int line, const char *func, int err, const char *fmt,
			...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_debug("alsa", "%s:%d (%s): %s", file ? file : "?", line, func ? func : "?", msg);
}

static void quiet_alsa(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	int (*set)(alsa_error_handler) =
	    (int (*)(alsa_error_handler))dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler");
	if (set)
		set(alsa_to_log);
}

static int pm_scan(struct midi_in *mi, char *why, size_t cap);

static void pm_shutdown(struct midi_in *mi)
{
	if (mi->pm_stream)
		Pm_Close((PortMidiStream *)mi->pm_stream);
	mi->pm_stream = NULL;
	if (mi->pm_initialized)
		Pm_Terminate();
	mi->pm_initialized = 0;
}

#define RESCAN_NS (30 * NS_PER_SEC)

/* False when a scan now would find what the last one found. */
static int worth_scanning(struct midi_in *mi, char *why, size_t cap)
{
	struct stat st;
	if (stat("/dev/snd/seq", &st) != 0) {
		snprintf(why, cap, "no ALSA sequencer (/dev/snd/seq: %s)", strerror(errno));
		return 0;
	}
	int64_t now = rtclock_mono_ns();
	if (stat("/dev/snd", &st) != 0)
		memset(&st, 0, sizeof st);
	if (mi->pm_scan_t && now - mi->pm_scan_t < RESCAN_NS &&
	    st.st_mtim.tv_sec == mi->pm_snd_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == mi->pm_snd_mtime.tv_nsec) {
		snprintf(why, cap, "%s", mi->pm_why);
		return 0;
	}
	mi->pm_scan_t = now;
	mi->pm_snd_mtime = st.st_mtim;
	return 1;
}

static int pm_open(struct midi_in *mi, char *why, size_t cap)
{
	quiet_alsa();
	pm_shutdown(mi);
	if (!worth_scanning(mi, why, cap))
		return -1;
	int r = pm_scan(mi, why, cap);
	if (r < 0)
		snprintf(mi->pm_why, sizeof mi->pm_why, "%s", why);
	else
		mi->pm_scan_t = 0;	/* after a disconnection, scan at once */
	return r;
}

static int pm_scan(struct midi_in *mi, char *why, size_t cap)
{
	PmError e = Pm_Initialize();
	if (e != pmNoError) {
		snprintf(why, cap, "PortMidi: %s", Pm_GetErrorText(e));
		return -1;
	}
	mi->pm_initialized = 1;
	int n = Pm_CountDevices(), found = -1, inputs = 0;
	for (int i = 0; i < n && found < 0; i++) {
		const PmDeviceInfo *d = Pm_GetDeviceInfo(i);
		if (!d || !d->input)
			continue;
		inputs++;
		if (midi_in_name_matches(d->name, mi->target))
			found = i;
	}
	if (found < 0) {
		if (mi->target[0])
			snprintf(why, cap, "no PortMidi input matches \"%s\" (%d inputs)",
				 mi->target, inputs);
		else
			snprintf(why, cap, "no PortMidi input other than Through ports (%d inputs)",
				 inputs);
		pm_shutdown(mi);
		return -1;
	}
	PortMidiStream *s = NULL;
	e = Pm_OpenInput(&s, found, NULL, 1024, NULL, NULL);
	if (e != pmNoError) {
		char host[128] = "";
		if (e == pmHostError)
			Pm_GetHostErrorText(host, sizeof host);
		snprintf(why, cap, "PortMidi: cannot open %s: %s %s", Pm_GetDeviceInfo(found)->name,
			 Pm_GetErrorText(e), host);
		pm_shutdown(mi);
		return -1;
	}
	Pm_SetFilter(s, PM_FILT_ACTIVE | PM_FILT_SYSEX);
	mi->pm_stream = s;
	midi_parse_init(&mi->parser);
	midi_in_set_port_name(mi, Pm_GetDeviceInfo(found)->name);
	return 0;
}

/* Bytes of a packed PortMidi message (SysEx is filtered out). */
static size_t pm_bytes(PmMessage msg, uint8_t *b)
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
	PortMidiStream *s = mi->pm_stream;
	PmEvent ev[64];
	for (;;) {
		PmError p = Pm_Poll(s);
		if (p < 0) {
			snprintf(why, cap, "PortMidi: %s", Pm_GetErrorText(p));
			return 0;
		}
		if (p == pmGotData) {
			int n = Pm_Read(s, ev, 64);
			if (n < 0) {
				snprintf(why, cap, "PortMidi: %s", Pm_GetErrorText((PmError)n));
				return 0;
			}
			int64_t t = rtclock_mono_ns();
			for (int i = 0; i < n; i++) {
				uint8_t b[3];
				size_t len = pm_bytes(ev[i].message, b);
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
	pm_shutdown(mi);
}

const struct midi_in_ops midi_in_pm_ops = {
	.name = "portmidi",
	.open = pm_open,
	.run = pm_run,
	.close = pm_close,
};
