#!/bin/bash
# e2e_live_sigterm: SIGTERM while long notes sound.
#  1. On an external scsynth (--synth supercollider:127.0.0.1:PORT, a
#     private server started here from tests/lib/audio.sh, which outlives
#     the program): the program exits 0 within 2 s, no voice sounds right
#     after the exit (the effect synth may stay until the bundles already
#     sent have played: it is freed in a bundle timetagged after the last of
#     them), and 0.5 s later, past any note scheduled ahead, the server is
#     left with no synth of ours: no voice, no effect synth, no group (only
#     the root group).
#  2. On the managed stack: exit 0 within 2 s, no scsynth, no jackd and no
#     /dev/shm segment left behind.
set -euo pipefail
. "${top_srcdir:-.}/tests/lib/audio.sh"
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
audio_require
e2e_init e2e-term

# Long notes: one step per beat at 40 BPM, each held 0.75..3 s.
E2E_SETS=(--set sequencer.bpm=40 --set sequencer.steps_per_beat=1 --set sequencer.density=1
	--set sequencer.steps=4 --set mutation.enabled=false --set idle.timeout_ms=86400000)

status_of() {
	"$E2E_TOOLS/sc_probe" -p "$AUDIO_PORT" -t 500 status || e2e_fail "the external scsynth does not answer"
}
field() {
	sed -n "s/.* $1=\([0-9]*\) .*/\1/p" <<<"$2"
}

managed_status() {
	"$E2E_TOOLS/sc_probe" -p "$E2E_PORT" -t 500 status || e2e_fail "the managed scsynth does not answer"
}
# Waits (up to 5 s) until the server holds a voice besides the effect synth
# (a server busy starting up on a loaded machine may not answer at once).
sounding() {
	local s i
	for i in $(seq 1 50); do
		s=$("$1" 2>/dev/null) || s=
		if [ "$(field synths "$s")" -ge 2 ] 2>/dev/null; then
			echo "$2, while playing: $s"
			return 0
		fi
		sleep 0.1
	done
	e2e_fail "no voice sounding before SIGTERM: $s"
}

# 1. external server
audio_start "$E2E_TMP"
before=$(status_of)
echo "external scsynth on port $AUDIO_PORT before: $before"
log="$E2E_TMP/ext.log"
e2e_start "$log" --seed 3 --synth "supercollider:127.0.0.1:$AUDIO_PORT"
e2e_wait_log "$log" '"event":"started"'
e2e_wait_log "$log" '"event":"synth.ready"' 30
sounding status_of "external"
e2e_stop
echo "SIGTERM: exit status $E2E_RC after $E2E_STOP_MS ms"
[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC after SIGTERM"
[ "$E2E_STOP_MS" -le 2000 ] || e2e_fail "SIGTERM took $E2E_STOP_MS ms (want <= 2000)"
after=$(status_of)
sleep 0.5
later=$(status_of)
echo "after exit: $after"
echo "0.5 s later: $later"
[ "$(field synths "$after")" -le 1 ] || e2e_fail "voices still sounding after the exit: $after"
[ "$(field synths "$later")" -eq 0 ] || e2e_fail "synths left on the server: $later"
[ "$(field groups "$later")" -eq 1 ] || e2e_fail "groups left on the server: $later"
[ -z "$(pgrep -f "^scsynth -u $E2E_PORT " || true)" ] ||
	e2e_fail "a scsynth was started although the server is external"
audio_stop

# 2. managed stack
log="$E2E_TMP/managed.log"
e2e_start "$log" --seed 3
e2e_wait_log "$log" '"event":"started"'
e2e_wait_log "$log" '"event":"synth.ready"' 30
sounding managed_status "managed"
e2e_stop
echo "SIGTERM: exit status $E2E_RC after $E2E_STOP_MS ms"
[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC after SIGTERM"
[ "$E2E_STOP_MS" -le 2000 ] || e2e_fail "SIGTERM took $E2E_STOP_MS ms (want <= 2000)"
grep -q '"event":"worker_stats"' "$log" || e2e_fail "no worker_stats line at exit"
left=$(e2e_leftovers)
[ -z "$left" ] || e2e_fail "$left"
echo "e2e_live_sigterm: ok"
