#!/bin/bash
# midi_latency: MIDI byte arrival to OSC bundle sent, through the real
# binary.  A pty stands in for the Teensy (tests/tools/e2e_teensy.py); the
# engine runs with the real audio backend when jackd and scsynth are
# installed (--synth supercollider: its own JACK dummy server and scsynth on
# a private name and UDP port), else with --synth none, and says so.  Each
# run plays a seeded script of MESSAGES CCs and notes (controllers 21, 22,
# 23, 25 and one note on 60..71 in ten) at random gaps of 0.5..5 ms, stops
# the engine with SIGTERM and reads midi_to_send p50/p99 from its
# worker_stats log line: the input thread's CLOCK_MONOTONIC stamp right after
# read() to the moment the worker has handed the events to every sink (after
# the synth's sendto()).  Prints a table of the runs and the median p50,
# median p99 and max p99.  Target: p99 under 1 ms.
#
# Usage: bench/midi_latency.sh [RUNS (5)] [MESSAGES (2000)]
# Environment: ME_BIN (./mystery-engine), top_srcdir (the script's tree),
# SYNTH=none forces the silent backend.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=${top_srcdir:-$here}
ME_BIN=${ME_BIN:-./mystery-engine}
runs=${1:-5}
msgs=${2:-2000}
teensy="$top_srcdir/tests/tools/e2e_teensy.py"
conf="$top_srcdir/conf/mystery-engine.conf"
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }
[ -x "$ME_BIN" ] || { echo "$ME_BIN not built (set ME_BIN)" >&2; exit 1; }

backend=supercollider
if [ "${SYNTH:-}" = none ]; then
	backend=none
elif ! command -v jackd >/dev/null || ! command -v scsynth >/dev/null; then
	echo "note: jackd or scsynth missing: the real audio backend is not available," \
		"measuring with --synth none"
	backend=none
fi

tmp=$(mktemp -d)
epid= tpid= port=
cleanup() {
	[ -n "$epid" ] && kill -9 "$epid" 2>/dev/null || true
	exec 3>&-
	[ -n "$tpid" ] && { kill "$tpid" 2>/dev/null || true; wait "$tpid" 2>/dev/null || true; }
	[ -n "$port" ] && rm -f "/dev/shm/SuperColliderServer_$port"
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket
for fam in (socket.SOCK_DGRAM,):
    s = socket.socket(socket.AF_INET, fam); s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])'
}

# The script: seeded, the same for every run.
python3 - "$tmp/script.txt" "$msgs" <<'EOF'
import random, sys
r = random.Random(1124)
t = 0.3
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        t += r.uniform(0.0005, 0.005)
        if r.random() < 0.1:
            f.write("%.6f on 1 %d %d\n" % (t, r.randint(60, 71), r.randint(40, 120)))
        else:
            f.write("%.6f cc 1 %d %d\n" % (t, r.choice((21, 22, 23, 25)), r.randint(0, 127)))
EOF

printf '%-4s %-14s %7s %9s %9s %12s %12s\n' run backend n p50_us p99_us late_p99_us ready
results=()
for run in $(seq 1 "$runs"); do
	rm -f "$tmp/ctl" "$tmp/midi"
	mkfifo "$tmp/ctl"
	python3 "$teensy" --midi "$tmp/midi" <"$tmp/ctl" >"$tmp/teensy.out" 2>&1 &
	tpid=$!
	exec 3>"$tmp/ctl"
	synth_args=(--synth none)
	if [ "$backend" = supercollider ]; then
		port=$(free_port)
		synth_args=(--synth supercollider --set "synth.port=$port"
			--set "synth.jack_name=me-lat-$$-$run" --set synth.jack_driver=dummy)
	fi
	"$ME_BIN" --daemon --http off --seed "$run" -c "$conf" "${synth_args[@]}" \
		--midi-in "raw:$tmp/midi" --led none 2>"$tmp/engine.err" &
	epid=$!
	ready=n/a
	for _ in $(seq 1 500); do
		grep -q '"event":"started"' "$tmp/engine.err" && break
		sleep 0.02
	done
	if [ "$backend" = supercollider ]; then
		ready=no
		for _ in $(seq 1 250); do
			grep -q '"event":"synth.ready"' "$tmp/engine.err" && { ready=yes; break; }
			sleep 0.02
		done
	fi
	echo "wait_connected 5" >&3
	echo "script $tmp/script.txt" >&3
	for _ in $(seq 1 3000); do
		grep -q '^script ' "$tmp/teensy.out" && break
		grep -q '^error\|^timeout' "$tmp/teensy.out" && break
		sleep 0.01
	done
	grep -q '^script ' "$tmp/teensy.out" || { cat "$tmp/teensy.out" "$tmp/engine.err" >&2; exit 1; }
	sleep 0.3
	kill -TERM "$epid"
	rc=0
	wait "$epid" || rc=$?
	epid=
	echo quit >&3
	exec 3>&-
	wait "$tpid" || true
	tpid=
	[ "$rc" -eq 0 ] || { tail -5 "$tmp/engine.err" >&2; echo "run $run: the engine exited $rc" >&2; exit 1; }
	[ -n "$port" ] && rm -f "/dev/shm/SuperColliderServer_$port"
	line=$(grep '"event":"worker_stats"' "$tmp/engine.err") ||
		{ echo "run $run: no worker_stats line" >&2; exit 1; }
	n=$(sed -n 's/.*midi_to_send_n \([0-9]*\).*/\1/p' <<<"$line")
	p50=$(sed -n 's/.*midi_to_send_p50_us \([0-9.]*\).*/\1/p' <<<"$line")
	p99=$(sed -n 's/.*midi_to_send_p99_us \([0-9.]*\).*/\1/p' <<<"$line")
	late=$(sed -n 's/.*lateness_p99_us \([0-9.]*\).*/\1/p' <<<"$line")
	printf '%-4s %-14s %7s %9s %9s %12s %12s\n' "$run" "$backend" "$n" "$p50" "$p99" "$late" "$ready"
	results+=("$p50 $p99")
done

printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
p50 = statistics.median(r[0] for r in rows)
p99 = statistics.median(r[1] for r in rows)
worst = max(r[1] for r in rows)
print("median p50 %.1f us, median p99 %.1f us, max p99 %.1f us over %d runs" %
      (p50, p99, worst, len(rows)))
print("target p99 < 1000 us: %s" % ("met" if worst < 1000 else "NOT met"))'
