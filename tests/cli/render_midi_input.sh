#!/bin/bash
# render --input: a MIDI file stands in for the controller at its own
# timestamps.  cc_note.mid moves CC 20 (tempo) at 2.0, 2.5 and 3.0 s and
# plays note 60 (the button of the pattern's first step) at 4.0 s, which
# toggles step 0.
. "$(dirname "$0")/render_lib.sh"

$ME_BIN render --seconds 10 --seed 3 --input "$fixtures/cc_note.mid" \
	--events "$work/in.jsonl" 2>"$work/err" ||
	fail "render --input exited $?: $(cat "$work/err")"
$check "$work/in.jsonl" --scale "$start_scale" --root "$start_root" \
	--require input --require param --require note ||
	fail "the log fails the checks"
python3 - "$work/in.jsonl" <<'PY' || fail "the MIDI file's inputs are not in the log at their times"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
def near(a, b):
    return abs(a - b) < 0.001
bad = []
for t, value in ((2.0, 90), (2.5, 100), (3.0, 110)):
    if not any(e["type"] == "input" and near(e["t"], t) and e["number"] == 20
               and e["value"] == value for e in ev):
        bad.append("no input line for CC 20 = %d at %.1f s" % (value, t))
    if not any(e["type"] == "param" and e["name"] == "tempo" and
               e["source"] == "midi" and near(e["t"], t) for e in ev):
        bad.append("no tempo change from midi at %.1f s" % t)
if not any(e["type"] == "input" and near(e["t"], 4.0) and e["number"] == 60
           for e in ev):
    bad.append("no input line for note 60 at 4.0 s")
if not any(e["type"] == "step_edit" and near(e["t"], 4.0) and e["step"] == 0
           for e in ev):
    bad.append("note 60 at 4.0 s did not toggle step 0")
if any(e["type"] == "input" and e["t"] < 1.999 for e in ev):
    bad.append("an input line before the file's first message")
# The file's CCs make the tempo faster: the last midi tempo is the largest.
tempi = [e["value"] for e in ev if e["type"] == "param" and
         e["name"] == "tempo" and e["source"] == "midi"]
if len(tempi) >= 3 and not tempi[0] < tempi[1] < tempi[2]:
    bad.append("tempo from CC 20 = 90, 100, 110 does not rise: %r" % tempi)
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# The same input and seed give the same log.
$ME_BIN render --seconds 10 --seed 3 --input "$fixtures/cc_note.mid" \
	--events "$work/in2.jsonl" 2>/dev/null || fail "second render failed"
cmp "$work/in.jsonl" "$work/in2.jsonl" || fail "same input and seed, different logs"
echo "render_midi_input: ok"
