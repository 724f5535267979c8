/*
 * midi_pm: the process's one PortMidi session (see midi_pm.h).
 *
 * State: one mutex, the devices of the last scan, and the open ports (at
 * most MIDI_PM_PORTS).  A scan is Pm_Terminate() + Pm_Initialize(); since
 * Pm_Terminate() ends every stream, the scan first closes the open ports'
 * streams and afterwards reopens each by the exact name of its device (a
 * port whose device went away is marked lost: its next read or write says
 * so).  Scans are rationed: Pm_Initialize() leaks about 140 bytes per call
 * in PortMidi 217 (find_default_device), and a scan interrupts the other
 * ports for its few milliseconds.  So a port looking for a device scans only
 * when the ALSA sequencer exists (/dev/snd/seq; without it there is nothing
 * to find) and /dev/snd changed since the last scan (a USB device plugged in
 * adds its nodes there), or, when no other port has a stream open, 30 s
 * went by (ALSA clients of other programs).
 *
 * ALSA's own error lines (printed on stderr when the sequencer is missing)
 * are routed to the debug log, through snd_lib_error_set_handler found at
 * run time in the ALSA library PortMidi loaded.
 *
 * Outputs are opened with latency 0: PortMidi sends each message at once
 * (ALSA direct delivery), timestamps ignored; the caller writes when due.
 *
 * Threads: as midi_pm.h says; everything below the pure functions runs
 * under `lock`.
 */
#include "dev/midi_pm.h"

#include <dlfcn.h>
#include <errno.h>
#include <portmidi.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "rt/log.h"
#include "dev/midi_in.h"
#include "rt/rtclock.h"

#define MIDI_PM_PORTS 8
#define MIDI_PM_DEVICES 64
#define RESCAN_NS (30 * NS_PER_SEC)

/* ---- pure ---- */

int midi_pm_pick(const struct midi_pm_device *devs, int n, bool output, const char *pattern)
{
	bool has = pattern && *pattern;
	for (int i = 0; has && i < n; i++)
		if ((output ? devs[i].output : devs[i].input) &&
		    strcasecmp(devs[i].name, pattern) == 0)
			return i;
	for (int i = 0; i < n; i++) {
		if (!(output ? devs[i].output : devs[i].input))
			continue;
		if (output && !has)
			return -1; /* an output is always named */
		if (midi_in_name_matches(devs[i].name, pattern))
			return i;
	}
	return -1;
}

/* Appends str to buf (len of cap used), as much as fits. */
static void append(char *buf, size_t cap, size_t *len, const char *str)
{
	size_t n = strlen(str);
	if (*len + n >= cap)
		n = cap - 1 - *len;
	memcpy(buf + *len, str, n);
	*len += n;
	buf[*len] = '\0';
}

size_t midi_pm_describe_missing(char *buf, size_t cap, const struct midi_pm_device *devs, int n,
                                bool output, const char *pattern)
{
	if (!cap)
		return 0;
	const char *dir = output ? "output" : "input";
	char item[MIDI_PM_NAME_MAX + 32];
	size_t len = 0;
	buf[0] = '\0';
	if (pattern && *pattern)
		snprintf(item, sizeof item, "no PortMidi %s matches \"%s\" (", dir, pattern);
	else
		snprintf(item, sizeof item, "no PortMidi %s other than Through ports (", dir);
	append(buf, cap, &len, item);
	static const char more[] = ", ...)";
	int listed = 0;
	for (int i = 0; i < n; i++) {
		if (!(output ? devs[i].output : devs[i].input))
			continue;
		snprintf(item, sizeof item, "%s\"%s\"",
		         listed   ? ", "
		         : output ? "outputs: "
		                  : "inputs: ",
		         devs[i].name);
		if (len + strlen(item) + sizeof more > cap) {
			append(buf, cap, &len, more);
			return len;
		}
		append(buf, cap, &len, item);
		listed++;
	}
	append(buf, cap, &len, listed ? ")" : output ? "no outputs)" : "no inputs)");
	return len;
}

/* ---- the session ---- */

struct midi_pm_port {
	bool output;
	char pattern[MIDI_PM_NAME_MAX];
	char name[MIDI_PM_NAME_MAX]; /* the device open */
	PortMidiStream *stream;      /* NULL: lost at a scan */
	char lost[160];              /* why, when lost */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool initialized;
static struct midi_pm_device devices[MIDI_PM_DEVICES];
static int n_devices;
static int64_t scan_t;            /* mono ns of the last scan, 0: none */
static struct timespec snd_mtime; /* /dev/snd at that scan */
static struct midi_pm_port *ports[MIDI_PM_PORTS];
static char seq_path[128] = "/dev/snd/seq"; /* present: an ALSA sequencer */
static char snd_path[128] = "/dev/snd";     /* its mtime moves when devices come */

void midi_pm_set_paths(const char *seq, const char *snd_dir)
{
	pthread_mutex_lock(&lock);
	snprintf(seq_path, sizeof seq_path, "%s", seq);
	snprintf(snd_path, sizeof snd_path, "%s", snd_dir);
	pthread_mutex_unlock(&lock);
}

typedef void (*alsa_error_handler)(const char *file, int line, const char *func, int err,
                                   const char *fmt, ...);

static void alsa_to_log(const char *file, int line, const char *func, int err, const char *fmt, ...)
{
	(void)err;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_debug("alsa", "%s:%d (%s): %s", file ? file : "?", line, func ? func : "?", msg);
}

static void quiet_alsa(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	int (*set)(alsa_error_handler) =
	    (int (*)(alsa_error_handler))dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler");
	if (set)
		set(alsa_to_log);
}

static bool any_open(void)
{
	for (int i = 0; i < MIDI_PM_PORTS; i++)
		if (ports[i] && ports[i]->stream)
			return true;
	return false;
}

/* Whether /dev/snd changed since the last scan (a device came or went). */
static bool snd_changed(void)
{
	struct stat st;
	if (stat(snd_path, &st) != 0)
		memset(&st, 0, sizeof st);
	return st.st_mtim.tv_sec != snd_mtime.tv_sec || st.st_mtim.tv_nsec != snd_mtime.tv_nsec;
}

/* Whether a scan now may find more than the last one; why says why not. */
static bool worth_scanning(char *why, size_t cap)
{
	struct stat st;
	if (stat(seq_path, &st) != 0) {
		snprintf(why, cap, "no ALSA sequencer (%s: %s), so no PortMidi devices", seq_path,
		         strerror(errno));
		return false;
	}
	if (!initialized)
		return true;
	return snd_changed() || (!any_open() && rtclock_mono_ns() - scan_t >= RESCAN_NS);
}

static PortMidiStream *open_stream(bool output, int id, char *why, size_t cap)
{
	PortMidiStream *s = NULL;
	PmError e = output ? Pm_OpenOutput(&s, id, NULL, 256, NULL, NULL, 0)
	                   : Pm_OpenInput(&s, id, NULL, 1024, NULL, NULL);
	if (e != pmNoError) {
		char host[128] = "";
		if (e == pmHostError)
			Pm_GetHostErrorText(host, sizeof host);
		snprintf(why, cap, "PortMidi: cannot open %s: %s %s", devices[id].name,
		         Pm_GetErrorText(e), host);
		return NULL;
	}
	if (!output)
		Pm_SetFilter(s, PM_FILT_ACTIVE | PM_FILT_SYSEX);
	return s;
}

/* Terminates and initialises PortMidi again; the open ports are reopened by
 * their device's exact name.  False when PortMidi fails (why). */
static bool scan(char *why, size_t cap)
{
	for (int i = 0; i < MIDI_PM_PORTS; i++)
		if (ports[i] && ports[i]->stream) {
			Pm_Close(ports[i]->stream);
			ports[i]->stream = NULL;
		}
	if (initialized)
		Pm_Terminate();
	initialized = false;
	n_devices = 0;
	scan_t = rtclock_mono_ns();
	struct stat st;
	if (stat(snd_path, &st) != 0)
		memset(&st, 0, sizeof st);
	snd_mtime = st.st_mtim;
	PmError e = Pm_Initialize();
	if (e != pmNoError) {
		snprintf(why, cap, "PortMidi: %s", Pm_GetErrorText(e));
		for (int i = 0; i < MIDI_PM_PORTS; i++)
			if (ports[i] && !ports[i]->lost[0])
				snprintf(ports[i]->lost, sizeof ports[i]->lost, "%s", why);
		return false;
	}
	initialized = true;
	int n = Pm_CountDevices();
	for (int i = 0; i < n && n_devices < MIDI_PM_DEVICES; i++) {
		const PmDeviceInfo *d = Pm_GetDeviceInfo(i);
		struct midi_pm_device *dv = &devices[n_devices++];
		snprintf(dv->name, sizeof dv->name, "%s", d && d->name ? d->name : "?");
		dv->input = d && d->input;
		dv->output = d && d->output;
	}
	for (int i = 0; i < MIDI_PM_PORTS; i++) {
		struct midi_pm_port *p = ports[i];
		if (!p || p->lost[0])
			continue;
		int id = midi_pm_pick(devices, n_devices, p->output, p->name);
		char w[160];
		if (id < 0 || strcasecmp(devices[id].name, p->name) != 0)
			snprintf(p->lost, sizeof p->lost, "%s gone at a rescan", p->name);
		else if (!(p->stream = open_stream(p->output, id, w, sizeof w)))
			snprintf(p->lost, sizeof p->lost, "%s", w);
	}
	return true;
}

struct midi_pm_port *midi_pm_open(bool output, const char *pattern, char *name, size_t name_cap,
                                  char *why, size_t why_cap)
{
	pthread_mutex_lock(&lock);
	quiet_alsa();
	struct midi_pm_port *p = NULL;
	int slot = -1;
	for (int i = 0; i < MIDI_PM_PORTS && slot < 0; i++)
		if (!ports[i])
			slot = i;
	if (slot < 0) {
		snprintf(why, why_cap, "too many PortMidi ports (%d)", MIDI_PM_PORTS);
		goto out;
	}
	int id = initialized ? midi_pm_pick(devices, n_devices, output, pattern) : -1;
	char no_scan[512] = "";
	/* a device of the last scan may be gone: scan again when /dev/snd moved */
	if ((id < 0 || snd_changed()) && worth_scanning(no_scan, sizeof no_scan)) {
		if (!scan(why, why_cap))
			goto out;
		id = midi_pm_pick(devices, n_devices, output, pattern);
	}
	if (id < 0) {
		if (no_scan[0])
			snprintf(why, why_cap, "%s", no_scan);
		else
			midi_pm_describe_missing(why, why_cap, devices, n_devices, output, pattern);
		goto out;
	}
	PortMidiStream *s = open_stream(output, id, why, why_cap);
	if (!s)
		goto out;
	p = calloc(1, sizeof *p);
	if (!p) {
		Pm_Close(s);
		snprintf(why, why_cap, "out of memory");
		goto out;
	}
	p->output = output;
	snprintf(p->pattern, sizeof p->pattern, "%s", pattern ? pattern : "");
	snprintf(p->name, sizeof p->name, "%s", devices[id].name);
	p->stream = s;
	ports[slot] = p;
	snprintf(name, name_cap, "%s", p->name);
out:
	pthread_mutex_unlock(&lock);
	return p;
}

/* A port's stream failed: close it and say why. */
static int lose(struct midi_pm_port *p, PmError e, char *why, size_t cap)
{
	snprintf(why, cap, "PortMidi: %s", Pm_GetErrorText(e));
	Pm_Close(p->stream);
	p->stream = NULL;
	snprintf(p->lost, sizeof p->lost, "%s", why);
	return -1;
}

int midi_pm_read(struct midi_pm_port *p, uint32_t *msgs, int max, char *why, size_t why_cap)
{
	int n = 0;
	pthread_mutex_lock(&lock);
	if (!p->stream) {
		snprintf(why, why_cap, "%s", p->lost[0] ? p->lost : "not open");
		n = -1;
	} else {
		PmError r = Pm_Poll(p->stream);
		if (r < 0) {
			n = lose(p, r, why, why_cap);
		} else if (r == pmGotData) {
			PmEvent ev[64];
			n = Pm_Read(p->stream, ev, max < 64 ? max : 64);
			if (n < 0)
				n = lose(p, (PmError)n, why, why_cap);
			for (int i = 0; i < n; i++)
				msgs[i] = (uint32_t)ev[i].message;
		}
	}
	pthread_mutex_unlock(&lock);
	return n;
}

int midi_pm_write(struct midi_pm_port *p, const uint8_t *b, size_t n, char *why, size_t why_cap)
{
	int rc = 0;
	pthread_mutex_lock(&lock);
	if (!p->stream) {
		snprintf(why, why_cap, "%s", p->lost[0] ? p->lost : "not open");
		rc = -1;
	} else {
		PmError e = Pm_WriteShort(p->stream, 0,
		                          Pm_Message(b[0], n > 1 ? b[1] : 0, n > 2 ? b[2] : 0));
		if (e < 0)
			rc = lose(p, e, why, why_cap);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void midi_pm_close(struct midi_pm_port *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&lock);
	if (p->stream)
		Pm_Close(p->stream);
	for (int i = 0; i < MIDI_PM_PORTS; i++)
		if (ports[i] == p)
			ports[i] = NULL;
	pthread_mutex_unlock(&lock);
	free(p);
}
