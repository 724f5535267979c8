# tui_lib.sh: shared set-up of the tui_*.sh tests (sourced, not run).
# Runs a program in a private tmux server on a detached 80x24 window whose
# pane stays after the program ends (to read its exit status), and gives:
#   tui_start CMD...    start CMD (a shell command line) in the pane; its
#                       exit status goes to $work/status, then `stty -a`
#                       (the terminal it left behind) to $work/stty
#   tui_screen          the pane's text now
#   tui_wait RE [SECS]  wait until the pane matches the extended regex RE
#   tui_gone RE [SECS]  wait until it no longer matches
#   tui_keys KEY...     send keys (tmux key names: Up, PageUp, F1, Space ...)
#   tui_size COLS ROWS  resize the window
#   tui_param_row NAME  the row of the parameter NAME now (tui_row_of NAME:
#                       in the screen text on stdin)
#   tui_quit            press q; wait for the exit; fail unless status 0
#                       and the terminal is back in its normal modes
# $work is a private temp dir removed on exit, $demo the console driver.
set -euo pipefail
: "${top_srcdir:?top_srcdir must name the source tree}"
: "${top_builddir:?top_builddir must name the build tree}"
command -v tmux >/dev/null || { echo "FAIL: tmux is needed for the console tests" >&2; exit 1; }
work=$(mktemp -d)
sock="me-tui-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
demo="$top_builddir/tests/tools/tui_demo"
printf 'set -g remain-on-exit on\nset -g status off\nset -g history-limit 0\n' >"$work/tmux.conf"

fail() {
	echo "FAIL: $*" >&2
	if tmux -L "$sock" has-session -t t 2>/dev/null; then
		echo "--- screen:" >&2
		tmux -L "$sock" capture-pane -p -t t >&2 || true
	fi
	exit 1
}

tui_start() {
	rm -f "$work/status" "$work/stty"
	tmux -L "$sock" -f "$work/tmux.conf" new-session -d -s t -x 80 -y 24 \
		"$*; echo \$? >$work/status; stty -a >$work/stty"
}

tui_screen() {
	tmux -L "$sock" capture-pane -p -t t
}

tui_wait() {
	local re=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		tui_screen | grep -Eq -- "$re" && return 0
		sleep 0.05
	done
	fail "the screen never showed /$re/ in ${secs}s"
}

tui_gone() {
	local re=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		tui_screen | grep -Eq -- "$re" || return 0
		sleep 0.05
	done
	fail "the screen still shows /$re/ after ${secs}s"
}

tui_keys() {
	tmux -L "$sock" send-keys -t t "$@"
}

tui_size() {
	tmux -L "$sock" resize-window -t t -x "$1" -y "$2"
}

tui_dead() {
	tmux -L "$sock" display -p -t t '#{pane_dead}'
}

tui_quit() {
	local i
	tui_keys q
	for ((i = 0; i < 200; i++)); do
		[ "$(tui_dead)" = 1 ] && break
		sleep 0.05
	done
	[ "$(tui_dead)" = 1 ] || fail "q did not end the program"
	[ -s "$work/status" ] || fail "no exit status recorded"
	[ "$(cat "$work/status")" = 0 ] ||
		fail "the program exited with status $(cat "$work/status") after q"
	grep -qw -- '-icanon' "$work/stty" && fail "the terminal was left without line editing"
	grep -qw -- '-echo' "$work/stty" && fail "the terminal was left without echo"
	grep -qw -- 'icanon' "$work/stty" || fail "no terminal state recorded after the exit"
	tmux -L "$sock" kill-server 2>/dev/null || true
}

# The text of the parameter row NAME (first match): on the screen now, or
# (tui_row_of) in the screen text on stdin.
tui_row_of() {
	grep -E "^[^a-z]* $1 +[0-9?-]" | head -n 1
}
tui_param_row() {
	tui_screen | tui_row_of "$1"
}

# Lines of stdin wider than COLS columns (characters, not bytes).
tui_wider() {
	python3 -c 'import sys; n = int(sys.argv[1]); print(sum(len(l.rstrip("\n")) > n for l in sys.stdin.buffer.read().decode("utf-8", "replace").splitlines()))' "$1"
}
