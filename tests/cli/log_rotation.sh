#!/bin/bash
# The running instrument rotates its log file by size: with a small
# logging.max_size and keep = 2, a stream of log lines (here from config
# reloads) leaves me.log, me.log.1 and me.log.2, never more, each within the
# limit, every line whole JSON; the newest lines are in me.log.
set -euo pipefail
: "${ME_BIN:?}"
work=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null || fail "python3 is missing (Debian package python3)"
export HOME="$work" XDG_CONFIG_HOME="$work"

cat >"$work/me.conf" <<CONF
logging = { file = "$work/me.log"; max_size = 4096; keep = 2; level = "info"; };
api = { enabled = false; };
CONF

"$ME_BIN" -c "$work/me.conf" --synth none --midi-in none --led none --http off --daemon \
	</dev/null >/dev/null 2>"$work/err" &
pid=$!
for _ in $(seq 500); do
	grep -q '"started"' "$work/me.log" 2>/dev/null && break
	sleep 0.02
done
grep -q '"started"' "$work/me.log" || fail "the instrument did not start: $(cat "$work/err")"

# every reload logs a few lines; 60 reloads write well over 3 x 4096 bytes.
# After each SIGHUP, until me.log has changed (the reload's lines are in,
# so the next signal is not merged with this one), at most 0.05 s; so the
# last reload is in before the SIGTERM below.
python3 - "$pid" "$work/me.log" <<'PY'
import os, signal, sys, time
pid, log = int(sys.argv[1]), sys.argv[2]
def stamp():
    try:
        st = os.stat(log)
        return st.st_ino, st.st_size
    except FileNotFoundError:
        return None
for _ in range(60):
    before = stamp()
    os.kill(pid, signal.SIGHUP)
    end = time.monotonic() + 0.05
    while stamp() == before and time.monotonic() < end:
        time.sleep(0.001)
PY
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"

[ -f "$work/me.log.1" ] || fail "no rotation: $(ls "$work")"
[ -f "$work/me.log.2" ] || fail "keep = 2 but only one old file: $(ls "$work")"
[ -e "$work/me.log.3" ] && fail "keep = 2 but me.log.3 exists"
python3 - "$work" <<'PY' || fail "rotated files are not whole JSON lines within 4096 bytes"
import json, os, sys
work = sys.argv[1]
total_reload = 0
for name in ("me.log.2", "me.log.1", "me.log"):
    path = os.path.join(work, name)
    size = os.path.getsize(path)
    assert size <= 4096, (name, size)
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            assert {"ts", "level", "event"} <= rec.keys(), rec
            total_reload += rec["event"] == "reload"
last = [json.loads(l) for l in open(os.path.join(work, "me.log"))]
assert last[-1]["event"] in ("worker_stats", "input_stats", "synth_stats", "stopping"), last[-1]
assert total_reload > 0
PY
echo "log_rotation: ok ($(cat "$work"/me.log* | wc -l) lines in 3 files)"
