#!/bin/bash
# render_knob_sweep: no position of the filter knob mutes the instrument, as
# a listener hears it.  A MIDI file turns CC 21 (filter_cutoff) to 0, 8, 16,
# 32, 48, 64, 96 and 127, two seconds each, while every step sounds
# (density 1, no mutation); `render --wav` (scsynth -N) records it and sox
# measures the RMS level of each position.  With the shipped mapping (the
# knob spans 300..8000 Hz) every position is within 15 dB of the loudest.
# The control, the same sweep over the parameter's whole range (80..12000
# Hz, as the knob was before it had a range of its own), has a position 20
# dB or more below the loudest: near silence, which the measure must see.
# Needs scsynth and sox.
. "$(dirname "$0")/render_lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || fail "/usr/bin/python3 is needed"
command -v scsynth >/dev/null 2>&1 || fail "scsynth not found: install supercollider-server"
command -v sox >/dev/null 2>&1 || fail "sox not found: install sox"

"$py" - "$work/sweep.mid" <<'EOF' || fail "cannot write the MIDI file"
import struct, sys
def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))
body, last = b"", 0
for i, v in enumerate([0, 8, 16, 32, 48, 64, 96, 127]):
    tick = (1 + 2 * i) * 960	# 480 ticks a beat at 120 BPM: 960 a second
    body += vlq(tick - last) + bytes([0xB0, 21, v])
    last = tick
body += vlq(0) + b"\xff\x2f\x00"
open(sys.argv[1], "wb").write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" +
                              struct.pack(">I", len(body)) + body)
EOF

# levels WAV: the RMS level (dB) of each knob position, skipping the first
# 0.4 s after each move
levels() {
	local i
	for i in 0 1 2 3 4 5 6 7; do
		sox "$1" -n trim "$(awk -v i="$i" 'BEGIN { print 1.4 + 2 * i }')" 1.5 stats 2>&1 |
			awk '/^RMS lev dB/ { print $4 }'
	done
}

sweep() {	# sweep NAME [--set ...]: renders the sweep to NAME.wav
	local name=$1
	shift
	"$ME_BIN" render -q -c "$conf" --seconds 17 --seed 3 --input "$work/sweep.mid" \
		--set mutation.enabled=false --set sequencer.density=1.0 "$@" \
		--wav "$work/$name.wav" 2>"$work/$name.err" ||
		fail "render --wav ($name) failed: $(cat "$work/$name.err")"
	levels "$work/$name.wav" >"$work/$name.db"
	[ "$(grep -c . "$work/$name.db")" = 8 ] || fail "sox measured no levels for $name"
}

sweep shipped
sweep whole --set 'mapping.ccs.filter_cutoff={ cc = 21; min = 80.0; max = 12000.0; }'
"$py" - "$work/shipped.db" "$work/whole.db" <<'EOF' || fail "knob levels"
import sys
pos = [0, 8, 16, 32, 48, 64, 96, 127]
shipped = [float(x) for x in open(sys.argv[1])]
whole = [float(x) for x in open(sys.argv[2])]
for name, db in (("shipped knob (300..8000 Hz)", shipped), ("whole range (80..12000 Hz)", whole)):
    print("%-28s %s" % (name, "  ".join("CC%d %.1f" % (p, d) for p, d in zip(pos, db))))
bad = []
if min(shipped) < max(shipped) - 15:
    bad.append("with the shipped knob, CC %d is %.1f dB below the loudest position" %
               (pos[shipped.index(min(shipped))], max(shipped) - min(shipped)))
if min(whole) > max(whole) - 20:
    bad.append("the control did not find the near-silent bottom of the whole range "
               "(%.1f dB spread): the measure cannot tell" % (max(whole) - min(whole)))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
echo "render_knob_sweep: ok"
