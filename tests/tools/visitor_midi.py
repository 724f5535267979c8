#!/usr/bin/env python3
"""Writes a Standard MIDI File of gallery visitors playing the Teensy.

  visitor_midi.py OUT.mid [--hours H] [--seed S]

Visits come at random (2 to 20 minutes apart) and last 1 to 4 minutes.
During a visit, every 0.5 to 6 seconds a visitor either presses a step
button (notes 60..71 on channel 1, velocity 60..120, released 0.1 to 0.5 s
later) or turns a knob of the default mapping (CCs 20..25, 50..52, 60..62)
to a new position over 0.3 to 2 seconds, 10 to 30 messages on the way,
as a hand turns it.  Between visits nothing comes, so the instrument goes
idle.  The same seed gives the same file.  Format 0, 480 ticks per quarter
note at the default 120 BPM (960 ticks a second).  Python 3 standard
library only.
"""
import argparse
import random
import struct

TICKS_PER_S = 960
KNOBS = [20, 21, 22, 23, 24, 25, 50, 51, 52, 60, 61, 62]


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def visits(hours, r):
    """Yields (seconds, bytes) of the whole performance, unsorted."""
    t = r.uniform(60, 600)
    end = hours * 3600.0
    pos = {cc: r.randrange(128) for cc in KNOBS}
    while t < end:
        stop = min(end, t + r.uniform(60, 240))
        while t < stop:
            x = r.random()
            if x < 0.5:
                note = r.randrange(60, 72)
                yield t, bytes([0x90, note, r.randrange(60, 121)])
                yield t + r.uniform(0.1, 0.5), bytes([0x80, note, 0])
            elif x < 0.9:
                cc = r.choice(KNOBS)
                to = r.randrange(128)
                n = r.randrange(10, 31)
                dur = r.uniform(0.3, 2.0)
                for i in range(1, n + 1):
                    v = round(pos[cc] + (to - pos[cc]) * i / n)
                    yield t + dur * i / n, bytes([0xB0, cc, v])
                pos[cc] = to
            t += r.uniform(0.5, 6.0)
        t = stop + r.uniform(120, 1200)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--hours", type=float, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    r = random.Random(a.seed)
    events = sorted(((round(t * TICKS_PER_S), data) for t, data in visits(a.hours, r)),
                    key=lambda e: e[0])
    body = b""
    last = 0
    for tick, data in events:
        body += vlq(tick - last) + data
        last = tick
    body += vlq(0) + b"\xff\x2f\x00"
    head = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    with open(a.out, "wb") as f:
        f.write(head + b"MTrk" + struct.pack(">I", len(body)) + body)


if __name__ == "__main__":
    main()
