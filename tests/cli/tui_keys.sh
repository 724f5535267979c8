#!/bin/bash
# Every key of the console does what its help says, through the engine:
# + on the selected parameter changes the value shown and the engine's value
# (the event log has the same value, source "key") and marks it K; j/k and
# the arrows move the selection; -, PgUp, PgDn, Left, Right adjust; 3 toggles
# step 3 and 9 (past the 8 steps) says so; space pauses and resumes; l locks
# chaos; i enters and leaves idle (the header's mode shows the ambient
# profile, then the default);
# s and m change scale and mode; r and p send their requests; F1 and ? open
# the help and any key closes it; q quits with status 0.
. "$(dirname "$0")/tui_lib.sh"

cmds="$work/commands"
events="$work/events.jsonl"
tui_start "LANG=C.UTF-8 TERM=xterm-256color $demo -o $cmds -e $events -p my-set 2>$work/err"
tui_wait 'latency +p50'

value() {	# value PARAM: the number shown in its row
	tui_param_row "$1" | sed -E "s/^[^a-z]* $1 +([0-9.]+).*/\1/"
}
selected() {	# the parameter the selection marker is on
	tui_screen | grep -E '^▸ [a-z_]+' | sed -E 's/^▸ ([a-z_]+).*/\1/'
}
expect_cmd() {	# expect_cmd LINE: the console sent exactly this
	local i
	for ((i = 0; i < 40; i++)); do
		grep -qxF -- "$1" "$cmds" && return 0
		sleep 0.05
	done
	fail "the console never sent '$1' (sent: $(tr '\n' ';' <"$cmds"))"
}
changed_from() {	# changed_from PARAM OLD: wait until the shown value differs
	local i v
	for ((i = 0; i < 60; i++)); do
		v=$(value "$1")
		[ "$v" != "$2" ] && { echo "$v"; return 0; }
		sleep 0.05
	done
	fail "$1 stayed at $2 on the screen"
}
gt() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) * float(sys.argv[3]) else 1)' "$@"; }

# + raises tempo; the engine's event log agrees with the screen; K marks it
[ "$(selected)" = tempo ] || fail "tempo is not selected at start"
t0=$(value tempo)
tui_param_row tempo | grep -q ' K' && fail "tempo marked K before any key"
tui_keys +
expect_cmd "nudge tempo 1 key"
t1=$(changed_from tempo "$t0")
gt "$t1" "$t0" 1 || fail "+ lowered tempo: $t0 -> $t1"
tui_param_row tempo | grep -q '\] K' || fail "tempo changed by a key is not marked K"
for ((i = 0; i < 40; i++)); do
	logged=$(grep '"name":"tempo"' "$events" | grep '"source":"key"' | tail -n 1 |
		python3 -c 'import json, sys; print("%.1f" % json.loads(sys.stdin.read())["value"])' 2>/dev/null || true)
	[ -n "$logged" ] && break
	sleep 0.05
done
[ "$logged" = "$t1" ] || fail "the engine's tempo ($logged in the event log) is not the shown $t1"

# selection: j, Down, k, Up
tui_keys j
tui_wait '^▸ filter_cutoff'
tui_keys Down
tui_wait '^▸ reverb_mix'
tui_keys k
tui_wait '^▸ filter_cutoff'
tui_keys Up
tui_wait '^▸ tempo'
tui_keys Down
tui_wait '^▸ filter_cutoff'

# fine and coarse adjustment of the selected parameter
f0=$(value filter_cutoff)
tui_keys -
expect_cmd "nudge filter_cutoff -1 key"
f1=$(changed_from filter_cutoff "$f0")
gt "$f0" "$f1" 1 || fail "- did not lower filter_cutoff: $f0 -> $f1"
tui_param_row filter_cutoff | grep -q '\] K' || fail "filter_cutoff not marked K"
tui_keys PageUp
expect_cmd "nudge filter_cutoff 10 key"
f2=$(changed_from filter_cutoff "$f1")
gt "$f2" "$f1" 1.05 || fail "PgUp did not move filter_cutoff coarsely: $f1 -> $f2"
tui_keys PageDown
expect_cmd "nudge filter_cutoff -10 key"
tui_keys Right Left
expect_cmd "nudge filter_cutoff 1 key"
[ "$(grep -c 'nudge filter_cutoff -1 key' "$cmds")" -eq 2 ] || fail "Left did not nudge down"

# step 3 off and on again
tui_keys 3
expect_cmd "toggle_step 3 key"
tui_wait '^step .* 3○'
tui_keys 3
tui_wait '^step .* 3●'

# pause and resume, chaos lock, idle
tui_keys Space
tui_wait 'PAUSED'
tui_keys Space
tui_wait 'PLAYING'
[ "$(grep -c '^pause key$' "$cmds")" -eq 2 ] || fail "space did not send two pauses"
tui_keys l
tui_wait 'LOCKED'
tui_param_row chaos_lock | grep -q '1.00 .*\] K' || fail "chaos lock is not 1.00 and marked K"
tui_keys l
tui_gone 'LOCKED'
# idle: the header says what plays, the ambient profile, then the default again
tui_keys i
tui_wait 'mode ambient +IDLE'
tui_keys i
tui_wait 'mode default +PLAYING'

# a step key past the pattern's eight steps says so and sends nothing
tui_keys 9
tui_wait "step 9 is past the pattern's 8 steps: not changed"
sleep 0.3
grep -q '^toggle_step 9' "$cmds" && fail "key 9 sent a toggle for a step past the pattern"

# next scale and next mode change what the header shows
scale0=$(tui_screen | head -n 1 | grep -oE '[A-G]#?-?[0-9] [a-z_]+' | head -n 1)
mode0=$(tui_screen | head -n 1 | grep -oE 'mode [^ ]+')
tui_keys s
expect_cmd "next_scale key"
tui_gone "^mystery-engine .*${scale0}  " 6
tui_keys m
expect_cmd "next_mode key"
tui_gone "${mode0}  " 6

# requests
tui_keys r
expect_cmd "request reload"
tui_wait 'reloading the configuration'
tui_keys p
expect_cmd "request preset my-set"
tui_wait 'saving preset my-set'

# help: F1 opens, any key closes; ? opens, q closes it without quitting
tui_keys F1
tui_wait 'keys ─'
for want in 'select a parameter' 'adjust it' 'pause / resume' 'toggle step' 'next scale' \
	'next mode' 'chaos lock' 'idle' 'reload' 'save a preset' 'quit'; do
	tui_screen | grep -q -- "$want" || fail "the help does not list '$want'"
done
tui_keys x
tui_gone 'keys ─'
tui_keys '?'
tui_wait 'keys ─'
tui_keys q
tui_gone 'keys ─'
[ "$(tui_dead)" = 0 ] || fail "q in the help quit instead of closing it"
grep -q 'request quit' "$cmds" && fail "q in the help asked to quit"
grep -qE '^(nudge|toggle_step|pause|chaos|idle|next)' <(grep -v 'key$' "$cmds") &&
	fail "a console command not marked as the keyboard's: $(grep -v 'key$' "$cmds")"

tui_quit
expect_cmd "request quit"
[ ! -s "$work/err" ] || fail "the console wrote to stderr: $(cat "$work/err")"
echo "tui_keys: ok"
