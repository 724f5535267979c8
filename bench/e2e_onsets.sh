#!/bin/bash
# e2e_onsets: sequenced note onsets of the real binary against its event
# log.  Runs mystery-engine --daemon with its managed JACK dummy + scsynth
# for SECONDS (default 60) with --record and --events: a one-step pattern
# at 50 BPM, one step per beat, swing 0.2 (notes 1.44 s and 0.96 s apart,
# each 0.6 s, isolated), reverb off.  Prints the residuals of every onset
# (samples at 48 kHz) against a single straight line fitted over the whole
# run and against the local grid of the notes within +-2 s (the JACK dummy
# driver's clock wanders; doc/live.md), the share within +-1 sample, and
# the late bundles (scsynth's "late" lines).
# Usage: bench/e2e_onsets.sh [SECONDS]   (top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/cli/e2e_live_lib.sh"
e2e_require
secs=${1:-60}
e2e_init bench-ons

e2e_isolated 50 0.2
seed=$(e2e_pick_seed)
log="$E2E_TMP/run.log"
e2e_start "$log" --seed "$seed" --record "$E2E_TMP/take.wav" --events "$E2E_TMP/ev.jsonl"
e2e_wait_log "$log" '"event":"started"'
sleep "$secs"
e2e_stop
[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC"

echo "e2e onsets: $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), JACK dummy 48 kHz / 256"
echo "run: ${secs} s, seed $seed, 50 BPM one step per beat, swing 0.2, reverb 0"
python3 "$E2E_MATCH" --events "$E2E_TMP/ev.jsonl" --wav "$E2E_TMP/take.wav" --log "$log" \
	${E2E_VERBOSE:+--verbose} || true
echo "late bundles: $(e2e_late "$log")"
grep '"event":"worker_stats"' "$log" | sed 's/.*"msg":"\(.*\)"}/worker_stats: \1/'
