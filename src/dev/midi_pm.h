/*
 * midi_pm: the process's one PortMidi session, shared by every PortMidi port
 * (the MIDI input, a clock input of its own, the MIDI output).
 *
 * PortMidi is not thread-safe, sees only the devices present at
 * Pm_Initialize(), and its Pm_Terminate() (the only way to scan again)
 * ends every stream.  So every PortMidi call of the program goes through
 * here under one mutex, and a scan closes the streams of the other ports and
 * reopens them by device name at once, on the scanning thread.  A port is
 * a device picked by name (midi_pm_pick) and its stream; a read or a write
 * on a port whose device is gone says so, and its owner closes it and opens
 * it again later (its own backoff): nobody waits for a device.
 *
 * Threads: any thread but the worker (the mutex; a scan takes milliseconds).
 * The pure functions (pick, describe) have no state: any thread.
 */
#ifndef ME_RT_MIDI_PM_H
#define ME_RT_MIDI_PM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIDI_PM_NAME_MAX 128

struct midi_pm_device {
	char name[MIDI_PM_NAME_MAX];
	bool input, output;
};

/*
 * The device a port with pattern picks among devs[0..n) of its direction:
 * the first whose name equals pattern (any case), else the first whose name
 * contains it (midi_in_name_matches: any case; "" or NULL, for an input,
 * the first that is not a "Through" port).  -1 when none fits.
 */
int midi_pm_pick(const struct midi_pm_device *devs, int n, bool output, const char *pattern);

/*
 * Why no device fits: `no PortMidi output matches "X" (outputs: "A", "B")`
 * or `... (no outputs)`; the names are cut with ", ..." to fit cap.
 * Returns the length written (as snprintf, at most cap - 1).
 */
size_t midi_pm_describe_missing(char *buf, size_t cap, const struct midi_pm_device *devs, int n,
                                bool output, const char *pattern);

struct midi_pm_port;

/*
 * Opens the device pattern picks (output or input), scanning again first
 * when it is not among the devices of the last scan and a scan may find
 * more (the ALSA sequencer exists, and /dev/snd changed since the last scan
 * or, with no stream open, 30 s went by).  NULL when none fits or it cannot
 * be opened, with why saying which and listing what exists; the name of
 * the device opened in name otherwise.
 */
struct midi_pm_port *midi_pm_open(bool output, const char *pattern, char *name, size_t name_cap,
                                  char *why, size_t why_cap);
/* Input ports: up to max messages waiting (0 when none); -1 when the
 * device is gone (why says how). */
int midi_pm_read(struct midi_pm_port *p, uint32_t *msgs, int max, char *why, size_t why_cap);
/* Output ports: sends one short message now; -1 when the device is gone. */
int midi_pm_write(struct midi_pm_port *p, const uint8_t *b, size_t n, char *why, size_t why_cap);
void midi_pm_close(struct midi_pm_port *p);

/* Tests: the ALSA sequencer's node (default /dev/snd/seq) and the directory
 * whose change means a device came or went (default /dev/snd). */
void midi_pm_set_paths(const char *seq, const char *snd_dir);

#endif
