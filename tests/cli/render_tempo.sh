#!/bin/bash
# render with --set sequencer.bpm: the step notes' spacing follows the tempo
# (a step is a sixteenth: 60 / bpm / 4 seconds).  Swing, density gaps,
# mutation and idle are switched off so that every step sounds on the grid.
. "$(dirname "$0")/render_lib.sh"

steady=(--set sequencer.swing=0 --set sequencer.density=1
	--set mutation.enabled=false --set idle.timeout_ms=86400000)

median_ioi() {
	python3 - "$1" <<'PY'
import json, statistics, sys
t = [e["t"] for e in map(json.loads, open(sys.argv[1]))
     if e["type"] == "note" and e["step"] >= 0]
onsets = sorted(set(t))
if len(onsets) < 20:
    sys.exit("only %d step onsets" % len(onsets))
print("%.6f" % statistics.median(b - a for a, b in zip(onsets, onsets[1:])))
PY
}

for bpm in 140 70; do
	$ME_BIN render --seconds 30 --seed 5 "${steady[@]}" \
		--set sequencer.bpm=$bpm --events "$work/$bpm.jsonl" 2>"$work/err" ||
		fail "render at $bpm BPM exited $?: $(cat "$work/err")"
	ioi=$(median_ioi "$work/$bpm.jsonl") || fail "no usable notes at $bpm BPM"
	python3 -c "
import sys
ioi, want = float(sys.argv[1]), 60.0 / float(sys.argv[2]) / 4
if abs(ioi - want) > 0.02 * want:
    sys.exit('median step spacing %.4f s at %s BPM, expected %.4f s' % (ioi, sys.argv[2], want))
" "$ioi" "$bpm" || fail "spacing does not follow --set sequencer.bpm=$bpm"
	$check "$work/$bpm.jsonl" --scale "$start_scale" --root "$start_root" \
		--require note || fail "the $bpm BPM log fails the checks"
done
echo "render_tempo: ok"
