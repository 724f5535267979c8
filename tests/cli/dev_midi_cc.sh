#!/bin/bash
# dev_midi_cc: a knob on the Teensy moves the tempo.  CC 20 (tempo in the
# default mapping) arrives through a pty standing in for the Teensy's MIDI:
# value 127 gives the top of the tempo knob's range (150 BPM), value 0 the
# bottom (60 BPM); each shows in the event log as an "input" line and a
# "param" line with source midi at the same time, and the sequencer's notes
# come faster, then slower.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup

teensy_start --midi "$tmp/midi"
engine_start --midi-in "raw:$tmp/midi" --led none
teensy_do 6 '^(connected|timeout)' wait_connected 5 | grep -q '^connected' ||
	dev_fail "the engine never opened the MIDI pty"
dev_wait_line "$tmp/engine.err" '"event":"midi_connected"' 2 || dev_fail "no midi_connected log line"

sleep 0.3
teensy_do 2 '^sent' cc 1 20 127 >/dev/null
dev_wait_line "$tmp/ev.jsonl" '"name":"tempo","value":150,' 2 || dev_fail "CC 20 = 127 did not set the tempo to 150"
sleep 1.5
teensy_do 2 '^sent' cc 1 20 0 >/dev/null
dev_wait_line "$tmp/ev.jsonl" '"name":"tempo","value":60,' 2 || dev_fail "CC 20 = 0 did not set the tempo to 60"
sleep 2.2
engine_alive || dev_fail "the engine died"
engine_stop

python3 - "$tmp/ev.jsonl" <<'EOF' || dev_fail "event log checks failed"
import json, statistics, sys

ev = [json.loads(l) for l in open(sys.argv[1])]
bad = []
changes = []
for want_cc, want_bpm in ((127, 150), (0, 60)):
    ins = [e for e in ev if e["type"] == "input" and e["kind"] == "cc"
           and e["number"] == 20 and e["value"] == want_cc]
    if len(ins) != 1 or ins[0]["channel"] != 1:
        bad.append("want one input line cc 20 = %d on channel 1, got %r" % (want_cc, ins))
        continue
    t = ins[0]["t"]
    ps = [e for e in ev if e["type"] == "param" and e["name"] == "tempo" and e["t"] == t]
    if [(p["value"], p["source"]) for p in ps] != [(want_bpm, "midi")]:
        bad.append("at t=%.6f want tempo %d from midi, got %r" % (t, want_bpm, ps))
    changes.append(t)
if bad:
    print("\n".join(bad))
    sys.exit(1)

notes = sorted(e["t"] for e in ev if e["type"] == "note")
def gaps(t0, t1):
    on = [t for t in notes if t0 <= t <= t1]
    return [b - a for a, b in zip(on, on[1:])]

before, fast = gaps(0, changes[0]), gaps(changes[0] + 0.3, changes[1])
slow = gaps(changes[1] + 0.4, changes[1] + 2.2)
print("shortest gap between notes: %.3f s at 110 BPM, %.3f s at 150 BPM, %.3f s at 60 BPM"
      % (min(before), min(fast), min(slow) if slow else 0))
# A step lasts 60 / BPM / 4 s: 136 ms at 110, 100 ms at 150, 250 ms at 60;
# swing 0.12 moves every second step by 12 % of a step, so two neighbouring
# steps are at least 120 ms apart at 110, 88 ms at 150, 220 ms at 60.
if not min(fast) < 0.115 < min(before):
    bad.append("the notes did not come faster at 150 BPM")
if slow and min(slow) < 0.2:
    bad.append("notes %.3f s apart after the tempo went to 60 (a step is 0.25 s)" % min(slow))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
echo "$DEV_NAME: ok"
