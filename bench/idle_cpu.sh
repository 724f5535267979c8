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
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
secs=${1:-30}
rounds=${2:-2}
shift $(($# < 2 ? $# : 2))
bins=("${ME_BIN:-$top_builddir/mystery-engine}")
[ -n "${ME_BIN_BEFORE:-}" ] && bins+=("$ME_BIN_BEFORE")
for b in "${bins[@]}"; do
	[ -x "$b" ] || { echo "FAIL: $b is not built" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "FAIL: python3 missing (apt-get install python3)" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
synth=(--synth none)
if [ "${IDLE_SYNTH:-none}" = sc ]; then
	export top_builddir
	# a client killed before it unregisters keeps its login: room for all runs
	AUDIO_SC_LOGINS=64
	AUDIO_JACK_PREFIX=idle-cpu
	. "$top_srcdir/tests/lib/audio.sh"
	chmod 755 "$tmp"
	trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; audio_stop; rm -rf "$tmp"' EXIT
	audio_require
	audio_start "$tmp"
	synth=(--synth "supercollider:127.0.0.1:$AUDIO_PORT")
else
	trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fi
# the control socket too is the run's own (another instance may hold the default one)
export HOME=$tmp XDG_CONFIG_HOME=$tmp XDG_STATE_HOME=$tmp/xdg XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$tmp/run"
: >"$tmp/empty.conf"

threads() {	# TID:NAME RUN_NS SWITCHES, one line per thread of $pid
	local t
	for t in /proc/"$pid"/task/*; do
		echo "${t##*/}:$(tr ' ' _ <"$t/comm") $(cut -d' ' -f1,3 "$t/schedstat" 2>/dev/null)"
	done | sort
}

one() {	# one BINARY [ARGS]
	local bin=$1 port
	shift
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
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
