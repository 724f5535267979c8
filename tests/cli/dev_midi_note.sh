#!/bin/bash
# dev_midi_note: a trigger button on the Teensy.  Note 60 (the first of the
# trigger_step notes 60..71 in the default mapping) arrives through a pty:
# the event log shows its "input" line, a "step_edit" of step 0 and a note
# sounding at the press time (the same t as the input, the press velocity,
# step 0).  A second press flips the step back.  While step 0 is off the
# sequencer does not play it.  The presses' times in the log are spaced as
# they were sent (arrival timestamps, not worker ticks).
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup

teensy_start --midi "$tmp/midi"
engine_start --midi-in "raw:$tmp/midi" --led none
teensy_do 6 '^(connected|timeout)' wait_connected 5 | grep -q '^connected' ||
	dev_fail "the engine never opened the MIDI pty"

sleep 0.3
s1=$(teensy_do 2 '^sent' on 1 60 101)
dev_wait_line "$tmp/ev.jsonl" '"type":"step_edit","step":0' 2 || dev_fail "note 60 did not edit step 0"
sleep 1.6
s2=$(teensy_do 2 '^sent' on 1 60 57)
sleep 1.6
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
vel = [101, 57]
bad = []
presses = [e for e in ev if e["type"] == "input"]
if [(p["kind"], p["channel"], p["number"], p["value"]) for p in presses] != \
        [("note_on", 1, 60, v) for v in vel]:
    print("want two input lines note_on 60 on channel 1, got %r" % presses)
    sys.exit(1)
edits = []
for p, v in zip(presses, vel):
    t = p["t"]
    at = [e for e in ev if e["t"] == t and e["type"] in ("step_edit", "note")]
    ed = [e for e in at if e["type"] == "step_edit"]
    nt = [e for e in at if e["type"] == "note"]
    if len(ed) != 1 or ed[0]["step"] != 0:
        bad.append("press at %.6f: want one step_edit of step 0, got %r" % (t, ed))
        continue
    if len(nt) != 1 or nt[0]["step"] != 0 or nt[0]["velocity"] != v:
        bad.append("press at %.6f: want a note of step 0 velocity %d, got %r" % (t, v, nt))
        continue
    edits.append((t, ed[0]["on"]))
    print("press at %.6f: step 0 %s, note %d sounds at the press time" %
          (t, "on" if ed[0]["on"] else "off", nt[0]["pitch"]))
if len(edits) == 2:
    if edits[0][1] == edits[1][1]:
        bad.append("the second press did not flip step 0 back")
    gap_log = presses[1]["t"] - presses[0]["t"]
    print("presses %.4f s apart when sent, %.4f s in the log" % (t2 - t1, gap_log))
    # stamped on arrival: the gap lies between the write windows' extremes,
    # give or take the input thread's wake-up (5 ms of slack)
    if not w2 - t1 - 0.005 <= gap_log <= t2 - w1 + 0.005:
        bad.append("press times in the log do not follow the sending times")
    # While step 0 is off (after the press that switched it off, one
    # look-ahead later, until the next press or the end) it never sounds.
    live = {p["t"] for p in presses}
    ends = [edits[1][0], 1e9]
    for (t, on), end in zip(edits, ends):
        if on:
            continue
        seq0 = [e["t"] for e in ev if e["type"] == "note" and e["step"] == 0
                and e["t"] not in live and t + 0.1 < e["t"] < end]
        if seq0:
            bad.append("step 0 switched off at %.3f still played at %r" % (t, seq0))
    played = [e for e in ev if e["type"] == "note" and e["t"] not in live
              and edits[0][0] + 0.1 < e["t"] < edits[1][0]]
    if len(played) < 4:
        bad.append("the sequencer played only %d notes between the presses" % len(played))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
echo "$DEV_NAME: ok"
