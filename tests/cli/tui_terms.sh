#!/bin/bash
# The console works on xterm-256color, screen-256color and vt100, in a UTF-8
# locale and in LANG=C: every panel shows; LANG=C (or -a) draws only ASCII,
# UTF-8 draws its box and block glyphs; colour only where the terminal has
# it (never on vt100, never with NO_COLOR); q exits 0 and restores the
# terminal each time.  Without -p, p saves under console-YYYYmmdd-HHMMSS.
. "$(dirname "$0")/tui_lib.sh"

non_ascii() { LC_ALL=C grep -c $'[\x80-\xff]' || true; }
has_colour() { tmux -L "$sock" capture-pane -e -p -t t | grep -cE $'\x1b\\[[0-9;]*(3[0-7]|4[0-7]|38;5)[;m]' || true; }

run() {	# run TERM LANG EXTRA-ENV DEMO-OPTIONS
	local term=$1 lang=$2 envs=$3 opts=$4
	tui_start "env $envs LANG=$lang LC_ALL= TERM=$term $demo -o $work/cmds $opts 2>$work/err"
	tui_wait 'latency +p50' 10
	tui_keys j
	tui_wait '^[^a-z]* filter_cutoff' 5
	local s
	s=$(tui_screen)
	for want in 'mystery-engine' 'steps 1-' '^note' 'parameters' 'mutations' 'meters' \
		'F1Help'; do
		grep -Eq -- "$want" <<<"$s" || fail "$term $lang: no '$want'"
	done
	tui_keys F1
	tui_wait 'keys' 5
	s=$(tui_screen)
	if [ "$lang" = C ] || [[ "$opts" == *-a* ]]; then
		[ "$(non_ascii <<<"$s")" -eq 0 ] || fail "$term $lang $opts: non-ASCII glyphs on the screen"
		grep -q '+- keys ---' <<<"$s" || fail "$term $lang: no ASCII box around the help"
	else
		grep -q '┌─ keys ─' <<<"$s" || fail "$term $lang: no box glyphs around the help"
		grep -q '[●○]' <<<"$s" || fail "$term $lang: no step glyphs"
	fi
	colour=$(has_colour)
	tui_keys Escape
	tui_gone 'keys [-─]' 5
	tui_keys p
	tui_quit
	[ ! -s "$work/err" ] || fail "$term $lang: stderr: $(cat "$work/err")"
}

run xterm-256color C.UTF-8 "" ""
[ "$colour" -gt 0 ] || fail "xterm-256color: no colour"
grep -qE '^request preset console-[0-9]{8}-[0-9]{6}$' "$work/cmds" ||
	fail "p without a name did not ask for console-YYYYmmdd-HHMMSS: $(cat "$work/cmds")"
run screen-256color C.UTF-8 "" ""
[ "$colour" -gt 0 ] || fail "screen-256color: no colour"
run vt100 C ""  ""
[ "$colour" -eq 0 ] || fail "vt100: colour on a terminal without it"
run xterm-256color C "NO_COLOR=1" ""
[ "$colour" -eq 0 ] || fail "NO_COLOR: colour anyway"
run xterm-256color C.UTF-8 "" "-a -C"
[ "$colour" -eq 0 ] || fail "-C: colour anyway"
echo "tui_terms: ok"
