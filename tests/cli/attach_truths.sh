#!/bin/bash
# What the console says is true, at 80x24 in tmux:
#  - on JACK's dummy driver the header says there is no sound card and how
#    to listen (--record);
#  - a fault shows its reason on screen, not only "scsynth error": another
#    program on scsynth's UDP port (as a second instance on the same ports),
#    scsynth missing, the HTTP port taken (which once appeared only after
#    quitting); each fault lasts until the test ends it;
#  - closing the help overlay leaves none of its text behind (the screen
#    equals a full repaint of itself);
#  - TERM=dumb gets one clear line and a headless instrument, not a
#    garbled screen; the instrument still answers on its control socket.
. "$(dirname "$0")/tui_lib.sh"
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
e2e_init truths
holder=
unhold() {
	[ -z "$holder" ] || { kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true; }
	holder=
}
trap 'unhold; tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; e2e_cleanup' EXIT
# hold PROTO PORT: a program holds 127.0.0.1:PORT (udp or tcp) until unhold
hold() {
	/usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == 'udp' else socket.SOCK_STREAM)
s.bind(('127.0.0.1', int(sys.argv[2])))
if sys.argv[1] == 'tcp':
    s.listen(1)
print('held', flush=True)
time.sleep(3600)" "$1" "$2" >"$work/held" 9>&- &
	holder=$!
	for _ in $(seq 300); do grep -q held "$work/held" && return 0; sleep 0.1; done
	fail "nothing could hold $1 port $2"
}
run="LANG=C.UTF-8 TERM=xterm-256color"
stack="-c $E2E_CONF --set synth.jack_name=$E2E_JACK --set synth.port=$E2E_PORT \
	--set synth.jack_driver=dummy --midi-in none --led none --socket $work/ctl.sock"

# 1. the dummy driver, and another program on scsynth's UDP port
hold udp "$E2E_PORT"
tui_start "$run $E2E_BIN $stack --http off --set logging.file=$work/me.log 2>$work/err"
tui_wait 'latency +p50' 60
tui_wait '^midi .* no sound card: --record F\.wav' 60
tui_wait '^midi off  scsynth error \(port taken\)' 60
tui_wait '^F1Help ! synth\.[a-z]+: .*UDP port' 60
tui_quit
unhold

# scsynth not installed (not on PATH; jackd is)
mkdir "$work/bin"
for t in jackd jack_lsp jack_wait; do ln -s "$(command -v "$t")" "$work/bin/$t"; done
tui_start "$run PATH=$work/bin $E2E_BIN $stack --http off 2>$work/err"
tui_wait '^midi off  scsynth error \(no scsynth\)' 60
tui_wait '^F1Help ! synth\.[a-z]+: .*scsynth is not installed' 60
tui_quit

# the HTTP API's port taken: its reason on screen while the instrument plays
hport=$(audio_free_tcp_port) || fail "no free TCP port"
hold tcp "$hport"
tui_start "$run $E2E_BIN --synth none --midi-in none --led none --socket $work/ctl.sock \
	--http 127.0.0.1:$hport 2>$work/err"
tui_wait 'latency +p50' 60
tui_wait "^F1Help ! http: no HTTP API: 127\.0\.0\.1 port $hport: Address already in use" 60
tui_quit
unhold

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
