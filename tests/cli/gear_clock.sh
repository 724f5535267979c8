#!/bin/bash
# gear_clock: MIDI clock in and out through ptys.  A drum machine stand-in
# (tests/tools/midi_pty.py clock) plays Start and a clock at 120 BPM with
# +-1 ms of random jitter into --midi-in, Stop at 3 s, Continue at 4 s, 140
# BPM from 4.5 s, then goes silent; a second pty records what --midi-out
# writes.  With sequencer.clock_source = "midi" the engine follows: its
# steps lock onto every sixth pulse (phase measured against the pulses' ideal
# times), the followed tempo reaches 120 then 140, Stop pauses and Continue
# resumes, and after the silence it falls back to the internal clock at the
# last tempo.  The clock out mirrors it: Song Position + Start first, 24
# pulses a beat at the followed tempo, Stop on the pause, Song Position +
# Continue on the resume, Stop at exit.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup
TOOL="$top_srcdir/tests/tools/midi_pty.py"
[ -f "$TOOL" ] || dev_fail "$TOOL missing"

/usr/bin/python3 "$TOOL" listen "$tmp/mo" "$tmp/mo.log" 2>"$tmp/listen.err" &
lpid=$!
# the player at real-time priority where allowed: its late wake-ups on a
# loaded machine would otherwise bunch the pulses far beyond +-1 ms
rt=()
chrt -f 70 true 2>/dev/null && rt=(chrt -f 70)
"${rt[@]}" /usr/bin/python3 "$TOOL" clock "$tmp/mi" --start --bpm 120 --seconds 6 --jitter-ms 1 \
	--seed 11 --stop-at 3 --continue-at 4 --bpm2 140 --at 4.5 >"$tmp/clock.log" \
	2>"$tmp/clock.err" &
cpid=$!
stop_helpers() {
	kill "$lpid" "$cpid" 2>/dev/null || true
	wait "$lpid" "$cpid" 2>/dev/null || true
	dev_cleanup
}
trap stop_helpers EXIT
for _ in $(seq 1 100); do [ -L "$tmp/mo" ] && [ -L "$tmp/mi" ] && break; sleep 0.02; done
engine_start --midi-in "raw:$tmp/mi" --midi-out "raw:$tmp/mo" --led none \
	--set sequencer.clock_source=midi --set sequencer.clock_timeout_ms=1000 \
	--set sequencer.swing=0 --set sequencer.bpm=100 --set mutation.enabled=false \
	--set sequencer.density=1.0
wait "$cpid" || dev_fail "the clock player failed: $(cat "$tmp/clock.err")"
# the silence after the clock: the fallback comes clock_timeout_ms later
dev_wait_line "$tmp/ev.jsonl" '"type":"clock_sync","state":"internal"' 3 ||
	dev_fail "no fallback to the internal clock after the pulses stopped"
engine_alive || dev_fail "the engine died"
engine_stop
sleep 0.3
kill "$lpid"; wait "$lpid" 2>/dev/null || true

base=$(sed -n 's/.*event log time 0 is CLOCK_MONOTONIC \([0-9]*\) ns.*/\1/p' "$tmp/engine.err")
[ -n "$base" ] || dev_fail "no events_base line"
/usr/bin/python3 - "$tmp/ev.jsonl" "$tmp/clock.log" "$tmp/mo.log" "$base" <<'PY' || dev_fail "checks failed"
import json, statistics, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
played = [l.split() for l in open(sys.argv[2])]
out = [l.split() for l in open(sys.argv[3])]
bad = []
pulses = [(int(i), int(s)) for k, i, s in played if k == "clock"]
syncs = [e for e in ev if e["type"] == "clock_sync"]
trans = [e["state"] for e in ev if e["type"] == "transport"]
if [s["state"] for s in syncs] != ["following", "internal"]:
    bad.append("clock_sync lines: %r" % syncs)
if trans != ["paused", "running"]:
    bad.append("want the Stop to pause and the Continue to resume, got %r" % trans)
held = syncs[-1]["bpm"] if syncs else 0
print("fell back holding %.3f BPM" % held)
if abs(held / 140 - 1) > 0.005:
    bad.append("held tempo %.3f, want 140 (+-0.5 %%)" % held)
# The event log's times on CLOCK_MONOTONIC, the player's clock.
base = int(sys.argv[4])
# density 1: every step sounds a note at the step's time
steps = sorted({e["t"] * 1e9 + base for e in ev if e["type"] == "note"})
ideal = [i for i, s in pulses]
t_stop = [int(s) for k, i, s in played if k == "stop"][0]
t_cont = [int(s) for k, i, s in played if k == "continue"][0]
# The phase the engine can know: a straight line through the pulses as they
# were sent in the steady 120 BPM part (the player's +-1 ms jitter, and on a
# loaded machine its late wake-ups, average out as in the engine's filter).
steady = [(n, s) for n, (i, s) in enumerate(pulses) if ideal[0] + 1.0e9 < i < t_stop - 0.1e9]
mx = statistics.mean(n for n, s in steady)
my = statistics.mean(s for n, s in steady)
slope = sum((n - mx) * (s - my) for n, s in steady) / sum((n - mx) ** 2 for n, s in steady)
line = lambda n: my + slope * (n - mx)
sent_late = sorted(abs(s - i) / 1e6 for i, s in pulses)
print("player: pulses sent %.3f ms (median), %.3f ms (max) off their ideal times" %
      (sent_late[len(sent_late) // 2], sent_late[-1]))
errs = []
for t in steps:
    # steady 120 BPM part, from 1.5 s after the start to the Stop
    if ideal[0] + 1.5e9 < t < t_stop - 0.2e9:
        n = 6 * round((t - line(0)) / (6 * slope))
        errs.append(abs(t - line(n)) / 1e6)
if len(errs) < 6:
    bad.append("only %d steps between 1.5 s and the Stop" % len(errs))
else:
    med, worst = statistics.median(errs), max(errs)
    print("steps on their pulses: %d steps, phase error median %.3f ms, max %.3f ms" %
          (len(errs), med, worst))
    if med > 2.0:
        bad.append("steps are %.3f ms (median) off their pulses" % med)
paused = [t for t in steps if t_stop + 0.1e9 < t < t_cont]
if paused:
    bad.append("%d steps while stopped" % len(paused))
late = [b - a for a, b in zip(steps, steps[1:]) if t_cont + 1.5e9 < a < ideal[-1]]
# the tempo the player delivered there (a late-waking player bunches pulses)
sent = [(n, s) for n, (i, s) in enumerate(pulses) if t_cont + 1.0e9 < s]
if late and len(sent) > 24:
    mx = statistics.mean(n for n, s in sent)
    my = statistics.mean(s for n, s in sent)
    sent_bpm = 60e9 / 24 / (sum((n - mx) * (s - my) for n, s in sent) /
                            sum((n - mx) ** 2 for n, s in sent))
    bpm = 60e9 / 4 / statistics.median(late)
    print("after the change: steps at %.2f BPM, pulses sent at %.2f BPM" % (bpm, sent_bpm))
    if abs(bpm / sent_bpm - 1) > 0.005 or abs(bpm / 140 - 1) > 0.02:
        bad.append("steps at %.2f BPM after the change to 140 (sent at %.2f)" % (bpm, sent_bpm))
else:
    bad.append("no steps after the change to 140")
# what went out
b = [x[1] for x in out]
f8 = [int(t) for t, x in out if x == "f8"]
sys_rt = [x for x in b if x in ("fa", "fb", "fc", "f2")]
print("clock out: %d pulses, real-time sequence %s" % (len(f8), " ".join(sys_rt)))
i = b.index("f2") if "f2" in b else 0
if b[i:i + 4] != ["f2", "00", "00", "fa"]:
    bad.append("the clock out did not begin with Song Position 0 and Start: %r" % b[i:i + 6])
if sys_rt.count("fc") < 2 or sys_rt[-1] != "fc":
    bad.append("want Stop on the pause and at exit: %r" % sys_rt)
if sys_rt.count("fb") < 2:
    bad.append("want Song Position + Continue after the Start and on the resume: %r" % sys_rt)
# 24 pulses a beat: count the pulses in the steady 140 BPM second
t140 = t_cont + 1.5e9
n = len([t for t in f8 if t140 <= t < t140 + 1e9])
print("clock out at 140 BPM: %d pulses in one second (want %.1f)" % (n, 140 * 24 / 60))
if abs(n - 140 * 24 / 60) > 2:
    bad.append("%d pulses in a second at 140 BPM" % n)
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
echo "$DEV_NAME: ok"
