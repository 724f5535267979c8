#!/bin/bash
# kill_recovery: how fast sound comes back after scsynth is killed with
# SIGKILL while playing.  Plays a 125 ms grid on a private managed stack,
# kills scsynth every 3 s (N times, default 10) and prints, per kill, when
# the link was ready again and when the first note sounded, then the
# median and the maximum.  Target: sound within 2 s, every time.
# Usage: bench/kill_recovery.sh [KILLS]
set -euo pipefail
builddir=${top_builddir:-.}
drive="$builddir/tests/tools/synth_drive"
[ -x "$drive" ] || { echo "build $drive first (make check)" >&2; exit 1; }
kills=${1:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=$((30000 + RANDOM % 20000))
args=()
for i in $(seq 1 "$kills"); do args+=(--kill-at "$((i * 3))"); done
"$drive" --port "$port" --jack "me-kill-$$" --seconds "$((kills * 3 + 3))" --step-ms 125 \
	--live-every 0 "${args[@]}" --check >"$tmp/out.txt" 2>"$tmp/err.txt" || true
echo "kill recovery: $kills x SIGKILL of scsynth, 125 ms grid"
grep -E '^(kill|recovery|restarts|check \(d|check \(e)' "$tmp/out.txt"
