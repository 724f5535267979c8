#!/bin/bash
# live_latency: how long a live action takes to reach the sound, with the
# real binary on its managed JACK dummy + scsynth.  A pty stands in for the
# Teensy (tests/tools/e2e_pty.py, --midi-in raw:PTY) and presses trigger
# buttons at random moments between isolated sequenced notes (one-step
# pattern, 50 BPM, one step per beat: a note every 1.2 s).  Prints:
#   * press -> event log: the live note's t minus the moment of the write
#     (relative spread exact; absolute value via the log's wall-clock
#     times, +-2 ms);
#   * event log -> sound: each live note's onset in the recording minus
#     where it should be (its t + synth.latency_ms on the audio clock that
#     the sequenced notes around it define, tests/tools/onset_match.py
#     --local 4): spread and share within +-1 sample;
#   * the worker's midi_to_send latency (worker_stats at exit).
# With "external" the engine plays on a scsynth it did not start (a private
# one from tests/lib/audio.sh, --synth supercollider:127.0.0.1:PORT): its
# lead is then measured, and late bundles are read from that server's log.
# Usage: bench/live_latency.sh [SECONDS [external]]   (top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/cli/e2e_live_lib.sh"
e2e_require
secs=${1:-60}
server=${2:-managed}
e2e_init bench-lat
ext=()
if [ "$server" = external ]; then
	audio_require
	audio_start "$E2E_TMP"
	ext=(--synth "supercollider:127.0.0.1:$AUDIO_PORT")
fi

e2e_isolated 50 0
seed=$(e2e_pick_seed)
log="$E2E_TMP/run.log"
ev="$E2E_TMP/ev.jsonl"
wav="$E2E_TMP/take.wav"
pty="$E2E_TMP/midi"
python3 "$top_srcdir/tests/tools/e2e_pty.py" "$pty" "$ev" "$E2E_TMP/presses.txt" \
	--seconds "$secs" --step 1.2 --latency-ms 10 --seed "$seed" >"$E2E_TMP/pty.out" 2>&1 &
ptypid=$!
for _ in $(seq 1 100); do [ -L "$pty" ] && break; sleep 0.05; done
# --midi-in given last wins over e2e_start's "none"
e2e_start "$log" --seed "$seed" --record "$wav" --events "$ev" --midi-in "raw:$pty" "${ext[@]}"
e2e_wait_log "$log" '"event":"started"'
wait "$ptypid" || { cat "$E2E_TMP/pty.out" >&2; e2e_fail "the pty keyboard failed"; }
sleep 1.5
e2e_stop
[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC"

echo "live latency: $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), JACK dummy 48 kHz / 256"
echo "run: ${secs} s, seed $seed, synth.latency_ms 10, notes every 1.2 s, presses at random moments, $server server"
grep '"event":"synth.lead"' "$log" | sed 's/.*"msg":"\(.*\)"}/lead: \1/' 
cat "$E2E_TMP/pty.out"
python3 - "$E2E_TMP/presses.txt" "$ev" <<'PY'
import json, sys
presses = [l.split() for l in open(sys.argv[1]) if l.startswith("press")]
sync = [int(l.split()[1]) for l in open(sys.argv[1]) if l.startswith("sync")][0]
ins = [json.loads(l) for l in open(sys.argv[2]) if '"input"' in l and '"note_on"' in l]
d = []
for p, e in zip(presses, ins):
    assert int(p[1]) == e["number"], "press order"
    d.append(e["t"] * 1e9 - (int(p[2]) + sync))
print("press -> event log t: %d presses, t minus write time (after sync): "
      "min %+.1f max %+.1f us, spread %.1f us" %
      (len(d), min(d) / 1e3, max(d) / 1e3, (max(d) - min(d)) / 1e3))
PY
python3 "$E2E_MATCH" --events "$ev" --wav "$wav" --log "$log" --latency-ms 10 --local 4 \
	--verbose >"$E2E_TMP/match.txt" || true
grep -E '^(wav|log|fit|notes|local|on_time|live )' "$E2E_TMP/match.txt"
grep -E '^live t' "$E2E_TMP/match.txt" | awk '{ printf "  %s\n", $0 }'
python3 - "$E2E_TMP/match.txt" <<'PY'
import sys
errs = [float(l.split()[6]) for l in open(sys.argv[1]) if l.startswith("live t")]
if errs:
    print("live onset - (t + 10 ms): %d measured, min %+.2f max %+.2f samples, spread %.2f, "
          "within +-1 sample: %d" % (len(errs), min(errs), max(errs), max(errs) - min(errs),
                                      sum(abs(e) <= 1.0 for e in errs)))
PY
if [ "$server" = external ]; then
	echo "late bundles (the external scsynth's log): $(audio_late_count)"
else
	echo "late bundles: $(e2e_late "$log")"
fi
grep '"event":"worker_stats"' "$log" | sed 's/.*"msg":"\(.*\)"}/worker_stats: \1/'
