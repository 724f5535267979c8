#!/bin/bash
# stop_recovery: a hung audio server, TIMES times (default 10) each, while
# the live daemon plays as the unprivileged test user (tests/lib/audio.sh
# audio_user; root with E2E_AS_ROOT=1), measured by the engine's own output
# meter (GET /state, tests/tools/sound_check.py):
#   * managed stack, scsynth stopped (SIGSTOP) for STOP seconds (default 5):
#     when the engine notices, and when the sound is back after that;
#   * managed stack, scsynth killed (SIGKILL): the same;
#   * an external scsynth (--synth supercollider:127.0.0.1:PORT) stopped
#     for STOP seconds: when the engine notices, and when the sound is back
#     after the server was continued (the engine cannot replace a server it
#     did not start);
#   * that external scsynth killed (SIGKILL) and started again on its port
#     by the bench as soon as the engine noticed (standing in for whatever
#     supervises it): when the sound is back after the new server answers.
# Each line: a cycle; each case ends with "back: median, max, K of N within
# 2 s".  Cycles start 31..46 s after the sound came back, so that each is a
# new incident: the sound check starts its ladder over after 30 s of
# health (a hang soon after the last one is met one step further, with a
# restart of the whole stack; doc/live.md).
# CASES=managed or CASES=external runs only those.  The engine and its
# stack run at the unit's Nice=-10 (as root; ME_TEST_NICE=0 for comparison).
# Usage: bench/stop_recovery.sh [TIMES [STOP]]   (top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/lib/audio.sh"
. "$top_srcdir/tests/cli/e2e_live_lib.sh"
e2e_require
audio_require
times=${1:-10}
stop=${2:-5}
e2e_init bench-stop
E2E_SETS=(--set sequencer.density=1 --set idle.timeout_ms=86400000)
check=(python3 "$top_srcdir/tests/tools/sound_check.py" --bound 2 --settle 31 --times "$times")
echo "stop_recovery: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r)," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), JACK dummy 48 kHz / 256, engine as" \
	"$([ -n "${E2E_AS[*]}" ] && echo "$AUDIO_USER" || echo root), nice ${AUDIO_NICE:-$(nice)}"
cases=${CASES:-all}
case $cases in all | managed | external) ;; *) e2e_fail "CASES=$cases: all, managed or external" ;; esac

if [ "$cases" != external ]; then
http=$(audio_free_tcp_port) || e2e_fail "no free TCP port"
e2e_start "$E2E_TMP/managed.log" --http "127.0.0.1:$http"
e2e_wait_log "$E2E_TMP/managed.log" '"event":"started"' 30
echo "== managed, SIGSTOP $stop s"
"${check[@]}" --http "$http" --sc-port "$E2E_PORT" --stop "$stop" || true
echo "== managed, SIGKILL"
"${check[@]}" --http "$http" --sc-port "$E2E_PORT" --kill || true
e2e_stop
echo "'already registered' lines in the log: $(grep -c 'already registered' "$E2E_TMP/managed.log" || true)"
fi
[ "$cases" != managed ] || exit 0

audio_start "$E2E_TMP"
http=$(audio_free_tcp_port) || e2e_fail "no free TCP port"
e2e_start "$E2E_TMP/external.log" --http "127.0.0.1:$http" \
	--synth "supercollider:127.0.0.1:$AUDIO_PORT"
e2e_wait_log "$E2E_TMP/external.log" '"event":"started"' 30
echo "== external, SIGSTOP $stop s"
"${check[@]}" --http "$http" --sc-port "$AUDIO_PORT" --stop "$stop" --external || true
echo "== external, SIGKILL, started again"
restart="rm -f /dev/shm/SuperColliderServer_$AUDIO_PORT; JACK_DEFAULT_SERVER=$AUDIO_JACK"
restart+=" JACK_NO_START_SERVER=1 SC_JACK_DEFAULT_OUTPUTS= SC_JACK_DEFAULT_INPUTS="
restart+=" setsid scsynth -u $AUDIO_PORT -i 0 -o 2 -D 0 -R 0 -l 4 >>$E2E_TMP/scsynth2.log 2>&1"
restart+=" </dev/null &"
"${check[@]}" --http "$http" --sc-port "$AUDIO_PORT" --kill --external --restart "$restart" || true
e2e_stop
echo "'already registered' lines in the log: $(grep -c 'already registered' "$E2E_TMP/external.log" || true)"
audio_stop
