#!/bin/bash
# e2e_live_record: the real binary plays live (--daemon, its own managed
# JACK dummy server and scsynth on a private name and UDP port) and records
# itself (--record) while writing the event log (--events).  A listener
# would notice: the recording is audible (sox RMS), every sequenced note of
# the log sounds on the intended grid (swing 0.2 included: at least 90 % of
# the onsets within 16 samples, a quarter of a control block; how many
# land within one sample is printed: all of them on a quiet machine, see
# bench/e2e_onsets.sh), and no bundle reached scsynth late.  The
# recording's clock and the engine's are matched by tests/tools/
# onset_match.py (offset and rate fitted from the notes).  A late bundle or
# an ignored timetag puts a note on a block boundary, up to 63 samples off.
# Up to three runs (e2e_attempts): a starved JACK dummy driver steps its
# clock once in a while (doc/live.md); a fault fails every run.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
# Sample accuracy needs jackd's real-time scheduling.  The installation's
# unit grants its user LimitRTPRIO; an unprivileged user here cannot get it
# (hard limit 0 and no CAP_SYS_RESOURCE to raise it), and without it the
# JACK dummy driver's timer jitters by tens of samples under the others'
# load.  So this check runs as root; tests/cli/live_user.sh and
# live_stop.sh run the live path as an unprivileged user.
E2E_AS_ROOT=1
# The CPUs held awake (tests/lib/audio.sh audio_hold_awake), as in
# live_synth.sh: on the quiet VM the dummy driver's clock steps put onsets
# off the grid (a clean-clone CI run failed 3 attempts of 3; alone, 7 of
# 12 attempts failed with the build of that run and 4 of 9 with the one
# before it); with it 3 runs of 3 placed 7 of 7 on their first attempt.
AUDIO_AWAKE=${AUDIO_AWAKE:-1}
e2e_init e2e-rec

e2e_isolated 50 0.2
seed=$(e2e_pick_seed)

attempt() {
	local n=$E2E_TRY
	local log="$E2E_TMP/run$n.log" wav="$E2E_TMP/take$n.wav" ev="$E2E_TMP/ev$n.jsonl"
	e2e_start "$log" --seed "$seed" --record "$wav" --events "$ev"
	e2e_wait_log "$log" '"event":"started"'
	grep -q '"event":"synth.ready"' "$log" || e2e_fail "started before scsynth was ready"
	sleep 7.5
	e2e_stop
	[ "$E2E_RC" -eq 0 ] || { grep -v '"debug"' "$log" >&2; e2e_fail "exit status $E2E_RC after SIGTERM"; }
	grep -q '"event":"worker_stats"' "$log" || e2e_fail "no worker_stats line at exit"
	[ -z "$(e2e_leftovers)" ] || e2e_fail "$(e2e_leftovers)"

	local rms late
	rms=$(e2e_rms "$wav")
	echo "attempt $n: seed $seed, recording RMS $rms (sox)"
	awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }' || e2e_fail "the recording is silent (RMS $rms)"
	late=$(e2e_late "$log")
	echo "late bundles (scsynth 'late' lines): $late"
	if [ "$late" -ne 0 ]; then
		e2e_fail "$late bundles reached scsynth late"
	fi
	grep -E '"event":"(worker_stats|synth.ready)"' "$log" | sed 's/.*"msg":"\(.*\)"}/\1/'
	python3 "$E2E_MATCH" --events "$ev" --wav "$wav" --log "$log" --min-notes 5 \
		--min-share 0.9 --tol 16 --verbose >"$E2E_TMP/match$n.txt" 2>&1
	local rc=$?
	cat "$E2E_TMP/match$n.txt"
	[ "$rc" -eq 0 ] || e2e_fail "$(grep '^onset_match: FAIL' "$E2E_TMP/match$n.txt" | head -1)"
}

e2e_attempts 3 attempt || e2e_fail "3 attempts of 3 failed: $E2E_FAILS"
echo "e2e_live_record: ok"
