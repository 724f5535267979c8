#!/bin/bash
# dev_led_serial: LED cues to the Teensy over serial (--led serial:PTY).  A
# pty stands in for the Teensy's USB serial port; the frames read from it
# are decoded by tests/tools/cue_dump with the firmware's own decoder
# (contrib/teensy/me_cue_decoder.h).  Checks: every frame is intact; the
# note cues are the event log's notes (pitch and velocity) in the log's
# order; a CC moving reverb_mix gives a param cue with its value and
# position; a step button (note 62) gives a step cue saying what step 3 is
# now (on, its velocity, probability 100 %: the default press accents it),
# the same as the log's step_edit line; the shutdown ends with the idle cue.  Then the captured stream
# is damaged at seeded random positions: every frame not touched still
# decodes to the same cue at the same place, the touched ones are counted
# as errors and never come out as a wrong cue.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup
dump="$top_builddir/tests/tools/cue_dump"
[ -x "$dump" ] || dev_fail "$dump not built"

teensy_start --midi "$tmp/midi" --led "$tmp/led" --led-out "$tmp/led.bin"
engine_start --midi-in "raw:$tmp/midi" --led "serial:$tmp/led"
teensy_do 6 '^(connected|timeout)' wait_connected 5 | grep -q '^connected' ||
	dev_fail "the engine never opened the MIDI pty"
dev_wait_line "$tmp/engine.err" '"event":"led_connected"' 3 || dev_fail "the LED port never opened"

teensy_do 2 '^sent' cc 1 20 127 >/dev/null	# 150 BPM, the knob's top: more notes, more frames
sleep 3	# enough frames that the damage below rarely hits two neighbours
# (the capture's length matters: the sleeps below add to it too)
teensy_do 2 '^sent' cc 1 22 100 >/dev/null	# reverb_mix = 0.9 x 100/127 (the knob spans 0..0.9)
sleep 0.5
teensy_do 2 '^sent' on 1 62 90 >/dev/null	# the button of step 3
sleep 1
engine_alive || dev_fail "the engine died"
engine_stop
# the helper's reader copies the last bytes (it flushes each read): up to
# 0.2 s for the idle cue sent at shutdown, which the checks below look for
for _ in $(seq 1 10); do
	"$dump" "$tmp/led.bin" 2>/dev/null | grep -q '^idle 1' && break
	sleep 0.02
done
"$dump" --offsets "$tmp/led.bin" >"$tmp/cues.txt" || dev_fail "cue_dump could not read the capture"

python3 - "$tmp/ev.jsonl" "$tmp/cues.txt" <<'EOF' || dev_fail "cue checks failed"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
cues = [l.split() for l in open(sys.argv[2])]
stats = dict(kv.split("=") for kv in cues[-1][1:])
cues = cues[:-1]
bad = []
print("capture: %s bytes, %s frames" % (stats["bytes"], stats["ok"]))
if any(stats[k] != "0" for k in ("crc", "overlong", "framing", "unknown")):
    bad.append("damaged frames on a clean link: %r" % stats)

log_notes = [(e["pitch"], e["velocity"]) for e in ev if e["type"] == "note"]
led_notes = [(int(c[1]), int(c[2])) for c in cues if c[0] == "note"]
# Note cues made before the port was open are dropped (stale flashes would
# lie), so the LED's notes are the log's from some point on, in order.
k = len(log_notes) - len(led_notes)
print("%d notes in the log, %d note cues" % (len(log_notes), len(led_notes)))
if len(led_notes) < 20:
    bad.append("only %d note cues" % len(led_notes))
elif k < 0 or k > 10 or log_notes[k:] != led_notes:
    bad.append("the note cues are not the log's notes in order:\nlog %r\nled %r" %
               (log_notes[-len(led_notes):], led_notes))

edits = [e for e in ev if e["type"] == "step_edit"]
steps = [c for c in cues if c[0] == "step"]
print("step edits %r, step cues %r" % (edits, steps))
if len(edits) != 1 or len(steps) != 1:
    bad.append("want one step_edit and one step cue, got %r and %r" % (edits, steps))
else:
    e = edits[0]
    want_cue = ["step", str(e["step"]), "1" if e["on"] else "0", str(e["velocity"]),
                str(round(e["probability"] * 100))]
    if e["step"] != 2 or not e["on"] or e["probability"] != 1:
        bad.append("the press did not accent step 3: %r" % e)
    if steps[0][:5] != want_cue:
        bad.append("step cue %r, want %r" % (steps[0], want_cue))

rev = [c for c in cues if c[0] == "param" and c[2] == "reverb_mix"]
want = 0.9 * 100 / 127
if not rev:
    bad.append("no param cue for reverb_mix")
else:
    _, pid, _, value, pos, _ = rev[-1]
    print("reverb_mix cue: id %s value %s position %s" % (pid, value, pos))
    if pid != "2" or abs(float(value) - want) > 1e-6 or abs(int(pos) - want * 65535) > 1:
        bad.append("reverb_mix cue %r, want id 2 value %.6f position %.0f" %
                   (rev[-1], want, want * 65535))
if not cues or cues[-1][:2] != ["idle", "1"]:
    bad.append("the last cue is %r, not the idle cue sent at shutdown" %
               (cues[-1] if cues else None))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF

# Damage: 12 bytes changed (XOR with a non-zero mask) at seeded positions.
python3 - "$tmp/led.bin" "$tmp/damaged.bin" "$tmp/flips.txt" <<'EOF' || dev_fail "cannot damage the capture"
import random, sys
data = bytearray(open(sys.argv[1], "rb").read())
r = random.Random(4711)
pos = sorted(r.sample(range(len(data)), 12))
for p in pos:
    data[p] ^= r.randint(1, 255)
open(sys.argv[2], "wb").write(data)
open(sys.argv[3], "w").write(" ".join(map(str, pos)) + "\n")
EOF
"$dump" --offsets "$tmp/damaged.bin" >"$tmp/damaged.txt" || dev_fail "cue_dump could not read the damaged stream"

python3 - "$tmp/cues.txt" "$tmp/damaged.txt" "$tmp/flips.txt" <<'EOF' || dev_fail "damaged stream checks failed"
import sys

def load(path):
    lines = [l.split() for l in open(path)]
    stats = dict(kv.split("=") for kv in lines[-1][1:])
    cues = {int(l[-1][1:]): l[:-1] for l in lines[:-1]}
    return cues, stats

clean, cs = load(sys.argv[1])
damaged, ds = load(sys.argv[2])
flips = [int(x) for x in open(sys.argv[3]).read().split()]
# Frame i owns the bytes after the previous frame's closing 0x00 up to its
# own closing 0x00 (its leading 0x00 included).
ends = sorted(clean)
hit = set()
for p in flips:
    for i, end in enumerate(ends):
        if p <= end:
            hit.add(end)
            break
bad = []
for end in ends:
    if end in hit:
        if end in damaged and damaged[end] == clean[end]:
            bad.append("frame ending at %d decoded although damaged" % end)
    elif damaged.get(end) != clean[end]:
        bad.append("frame ending at %d untouched but lost or changed: %r -> %r" %
                   (end, clean[end], damaged.get(end)))
wrong = [(o, c) for o, c in damaged.items() if o not in clean or clean[o] != c]
if wrong:
    bad.append("damage decoded as cues that were never sent: %r" % wrong)
errors = sum(int(ds[k]) for k in ("crc", "overlong", "framing", "unknown"))
ok = int(ds["ok"])
print("damaged: %d bytes changed, %d frames touched; decoded %d of %d, %d counted as "
      "errors (crc %s, framing %s, overlong %s, unknown %s)" %
      (len(flips), len(hit), ok, len(ends), errors, ds["crc"], ds["framing"],
       ds["overlong"], ds["unknown"]))
if ok != len(ends) - len(hit):
    bad.append("decoded %d frames, want %d" % (ok, len(ends) - len(hit)))
if not len(hit) <= errors <= 2 * len(hit):
    bad.append("%d errors counted for %d damaged frames" % (errors, len(hit)))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
echo "$DEV_NAME: ok"
