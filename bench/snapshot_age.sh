#!/bin/bash
# snapshot_age: how old the snapshot is that a reader gets.  The daemon
# (--synth none, 120 BPM in sixteenths) serves /state; a client reads it
# 30 times a second (the console's frame rate) for SECONDS (default 20) and
# for each read takes d = (its monotonic clock at the answer) - uptime_s of
# the snapshot.  d is the snapshot's age plus a constant (the two clocks'
# offset), so d - min(d) is how much older than the freshest read each read
# was: its p50, p99 and max are printed, with the worker's loops and
# wake-up lateness (worker_stats) and the process's CPU time.  With
# ME_BIN_BEFORE (another build) the two binaries are measured one after the
# other, ROUNDS (default 2) times each.
# Usage: bench/snapshot_age.sh [SECONDS] [ROUNDS]   (ME_BIN = the program)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
secs=${1:-20}
rounds=${2:-2}
bench_bins
bench_home

one() {	# one BINARY
	local port log=$tmp/log
	port=$(bench_port)
	"$1" --daemon -c "$top_srcdir/conf/mystery-engine.conf" --synth none --midi-in none \
		--led none --http "127.0.0.1:$port" --set state.dir="$tmp/state" --seed 5 \
		--set sequencer.bpm=120 >/dev/null 2>"$log" </dev/null &
	pid=$!
	python3 - "$port" "$secs" <<'PY' >"$tmp/ages"
import json, sys, time, urllib.request
port, secs = int(sys.argv[1]), float(sys.argv[2])
url = "http://127.0.0.1:%d/state" % port
end = time.monotonic() + 30
while time.monotonic() < end:
    try:
        urllib.request.urlopen(url, timeout=1).read()
        break
    except OSError:
        time.sleep(0.1)
d = []
t_next = time.monotonic()
end = t_next + secs
while t_next < end:
    body = urllib.request.urlopen(url, timeout=2).read()
    d.append(time.monotonic() - json.loads(body)["uptime_s"])
    t_next += 1 / 30
    time.sleep(max(0, t_next - time.monotonic()))
m = min(d)
a = sorted((x - m) * 1000 for x in d)
print("reads %d age_p50_ms %.2f age_p99_ms %.2f age_max_ms %.2f" % (
    len(a), a[len(a) // 2], a[int(len(a) * 0.99)], a[-1]))
PY
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
	local stats
	stats=$(grep '"event":"worker_stats"' "$log" | sed 's/.*"msg":"\(.*\)"}/\1/')
	printf '%s: %s; worker %s\n' "$1" \
		"$(cat "$tmp/ages")" "$(cut -d' ' -f1-8 <<<"$stats")"
}

echo "snapshot age: $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${secs} s of /state at 30 reads a second"
for r in $(seq 1 "$rounds"); do
	for b in "${bins[@]}"; do
		one "$b"
	done
done
