#!/bin/bash
# http_slow: can an operator still read /state and /metrics while hundreds
# of slow HTTP clients are connected?  The daemon (--daemon --synth none, as
# it is; an unprivileged user when run as root) serves the API on a free
# port; tests/tools/http_slow.py holds N connections that trickle a request
# one byte every 2 s and reconnect at once when closed (an attacker's
# slowloris), and meanwhile times 20 complete GETs on fresh connections.
# For N in 0, 100, 500 (or the Ns given) and each of /state and /metrics it
# prints the probes answered, their p50/p95/max in ms, the slow clients'
# reconnections, and the engine process's CPU over the run (% of one core)
# and its worker's wake-up lateness p99 from /state (the music's health).
# Usage: bench/http_slow.sh [SECONDS] [N...]   (top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/cli/ops_lib.sh"
secs=${1:-20}
shift || true
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(0 100 500)
ops_init
ops_start --set sequencer.bpm=120
tck=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$OPS_PID/stat"; }
late_p99() {
	curl -sf "$OPS_BASE/state" | /usr/bin/python3 -c \
		'import json,sys; print("%.2f" % (json.load(sys.stdin)["timing"]["lateness_p99_s"] * 1e3))'
}

printf '%-8s %6s %6s %8s %8s %8s %10s %8s %12s\n' path slow ok p50_ms p95_ms max_ms \
	reconnects cpu_% lateness_p99
for n in "${ns[@]}"; do
	for path in /state /metrics; do
		c0=$(ticks)
		t0=$(date +%s%N)
		out=$(/usr/bin/python3 "$OPS_TOOLS/http_slow.py" "$OPS_PORT" "$n" "$secs" \
			--probe "$path" --probes 20) || true
		c1=$(ticks)
		t1=$(date +%s%N)
		cpu=$(awk -v c="$((c1 - c0))" -v t="$tck" -v ns="$((t1 - t0))" \
			'BEGIN { printf "%.1f", 100 * c / t / (ns / 1e9) }')
		# slow N held H reconnects R answered A probes K ok O p50_ms X p95_ms Y max_ms Z
		set -- $out
		printf '%-8s %6s %6s %8s %8s %8s %10s %8s %12s\n' "$path" "$n" "${12}/${10}" \
			"${14}" "${16}" "${18}" "$6" "$cpu" "$(late_p99)"
	done
done
ops_stop
