#!/bin/bash
# MIDI learn from an attached console (tmux, 80x24) on the real daemon with
# MIDI arriving on a pty: c on filter_cutoff, then CC 30 moved: the key bar
# says what CC 30 moves now and what it moved before; CC 30 then sweeps
# filter_cutoff over its knob's range (source midi) and its old CC 21 no
# longer moves it; the mapping is in the daemon's state folder and is still
# there after a restart; Esc cancels a learn (a CC moved afterwards is not
# learned); learning a CC another parameter has replaces that mapping.
. "$(dirname "$0")/tui_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
. "$(dirname "$0")/attach_lib.sh"
ops_init
midi_pid=
trap '[ -z "$midi_pid" ] || kill "$midi_pid" 2>/dev/null; tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; ops_cleanup' EXIT

ctl_sock=$OPS_WORK/control.sock
mkfifo -m 0666 "$OPS_WORK/midi.in"
ops_as /usr/bin/python3 "$OPS_TOOLS/pty_midi_cmd.py" "$OPS_WORK/midi" <"$OPS_WORK/midi.in" &
midi_pid=$!
exec 7>"$OPS_WORK/midi.in"
for _ in $(seq 50); do [ -L "$OPS_WORK/midi" ] && break; sleep 0.1; done
[ -L "$OPS_WORK/midi" ] || ops_fail "the MIDI pty did not appear"
cc() { echo "cc $1 $2" >&7; }
learned=$OPS_WORK/state/learned.conf

ops_start --socket "$ctl_sock" --midi-in "raw:$OPS_WORK/midi" --set mutation.enabled=false
cutoff() { "$ME_BIN" ctl -S "$ctl_sock" get filter_cutoff; }
wait_cutoff() {	# wait_cutoff TEXT: ctl get filter_cutoff says it
	local i
	for ((i = 0; i < 60; i++)); do
		[ "$(cutoff)" = "$1" ] && return 0
		sleep 0.05
	done
	fail "filter_cutoff is '$(cutoff)', not '$1'"
}

tui_start "LANG=C.UTF-8 TERM=xterm-256color $ME_BIN attach -S $ctl_sock"
tui_wait 'latency +p50'
tui_wait 'midi connected'
tui_keys j
tui_wait '^▸ filter_cutoff'

# c, then CC 30
tui_keys c
tui_wait 'Learning filter_cutoff: move a controller \(Esc cancels\)'
cc 30 64
tui_wait 'CC 30 now moves filter_cutoff \(before: nothing\)'
for _ in $(seq 40); do grep -q 'filter_cutoff = 30;' "$learned" 2>/dev/null && break; sleep 0.05; done
grep -q 'learned = { filter_cutoff = 30; };' "$learned" ||
	fail "the learned mapping is not in the state folder: $(cat "$learned" 2>&1)"
sleep 0.3	# the reload that applies it
cc 30 0
wait_cutoff "filter_cutoff 300 Hz (source midi)"
cc 30 127
wait_cutoff "filter_cutoff 8000 Hz (source midi)"
cc 21 0
sleep 0.5
[ "$(cutoff)" = "filter_cutoff 8000 Hz (source midi)" ] || fail "the old CC 21 still moves filter_cutoff: $(cutoff)"

# Esc cancels
tui_keys c
tui_wait 'Learning filter_cutoff'
tui_keys Escape
tui_gone 'Learning filter_cutoff'
cc 31 10
sleep 0.5
grep -q '31' "$learned" && fail "a CC moved after Esc was learned: $(cat "$learned")"

# learning CC 30 for reverb_mix takes it from filter_cutoff
tui_keys j
tui_wait '^▸ reverb_mix'
tui_keys c
tui_wait 'Learning reverb_mix'
cc 30 5
tui_wait 'CC 30 now moves reverb_mix \(before: filter_cutoff\)'
grep -q 'learned = { reverb_mix = 30; };' "$learned" || fail "learned: $(cat "$learned")"
tui_keys k
tui_wait '^▸ filter_cutoff'
tui_keys c
tui_wait 'Learning filter_cutoff'
cc 30 64
tui_wait 'CC 30 now moves filter_cutoff \(before: reverb_mix\)'
tui_keys q
for ((i = 0; i < 100; i++)); do [ "$(tui_dead)" = 1 ] && break; sleep 0.05; done

# a restart keeps it
attach_stop
ops_start --socket "$ctl_sock" --midi-in "raw:$OPS_WORK/midi" --set mutation.enabled=false
grep -q "1 learned controller from $OPS_WORK/state/learned.conf" "$OPS_WORK/err" ||
	fail "the restart does not say it applies the learned controller"
for _ in $(seq 40); do
	"$ME_BIN" ctl -S "$ctl_sock" status | grep -q 'midi connected' && break
	sleep 0.1
done
cc 30 0
wait_cutoff "filter_cutoff 300 Hz (source midi)"
attach_stop
echo "attach_learn: ok"
