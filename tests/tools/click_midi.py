#!/usr/bin/env python3
"""Writes the MIDI file of the click test: knobs moved every way a player can.

    click_midi.py OUT.mid

Format 0, 480 PPQN at 120 BPM (960 ticks a second), channel 1, the default
mapping (CC 21 filter_cutoff, CC 22 reverb_mix, CC 25 master_volume):

   2.0 s  reverb_mix jumps 0 -> 127, 3.0 s back to 20
   4.0 s  filter_cutoff swept 30 -> 120 over 2 s, a CC every 20 ms
   6.5 s  filter_cutoff jumps 120 -> 40, 7.0 s back to 100
   7.5 s  master_volume swept 100 -> 40 -> 100 over 2 s
  10.0 s  master_volume jumps 100 -> 30, 10.5 s back to 100
  11.0 s  reverb_mix swept 20 -> 110 -> 20 over 2 s
  13.0 s  the last message: the instrument goes idle after idle.timeout_ms

The notes come from the sequencer (the test makes it dense and gives it
few voices, so voices are stolen); the pause comes from render --pause-at.
The output is deterministic.  Python 3 standard library only.
"""
import os
import sys

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fixtures", "midi"))
from gen_fixtures import smf, track  # noqa: E402

TICKS_PER_S = 960  # 480 PPQN at the default 500000 us per quarter note


def cc(t, num, value):
    return (round(t * TICKS_PER_S), bytes([0xB0, num, value]))


def sweep(t0, t1, num, v0, v1, step=0.02):
    """CCs from v0 to v1 between t0 and t1, one every step seconds."""
    n = round((t1 - t0) / step)
    return [cc(t0 + i * step, num, round(v0 + (v1 - v0) * i / n)) for i in range(n + 1)]


def events():
    ev = [cc(2.0, 22, 0), cc(2.0, 22, 127), cc(3.0, 22, 20)]
    ev += sweep(4.0, 6.0, 21, 30, 120)
    ev += [cc(6.5, 21, 40), cc(7.0, 21, 100)]
    ev += sweep(7.5, 8.5, 25, 100, 40) + sweep(8.52, 9.5, 25, 40, 100)
    ev += [cc(10.0, 25, 30), cc(10.5, 25, 100)]
    ev += sweep(11.0, 12.0, 22, 20, 110) + sweep(12.02, 13.0, 22, 110, 20)
    return sorted(ev, key=lambda e: e[0])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: click_midi.py OUT.mid")
    with open(sys.argv[1], "wb") as f:
        f.write(smf(0, 480, [track(events())]))


if __name__ == "__main__":
    main()
