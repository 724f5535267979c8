#!/bin/bash
# hung_silent: how soon a hung scsynth is found while the instrument is
# silent (the control thread then runs only when the output meter could go
# stale).  The program (density 0, 20 BPM, console detached) is linked to a
# scsynth of its own (a private JACK dummy server, tests/lib/audio.sh);
# after 6 s of silence the server is stopped (SIGSTOP) and /state is read
# every 20 ms until its synth link or its sound is no longer ok; the time
# from the stop is printed, then the server continues.  With ME_BIN_BEFORE
# (another build) the two binaries alternate, ROUNDS (default 3) times each.
# HUNG_PLAYING=1: the same while the instrument plays (16ths at 120 BPM)
# and nobody looks: /state is not read from 6 s before the stop (a reader
# keeps the control thread at its 250 ms pace for 3 s), and the time is
# that of the first synth.health or synth.lost line of the engine's log
# (wall clock, ms) after the stop.
# Usage: bench/hung_silent.sh [ROUNDS]   (ME_BIN = the program)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-3}
bench_bins
bench_home
bench_audio hung-silent

playing=${HUNG_PLAYING:-0}
if [ "$playing" = 1 ]; then
	sets=(--set sequencer.density=1 --set sequencer.bpm=120 --set sequencer.steps=1
		--set sequencer.steps_per_beat=4)
else
	sets=(--set sequencer.density=0 --set sequencer.bpm=20 --set sequencer.steps_per_beat=1)
fi

one() {	# one BINARY
	local port
	port=$(bench_port)
	"$1" --daemon -c "$tmp/empty.conf" --synth "supercollider:127.0.0.1:$AUDIO_PORT" \
		--midi-in none --led none --http "127.0.0.1:$port" --set state.dir="$tmp/state" \
		--seed 5 "${sets[@]}" --set mutation.enabled=false \
		--set idle.timeout_ms=86400000 >/dev/null 2>"$tmp/log" </dev/null &
	pid=$!
	python3 - "$port" "$AUDIO_SC_PID" "$playing" "$tmp/log" <<'PY' || { cat "$tmp/log" >&2; exit 1; }
import calendar, json, os, signal, sys, time, urllib.request
port, sc, playing, logf = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
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
if playing:
    w0 = time.time()
    os.kill(sc, signal.SIGSTOP)
    time.sleep(6)
    found = None
    for line in open(logf):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("event") not in ("synth.health", "synth.lost"):
            continue
        ts, frac = r["ts"].rstrip("Z").split(".")
        t = calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1000
        if t >= w0 - 0.001:
            found = (t, r["event"])
            break
    os.kill(sc, signal.SIGCONT)
    if not found:
        sys.exit("FAIL: no synth.health or synth.lost line within 6 s of the stop")
    print("detected_ms %.0f (log %s, playing, nobody looking)" % ((found[0] - w0) * 1000, found[1]), end="")
    sys.exit(0)
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

echo "hung $([ "$playing" = 1 ] && echo playing || echo silent): $(date -u +%Y-%m-%d), $(nproc) cores, $rounds rounds"
for r in $(seq 1 "$rounds"); do
	for b in "${bins[@]}"; do
		one "$b"
	done
done
