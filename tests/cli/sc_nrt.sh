#!/bin/bash
# sc_nrt: a score written by osc_score renders with scsynth -N; notes at
# non-block-aligned times start exactly at round(t x 48000) (+-1 sample),
# the file lasts until the end time, the reverb of me_fx is heard after a
# note only when its mix is up, and the writer refuses an out-of-order
# note (the score it leaves behind renders without it).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
B="${top_builddir:-.}/tests/tools"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for t in scsynth sox; do
	command -v "$t" >/dev/null || fail "$t not found: install the Debian packages supercollider-server and sox"
done
[ -x "$B/nrt_score" ] && [ -x "$B/wav_onsets" ] || fail "test tools not built (run make check)"

render() {	# score.osc out.wav
	SC_SYNTHDEF_PATH="$tmp" scsynth -o 2 -N "$1" _ "$2" 48000 WAV int16 >"$tmp/render.log" 2>&1 ||
		fail "scsynth -N exited $?: $(tail -3 "$tmp/render.log")"
	if grep -Eqi 'not installed|exception|error|late' "$tmp/render.log"; then
		fail "scsynth complained while rendering: $(grep -Ei 'not installed|exception|error|late' "$tmp/render.log" | head -3)"
	fi
	[ -s "$2" ] || fail "no output file"
}

# 1. onsets at exact samples
times="0.1 0.6125 1.2345678 1.77777 2.40001"
"$B/nrt_score" -e 3.0 "$tmp/a.osc" $times || fail "writing the score"
render "$tmp/a.osc" "$tmp/a.wav"
"$B/wav_onsets" -s "$tmp/a.wav" >"$tmp/onsets" 2>"$tmp/info"
cat "$tmp/info"
frames=$(sed -n 's/.*frames=\([0-9]*\).*/\1/p' "$tmp/info")
[ "$frames" -ge 144000 ] && [ "$frames" -lt 144128 ] ||
	fail "file has $frames frames, want 3.0 s (144000, up to one more block pair)"
echo "$times" | tr ' ' '\n' | paste - "$tmp/onsets" | awk '
	NF != 2 { printf "note at %s s: no onset\n", $1; bad = 1; next }
	{
		want = int($1 * 48000 + 0.5); e = $2 - want
		printf "t=%s s: want sample %d, onset %d, error %+d\n", $1, want, $2, e
		if (e > 1 || e < -1) bad = 1
	}
	END { exit bad }' || fail "onsets are not at round(t x 48000)"
[ "$(wc -l <"$tmp/onsets")" -eq 5 ] || fail "found $(wc -l <"$tmp/onsets") onsets, want 5"
rms=$(sox "$tmp/a.wav" -n stat 2>&1 | awk '/^RMS +amplitude/ { print $3 }')
awk -v r="$rms" 'BEGIN { exit !(r > 0.005) }' || fail "render is not audible (RMS $rms)"
echo "sox RMS amplitude: $rms"

# 2. the reverb: a tail after the note only with mix up
for mix in 0 0.6; do
	"$B/nrt_score" -e 2.0 -m "$mix" "$tmp/r$mix.osc" 0.1 || fail "writing the reverb score"
	render "$tmp/r$mix.osc" "$tmp/r$mix.wav"
	tail_rms=$(sox "$tmp/r$mix.wav" -n trim 1.0 0.5 stat 2>&1 | awk '/^RMS +amplitude/ { print $3 }')
	echo "mix $mix: RMS 1.0..1.5 s after a 0.1 s note: $tail_rms"
	if [ "$mix" = 0 ]; then
		awk -v r="$tail_rms" 'BEGIN { exit !(r == 0) }' || fail "a dry note still sounds 1 s later"
	else
		awk -v r="$tail_rms" 'BEGIN { exit !(r > 0.0001) }' || fail "no reverb tail with mix $mix"
	fi
done

# 3. out of order: refused with a message, and the file stays in order
set +e
msg=$("$B/nrt_score" -e 2.0 "$tmp/o.osc" 1.0 0.5 2>&1)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "an out-of-order note was accepted"
grep -q "time order" <<<"$msg" || fail "no clear message for an out-of-order note: $msg"
echo "refused: $msg"
render "$tmp/o.osc" "$tmp/o.wav"
"$B/wav_onsets" "$tmp/o.wav" >"$tmp/o.onsets"
[ "$(cat "$tmp/o.onsets")" = 48000 ] || fail "left-behind score should hold only the 1.0 s note: $(tr '\n' ' ' <"$tmp/o.onsets")"
