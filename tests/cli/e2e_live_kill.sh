#!/bin/bash
# e2e_live_kill: scsynth killed with SIGKILL while the real binary plays and
# records.  An operator would notice: the log says the server died and came
# back (one restart), the music sounds again within 2 s of the kill (the
# recording goes on in TAKE-1.wav: the first note heard there, matched to
# the event log, is timed against the moment of the kill), and SIGTERM then
# ends the program with status 0 within 2 s, leaving no scsynth, no jackd
# and no /dev/shm segment.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
# Sample accuracy needs jackd's real-time scheduling.  The installation's
# unit grants its user LimitRTPRIO; an unprivileged user here cannot get it
# (hard limit 0 and no CAP_SYS_RESOURCE to raise it), and without it the
# JACK dummy driver's timer jitters by tens of samples under the others'
# load.  So this check runs as root; tests/cli/live_user.sh and
# live_stop.sh run the live path as an unprivileged user.
E2E_AS_ROOT=1
e2e_init e2e-kill

# 80 BPM, one step per beat: a note every 750 ms, isolated.
e2e_isolated 80 0
seed=$(e2e_pick_seed)
log="$E2E_TMP/run.log"
wav="$E2E_TMP/take.wav"
ev="$E2E_TMP/ev.jsonl"

e2e_start "$log" --seed "$seed" --record "$wav" --events "$ev"
e2e_wait_log "$log" '"event":"started"'
sleep 2.3
sc=$(pgrep -f "^scsynth -u $E2E_PORT " || true)
[ -n "$sc" ] || e2e_fail "no scsynth on port $E2E_PORT"
kill_wall=$(date +%s.%N)
kill -9 $sc
echo "killed scsynth (pid $sc) with SIGKILL"
e2e_wait_log "$log" '"event":"synth.ready".*\(1 restarts\)' 10
sleep 3
e2e_stop
grep -E '"event":"synth\.(exit|lost|ready|record)"' "$log" | sed 's/.*"event":"\([^"]*\)","msg":"\(.*\)"}/\1: \2/'
grep -q '"event":"synth.exit".*signal 9' "$log" || e2e_fail "the log does not report the kill"
grep -q '"event":"synth.lost"' "$log" || e2e_fail "the log does not report the lost server"

[ -s "$E2E_TMP/take-1.wav" ] || e2e_fail "no take-1.wav: the recording did not go on after the restart"
rms=$(e2e_rms "$E2E_TMP/take-1.wav")
echo "take-1.wav RMS $rms (sox)"
awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }' || e2e_fail "take-1.wav is silent (RMS $rms)"
python3 "$E2E_MATCH" --events "$ev" --wav "$E2E_TMP/take-1.wav" --log "$log" --part 1 \
	--min-notes 2 --min-share 0.9 >"$E2E_TMP/match.txt" ||
	{ cat "$E2E_TMP/match.txt"; e2e_fail "the notes after the restart are off the grid"; }
grep -E '^(clock|fit|notes|local|on_time|first_sound)' "$E2E_TMP/match.txt"
back=$(awk -v k="$kill_wall" '/^first_sound/ { printf "%.0f", ($3 - k) * 1000 }' "$E2E_TMP/match.txt")
[ -n "$back" ] || e2e_fail "no first sound after the restart"
echo "sound again ${back} ms after the kill"
[ "$back" -ge 0 ] && [ "$back" -le 2000 ] || e2e_fail "sound again after $back ms (want <= 2000)"

echo "SIGTERM: exit status $E2E_RC after $E2E_STOP_MS ms"
[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC after SIGTERM"
[ "$E2E_STOP_MS" -le 2000 ] || e2e_fail "SIGTERM took $E2E_STOP_MS ms (want <= 2000)"
left=$(e2e_leftovers)
[ -z "$left" ] || e2e_fail "$left"
echo "e2e_live_kill: ok"
