#!/bin/bash
# bench/clock.sh: the MIDI clock figures (issue targets in doc/gear.md).
#
#   make bench-clock      (or: top_srcdir=.. top_builddir=. ../bench/clock.sh)
#   BENCH_SECONDS=60 SEEDS=50
#
# 1. Clock in: bench/clock_sim feeds the core pulses at 120 BPM with +-1 ms
#    of seeded uniform jitter, as the worker would, then steps to 140 BPM;
#    prints the settling time to 0.1 %, the step onsets' distance from their
#    pulses, the time to follow the step within 1 % and the overshoot.
# 2. Clock and notes out: the real binary at 120 BPM without drift writes to
#    a pty for BENCH_SECONDS; a reader (SCHED_FIFO 70 when chrt allows)
#    stamps every byte.  Prints the pulse intervals' deviation from 1/48 s
#    (p50, p99, max, us), and the engine's own lateness of every message
#    written (write time minus due time; the note ons are among them).
#    Then the same into a FIFO (OUTPUTS="pty fifo" by default): the pty's
#    reader stamps carry the tty layer's kworker, the FIFO's do not.
set -euo pipefail
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
SECONDS_RUN=${BENCH_SECONDS:-60}
SEEDS=${SEEDS:-50}
ME="$top_builddir/mystery-engine"
SIM="$top_builddir/bench/clock_sim"
TOOL="$top_srcdir/tests/tools/midi_pty.py"
[ -x "$SIM" ] || { echo "build bench/clock_sim first (make bench/clock_sim)"; exit 1; }
tmp=$(mktemp -d)
lpid=
epid=
cleanup() {
	[ -n "$epid" ] && kill -9 "$epid" 2>/dev/null
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$SIM" "$SEEDS"

rt=()
chrt -f 70 true 2>/dev/null && rt=(chrt -f 70)
echo "clock_out_reader: ${rt[*]:-normal priority}"

# One run of the real binary writing to $1 (pty or fifo) for SECONDS_RUN.
# A pty passes every write through the kernel's tty flip buffer, pushed to
# the reader by a kworker at normal priority (so the reader's stamps carry
# that kworker's scheduling); a FIFO wakes the reader directly.
run_out() {
	local kind=$1 out=$tmp/mo
	rm -f "$out" "$tmp/mo.log" "$tmp/err"
	if [ "$kind" = pty ]; then
		"${rt[@]}" /usr/bin/python3 "$TOOL" listen "$out" "$tmp/mo.log" &
	else
		mkfifo "$out"
		"${rt[@]}" /usr/bin/python3 -c '
import os, signal, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
import select
p = select.poll(); p.register(fd, select.POLLIN)
with open(sys.argv[2], "w") as log:
    while True:
        if not p.poll(100):
            continue
        try:
            b = os.read(fd, 4096)
        except BlockingIOError:
            continue
        t = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if not b:
            time.sleep(0.01)
            continue
        log.write("".join("%d %02x\n" % (t, x) for x in b))
' "$out" "$tmp/mo.log" &
	fi
	lpid=$!
	for _ in $(seq 1 100); do [ -e "$out" ] && [ -e "$tmp/mo.log" ] && break; sleep 0.02; done
	"$ME" --daemon --synth none --http off --seed 7 -c "$top_srcdir/conf/mystery-engine.conf" \
		--midi-in none --led none --midi-out "raw:$out" --set sequencer.bpm=120 \
		--set sequencer.drift=0 --set mutation.enabled=false 2>"$tmp/err" &
	epid=$!
	sleep "$SECONDS_RUN"
	kill -TERM "$epid"
	wait "$epid" || true
	epid=
	sleep 0.3
	kill "$lpid"
	wait "$lpid" 2>/dev/null || true
	lpid=
	/usr/bin/python3 - "$tmp/mo.log" "$kind" <<'PY'
import sys
ts = [int(l.split()[0]) for l in open(sys.argv[1]) if l.split()[1] == "f8"]
ideal = 60e9 / (120 * 24)
dev = sorted(abs((b - a) - ideal) / 1e3 for a, b in zip(ts, ts[1:]))
n = len(dev)
print("clock_out_intervals_%s %d p50_us %.1f p99_us %.1f max_us %.1f" %
      (sys.argv[2], n, dev[n // 2], dev[int(n * 0.99)], dev[-1]))
PY
	grep -o '"msg":"messages[^"]*"' "$tmp/err" | sed "s/\"msg\":\"/midi_out_engine_side_$kind /; s/\"\$//"
	grep -o '"msg":"loops[^"]*"' "$tmp/err" | sed "s/\"msg\":\"/worker_$kind /; s/\"\$//"
}
for kind in ${OUTPUTS:-pty fifo}; do
	run_out "$kind"
done
