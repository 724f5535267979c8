#!/bin/bash
# The worker sleeps until something is due, and still answers at once:
# the daemon (as the unprivileged test user) plays one step every 3 s
# (20 BPM, one step per beat), so the worker's next deadline is seconds
# away.  A value written over HTTP shows in /state read straight after,
# every time (the snapshot is made fresh on the reader's request, the
# write rang the worker's doorbell); the log's worker_stats line counts
# the worker's loops over the run: a handful per second (steps,
# requests), where a fixed 10 ms period would give 100; and while nobody
# asks for anything it wakes only for its steps.
set -euo pipefail
top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/cli/ops_lib.sh"
ops_init

ops_start --set sequencer.bpm=20 --set sequencer.steps_per_beat=1 \
	--set api.allow_control=true --set api.max_writes_per_s=50 --seed 3
t0=$(date +%s%N)
sleep 1

value() {	# /state's value of a parameter
	curl -sf "$OPS_BASE/state" | /usr/bin/python3 -c \
		"import json, sys; print(json.load(sys.stdin)['params']['$1']['value'])"
}
for v in 0.11 0.42 0.07 0.93 0.5; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "$v" \
		"$OPS_BASE/params/reverb_mix")
	[ "$code" = 200 ] || ops_fail "POST /params/reverb_mix $v: HTTP $code"
	got=$(value reverb_mix)
	/usr/bin/python3 -c "import sys; sys.exit(abs($got - $v) > 1e-6)" ||
		ops_fail "/state straight after writing reverb_mix $v says $got"
done

# Then nobody asks for anything: the worker wakes for the steps (one every
# 3 s) and for nothing else; no heartbeat on a clock without a watchdog
# (a 1 s one would add 9).  Its sleeps are its voluntary context switches.
worker_sleeps() {
	local t
	for t in /proc/"$OPS_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = worker ] || continue
		awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "$t/status"
		return 0
	done
	ops_fail "no thread named worker in $OPS_PID"
}
quiet=9
s0=$(worker_sleeps)
sleep "$quiet"
s1=$(worker_sleeps)
woke=$((s1 - s0))
echo "quiet ${quiet} s: the worker woke $woke times"
[ "$woke" -le $((quiet / 3 + 3)) ] ||
	ops_fail "the worker woke $woke times in ${quiet} s of silence (steps every 3 s: about $((quiet / 3)))"
ops_stop
secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
line=$(grep '"event":"worker_stats"' "$OPS_WORK/err" || true)
[ -n "$line" ] || ops_fail "no worker_stats line in the log"
loops=$(sed 's/.*loops \([0-9]*\).*/\1/' <<<"$line")
# steps (~5), the requests (~15), start and stop
limit=$(awk -v s="$secs" 'BEGIN { printf "%d", 10 * s + 20 }')
[ "$loops" -le "$limit" ] ||
	ops_fail "the worker looped $loops times in $secs s (at most $limit; a 10 ms period: 100 a second)"
echo "PASS: /state fresh after each of 5 writes; $loops worker loops in $secs s"
