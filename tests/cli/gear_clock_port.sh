#!/bin/bash
# gear_clock_port: MIDI clock on a port of its own (--clock-in).  A drum
# machine stand-in (tests/tools/midi_pty.py clock) plays Start and 120 BPM
# with +-1 ms of jitter on one pty, then unplugs it (its link removed, the
# pty closed); while it plays, the stand-in Teensy (tests/tools/e2e_teensy.py)
# turns the cutoff knob and sends a Stop on the notes pty, which must not
# stop the music (the clock comes from the other port).  The steps lock to
# 120 BPM; 1 s (sequencer.clock_timeout_ms) after the port vanished the
# internal clock goes on at 120; a second player plugged in at the same path
# at 90 BPM is found again (reconnect by path) and followed.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup
TOOL="$top_srcdir/tests/tools/midi_pty.py"
[ -f "$TOOL" ] || dev_fail "$TOOL missing"

rt=()
chrt -f 70 true 2>/dev/null && rt=(chrt -f 70)
"${rt[@]}" /usr/bin/python3 "$TOOL" clock "$tmp/clk" --start --bpm 120 --seconds 3 \
	--jitter-ms 1 --seed 5 --hold 0 >"$tmp/clock1.log" 2>"$tmp/clock1.err" &
cpid=$!
c2pid=
stop_helpers() {
	kill "$cpid" ${c2pid:+"$c2pid"} 2>/dev/null || true
	wait "$cpid" ${c2pid:+"$c2pid"} 2>/dev/null || true
	dev_cleanup
}
trap stop_helpers EXIT
teensy_start --midi "$tmp/midi"
for _ in $(seq 1 500); do [ -L "$tmp/clk" ] && break; sleep 0.02; done
[ -L "$tmp/clk" ] || dev_fail "the clock player made no pty: $(cat "$tmp/clock1.err")"
engine_start --midi-in "raw:$tmp/midi" --clock-in "raw:$tmp/clk" --led none \
	--set sequencer.clock_source=midi --set sequencer.clock_timeout_ms=1000 \
	--set sequencer.swing=0 --set sequencer.bpm=100 --set mutation.enabled=false \
	--set sequencer.density=1.0
teensy_do 6 '^(connected|timeout)' wait_connected 5 | grep -q '^connected' ||
	dev_fail "the engine never opened the notes pty"
dev_wait_line "$tmp/ev.jsonl" '"type":"clock_sync","state":"following"' 10 ||
	dev_fail "the steps never followed the clock port"
sleep 1
teensy_do 2 '^sent' cc 1 21 127 >/dev/null
teensy_do 2 '^sent' hex fc >/dev/null
wait "$cpid" || dev_fail "the first clock player failed: $(cat "$tmp/clock1.err")"
dev_wait_line "$tmp/ev.jsonl" '"type":"clock_sync","state":"internal"' 3 ||
	dev_fail "no fallback to the internal clock after the clock port vanished"
dev_wait_line "$tmp/engine.err" '"event":"midi_lost"' 1 ||
	dev_fail "no midi_lost line for the clock port"
# the held tempo is measured between 1.2 s after the last pulse and the
# second player's first: 2 s more give it some 12 steps
sleep 2
"${rt[@]}" /usr/bin/python3 "$TOOL" clock "$tmp/clk" --bpm 90 --seconds 4 --jitter-ms 1 \
	--seed 6 --hold 0 >"$tmp/clock2.log" 2>"$tmp/clock2.err" &
c2pid=$!
wait "$c2pid" || dev_fail "the second clock player failed: $(cat "$tmp/clock2.err")"
c2pid=
engine_alive || dev_fail "the engine died"
engine_stop

base=$(sed -n 's/.*event log time 0 is CLOCK_MONOTONIC \([0-9]*\) ns.*/\1/p' "$tmp/engine.err")
[ -n "$base" ] || dev_fail "no events_base line"
/usr/bin/python3 - "$tmp/ev.jsonl" "$tmp/clock1.log" "$tmp/clock2.log" "$base" \
	"$tmp/engine.err" <<'PY' || dev_fail "checks failed"
import json, statistics, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
p1 = [int(s) for k, i, s in (l.split() for l in open(sys.argv[2])) if k == "clock"]
p2 = [int(s) for k, i, s in (l.split() for l in open(sys.argv[3])) if k == "clock"]
base = int(sys.argv[4])
log = [json.loads(l) for l in open(sys.argv[5]) if l.startswith("{")]
mono = lambda e: e["t"] * 1e9 + base
bad = []
syncs = [e for e in ev if e["type"] == "clock_sync"]
print("clock_sync: %s" % ", ".join("%s %.2f BPM at %+.3f s" % (e["state"], e["bpm"],
      (mono(e) - p1[0]) / 1e9) for e in syncs))
if [e["state"] for e in syncs] != ["following", "internal", "following"]:
    bad.append("want following, internal, following: %r" % syncs)
else:
    gap = (mono(syncs[1]) - p1[-1]) / 1e9
    print("fallback %.3f s after the last pulse on the vanished port" % gap)
    if not 0.9 <= gap <= 1.3:
        bad.append("fallback %.3f s after the last pulse (want 1 s)" % gap)
    if abs(syncs[1]["bpm"] / 120 - 1) > 0.005:
        bad.append("held %.2f BPM, want 120" % syncs[1]["bpm"])
    back = (mono(syncs[2]) - p2[0]) / 1e9
    print("following again %.3f s after the second player's first pulse" % back)
    if back > 1.0:
        bad.append("followed the returning port only %.3f s after its first pulse" % back)
steps = sorted(mono(e) for e in ev if e["type"] == "note")
def bpm_between(t0, t1):
    d = [b - a for a, b in zip(steps, steps[1:]) if t0 <= a and b <= t1]
    return (60e9 / 4 / statistics.median(d), len(d)) if len(d) > 3 else (0, len(d))
b1, n1 = bpm_between(p1[0] + 1.0e9, p1[-1])
b2, n2 = bpm_between(p2[0] + 1.5e9, p2[-1])
bi, ni = bpm_between(p1[-1] + 1.2e9, p2[0] - 0.2e9)
print("steps at %.2f BPM on the first clock (%d), %.2f BPM held (%d), %.2f BPM on the "
      "second (%d)" % (b1, n1, bi, ni, b2, n2))
if abs(b1 / 120 - 1) > 0.01:
    bad.append("steps at %.2f BPM while the first clock played 120" % b1)
if ni < 4:
    bad.append("only %d steps between the fallback and the second clock: want 4 or more" % ni)
elif abs(bi / 120 - 1) > 0.01:
    bad.append("steps at %.2f BPM after the fallback, want 120 held" % bi)
if abs(b2 / 90 - 1) > 0.01:
    bad.append("steps at %.2f BPM while the second clock played 90" % b2)
# the notes port keeps working, and its Stop is not a clock port's Stop
cut = [e for e in ev if e["type"] == "param" and e["name"] == "filter_cutoff"
       and e["source"] == "midi"]
if not cut or abs(cut[0]["value"] - 8000) > 1:
    bad.append("the cutoff knob on the notes port did not reach 8000 Hz: %r" % cut)
trans = [e for e in ev if e["type"] == "transport"]
if trans:
    bad.append("a Stop on the notes port moved the transport: %r" % trans)
lost = [l for l in log if l.get("event") == "midi_lost" and "clk" in l.get("msg", "")]
conn = [l for l in log if l.get("event") == "midi_connected"]
if not lost:
    bad.append("no midi_lost log line naming the clock port")
if len(conn) < 3:
    bad.append("want the notes port and the clock port twice connected: %r" % conn)
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
echo "$DEV_NAME: ok"
