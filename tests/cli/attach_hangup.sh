#!/bin/bash
# Closing the terminal (the SSH session's pane killed: SIGHUP and a hung-up
# tty) of a foreground instance on the managed audio stack ends it cleanly:
# the program, its jackd and scsynth are gone, no /dev/shm segment is left,
# the control socket is removed and the log says it stopped on the hang-up.
# Before that, the same hang-up of a console attached to it only detaches:
# the instance plays on.
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

tmux -L "$tsock" -f "$E2E_TMP/tmux.conf" new-session -d -s fg -x 80 -y 24 \
	"LANG=C.UTF-8 TERM=xterm-256color $E2E_BIN -c $E2E_CONF --set synth.jack_name=$E2E_JACK \
	--set synth.port=$E2E_PORT --midi-in none --led none --http off --socket $ctl_sock \
	--set logging.file=$log 2>$E2E_TMP/err"
e2e_wait_log "$log" '"event":"control"' 20
E2E_PID=$(pgrep -f -- "--socket $ctl_sock" | head -n 1)
[ -n "$E2E_PID" ] || e2e_fail "the foreground instance is not running"
e2e_wait_log "$log" '"event":"started"' 30
for _ in $(seq 300); do
	[ -e "/dev/shm/SuperColliderServer_$E2E_PORT" ] && break
	sleep 0.1
done
[ -e "/dev/shm/SuperColliderServer_$E2E_PORT" ] || e2e_fail "scsynth's shared memory never appeared"

# an attached console's terminal closes: the instance plays on
tmux -L "$tsock" new-session -d -s at -x 80 -y 24 \
	"LANG=C.UTF-8 TERM=xterm-256color $E2E_BIN attach -S $ctl_sock"
for _ in $(seq 400); do
	grep -q '"console attached' "$log" && break
	sleep 0.05
done
grep -q '"console attached' "$log" || e2e_fail "the console never attached"
tmux -L "$tsock" kill-session -t at
for _ in $(seq 100); do
	grep -q '"console (pid [0-9]*, uid [0-9]*) \(detached\|went away\)' "$log" && break
	sleep 0.05
done
grep -q '"console (pid [0-9]*, uid [0-9]*) \(detached\|went away\)' "$log" ||
	e2e_fail "the daemon did not see the console go"
sleep 0.5
e2e_alive "$E2E_PID" || e2e_fail "the instance stopped when an attached console hung up"
grep -q '"stopping"' "$log" && e2e_fail "the instance is stopping after an attached console hung up"

# the foreground instance's terminal closes
t0=$(date +%s%N)
tmux -L "$tsock" kill-session -t fg
for _ in $(seq 60); do
	e2e_alive "$E2E_PID" || break
	sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
e2e_alive "$E2E_PID" && e2e_fail "the instance still runs 3 s after its terminal closed"
E2E_PID=
echo "stopped ${ms} ms after the terminal closed"
grep -q '"stopped by the terminal'"'"'s hang-up (SIGHUP)"' "$log" ||
	e2e_fail "the log gives no reason: $(grep '"stopping"' "$log" || echo none)"
grep -q '"event":"synth_stats"' "$log" || e2e_fail "the shutdown did not finish (no synth_stats line)"
sleep 0.3
left=$(e2e_leftovers)
[ -z "$left" ] || e2e_fail "$left"
[ ! -e "$ctl_sock" ] || e2e_fail "the control socket is left behind"
echo "attach_hangup: ok"
