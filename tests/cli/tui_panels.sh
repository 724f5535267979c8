#!/bin/bash
# The console at 80x24 shows every panel (header with the mode that plays,
# steps with their notes and probabilities, parameters, mutations, meters,
# key bar), its playhead moves and fired steps flash;
# resized to 120x40 it uses the room, resized back it is whole again with
# nothing left over; q exits 0 and leaves the terminal as it found it.
. "$(dirname "$0")/tui_lib.sh"

tui_start "LANG=C.UTF-8 TERM=xterm-256color $demo -m -C 2>$work/err"
tui_wait 'mystery-engine +[0-9.]+ BPM'
tui_wait 'mutations newest first'
s=$(tui_screen)
for want in 'PLAYING' 'C[0-9] major' 'mode default' 'midi off' 'scsynth off' 'leds off' \
	'cpu [0-9.]+%' 'up 00:0' 'steps 1-8 of 8' '^step ' '^note +[A-G]' '^prob +[0-9]+%' \
	'parameters' 'K: held by the keyboard' '^meters|  meters' \
	'latency +p50 [0-9.]+(us|ms) +p99' 'lateness p50' 'late bundles 0' 'voices 0/8' \
	'dropped events 0' 'F1Help.*qQuit'; do
	grep -Eq -- "$want" <<<"$s" || fail "80x24: no '$want' on the screen"
done
for p in tempo filter_cutoff reverb_mix swing density master_volume sequence_length \
	scale_select chaos_lock mode palette drift attack release; do
	tui_row_of "$p" <<<"$s" | grep -Eq '\[.*\]' || fail "80x24: parameter $p has no value and bar"
done
# (on the first screen: the demo's seeded mutations move the tempo at 00:10,
# which a loaded machine reaches before the checks above are done)
grep -E '^[^a-z]* tempo +[0-9]' <<<"$s" | head -n 1 | grep -q '110.0 BPM' ||
	fail "tempo does not show the configured 110.0 BPM"
[ "$(tui_screen | tui_wider 80)" -eq 0 ] || fail "80x24: a line wider than 80"
# all eight steps with their note and probability
[ "$(grep -E '^step' <<<"$s" | grep -o '[0-9]●\|[0-9]○' | wc -l)" -eq 8 ] ||
	fail "80x24: not 8 steps in the grid"
# mutations arrive and are logged with time, parameter, from -> to
tui_wait '[0-9]{2}:[0-9]{2} [a-z_]+ [0-9.]+ -> [0-9.]+' 8

# the playhead moves, and a step that fires flashes (reverse video): looked
# at every 50 ms until both are seen, for at most 1.5 s
declare -A seen=()
flash=0
for ((i = 0; i < 30; i++)); do
	line=$(tmux -L "$sock" capture-pane -e -p -t t | sed -n 4p)
	pos=$(sed 's/\x1b\[[0-9;]*m//g' <<<"$line" | grep -o '▶ *[0-9]*' || true)
	[ -n "$pos" ] && seen[$pos]=1
	grep -q $'\x1b\\[[0-9;]*7m' <<<"$line" && flash=1
	[ "${#seen[@]}" -ge 3 ] && [ "$flash" = 1 ] && break
	sleep 0.05
done
[ "${#seen[@]}" -ge 3 ] || fail "the playhead did not move (saw: ${!seen[*]})"
[ "$flash" = 1 ] || fail "no fired step flashed in 1.5 s"

# larger: more bar, the log and meters spread over 40 rows, key bar at the bottom
tui_size 120 40
tui_wait '^F1Help' 5
# the redraw: until the key bar is on row 40 and the meters above it, at
# most 0.3 s; the checks below look at that screen
for ((i = 0; i < 6; i++)); do
	big=$(tui_screen)
	sed -n 40p <<<"$big" | grep -q F1Help && sed -n 39p <<<"$big" | grep -q 'dropped events' &&
		break
	sleep 0.05
done
[ "$(sed -n 40p <<<"$big" | grep -c F1Help)" = 1 ] || fail "120x40: key bar not on row 40"
[ "$(sed -n 39p <<<"$big" | grep -c 'dropped events')" = 1 ] ||
	fail "120x40: meters not at the bottom"
w80=$(grep -m1 -E '^[^a-z]* tempo ' <<<"$s" | sed 's/.*\[//; s/\].*//' | wc -m)
wbig=$(grep -m1 -E '^[^a-z]* tempo ' <<<"$big" | sed 's/.*\[//; s/\].*//' | wc -m)
[ "$wbig" -gt "$w80" ] || fail "120x40: the tempo bar did not grow ($w80 -> $wbig columns)"
[ "$(tui_wider 80 <<<"$big")" -gt 0 ] || fail "120x40: nothing uses the width"

# back to 80x24: whole again, nothing of the larger layout left
tui_size 80 24
# the redraw: until the key bar is on row 24 and the panels are back, at
# most 0.5 s; the checks below look at that screen
for ((i = 0; i < 10; i++)); do
	small=$(tui_screen)
	sed -n 24p <<<"$small" | grep -q F1Help && grep -q 'mutations newest first' <<<"$small" &&
		grep -q 'steps 1-' <<<"$small" && break
	sleep 0.05
done
[ "$(wc -l <<<"$small")" -le 24 ] || fail "back at 80x24: more than 24 lines"
grep -q 'F1Help' <<<"$(sed -n 24p <<<"$small")" || fail "back at 80x24: key bar not on row 24"
for want in 'parameters' 'mutations newest first' 'latency' 'steps 1-'; do
	grep -Eq -- "$want" <<<"$small" || fail "back at 80x24: no '$want'"
done
[ "$(tui_wider 80 <<<"$small")" -eq 0 ] || fail "back at 80x24: a line wider than 80"

tui_quit
[ ! -s "$work/err" ] || fail "the console wrote to stderr: $(cat "$work/err")"
echo "tui_panels: ok"
