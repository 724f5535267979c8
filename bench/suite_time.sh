#!/bin/bash
# suite_time.sh BASE_BUILD [ROUNDS]: the wall time of `make -j2 check`,
# like for like.  BASE_BUILD is a configured and built tree of an older
# commit (e.g. 4e657c2, where issue 12's work started: `git worktree add
# /tmp/base 4e657c2`, autoreconf, configure, make, `make check TESTS=`).
# Alternating, ROUNDS times (default 2): all of BASE_BUILD's tests there,
# then here (top_builddir, default build) the same tests, with its one
# CUnit entry `tests/unit` replaced by today's CUnit suites, and tests the
# base has that this tree no longer has left out.  Both trees' tests are
# prebuilt first, so only the running is timed.  Prints one line a run and
# the ratio of the medians.
set -euo pipefail
base=${1:?usage: suite_time.sh BASE_BUILD [ROUNDS]}
rounds=${2:-2}
here=${top_builddir:-build}
top_builddir=$here
. "$(dirname "$0")/lib.sh"	# bench_median
[ -f "$base/Makefile" ] || { echo "suite_time: $base/Makefile: no configured tree" >&2; exit 1; }
[ -f "$here/Makefile" ] || { echo "suite_time: $here/Makefile: no configured tree" >&2; exit 1; }
mk=$(mktemp)
out=$(mktemp)
trap 'rm -f "$mk" "$out"' EXIT
printf 'print-tests:\n\t@echo $(TESTS)\nprint-srcdir:\n\t@echo $(abs_top_srcdir)\n' >"$mk"
tests_of() { make -s -C "$1" -f Makefile -f "$mk" print-tests; }
src=$(make -s -C "$here" -f Makefile -f "$mk" print-srcdir)
units=$(tests_of "$here" | tr ' ' '\n' | grep '\.unit$' | tr '\n' ' ')
same=
for t in $(tests_of "$base"); do
	if [ "$t" = tests/unit ]; then
		same="$same $units"
	elif [ -e "$src/$t" ] || [ -e "$here/$t" ] || [ -e "$src/$t.c" ]; then
		same="$same $t"
	else
		echo "suite_time: $t is gone from this tree: left out" >&2
	fi
done
echo "base: $(tests_of "$base" | wc -w) tests; here: $(echo $same | wc -w) (the same, CUnit split)"
make -s -C "$base" -j2 check TESTS= >/dev/null 2>&1
make -s -C "$here" -j2 check TESTS= >/dev/null 2>&1
walls_base= walls_here=
for r in $(seq 1 "$rounds"); do
	for which in base here; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		t0=$(date +%s%N)
		rc=0
		if [ "$which" = base ]; then
			make -C "$base" -j2 check >"$out" 2>&1 || rc=$?
		else
			make -C "$here" -j2 check TESTS="$same" >"$out" 2>&1 || rc=$?
		fi
		wall=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
		echo "round $r $which: wall $wall s, exit $rc, load before $load," \
			"$(grep -E '^# (TOTAL|FAIL):' "$out" | tr -s ' \n' ' ')"
		[ "$which" = base ] && walls_base="$walls_base $wall" || walls_here="$walls_here $wall"
	done
done
mb=$(tr ' ' '\n' <<<"$walls_base" | grep . | bench_median)
mh=$(tr ' ' '\n' <<<"$walls_here" | grep . | bench_median)
awk -v b="$mb" -v h="$mh" 'BEGIN { printf "median wall (of an even count the lower): base %.1f s, here %.1f s: %.0f %% less\n", b, h, 100 * (1 - h / b) }'
