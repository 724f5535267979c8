#!/bin/bash
# render_bench: offline render throughput and memory of mystery-engine.
#
# Renders ten hours (36000 s) of music with the event log on, RUNS times
# (default 3), and prints the median CPU time (user + sys of the whole
# process from GNU time, and the render loop's own figure from the closing
# summary, which has microsecond resolution),
# the throughput in simulated seconds per CPU second, and the peak resident
# memory of a 600 s render next to the 36000 s one (equal figures show that
# memory does not grow with the rendered length).  Builds nothing: it runs
# $ME_BIN (default ./mystery-engine).  Use a build without sanitizers for
# figures worth quoting.  Needs GNU time (/usr/bin/time, Debian: time).
#
#   ME_BIN=./mystery-engine RUNS=3 SECONDS_LONG=36000 bench/render_bench.sh
set -euo pipefail

bin=${ME_BIN:-./mystery-engine}
runs=${RUNS:-3}
long=${SECONDS_LONG:-36000}
short=${SECONDS_SHORT:-600}
seed=${SEED:-1}

[ -x "$bin" ] || { echo "render_bench: no executable at $bin (set ME_BIN)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "render_bench: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One render: prints "user sys maxrss_kb events loop_cpu_s".
measure() {
	local seconds=$1 log="$work/events.jsonl"
	/usr/bin/time -f '%U %S %M' -o "$work/time" \
		"$bin" render --seconds "$seconds" --seed "$seed" --events "$log" \
		>/dev/null 2>"$work/err" || {
		echo "render_bench: render --seconds $seconds failed:" >&2
		cat "$work/err" >&2
		exit 1
	}
	read -r user sys rss <"$work/time"
	loop=$(sed -n 's/.* of music in \([0-9.]*\) s of CPU.*/\1/p' "$work/err")
	[ -n "$loop" ] || { echo "render_bench: no summary line from render" >&2; exit 1; }
	echo "$user $sys $rss $(wc -l <"$log") $loop"
	rm -f "$log"
}

. "$(dirname "$0")/lib.sh"	# bench_median

: >"$work/long"
for _ in $(seq "$runs"); do
	measure "$long" >>"$work/long"
done
: >"$work/short"
for _ in $(seq "$runs"); do
	measure "$short" >>"$work/short"
done

cpu_long=$(awk '{ print $1 + $2 }' "$work/long" | bench_median)
loop_long=$(awk '{ print $5 }' "$work/long" | bench_median)
loop_short=$(awk '{ print $5 }' "$work/short" | bench_median)
rss_long=$(awk '{ print $3 }' "$work/long" | bench_median)
events_long=$(awk '{ print $4 }' "$work/long" | bench_median)
cpu_short=$(awk '{ print $1 + $2 }' "$work/short" | bench_median)
rss_short=$(awk '{ print $3 }' "$work/short" | bench_median)
events_short=$(awk '{ print $4 }' "$work/short" | bench_median)

echo "render_bench: $bin, seed $seed, median of $runs runs, $(nproc) cores"
awk -v ll="$loop_long" -v ls="$loop_short" -v cl="$cpu_long" -v cs="$cpu_short" -v rl="$rss_long" -v rs="$rss_short" \
    -v el="$events_long" -v es="$events_short" -v l="$long" -v s="$short" 'BEGIN {
	printf "%-12s %12s %12s %10s %14s %12s\n", "simulated_s", "process_cpu",
	    "render_cpu", "events", "sim_s/cpu_s", "max_rss_kb"
	printf "%-12d %12.2f %12.4f %10d %14.0f %12d\n", s, cs, ls, es,
	    s / (ls > 0 ? ls : 1e-6), rs
	printf "%-12d %12.2f %12.4f %10d %14.0f %12d\n", l, cl, ll, el,
	    l / (ll > 0 ? ll : 1e-6), rl
	printf "throughput: %.0f simulated seconds per CPU second (render loop)\n",
	    l / (ll > 0 ? ll : 1e-6)
	printf "process CPU for %d s: %.2f s (GNU time, 10 ms resolution)\n", l, cl
	printf "memory: %d kB at %d s, %d kB at %d s (ratio %.2f)\n", rs, s, rl, l, rl / rs
}'
