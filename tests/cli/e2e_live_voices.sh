#!/bin/bash
# e2e_live_voices: with synth.voices = 3 and a dense pattern of notes that
# overlap (32nd notes at 300 BPM, each held its length plus the 300 ms
# release: about a dozen would sound at once), the server never holds more
# than 3 voices plus the effect synth.  scsynth's own /status is polled
# every 100 ms for 4 s while the real binary plays; the count must also
# reach the limit at least once (else the pattern did not test anything).
# A stolen voice fades out in 10 ms, released 13 ms before the note that
# takes its place (sc_plan.h): the count holds only while bundles arrive
# on time, which on a busy machine needs the real-time priority the
# installation's unit grants and an unprivileged user here cannot get; so
# this runs as root (the unprivileged live path: live_user.sh,
# live_stop.sh, e2e_live_external.sh), up to three times (e2e_attempts).
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
E2E_AS_ROOT=1
e2e_init e2e-voices

voices=3
effects=1 # me_fx (no recording: no me_rec)
E2E_SETS=(--set synth.voices=$voices --set sequencer.bpm=300 --set sequencer.steps_per_beat=8
	--set sequencer.density=1 --set sequencer.steps=16 --set mutation.enabled=false
	--set idle.timeout_ms=86400000)

run() {
	local log="$E2E_TMP/run$E2E_TRY.log" polls=0 answered=0 peak=0 over=0 counts= out n left
	e2e_start "$log" --seed 7
	e2e_wait_log "$log" '"event":"started"'
	sleep 0.5

	for _ in $(seq 1 40); do
		polls=$((polls + 1))
		if out=$("$E2E_TOOLS/sc_probe" -p "$E2E_PORT" -t 200 status 2>/dev/null); then
			n=$(sed -n 's/.* synths=\([0-9]*\) .*/\1/p' <<<"$out")
			answered=$((answered + 1))
			counts="$counts $n"
			[ "$n" -le "$peak" ] || peak=$n
			[ "$n" -le $((voices + effects)) ] || over=$((over + 1))
		fi
		sleep 0.1
	done
	e2e_stop
	echo "synth counts:$counts"
	echo "polls $polls answered $answered peak $peak (limit $voices voices + $effects effect)," \
		"late bundles $(e2e_late "$log")"
	[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC after SIGTERM"
	[ "$answered" -ge 30 ] || e2e_fail "scsynth answered only $answered of $polls /status polls"
	[ "$over" -eq 0 ] || e2e_fail "$over polls saw more than $((voices + effects)) synths (peak $peak)"
	[ "$peak" -eq $((voices + effects)) ] ||
		e2e_fail "the synth count never reached $((voices + effects)) (peak $peak): the pattern is not dense"
	left=$(e2e_leftovers)
	[ -z "$left" ] || e2e_fail "$left"
}

e2e_attempts 3 run || e2e_fail "3 runs of 3 failed: $E2E_FAILS"
echo "e2e_live_voices: ok"
