#!/bin/bash
# midi_flood_e2e: a controller flood through the real binary.  A pty stands
# in for the Teensy (tests/tools/e2e_teensy.py) and sends 10,000 CC messages
# per second for SECONDS (round robin over CC 21..25: filter_cutoff,
# reverb_mix, swing, density, master_volume, each value moving), plus a note
# on (60..71, triggering steps 0..11) every 250 ms.  The engine plays with
# the real audio backend when jackd and scsynth are installed, else with
# --synth none (it says which), and writes the event log.  Prints:
#   - VmRSS sampled every second: first, last, max (memory stays flat);
#   - the MIDI input queue's high-water mark and capacity, coalesced and
#     dropped counts, from GET /metrics when the HTTP API answers;
#   - per controller, the last value sent against the last input line and
#     the last param line of the event log (the last value is applied);
#   - for every note on: its input line, the live note at the same time, and
#     how long after the press the input was stamped (max and p99);
#   - the worker_stats line's midi_to_send p50/p99 and lateness.
# Exit 1 when a check fails (a last value not applied, a note lost).
#
# Usage: bench/midi_flood_e2e.sh [SECONDS (60)]
# Environment: ME_BIN (./mystery-engine), top_srcdir (the script's tree),
# SYNTH=none forces the silent backend.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
top_srcdir=${top_srcdir:-$here}
ME_BIN=${ME_BIN:-./mystery-engine}
secs=${1:-60}
rate=10000
ccs=21,22,23,24,25
teensy="$top_srcdir/tests/tools/e2e_teensy.py"
conf="$top_srcdir/conf/mystery-engine.conf"
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }
[ -x "$ME_BIN" ] || { echo "$ME_BIN not built (set ME_BIN)" >&2; exit 1; }

tmp=$(mktemp -d)
epid= tpid= spid= port=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null || true
	[ -n "$epid" ] && kill -9 "$epid" 2>/dev/null || true
	exec 3>&-
	[ -n "$tpid" ] && { kill "$tpid" 2>/dev/null || true; wait "$tpid" 2>/dev/null || true; }
	[ -n "$port" ] && rm -f "/dev/shm/SuperColliderServer_$port"
	rm -rf "$tmp"
}
trap cleanup EXIT
free_port() {	# $1: SOCK_DGRAM or SOCK_STREAM
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}
wait_for() {	# FILE ERE SECONDS
	local i
	for i in $(seq 1 $(($3 * 50))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

synth_args=(--synth none)
backend=none
if [ "${SYNTH:-}" != none ] && command -v jackd >/dev/null && command -v scsynth >/dev/null; then
	port=$(free_port SOCK_DGRAM)
	synth_args=(--synth supercollider --set "synth.port=$port"
		--set "synth.jack_name=me-flood-$$" --set synth.jack_driver=dummy)
	backend=supercollider
elif [ "${SYNTH:-}" != none ]; then
	echo "note: jackd or scsynth missing: the real audio backend is not available"
fi
hport=$(free_port SOCK_STREAM)

mkfifo "$tmp/ctl"
python3 "$teensy" --midi "$tmp/midi" <"$tmp/ctl" >"$tmp/teensy.out" 2>&1 &
tpid=$!
exec 3>"$tmp/ctl"
"$ME_BIN" --daemon --http "127.0.0.1:$hport" --seed 5 -c "$conf" "${synth_args[@]}" \
	--midi-in "raw:$tmp/midi" --led none --events "$tmp/ev.jsonl" 2>"$tmp/engine.err" &
epid=$!
wait_for "$tmp/engine.err" '"event":"started"' 10 || { cat "$tmp/engine.err" >&2; exit 1; }
echo "wait_connected 5" >&3
wait_for "$tmp/teensy.out" '^connected' 6 || { cat "$tmp/teensy.out" >&2; exit 1; }
# Calibration: one CC in a quiet moment gives the engine's time base (the
# event log's t is CLOCK_MONOTONIC minus it), to within that CC's own
# write-to-stamp time (tens of microseconds when nothing else runs).
sleep 0.5
echo "cc 1 52 64" >&3
wait_for "$tmp/teensy.out" '^sent cc 1 52 64' 2 || exit 1
wait_for "$tmp/ev.jsonl" '"number":52,"value":64' 2 || { echo "calibration CC lost" >&2; exit 1; }
sleep 0.2

# VmRSS every second while the flood runs.
(
	while kill -0 "$epid" 2>/dev/null; do
		awk '/^VmRSS/ {print $2}' "/proc/$epid/status" 2>/dev/null || true
		sleep 1
	done
) >"$tmp/rss.txt" &
spid=$!

echo "flood $secs $rate 250 $ccs" >&3
wait_for "$tmp/teensy.out" '^flood_done' $((secs + 30)) || { echo "the flood did not finish" >&2; exit 1; }
sleep 0.5
python3 - "$hport" >"$tmp/metrics.txt" 2>/dev/null <<'EOF' || true
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2) as r:
    sys.stdout.write(r.read().decode())
EOF
kill "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
spid=
kill -TERM "$epid"
rc=0
wait "$epid" || rc=$?
epid=
echo quit >&3
exec 3>&-
wait "$tpid" || true
tpid=
[ "$rc" -eq 0 ] || { tail -5 "$tmp/engine.err" >&2; echo "the engine exited $rc" >&2; exit 1; }

echo "midi_flood_e2e: $secs s of $rate CC/s on CC $ccs + a note on every 250 ms; backend $backend"
python3 - "$tmp" <<'EOF'
import json, math, re, statistics, sys
d = sys.argv[1]
bad = []
out = open(d + "/teensy.out").read().splitlines()
# w=: the time just before the write (the press); t=: after it returned
cal_sent = float(next(l for l in out if l.startswith("sent cc 1 52 64")).split("w=")[1])
done = next(l for l in out if l.startswith("flood_done"))
last_sent = {int(l.split()[1]): int(l.split()[2]) for l in out if l.startswith("flood_last")}
presses = [(int(l.split()[1]), float(l.split("w=")[1])) for l in out
           if l.startswith("flood_note")]
print("sent: " + done)

rss = [int(x) for x in open(d + "/rss.txt").read().split()]
if rss:
    print("VmRSS (kB), %d samples: first %d, last %d, max %d, growth %+d" %
          (len(rss), rss[0], rss[-1], max(rss), rss[-1] - rss[0]))

m = open(d + "/metrics.txt").read()
want = ("input_queue_max_depth", "input_queue_capacity", "midi_coalesced_messages_total",
        'dropped_messages_total{queue="midi_in"}', 'dropped_messages_total{queue="events"}',
        "midi_parse_errors_total")
found = [l for l in m.splitlines() if not l.startswith("#") and any(w in l for w in want)]
if found:
    print("input queue (GET /metrics):")
    for l in found:
        print("  " + l)
else:
    print("input queue high-water: not available (GET /metrics did not answer)")

# one pass over the event log
PARAM = {21: ("filter_cutoff", 80, 12000, True), 22: ("reverb_mix", 0, 1, False),
         23: ("swing", 0, 0.5, False), 24: ("density", 0, 1, False),
         25: ("master_volume", 0, 1, False)}
names = {v[0]: k for k, v in PARAM.items()}
last_in, last_param, note_ins, live = {}, {}, [], {}
cal_t = None
lines = n_inputs = 0
with open(d + "/ev.jsonl") as f:
    for line in f:
        lines += 1
        e = json.loads(line)
        ty = e["type"]
        if ty == "input":
            n_inputs += 1
            if e["kind"] == "cc":
                if e["number"] == 52 and cal_t is None:
                    cal_t = e["t"]
                last_in[e["number"]] = e["value"]
            elif e["kind"] == "note_on":
                note_ins.append(e)
        elif ty == "param" and e["name"] in names and e["source"] == "midi":
            last_param[e["name"]] = e["value"]
        elif ty == "note":
            live.setdefault(e["t"], []).append(e)
print("event log: %d lines" % lines)

print("%-4s %-14s %9s %9s %11s %11s  %s" % ("cc", "param", "last_sent", "last_in",
                                            "param", "want", "applied"))
for n in sorted(last_sent):
    name, lo, hi, exp = PARAM[n]
    u = last_sent[n] / 127
    want = lo * (hi / lo) ** u if exp else lo + u * (hi - lo)
    want = round(want, 4)
    got = last_param.get(name)
    ok = last_in.get(n) == last_sent[n] and got is not None and abs(got - want) <= 1e-4
    print("%-4d %-14s %9d %9s %11s %11s  %s" % (n, name, last_sent[n], last_in.get(n),
                                                got, want, "yes" if ok else "NO"))
    if not ok:
        bad.append("CC %d: the last value sent is not the one applied" % n)

base = cal_sent - cal_t
delays = []
if len(note_ins) != len(presses):
    bad.append("%d note ons sent, %d reached the core" % (len(presses), len(note_ins)))
for (note, t_sent), e in zip(presses, note_ins):
    if e["number"] != note:
        bad.append("note on %d arrived as %d" % (note, e["number"]))
        break
    sounded = [x for x in live.get(e["t"], []) if x["step"] == note - 60 and
               x["velocity"] == 100]
    if not sounded:
        bad.append("the press of %d at %.6f did not sound a note" % (note, e["t"]))
    delays.append((e["t"] + base - t_sent) * 1e3)
if delays:
    s = sorted(delays)
    p99 = s[min(len(s) - 1, int(math.ceil(0.99 * len(s))) - 1)]
    print("note ons: %d sent, %d in the log, each sounding at its input's time; "
          "press to input stamp: median %.3f ms, p99 %.3f ms, max %.3f ms" %
          (len(presses), len(note_ins), statistics.median(s), p99, s[-1]))
    if s[-1] > 5:
        bad.append("a note was stamped %.3f ms after its press" % s[-1])

for l in open(d + "/engine.err"):
    if '"worker_stats"' in l:
        msg = json.loads(l)["msg"]
        print("worker: " + msg)
        # every MIDI message the worker took has its input line
        taken = int(re.search(r"midi_to_send_n (\d+)", msg).group(1))
        print("input lines in the event log: %d of the %d messages taken%s" %
              (n_inputs, taken, "" if n_inputs == taken else ": LINES LOST"))
        if n_inputs != taken:
            bad.append("the event log lost %d input lines" % (taken - n_inputs))
    if ('"level":"error"' in l or '"level":"warn"' in l) and '"event":"root"' not in l:
        print("log: " + l.strip())
if bad:
    print("FAIL:\n  " + "\n  ".join(bad))
    sys.exit(1)
print("all checks passed")
EOF
