#!/bin/bash
# Closing the terminal (the SSH session's pane killed: SIGHUP and a hung-up
# tty) of a foreground instance on the managed audio stack, run as the
# unprivileged test user, ends it cleanly: the program, its jackd and
# scsynth are gone, no /dev/shm segment and no JACK semaphore is left, the
# control socket is removed and the log says it stopped on the hang-up.
# Before that, the same hang-up of a console attached to it only detaches:
# the instance plays on (its note count keeps rising).
# Every step waits for what it needs (a socket, a log line, a file, a
# process gone) up to a generous deadline, never for a fixed time: a busy
# machine makes it slower, not wrong.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
command -v tmux >/dev/null || e2e_fail "tmux is needed (apt-get install tmux)"
e2e_init hangup
tsock="me-hup-$$"
trap 'tmux -L "$tsock" kill-server 2>/dev/null || true; e2e_cleanup' EXIT
log=$E2E_TMP/me.log
ctl_sock=$E2E_TMP/control.sock
printf 'set -g status off\n' >"$E2E_TMP/tmux.conf"

# wait_for SECS WHAT CMD...: run CMD until it succeeds; after SECS seconds
# of wall-clock time fail with "WHAT"
wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || e2e_fail "$what (waited ${secs} s)"
		sleep 0.1
	done
}
in_log() { grep -q -- "$1" "$log" 2>/dev/null; }
shm_there() { [ -e "/dev/shm/SuperColliderServer_$E2E_PORT" ]; }
# JACK's semaphores and shared memory for the server E2E_JACK:
# /dev/shm/jack_sem.UID_NAME_CLIENT, /dev/shm/jack_NAME_UID_N
jack_shm() { (cd /dev/shm && ls -d "jack_sem."*"_${E2E_JACK}_"* "jack_${E2E_JACK}_"* 2>/dev/null) || true; }
notes_played() {
	"$E2E_BIN" ctl -S "$ctl_sock" status 2>/dev/null | sed -nE 's/^notes ([0-9]+) played.*/\1/p'
}
plays_past() { local n; n=$(notes_played); [ -n "$n" ] && [ "$n" -gt "$1" ]; }
gone() { ! e2e_alive "$1"; }
leftovers() {
	local left
	left=$(e2e_leftovers; jack_shm | sed 's|^|JACK shared memory left behind: /dev/shm/|')
	[ -z "$left" ] || { echo "$left" >"$E2E_TMP/left"; return 1; }
}

tmux -L "$tsock" -f "$E2E_TMP/tmux.conf" new-session -d -s fg -x 80 -y 24 \
	"LANG=C.UTF-8 TERM=xterm-256color ${E2E_AS[*]} $E2E_BIN -c $E2E_CONF \
	--set synth.jack_name=$E2E_JACK --set synth.port=$E2E_PORT --set synth.jack_driver=dummy \
	--midi-in none --led none --http off --socket $ctl_sock --set logging.file=$log 2>$E2E_TMP/err"
wait_for 60 "the foreground instance never opened its control socket" test -S "$ctl_sock"
E2E_PID=$("$E2E_BIN" ctl -S "$ctl_sock" status | sed -nE 's/^mystery-engine pid ([0-9]+),.*/\1/p')
[ -n "$E2E_PID" ] || e2e_fail "ctl status names no pid"
wait_for 60 "the instance never logged that it plays" in_log '"event":"started"'
wait_for 60 "scsynth's shared memory never appeared" shm_there
# the JACK semaphores exist now, so their absence at the end means something
[ -n "$(jack_shm)" ] || e2e_fail "no JACK semaphore of $E2E_JACK in /dev/shm while it plays"

# an attached console's terminal closes: the instance plays on
tmux -L "$tsock" new-session -d -s at -x 80 -y 24 \
	"LANG=C.UTF-8 TERM=xterm-256color $E2E_BIN attach -S $ctl_sock"
wait_for 60 "the console never attached" in_log '"console attached'
tmux -L "$tsock" kill-session -t at
wait_for 30 "the instance did not see the console go" \
	in_log '"console (pid [0-9]*, uid [0-9]*) \(detached\|went away\)'
attached() { pgrep -f -- "^$E2E_BIN attach -S $ctl_sock" >/dev/null; }
wait_for 30 "the attached console outlived its terminal" eval '! attached'
n0=$(notes_played)
[ -n "$n0" ] || e2e_fail "ctl status gives no note count after the console went"
wait_for 60 "no note played after an attached console hung up (still $n0)" plays_past "$n0"
e2e_alive "$E2E_PID" || e2e_fail "the instance stopped when an attached console hung up"
in_log '"stopping"' && e2e_fail "the instance is stopping after an attached console hung up"

# the foreground instance's terminal closes
t0=$(date +%s%N)
tmux -L "$tsock" kill-session -t fg
wait_for 30 "the instance still runs after its terminal closed" gone "$E2E_PID"
echo "stopped $((($(date +%s%N) - t0) / 1000000)) ms after the terminal closed (load $(cut -d' ' -f1 /proc/loadavg))"
E2E_PID=
grep -q '"stopped by the terminal'"'"'s hang-up (SIGHUP)"' "$log" ||
	e2e_fail "the log gives no reason: $(grep '"stopping"' "$log" || echo none)"
grep -q '"event":"synth_stats"' "$log" || e2e_fail "the shutdown did not finish (no synth_stats line)"
# the program is gone; a child it stopped may still be exiting: 10 s at most
end=$((SECONDS + 10))
until leftovers; do
	[ "$SECONDS" -lt "$end" ] || e2e_fail "$(cat "$E2E_TMP/left")"
	sleep 0.1
done
[ ! -e "$ctl_sock" ] || e2e_fail "the control socket is left behind"
echo "attach_hangup: ok"
