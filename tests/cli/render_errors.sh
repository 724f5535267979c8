#!/bin/bash
# render refuses bad use: a damaged or non-MIDI input file exits 1 naming
# the file and what is wrong; --seconds missing, zero or negative exits 2
# with the usage; nothing crashes.
. "$(dirname "$0")/render_lib.sh"

expect() {	# expect STATUS WORDS -- command...
	local want=$1 words=$2 rc=0
	shift 3
	"$@" >"$work/out" 2>"$work/err" || rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "'$*' exited $rc, expected $want: $(cat "$work/err")"
	grep -q -- "$words" "$work/err" ||
		fail "'$*' did not say '$words': $(cat "$work/err")"
}

printf 'these are words, not music\n' >"$work/words.mid"
expect 1 "$work/words.mid: not a Standard MIDI File" -- \
	$ME_BIN render --seconds 5 --input "$work/words.mid"
head -c 60 "$fixtures/tempo_map.mid" >"$work/cut.mid"
expect 1 "$work/cut.mid: damaged MIDI file: .*truncated" -- \
	$ME_BIN render --seconds 5 --input "$work/cut.mid"
expect 1 "$work/none.mid: cannot read the file: No such file" -- \
	$ME_BIN render --seconds 5 --input "$work/none.mid"
head -c 4000 /dev/urandom >"$work/random.mid"
expect 1 "$work/random.mid" -- \
	$ME_BIN render --seconds 5 --input "$work/random.mid"

expect 2 "seconds is required" -- $ME_BIN render --seed 3
expect 2 "usage" -- $ME_BIN render
expect 2 "-5.* number of seconds\|number of seconds.*-5" -- $ME_BIN render --seconds -5
expect 2 "0.* number of seconds\|number of seconds.*0" -- $ME_BIN render --seconds 0
expect 2 "ten.* number of seconds\|number of seconds.*ten" -- $ME_BIN render --seconds ten
expect 2 "unknown option" -- $ME_BIN render --seconds 5 --bogus
expect 1 "cannot write $work/no/such/dir/e.jsonl" -- \
	$ME_BIN render --seconds 5 --events "$work/no/such/dir/e.jsonl"
echo "render_errors: ok"
