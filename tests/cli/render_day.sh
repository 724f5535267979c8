#!/bin/bash
# render_day: the gallery day at a shorter scale (bench/day.sh runs the full
# ten hours for 20 seeds).  Offline renders of the shipped configuration,
# checked by tests/tools/day_check.py as a listener would hear them:
#   - no input, three seeds, two hours each, cut into 10-minute bins: every
#     bin's note count within 0.5x..2x of the median bin, no walked
#     parameter outside its mutation range, no silence longer than
#     sequencer.max_gap_ms, at least two distinct patterns heard in every
#     idle bin (the day's target, six an hour, is one per ten minutes),
#     the notes playing the logged pattern, every note in the scale;
#   - a scripted visitor MIDI file (tests/tools/visitor_midi.py: button
#     presses and knob turns in visits of 1 to 4 minutes), two seeds, three
#     hours in 30-minute bins, the same checks (patterns scaled by the time
#     spent idle);
#   - a control: with mutation.enabled = false the idle bins hear one
#     pattern, and the check says so (it can fail).
. "$(dirname "$0")/render_lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || fail "/usr/bin/python3 is needed"
day="$py $top_srcdir/tests/tools/day_check.py"
eff="$work/effective.conf"
"$ME_BIN" --check-config -c "$conf" >"$eff" || fail "--check-config failed"

for seed in 3 11 29; do
	"$ME_BIN" render -q -c "$conf" --seconds 7200 --seed "$seed" --events "$work/d$seed.jsonl" ||
		fail "render of seed $seed failed"
	$day "$work/d$seed.jsonl" --config "$eff" --bin-s 600 --min-patterns 2 ||
		fail "seed $seed, no input: the day checks failed"
done

"$py" "$top_srcdir/tests/tools/visitor_midi.py" "$work/visitors.mid" --hours 3 --seed 5 ||
	fail "visitor_midi.py failed"
for seed in 3 11; do
	"$ME_BIN" render -q -c "$conf" --seconds 10800 --seed "$seed" --input "$work/visitors.mid" \
		--events "$work/v$seed.jsonl" || fail "render of seed $seed with visitors failed"
	$day "$work/v$seed.jsonl" --config "$eff" --bin-s 1800 --min-patterns 3 ||
		fail "seed $seed with visitors: the day checks failed"
	$check "$work/v$seed.jsonl" --scale "$start_scale" --root "$start_root" --require step_edit \
		--require pattern >/dev/null || fail "seed $seed with visitors: the log fails check_events"
done

"$ME_BIN" render -q -c "$conf" --seconds 3600 --seed 3 --set mutation.enabled=false \
	--events "$work/frozen.jsonl" || fail "render without mutation failed"
if $day "$work/frozen.jsonl" --config "$eff" --bin-s 600 --min-patterns 2 >"$work/frozen.txt"; then
	fail "without mutation the idle bins still counted two patterns: the check cannot fail"
fi
grep -q '^patterns: ' "$work/frozen.txt" || fail "the control failed for another reason: $(cat "$work/frozen.txt")"
echo "render_day: ok"
