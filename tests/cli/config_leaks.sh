#!/bin/bash
# Loading, validating and printing the configuration frees everything, on
# success and on error.  A sanitizer build is checked by LeakSanitizer (on in
# every ASan run); any other build runs under valgrind, which must be there.
set -euo pipefail
: "${ME_BIN:?}" "${top_srcdir:?}" "${top_builddir:?}"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait; rm -rf "$work"' EXIT
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

# The checks run two at a time in the background, each with its own
# output files (the checker's start-up is most of a run, and the runs share
# nothing; two, not all six at once, so that the audio tests beside this
# one in make check -j2 keep their share of the CPUs); check_all waits for
# those still running and fails on the first wrong status.
n=0 reaped=0
wants=()
check() {	# check STATUS ARGS...
	local want=$1
	shift
	[ $((n - reaped)) -lt 2 ] || check_all
	n=$((n + 1))
	printf '%s\n' "$*" >"$work/args.$n"
	"${checker[@]}" "$ME_BIN" "$@" >"$work/out.$n" 2>"$work/err.$n" &
	pids[n]=$!
	wants[n]=$want
}
check_all() {
	local i rc
	for ((i = reaped + 1; i <= n; i++)); do
		rc=0
		wait "${pids[i]}" || rc=$?
		[ "$rc" -eq "${wants[i]}" ] ||
			fail "$(cat "$work/args.$i") exited $rc (leaks give $leak_rc), expected ${wants[i]}: $(tail -n 20 "$work/err.$i")"
	done
	reaped=$n
}

printf 'sequencer = { bmp = 1; bpm = "x"; };\nmodes = ["nope"];\nfoo = 1;\n' >"$work/bad.conf"
printf 'sequencer = {\n' >"$work/syntax.conf"
check 0 --check-config -c "$conf"
check 0 --check-config -c "$conf" --set sequencer.bpm=128 --set 'scales=["minor"]' \
	--set profiles.mystic.scale=minor --set profiles.ambient.scale=minor
check 78 --check-config -c "$work/bad.conf" --set synth.voices=abc
check 78 --check-config -c "$work/syntax.conf"
check 78 --check-config -c "$work/missing.conf"
check 2 --check-config --bogus
check_all
echo "config_leaks: ok"
