#!/bin/bash
# What the console says is true, at 80x24 in tmux:
#  - on JACK's dummy driver the header says there is no sound card and how
#    to listen (--record); when scsynth's UDP port is taken, the key bar
#    gives that reason, not only "scsynth error";
#  - closing the help overlay leaves none of its text behind (the screen
#    equals a full repaint of itself);
#  - TERM=dumb gets one clear line and a headless instrument, not a
#    garbled screen; the instrument still answers on its control socket.
. "$(dirname "$0")/tui_lib.sh"
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
e2e_init truths
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; e2e_cleanup' EXIT

# 1. the dummy driver and a taken port
/usr/bin/python3 -c "import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $E2E_PORT)); time.sleep(60)" &
holder=$!
tui_start "LANG=C.UTF-8 TERM=xterm-256color $E2E_BIN -c $E2E_CONF --set synth.jack_name=$E2E_JACK \
	--set synth.port=$E2E_PORT --set synth.jack_driver=dummy --midi-in none --led none \
	--http off --socket $work/ctl.sock --set logging.file=$work/me.log 2>$work/err"
tui_wait 'latency +p50' 20
tui_wait '^midi .* no sound card: --record F\.wav' 20
tui_wait "! synth\.port: UDP port $E2E_PORT is taken" 20
tui_wait 'scsynth error' 20
kill "$holder"
wait "$holder" 2>/dev/null || true
tui_quit

# 2. the help overlay leaves nothing behind (on the demo console, paused)
tui_start "LANG=C.UTF-8 TERM=xterm-256color $demo"
tui_wait 'latency +p50'
tui_keys Space
tui_wait 'PAUSED'
# columns no panel ever writes (the gap between the left and right panels)
tui_screen >"$work/before"
for round in 1 2 3; do
	tui_keys F1
	tui_wait 'keys ─'
	tui_keys x
	tui_gone 'keys ─'
	sleep 0.3
	tui_screen >"$work/after"
	/usr/bin/python3 - "$work/before" "$work/after" <<'PY' || fail "closing the help left text behind (round $round)"
import sys
def grid(p):
    rows = open(p, encoding="utf-8").read().split("\n")[2:23]
    return [r.ljust(80) for r in rows]
before, after = grid(sys.argv[1]), grid(sys.argv[2])
gap = [x for x in range(80) if all(r[x] == " " for r in before)]
left = [(y, x, after[y][x]) for y in range(len(after)) for x in gap if after[y][x] != " "]
if not gap or left:
    print("gap columns %s; left behind: %s" % (gap, left[:10]))
    sys.exit(1)
PY
done
tui_quit

# 3. TERM=dumb: one clear line, headless, still serving its socket
tmux -L "$sock" kill-server 2>/dev/null || true
tui_start "TERM=dumb $E2E_BIN --synth none --midi-in none --led none --http off --socket $work/dumb.sock"
for _ in $(seq 100); do	# -J: the line as written, not as wrapped
	tmux -L "$sock" capture-pane -p -J -t t | grep -q 'no console: this terminal cannot move the cursor (TERM=dumb); running headless' && break
	sleep 0.1
done
tmux -L "$sock" capture-pane -p -J -t t | grep -q 'no console: this terminal cannot move the cursor (TERM=dumb); running headless' ||
	fail "no clear line about the dumb terminal"
for _ in $(seq 50); do [ -S "$work/dumb.sock" ] && break; sleep 0.1; done
"$E2E_BIN" ctl -S "$work/dumb.sock" status >"$work/ctl-status" ||
	fail "the headless instrument does not answer on its socket"
pid=$(sed -nE 's/^mystery-engine pid ([0-9]+),.*/\1/p' "$work/ctl-status")
[ -n "$pid" ] || fail "no pid in: $(cat "$work/ctl-status")"
tui_screen | grep -q 'mystery-engine  ' && fail "a console was drawn on a dumb terminal"
kill -TERM "$pid"
for _ in $(seq 60); do [ "$(tui_dead)" = 1 ] && break; sleep 0.05; done
[ "$(tui_dead)" = 1 ] || fail "the headless instrument did not stop on SIGTERM"
[ "$(cat "$work/status")" = 0 ] || fail "the headless instrument exited $(cat "$work/status")"
echo "attach_truths: ok"
