#!/bin/bash
# Without a terminal no curses code runs: the console refuses with a clear
# message, writes no control sequence, and leaves the output file clean.
set -euo pipefail
: "${top_builddir:?top_builddir must name the build tree}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
demo="$top_builddir/tests/tools/tui_demo"
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

rc=0
TERM=xterm-256color "$demo" </dev/null >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -eq 1 ] || fail "without a terminal the console exited $rc, expected 1"
grep -q 'console: not a terminal' "$work/err" || fail "no 'not a terminal' message: $(cat "$work/err")"
[ ! -s "$work/out" ] || fail "output written without a terminal: $(od -c "$work/out" | head -n 3)"
grep -q $'\x1b' "$work/err" && fail "control sequences on stderr"

echo "tui_notty: ok"
