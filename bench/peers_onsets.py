#!/usr/bin/env python3
"""peers_onsets: how evenly a recording of a steady pulse is played.

    peers_onsets.py --onsets FILE --interval-s S [--rate R] [--local-s L]

FILE holds the note onsets of one recording, one frame position per line
(tests/tools/wav_onsets, the detector of src/rt/wav.c).  The notes were meant
to sound every S seconds (0.125: sixteenths at 120 BPM).  Nothing else is
known about the sender, so each onset is compared with a straight line
fitted by least squares through the onsets within L seconds (default 2)
around it (as tests/tools/onset_match.py's local grid): this follows the
JACK dummy driver's wandering clock (doc/live.md).
Each onset gets its grid index from the gap to the onset before it (a gap
of about n intervals: n - 1 notes missing), so a step of the driver's clock
moves the later onsets without confusing their indices.

Prints "key value" lines:
  notes          onsets found
  expected       grid points from the first to the last onset
  missing        expected minus matched (two onsets on one grid point count once)
  rms, max      residuals against the local line, samples
  within1        onsets within one sample of the sample nearest the line
                 (|onset - round(line)| <= 1)
  measured       onsets with enough neighbours for a line
  mid_within1    onsets within one sample of the midpoint of the onsets
                 before and after them (both present); a step of the
                 driver's clock spoils only the two notes around it, so this
                 tells the sender's own timing on a busy machine
  mid_measured   onsets with both neighbours
  jumps          clock steps of the driver found in the recording: gaps
                 between neighbouring onsets that differ by more than
                 JUMP (2.5) samples from the median gap around them (a
                 sender within one sample moves a gap by two at most)
  clean_rms, clean_max, clean_within1, clean_measured
                 rms, max, within1 and measured over the onsets whose
                 fitting window (+-L s) holds no jump: the sender's own
                 error where the driver kept its clock ("-" when none)
Exit status 0, 2 on bad arguments or fewer than 10 onsets.  Python 3
standard library only.
"""
import argparse
import math
import statistics
import sys

JUMP = 2.5


def fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return my, 0.0
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onsets", required=True)
    ap.add_argument("--interval-s", type=float, required=True)
    ap.add_argument("--rate", type=float, default=48000)
    ap.add_argument("--local-s", type=float, default=2.0)
    a = ap.parse_args()
    try:
        pos = [int(l) for l in open(a.onsets) if l.strip()]
    except (OSError, ValueError) as e:
        print("peers_onsets: %s: %s" % (a.onsets, e), file=sys.stderr)
        return 2
    if len(pos) < 10:
        print("peers_onsets: only %d onsets in %s" % (len(pos), a.onsets), file=sys.stderr)
        return 2
    step = a.interval_s * a.rate
    # each onset's grid index from the gap to the one before: a clock step
    # of the driver moves all later onsets, not their spacing
    k = [0]
    for p0, p1 in zip(pos, pos[1:]):
        k.append(k[-1] + max(1, round((p1 - p0) / step)))
    half = a.local_s / a.interval_s
    # the driver's clock steps: a gap off the median of the one-interval
    # gaps around it (the clock's rate wanders slowly) by more than JUMP
    unit = [(k[j], pos[j + 1] - pos[j]) for j in range(len(pos) - 1) if k[j + 1] - k[j] == 1]
    jumps = []	# (grid index before, grid index after)
    for j in range(len(pos) - 1):
        near = [g for kj, g in unit if abs(kj - k[j]) <= half] or [g for _, g in unit]
        if not near:
            continue
        if abs(pos[j + 1] - pos[j] - statistics.median(near) * (k[j + 1] - k[j])) > JUMP:
            jumps.append((k[j], k[j + 1]))
    res, within = [], 0
    clean, clean_within = [], 0
    for i, (ki, pi) in enumerate(zip(k, pos)):
        xs = [kj for kj in k if abs(kj - ki) <= half]
        ys = [pos[j] for j, kj in enumerate(k) if abs(kj - ki) <= half]
        if len(xs) < 4:
            continue
        ca, cb = fit(xs, ys)
        line = ca + cb * ki
        res.append(pi - line)
        within += abs(pi - round(line)) <= 1
        if not any(k0 >= ki - half and k1 <= ki + half for k0, k1 in jumps):
            clean.append(pi - line)
            clean_within += abs(pi - round(line)) <= 1
    # against the midpoint of its two neighbours: a clock step of the
    # driver spoils the two notes around it, not the +-2 s around it
    mid = [pos[i] - (pos[i - 1] + pos[i + 1]) / 2 for i in range(1, len(pos) - 1)
           if k[i - 1] == k[i] - 1 and k[i + 1] == k[i] + 1]
    expected = k[-1] + 1
    matched = len(set(k))
    rms = math.sqrt(sum(r * r for r in res) / len(res))
    print("notes %d" % len(pos))
    print("expected %d" % expected)
    print("missing %d" % (expected - matched))
    print("rms %.2f" % rms)
    print("max %.2f" % max(abs(r) for r in res))
    print("within1 %d" % within)
    print("measured %d" % len(res))
    print("mid_within1 %d" % sum(abs(m) <= 1 for m in mid))
    print("mid_measured %d" % len(mid))
    print("jumps %d" % len(jumps))
    if clean:
        print("clean_rms %.2f" % math.sqrt(sum(r * r for r in clean) / len(clean)))
        print("clean_max %.2f" % max(abs(r) for r in clean))
    else:
        print("clean_rms -")
        print("clean_max -")
    print("clean_within1 %d" % clean_within)
    print("clean_measured %d" % len(clean))
    return 0


if __name__ == "__main__":
    sys.exit(main())
