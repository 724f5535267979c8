#!/usr/bin/env python3
"""e2e_pty: a MIDI keyboard on a pseudo-terminal that presses trigger
buttons at random moments between the sequenced notes (bench/live_latency.sh).

    e2e_pty.py LINK EVENTS OUT --seconds N --step S [--latency-ms MS]
               [--notes FIRST-LAST] [--seed R]

Creates a pty in raw mode and makes LINK a symbolic link to it (the program
reads it as --midi-in raw:LINK), then follows the program's event log
EVENTS (--events, written as it plays) to learn its clock:

  * sync: sends an unmapped controller (CC 119) three times; the "input"
    lines give the engine time of each write, hence the offset between
    this process's CLOCK_MONOTONIC and the engine's time;
  * the sequenced notes are a one-step pattern without swing: one note
    every S seconds from the first one, each half a step long.

Each press falls at a random moment in the silence between two sequenced
notes (after the earlier note and its 300 ms release, early enough that
the live note starts before the next one), so its onset can be measured;
after a press it waits until that live note (its length comes from the
log) is over and one more sequenced note sounded alone.  The note is drawn from
FIRST..LAST (default 61-71: trigger buttons of steps 2..12, outside a
one-step pattern, so pressing them does not change the sequence), favouring
the ones whose notes turned out short.

OUT gets one line per press: "press NOTE MONO_NS WALL_NS" (the clocks read
just before the write), and "sync OFFSET_NS" (engine ns = mono ns + offset).
Exit status 0, 1 when the log does not show the program playing.  Python 3
standard library only.
"""
import argparse
import json
import os
import random
import sys
import time
import tty


class Log:
    """Follows the event log as the program writes it."""

    def __init__(self, path):
        self.path, self.pos, self.buf = path, 0, ""
        self.notes, self.inputs = [], []

    def poll(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                f.seek(self.pos)
                data = f.read()
                self.pos = f.tell()
        except OSError:
            return
        self.buf += data
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("type") == "note":
                self.notes.append(ev)
            elif ev.get("type") == "input":
                self.inputs.append(ev)

    def wait(self, pred, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.poll()
            r = pred()
            if r is not None:
                return r
            time.sleep(0.005)
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("link")
    ap.add_argument("events")
    ap.add_argument("out")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--step", type=float, required=True)
    ap.add_argument("--latency-ms", type=float, default=10.0)
    ap.add_argument("--notes", default="61-71")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    first, last = (int(x) for x in a.notes.split("-"))
    step, lat = a.step, a.latency_ms / 1000.0

    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    if os.path.lexists(a.link):
        os.unlink(a.link)
    os.symlink(os.ttyname(slave), a.link)
    out = open(a.out, "w")

    log = Log(a.events)
    if log.wait(lambda: log.notes[0] if log.notes else None, 30) is None:
        print("e2e_pty: no note in %s: the program is not playing" % a.events, file=sys.stderr)
        return 1

    # sync: engine time of three writes of an unmapped controller
    offs = []
    for i in range(3):
        mono = time.monotonic_ns()
        os.write(master, bytes([0xB0, 119, i]))
        ev = log.wait(lambda: next((e for e in log.inputs if e.get("number") == 119 and
                                    e.get("value") == i), None), 5)
        if ev is None:
            print("e2e_pty: the program does not log MIDI input", file=sys.stderr)
            return 1
        offs.append(round(ev["t"] * 1e9) - mono)
        time.sleep(0.05)
    offset = min(offs)
    out.write("sync %d\n" % offset)

    def engine_now():
        return (time.monotonic_ns() + offset) / 1e9

    t0 = min(n["t"] for n in log.notes if n.get("step") == 0)
    dur = {}  # note -> length of the live note it plays (s)
    free_at = 0.0
    end = engine_now() + a.seconds
    presses = 0
    while True:
        now = engine_now()
        # the next sequenced note that sounds clean (after the last live note)
        k = max(int((max(now + 0.2, free_at + step) - t0) / step) + 1, 0)
        tk = t0 + k * step
        press = tk + rnd.uniform(0.5 * step + 0.33, step - 0.045 - lat)
        if press > end:
            break
        short = [n for n in range(first, last + 1) if n not in dur or dur[n] <= step + 1e-6]
        note = rnd.choice(short or list(range(first, last + 1)))
        while True:
            left = press - engine_now()
            if left <= 0:
                break
            time.sleep(min(left, 0.5) if left > 0.003 else 0)
        mono, wall = time.monotonic_ns(), time.time_ns()
        os.write(master, bytes([0x90, note, 100]))
        out.write("press %d %d %d\n" % (note, mono, wall))
        out.flush()
        presses += 1
        te = (mono + offset) / 1e9
        ev = log.wait(lambda: next((n for n in log.notes if n["pitch"] >= 0 and
                                    n["t"] >= te - 0.005 and n["step"] == note - 60), None), 5)
        time.sleep(0.05)
        os.write(master, bytes([0x80, note, 0]))
        if ev is None:
            print("e2e_pty: press of note %d not in the log" % note, file=sys.stderr)
            free_at = te + 2 * step + 0.35
            continue
        dur[note] = ev["duration"]
        free_at = ev["t"] + ev["duration"] + 0.35
    out.close()
    print("e2e_pty: %d presses" % presses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
