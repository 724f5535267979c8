#!/bin/bash
# live_watchdog: systemd's watchdog is fed only while the sound path is
# healthy.  The engine runs as the unprivileged test user on an external
# scsynth, with a stand-in for systemd's notification socket
# (tests/tools/notify_listen.py as NOTIFY_SOCKET, WATCHDOG_USEC 2 s,
# WATCHDOG_PID the engine's own).  What systemd would see:
#  * READY=1, then WATCHDOG=1 about every 0.5 s while it plays;
#  * the server stops for good (SIGSTOP): the engine notices, sets the
#    server up again, then once more, each step logged, and the pings go
#    on meanwhile (the steps' grace: a restart of the service would do no
#    better);
#  * when that does not help, the pings stop (the log says so) within 40 s
#    of the stop, so systemd would restart the service.
set -euo pipefail
. "${top_srcdir:-.}/tests/lib/audio.sh"
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
audio_require
e2e_init live-wd
listen="${top_srcdir:-.}/tests/tools/notify_listen.py"
sock="$E2E_TMP/notify.sock" pings="$E2E_TMP/notify.txt"
lpid=
trap '[ -n "$lpid" ] && kill "$lpid" 2>/dev/null; [ -n "$AUDIO_SC_PID" ] && kill -CONT "$AUDIO_SC_PID" 2>/dev/null; e2e_cleanup' EXIT
python3 "$listen" "$sock" "$pings" &
lpid=$!
for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || e2e_fail "no notification socket"
audio_start "$E2E_TMP"

mono() { python3 -c 'import time; print("%.6f" % time.monotonic())'; }
# The engine's pid is WATCHDOG_PID: the shell sets it to its own, then execs.
E2E_AS+=(NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000000 sh -c 'WATCHDOG_PID=$$ exec "$@"' sh)
log="$E2E_TMP/run.log"
e2e_start "$log" --synth "supercollider:127.0.0.1:$AUDIO_PORT" --set sequencer.density=1
e2e_wait_log "$log" '"event":"started"' 20
for _ in $(seq 1 100); do grep -q 'WATCHDOG=1' "$pings" 2>/dev/null && break; sleep 0.1; done
grep -q 'READY=1' "$pings" || e2e_fail "no READY=1 (built without libsystemd?)"
sleep 3
n=$(grep -c 'WATCHDOG=1' "$pings")
echo "playing: READY=1 and $n pings so far"
[ "$n" -ge 4 ] || e2e_fail "only $n watchdog pings while healthy"

t0=$(mono)
kill -STOP "$AUDIO_SC_PID"
echo "server stopped at $t0"
e2e_wait_log "$log" 'no longer feeding systemd' 45
t1=$(mono)
sleep 4
python3 - "$pings" "$t0" "$t1" <<'PY' || e2e_fail "the watchdog pings did not stop as they should (above)"
import sys
pings = [float(l.split()[0]) for l in open(sys.argv[1]) if "WATCHDOG=1" in l]
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
during = [p for p in pings if t0 < p < t1 - 0.6]
after = [p for p in pings if p > t1 + 0.6]
gaps = [b - a for a, b in zip([t0] + during, during)]
print("stop -> no more pings: %.1f s; pings meanwhile %d (longest gap %.1f s); after %d" % (
    t1 - t0, len(during), max(gaps or [0]), len(after)))
ok = t1 - t0 <= 40 and len(after) == 0 and max(gaps or [99]) < 1.5
sys.exit(0 if ok else 1)
PY
grep -E '"event":"synth\.health"' "$log" | sed 's/.*"msg":"\(.*\)"}/  \1/'
[ "$(grep -c '"event":"synth.health"' "$log")" -ge 3 ] || e2e_fail "fewer than three steps logged"
kill -CONT "$AUDIO_SC_PID"
e2e_stop
echo "live_watchdog: ok"
