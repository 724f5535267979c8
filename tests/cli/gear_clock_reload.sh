#!/bin/bash
# gear_clock_reload: midi.clock_out changed by a reload (SIGHUP) applies at
# once, as the reload says.  Started with the clock off: no real-time byte
# on the MIDI output (the notes go out).  Reloaded with it on: Song Position
# and Continue, then pulses, 24 a beat.  Reloaded with it off again: a Stop
# after the last pulse, and no pulse after it.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup
TOOL="$top_srcdir/tests/tools/midi_pty.py"
[ -f "$TOOL" ] || dev_fail "$TOOL missing"

/usr/bin/python3 "$TOOL" listen "$tmp/mo" "$tmp/mo.log" 2>"$tmp/listen.err" &
lpid=$!
stop_helpers() {
	kill "$lpid" 2>/dev/null || true
	wait "$lpid" 2>/dev/null || true
	dev_cleanup
}
trap stop_helpers EXIT
for _ in $(seq 1 100); do [ -L "$tmp/mo" ] && break; sleep 0.02; done
sed 's/^\(\s*clock_out = \)true;/\1false;/' "$CONF" >"$tmp/c.conf"
grep -q 'clock_out = false;' "$tmp/c.conf" || dev_fail "no clock_out key in $CONF"
CONF=$tmp/c.conf
engine_start --midi-in none --midi-out "raw:$tmp/mo" --led none --set sequencer.bpm=120
sleep 1.5
mark() { wc -l <"$tmp/mo.log"; }
reload() {
	local n
	n=$(grep -c '"event":"reload".*applied' "$tmp/engine.err" || true)
	sed -i "s/^\(\s*clock_out = \)[a-z]*;/\1$1;/" "$CONF"
	kill -HUP "$epid"
	for _ in $(seq 1 250); do
		[ "$(grep -c '"event":"reload".*applied' "$tmp/engine.err" || true)" -gt "$n" ] && return 0
		sleep 0.02
	done
	dev_fail "reload with clock_out = $1 not applied"
}
m1=$(mark)
reload true
sleep 2
m2=$(mark)
reload false
sleep 1.5
engine_alive || dev_fail "the engine died"
engine_stop
sleep 0.3
kill "$lpid"; wait "$lpid" 2>/dev/null || true

/usr/bin/python3 - "$tmp/mo.log" "$m1" "$m2" <<'PY' || dev_fail "checks failed"
import sys
out = [l.split() for l in open(sys.argv[1])]
m1, m2 = int(sys.argv[2]), int(sys.argv[3])
bad = []
rt = lambda part: [(int(t), x) for t, x in part if x in ("f8", "fa", "fb", "fc", "f2")]
off1, on, off2 = rt(out[:m1]), rt(out[m1:m2]), rt(out[m2:])
notes = [x for t, x in out[:m1] if x[0] == "9"]
print("clock off: %d real-time bytes, %d note ons" % (len(off1), len(notes)))
if off1:
    bad.append("real-time bytes with the clock off: %r" % off1[:4])
if not notes:
    bad.append("no notes went out")
seq = [x for t, x in on]
print("after the reload on: %s ... %d pulses" % (" ".join(seq[:3]), seq.count("f8")))
if seq[:2] != ["f2", "fb"]:
    bad.append("want Song Position and Continue before the first pulse, got %r" % seq[:4])
f8 = [t for t, x in on if x == "f8"]
if len(f8) > 10:
    span = (f8[-1] - f8[0]) / 1e9
    rate = (len(f8) - 1) / span
    print("clock out: %.1f pulses a second (want 48 at 120 BPM)" % rate)
    if abs(rate - 48) > 1:
        bad.append("%.1f pulses a second at 120 BPM" % rate)
else:
    bad.append("only %d pulses in 2 s with the clock on" % len(f8))
all_on_off = on + off2
stops = [i for i, (t, x) in enumerate(all_on_off) if x == "fc"]
print("after the reload off: %s" % " ".join(x for t, x in off2[:4]))
if not stops:
    bad.append("no Stop when the clock was turned off")
elif any(x == "f8" for t, x in all_on_off[stops[0]:]):
    bad.append("pulses after the Stop")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
echo "$DEV_NAME: ok"
