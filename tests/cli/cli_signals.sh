#!/bin/bash
# Running the instrument: it logs that it started with its seed, SIGHUP
# re-checks the configuration (a broken file is reported, the run goes on),
# SIGTERM and SIGINT stop it cleanly with status 0.
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
export HOME="$work" XDG_CONFIG_HOME="$work"

write_conf() {
	cat >"$work/me.conf" <<CONF
logging = { file = "$work/me.log"; };
api = { enabled = false; };
CONF
}
write_conf

wait_for() {	# wait_for PATTERN: until the log has it (10 s at most)
	for _ in $(seq 100); do
		grep -q "$1" "$work/me.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the log never said '$1': $(cat "$work/me.log" 2>/dev/null)"
}

start() {
	: >"$work/me.log"
	"$ME_BIN" -c "$work/me.conf" --synth none --midi-in none --led none --http off \
		--seed 1234 "$@" </dev/null >"$work/out" 2>"$work/err" &
	pid=$!
	wait_for '"started"'
}

stop_with() {	# stop_with SIGNAL
	kill "-$1" "$pid"
	local rc=0
	wait "$pid" || rc=$?
	pid=
	[ "$rc" -eq 0 ] || fail "stopped by $1: exit $rc: $(cat "$work/err")"
	grep -q "stopped by SIG$1" "$work/me.log" || fail "the log does not say 'stopped by SIG$1'"
}

start
grep -q '"seed".*1234' "$work/me.log" || fail "the seed is not in the log: $(cat "$work/me.log")"
kill -HUP "$pid"
wait_for '"reload"'
grep -Eq '"info".*"reload"|"reload".*"info"' "$work/me.log" || fail "a clean reload is not an info line"
printf 'sequencer = { bpm = 900; };\n' >>"$work/me.conf"
kill -HUP "$pid"
wait_for 'sequencer.bpm: 900 is out of range'
kill -0 "$pid" || fail "a bad reload stopped the program"
stop_with TERM

write_conf
start --daemon
stop_with INT
grep -q '^{' "$work/err" || fail "--daemon does not log JSON lines on stderr: $(cat "$work/err")"
echo "cli_signals: ok"
