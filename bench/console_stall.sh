#!/bin/bash
# console_stall: a stalled terminal (a frozen SSH link) must not delay a note.
#
# Runs the console in a pseudo-terminal (200x60, xterm-256color), reads its
# output for LEAD seconds, then stops reading the terminal for STALL seconds
# (default 10), resizing it (200 <-> 199 columns) every 0.1 s in the first
# seconds so that full repaints fill the pty's buffer and the console thread
# blocks in write(), then reads again for LEAD seconds and presses q.  Prints
# the bytes the console wrote, how long it was blocked (the backlog read at
# once after the stall), the kernel wait channel of the console thread
# during the stall, and what the music did meanwhile:
#
#   demo: tests/tools/tui_demo (real engine and worker, no sound): the
#         worker's wake-up lateness p50/p99/max over a run with the stall
#         next to one without;
#   live: the real program with --record (needs the console wired into the
#         run mode and scsynth): onsets of the recording (tests/tools/
#         wav_onsets) inside the stall window against the step grid fitted
#         outside it, in ms.
#
#   top_builddir=. bench/console_stall.sh [demo|live|all] 
# Environment: STALL (s, default 10), LEAD (s, default 5), ME_BIN.
set -euo pipefail
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
what=${1:-all}
stall=${STALL:-10}
lead=${LEAD:-5}
demo="$builddir/tests/tools/tui_demo"
onsets="$builddir/tests/tools/wav_onsets"
bin=${ME_BIN:-$builddir/mystery-engine}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ptyrun OUT STALL CMD...: runs CMD on a pty as described above; writes
# "bytes=... backlog=... wchan=... status=..." to OUT.
ptyrun() {
	local out=$1 st=$2
	shift 2
	python3 - "$out" "$st" "$lead" "$@" <<'PY'
import fcntl, os, select, signal, struct, sys, termios, time

out, stall, lead, cmd = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
pid, fd = os.forkpty()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.environ.setdefault("LANG", "C.UTF-8")
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 200, 0, 0))
    os.execvp(cmd[0], cmd)

total = 0
def drain(secs):
    global total
    end = time.monotonic() + secs
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                total += len(os.read(fd, 65536))
            except OSError:
                return

drain(lead)
wchan = "-"
if stall > 0:
    # resizes make the console repaint everything: the pty's buffer fills
    # within the first seconds and its thread blocks in write()
    end = time.monotonic() + min(3.0, stall / 2)
    cols = 200
    while time.monotonic() < end:
        cols = 399 - cols
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 60, cols, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        time.sleep(0.1)
    time.sleep(stall / 2 - min(3.0, stall / 2))
    chans = []
    for t in sorted(os.listdir(f"/proc/{pid}/task")):
        try:
            name = open(f"/proc/{pid}/task/{t}/comm").read().strip()
            chan = open(f"/proc/{pid}/task/{t}/wchan").read().strip()
        except OSError:
            continue
        if name == "console":
            chans.append(chan)
    wchan = ",".join(chans) or "?"
    time.sleep(stall / 2)
before = total
t0 = time.monotonic()
drain(0.2)
backlog = total - before
drain(lead)
os.write(fd, b"q")
status = None
end = time.monotonic() + 10
while time.monotonic() < end:
    drain(0.1)
    p, s = os.waitpid(pid, os.WNOHANG)
    if p:
        status = os.waitstatus_to_exitcode(s)
        break
if status is None:
    os.kill(pid, signal.SIGTERM)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
with open(out, "w") as f:
    f.write(f"bytes={total} backlog={backlog} wchan={wchan} status={status}\n")
PY
}

field() { sed -E "s/.*$1=([^ ]*).*/\1/" "$2"; }

run_demo() {
	[ -x "$demo" ] || { echo "console_stall: build $demo first (make check)" >&2; exit 1; }
	echo "demo: tui_demo (engine + worker, no sound), stall ${stall}s, ${lead}s before and after"
	for st in 0 "$stall"; do
		ptyrun "$work/pty$st" "$st" "$demo" -m -n 64 -t "$work/timing$st"
		printf '  stall %2ss: console wrote %s bytes, backlog after the stall %s bytes, console thread waited in %s, exit %s\n' \
			"$st" "$(field bytes "$work/pty$st")" "$(field backlog "$work/pty$st")" \
			"$(field wchan "$work/pty$st")" "$(field status "$work/pty$st")"
		printf '           worker lateness p50 %s us, p99 %s us, max %s us over %s loops\n' \
			$(($(field lateness_p50_ns "$work/timing$st") / 1000)) \
			$(($(field lateness_p99_ns "$work/timing$st") / 1000)) \
			$(($(field lateness_max_ns "$work/timing$st") / 1000)) \
			"$(field loops "$work/timing$st")"
	done
}

# The live run measures the notes themselves: the isolated-note pattern of
# the end-to-end benches (tests/cli/e2e_live_lib.sh: one step per beat at
# 80 BPM, no swing: swung notes at this tempo would overlap; reverb off,
# mutation and idle off), the recording compared with
# the event log by tests/tools/onset_match.py, once over the whole run and
# once over the notes that sounded while nobody read the terminal.
run_live() {
	[ -x "$bin" ] || { echo "console_stall: no program at $bin (set ME_BIN)" >&2; exit 1; }
	ME_BIN=$bin
	. "$srcdir/tests/cli/e2e_live_lib.sh"
	e2e_require
	e2e_init stall
	e2e_isolated 80 0
	local seed
	seed=$(e2e_pick_seed)
	echo "live: $bin, console on a 200x60 pty, 80 BPM one step per beat, swing 0," \
		"seed $seed, stall ${stall}s after ${lead}s"
	ptyrun "$work/live" "$stall" "$bin" -c "$E2E_CONF" "${E2E_SETS[@]}" --seed "$seed" \
		--set synth.jack_name="$E2E_JACK" --set synth.port="$E2E_PORT" \
		--set logging.file="$work/me.log" --set logging.level=debug --midi-in none \
		--led none --http off --record "$work/take.wav" --events "$work/ev.jsonl"
	if [ "$(field bytes "$work/live")" -lt 2000 ] || [ ! -s "$work/take.wav" ]; then
		echo "  the program drew no console or recorded nothing: $(cat "$work/live")" >&2
		exit 1
	fi
	echo "  terminal: $(cat "$work/live")"
	echo "  whole run:"
	python3 "$E2E_MATCH" --events "$work/ev.jsonl" --wav "$work/take.wav" \
		--log "$work/me.log" | sed 's/^/    /' || true
	# engine time starts 0.5..2 s after the process: this window lies
	# inside the stall
	echo "  notes during the stall (engine time ${lead}..$((lead + stall - 2)) s):"
	python3 "$E2E_MATCH" --events "$work/ev.jsonl" --wav "$work/take.wav" \
		--log "$work/me.log" --from "$lead" --to "$((lead + stall - 2))" |
		sed 's/^/    /' || true
	grep -h '"synth_stats"\|"worker_stats"' "$work/me.log" |
		sed 's/.*"event":"\([a-z_]*\)".*"msg":"\(.*\)"}/  \1: \2/'
}

case $what in
demo) run_demo ;;
live) run_live ;;
all) run_demo; run_live ;;
*) echo "usage: console_stall.sh [demo|live|all]" >&2; exit 2 ;;
esac
