#!/bin/bash
# attach: what attached consoles cost the running instrument, on the real
# daemon with its managed JACK dummy + scsynth (doc/attach.md).
#
#  1. keys: N keys (tempo nudges, source key) sent by a console client over
#     the control socket, 20 ms apart, in ROUNDS rounds; each key's time from
#     its send to the engine taking it (the event log's t on the engine's
#     clock), p50 / p99 / max per round.
#  2. consoles: the daemon's own CPU (utime + stime of its process, all its
#     threads, not jackd or scsynth) over SECONDS with no console, then with
#     10 consoles attached (tests/tools/attach_probe watch: the snapshot
#     stream an attached console gets), as % of one core; the consoles'
#     frame rate.
#  3. frozen: a one-step pattern at 50 BPM (swing 0.2, notes isolated) with
#     --record, run twice: without, then with a console attached that never
#     reads (a frozen terminal) for FROZEN seconds, while another console
#     counts its frames; the onsets of each recording against the local grid
#     (tests/tools/onset_match.py), the late bundles, the worker's lateness
#     and the other console's frame rate before and during.
#
# Usage: bench/attach.sh [N] [SECONDS] [FROZEN]   (defaults 300, 30, 60;
#        top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/cli/e2e_live_lib.sh"
e2e_require
keys=${1:-300}
secs=${2:-30}
frozen=${3:-60}
probe=$top_builddir/tests/tools/attach_probe
[ -x "$probe" ] || e2e_fail "$probe not built (make check)"
e2e_init bench-attach
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; e2e_cleanup' EXIT
sock=$E2E_TMP/control.sock
tck=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "attach bench: $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. key to engine
log=$E2E_TMP/keys.log
E2E_SETS=(--set mutation.enabled=false)
e2e_start "$log" --seed 5 --socket "$sock" --events "$E2E_TMP/keys.jsonl"
e2e_wait_log "$log" '"event":"control"'
for r in 1 2 3; do
	before=$(grep -c '"source":"key"' "$E2E_TMP/keys.jsonl" || true)
	"$probe" keys "$sock" "$keys" 20 >"$E2E_TMP/sent.$r"
	sleep 0.3
	/usr/bin/python3 - "$E2E_TMP/sent.$r" "$E2E_TMP/keys.jsonl" "$before" "$r" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
base = int(lines[0].split()[1])
sent = [int(l.split()[1]) for l in lines[1:] if l.startswith("sent")]
ev = [json.loads(l) for l in open(sys.argv[2])]
ev = [e for e in ev if e.get("type") == "param" and e.get("source") == "key"][int(sys.argv[3]):]
if len(ev) != len(sent):
    sys.exit("round %s: %d keys sent, %d in the event log" % (sys.argv[4], len(sent), len(ev)))
lat = sorted(base + round(e["t"] * 1e9) - s for e, s in zip(ev, sent))
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1e6
print("keys round %s: %d keys, send -> engine p50 %.3f ms, p99 %.3f ms, max %.3f ms"
      % (sys.argv[4], len(lat), q(0.5), q(0.99), lat[-1] / 1e6))
PY
done

# 2. ten consoles
c0=$(ticks "$E2E_PID"); t0=$(date +%s%N)
sleep "$secs"
c1=$(ticks "$E2E_PID"); t1=$(date +%s%N)
idle=$(awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" -v k="$tck" 'BEGIN { printf "%.2f", 100 * c / k / (t / 1e9) }')
for i in $(seq 10); do
	"$probe" watch "$sock" "$secs" >"$E2E_TMP/watch.$i" &
	pids+=($!)
done
sleep 0.5
c0=$(ticks "$E2E_PID"); t0=$(date +%s%N)
sleep "$((secs - 1))"
c1=$(ticks "$E2E_PID"); t1=$(date +%s%N)
wait "${pids[@]}"
pids=()
ten=$(awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" -v k="$tck" 'BEGIN { printf "%.2f", 100 * c / k / (t / 1e9) }')
echo "daemon CPU over ${secs} s: no console ${idle} %, 10 consoles ${ten} % of a core" \
	"(difference $(awk -v a="$ten" -v b="$idle" 'BEGIN { printf "%.2f", a - b }') %)"
echo "the 10 consoles' frame rates: $(cat "$E2E_TMP"/watch.* | awk '{ print $4 }' | tr '\n' ' ')"
e2e_stop

# 3. a frozen console, against the same run without one
e2e_isolated 50 0.2
seed=$(e2e_pick_seed)
for mode in without with; do
	log=$E2E_TMP/$mode.log
	E2E_PORT=$(e2e_free_port)
	e2e_start "$log" --seed "$seed" --socket "$sock" --record "$E2E_TMP/$mode.wav" \
		--events "$E2E_TMP/$mode.jsonl"
	e2e_wait_log "$log" '"event":"control"'
	"$probe" watch "$sock" 10 >"$E2E_TMP/fps.before"
	hold=
	if [ "$mode" = with ]; then
		"$probe" hold "$sock" &
		hold=$!
		pids+=($hold)
	fi
	"$probe" watch "$sock" "$frozen" >"$E2E_TMP/fps.during"
	dropped=$(grep -c 'does not read\|went away' "$log" || true)
	[ -z "$hold" ] || { kill "$hold"; wait "$hold" || true; }
	pids=()
	e2e_stop
	[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC"
	echo "--- $mode a console frozen for ${frozen} s (seed $seed, 50 BPM, swing 0.2, JACK dummy 48 kHz / 256)"
	echo "the other console: before $(cat "$E2E_TMP/fps.before"), during $(cat "$E2E_TMP/fps.during")"
	[ "$mode" = without ] || echo "clients dropped during the freeze: $dropped"
	python3 "$E2E_MATCH" --events "$E2E_TMP/$mode.jsonl" --wav "$E2E_TMP/$mode.wav" --log "$log" |
		grep -E '^(notes expected|global|local|on_time)' || true
	echo "late bundles: $(e2e_late "$log")"
	grep '"event":"worker_stats"' "$log" | sed 's/.*"msg":"\(.*\)"}/worker_stats: \1/'
done
