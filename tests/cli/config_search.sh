#!/bin/bash
# Without -c the program reads $XDG_CONFIG_HOME/mystery-engine/mystery-engine.conf,
# else ~/.config/mystery-engine/mystery-engine.conf, else its built-in default;
# -c always wins.
set -euo pipefail
: "${ME_BIN:?}" "${top_srcdir:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/xdg/mystery-engine" "$work/home/.config/mystery-engine"
printf 'sequencer = { bpm = 99.0; };\n' >"$work/xdg/mystery-engine/mystery-engine.conf"
printf 'sequencer = { bpm = 77.0; };\n' >"$work/home/.config/mystery-engine/mystery-engine.conf"
printf 'sequencer = { bpm = 55.0; };\n' >"$work/own.conf"

printed() {	# printed ENV... : what --check-config prints under that environment
	env "$@" "$ME_BIN" --check-config >"$work/out"
	cat "$work/out"
}
bpm_of() {	# bpm_of ENV... : the bpm it prints
	printed "$@" | sed -n 's/^\s*bpm = \([0-9.]*\);.*/\1/p'
}
source_of() {	# source_of ENV... : its first line, naming the file read
	printed "$@" >/dev/null
	head -n 1 "$work/out"
}

[ "$(bpm_of HOME="$work/home" XDG_CONFIG_HOME="$work/xdg")" = "99.0" ] ||
	fail "XDG_CONFIG_HOME file not used first"
[[ "$(source_of HOME="$work/home" XDG_CONFIG_HOME="$work/xdg")" == *"$work/xdg/mystery-engine/mystery-engine.conf"* ]] ||
	fail "printed source is not the XDG file"
[ "$(bpm_of HOME="$work/home" XDG_CONFIG_HOME=)" = "77.0" ] ||
	fail "~/.config file not used when XDG_CONFIG_HOME is empty"
env HOME="$work/home" XDG_CONFIG_HOME="$work/xdg" "$ME_BIN" --check-config -c "$work/own.conf" >"$work/out"
grep -q '^\s*bpm = 55.0;' "$work/out" || fail "-c does not win"
# an empty home: the system file if installed, else the built-in default
sysconf=$(sed -n 's/^sysconfdir = //p' "$top_builddir/Makefile")
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
sysconf=${sysconf/\$\{prefix\}/$prefix}
mkdir -p "$work/empty"
if [ -e "$sysconf/mystery-engine/mystery-engine.conf" ]; then
	[[ "$(source_of HOME="$work/empty" XDG_CONFIG_HOME=)" == *"$sysconf/mystery-engine/mystery-engine.conf"* ]] ||
		fail "installed system file not used"
else
	[[ "$(source_of HOME="$work/empty" XDG_CONFIG_HOME=)" == *"<built-in>"* ]] ||
		fail "built-in default not used when no file exists"
	[ "$(bpm_of HOME="$work/empty" XDG_CONFIG_HOME=)" = "110.0" ] || fail "built-in bpm is not 110"
fi
# a file that exists but is broken is an error, not skipped
printf 'sequencer = { bpm = ' >"$work/xdg/mystery-engine/mystery-engine.conf"
rc=0
env HOME="$work/home" XDG_CONFIG_HOME="$work/xdg" "$ME_BIN" --check-config >/dev/null 2>"$work/err" || rc=$?
[ "$rc" -eq 78 ] || fail "broken XDG file: exit $rc, expected 78"
grep -q "$work/xdg/mystery-engine/mystery-engine.conf:1: syntax error" "$work/err" ||
	fail "broken XDG file: $(cat "$work/err")"
echo "config_search: ok"
