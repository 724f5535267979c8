#!/bin/bash
# dev_midi_note: a trigger button on the Teensy.  Note 60 (the first of the
# trigger_step notes 60..71 in the default mapping) arrives through a pty:
# the event log shows its "input" line, a "step_edit" of step 0 and a note
# sounding at the press time (the same t as the input, a live note the synth
# plays synth.latency_ms later; the press velocity, step 0).  The default
# press accents the step: it stays on, at probability 1, and then sounds at
# every pass; a second press keeps it so (a visitor never silences a note).
# Then the instrument goes idle (idle.timeout_ms 3000: longer than the
# time to the first press and between the presses, with a margin for a
# loaded machine; shorter only saves waiting): one knob message does not
# wake it (knob jitter), but one press does, at once: the "idle" exit line
# has the press's time, and so has its note.  The presses' times
# in the log are spaced as they were sent (arrival timestamps, not worker
# ticks).
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup

teensy_start --midi "$tmp/midi"
engine_start --midi-in "raw:$tmp/midi" --led none --set idle.timeout_ms=3000
teensy_do 6 '^(connected|timeout)' wait_connected 5 | grep -q '^connected' ||
	dev_fail "the engine never opened the MIDI pty"
# the input thread reads the pty from this line on
dev_wait_line "$tmp/engine.err" '"event":"midi_connected"' 2 || dev_fail "no midi_connected log line"

s1=$(teensy_do 2 '^sent' on 1 60 101)
dev_wait_line "$tmp/ev.jsonl" '"type":"step_edit","step":0' 2 || dev_fail "note 60 did not edit step 0"
# Until the sequencer has played what the checks below look for between the
# presses (4 notes, one of them step 0, from 0.1 s after the first press),
# at most 1.4 s (more than a pass of the pattern).  The event log runs one
# look-ahead (synth.lookahead_ms, 50) early: 0.1 s more puts the second
# press after the last of these notes.
p1=$(grep -m1 '"kind":"note_on"' "$tmp/ev.jsonl" | sed 's/^{"t":\([0-9.]*\),.*/\1/')
for _ in $(seq 1 70); do
	awk -v t0="$p1" 'index($0, "\"type\":\"note\"") {
		split($0, f, /[:,]/)
		if (f[2] > t0 + 0.1) { n++; if (index($0, "\"step\":0}")) s0++ }
	} END { exit !(n >= 4 && s0 >= 1) }' "$tmp/ev.jsonl" && break
	sleep 0.02
done
sleep 0.1
s2=$(teensy_do 2 '^sent' on 1 60 57)
# idle comes 3 s after the last action
dev_wait_line "$tmp/ev.jsonl" '"type":"idle","state":"enter"' 8 || dev_fail "the engine did not go idle"
sleep 0.2	# the line came one look-ahead early: the knob comes after the idle time
teensy_do 2 '^sent' cc 1 22 90 >/dev/null	# one knob message: jitter, not a wake-up
sleep 1
s3=$(teensy_do 2 '^sent' on 1 65 88)
dev_wait_line "$tmp/ev.jsonl" '"type":"idle","state":"exit"' 2 || dev_fail "the press did not wake the instrument"
sleep 0.5
engine_alive || dev_fail "the engine died"
engine_stop

w_of() {	# the time just before the write
	sed -n 's/.* w=\([0-9.]*\).*/\1/p' <<<"$1"
}
args=("$tmp/ev.jsonl" "$(w_of "$s1")" "$(t_of "$s1")" "$(w_of "$s2")" "$(t_of "$s2")")
python3 - "${args[@]}" <<'EOF' || dev_fail "event log checks failed"
import json, sys

ev = [json.loads(l) for l in open(sys.argv[1])]
# each press was written between w and t (CLOCK_MONOTONIC)
(w1, t1), (w2, t2) = [(float(sys.argv[i]), float(sys.argv[i + 1])) for i in (2, 4)]
bad = []
presses = [e for e in ev if e["type"] == "input" and e["kind"] == "note_on"]
want = [(60, 101), (60, 57), (65, 88)]
if [(p["channel"], p["number"], p["value"]) for p in presses] != [(1, n, v) for n, v in want]:
    print("want note_on inputs %r on channel 1, got %r" % (want, presses))
    sys.exit(1)
for p, (num, vel) in zip(presses, want):
    t = p["t"]
    at = [e for e in ev if e["t"] == t and e["type"] in ("step_edit", "note")]
    ed = [e for e in at if e["type"] == "step_edit"]
    nt = [e for e in at if e["type"] == "note"]
    step = num - 60
    if len(ed) != 1 or ed[0]["step"] != step:
        bad.append("press at %.6f: want one step_edit of step %d, got %r" % (t, step, ed))
        continue
    e = ed[0]
    if not e["on"] or e["probability"] != 1 or e["source"] != "midi":
        bad.append("press at %.6f: the step was not accented: %r" % (t, e))
    if len(nt) != 1 or nt[0]["step"] != step or nt[0]["velocity"] != vel:
        bad.append("press at %.6f: want a note of step %d velocity %d, got %r" % (t, step, vel, nt))
        continue
    print("press at %.6f: step %d accented (velocity %d), note %d sounds at the press time" %
          (t, step, e["velocity"], nt[0]["pitch"]))
edits0 = [e for e in ev if e["type"] == "step_edit" and e["step"] == 0]
if len(edits0) == 2 and edits0[1]["velocity"] < edits0[0]["velocity"]:
    bad.append("the second press made step 0 softer: %r" % edits0)

gap_log = presses[1]["t"] - presses[0]["t"]
print("presses %.4f s apart when sent, %.4f s in the log" % (t2 - t1, gap_log))
# stamped on arrival: the gap lies between the write windows' extremes,
# give or take the input thread's wake-up (5 ms of slack)
if not w2 - t1 - 0.005 <= gap_log <= t2 - w1 + 0.005:
    bad.append("press times in the log do not follow the sending times")

# Accented, step 0 sounds at every pass from the sequencer between the presses.
live = {p["t"] for p in presses}
steps0 = [e["t"] for e in ev if e["type"] == "note" and e["step"] == 0 and e["t"] not in live
          and presses[0]["t"] + 0.1 < e["t"] < presses[1]["t"]]
played = [e for e in ev if e["type"] == "note" and e["t"] not in live
          and presses[0]["t"] + 0.1 < e["t"] < presses[1]["t"]]
print("between the presses: %d notes, %d of step 0" % (len(played), len(steps0)))
if len(played) < 4:
    bad.append("the sequencer played only %d notes between the presses" % len(played))
# a pass of the 8-step pattern at 110 BPM takes 1.09 s
if len(steps0) < 1:
    bad.append("the accented step 0 did not sound between the presses")

# Idle: the knob message did not wake it, the press did, at its own time.
enter = [e["t"] for e in ev if e["type"] == "idle" and e["state"] == "enter"]
exits = [e["t"] for e in ev if e["type"] == "idle" and e["state"] == "exit"]
knob = [e["t"] for e in ev if e["type"] == "input" and e["kind"] == "cc"]
if len(enter) != 1 or len(exits) != 1 or len(knob) != 1:
    bad.append("want one idle enter, one exit and one knob input: %r %r %r" % (enter, exits, knob))
else:
    if not enter[0] < knob[0] < exits[0]:
        bad.append("the knob message at %.3f woke the instrument (idle %r -> %r)" %
                   (knob[0], enter, exits))
    if exits[0] != presses[2]["t"]:
        bad.append("idle ended at %.6f, not at the press (%.6f)" % (exits[0], presses[2]["t"]))
    else:
        print("idle at %.3f; a knob message at %.3f left it idle; the press at %.3f woke it "
              "at once" % (enter[0], knob[0], exits[0]))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
echo "$DEV_NAME: ok"
