#!/usr/bin/env python3
"""Checks a mystery-engine JSON-lines event log (render or live --events).

  check_events.py LOG [--scale NAME] [--root NOTE] [--no-order]
                      [--require TYPE]... [--min-notes N]

Every line must be one JSON object with a number "t" >= 0 and a known
"type" carrying its fields with the right types.  Times must not decrease
from line to line (--no-order relaxes this to the sequenced notes: those
with step >= 0).  Every note must lie in the scale active at its time: the
log's "scale" events are followed from the start scale given by --scale and
--root (the configuration's first scale and root).  --require TYPE fails
when the log has no event of that type; --min-notes when it has fewer notes.
Prints a one-line summary; exits 0 when every check passed, 1 otherwise,
listing the first problems with their line numbers.  Python 3 standard
library only.
"""
import argparse
import json
import math
import sys

# Semitones above the root, as the instrument's scale table has them.
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

NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

NUM = (int, float)
# type -> {field: accepted python types}
SCHEMA = {
    "note": {"pitch": (int,), "velocity": (int,), "duration": NUM,
             "step": (int,)},
    "param": {"name": (str,), "value": NUM, "source": (str,)},
    "scale": {"scale": (str,), "root": (int, str)},
    "mutation": {"changes": (list,)},
    "idle": {"state": (str, int, bool)},
    "mode": {"mode": (str, int)},
    "input": {"kind": (str,), "channel": (int,), "number": (int,),
              "value": (int,)},
    "transport": {"state": (str,)},
    "step_edit": {"step": (int,), "on": (bool,), "probability": NUM,
                  "velocity": (int,), "source": (str,)},
    "pattern": {"cause": (str,), "length": (int,), "shift": (int,),
                "degrees": (list,)},
}


def scale_key(name):
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def root_class(root):
    """Pitch class of a root given as a MIDI note or a name like "F#"."""
    if isinstance(root, int) and not isinstance(root, bool):
        return root % 12
    s = str(root).strip()
    if not s or s[0].upper() not in NOTE_NAMES:
        raise ValueError("bad root %r" % (root,))
    pc = NOTE_NAMES[s[0].upper()]
    for c in s[1:]:
        if c in "#s":
            pc += 1
        elif c == "b":
            pc -= 1
        else:
            break
    return pc % 12


class Checker:
    def __init__(self, scale, root, order):
        self.problems = []
        self.counts = {}
        self.scale = scale_key(scale) if scale else None
        self.root = root_class(root) if root is not None else None
        self.order = order
        self.last_t = None
        self.last_step_t = None
        self.notes_checked = 0

    def problem(self, lineno, msg):
        self.problems.append("line %d: %s" % (lineno, msg))

    def line(self, lineno, text):
        try:
            ev = json.loads(text)
        except ValueError as e:
            self.problem(lineno, "not valid JSON (%s): %.80s" % (e, text))
            return
        if not isinstance(ev, dict):
            self.problem(lineno, "not a JSON object")
            return
        t, typ = ev.get("t"), ev.get("type")
        if not isinstance(t, NUM) or isinstance(t, bool) or \
                not math.isfinite(t) or t < 0:
            self.problem(lineno, "bad or missing \"t\": %r" % (t,))
            return
        if typ not in SCHEMA:
            self.problem(lineno, "unknown or missing \"type\": %r" % (typ,))
            return
        self.counts[typ] = self.counts.get(typ, 0) + 1
        for field, types in SCHEMA[typ].items():
            v = ev.get(field)
            if not isinstance(v, types) or (isinstance(v, bool) and
                                            bool not in types):
                self.problem(lineno, "%s event: field \"%s\" missing or of "
                             "the wrong type: %r" % (typ, field, v))
                return
        if self.order and self.last_t is not None and t < self.last_t:
            self.problem(lineno, "time goes back: %.9g after %.9g"
                         % (t, self.last_t))
        self.last_t = t
        getattr(self, "ev_" + typ, lambda *a: None)(lineno, t, ev)

    def ev_note(self, lineno, t, ev):
        p, v = ev["pitch"], ev["velocity"]
        if not 0 <= p <= 127 or not 1 <= v <= 127 or ev["duration"] <= 0:
            self.problem(lineno, "note out of range: pitch %r velocity %r "
                         "duration %r" % (p, v, ev["duration"]))
        if ev["step"] >= 0:
            if self.last_step_t is not None and t < self.last_step_t:
                self.problem(lineno, "sequenced note at %.9g before the "
                             "previous one at %.9g" % (t, self.last_step_t))
            self.last_step_t = t
        if self.scale is None or self.root is None:
            return
        steps = SCALES.get(self.scale)
        if steps is None:
            self.problem(lineno, "unknown active scale %r" % self.scale)
            return
        if (p - self.root) % 12 not in steps:
            self.problem(lineno, "note %d at %.6f s is not in %s on pitch "
                         "class %d" % (p, t, self.scale, self.root))
        self.notes_checked += 1

    def ev_scale(self, lineno, t, ev):
        name = scale_key(ev["scale"])
        if name not in SCALES:
            self.problem(lineno, "unknown scale %r" % ev["scale"])
        try:
            self.root = root_class(ev["root"])
        except ValueError as e:
            self.problem(lineno, str(e))
        self.scale = name

    def ev_mutation(self, lineno, t, ev):
        for ch in ev["changes"]:
            if not isinstance(ch, dict) or not isinstance(ch.get("name"), str) \
                    or not isinstance(ch.get("from"), NUM) \
                    or not isinstance(ch.get("to"), NUM):
                self.problem(lineno, "bad mutation change %r" % (ch,))

    def ev_input(self, lineno, t, ev):
        if not 0 <= ev["channel"] <= 16 or not 0 <= ev["number"] <= 127 \
                or not 0 <= ev["value"] <= 16383:
            self.problem(lineno, "input out of range: %r" % (ev,))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log")
    ap.add_argument("--scale", help="scale at the start (config's first)")
    ap.add_argument("--root", help="root at the start: MIDI note or name")
    ap.add_argument("--no-order", action="store_true",
                    help="only sequenced notes must be in time order")
    ap.add_argument("--require", action="append", default=[],
                    metavar="TYPE", help="fail when no event of TYPE")
    ap.add_argument("--min-notes", type=int, default=0)
    a = ap.parse_args()

    root = a.root
    if root is not None and root.lstrip("-").isdigit():
        root = int(root)
    if a.scale is not None and scale_key(a.scale) not in SCALES:
        print("check_events: unknown --scale %r" % a.scale, file=sys.stderr)
        return 2
    c = Checker(a.scale, root, not a.no_order)
    n = 0
    with open(a.log, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if not text.endswith("\n"):
                c.problem(n, "last line has no newline")
            c.line(n, text)
    if n == 0:
        c.problem(0, "the log is empty")
    for typ in a.require:
        if c.counts.get(typ, 0) == 0:
            c.problem(n, "no %s event in the log" % typ)
    if c.counts.get("note", 0) < a.min_notes:
        c.problem(n, "%d notes, expected at least %d"
                  % (c.counts.get("note", 0), a.min_notes))
    summary = ", ".join("%s %d" % kv for kv in sorted(c.counts.items()))
    print("check_events: %s: %d lines (%s); %d notes checked against the "
          "scale" % (a.log, n, summary or "no events", c.notes_checked))
    if c.problems:
        for p in c.problems[:20]:
            print("check_events: " + p, file=sys.stderr)
        if len(c.problems) > 20:
            print("check_events: ... %d problems in all" % len(c.problems),
                  file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
