#!/bin/bash
# live_stop: the audio server hangs or dies while the engine plays, run as
# the unprivileged test user; the sound comes back, as the engine's own
# output meter reports it (GET /state, timed by tests/tools/sound_check.py).
#  1. Managed stack: scsynth stopped (SIGSTOP) for 4 s, then continued: the
#     engine notices (its meter goes quiet), replaces the server, and sound
#     is back within 2 s of noticing; scsynth killed (SIGKILL): back within
#     2 s.  The log never repeats "already registered" (the re-registration
#     loop of a replaced server) and the link is connected at the end.
#  2. An external scsynth (--synth supercollider:HOST:PORT) stopped for 4 s,
#     then continued: the engine cannot replace it, so it waits; sound is
#     back within 2 s of the continue, the effects synth exists once (no
#     duplicate node) and nothing was started in its place.  Then another
#     client turns the effects synth's volume to 0 behind the engine's
#     back: the output is silent while notes play, which the engine finds
#     (the log says so) and mends by setting the server up again: sound
#     back within 2 s of noticing.
set -euo pipefail
. "${top_srcdir:-.}/tests/lib/audio.sh"
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
audio_require
e2e_init live-stop
check=(python3 "${top_srcdir:-.}/tests/tools/sound_check.py" --bound 2 --settle 1)
# recover LOG WHAT ARGS...: one sound_check.py cycle; on failure the log's
# lines and a FAIL line with the cycle's figures and the machine's load
recover() {
	local log=$1 what=$2 out
	shift 2
	out=$("${check[@]}" "$@" 2>&1) && { echo "$out"; return 0; }
	echo "$out"
	grep -v '"debug"' "$log" >&2
	e2e_fail "$what ($(grep '^cycle' <<<"$out" | tail -1); load $(cut -d' ' -f1-3 /proc/loadavg))"
}
# Dense playing: the meter always has notes to hear.
E2E_SETS=(--set sequencer.density=1 --set idle.timeout_ms=86400000)

state() {
	curl -s --max-time 2 "http://127.0.0.1:$1/state" | python3 -c "
import json, sys
d = json.load(sys.stdin)
print(d['links']['synth']['state'], d['sound']['state'], d['counters']['backend_restarts'])"
}

# 1. managed
http=$(audio_free_tcp_port) || e2e_fail "no free TCP port"
log="$E2E_TMP/managed.log"
e2e_start "$log" --http "127.0.0.1:$http"
e2e_wait_log "$log" '"event":"started"' 20
recover "$log" "managed: no sound within 2 s after a hung scsynth" \
	--http "$http" --sc-port "$E2E_PORT" --stop 4
recover "$log" "managed: no sound within 2 s after scsynth was killed" \
	--http "$http" --sc-port "$E2E_PORT" --kill
st=$(state "$http")
echo "managed at the end: link, sound, restarts: $st"
[ "${st%% *}" = connected ] || e2e_fail "managed: link $st at the end"
grep -q '"event":"synth.health".*restarting scsynth' "$log" ||
	e2e_fail "managed: the log does not say the sound check restarted scsynth"
n=$(grep -c 'already registered' "$log" || true)
[ "$n" -eq 0 ] || e2e_fail "managed: $n lines 'already registered' in the log"
e2e_stop
[ "$E2E_RC" -eq 0 ] || e2e_fail "managed: exit status $E2E_RC"
[ -z "$(e2e_leftovers)" ] || e2e_fail "$(e2e_leftovers)"

# 2. external
audio_start "$E2E_TMP"
http=$(audio_free_tcp_port) || e2e_fail "no free TCP port"
log="$E2E_TMP/external.log"
e2e_start "$log" --http "127.0.0.1:$http" --synth "supercollider:127.0.0.1:$AUDIO_PORT"
e2e_wait_log "$log" '"event":"started"' 20
recover "$log" "external: no sound within 2 s after the server continued" \
	--http "$http" --sc-port "$AUDIO_PORT" --stop 4 --external
recover "$log" "external: a silent output was not mended within 2 s" \
	--http "$http" --sc-port "$AUDIO_PORT" --mute 901
grep -q '"event":"synth.health".*is silent while notes should sound' "$log" ||
	e2e_fail "external: the log does not say the output was silent"
st=$(state "$http")
echo "external at the end: link, sound, restarts: $st"
[ "${st%% *}" = connected ] || e2e_fail "external: link $st at the end"
kill -0 "$AUDIO_SC_PID" || e2e_fail "external: the server is gone"
tree=$("$E2E_TOOLS/sc_probe" -p "$AUDIO_PORT" -t 500 status)
echo "external server: $tree"
grep -q 'duplicate node' "$AUDIO_SC_LOG" && e2e_fail "external: 'duplicate node ID' on the server"
e2e_stop
[ "$E2E_RC" -eq 0 ] || e2e_fail "external: exit status $E2E_RC"
[ -z "$(pgrep -f "^scsynth -u $E2E_PORT " || true)" ] ||
	e2e_fail "external: a scsynth was started in its place"
echo "live_stop: ok"
