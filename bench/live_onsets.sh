#!/bin/bash
# live_onsets: onset accuracy of the live SuperCollider backend.  Plays a
# 60 s grid (500 ms steps, odd steps swung by 0.2, every 4th note sent as
# a live action with latency_ms) on a private managed JACK dummy + scsynth,
# records the master output and prints each figure: onsets measured, how
# many within +-1 sample of the grid, error range and rms (samples at
# 48 kHz), late bundles.  Usage: bench/live_onsets.sh [SECONDS]
set -euo pipefail
builddir=${top_builddir:-.}
drive="$builddir/tests/tools/synth_drive"
[ -x "$drive" ] || { echo "build $drive first (make check)" >&2; exit 1; }
secs=${1:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=$((30000 + RANDOM % 20000))
"$drive" --port "$port" --jack "me-bench-$$" --record "$tmp/take.wav" --seconds "$secs" \
	--swing 0.2 --live-every 4 >"$tmp/out.txt" 2>"$tmp/err.txt" || true
echo "live onsets: ${secs} s, 500 ms grid, swing 0.2, every 4th note live (latency 10 ms)"
grep -E '^(notes|late|dropped|part|onsets|onset_|cpu)' "$tmp/out.txt"
