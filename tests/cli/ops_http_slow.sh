#!/bin/bash
# ops_http_slow: the HTTP API of the real daemon, run as an unprivileged
# user, against what froze or locked it out before.  An operator would
# notice: a FIFO named like a preset is refused within 1 s and the API
# keeps answering (before, every later request hung); a preset that is a
# symbolic link out of the presets folder is refused; while 100 slow
# clients trickle requests a byte every 2 s, every /state and /metrics of
# the operator's is answered (before: locked out beyond 16 per address);
# a failed preset save says why; SIGTERM stops it within 2 s with the slow
# clients still connected.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/ops_lib.sh"
ops_init
slow="/usr/bin/python3 $OPS_TOOLS/http_slow.py"
prom="/usr/bin/python3 $OPS_TOOLS/prom_check.py"

ops_start --set api.allow_control=true --set api.max_writes_per_s=100
presets=$OPS_WORK/state/presets
code() {	# code METHOD PATH: the status; the body in $OPS_WORK/body
	curl -s -m 10 -o "$OPS_WORK/body" -w '%{http_code}' -X "$1" "$OPS_BASE$2"
}

# A good preset to start from, saved over HTTP.
[ "$(code POST /presets/good/save)" = 200 ] || ops_fail "save: $(cat "$OPS_WORK/body")"
[ -f "$presets/good.preset" ] || ops_fail "the saved preset is not in $presets"

# A FIFO under a preset's name: an error at once, nothing hangs.
ops_as mkfifo "$presets/fifo.preset"
t0=$(date +%s%N)
c=$(code POST /presets/fifo/load)
ms=$((($(date +%s%N) - t0) / 1000000))
echo "FIFO preset: $c in $ms ms: $(cat "$OPS_WORK/body")"
[ "$c" = 422 ] || ops_fail "a FIFO preset answered $c"
grep -q 'a FIFO' "$OPS_WORK/body" || ops_fail "the refusal does not say it is a FIFO"
[ "$ms" -lt 1000 ] || ops_fail "the FIFO preset took $ms ms to refuse (at most 1000)"
[ "$(code GET /state)" = 200 ] || ops_fail "/state after the FIFO preset"
[ "$(code POST /presets/good/load)" = 200 ] || ops_fail "a good preset after the FIFO one"

# A symbolic link out of the folder is not followed.
mkdir "$OPS_WORK/outside"
cp "$presets/good.preset" "$OPS_WORK/outside/evil.preset"
ops_as ln -s "$OPS_WORK/outside/evil.preset" "$presets/evil.preset"
[ "$(code POST /presets/evil/load)" = 422 ] || ops_fail "a linked preset was loaded"
grep -q 'symbolic link' "$OPS_WORK/body" || ops_fail "the refusal does not name the link"

# 100 slow clients for 6 s (each closed after 2 s, the server's limit, and
# opened again at once); the operator's requests, 10 of /state and 10 of
# /metrics in turn, are all answered meanwhile, and no slow client is.
out=$($slow "$OPS_PORT" 100 6 --probe /state --probe /metrics --probes 20) ||
	ops_fail "/state or /metrics failed: $out"
echo "/state and /metrics with 100 slow clients: $out"
case "$out" in *" answered 0 "*) ;; *) ops_fail "a slow client got an answer: $out" ;; esac
curl -sf "$OPS_BASE/metrics" >"$OPS_WORK/metrics" || ops_fail "/metrics after the slow clients"
timeouts=$($prom --value 'mystery_engine_http_connections_closed_total{reason="timeout"}' \
	"$OPS_WORK/metrics")
echo "connections closed for slowness: $timeouts"
[ "$timeouts" -ge 100 ] || ops_fail "only $timeouts slow connections were closed"

# A save that cannot be written says why, over HTTP and in the log.
chmod 555 "$presets"
c=$(code POST /presets/later/save)
chmod 755 "$presets"
echo "save into a read-only folder: $c $(cat "$OPS_WORK/body")"
if [ "$(id -u)" -ne 0 ] || [ ${#OPS_RUN[@]} -gt 0 ]; then
	[ "$c" = 500 ] || ops_fail "a save into a read-only folder answered $c"
	grep -q 'Permission denied' "$OPS_WORK/body" || ops_fail "the save error gives no reason"
	grep -q 'preset later not saved' "$OPS_WORK/err" || ops_fail "the failed save is not logged"
fi

# Stopping with slow clients connected: SIGTERM once the server holds all
# 100 (the gauge counts the scrape's own connection too; 1.5 s at most, as
# before), all still within their 2 s to send a whole request.
$slow "$OPS_PORT" 100 30 --probes 1 >/dev/null 2>&1 &
slow_pid=$!
slow_held() {
	curl -sf "$OPS_BASE/metrics" >"$OPS_WORK/metrics" &&
		[ "$($prom --value mystery_engine_http_connections "$OPS_WORK/metrics")" -gt 100 ]
}
ops_until 1500 slow_held || true
ops_stop
kill "$slow_pid" 2>/dev/null || true
wait "$slow_pid" 2>/dev/null || true
echo "PASS: FIFO and linked presets refused at once, 100 slow clients, save errors, stop"
