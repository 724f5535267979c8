#!/bin/bash
# The console of the real program (--synth none, a pty as MIDI input): every
# panel shows; + on tempo changes the shown value and the engine's (event
# log, source "key") and marks it K; a CC 20 from the pty then moves tempo
# on screen to the controller's value and the K goes; resize to 120x40 and
# back; help opens and closes; q exits 0 and restores the terminal.
. "$(dirname "$0")/tui_lib.sh"
: "${ME_BIN:?ME_BIN must name the built mystery-engine}"
command -v python3 >/dev/null || fail "python3 is needed for the pty MIDI input"

mkfifo "$work/feed"
python3 "$top_srcdir/tests/tools/pty_feed.py" "$work/midi" <"$work/feed" &
feeder=$!
exec 3>"$work/feed"
trap 'exec 3>&-; kill $feeder 2>/dev/null || true; tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
for ((i = 0; i < 100; i++)); do
	[ -L "$work/midi" ] && break
	sleep 0.05
done
[ -L "$work/midi" ] || fail "pty_feed made no MIDI device"

events="$work/events.jsonl"
tui_start "LANG=C.UTF-8 TERM=xterm-256color $ME_BIN -c $top_srcdir/conf/mystery-engine.conf" \
	"--synth none --midi-in raw:$work/midi --events $events --http off --socket $work/ctl.sock 2>$work/err"
tui_wait 'latency +p50' 15
tui_wait 'midi connected' 10
s=$(tui_screen)
for want in 'mystery-engine +[0-9.]+ BPM' 'PLAYING|IDLE' 'scsynth' 'leds' 'cpu' 'steps 1-' \
	'^note' '^prob' 'parameters' 'mutations' 'lateness' 'late bundles' 'voices' \
	'dropped' 'F1Help'; do
	grep -Eq -- "$want" <<<"$s" || fail "80x24: no '$want' on the screen"
done

value() { tui_param_row "$1" | sed -E "s/^[^a-z]* $1 +([0-9.]+).*/\1/"; }
logged() {	# logged PARAM SOURCE: the last value the event log has, to 0.1
	local i v
	for ((i = 0; i < 60; i++)); do
		v=$(grep "\"name\":\"$1\"" "$events" | grep "\"source\":\"$2\"" | tail -n 1 |
			python3 -c 'import json, sys; print("%.1f" % json.loads(sys.stdin.read())["value"])' 2>/dev/null || true)
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.05
	done
	fail "no $1 change from $2 in the event log"
}

t0=$(value tempo)
tui_keys +
for ((i = 0; i < 60; i++)); do
	[ "$(value tempo)" != "$t0" ] && break
	sleep 0.05
done
t1=$(value tempo)
[ "$t1" != "$t0" ] || fail "+ did not change the shown tempo ($t0)"
tui_param_row tempo | grep -q '\] K' || fail "tempo changed by a key is not marked K"
[ "$(logged tempo key)" = "$t1" ] || fail "the engine's tempo $(logged tempo key) is not the shown $t1"

# the controller takes tempo back: CC 20 = 127 on channel 1 is the top of the
# knob's range (150 BPM in the shipped mapping)
echo "b0 14 7f" >&3
tui_wait '^[^a-z]* tempo +150.0 BPM' 5
tui_param_row tempo | grep -q '\] K' && fail "tempo still marked K after the controller moved it"
[ "$(logged tempo midi)" = 150.0 ] || fail "the engine's tempo from MIDI is not 150.0"

tui_size 120 40
# the old 80-column screen also matches any pattern: wait for the redraw itself
wide=0
for _ in $(seq 50); do
	wide=$(tui_screen | tui_wider 80)
	[ "$wide" -gt 0 ] && break
	sleep 0.1
done
[ "$wide" -gt 0 ] || fail "120x40: nothing uses the width"
tui_size 80 24
sleep 0.5
[ "$(tui_screen | tui_wider 80)" -eq 0 ] || fail "back at 80x24: a line wider than 80"
tui_wait 'parameters' 5

tui_keys F1
tui_wait 'keys ─' 5
tui_keys Escape
tui_gone 'keys ─' 5
tui_quit
echo "tui_binary: ok"
