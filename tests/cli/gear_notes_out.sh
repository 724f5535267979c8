#!/bin/bash
# gear_notes_out: the engine's notes on a MIDI output (a pty), beside the
# silent synth.  Every note of the event log appears as a note on of the same
# pitch and velocity on midi.out_channel (3 here), in order, never before its
# time (the log's times placed on CLOCK_MONOTONIC by the events_base line),
# and its note off one duration later; master volume and cutoff went out as CC 7
# and CC 74 first; at exit every note is released and All Notes Off (CC 123)
# sent.  The clock is off here (midi.clock_out = false): no real-time byte.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup
TOOL="$top_srcdir/tests/tools/midi_pty.py"
[ -f "$TOOL" ] || dev_fail "$TOOL missing"

/usr/bin/python3 "$TOOL" listen "$tmp/mo" "$tmp/mo.log" 2>"$tmp/listen.err" &
lpid=$!
stop_helpers() {
	kill "$lpid" 2>/dev/null || true
	wait "$lpid" 2>/dev/null || true
	dev_cleanup
}
trap stop_helpers EXIT
for _ in $(seq 1 100); do [ -L "$tmp/mo" ] && break; sleep 0.02; done
engine_start --midi-in none --midi-out "raw:$tmp/mo" --led none \
	--set midi.out_channel=3 --set midi.clock_out=false --set sequencer.bpm=140
sleep 4
engine_alive || dev_fail "the engine died"
engine_stop
sleep 0.3
kill "$lpid"; wait "$lpid" 2>/dev/null || true

base=$(sed -n 's/.*event log time 0 is CLOCK_MONOTONIC \([0-9]*\) ns.*/\1/p' "$tmp/engine.err")
[ -n "$base" ] || dev_fail "no events_base line"
late50=$(sed -n 's/.*"midi_out_stats".* late_p50_us \([0-9.]*\).*/\1/p' "$tmp/engine.err")
[ -n "$late50" ] || dev_fail "no midi_out_stats line"
/usr/bin/python3 - "$tmp/ev.jsonl" "$tmp/mo.log" "$base" "$late50" <<'PY' || dev_fail "checks failed"
import json, statistics, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
base, late50 = int(sys.argv[3]), float(sys.argv[4])
raw = [(int(t), int(h, 16)) for t, h in (l.split() for l in open(sys.argv[2]))]
bad = []
# bytes -> messages (all 3 bytes long here)
msgs = []
i = 0
while i < len(raw):
    t, b = raw[i]
    if b >= 0xf8:
        bad.append("real-time byte %02x with the clock off" % b)
        i += 1
        continue
    msgs.append((t, raw[i][1], raw[i + 1][1], raw[i + 2][1]))
    i += 3
notes = [e for e in ev if e["type"] == "note"]
ons = [m for m in msgs if m[1] & 0xf0 == 0x90 and m[3] > 0]
if any(m[1] & 0x0f != 2 for m in msgs if m[1] & 0xf0 in (0x80, 0x90, 0xb0)):
    bad.append("a message on another channel than 3")
print("%d notes in the log, %d note ons written" % (len(notes), len(ons)))
if len(notes) < 10:
    bad.append("only %d notes in 4 s" % len(notes))
# the notes handed out within the look-ahead before the exit never sound
if not 0 <= len(notes) - len(ons) <= 2:
    bad.append("note ons written %d, notes %d" % (len(ons), len(notes)))
pairs = list(zip(notes, ons))
if [(n["pitch"], n["velocity"]) for n, o in pairs] != [(o[2], o[3]) for n, o in pairs]:
    bad.append("pitches or velocities differ from the log")
# The engine's own lateness (write time minus due time) is the figure
# (bench/clock.sh measures it); the reader's stamps add the pty's kworker
# and the reader's own wake-up, milliseconds on a loaded machine, so they
# only catch gross errors (a note a step away is 100 ms off).
late = sorted((o[0] - (n["t"] * 1e9 + base)) / 1e6 for n, o in pairs)
print("note ons as the reader stamped them: %.3f ms after their time (median), max %.3f ms;"
      " engine side: %.3f ms (median)" % (late[len(late) // 2], late[-1], late50 / 1e3))
if late[0] < 0:
    bad.append("a note on was written %.3f ms early" % -late[0])
if late50 > 1000 or late[len(late) // 2] > 10:
    bad.append("note ons are not written at their times")
# durations: each note's off is its duration after its on (same pitch)
derr = []
for n, o in pairs[:-2]:
    offt = [m[0] for m in msgs if m[1] == 0x82 and m[2] == n["pitch"] and m[0] > o[0]]
    if offt:
        derr.append(abs((offt[0] - o[0]) / 1e9 - n["duration"]) * 1e3)
print("durations: %d checked, median error %.3f ms" % (len(derr), statistics.median(derr)))
if len(derr) < len(pairs) - 4 or statistics.median(derr) > 10:
    bad.append("note durations do not match the log")
ccs = [(m[2], m[3]) for m in msgs if m[1] == 0xb2]
if [c for c, v in ccs[:2]] != [7, 74]:
    bad.append("want CC 7 and CC 74 first, got %r" % ccs[:2])
if not ccs or ccs[-1] != (123, 0):
    bad.append("want All Notes Off at exit, got %r" % ccs[-3:])
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
echo "$DEV_NAME: ok"
