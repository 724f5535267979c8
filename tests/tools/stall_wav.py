#!/usr/bin/python3
"""stall_wav: what a listener hears around a stall of the engine.

    stall_wav.py [--max-db DB] [--grid-ms MS] [--events LOG] WAV STEP_S

The recording must hold isolated notes, one every STEP_S seconds, with one
silent gap of at least two steps (the stall).  It finds the note onsets
(the first sample above -34 dBFS after 20 ms below -40 dBFS), the gap, and
prints the loudest peak of the notes before the gap ("normal playing") and
of everything after it, and how far each onset after the gap lies from the
grid of the notes before it.  With --events, the engine's event log of the
run (JSON lines) is checked the same way, exactly: every note after its
longest gap within 2 us of the grid of the notes before it (the recording's
own clock, a JACK dummy driver under load, can step by a few ms; the event
log cannot).  Exit status 1 when the peak after the stall differs from
normal playing by more than --max-db (default 1 dB), when an onset after it
is off the grid by more than --grid-ms (default 3 ms), when a logged note
is off the grid, or when there are fewer than three notes on either side.
"""
import argparse
import array
import json
import math
import sys
import wave

ON = 0.02     # -34 dBFS: a note has begun
QUIET = 0.01  # -40 dBFS: silence between notes


def samples(path):
    w = wave.open(path)
    if w.getsampwidth() != 2:
        sys.exit(f"{path}: 16-bit WAV expected")
    rate, ch = w.getframerate(), w.getnchannels()
    a = array.array('h', w.readframes(w.getnframes()))
    if sys.byteorder == 'big':
        a.byteswap()
    mono = [max(abs(a[i + c]) for c in range(ch)) / 32768.0 for i in range(0, len(a), ch)]
    return rate, mono


def onsets(x, rate):
    """A note begins where a sample exceeds ON after 20 ms of 1 ms blocks
    below QUIET (the attack's first samples between the two do not count)."""
    blk, need = max(1, rate // 1000), 20
    out, silent, quiet = [], True, need
    for b in range(0, len(x), blk):
        peak = max(x[b:b + blk])
        if peak < QUIET:
            quiet += 1
            if quiet >= need:
                silent = True
            continue
        quiet = 0
        if silent and peak > ON:
            out.append(b + next(i for i, v in enumerate(x[b:b + blk]) if v > ON))
            silent = False
    return out


def db(v):
    return 20 * math.log10(v) if v > 0 else -200.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--max-db', type=float, default=1.0)
    ap.add_argument('--grid-ms', type=float, default=3.0)
    ap.add_argument('--events')
    ap.add_argument('wav')
    ap.add_argument('step_s', type=float)
    a = ap.parse_args()
    rate, x = samples(a.wav)
    on = onsets(x, rate)
    step = a.step_s * rate
    if len(on) < 2:
        print(f"FAIL: {len(on)} note onsets in {a.wav}")
        return 1
    gaps = [(on[i + 1] - on[i], i) for i in range(len(on) - 1)]
    gap, g = max(gaps)
    before, after = on[:g + 1], on[g + 1:]
    print(f"{len(on)} notes, the longest gap {gap / rate:.2f} s after note {g + 1}: "
          f"{len(before)} before it, {len(after)} after it")
    ok = True
    if gap < 2 * step:
        print(f"FAIL: no stall in the recording (the longest gap is {gap / rate:.2f} s)")
        return 1
    if len(before) < 3 or len(after) < 3:
        print("FAIL: fewer than three notes before or after the stall")
        return 1
    # Normal playing: each note before the gap up to the next onset.
    normal = max(max(x[before[i]:before[i + 1]]) for i in range(len(before) - 1))
    normal = max(normal, max(x[before[-1]:before[-1] + int(step)]))
    resumed = max(x[after[0]:])
    diff = db(resumed) - db(normal)
    print(f"peak of normal playing {db(normal):.1f} dBFS, after the stall "
          f"{db(resumed):.1f} dBFS ({diff:+.1f} dB)")
    if abs(diff) > a.max_db:
        print(f"FAIL: the peak after the stall differs by {diff:+.1f} dB "
              f"(allowed: {a.max_db:.1f} dB)")
        ok = False
    # On the grid: whole steps from the last note before the stall, a step
    # being the median spacing of the notes (the sound card's clock and the
    # engine's differ by a few parts in ten thousand).
    spacing = sorted(d for d, _ in gaps if abs(d - step) < 0.05 * step)
    if spacing:
        step = spacing[len(spacing) // 2]
    ref = before[-1]
    worst = 0.0
    for o in after:
        k = round((o - ref) / step)
        worst = max(worst, abs(o - ref - k * step) / rate * 1000)
    print(f"onsets after the stall: at most {worst:.2f} ms off the grid of the notes before it")
    if worst > a.grid_ms:
        print(f"FAIL: an onset after the stall is {worst:.2f} ms off the grid "
              f"(allowed: {a.grid_ms} ms)")
        ok = False
    if a.events:
        ok = check_log(a.events, a.step_s) and ok
    return 0 if ok else 1


def check_log(path, step_s):
    """The event log's notes after its longest gap on the grid before it."""
    with open(path) as f:
        t = [e['t'] for e in map(json.loads, f) if e.get('type') == 'note']
    if len(t) < 6:
        print(f"FAIL: {len(t)} notes in the event log")
        return False
    gaps = [(t[i + 1] - t[i], i) for i in range(len(t) - 1)]
    gap, g = max(gaps)
    ref, after = t[g], t[g + 1:]
    worst = max(abs(x - ref - round((x - ref) / step_s) * step_s) for x in after)
    print(f"event log: {len(after)} notes after a {gap:.2f} s gap, at most "
          f"{worst * 1e6:.1f} us off the grid of the notes before it")
    if gap < 2 * step_s or len(after) < 3 or worst > 2e-6:
        print("FAIL: the logged notes after the stall are not on the grid before it")
        return False
    return True


if __name__ == '__main__':
    sys.exit(main())
