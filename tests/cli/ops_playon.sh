#!/bin/bash
# ops_playon: the real daemon, as an unprivileged user, plays on when
# something around it is missing or broken, and says so.  An operator
# would notice: with a log file it cannot write it starts anyway and warns
# on standard error; --check-config on a configuration that @includes a
# FIFO fails at once naming the line (before, it hung); --events - into a
# pipe whose reader went away is logged and counted in /metrics while the
# music goes on; --preset takes the same 64-character names as HTTP, and a
# FIFO under a preset's name is refused at start without a hang; a preset
# saved from the console into a read-only folder shows "NOT saved" and why.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/ops_lib.sh"
ops_init
ops_need tmux:tmux timeout:coreutils
prom="/usr/bin/python3 $OPS_TOOLS/prom_check.py"
metric() {	# metric NAME: its value now
	curl -sf "$OPS_BASE/metrics" >"$OPS_WORK/metrics" || ops_fail "/metrics did not answer"
	$prom --value "mystery_engine_$1" "$OPS_WORK/metrics"
}

# 1. A log file in a folder it cannot write: it plays, and says so.
mkdir -m 555 "$OPS_WORK/ro"
ops_start --set logging.file="$OPS_WORK/ro/me.log"
grep -q 'log_file_failed.*logging to standard error only' "$OPS_WORK/err" ||
	ops_fail "no warning about the log file on standard error"
n1=$(metric engine_notes_total)
sleep 1
n2=$(metric engine_notes_total)
[ "$n2" -gt "$n1" ] || ops_fail "the sequencer does not move ($n1 -> $n2)"
ops_stop
echo "unwritable log: played on ($n1 -> $n2 notes), warned on standard error"

# 2. --check-config with an @include of a FIFO: an error at once.
ops_as mkfifo "$OPS_WORK/fifo.conf"
printf 'sequencer = { bpm = 100.0; };\n@include "%s"\n' "$OPS_WORK/fifo.conf" >"$OPS_WORK/inc.conf"
rc=0
timeout 5 "${OPS_RUN[@]}" "$OPS_BIN" --check-config -c "$OPS_WORK/inc.conf" \
	>/dev/null 2>"$OPS_WORK/check" || rc=$?
[ "$rc" = 78 ] || ops_fail "--check-config with a FIFO included: exit $rc (124: it hung)"
grep -q "inc.conf:2: @include .*fifo.conf.*a FIFO" "$OPS_WORK/check" ||
	ops_fail "the error does not name the @include line: $(cat "$OPS_WORK/check")"
echo "@include of a FIFO: $(head -1 "$OPS_WORK/check")"

# 3. --events - into a pipe closed after 100 bytes.
HOME=$OPS_WORK "${OPS_RUN[@]}" "$OPS_BIN" --daemon --synth none --midi-in none --led none \
	--http "127.0.0.1:$OPS_PORT" --set state.dir="$OPS_WORK/state" \
	--set sequencer.bpm=300 --events - 2>"$OPS_WORK/err" </dev/null | head -c 100 >/dev/null &
for _ in $(seq 100); do curl -sf -o /dev/null "$OPS_BASE/state" && break; sleep 0.1; done
OPS_PID=$(pgrep -n -f "mystery-engine --daemon --synth none --midi-in none --led none --http 127.0.0.1:$OPS_PORT") ||
	ops_fail "the daemon with --events - did not start"
sleep 1.5
lost=$(metric event_log_lost_total)
n1=$(metric engine_notes_total)
sleep 1
n2=$(metric engine_notes_total)
[ "$lost" -gt 0 ] || ops_fail "events written into a closed pipe are not counted"
[ "$n2" -gt "$n1" ] || ops_fail "the music stopped with the event pipe"
grep -q 'cannot write the event log to standard output: Broken pipe' "$OPS_WORK/err" ||
	ops_fail "the closed event pipe is not logged"
[ "$(grep -c 'cannot write the event log' "$OPS_WORK/err")" = 1 ] ||
	ops_fail "the closed event pipe is logged more than once"
ops_stop
grep -q 'events_lost' "$OPS_WORK/err" || ops_fail "the count of lost events is not logged at exit"
echo "closed event pipe: $lost events counted as lost, music on ($n1 -> $n2 notes)"

# 4. --preset: 64 characters like HTTP; a FIFO refused at start, at once.
name=p234567890123456789012345678901234567890123456789012345678901234
ops_start --set api.allow_control=true
curl -sf -X POST "$OPS_BASE/presets/$name/save" >/dev/null || ops_fail "save $name over HTTP"
ops_stop
ops_start --preset "$name"
grep -q "preset $name loaded" "$OPS_WORK/err" || ops_fail "--preset with 64 characters"
ops_stop
ops_as mkfifo "$OPS_WORK/state/presets/fifo.preset"
ops_start --preset fifo
grep -q 'starting without preset fifo' "$OPS_WORK/err" || ops_fail "--preset fifo was not refused"
grep -q 'fifo.preset: a FIFO' "$OPS_WORK/err" || ops_fail "the refusal does not say why"
ops_stop
echo "--preset: 64 characters load; a FIFO is refused at start"

# 5. The console's `p` into a read-only presets folder: "NOT saved" and why.
chmod 555 "$OPS_WORK/state/presets"
sock="me-ops-$$"
tmux_q() { tmux -L "$sock" "$@"; }
trap 'tmux_q kill-server 2>/dev/null || true; ops_cleanup' EXIT
tmux_q -f /dev/null new-session -d -s t -x 100 -y 30 \
	"HOME=$OPS_WORK LANG=C.UTF-8 TERM=xterm-256color ${OPS_RUN[*]} $OPS_BIN --synth none \
	--midi-in none --led none --http off --set state.dir=$OPS_WORK/state --socket $OPS_WORK/ctl.sock \
	--set logging.file=$OPS_WORK/console.log; sleep 30"
screen() { tmux_q capture-pane -p -t t; }
wait_screen() {
	local i
	for i in $(seq 100); do screen | grep -Eq -- "$1" && return 0; sleep 0.1; done
	screen >&2
	ops_fail "the console never showed /$1/"
}
wait_screen 'latency +p50'
tmux_q send-keys -t t p
wait_screen 'NOT saved'
line=$(screen | grep 'NOT saved')
echo "console: $line"
case "$line" in *"Permission denied"*) ;; *) ops_fail "the console does not say why: $line" ;; esac
chmod 755 "$OPS_WORK/state/presets"
tmux_q send-keys -t t p
wait_screen 'preset console-[0-9-]+ saved'
tmux_q send-keys -t t q
tmux_q kill-server 2>/dev/null || true
echo "PASS: unwritable log, @include FIFO, closed event pipe, --preset names, console save errors"
