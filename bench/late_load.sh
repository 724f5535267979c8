#!/bin/bash
# late_load: late bundles while the machine is busy.  Runs `stress-ng --cpu
# N` (default 2: every core of the Pi busy, at normal priority, no nice) for
# SECONDS (default 1800) while the live daemon plays on its managed audio
# stack (JACK dummy 48 kHz / 256 and scsynth), fed by random visitors on a
# pty (tests/tools/visitor.py: knob sweeps, button presses that play live
# notes, idle gaps), as the unprivileged test user (tests/lib/audio.sh
# audio_user) or, with "root", as root.  scsynth reports every bundle that
# reached it after its time ("late" on its standard output, counted by the
# engine: late_bundles_total); the bench prints that count every 5 minutes
# and at the end with the notes played, the worker's wake-up lateness and
# how the processes were scheduled.
# LATE_ARGS: more options for the engine (e.g. "--set synth.latency_ms=30").
# Usage: bench/late_load.sh [SECONDS [user|root [CPU_HOGS]]]   (top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/cli/e2e_live_lib.sh"
e2e_require
command -v stress-ng >/dev/null || e2e_fail "stress-ng not found: install the Debian package stress-ng"
secs=${1:-1800}
as=${2:-user}
hogs=${3:-2}
[ "$as" = root ] && E2E_AS_ROOT=1
e2e_init late
http=$(audio_free_tcp_port) || e2e_fail "no free TCP port"
log="$E2E_TMP/run.log"
pty="$E2E_TMP/midi"
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null; e2e_cleanup' EXIT

owner=()
[ "$(id -u)" -eq 0 ] && [ "$as" = user ] && owner=(--owner "$AUDIO_USER")
python3 "$top_srcdir/tests/tools/visitor.py" "$pty" "$((secs + 20))" --seed "${LATE_SEED:-1}" \
	--idle-max 20 "${owner[@]}" >"$E2E_TMP/visitor.out" 2>&1 &
for _ in $(seq 1 100); do [ -L "$pty" ] && break; sleep 0.05; done
# shellcheck disable=SC2086
e2e_start "$log" --http "127.0.0.1:$http" --midi-in "raw:$pty" --set logging.level="${LATE_LOG_LEVEL:-warn}" \
	${LATE_ARGS:-}
e2e_wait_log "$log" '"event":"started"' 30
sleep 2
stress-ng --cpu "$hogs" --timeout "$((secs + 5))s" --quiet &
spid=$!

metric() { curl -s --max-time 5 "http://127.0.0.1:$http/metrics" |
	awk -v k="mystery_engine_$1" '$1 == k { print $2; exit }'; }
sched() {	# scheduling class, real-time priority and nice of each sound thread
	local p name
	for name in mystery-engine jackd scsynth; do
		for p in $(pgrep -f "^[^ ]*$name( |$)" || true); do
			grep -qa -- "$E2E_PORT\|$E2E_JACK\|$http" "/proc/$p/cmdline" 2>/dev/null || continue
			printf '%s: %s; ' "$name" "$(ps -L -o cls=,rtprio=,ni= -p "$p" |
				awk '{ k = $1 "/" $2 "/" $3; n[k]++ } END { for (k in n) printf "%dx %s ", n[k], k }')"
		done
	done
	echo
}
echo "late_load: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), ${secs} s," \
	"stress-ng --cpu $hogs (nice 0), engine as $as ${LATE_ARGS:-}"
echo "threads (count x class/rtprio/nice): $(sched)"
t0=$(date +%s)
while :; do
	left=$((secs - ($(date +%s) - t0)))
	[ "$left" -gt 0 ] || break
	sleep $((left < 300 ? left : 300))
	e2e_alive "$E2E_PID" || e2e_fail "the engine died"
	printf '%5d s: late bundles %s of %s sent, notes %s, load %s\n' "$(($(date +%s) - t0))" \
		"$(metric late_bundles_total)" "$(metric bundles_sent_total)" \
		"$(metric notes_played_total)" "$(cut -d' ' -f1 /proc/loadavg)"
done
late=$(metric late_bundles_total)
sent=$(metric bundles_sent_late_total)
kill "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
spid=
e2e_stop
[ -n "${LATE_KEEP_LOG:-}" ] && cp "$log" "$LATE_KEEP_LOG"
grep -h '"event":"synth.lead"' "$log" | head -1 | sed 's/.*"msg":"\(.*\)"}/lead: \1/'
grep '"event":"worker_stats"' "$log" | sed 's/.*"msg":"\(.*\)"}/worker_stats: \1/'
grep '"event":"synth_stats"' "$log" | sed 's/.*"msg":"\(.*\)"}/synth_stats: \1/'
cat "$E2E_TMP/visitor.out"
echo "result: $late late bundles in $secs s under stress-ng --cpu $hogs as $as (sent late by the worker: $sent)"
