#!/bin/bash
# A preset save killed with SIGKILL at random moments never leaves a broken
# preset: after each of 200 kills the preset loads and is exactly one of the
# two contents being saved; stale temporary files are cleaned by the next
# save.  A truncated or garbage preset file is refused with file and line.
set -euo pipefail
hammer=${top_builddir:-.}/tests/tools/preset_hammer
[ -x "$hammer" ] || { echo "FAIL: $hammer is not built"; exit 1; }
work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "${HAMMER_PID:-}" ] && kill -9 "$HAMMER_PID" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
dir=$work/presets

"$hammer" once "$dir" evening || fail "the first save failed"
RANDOM=7	# reproducible delays
seen_a=0 seen_b=0
# One hammer answers every round: `save` forks a saver and names it, `check`
# loads the preset once the saver is gone (a fork per round rather than two
# program starts).
coproc HAMMER { exec "$hammer" serve "$dir" evening; }
hammer_pid=$HAMMER_PID # bash unsets HAMMER_PID once the coprocess has ended
for i in $(seq 1 200); do
	# Kill at a random moment after the saving has begun.
	echo save >&"${HAMMER[1]}"
	read -r -t 10 -u "${HAMMER[0]}" word pid || fail "the saver did not start"
	[ "$word" = saving ] || fail "the saver did not start: $word $pid"
	sleep "0.0$(printf %02d $((RANDOM % 21)))"
	kill -9 "$pid"
	pid=
	echo check >&"${HAMMER[1]}"
	read -r -t 10 -u "${HAMMER[0]}" got || fail "no answer after kill $i"
	case $got in
	A) seen_a=$((seen_a + 1)) ;;
	B) seen_b=$((seen_b + 1)) ;;
	error*) fail "after kill $i the preset does not load: ${got#error }" ;;
	*) fail "after kill $i: unexpected '$got'" ;;
	esac
done
eval "exec ${HAMMER[1]}>&-"
wait "$hammer_pid" 2>/dev/null || true
# Both contents must have been caught: the kills landed during saving.
[ "$seen_a" -gt 0 ] && [ "$seen_b" -gt 0 ] ||
	fail "kills never interrupted the alternation (A $seen_a, B $seen_b)"
left=$(find "$dir" -name '.evening.tmp.*' | wc -l)
[ "$left" -le 1 ] || fail "$left temporary files left behind"
"$hammer" once "$dir" evening
left=$(find "$dir" -name '.evening.tmp.*' | wc -l)
[ "$left" -eq 0 ] || fail "a clean save left $left temporary files"

# Damaged files: reported with file and line, never loaded.
head -c 700 "$dir/evening.preset" >"$dir/cut.preset"
if "$hammer" check "$dir" cut 2>"$work/err"; then fail "a truncated preset loaded"; fi
grep -Eq "$dir/cut.preset:[0-9]+: " "$work/err" ||
	fail "the truncated preset's error names no file and line: $(cat "$work/err")"
head -c 3000 /dev/urandom >"$dir/noise.preset"
if "$hammer" check "$dir" noise 2>"$work/err"; then fail "a garbage preset loaded"; fi
grep -Eq "$dir/noise.preset:[0-9]+: " "$work/err" ||
	fail "the garbage preset's error names no file and line: $(cat "$work/err")"
echo "PASS: 200 kills, contents A $seen_a / B $seen_b, damaged files refused"
