#!/usr/bin/env python3
"""onset_match: compares the note onsets of a recording with the event log.

    onset_match.py --events E.jsonl --wav W.wav [options]

The recording (mystery-engine --record, or render --wav) and the event log
(--events) have different clocks: the recording counts samples from the
moment the recorder started, the log counts seconds from the engine's time
0.  This tool finds the note onsets in the WAV (tests/tools/wav_onsets, the
detector of tests/lib/wav.c: isolated notes only), pairs them with the log's
"note" lines and prints how far each onset lies from its intended sample.

Pairing.  A note played by a performer (a "note" line with the same t as an
"input" note_on line) is a live note: it should sound latency_ms after its
t.  Only the sequenced notes anchor the clocks.  Every (onset, note) pair
proposes an offset; the one that lines up the most notes (allowing 600 ppm
of clock difference) wins.  --log (the JSON log of the run) narrows the
proposals to +-30 ms around the offset the log's wall-clock times give
(needed when the notes form a regular grid, which any shift by whole steps
would fit as well) and leaves out the notes due before the server of that
part (--part N: the recording goes on in TAKE-N.wav after the N-th restart)
was ready, and those due after the program logged "stopping" (the stop
releases the voices and cancels the notes sent ahead; the recording goes
on through the fade-out).  Then position = a + b x t is fitted by least squares
(b is the audio clock's rate against the engine's), the notes are paired
again within 4 ms of that line, and the fit repeated.

Residuals, in samples:
  global: onset minus the single straight line fitted over the whole take;
  local:  onset minus a line fitted over the sequenced notes within
          --local seconds around the note (the JACK dummy driver's clock
          wanders against the system clock; a sound card's does not).
  live:   a live note's onset minus the line through the two sequenced
          notes before it and the two after it.
An onset is on time when it lies within one sample of the sample nearest
the intended position (|onset - round(ideal)| <= 1).  --offline expects
onsets at exactly round(t x rate): no fit at all.

Output: one "key value" line per figure (--verbose: one line per note).
Checks (exit status 1 when one fails, with the reason on stderr):
  --min-notes N   at least N sequenced notes expected inside the recording
  --min-share X   share of those expected notes on time (local grid, or
                  exact with --offline), 0..1
  --tol N         for --min-share, on time means within N samples of the
                  local grid (default 1: within one sample)
  --live-within   every measured live note on time
With --log, "first_sound" gives the wall-clock time (seconds since the
epoch) of the take's first onset: when its note was meant to sound.
Exit status 2 on bad arguments or unreadable files.  Python 3 standard
library only.
"""
import argparse
import bisect
import calendar
import json
import math
import os
import subprocess
import sys
import time


def die(msg, code=2):
    print("onset_match: " + msg, file=sys.stderr)
    sys.exit(code)


def read_events(path):
    """Notes as (t, live, line number); live = same t as an input note_on."""
    notes, inputs = [], set()
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        die("%s: %s" % (path, e.strerror))
    with f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                die("%s:%d: not a JSON object" % (path, n))
            if ev.get("type") == "note":
                notes.append((float(ev["t"]), n))
            elif ev.get("type") == "input" and ev.get("kind") == "note_on":
                inputs.add(round(float(ev["t"]) * 1e6))
    return [(t, round(t * 1e6) in inputs, n) for t, n in notes]


def read_onsets(tool, wav):
    try:
        p = subprocess.run([tool, "-s", wav], capture_output=True, text=True)
    except OSError as e:
        die("%s: %s" % (tool, e.strerror))
    if p.returncode != 0:
        die("%s failed: %s" % (tool, p.stderr.strip()))
    info = {}
    for tok in p.stderr.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            info[k] = float(v)
    if "frames" not in info:
        die("%s printed no summary for %s" % (tool, wav))
    return [int(x) for x in p.stdout.split()], info


def log_time(ts):
    """ISO 8601 UTC with milliseconds -> seconds since the epoch."""
    day, clock = ts.rstrip("Z").split("T")
    hms, ms = clock.split(".")
    st = time.strptime(day + " " + hms, "%Y-%m-%d %H:%M:%S")
    return calendar.timegm(st) + int(ms) / 1000.0


def read_log(path):
    """Wall-clock times of the 'started' line, of each 'synth.record' and
    'synth.ready' line, and of the 'stopping' line (None when absent)."""
    started, records, readies, stopping = None, [], [], None
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError as e:
        die("%s: %s" % (path, e.strerror))
    with f:
        for line in f:
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("event") == "started" and started is None:
                started = log_time(r["ts"])
            elif r.get("event") == "synth.record":
                records.append(log_time(r["ts"]))
            elif r.get("event") == "synth.ready":
                readies.append(log_time(r["ts"]))
            elif r.get("event") == "stopping":
                stopping = log_time(r["ts"])
    if started is None:
        die("%s: no 'started' line" % path)
    return started, records, readies, stopping


def fit_line(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    b = sxy / sxx if sxx > 0 else None
    return b, mx, my


def nearest(onsets, pos):
    """Index of the onset nearest pos (onsets sorted)."""
    i = bisect.bisect_left(onsets, pos)
    best = None
    for j in (i - 1, i):
        if 0 <= j < len(onsets) and (best is None or abs(onsets[j] - pos) < abs(onsets[best] - pos)):
            best = j
    return best


def stats(errs):
    if not errs:
        return "n 0"
    rms = math.sqrt(sum(e * e for e in errs) / len(errs))
    return "n %d min %+.2f max %+.2f rms %.2f" % (len(errs), min(errs), max(errs), rms)


def main():
    ap = argparse.ArgumentParser(description="note onsets of a recording vs the event log")
    ap.add_argument("--events", required=True)
    ap.add_argument("--wav", required=True)
    ap.add_argument("--tool", default=os.path.join(os.environ.get("top_builddir", "."),
                                                   "tests", "tools", "wav_onsets"))
    ap.add_argument("--rate", type=float, default=48000.0)
    ap.add_argument("--latency-ms", type=float, default=10.0)
    ap.add_argument("--local", type=float, default=2.0)
    ap.add_argument("--from", dest="t_from", type=float, default=-1e18)
    ap.add_argument("--to", dest="t_to", type=float, default=1e18)
    ap.add_argument("--offline", action="store_true")
    ap.add_argument("--log")
    ap.add_argument("--part", type=int, default=0)
    ap.add_argument("--lookahead-ms", type=float, default=50.0)
    ap.add_argument("--period-ms", type=float, default=2.0)
    ap.add_argument("--min-notes", type=int, default=0)
    ap.add_argument("--min-share", type=float, default=0.0)
    ap.add_argument("--tol", type=float, default=1.0)
    ap.add_argument("--live-within", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    rate = a.rate

    notes = [n for n in read_events(a.events) if a.t_from <= n[0] <= a.t_to]
    onsets, info = read_onsets(a.tool, a.wav)
    frames = int(info["frames"])
    lat = a.latency_ms / 1000.0
    # intended time of each note on the engine clock (live: plus latency)
    want = [(t + (lat if live else 0.0), live, ln) for t, live, ln in notes]
    seq = [w for w in want if not w[1]]
    live = [w for w in want if w[1]]
    print("wav frames %d rms %.4f peak %.4f onsets %d" % (frames, info.get("rms", 0),
                                                         info.get("peak", 0), len(onsets)))
    print("log notes %d sequenced %d live %d" % (len(want), len(seq), len(live)))
    if a.log:
        started, records, readies, stopping = read_log(a.log)
        if a.part >= len(records) or a.part >= len(readies):
            die("%s: no recording part %d" % (a.log, a.part))
        all_notes = read_events(a.events)
        first = min((t for t, lv, _ in all_notes if not lv), default=None)
        if first is None:
            die("%s: no sequenced note" % a.events)
        # The worker starts the first step one look-ahead plus a period
        # after it starts; "started" is logged right then.
        t0_wall = started - (first - (a.lookahead_ms + a.period_ms) / 1000.0)
        rec_wall = records[a.part]
        hint = (t0_wall - rec_wall) * rate
        print("clock engine_t0_wall %.3f record_start_wall %.3f hint_offset %.0f" %
              (t0_wall, records[a.part], hint))
    if a.log and a.part > 0:
        # Notes due before the server was ready again plus a look-ahead
        # were dropped on purpose (the server was not there when they were
        # sent): they are not expected in this part.
        ready_t = readies[a.part] - t0_wall + (a.lookahead_ms + 5) / 1000.0
        n0 = len(want)
        want = [w for w in want if w[0] >= ready_t]
        seq = [w for w in want if not w[1]]
        live = [w for w in want if w[1]]
        print("part %d ready at engine t %.3f: %d notes before it left out" %
              (a.part, ready_t, n0 - len(want)))
    if a.log and stopping is not None:
        # Stopping releases the voices: a note due after it (sent ahead,
        # in the log) is cancelled, while the recording goes on through
        # the fade-out.  It is not expected.
        stop_t = stopping - t0_wall
        n0 = len(want)
        want = [w for w in want if w[0] < stop_t]
        seq = [w for w in want if not w[1]]
        live = [w for w in want if w[1]]
        print("stopped at engine t %.3f: %d notes after it left out" % (stop_t, n0 - len(want)))
    if not a.log:
        hint = None

    fails = []
    if len(seq) == 0 or len(onsets) == 0:
        die("nothing to match: %d sequenced notes, %d onsets" % (len(seq), len(onsets)), 1)

    if a.offline:
        a_off, b_rate = 0.0, rate
    else:
        # 1. the offset that lines up the most notes
        best = None
        for o in onsets:
            for tn, _, _ in seq:
                off = o - tn * rate
                if hint is not None and abs(off - hint) > 0.03 * rate:
                    continue
                count, err = 0, 0.0
                for tk, _, _ in seq:
                    pos = off + tk * rate
                    j = nearest(onsets, pos)
                    d = abs(onsets[j] - pos)
                    if d <= (0.003 + 0.0006 * abs(tk - tn)) * rate:
                        count += 1
                        err += d
                key = (count, -err)
                if best is None or key > best[0]:
                    best = (key, off)
        if best is None:
            die("no onset within 30 ms of the offset the log gives", 1)
        a_off, b_rate = best[1], rate
        # 2. fit the line, pair again near it, fit again
        for _ in range(3):
            xs, ys = [], []
            for tk, _, _ in seq:
                pos = a_off + b_rate * tk
                j = nearest(onsets, pos)
                if abs(onsets[j] - pos) <= 0.004 * rate:
                    xs.append(tk)
                    ys.append(onsets[j])
            if len(xs) < 2:
                break
            b, mx, my = fit_line(xs, ys)
            if b is None:
                break
            b_rate, a_off = b, my - b * mx
    print("fit offset %.1f rate %.3f ppm %+.1f" % (a_off, b_rate, (b_rate / rate - 1) * 1e6))

    # pair every sequenced note once more; count the ones inside the take
    used = set()
    pairs = []  # (t, onset)
    expected = 0
    missing = []
    for tk, _, ln in seq:
        pos = a_off + b_rate * tk
        if pos < 0 or pos > frames - 0.1 * rate:
            continue
        expected += 1
        j = nearest(onsets, pos)
        if abs(onsets[j] - pos) <= 0.004 * rate and j not in used:
            used.add(j)
            pairs.append((tk, onsets[j], ln))
        else:
            missing.append((tk, ln))
    print("notes expected %d matched %d missing %d" % (expected, len(pairs), len(missing)))
    for tk, ln in missing[:10]:
        print("missing note t %.6f (events line %d)" % (tk, ln))

    def local_ideal(t):
        if a.offline:
            return t * rate
        near = [(x, y) for x, y, _ in pairs if abs(x - t) <= a.local]
        if len(near) < 2:
            return a_off + b_rate * t
        b, mx, my = fit_line([x for x, _ in near], [y for _, y in near])
        if b is None:
            return a_off + b_rate * t
        return my + b * (t - mx)

    glob, loc, on_time, g_on_time, near = [], [], 0, 0, 0
    for tk, o, ln in pairs:
        g = o - (a_off + b_rate * tk)
        g_on_time += abs(o - round(a_off + b_rate * tk)) <= 1.0
        ideal = local_ideal(tk)
        e = o - ideal
        ok = abs(o - round(ideal)) <= 1.0
        on_time += ok
        near += abs(o - round(ideal)) <= a.tol
        glob.append(g)
        loc.append(e)
        if a.verbose:
            print("note t %.6f onset %d local %+.2f global %+.2f %s" %
                  (tk, o, e, g, "ok" if ok else "OFF"))
    if not a.offline:
        print("global " + stats(glob) + " on_time %d" % g_on_time)
    print("local " + stats(loc))
    share = (near if a.tol > 1 else on_time) / expected if expected else 0.0
    print("on_time %d of %d expected (%.1f %%)" % (on_time, expected,
                                                   100 * on_time / max(expected, 1)))
    if a.tol > 1:
        print("within_tol %d of %d expected (%.1f %%, +-%g samples)" %
              (near, expected, 100 * share, a.tol))

    def around_ideal(t):
        """The line through the two sequenced notes before t and the two
        after it (the live notes mask some of their neighbours)."""
        before = [(x, y) for x, y, _ in pairs if x <= t][-2:]
        after = [(x, y) for x, y, _ in pairs if x > t][:2]
        near = before + after
        if len(before) < 1 or len(after) < 1 or near[-1][0] - near[0][0] > 2 * a.local:
            return local_ideal(t)
        b, mx, my = fit_line([x for x, _ in near], [y for _, y in near])
        return my + b * (t - mx)

    # live notes: against the grid of the sequenced notes around them
    lerr, lwithin, lmissing = [], 0, 0
    for tk, _, ln in live:
        pos = local_ideal(tk) if a.offline else around_ideal(tk)
        if pos < 0 or pos > frames - 0.1 * rate:
            continue
        j = nearest(onsets, pos)
        if abs(onsets[j] - pos) > 0.004 * rate or j in used:
            lmissing += 1
            continue
        used.add(j)
        e = onsets[j] - pos
        ok = abs(onsets[j] - round(pos)) <= 1.0
        lwithin += ok
        lerr.append(e)
        if a.verbose:
            print("live t %.6f onset %d err %+.2f %s" % (tk - lat, onsets[j], e,
                                                           "ok" if ok else "OFF"))
    if live:
        spread = (max(lerr) - min(lerr)) if lerr else 0.0
        print("live measured %d masked %d within %d %s spread %.2f" %
              (len(lerr), lmissing, lwithin, stats(lerr), spread))
    if a.log and pairs:
        # the first sound of this take (its first onset), on the wall clock:
        # the intended time of its note, or where the fit puts it
        o = onsets[0]
        t = next((t for t, p, _ in pairs if p == o), (o - a_off) / b_rate)
        print("first_sound wall %.3f note_t %.6f onset %d recording_wall %.3f" %
              (t0_wall + t, t, o, rec_wall + o / rate))
    extra = [o for j, o in enumerate(onsets) if j not in used]
    print("extra_onsets %d" % len(extra))

    if expected < a.min_notes:
        fails.append("only %d notes expected in the recording (want >= %d)" %
                     (expected, a.min_notes))
    if share < a.min_share:
        fails.append("only %d of %d notes within +-%g sample%s (want >= %.0f %%; %d within "
                     "+-1 sample)" % (near if a.tol > 1 else on_time, expected, a.tol,
                                      "s" if a.tol > 1 else "", 100 * a.min_share, on_time))
    if a.live_within and lwithin != len(lerr):
        fails.append("%d of %d live notes off by more than 1 sample" %
                     (len(lerr) - lwithin, len(lerr)))
    for f in fails:
        print("onset_match: FAIL: " + f, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
