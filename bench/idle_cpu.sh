#!/bin/bash
# idle_cpu: what a silent instrument costs.  The daemon (--synth none,
# console detached, HTTP on but not read) runs with nothing due to sound:
# density 0, 20 BPM, one step a beat (a step every 3 s; what a paused or
# silent instrument does), mutation and idle off; after 4 s each of its
# threads is measured for SECONDS (default 30): CPU time (schedstat) in %
# of one core and wake-ups a second (times it was switched in).  With
# ME_BIN_BEFORE (another build) the two binaries alternate, ROUNDS (default
# 2) times each.  Extra arguments go to the program (e.g. --set
# sequencer.bpm=120 for the stepping-but-silent case).  With IDLE_SYNTH=sc
# the program is linked to a scsynth of its own (a private JACK dummy
# server and scsynth, tests/lib/audio.sh; --synth supercollider:HOST:PORT):
# the same silence with the link's control thread, the output meter's
# replies and the /status heartbeat (what bench/peers.sh calls me-still).
# Threads show by name (worker, synth-ctl, logger ...); a thread that did
# not wake is not listed.
# Usage: bench/idle_cpu.sh [SECONDS] [ROUNDS] [--set ...]   (ME_BIN = the program)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
secs=${1:-30}
rounds=${2:-2}
shift $(($# < 2 ? $# : 2))
bench_bins
bench_home
synth=(--synth none)
if [ "${IDLE_SYNTH:-none}" = sc ]; then
	bench_audio idle-cpu
	synth=(--synth "supercollider:127.0.0.1:$AUDIO_PORT")
fi

threads() {	# TID:NAME RUN_NS SWITCHES, one line per thread of $pid
	local t
	for t in /proc/"$pid"/task/*; do
		echo "${t##*/}:$(tr ' ' _ <"$t/comm") $(cut -d' ' -f1,3 "$t/schedstat" 2>/dev/null)"
	done | sort
}

one() {	# one BINARY [ARGS]
	local bin=$1 port
	shift
	port=$(bench_port)
	"$bin" --daemon -c "$tmp/empty.conf" "${synth[@]}" --midi-in none --led none \
		--http "127.0.0.1:$port" --set state.dir="$tmp/state" --seed 5 \
		--set sequencer.density=0 --set sequencer.bpm=20 --set sequencer.steps_per_beat=1 \
		--set mutation.enabled=false --set idle.timeout_ms=86400000 "$@" \
		>/dev/null 2>"$tmp/log" </dev/null &
	pid=$!
	sleep 4
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/log" >&2; echo "FAIL: $bin did not start" >&2; exit 1; }
	if [ "${synth[1]}" != none ] && ! grep -q 'synth.ready' "$tmp/log"; then
		cat "$tmp/log" >&2
		echo "FAIL: $bin did not link to scsynth within 4 s" >&2
		exit 1
	fi
	threads >"$tmp/a"
	sleep "$secs"
	threads >"$tmp/b"
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
	echo "$bin (load $(cut -d' ' -f1-3 /proc/loadavg)):"
	join "$tmp/a" "$tmp/b" | awk -v s="$secs" '{
		c = ($4 - $2) / s / 1e9 * 100; w = ($5 - $3) / s; tc += c; tw += w
		if (w > 0) printf "  %-24s cpu %.4f %%  wake-ups/s %.1f\n", $1, c, w
	} END { printf "  %-24s cpu %.4f %%  wake-ups/s %.1f\n", "total", tc, tw }'
}

echo "idle cpu: $(date -u +%Y-%m-%d), $(nproc) cores, ${secs} s per run, $rounds rounds; ${synth[*]}; args: $*"
for r in $(seq 1 "$rounds"); do
	for b in "${bins[@]}"; do
		one "$b" "$@"
	done
done
