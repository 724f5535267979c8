#!/bin/bash
# --check-config: the shipped file passes and what it prints reads back; a
# bad value exits 78 naming the file, the line and the key; --set changes
# one key and its errors name the --set.
set -euo pipefail
: "${ME_BIN:?}" "${top_srcdir:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
conf="$top_srcdir/conf/mystery-engine.conf"
# no user or system file may leak into these runs
export HOME="$work/home" XDG_CONFIG_HOME="$work/xdg"

run() {	# run CMD...: status in $rc, output in $work/out and $work/err
	rc=0
	"$@" >"$work/out" 2>"$work/err" || rc=$?
}

run "$ME_BIN" --check-config -c "$conf"
[ "$rc" -eq 0 ] || fail "shipped config: exit $rc: $(cat "$work/err")"
grep -q '^\s*bpm = 110.0;' "$work/out" || fail "printed config lacks bpm = 110.0"
cp "$work/out" "$work/printed.conf"
run "$ME_BIN" --check-config -c "$work/printed.conf"
[ "$rc" -eq 0 ] || fail "printed config does not load back: $(cat "$work/err")"
# printing is a fixed point: the reprint equals the first print but for the source line
diff <(tail -n +2 "$work/printed.conf") <(tail -n +2 "$work/out") >/dev/null ||
	fail "printing the printed config changed it"

printf 'sequencer = {\n\tsteps = 8;\n\tbpm = 900;\n};\n' >"$work/fast.conf"
run "$ME_BIN" --check-config -c "$work/fast.conf"
[ "$rc" -eq 78 ] || fail "bpm = 900: exit $rc, expected 78"
grep -q "^$work/fast.conf:3: sequencer.bpm: 900 is out of range (allowed: 20 to 300 BPM)" "$work/err" ||
	fail "bpm = 900: message does not name file, line 3 and key: $(cat "$work/err")"
[ ! -s "$work/out" ] || fail "bpm = 900: printed a configuration anyway"

run "$ME_BIN" --check-config -c "$conf" --set sequencer.bpm=abc
[ "$rc" -eq 78 ] || fail "--set sequencer.bpm=abc: exit $rc, expected 78"
grep -q '^--set sequencer.bpm=abc: sequencer.bpm: expected a number from 20 to 300' "$work/err" ||
	fail "--set sequencer.bpm=abc: $(cat "$work/err")"

run "$ME_BIN" --check-config -c "$conf" --set sequencer.bpm=128 -s synth.voices=12
[ "$rc" -eq 0 ] || fail "--set sequencer.bpm=128: exit $rc: $(cat "$work/err")"
grep -q '^\s*bpm = 128.0;' "$work/out" || fail "--set sequencer.bpm=128 not in the printed config"
grep -q '^\s*voices = 12;' "$work/out" || fail "-s synth.voices=12 not in the printed config"

# all errors at once, one line each
printf 'sequencer = {\n\tbmp = 120.0;\n\tswing = 2.0;\n};\nsynth = { voices = 0; };\n' >"$work/three.conf"
run "$ME_BIN" --check-config -c "$work/three.conf"
[ "$rc" -eq 78 ] || fail "three errors: exit $rc"
[ "$(grep -c "^$work/three.conf:" "$work/err")" -eq 3 ] ||
	fail "three errors: expected 3 lines: $(cat "$work/err")"
grep -q "did you mean \`bpm\`" "$work/err" || fail "no did-you-mean for bmp"

# a config error stops before anything else happens, also when running
run "$ME_BIN" -c "$work/fast.conf" --synth none
[ "$rc" -eq 78 ] || fail "running with a bad config: exit $rc, expected 78"
echo "config_check: ok"
