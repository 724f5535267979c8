#!/bin/bash
# make check-valgrind: the CUnit runner and the program's three ways of running
# (--check-config, render, --daemon) under valgrind memcheck.  Any memory
# error, and any definitely or indirectly lost block, fails the run: valgrind
# then exits with status 97, told apart from a failing test (status 1).  Not
# part of `make check`: memcheck is 20 to 50 times slower than the plain build.
# Needs a build without --enable-sanitizers (memcheck and ASan cannot share a
# process).  Environment: ME_BIN, top_srcdir, top_builddir (as for the tests),
# VALGRIND (the command, default valgrind), VALGRIND_SUPP (a suppression file,
# used when it exists; default tests/valgrind.supp).
set -euo pipefail
: "${ME_BIN:?}" "${top_srcdir:?}" "${top_builddir:?}"
VALGRIND=${VALGRIND:-valgrind}
supp=${VALGRIND_SUPP:-$top_srcdir/tests/valgrind.supp}

command -v "${VALGRIND%% *}" >/dev/null ||
	{ echo "FAIL: valgrind is missing (apt-get install valgrind)"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl is missing (apt-get install curl)"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is missing"; exit 1; }
[ -x "$ME_BIN" ] || { echo "FAIL: $ME_BIN is not built"; exit 1; }
[ -x "$top_builddir/tests/unit" ] || { echo "FAIL: tests/unit is not built"; exit 1; }
if ldd "$ME_BIN" | grep -q 'libasan\|libtsan'; then
	echo "FAIL: $ME_BIN is built with sanitizers; configure a build without" \
	    "--enable-sanitizers for check-valgrind"
	exit 1
fi

work=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
# No user or system configuration leaks into the runs.
export HOME="$work" XDG_CONFIG_HOME="$work" XDG_STATE_HOME="$work/state"

vg=($VALGRIND --leak-check=full --errors-for-leak-kinds=definite,indirect
	--error-exitcode=97 --child-silent-after-fork=yes --num-callers=30)
[ ! -f "$supp" ] || vg+=(--suppressions="$supp")
passed=0 failed=0

# report NAME STATUS LOG: one PASS/FAIL line; a failure shows valgrind's words.
report() {
	if [ "$2" -eq 0 ]; then
		echo "PASS: $1"
		passed=$((passed + 1))
		return
	fi
	failed=$((failed + 1))
	if [ "$2" -eq 97 ]; then
		echo "FAIL: $1: valgrind found memory errors or leaks:"
		grep '^==[0-9]*==' "$3" | head -n 80
	else
		echo "FAIL: $1: exit status $2:"
		tail -n 40 "$3"
	fi
}

# run NAME ARGS...: runs ARGS under memcheck, output to $work/NAME.log.
run() {
	local name=$1 st=0
	shift
	"${vg[@]}" --log-file="$work/$name.vg" "$@" >"$work/$name.log" 2>&1 || st=$?
	cat "$work/$name.vg" >>"$work/$name.log"
	report "$name" "$st" "$work/$name.log"
}

# The whole CUnit runner.
run unit "$top_builddir/tests/unit"

# Checking the documented configuration, and the built-in one.
run check-config "$ME_BIN" --check-config -c "$top_srcdir/conf/mystery-engine.conf"
run check-config-builtin "$ME_BIN" --check-config

# Ten minutes of music offline, then a MIDI file played in with a score written.
run render "$ME_BIN" render --seconds 600 --seed 7 --events /dev/null
run render-input "$ME_BIN" render --seconds 600 --seed 7 --events /dev/null \
	--input "$top_srcdir/tests/fixtures/midi/tempo_map.mid" --score "$work/out.osc"
if [ -s "$work/out.osc" ]; then
	echo "PASS: render-input wrote its score"
	passed=$((passed + 1))
else
	echo "FAIL: render-input wrote no score"
	failed=$((failed + 1))
fi

# The service: 5 s with its HTTP API asked once, then SIGTERM stops it cleanly.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/me.conf" <<CONF
api = { enabled = true; address = "127.0.0.1"; port = $port; };
state = { dir = "$work/state"; };
CONF
"${vg[@]}" --log-file="$work/daemon.vg" "$ME_BIN" -c "$work/me.conf" --daemon \
	--synth none --midi-in none --led none --seed 7 --events "$work/events.jsonl" \
	</dev/null >"$work/daemon.log" 2>&1 &
pid=$!
http_ok=0
for _ in $(seq 50); do	# up to 5 s for the API (memcheck starts slowly)
	if curl -sf -o "$work/state.json" "http://127.0.0.1:$port/state" &&
	    curl -sf -o "$work/metrics.txt" "http://127.0.0.1:$port/metrics"; then
		http_ok=1
		break
	fi
	sleep 0.1
done
sleep 5
kill -TERM "$pid"
st=0
wait "$pid" || st=$?
pid=
cat "$work/daemon.vg" >>"$work/daemon.log"
report daemon "$st" "$work/daemon.log"
if [ "$http_ok" = 1 ] && [ -s "$work/events.jsonl" ]; then
	echo "PASS: daemon served /state and /metrics and wrote events"
	passed=$((passed + 1))
else
	echo "FAIL: daemon: no answer on port $port or no events (http $http_ok)"
	tail -n 20 "$work/daemon.log"
	failed=$((failed + 1))
fi

echo "check-valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
