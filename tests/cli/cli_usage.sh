#!/bin/bash
# The command line as an operator meets it: --help and --version on stdout
# with status 0, a wrong option or value prints the usage on stderr with
# status 2, --list-midi works on a machine without MIDI hardware.
set -euo pipefail
: "${ME_BIN:?}" "${top_builddir:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HOME="$work" XDG_CONFIG_HOME="$work"

run() {
	rc=0
	"$@" >"$work/out" 2>"$work/err" || rc=$?
}

run "$ME_BIN" --help
[ "$rc" -eq 0 ] || fail "--help exited $rc"
grep -q '^usage: mystery-engine' "$work/out" || fail "--help does not print the usage on stdout"
[ ! -s "$work/err" ] || fail "--help wrote to stderr: $(cat "$work/err")"

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")
run "$ME_BIN" --version
[ "$rc" -eq 0 ] || fail "--version exited $rc"
[ "$(cat "$work/out")" = "mystery-engine $version" ] || fail "--version printed '$(cat "$work/out")'"

for bad in --bogus "--synth fluidsynth" "--seed many" "--http nowhere" "--midi-in usb" \
	"--set novalue" "-c" "render --daemon" "stray"; do
	# shellcheck disable=SC2086
	run "$ME_BIN" $bad
	[ "$rc" -eq 2 ] || fail "'$bad' exited $rc, expected 2"
	grep -q '^usage: mystery-engine' "$work/err" || fail "'$bad': no usage on stderr"
	[ ! -s "$work/out" ] || fail "'$bad' wrote to stdout"
done
run "$ME_BIN" --synth fluidsynth
grep -q -- "--synth: \`fluidsynth\` is not allowed (allowed: none, supercollider, supercollider:HOST:PORT, midi)" "$work/err" ||
	fail "--synth error does not say what is allowed: $(cat "$work/err")"

run "$ME_BIN" --list-midi
[ "$rc" -eq 0 ] || fail "--list-midi exited $rc: $(cat "$work/err")"
grep -Eq '^(no MIDI inputs found|[0-9]+: .+ \(.+\))$' "$work/out" ||
	fail "--list-midi printed '$(cat "$work/out")'"
echo "cli_usage: ok"
