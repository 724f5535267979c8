#!/usr/bin/env python3
"""click_check: looks for clicks where the sound is changed, in a rendered WAV.

    click_check.py --score S.osc --wav W.wav [options]

A click is a broadband transient: a sudden break in the waveform, where
its slope jumps.  The measure is the second difference of the signal,
d2[n] = x[n] - 2 x[n-1] + x[n-2] (the larger of the two channels, in full
scale units), which a bend or a step of the waveform makes large and a
smooth signal keeps small.  A plain sample-to-sample step is no measure: a
bright steady note has larger steps than a soft attack.

The score (the scsynth NRT score the render wrote, src/synth/osc_score.c) says
what the server was told and when.  Its messages make the points where a
click could happen:
  onset   /s_new me_voice: a note starts (its attack is not measured)
  param   /n_set of cutoff (voices), mix or volume (me_fx): a knob moved,
          a fade stepped, a mutation or profile changed a parameter
  steal   /n_set gate of one voice node, or /n_free of a voice node: a
          voice taken for a newer note
  pause   /n_set gate of the voices' group, or /g_freeAll of it: the
          instrument paused
With --events (the render's event log), a param point is named after the
source of the change: knob (midi), fade (idle), and so on.

For every point the window [t - 2 blocks, t + --window ms] (pause: t + the
release + --window) is searched for the largest |d2|.  The reference is
the largest |d2| everywhere else: outside every window and away from note
onsets (an onset zone is [t - 2 blocks, t + attack + 5 ms]).  A point fails
when its largest |d2| exceeds --ratio (2) times the reference.  Windows are
not cut around onsets: a steal happens at the onset of the note that takes
the voice, and its click is what is looked for.

Output: the reference, then one line per kind (count, worst ratio and
where), and with --verbose every point.  --require KIND (repeatable) fails
when the score holds no point of that kind.  Exit status: 0 all points
within the ratio, 1 a transient found (or a required kind missing), 2 bad
arguments or unreadable files.  Python 3 standard library only.
"""
import argparse
import array
import itertools
import json
import operator
import struct
import sys
import wave

BLOCK = 64  # scsynth's control block: /n_set takes effect at a block start


def die(msg, code=2):
    print("click_check: " + msg, file=sys.stderr)
    sys.exit(code)


def pad4(n):
    return (n + 4) & ~3


def osc_string(b, i):
    end = b.index(b"\0", i)
    return b[i:end].decode("latin-1"), i + pad4(end - i)


def osc_message(b):
    addr, i = osc_string(b, 0)
    tags, i = osc_string(b, i)
    args = []
    for tag in tags[1:]:
        if tag == "i":
            args.append(struct.unpack_from(">i", b, i)[0])
            i += 4
        elif tag == "f":
            args.append(struct.unpack_from(">f", b, i)[0])
            i += 4
        elif tag == "s":
            s, i = osc_string(b, i)
            args.append(s)
        elif tag == "b":
            n = struct.unpack_from(">i", b, i)[0]
            args.append(b[i + 4:i + 4 + n])
            i += 4 + ((n + 3) & ~3)
        else:
            raise ValueError("OSC type tag %r not handled" % tag)
    return addr, args


def osc_bundle(b, out):
    if b[:8] != b"#bundle\0":
        raise ValueError("a packet is not an OSC bundle")
    sec, frac = struct.unpack_from(">II", b, 8)
    t = sec + frac / 2.0**32
    i = 16
    while i < len(b):
        n = struct.unpack_from(">i", b, i)[0]
        elem = b[i + 4:i + 4 + n]
        if elem[:8] == b"#bundle\0":
            osc_bundle(elem, out)
        else:
            out.append((t,) + osc_message(elem))
        i += 4 + n


def read_score(path):
    """All messages of an NRT score as (t, address, args), in file order."""
    with open(path, "rb") as f:
        data = f.read()
    msgs = []
    i = 0
    while i < len(data):
        if i + 4 > len(data):
            raise ValueError("truncated packet length at byte %d" % i)
        n = struct.unpack_from(">i", data, i)[0]
        if n <= 0 or i + 4 + n > len(data):
            raise ValueError("bad packet length %d at byte %d" % (n, i))
        osc_bundle(data[i + 4:i + 4 + n], msgs)
        i += 4 + n
    return msgs


def pairs(args):
    return list(zip(args[0::2], args[1::2]))


def score_points(msgs, voice_def, group):
    """Onsets [(t, attack s)] and points [(kind, t, extra s)] of a score."""
    onsets, points = [], []
    voices = set()
    for t, addr, args in msgs:
        if addr == "/s_new" and args and args[0] == voice_def:
            controls = dict(pairs(args[4:]))
            onsets.append((t, float(controls.get("atk", 0.001))))
            voices.add(args[1])
        elif addr == "/n_set" and args:
            node = args[0]
            for name, value in pairs(args[1:]):
                if name == "gate":
                    fade = max(0.0, -float(value) - 1.0)
                    points.append(("pause" if node == group else "steal", t, fade))
                elif name in ("cutoff", "mix", "volume"):
                    points.append(("param:" + name, t, 0.0))
        elif addr == "/n_free":
            if any(a in voices for a in args):
                points.append(("steal", t, 0.0))
        elif addr == "/g_freeAll" and group in args:
            points.append(("pause", t, 0.0))
    return onsets, points


def event_sources(path):
    """parameter name -> [(t, source)] in time order, from a JSON-lines event log."""
    src = {}
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("type") == "param":
                src.setdefault(ev["name"], []).append((ev["t"], ev.get("source", "?")))
    return src


def source_at(sources, name, t, within):
    """The source of the latest change of name in [t - within, t], or None
    (a live change sounds latency_ms after its time in the log)."""
    best = None
    for te, src in sources.get(name, ()):
        if te > t + 1e-6:
            break
        if te >= t - within - 1e-6:
            best = src
    return best


SOURCE_KIND = {"midi": "knob", "idle": "fade", "key": "knob", "api": "knob"}
PARAM_NAME = {"cutoff": "filter_cutoff", "mix": "reverb_mix", "volume": "master_volume"}


def read_wav(path):
    w = wave.open(path, "rb")
    if w.getsampwidth() != 2:
        die("%s: only 16-bit PCM is read" % path)
    ch, rate, n = w.getnchannels(), w.getframerate(), w.getnframes()
    data = array.array("h", w.readframes(n))
    if sys.byteorder == "big":
        data.byteswap()
    return rate, [data[c::ch] for c in range(ch)]


def second_difference(chans):
    """max over channels of |x[n] - 2x[n-1] + x[n-2]|, d2[0] = d2[1] = 0."""
    best = None
    for x in chans:
        d1 = list(map(operator.sub, x[1:], x[:-1]))
        d2 = list(map(abs, map(operator.sub, d1[1:], d1[:-1])))
        best = d2 if best is None else list(map(max, best, d2))
    return [0, 0] + best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--score", required=True, help="NRT score the WAV was rendered from")
    ap.add_argument("--wav", required=True, help="16-bit WAV rendered from the score")
    ap.add_argument("--events", help="the render's JSON-lines event log (names param sources)")
    ap.add_argument("--ratio", type=float, default=2.0,
                    help="largest allowed |d2| at a point over the reference (2)")
    ap.add_argument("--window", type=float, default=10.0,
                    help="ms searched after a point (10; steal, pause: after the fade)")
    ap.add_argument("--ring", type=float, default=250.0,
                    help="ms each side of a region whose |d2| is the reference (250)")
    ap.add_argument("--require", action="append", default=[],
                    help="a kind that must occur: steal, pause, param, knob, fade ...")
    ap.add_argument("--latency", type=float, default=10.0,
                    help="synth.latency_ms of the render: how late a live change sounds (10)")
    ap.add_argument("--voice-def", default="me_voice")
    ap.add_argument("--group", type=int, default=900, help="the voices' group node (900)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    try:
        msgs = read_score(a.score)
    except (OSError, ValueError) as e:
        die("%s: %s" % (a.score, e))
    try:
        rate, chans = read_wav(a.wav)
    except (OSError, EOFError, wave.Error) as e:
        die("%s: %s" % (a.wav, e))
    sources = {}
    if a.events:
        try:
            sources = event_sources(a.events)
        except (OSError, ValueError, KeyError) as e:
            die("%s: %s" % (a.events, e))

    onsets, points = score_points(msgs, a.voice_def, a.group)
    named = []
    for kind, t, extra in points:
        if kind.startswith("param:"):
            param = PARAM_NAME[kind[6:]]
            src = source_at(sources, param, t, a.latency / 1000.0)
            kind = SOURCE_KIND.get(src, src) if src else "param"
            kind = "%s:%s" % (kind, param)
        named.append((kind, t, extra))

    d2 = second_difference(chans)
    n = len(d2)
    full = 32768.0

    def frame(t):
        return int(round(t * rate))

    # Frames that may serve as a reference: not near an onset, not in a window.
    keep = bytearray(b"\1") * n
    for t, atk in onsets:
        lo = max(0, frame(t) - 2 * BLOCK)
        hi = min(n, frame(t + atk + 0.005) + 1)
        keep[lo:hi] = bytes(hi - lo)
    wins = []
    for kind, t, extra in named:
        lo = max(0, frame(t) - 2 * BLOCK)
        hi = min(n, frame(t + extra + a.window / 1000.0) + 1)
        if lo < hi:
            wins.append((lo, hi, kind, t))
            keep[lo:hi] = bytes(hi - lo)
    # Overlapping windows (a knob swept, a fade's ticks) make one region.
    wins.sort()
    regions = []
    for lo, hi, kind, t in wins:
        if regions and lo <= regions[-1][1]:
            r = regions[-1]
            r[1] = max(r[1], hi)
            r[2].append((kind, t))
        else:
            regions.append([lo, hi, [(kind, t)]])

    ring = int(a.ring / 1000.0 * rate)
    whole = None

    def reference(lo, hi):
        """Largest |d2| of the usable frames within ring frames of [lo, hi)."""
        nonlocal whole
        for width in (ring, 4 * ring):
            a0, b1 = max(0, lo - width), min(n, hi + width)
            vals = list(itertools.compress(d2[a0:lo], keep[a0:lo]))
            vals += itertools.compress(d2[hi:b1], keep[hi:b1])
            if len(vals) >= ring // 4:
                return max(vals), "local"
        if whole is None:
            whole = max(itertools.compress(d2, keep), default=0)
        return whole, "whole file"

    by_kind = {}
    failed = 0
    for lo, hi, members in regions:
        peak = max(d2[lo:hi])
        at = (lo + d2[lo:hi].index(peak)) / rate
        ref, how = reference(lo, hi)
        r = peak / ref if ref > 0 else (0.0 if peak == 0 else float("inf"))
        bad = r > a.ratio
        failed += bad
        kinds = sorted(set(k for k, _ in members))
        for kind in kinds:
            k = by_kind.setdefault(kind, [0, 0.0, 0.0, 0])
            k[0] += sum(1 for m, _ in members if m == kind)
            k[3] += bad
            if r > k[1]:
                k[1], k[2] = r, at
        if a.verbose or bad:
            print("%s %.4f-%.4f s %s: |d2| %.5f at %.4f s, reference %.5f (%s), ratio %.2f"
                  % ("FAIL" if bad else "ok  ", lo / rate, hi / rate, "+".join(kinds),
                     peak / full, at, ref / full, how, r))
    for kind in sorted(by_kind):
        count, worst, at, bad = by_kind[kind]
        print("%-26s points %4d  worst ratio %5.2f at %8.4f s  regions over %.1f: %d"
              % (kind, count, worst, at, a.ratio, bad))
    print("regions %d, onsets %d" % (len(regions), len(onsets)))
    missing = [r for r in a.require
               if not any(k == r or k.startswith(r + ":") for k in by_kind)]
    for r in missing:
        print("click_check: no %s point in the score" % r, file=sys.stderr)
    if failed:
        print("click_check: %d regions with a transient over %.1f x the reference"
              % (failed, a.ratio), file=sys.stderr)
    return 1 if failed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
