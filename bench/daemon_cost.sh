#!/bin/bash
# daemon_cost: what mystery-engine --daemon costs at 120 BPM
# (--set sequencer.bpm=120, the shipped configuration otherwise).  For each
# run: the engine process's own CPU time (utime + stime of /proc/PID/stat,
# all its threads, NOT its children jackd and scsynth) over the playing
# time, as a percentage of one core; its VmRSS and VmHWM just before
# SIGTERM; the worker's wake-up lateness p50/p99 (worker_stats at exit).
# RUNS runs (default 3) with the managed audio stack, then RUNS with
# --synth none; prints every run and the medians.
# Usage: bench/daemon_cost.sh [SECONDS] [RUNS]   (top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/cli/e2e_live_lib.sh"
e2e_require
secs=${1:-60}
runs=${2:-3}
e2e_init bench-cost
tck=$(getconf CLK_TCK)
E2E_SETS=(--set sequencer.bpm=120)

# utime + stime of a process, in clock ticks
ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

one_run() {
	local what=$1 log="$E2E_TMP/run.log" t0 c0 t1 c1 rss hwm
	shift
	E2E_PORT=$(e2e_free_port)
	e2e_start "$log" --seed 5 "$@"
	e2e_wait_log "$log" '"event":"started"'
	c0=$(ticks "$E2E_PID")
	t0=$(date +%s%N)
	sleep "$secs"
	c1=$(ticks "$E2E_PID")
	t1=$(date +%s%N)
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$E2E_PID/status")
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$E2E_PID/status")
	e2e_stop
	[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC"
	local stats
	stats=$(grep '"event":"worker_stats"' "$log" | sed 's/.*"msg":"\(.*\)"}/\1/')
	local p50 p99 rt
	p50=$(sed 's/.*lateness_p50_us \([0-9.]*\).*/\1/' <<<"$stats")
	p99=$(sed 's/.*lateness_p99_us \([0-9.]*\).*/\1/' <<<"$stats")
	rt=$(sed 's/.*realtime \([a-z]*\).*/\1/' <<<"$stats")
	awk -v w="$what" -v c=$((c1 - c0)) -v hz="$tck" -v dt=$((t1 - t0)) -v rss="$rss" \
		-v hwm="$hwm" -v p50="$p50" -v p99="$p99" -v rt="$rt" 'BEGIN {
		printf "%s|%.3f|%.1f|%.1f|%.1f|%.1f|%s\n", w, 100 * c / hz / (dt / 1e9), rss / 1024,
		    hwm / 1024, p50, p99, rt }' >>"$E2E_TMP/runs.txt"
	tail -1 "$E2E_TMP/runs.txt" | awk -F'|' '{ printf "%-12s cpu %6.3f %%  rss %5.1f MB  hwm %5.1f MB  lateness p50 %6.1f us  p99 %7.1f us  realtime %s\n", $1, $2, $3, $4, $5, $6, $7 }'
}

echo "daemon cost: $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${secs} s per run, 120 BPM"
: >"$E2E_TMP/runs.txt"
for i in $(seq 1 "$runs"); do
	one_run managed
done
for i in $(seq 1 "$runs"); do
	one_run "synth none" --synth none
done
for w in managed "synth none"; do
	line=median
	for f in 2 3 4 5 6; do
		line="$line|$(awk -F'|' -v w="$w" -v f=$f '$1 == w { print $f }' "$E2E_TMP/runs.txt" |
			sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
	done
	awk -F'|' -v w="$w" '{ printf "median %-12s cpu %6.3f %%  rss %5.1f MB  hwm %5.1f MB  lateness p50 %6.1f us  p99 %7.1f us\n", w, $2, $3, $4, $5, $6 }' <<<"$line"
done
