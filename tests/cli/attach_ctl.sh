#!/bin/bash
# mystery-engine ctl against the real daemon (run as an unprivileged user):
# set then get round-trips (and the HTTP API agrees, source "api"); --json
# answers parse; a misspelt parameter, a value out of range, a non-number
# and an unknown command exit 2 naming what is wrong, before connecting;
# pause and resume are idempotent; a preset saved over the socket lands in
# the daemon's own state folder and loads back; a reload with a broken file
# exits 1 naming the file and line and keeps the daemon playing, a good one
# applies; nothing running exits 69; the socket refuses a user outside its
# group (77, naming the group to join) and lets a member in.
set -euo pipefail
. "$(dirname "$0")/ops_lib.sh"
. "$(dirname "$0")/attach_lib.sh"
ops_init
sock=$OPS_WORK/control.sock
conf=$OPS_WORK/me.conf
printf 'sequencer = { bpm = 110.0; };\n' >"$conf"
chmod 644 "$conf"
ops_start -c "$conf" --socket "$sock" --set mutation.enabled=false --set idle.timeout_ms=86400000

ctl() { "$ME_BIN" ctl -S "$sock" "$@"; }
status_of() {	# status_of CMD...: the exit status, output in $OPS_WORK/o and e
	local rc=0
	"$@" >"$OPS_WORK/o" 2>"$OPS_WORK/e" || rc=$?
	echo "$rc"
}
js() { /usr/bin/python3 -c "import json, sys; j = json.load(sys.stdin); print($1)"; }

# set / get round trip, and the HTTP API sees the same value
out=$(ctl set tempo 96)
[ "$out" = "tempo 96.0 BPM (source api)" ] || ops_fail "ctl set tempo 96 said '$out'"
[ "$(ctl get tempo)" = "tempo 96.0 BPM (source api)" ] || ops_fail "ctl get tempo: $(ctl get tempo)"
[ "$(ctl get tempo --json | js 'j["value"], j["source"], j["unit"]')" = "96.0 api BPM" ] ||
	ops_fail "ctl get --json: $(ctl get tempo --json)"
[ "$(curl -sf "$OPS_BASE/state" | js 'j["params"]["tempo"]["value"]')" = 96.0 ] ||
	ops_fail "the HTTP API does not see tempo 96"
ctl --json set filter_cutoff 1234.5 >"$OPS_WORK/o"
[ "$(js 'j["value"]' <"$OPS_WORK/o")" = 1234.5 ] || ops_fail "set --json: $(cat "$OPS_WORK/o")"
[ "$(ctl status --json | js 'j["params"]["filter_cutoff"]["value"]')" = 1234.5 ] ||
	ops_fail "status --json does not show filter_cutoff 1234.5"
ctl status >"$OPS_WORK/o"
grep -q "^mystery-engine pid $OPS_PID, configuration $conf" "$OPS_WORK/o" ||
	ops_fail "ctl status does not name the instance: $(cat "$OPS_WORK/o")"
grep -Eq '^PLAYING +96.0 BPM' "$OPS_WORK/o" || ops_fail "ctl status: $(cat "$OPS_WORK/o")"

# usage errors: status 2, the reason, nothing sent
[ "$(status_of ctl set tempoo 100)" = 2 ] || ops_fail "a misspelt parameter did not exit 2"
grep -q 'no parameter `tempoo` (parameters: tempo, ' "$OPS_WORK/e" || ops_fail "$(cat "$OPS_WORK/e")"
[ "$(status_of ctl set tempo 1000)" = 2 ] || ops_fail "tempo 1000 did not exit 2"
grep -q 'tempo: 1000 is out of range (allowed: 20..300)' "$OPS_WORK/e" || ops_fail "$(cat "$OPS_WORK/e")"
[ "$(status_of ctl set tempo fast)" = 2 ] || ops_fail "tempo fast did not exit 2"
grep -q '`fast` is not a number' "$OPS_WORK/e" || ops_fail "$(cat "$OPS_WORK/e")"
[ "$(status_of ctl set sequence_length 4.5)" = 2 ] || ops_fail "4.5 steps did not exit 2"
[ "$(status_of ctl frobnicate)" = 2 ] || ops_fail "an unknown command did not exit 2"
grep -q 'unknown command `frobnicate`' "$OPS_WORK/e" || ops_fail "$(cat "$OPS_WORK/e")"
[ "$(status_of ctl)" = 2 ] || ops_fail "no command did not exit 2"
[ "$(status_of ctl --json get nosuch)" = 2 ] || ops_fail "--json usage error did not exit 2"
[ "$(js 'j["status"]' <"$OPS_WORK/o")" = 2 ] || ops_fail "--json error: $(cat "$OPS_WORK/o")"
[ "$(ctl get tempo --json | js 'j["value"]')" = 96.0 ] || ops_fail "a refused set changed the tempo"

# pause and resume, each twice
[ "$(ctl pause)" = paused ] && [ "$(ctl pause)" = paused ] || ops_fail "pause"
[ "$(curl -sf "$OPS_BASE/state" | js 'j["paused"]')" = True ] || ops_fail "not paused"
[ "$(ctl resume --json | js 'j["paused"]')" = False ] || ops_fail "resume --json"
[ "$(ctl resume)" = playing ] || ops_fail "a second resume"
[ "$(curl -sf "$OPS_BASE/state" | js 'j["paused"]')" = False ] || ops_fail "still paused"

# presets: saved in the daemon's state folder, loaded back
[ "$(ctl preset save evening)" = "preset evening saved" ] || ops_fail "preset save"
[ -f "$OPS_WORK/state/presets/evening.preset" ] || ops_fail "the preset is not in the daemon's state folder"
ctl set tempo 70 >/dev/null
[ "$(ctl --json preset load evening | js 'j["loaded"]')" = True ] || ops_fail "preset load --json"
for ((i = 0; i < 40; i++)); do
	[ "$(ctl get tempo --json | js 'j["value"]')" = 96.0 ] && break
	sleep 0.05
done
[ "$(ctl get tempo)" = "tempo 96.0 BPM (source preset)" ] || ops_fail "after load: $(ctl get tempo)"
[ "$(status_of ctl preset load nothere)" = 1 ] || ops_fail "a missing preset did not exit 1"
grep -q 'preset nothere not loaded: .*nothere.preset: no such preset' "$OPS_WORK/e" ||
	ops_fail "$(cat "$OPS_WORK/e")"
[ "$(status_of ctl preset load ../x)" = 2 ] || ops_fail "a bad preset name did not exit 2"

# reload: a broken file is refused with its line, a good one applies
printf 'sequencer = { bpm = 110.0;\n  bmp = 3; };\n' >"$conf"
[ "$(status_of ctl reload)" = 1 ] || ops_fail "a broken reload did not exit 1"
grep -q "$conf: .*keeping the running configuration: $conf:2: sequencer.bmp" "$OPS_WORK/e" ||
	ops_fail "the broken reload's reason: $(cat "$OPS_WORK/e")"
kill -0 "$OPS_PID" || ops_fail "the daemon died on a broken reload"
printf 'sequencer = { bpm = 110.0; };\nmutation = { enabled = false; };\n' >"$conf"
[ "$(ctl reload)" = "configuration $conf applied" ] || ops_fail "a good reload"
grep -q "configuration $conf applied" "$OPS_WORK/err" || ops_fail "the reload is not in the log"

# nothing running there
[ "$(status_of "$ME_BIN" ctl -S "$OPS_WORK/none.sock" status)" = 69 ] || ops_fail "no instance: not 69"
[ "$(status_of "$ME_BIN" ctl -S "$OPS_WORK/none.sock" --json status)" = 69 ] || ops_fail "--json: not 69"
[ "$(js 'j["status"]' <"$OPS_WORK/o")" = 69 ] || ops_fail "no instance --json: $(cat "$OPS_WORK/o")"

# who may connect: the socket's owner and group (mode 0660)
[ "$(stat -c %a "$sock")" = 660 ] || ops_fail "socket mode $(stat -c %a "$sock")"
if [ "$(id -u)" -eq 0 ]; then
	gid=$(id -g "$OPS_USER")
	[ "$(stat -c %g "$sock")" = "$gid" ] || ops_fail "the socket's group is not the daemon's"
	outsider=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	[ "$(status_of "${outsider[@]}" "$ME_BIN" ctl -S "$sock" status)" = 77 ] ||
		ops_fail "a user outside the group was not refused (77): $(cat "$OPS_WORK/e")"
	grep -q "permission denied: the socket belongs to $OPS_USER, group $(id -gn "$OPS_USER"), mode 0660; ask to be added to the group" "$OPS_WORK/e" ||
		ops_fail "the refusal does not say why: $(cat "$OPS_WORK/e")"
	member=(setpriv --reuid=nobody --regid=nogroup --groups="$gid")
	[ "$(status_of "${member[@]}" "$ME_BIN" ctl -S "$sock" get tempo)" = 0 ] ||
		ops_fail "a member of the group was refused: $(cat "$OPS_WORK/e")"
else
	echo "not root: the refusal of another user is checked by the mode only"
fi

attach_stop
[ ! -e "$sock" ] || ops_fail "the socket is left behind after SIGTERM"
echo "attach_ctl: ok"
