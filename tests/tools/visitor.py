#!/usr/bin/env python3
"""Random visitors at the instrument: MIDI from a stand-in Teensy on a pty.

  visitor.py LINK SECONDS [--seed N] [--owner USER] [--idle-max S] [--presses P]

Creates a pty pair whose device side (what the engine opens with --midi-in
raw:LINK) is reached through the symlink LINK (tests/tools/e2e_teensy.py's
pty, in raw mode; --owner gives the device to that user, for an engine that
does not run as root), then for SECONDS plays what visitors do, from a
generator seeded with --seed:

  * a visit (5..60 s): knob sweeps (a controller of the default mapping,
    CC 20..25, moved smoothly from one value to another over 0.2..3 s, a
    message every 20 ms), button presses (notes 60..71: a note on, a note
    off 50..400 ms later; --presses is their share among the moves,
    default 0.4), short pauses;
  * then nobody (2..--idle-max s, default 120): the engine drifts into its
    idle mode when the gap is long enough.

Bytes that cannot be written at once (the engine is not reading) are
counted as dropped, never waited for.  Prints one line at the end:
"visitor seconds S visits V cc C notes N dropped D".  Python 3 standard
library only.
"""
import argparse
import errno
import os
import pwd
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_teensy import midi_bytes, new_pty  # noqa: E402

KNOBS = [20, 21, 22, 23, 24, 25]	# tempo, cutoff, reverb, swing, density, volume
BUTTONS = range(60, 72)			# trigger_step


class Visitor:
    def __init__(self, fd, rnd, end, presses):
        self.fd, self.rnd, self.end, self.presses = fd, rnd, end, presses
        self.counts = {"cc": 0, "on": 0, "dropped": 0, "visits": 0}
        self.knob = {k: rnd.randrange(128) for k in KNOBS}

    def send(self, *words):
        data, _ = midi_bytes([str(w) for w in words])
        try:
            n = os.write(self.fd, data)
            if n != len(data):
                self.counts["dropped"] += 1
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EIO):
                raise
            self.counts["dropped"] += 1
            return
        if words[0] in ("cc", "on"):
            self.counts[words[0]] += 1

    def sleep(self, s):
        """Sleeps, but never past the end; drains nothing (the engine writes
        nothing back on the MIDI pty)."""
        left = self.end - time.monotonic()
        if left > 0:
            time.sleep(min(s, left))
        return time.monotonic() < self.end

    def sweep(self):
        k = self.rnd.choice(KNOBS)
        a, b = self.knob[k], self.rnd.randrange(128)
        steps = max(1, int(self.rnd.uniform(0.2, 3.0) / 0.02))
        for i in range(1, steps + 1):
            v = round(a + (b - a) * i / steps)
            self.send("cc", 1, k, v)
            if not self.sleep(0.02):
                break
        self.knob[k] = b

    def press(self):
        n = self.rnd.choice(BUTTONS)
        self.send("on", 1, n, self.rnd.randrange(40, 128))
        self.sleep(self.rnd.uniform(0.05, 0.4))
        self.send("off", 1, n)

    def visit(self, seconds):
        self.counts["visits"] += 1
        until = min(self.end, time.monotonic() + seconds)
        while time.monotonic() < until:
            r = self.rnd.random()
            if r < 0.85 * self.presses:
                self.press()
            elif r < 0.85:
                self.sweep()
            if not self.sleep(self.rnd.uniform(0.05, 1.5)):
                break


def main():
    p = argparse.ArgumentParser()
    p.add_argument("link")
    p.add_argument("seconds", type=float)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--owner")
    p.add_argument("--idle-max", type=float, default=120.0)
    p.add_argument("--presses", type=float, default=0.4)
    a = p.parse_args()
    master, dev = new_pty(a.link)
    if a.owner:
        pw = pwd.getpwnam(a.owner)
        os.chown(dev, pw.pw_uid, pw.pw_gid)
    os.set_blocking(master, False)
    rnd = random.Random(a.seed)
    t0 = time.monotonic()
    v = Visitor(master, rnd, t0 + a.seconds, a.presses)
    while time.monotonic() < v.end:
        v.visit(rnd.uniform(5, 60))
        v.sleep(rnd.uniform(2, max(2.0, a.idle_max)))
    c = v.counts
    print("visitor seconds %.0f visits %d cc %d notes %d dropped %d" % (
        time.monotonic() - t0, c["visits"], c["cc"], c["on"], c["dropped"]), flush=True)
    try:
        os.unlink(a.link)
    except OSError:
        pass
    os.close(master)


if __name__ == "__main__":
    main()
