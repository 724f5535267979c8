# dev_lib.sh: shared by the tests/cli/dev_*.sh tests (sourced, not run).
#
# A stand-in Teensy (tests/tools/e2e_teensy.py) owns pty pairs whose device
# sides the real binary opens: --midi-in raw:$tmp/midi, --led serial:$tmp/led.
# The helper takes commands on file descriptor 3 (a FIFO) and answers one
# line each in $tmp/teensy.out.  The engine runs with --daemon (JSON log on
# stderr, in $tmp/engine.err), no synth, no HTTP, a fixed seed and the event
# log in $tmp/ev.jsonl.  Everything lives in a private temp dir removed on
# exit, and every process started here is stopped.

: "${top_srcdir:=.}"
: "${top_builddir:=.}"
: "${ME_BIN:=$top_builddir/mystery-engine}"
DEV_NAME=$(basename "$0" .sh)
TEENSY="$top_srcdir/tests/tools/e2e_teensy.py"
CONF="$top_srcdir/conf/mystery-engine.conf"
tmp=
epid=
tpid=

dev_fail() {
	echo "FAIL $DEV_NAME: $*" >&2
	if [ -n "$tmp" ]; then
		for f in engine.err teensy.out teensy.err; do
			[ -s "$tmp/$f" ] && { echo "--- $f (tail)" >&2; tail -n 15 "$tmp/$f" >&2; }
		done
	fi
	exit 1
}

dev_cleanup() {
	if [ -n "$epid" ]; then
		kill -9 "$epid" 2>/dev/null || true
		wait "$epid" 2>/dev/null || true
	fi
	exec 3>&-
	if [ -n "$tpid" ]; then
		# end of input makes the helper close its ptys and exit
		for _ in $(seq 1 50); do
			kill -0 "$tpid" 2>/dev/null || break
			sleep 0.02
		done
		kill "$tpid" 2>/dev/null || true
		wait "$tpid" 2>/dev/null || true
	fi
	# DEV_KEEP=1 keeps the temp dir for a look after a failure
	if [ -n "$tmp" ] && [ -z "${DEV_KEEP:-}" ]; then rm -rf "$tmp"; fi
	return 0
}

# Checks the tools and makes the temp dir.  A missing tool is a failure.
dev_setup() {
	command -v python3 >/dev/null 2>&1 || dev_fail "python3 not found (install python3)"
	[ -x "$ME_BIN" ] || dev_fail "$ME_BIN not built"
	[ -f "$TEENSY" ] || dev_fail "$TEENSY missing"
	[ -f "$CONF" ] || dev_fail "$CONF missing"
	tmp=$(mktemp -d) || dev_fail "mktemp failed"
	trap dev_cleanup EXIT
}

# Waits up to $3 s (default 5) for a line matching the ERE $2 in file $1.
dev_wait_line() {
	local file=$1 re=$2 limit=${3:-5} i
	for i in $(seq 1 $((limit * 50))); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

# Starts the stand-in Teensy with the given options (--midi, --led, --led-out).
teensy_start() {
	mkfifo "$tmp/ctl"
	python3 "$TEENSY" "$@" <"$tmp/ctl" >"$tmp/teensy.out" 2>"$tmp/teensy.err" &
	tpid=$!
	exec 3>"$tmp/ctl"
	dev_wait_line "$tmp/teensy.out" '^(open|led) ' 5 || dev_fail "e2e_teensy.py did not start"
}

# Sends one command; waits up to $1 s for its answer matching the ERE $2 and
# prints that line.  Usage: teensy_do SECONDS RE COMMAND...
teensy_do() {
	local limit=$1 re=$2 before line
	shift 2
	before=$(wc -l <"$tmp/teensy.out")
	echo "$*" >&3
	local i
	for i in $(seq 1 $((limit * 100))); do
		line=$(tail -n +"$((before + 1))" "$tmp/teensy.out" | grep -E -m1 -- "$re" || true)
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		if tail -n +"$((before + 1))" "$tmp/teensy.out" | grep -q '^error '; then
			dev_fail "e2e_teensy.py refused \`$*\`"
		fi
		sleep 0.01
	done
	dev_fail "no answer to \`$*\` within $limit s"
}

# Starts the engine with the common options plus "$@".
engine_start() {
	"$ME_BIN" --daemon --synth none --http off --seed 7 -c "$CONF" \
		--events "$tmp/ev.jsonl" "$@" 2>"$tmp/engine.err" &
	epid=$!
	dev_wait_line "$tmp/engine.err" '"event":"started"' 5 || dev_fail "the engine did not start"
}

# True while the engine runs.
engine_alive() {
	kill -0 "$epid" 2>/dev/null
}

# SIGTERM; the engine must exit 0 within 5 s.
engine_stop() {
	kill -TERM "$epid" 2>/dev/null || dev_fail "the engine is not running"
	local i
	for i in $(seq 1 250); do
		kill -0 "$epid" 2>/dev/null || break
		sleep 0.02
	done
	kill -0 "$epid" 2>/dev/null && dev_fail "the engine still runs 5 s after SIGTERM"
	local rc=0
	wait "$epid" || rc=$?
	epid=
	[ "$rc" -eq 0 ] || dev_fail "the engine exited $rc after SIGTERM"
}

# The monotonic time (seconds) in an answer line "... t=T ...": when the
# write() returned.
t_of() {
	sed -n 's/.* t=\([0-9.]*\).*/\1/p' <<<"$1"
}
