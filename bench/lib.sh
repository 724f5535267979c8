#!/bin/bash
# bench/lib.sh: what the benches that measure one build against another
# share (idle_cpu.sh, snapshot_age.sh, hung_silent.sh; bench_median also
# peers.sh, render_bench.sh and suite_time.sh).  Sourced after
# `set -euo pipefail`; top_srcdir and top_builddir are set (and exported)
# here when the caller did not.
#   bench_bins          the builds to measure in $bins: ME_BIN (default the
#                       build tree's program), then ME_BIN_BEFORE if set;
#                       fails unless each is executable and python3 is there
#   bench_home          a private $tmp (mktemp) as HOME, XDG dirs and the
#                       control socket's runtime dir, with an empty config
#                       file $tmp/empty.conf
#   bench_audio PREFIX  a private JACK dummy server and scsynth
#                       (tests/lib/audio.sh audio_start) for this run
#   bench_port          a free TCP port on 127.0.0.1 (tests/lib/audio.sh's
#                       pick: below the ephemeral range, free in every state)
#   bench_trap          (re)sets the EXIT trap: kill $pid, continue a
#                       stopped scsynth, stop the private audio, remove $tmp
#   bench_median        the median of the numbers on stdin, one a line (of
#                       an even count the lower middle one; "-" for none)
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/lib/audio.sh"
pid=
tmp=
bench_audio_on=

bench_median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

bench_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

bench_bins() {
	bins=("${ME_BIN:-$top_builddir/mystery-engine}")
	[ -n "${ME_BIN_BEFORE:-}" ] && bins+=("$ME_BIN_BEFORE")
	local b
	for b in "${bins[@]}"; do
		[ -x "$b" ] || bench_fail "$b is not built"
	done
	command -v python3 >/dev/null || bench_fail "python3 missing (apt-get install python3)"
}

bench_cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	if [ -n "$bench_audio_on" ]; then
		[ -n "${AUDIO_SC_PID:-}" ] && kill -CONT "$AUDIO_SC_PID" 2>/dev/null
		audio_stop
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
	return 0
}

bench_trap() {
	trap bench_cleanup EXIT
}

bench_home() {
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	bench_trap
	export HOME=$tmp XDG_CONFIG_HOME=$tmp XDG_STATE_HOME=$tmp/xdg XDG_RUNTIME_DIR=$tmp/run
	mkdir -m 700 "$tmp/run"
	: >"$tmp/empty.conf"
}

bench_audio() {	# bench_audio PREFIX (after bench_home)
	# a client killed before it unregisters keeps its login: room for all runs
	AUDIO_SC_LOGINS=64
	AUDIO_JACK_PREFIX=$1
	audio_require
	bench_audio_on=1
	audio_start "$tmp"
}

bench_port() {
	audio_free_tcp_port || bench_fail "no free TCP port"
}
