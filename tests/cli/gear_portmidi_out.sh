#!/bin/bash
# gear_portmidi_out: PortMidi ports whose device is absent (this test needs
# no MIDI hardware; on a machine without an ALSA sequencer PortMidi sees no
# device at all).  The notes go to --midi-out "portmidi:No Such Synth"
# (--synth midi: only there) and the clock comes from --clock-in
# "portmidi:No Such Clock".  Neither stops the instrument: each says in the
# log which port it waits for and why (no ALSA sequencer, or the devices
# that exist), keeps retrying (the attempts counted), /metrics shows both
# links waiting, the steps play on at the internal tempo, the notes due
# meanwhile are dropped and counted, and SIGTERM ends the run at once.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
. "$top_srcdir/tests/lib/audio.sh"	# audio_free_tcp_port
dev_setup
command -v curl >/dev/null || dev_fail "curl is missing (apt-get install curl)"
port=$(audio_free_tcp_port) || dev_fail "no free TCP port"

engine_start --midi-in none --midi-out "portmidi:No Such Synth" --synth midi \
	--clock-in "portmidi:No Such Clock" --set sequencer.clock_source=midi \
	--set sequencer.bpm=120 --set sequencer.swing=0 --set sequencer.density=1.0 \
	--set mutation.enabled=false --led none --http "127.0.0.1:$port"
reason='(no ALSA sequencer \(/dev/snd/seq: [^)]*\), so no PortMidi devices|no PortMidi (output|input) matches \\"No Such (Synth|Clock)\\" \(((outputs|inputs): [^)]*|no outputs|no inputs)\))'
dev_wait_line "$tmp/engine.err" '"event":"midi_out_waiting","msg":"MIDI output portmidi:No Such Synth: '"$reason"'; retrying' 3 ||
	dev_fail "no midi_out_waiting line naming the output and why"
dev_wait_line "$tmp/engine.err" '"event":"midi_waiting","msg":"MIDI input portmidi No Such Clock: '"$reason"'; retrying' 3 ||
	dev_fail "no midi_waiting line naming the clock port and why"
sleep 3
engine_alive || dev_fail "the engine died"
curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/metrics.txt" || dev_fail "no /metrics"
for l in midi_out clock_in; do
	grep -q "^mystery_engine_link_state{link=\"$l\",state=\"waiting\"} 1" "$tmp/metrics.txt" ||
		dev_fail "/metrics does not show the $l link waiting: $(grep "link=\"$l\"" "$tmp/metrics.txt")"
done
t0=$(date +%s%N)
engine_stop
t1=$(date +%s%N)
echo "stopped in $(((t1 - t0) / 1000000)) ms"
[ $(((t1 - t0) / 1000000)) -lt 2000 ] || dev_fail "the stop took over 2 s"

/usr/bin/python3 - "$tmp/ev.jsonl" "$tmp/engine.err" <<'PY' || dev_fail "checks failed"
import json, re, statistics, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
log = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
bad = []
notes = sorted(e["t"] for e in ev if e["type"] == "note")
d = [b - a for a, b in zip(notes, notes[1:])]
print("%d notes over %.1f s, median spacing %.1f ms" % (len(notes), notes[-1] - notes[0] if notes else 0,
      statistics.median(d) * 1e3 if d else 0))
# the pattern has rests: the notes fall on the 125 ms grid of 120 BPM
# sixteenths, from the start to the stop
if len(notes) < 10 or notes[-1] - notes[0] < 2.5 or abs(min(d) - 0.125) > 0.002:
    bad.append("the steps did not play on at 120 BPM (internal clock): %d notes" % len(notes))
if any(e["type"] == "clock_sync" for e in ev):
    bad.append("clock_sync lines without a clock")
st = [l["msg"] for l in log if l.get("event") == "midi_out_stats"]
m = re.search(r"messages (\d+) .*dropped_offline (\d+) .*attempts (\d+)", st[0]) if st else None
if not m:
    bad.append("no midi_out_stats line: %r" % st)
else:
    sent, dropped, attempts = map(int, m.groups())
    print("midi out: %d written, %d dropped while away, %d attempts to open" % (sent, dropped, attempts))
    if sent != 0 or dropped < len(notes) or attempts < 3:
        bad.append("want nothing written, every note dropped and counted, retries: %s" % st[0])
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
echo "$DEV_NAME: ok"
