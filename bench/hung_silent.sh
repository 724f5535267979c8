#!/bin/bash
# hung_silent: how soon a hung scsynth is found while the instrument is
# silent (the control thread then runs only when the output meter could go
# stale).  The program (density 0, 20 BPM, console detached) is linked to a
# scsynth of its own (a private JACK dummy server, tests/lib/audio.sh);
# after 6 s of silence the server is stopped (SIGSTOP) and /state is read
# every 20 ms until its synth link or its sound is no longer ok; the time
# from the stop is printed, then the server continues.  With ME_BIN_BEFORE
# (another build) the two binaries alternate, ROUNDS (default 3) times each.
# Usage: bench/hung_silent.sh [ROUNDS]   (ME_BIN = the program)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
rounds=${1:-3}
bins=("${ME_BIN:-$top_builddir/mystery-engine}")
[ -n "${ME_BIN_BEFORE:-}" ] && bins+=("$ME_BIN_BEFORE")
for b in "${bins[@]}"; do
	[ -x "$b" ] || { echo "FAIL: $b is not built" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "FAIL: python3 missing (apt-get install python3)" >&2; exit 1; }
export top_builddir
AUDIO_SC_LOGINS=64
AUDIO_JACK_PREFIX=hung-silent
. "$top_srcdir/tests/lib/audio.sh"
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; [ -n "$AUDIO_SC_PID" ] && kill -CONT "$AUDIO_SC_PID" 2>/dev/null; audio_stop; rm -rf "$tmp"' EXIT
audio_require
audio_start "$tmp"
export HOME=$tmp XDG_CONFIG_HOME=$tmp XDG_STATE_HOME=$tmp/xdg XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$tmp/run"
: >"$tmp/empty.conf"

one() {	# one BINARY
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$1" --daemon -c "$tmp/empty.conf" --synth "supercollider:127.0.0.1:$AUDIO_PORT" \
		--midi-in none --led none --http "127.0.0.1:$port" --set state.dir="$tmp/state" \
		--seed 5 --set sequencer.density=0 --set sequencer.bpm=20 \
		--set sequencer.steps_per_beat=1 --set mutation.enabled=false \
		--set idle.timeout_ms=86400000 >/dev/null 2>"$tmp/log" </dev/null &
	pid=$!
	python3 - "$port" "$AUDIO_SC_PID" <<'PY' || { cat "$tmp/log" >&2; exit 1; }
import json, os, signal, sys, time, urllib.request
port, sc = int(sys.argv[1]), int(sys.argv[2])
url = "http://127.0.0.1:%d/state" % port
def state():
    try:
        j = json.loads(urllib.request.urlopen(url, timeout=1).read())
        return j["links"]["synth"]["state"], j["sound"]["state"]
    except OSError:
        return None, None
end = time.monotonic() + 30
while state() != ("connected", "ok"):
    if time.monotonic() > end:
        sys.exit("FAIL: the link and the sound were not ok within 30 s")
    time.sleep(0.1)
time.sleep(6)
t0 = time.monotonic()
os.kill(sc, signal.SIGSTOP)
while time.monotonic() - t0 < 10 and state() == ("connected", "ok"):
    time.sleep(0.02)
d = time.monotonic() - t0
s = state()
os.kill(sc, signal.SIGCONT)
print("detected_ms %.0f (link %s, sound %s)" % (d * 1000, s[0], s[1]), end="")
PY
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
	echo "; $1, load $(cut -d' ' -f1 /proc/loadavg)"
	sleep 1
}

echo "hung silent: $(date -u +%Y-%m-%d), $(nproc) cores, $rounds rounds"
for r in $(seq 1 "$rounds"); do
	for b in "${bins[@]}"; do
		one "$b"
	done
done
