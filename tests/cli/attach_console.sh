#!/bin/bash
# mystery-engine attach against the real daemon, driven by tmux at 80x24:
# the panels show; + raises the daemon's tempo (its event log has the value
# with source "key"); a second console attached at the same time shows the
# change; `ctl status` counts both; p in a console saves a preset into the
# daemon's state folder, r reloads the daemon's configuration; q detaches with status 0 and the daemon
# keeps playing; starting the instrument on a terminal while it runs says
# so in one line and attaches instead of starting a second one; Q asks
# first (any other key keeps it playing), then y stops the daemon, which
# exits 0 and logs who stopped it; attach with nothing running exits 69.
. "$(dirname "$0")/tui_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
ops_init
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; ops_cleanup' EXIT

ctl_sock=$OPS_WORK/control.sock
events=$OPS_WORK/events.jsonl
ops_start --socket "$ctl_sock" --events "$events" --seed 11
[ -S "$ctl_sock" ] || ops_fail "no control socket at $ctl_sock"
mode=$(stat -c %a "$ctl_sock")
[ "$mode" = 660 ] || ops_fail "the control socket has mode $mode, not 660"

notes() { grep -c '"type":"note"' "$events" || true; }
screen_u() { tmux -L "$sock" capture-pane -p -t u; }
wait_u() {	# wait_u RE: the second console shows RE
	local i
	for ((i = 0; i < 200; i++)); do
		screen_u | grep -Eq -- "$1" && return 0
		sleep 0.05
	done
	echo "--- second console:" >&2
	screen_u >&2
	fail "the second console never showed /$1/"
}
tempo_of() {	# the tempo shown in a screen's parameter row
	grep -E '^[^a-z]* tempo +[0-9]' | head -n 1 | sed -E 's/^[^a-z]* tempo +([0-9.]+).*/\1/'
}

# 1. the panels of the running daemon
tui_start "LANG=C.UTF-8 TERM=xterm-256color $ME_BIN attach -S $ctl_sock 2>$work/err1"
tui_wait 'latency +p50'
for want in '^mystery-engine .*BPM' 'midi .*scsynth .*leds' '^steps 1-' 'parameters' \
	'mutations' 'meters' 'qDetach' 'QStop'; do
	tui_screen | grep -Eq -- "$want" || fail "the attached console does not show /$want/"
done

# 2. a second console at the same time
tmux -L "$sock" new-session -d -s u -x 80 -y 24 \
	"LANG=C.UTF-8 TERM=xterm-256color $ME_BIN attach -S $ctl_sock 2>$work/err2; echo \$? >$work/status2"
wait_u 'latency +p50'
"$ME_BIN" ctl -S "$ctl_sock" status | grep -q ': 3 connected' ||
	fail "ctl status does not count two consoles and itself: $("$ME_BIN" ctl -S "$ctl_sock" status)"

# 3. + in the first console raises the daemon's tempo; the second sees it
t0=$(tui_screen | tempo_of)
tui_keys +
for ((i = 0; i < 60; i++)); do
	logged=$(grep '"name":"tempo"' "$events" | grep '"source":"key"' | tail -n 1 |
		/usr/bin/python3 -c 'import json, sys; print("%.1f" % json.loads(sys.stdin.read())["value"])' 2>/dev/null || true)
	[ -n "$logged" ] && break
	sleep 0.05
done
[ -n "$logged" ] || fail "+ in the attached console left no tempo change from a key in the event log"
/usr/bin/python3 -c "import sys; sys.exit(not float('$logged') > float('$t0'))" ||
	fail "+ did not raise the tempo: $t0 -> $logged"
wait_u "^[^a-z]* tempo +$logged BPM"
tui_wait "^[^a-z]* tempo +$logged BPM .*K"
got=$("$ME_BIN" ctl -S "$ctl_sock" get tempo)
[[ "$got" == "tempo $logged BPM (source key)" ]] || fail "ctl get tempo says '$got', not $logged from a key"

# 3b. p in a console saves a preset into the daemon's own state folder; r
# asks the daemon to reload its configuration, and the answer shows
tmux -L "$sock" send-keys -t u p
wait_u 'preset console-[0-9-]+ saved'
name=$(screen_u | sed -nE 's/.*preset (console-[0-9-]+) saved.*/\1/p' | head -n 1)
[ -f "$OPS_WORK/state/presets/$name.preset" ] ||
	fail "the console's preset $name is not in the daemon's state folder: $(ls -R "$OPS_WORK/state")"
tmux -L "$sock" send-keys -t u r
wait_u 'configuration .*applied'
grep -q 'configuration .* applied' "$OPS_WORK/err" ||
	fail "the daemon did not log the reload: $(tail -3 "$OPS_WORK/err")"

# 4. q detaches; the daemon keeps playing
tui_keys q
for ((i = 0; i < 100; i++)); do [ "$(tui_dead)" = 1 ] && break; sleep 0.05; done
[ "$(tui_dead)" = 1 ] || fail "q did not end the attached console"
[ "$(cat "$work/status")" = 0 ] || fail "attach exited $(cat "$work/status") after q"
grep -q 'detached from mystery-engine (pid [0-9]*): it keeps playing' "$work/err1" ||
	fail "no detach line: $(cat "$work/err1")"
kill -0 "$OPS_PID" 2>/dev/null || fail "the daemon stopped when a console detached"
n0=$(notes)
for ((i = 0; i < 400; i++)); do [ "$(notes)" -gt "$n0" ] && break; sleep 0.05; done
[ "$(notes)" -gt "$n0" ] || fail "no new notes after the console detached"
tmux -L "$sock" kill-session -t t

# 5. starting the instrument on a terminal while it runs attaches to it
tmux -L "$sock" -f "$work/tmux.conf" new-session -d -s t -x 80 -y 24 \
	"LANG=C.UTF-8 TERM=xterm-256color $ME_BIN --socket $ctl_sock --synth none --midi-in none --led none --http off 2>$work/err3; echo \$? >$work/status"
tui_wait 'latency +p50'
tui_wait 'qDetach'
grep -q "already running (pid $OPS_PID, configuration .*, socket $ctl_sock): attaching" "$work/err3" ||
	fail "no 'already running' line: $(cat "$work/err3")"
tui_keys q
for ((i = 0; i < 100; i++)); do [ "$(tui_dead)" = 1 ] && break; sleep 0.05; done
[ "$(cat "$work/status" 2>/dev/null)" = 0 ] || fail "the second start did not detach cleanly"
kill -0 "$OPS_PID" 2>/dev/null || fail "the daemon stopped when the second start detached"

# 6. Q asks; n keeps it playing; Q y stops it for everyone
tmux -L "$sock" send-keys -t u Q
wait_u 'Stop the instrument for everyone\? y = stop'
tmux -L "$sock" send-keys -t u n
wait_u 'not stopped'
sleep 0.3
kill -0 "$OPS_PID" 2>/dev/null || fail "the daemon stopped although the answer was no"
tmux -L "$sock" send-keys -t u Q
wait_u 'Stop the instrument for everyone'
tmux -L "$sock" send-keys -t u y
rc=0
for ((i = 0; i < 60; i++)); do kill -0 "$OPS_PID" 2>/dev/null || break; sleep 0.05; done
wait "$OPS_PID" || rc=$?
OPS_PID=
[ "$rc" = 0 ] || fail "the daemon exited $rc after Q y"
grep -q '"stopped by an attached console (Q)"' "$OPS_WORK/err" ||
	fail "the log does not say an attached console stopped it"
[ ! -e "$ctl_sock" ] || fail "the control socket is left behind after the stop"
for ((i = 0; i < 60; i++)); do [ -s "$work/status2" ] && break; sleep 0.05; done
[ "$(cat "$work/status2" 2>/dev/null)" = 0 ] || fail "the stopping console exited $(cat "$work/status2")"

# 7. nothing running
rc=0
"$ME_BIN" attach -S "$ctl_sock" 2>"$work/err4" </dev/null || rc=$?
[ "$rc" = 69 ] || fail "attach with nothing running exited $rc, not 69"
grep -q 'no instance is running there' "$work/err4" || fail "no reason given: $(cat "$work/err4")"
echo "attach_console: ok"
