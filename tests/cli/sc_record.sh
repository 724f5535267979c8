#!/bin/bash
# sc_record: record the private scsynth's output with me_rec (DiskOut) while
# timetagged bundles of me_voice notes play on a 250 ms grid, each sent
# 100 ms ahead (at least 50: a test tool that a busy machine runs late
# makes the run void, not failed; it is run again).  The recording must be audible (sox), hold every note,
# and the notes must sit on the grid: the spacings within +-1 sample of
# their centre, which must be 250 ms at the rate scsynth maps wall-clock
# timetags with (its /status "actual sample rate": for the JACK dummy
# driver a few hundred ppm off 48000) within 2 samples, and 12000 within
# 0.1%.  One clock step (the dummy driver's timer stalled under load and
# scsynth re-synced its clock, moving one note by ~200 samples and the
# rate estimate by a few ppm) is reported but tolerated; block-quantised
# starts (up to 64 samples off) fail.  No bundle may be
# late.  Prints the measured figures.  Up to three runs; the FAIL line
# names each run's reason.
set -euo pipefail
. "${top_srcdir:-.}/tests/lib/audio.sh"
tmp=$(mktemp -d)
trap 'audio_stop; rm -rf "$tmp"' EXIT
ONSETS="${top_builddir:-.}/tests/tools/wav_onsets"
NOTES=12
INTERVAL_MS=250
LEAD_MS=120	# sent this far ahead, so a busy machine still leaves >= 50 ms

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

audio_require
[ -x "$ONSETS" ] || fail "$ONSETS not built"
audio_exclusive
audio_start "$tmp"

# One recording and its checks; prints why it failed (also into $tmp/why).
attempt() {
	attempt_checks >"$tmp/out" 2>&1
	local rc=$?
	cat "$tmp/out"
	[ "$rc" -eq 0 ] || tail -1 "$tmp/out" >"$tmp/why"
	return "$rc"
}
attempt_checks() {
	local wav=$tmp/rec.wav out rate lead rms late late0
	late0=$(audio_late_count)
	rm -f "$wav"
	out=$("$AUDIO_PROBE" -p "$AUDIO_PORT" -t 3000 record "$wav" "$NOTES" "$INTERVAL_MS" "$LEAD_MS") ||
		{ echo "recording failed: $out"; return 1; }
	echo "$out"
	rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out")
	lead=$(sed -n 's/.* min_lead_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	awk -v l="$lead" 'BEGIN { exit !(l >= 50) }' ||
		{ echo "a bundle was sent only $lead ms ahead"; return 1; }
	[ -s "$wav" ] || { echo "no recording"; return 1; }
	rms=$(sox "$wav" -n stat 2>&1 | awk '/^RMS +amplitude/ { print $3 }')
	echo "sox RMS amplitude: $rms"
	awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }' || { echo "recording is not audible (RMS $rms)"; return 1; }
	"$ONSETS" "$wav" >"$tmp/onsets" || { echo "cannot read the recording"; return 1; }
	[ "$(wc -l <"$tmp/onsets")" -eq "$NOTES" ] ||
		{ echo "found $(wc -l <"$tmp/onsets") onsets, want $NOTES"; return 1; }
	awk 'NR > 1 { print $1 - p } { p = $1 }' "$tmp/onsets" >"$tmp/spacings"
	median=$(sort -n "$tmp/spacings" | sed -n "$((NOTES / 2))p")
	# A spacing more than 12 samples (0.1 %) off the median is a clock step;
	# the others form runs between steps, each within +-1 of its centre.
	awk -v m="$median" -v ms="$INTERVAL_MS" -v rate="$rate" '
		function close_run() {
			if (n && hi - lo > 2) bad = 1
			if (n && hi - lo > spread) spread = hi - lo
			n = 0
		}
		{
			s = s " " $1; e = $1 - m
			if (e > 12 || e < -12) { steps++; step = e; close_run(); next }
			if (!n || $1 < lo) lo = $1
			if (!n || $1 > hi) hi = $1
			n++
		}
		END {
			close_run()
			want = ms / 1000 * rate
			printf "spacings:%s\n", s
			printf "median spacing %d samples (nominal 12000: %+d; 250 ms at scsynth rate %.3f: %.2f)\n", m, m - 12000, rate, want
			printf "grid error: spacings within +-%.1f samples of their centre", spread / 2
			if (steps) printf ", plus %d clock step(s) of %+d samples", steps, step
			printf "\n"
			if (bad) { print "spacings vary by more than +-1 sample"; exit 1 }
			d = m - want; if (d < 0) d = -d
			if (!steps && d > 2) { print "median spacing is not 250 ms at the server rate"; exit 1 }
			if (m < 11988 || m > 12012) { print "median spacing is more than 0.1% off 12000"; exit 1 }
			if (steps > 1) { print "more than one clock step"; exit 1 }
		}' "$tmp/spacings" || { echo "onsets are off the grid"; return 1; }
	late=$(($(audio_late_count) - late0))
	[ "$late" -eq 0 ] || { echo "$late bundles were late"; return 1; }
}

# A second clock step in one recording, a late tool: up to three runs.
whys=
for run in 1 2 3; do
	attempt && break
	whys="${whys:+$whys; }run $run: $(cat "$tmp/why") (load $(cut -d' ' -f1 /proc/loadavg))"
	[ "$run" -lt 3 ] || fail "sc_record, 3 runs of 3: $whys"
	echo "run $run failed; again" >&2
done
