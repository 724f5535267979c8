#!/bin/bash
# Loading, validating and printing the configuration frees everything, on
# success and on error.  A sanitizer build is checked by LeakSanitizer (on in
# every ASan run); any other build runs under valgrind, which must be there.
set -euo pipefail
: "${ME_BIN:?}" "${top_srcdir:?}" "${top_builddir:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HOME="$work" XDG_CONFIG_HOME="$work"
conf="$top_srcdir/conf/mystery-engine.conf"

if grep -q '^SAN_CFLAGS = .*-fsanitize=address' "$top_builddir/Makefile"; then
	checker=(env ASAN_OPTIONS=detect_leaks=1)
	leak_rc=23	# LeakSanitizer's exit status
else
	command -v valgrind >/dev/null || fail "valgrind is not installed (apt-get install valgrind)"
	checker=(valgrind -q --leak-check=full --error-exitcode=1)
	leak_rc=1
fi

check() {	# check STATUS ARGS...
	local want=$1 rc=0
	shift
	"${checker[@]}" "$ME_BIN" "$@" >"$work/out" 2>"$work/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "$* exited $rc (leaks give $leak_rc), expected $want: $(tail -n 20 "$work/err")"
}

check 0 --check-config -c "$conf"
check 0 --check-config -c "$conf" --set sequencer.bpm=128 --set 'scales=["minor"]' \
	--set profiles.mystic.scale=minor --set profiles.ambient.scale=minor
printf 'sequencer = { bmp = 1; bpm = "x"; };\nmodes = ["nope"];\nfoo = 1;\n' >"$work/bad.conf"
check 78 --check-config -c "$work/bad.conf" --set synth.voices=abc
printf 'sequencer = {\n' >"$work/syntax.conf"
check 78 --check-config -c "$work/syntax.conf"
check 78 --check-config -c "$work/missing.conf"
check 2 --check-config --bogus
echo "config_leaks: ok"
