#!/bin/bash
# render: the same seed gives byte-identical logs, another seed another
# piece; every log line is valid, in time order, and every note lies in the
# scale active at its time.
. "$(dirname "$0")/render_lib.sh"

$ME_BIN render --seconds 120 --seed 7 --events "$work/a.jsonl" 2>"$work/err" ||
	fail "render exited $?: $(cat "$work/err")"
$ME_BIN render --seed 7 --seconds 120 --events "$work/b.jsonl" 2>/dev/null ||
	fail "second render failed"
cmp "$work/a.jsonl" "$work/b.jsonl" || fail "same seed, different logs"
$ME_BIN render --events "$work/c.jsonl" --seconds 120 -q --seed 7 2>/dev/null ||
	fail "render with the options in another order failed"
cmp "$work/a.jsonl" "$work/c.jsonl" || fail "option order changed the log"
$ME_BIN render --seconds 120 --seed 8 --events "$work/d.jsonl" 2>/dev/null ||
	fail "render with seed 8 failed"
if cmp -s "$work/a.jsonl" "$work/d.jsonl"; then
	fail "seeds 7 and 8 gave the same log"
fi

# Two minutes at about 110 BPM in sixteenths: hundreds of notes.
$check "$work/a.jsonl" --scale "$start_scale" --root "$start_root" \
	--require note --min-notes 200 || fail "seed 7 log fails the checks"
$check "$work/d.jsonl" --scale "$start_scale" --root "$start_root" \
	--require note --min-notes 200 || fail "seed 8 log fails the checks"

# Another root moves every note with it.
$ME_BIN render --seconds 60 --seed 7 --set sequencer.root_note=62 \
	--events "$work/e.jsonl" 2>/dev/null || fail "render with root 62 failed"
$check "$work/e.jsonl" --scale "$start_scale" --root 62 --require note ||
	fail "notes with root 62 are not in $start_scale on D"
echo "render_determinism: ok"
