#!/usr/bin/env python3
"""Checks a long event log for the music of a gallery day.

  day_check.py LOG --config EFFECTIVE.conf [--bin-s 3600] [--min-patterns 6]
               [--json] [--quiet]

LOG is a JSON-lines event log (mystery-engine render --events); EFFECTIVE.conf
is what `mystery-engine --check-config` printed for the same configuration
(its printed form is regular: the walk's ranges, max_gap_ms, the scales, the
root and the octaves are read from it).  The log is cut into bins of --bin-s
seconds (whole bins only) and these are checked, each as a listener would
notice it:

  hourly   every bin's note count lies within 0.5x..2x of the median bin;
  ranges   no parameter the walk moves (weight > 0) ever takes a value
           outside its mutation range, whoever set it;
  gap      no silence between note onsets lasts longer than
           sequencer.max_gap_ms (except while density is 0 or the
           transport is paused);
  patterns every bin hears, while idle, at least --min-patterns distinct
           patterns times the share of the bin spent idle (rounded down;
           bins less than a quarter idle are not counted): a pattern is
           the written degrees of the active steps with the scale and root
           they sound in, as the log's "pattern" and "scale" lines give
           them, counted when at least 4 notes sounded while it was in
           force;
  follow   the notes play the pattern: in every bin at least 60 % of the
           sequenced notes have the pitch of their step's written degree
           (plus the idle phrase's shift) in the active scale (the rest
           are the deja vu's varied notes), so the pattern lines are what
           sounds;
  scale    every note lies in the scale active at its time.

Prints one line per failed check and a summary; exits 0 when everything
passed, 1 otherwise.  --json prints the figures as one JSON object instead
of the summary (for bench/day.sh).  Python 3 standard library only.
"""
import argparse
import json
import re
import statistics
import sys

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "whole_tone": (0, 2, 4, 6, 8, 10),
    "chromatic": tuple(range(12)),
}


def read_config(path):
    """The walk's ranges and the few musical keys, from --check-config output."""
    text = open(path).read()
    cfg = {"ranges": {}}
    m = re.search(r"^\tparams = \{\n(.*?)^\t\};", text, re.M | re.S)
    if not m:
        raise ValueError("%s: no mutation.params table" % path)
    for line in m.group(1).splitlines():
        f = re.match(r"\s*(\w+) = \{ min = ([-\d.e]+); max = ([-\d.e]+); "
                     r"weight = ([-\d.e]+);", line)
        if f and float(f.group(4)) > 0:
            cfg["ranges"][f.group(1)] = (float(f.group(2)), float(f.group(3)))

    seq = re.search(r"^sequencer = \{\n(.*?)^\};", text, re.M | re.S)
    if not seq:
        raise ValueError("%s: no sequencer group" % path)

    def key(name, conv=float):
        k = re.search(r"^\t%s = ([^;]+);" % name, seq.group(1), re.M)
        if not k:
            raise ValueError("%s: no sequencer.%s" % (path, name))
        return conv(k.group(1).strip())

    cfg["max_gap"] = key("max_gap_ms", int) / 1000.0
    cfg["octaves"] = key("octaves", int)
    cfg["root"] = key("root_note", int)
    cfg["density"] = key("density")
    scales = re.search(r"^scales = \[([^\]]*)\];", text, re.M).group(1)
    cfg["scale"] = scales.split(",")[0].strip().strip('"')
    return cfg


def degree_note(scale, root, degree, octaves):
    """The pitch of a degree, as the engine's degree_note() computes it."""
    steps = SCALES[scale]
    n = len(steps)
    span = n * octaves
    d = degree % span
    note = root + 12 * (d // n) + steps[d % n]
    while note > 127:
        note -= 12
    while note < 0:
        note += 12
    return note


def in_scale(scale, root, pitch):
    return (pitch - root) % 12 in SCALES[scale]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log")
    ap.add_argument("--config", required=True)
    ap.add_argument("--bin-s", type=float, default=3600.0)
    ap.add_argument("--min-patterns", type=int, default=6)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    cfg = read_config(a.config)
    binw = a.bin_s

    problems = []
    scale, root = cfg["scale"], cfg["root"]
    density = cfg["density"]
    paused = False
    idle = False
    pattern = None          # (length, degrees) from the last pattern line
    shift = 0
    notes_per_bin = {}
    idle_time = {}
    heard = {}              # bin -> {identity: notes}
    follow = {}             # bin -> [matching, sequenced]
    out_of_scale = 0
    range_bad = []
    values = {}
    last_onset = None
    longest = (0.0, 0.0)    # (gap, at)
    gap_excused = False     # density 0 or paused since the last onset
    last_input_t = None
    last_t = 0.0
    n_lines = 0

    def add_idle(t0, t1):
        while t0 < t1:
            b = int(t0 // binw)
            end = min(t1, (b + 1) * binw)
            idle_time[b] = idle_time.get(b, 0.0) + end - t0
            t0 = end

    with open(a.log) as f:
        for n_lines, line in enumerate(f, 1):
            e = json.loads(line)
            t = e["t"]
            if idle and t > last_t:
                add_idle(last_t, t)
            last_t = max(last_t, t)
            ty = e["type"]
            if ty == "scale":
                scale, root = e["scale"], e["root"]
            elif ty == "pattern":
                pattern = (e["length"], tuple(e["degrees"]))
                shift = e["shift"]
            elif ty == "idle":
                idle = e["state"] == "enter"
            elif ty == "transport":
                paused = e["state"] == "paused"
                gap_excused = gap_excused or paused
            elif ty == "input":
                last_input_t = t
            elif ty == "param":
                name, v = e["name"], e["value"]
                values.setdefault(name, [v, v])
                values[name][0] = min(values[name][0], v)
                values[name][1] = max(values[name][1], v)
                if name in cfg["ranges"]:
                    lo, hi = cfg["ranges"][name]
                    if not lo - 1e-9 <= v <= hi + 1e-9 and len(range_bad) < 10:
                        range_bad.append("%.3f s: %s = %g (%s) outside %g..%g"
                                         % (t, name, v, e["source"], lo, hi))
                if name == "density":
                    density = v
                    gap_excused = gap_excused or v <= 0
            elif ty == "note":
                b = int(t // binw)
                notes_per_bin[b] = notes_per_bin.get(b, 0) + 1
                p = e["pitch"]
                if not in_scale(scale, root, p):
                    out_of_scale += 1
                    if out_of_scale <= 5:
                        problems.append("scale: %.3f s: note %d is not in %s on %d"
                                        % (t, p, scale, root))
                if last_onset is not None and not gap_excused:
                    if t - last_onset > longest[0]:
                        longest = (t - last_onset, last_onset)
                last_onset = t if last_onset is None else max(last_onset, t)
                gap_excused = paused or density <= 0
                live = last_input_t is not None and abs(t - last_input_t) < 1e-9
                if pattern is None or e["step"] < 0 or live:
                    continue
                length, degrees = pattern
                ident = (scale, root, length, degrees)
                if idle:
                    h = heard.setdefault(b, {})
                    h[ident] = h.get(ident, 0) + 1
                fo = follow.setdefault(b, [0, 0])
                fo[1] += 1
                s = e["step"]
                if s < length and degrees[s] is not None and \
                        degree_note(scale, root, degrees[s] + shift, cfg["octaves"]) == p:
                    fo[0] += 1

    n_bins = int(last_t / binw + 0.01)  # the last event comes just before the end
    bins = list(range(n_bins))
    counts = [notes_per_bin.get(b, 0) for b in bins]
    med = statistics.median(counts) if counts else 0
    for b, c in zip(bins, counts):
        if not 0.5 * med <= c <= 2 * med:
            problems.append("hourly: bin %d has %d notes, the median bin %g"
                            % (b, c, med))
    problems += ["ranges: " + r for r in range_bad]
    if longest[0] > cfg["max_gap"] + 1e-3:
        problems.append("gap: %.3f s of silence from %.3f s (max_gap %.1f s)"
                        % (longest[0], longest[1], cfg["max_gap"]))
    idle_bins = [b for b in bins if idle_time.get(b, 0) >= 0.25 * binw]
    distinct = {}
    for b in idle_bins:
        share = min(1.0, idle_time[b] / binw)
        want = int(a.min_patterns * share + 1e-9)
        distinct[b] = sum(1 for n in heard.get(b, {}).values() if n >= 4)
        if distinct[b] < want:
            problems.append("patterns: bin %d (%.0f %% idle) heard %d distinct patterns "
                            "while idle (want %d)" % (b, 100 * share, distinct[b], want))
    shares = {}
    for b in bins:
        m, n = follow.get(b, [0, 0])
        shares[b] = m / n if n else 1.0
        if n and shares[b] < 0.6:
            problems.append("follow: bin %d: only %d of %d notes play the pattern"
                            % (b, m, n))
    if n_lines == 0:
        problems.append("the log is empty")

    fig = {
        "bins": n_bins,
        "notes_min": min(counts) if counts else 0,
        "notes_median": med,
        "notes_max": max(counts) if counts else 0,
        "ratio_lo": (min(counts) / med) if med else 0,
        "ratio_hi": (max(counts) / med) if med else 0,
        "longest_gap": round(longest[0], 3),
        "max_gap": cfg["max_gap"],
        "range_violations": len(range_bad),
        "idle_bins": len(idle_bins),
        "idle_share": round(sum(min(binw, idle_time.get(b, 0)) for b in bins) /
                            (binw * len(bins)), 3) if bins else 0,
        "patterns_min": min(distinct.values()) if distinct else None,
        "follow_min": round(min(shares.values()), 3) if shares else None,
        "out_of_scale": out_of_scale,
        "values": {k: v for k, v in sorted(values.items()) if k in cfg["ranges"]},
        "problems": len(problems),
    }
    for p in problems[:40]:
        print(p)
    if a.json:
        print(json.dumps(fig))
    elif not a.quiet:
        print("%d bins of %gs: notes %d..%d (median %g), longest gap %.2f s "
              "(max %.1f), %d range violations, %d bins idle a quarter or more with >= %s "
              "patterns, "
              "pattern followed >= %s, %d notes out of scale: %s"
              % (n_bins, binw, fig["notes_min"], fig["notes_max"], med,
                 longest[0], cfg["max_gap"], len(range_bad), len(idle_bins),
                 fig["patterns_min"], fig["follow_min"], out_of_scale,
                 "ok" if not problems else "FAILED"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
