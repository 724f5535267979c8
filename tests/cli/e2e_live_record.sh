#!/bin/bash
# e2e_live_record: the real binary plays live (--daemon, its own managed
# JACK dummy server and scsynth on a private name and UDP port) and records
# itself (--record) while writing the event log (--events).  A listener
# would notice: the recording is audible (sox RMS), every sequenced note of
# the log sounds on its sample (swing 0.2 included: onsets within +-1 sample
# of the intended grid for at least 90 % of the notes), and no bundle
# reached scsynth late.  The recording's clock and the engine's are matched
# by tests/tools/onset_match.py (offset and rate fitted from the notes).
# One retry: a starved JACK dummy driver can step its clock once in a while
# (doc/live.md).
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
e2e_init e2e-rec

e2e_isolated 50 0.2
seed=$(e2e_pick_seed)

attempt() {
	local n=$1 log="$E2E_TMP/run$1.log" wav="$E2E_TMP/take$1.wav" ev="$E2E_TMP/ev$1.jsonl"
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
		echo "FAIL: $late bundles reached scsynth late" >&2
		return 1
	fi
	grep -E '"event":"(worker_stats|synth.ready)"' "$log" | sed 's/.*"msg":"\(.*\)"}/\1/'
	python3 "$E2E_MATCH" --events "$ev" --wav "$wav" --log "$log" --min-notes 5 \
		--min-share 0.9 --verbose
}

if ! attempt 1; then
	echo "e2e_live_record: retrying once" >&2
	attempt 2 || e2e_fail "late bundles or note onsets off the intended grid (see above)"
fi
echo "e2e_live_record: ok"
