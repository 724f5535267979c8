#!/bin/bash
# ops_disk_full: the disks the daemon writes to fill up while it plays (in
# a mount namespace, root only: a tmpfs of 256 KiB for its log file and its
# presets, another for its event log, so that neither takes the room the
# other's failed write gave back); then room comes back.  An operator would
# notice:
#  - the instrument plays on (notes go on counting);
#  - saving a preset fails with an error naming the file and "No space left
#    on device", the preset saved before is byte for byte what it was, and
#    no half-written file is left;
#  - the log says once that it cannot write its file (not a line each
#    second), the event log counts the events it loses (/metrics);
#  - with room again the log file says how many lines are missing, the
#    event log goes on, a preset saves;
#  - no line of either file is torn (each is JSON), and SIGTERM exits 0.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/ops_lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	[ "${CI:-}" = true ] && ops_fail "needs root (a tmpfs in a mount namespace)"
	echo "SKIP: needs root (a tmpfs in a mount namespace)"
	exit 77
fi
if [ -z "${OPS_DISK_NS:-}" ]; then
	ops_need unshare:util-linux mount:mount
	OPS_DISK_NS=1 exec unshare -m "$0" "$@"
fi
ops_init
disk=$OPS_WORK/disk evdisk=$OPS_WORK/evdisk
for d in "$disk" "$evdisk"; do
	mkdir "$d"
	mount -t tmpfs -o "size=256k,mode=0755,uid=$(id -u "$OPS_USER")" tmpfs "$d" ||
		ops_fail "cannot mount a tmpfs on $d"
done
disk_cleanup() {
	if [ -n "$OPS_PID" ]; then
		kill -9 "$OPS_PID" 2>/dev/null || true
		wait "$OPS_PID" 2>/dev/null || true
		OPS_PID=
	fi
	umount "$disk" "$evdisk" 2>/dev/null || true
	ops_cleanup
}
trap disk_cleanup EXIT
sock=$OPS_WORK/ctl.sock
ops_start --socket "$sock" --set state.dir="$disk" --set logging.file="$disk/me.log" \
	--events "$evdisk/ev.jsonl" --set sequencer.density=1 --set sequencer.bpm=240
ctl() { ops_as "$OPS_BIN" ctl -S "$sock" "$@"; }
metric() { curl -s --max-time 2 "$OPS_BASE/metrics" | awk -v k="mystery_engine_$1" '$1 == k { print $2 }'; }

ctl preset save kept >/dev/null || ops_fail "saving a preset with room failed"
cp "$disk/presets/kept.preset" "$OPS_WORK/kept.before"

# fill the disks
for d in "$disk" "$evdisk"; do
	dd if=/dev/zero of="$d/filler" bs=4k 2>/dev/null || true
	avail=$(df --output=avail -k "$d" | tail -1)
	[ "$avail" -eq 0 ] || ops_fail "$d still has $avail KiB free"
done
notes0=$(metric notes_played_total)
ctl set tempo 200 >/dev/null
out=$(ctl preset save kept 2>&1) && ops_fail "saving over a preset on a full disk succeeded: $out"
echo "full disk, saving kept: $out"
case $out in
*"$disk/presets/kept.preset"*"No space left on device"*) ;;
*) ops_fail "the error does not name the file and the cause: $out" ;;
esac
cmp -s "$disk/presets/kept.preset" "$OPS_WORK/kept.before" || ops_fail "the saved preset changed"
out=$(ctl preset save fresh 2>&1) && ops_fail "saving a new preset on a full disk succeeded: $out"
left=$(ls -A "$disk/presets")
[ "$left" = kept.preset ] || ops_fail "the presets folder holds: $left"
# each change of the tempo logs a line: the log's last page fills up
for t in $(seq 100 200); do
	grep -q '"event":"log_write_failed"' "$OPS_WORK/err" && break
	ctl set tempo "$t" >/dev/null
done
grep '"event":"log_write_failed"' "$OPS_WORK/err" || ops_fail "the log never failed to write its file"
lost() { [ "$(metric event_log_lost_total)" -gt 0 ]; }
ops_until 10000 lost || ops_fail "no event counted lost on a full disk"
sleep 2
notes1=$(metric notes_played_total)
lost1=$(metric event_log_lost_total)
echo "on the full disk: notes $notes0 -> $notes1, events lost $lost1"
[ "$notes1" -gt "$notes0" ] || ops_fail "the notes stopped on a full disk ($notes0 -> $notes1)"
kill -0 "$OPS_PID" || ops_fail "the daemon died on a full disk"

# room again
rm "$disk/filler" "$evdisk/filler"
logged() { grep -q '"event":"log_lost"' "$disk/me.log"; }
ops_until 10000 logged || ops_fail "the log file never said how many lines are missing"
grep '"event":"log_lost"' "$disk/me.log"
evs() { grep -q '"event":"events_write".*again' "$disk/me.log"; }
ops_until 5000 evs || ops_fail "the event log was not written again"
grep '"event":"events_write"' "$disk/me.log" | tail -1
out=$(ctl preset save fresh 2>&1) || ops_fail "saving a preset with room again failed: $out"
ops_stop
n=$(grep -c '"event":"log_write_failed"' "$OPS_WORK/err" || true)
echo "cannot-write lines on stderr: $n"
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || ops_fail "the log said $n times that it cannot write its file"
/usr/bin/python3 - "$disk/me.log" "$evdisk/ev.jsonl" <<'PY' || ops_fail "a torn line"
import json, sys
for path in sys.argv[1:]:
    n = 0
    for i, line in enumerate(open(path), 1):
        n += 1
        try:
            json.loads(line)
        except ValueError:
            sys.exit(f"{path}:{i}: not JSON: {line[:80]!r}")
    print(f"{path}: {n} lines, every one JSON")
PY
echo "ops_disk_full: ok"
