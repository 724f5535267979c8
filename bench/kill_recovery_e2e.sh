#!/bin/bash
# kill_recovery_e2e: scsynth killed with SIGKILL KILLS times (default 10)
# while the real binary plays (--daemon, managed JACK dummy + scsynth,
# --record, --events): isolated notes every 750 ms (80 BPM, one step per
# beat).  Each kill comes 2..3 s (random) after the server came back.  For
# each kill: when the log says the server is ready again, and when the first
# note sounds again (the first onset of the recording part TAKE-k.wav,
# paired with its note of the event log by tests/tools/onset_match.py, on
# the wall clock) minus the moment of the kill.  Prints each kill, the
# median and max, and how many came back within 2 s.
# Usage: bench/kill_recovery_e2e.sh [KILLS]   (top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/cli/e2e_live_lib.sh"
e2e_require
kills=${1:-10}
e2e_init bench-kill

e2e_isolated 80 0
seed=$(e2e_pick_seed)
log="$E2E_TMP/run.log"
ev="$E2E_TMP/ev.jsonl"
e2e_start "$log" --seed "$seed" --record "$E2E_TMP/take.wav" --events "$ev"
e2e_wait_log "$log" '"event":"started"'
: >"$E2E_TMP/kills.txt"
for k in $(seq 1 "$kills"); do
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 2 + r / 32768 }')"
	sc=$(pgrep -f "^scsynth -u $E2E_PORT " || true)
	[ -n "$sc" ] || e2e_fail "no scsynth on port $E2E_PORT before kill $k"
	echo "$k $(date +%s.%N)" >>"$E2E_TMP/kills.txt"
	kill -9 $sc
	e2e_wait_log "$log" "\"event\":\"synth.ready\".*\\($k restarts\\)" 20
done
sleep 2
e2e_stop
[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC"

echo "kill recovery (real binary): $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), JACK dummy 48 kHz / 256, notes every 750 ms"
: >"$E2E_TMP/res.txt"
while read -r k kw; do
	ready=$(grep '"event":"synth.ready"' "$log" | grep "($k restarts)" | head -1 |
		python3 -c 'import sys, json, calendar, time
r = json.loads(sys.stdin.readline())
d, c = r["ts"].rstrip("Z").split("T"); h, ms = c.split(".")
print(calendar.timegm(time.strptime(d + " " + h, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000)')
	if python3 "$E2E_MATCH" --events "$ev" --wav "$E2E_TMP/take-$k.wav" --log "$log" \
		--part "$k" >"$E2E_TMP/m$k.txt" 2>&1 &&
		grep -q '^first_sound' "$E2E_TMP/m$k.txt"; then
		awk -v k="$k" -v kw="$kw" -v rd="$ready" '/^first_sound/ {
			printf "kill %2d: ready after %4.0f ms, sound again after %4.0f ms (note t %s)\n",
			    k, (rd - kw) * 1000, ($3 - kw) * 1000, $5
			printf "%.0f\n", ($3 - kw) * 1000 > "/dev/stderr" }' "$E2E_TMP/m$k.txt" 2>>"$E2E_TMP/res.txt"
	else
		echo "kill $k: no sound found in take-$k.wav"
		tail -3 "$E2E_TMP/m$k.txt"
		echo 999999 >>"$E2E_TMP/res.txt"
	fi
done <"$E2E_TMP/kills.txt"
sort -n "$E2E_TMP/res.txt" | awk '{ v[NR] = $1; if ($1 <= 2000) ok++ } END {
	printf "sound again: median %.0f ms, max %.0f ms, %d of %d within 2 s\n",
	    (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR], ok, NR }'
echo "late bundles: $(e2e_late "$log")"
