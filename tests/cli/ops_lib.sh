# tests/cli/ops_lib.sh: the daemon as the installation runs it, for the
# operations tests (bash).  Source it, then:
#
#   ops_init                    private work dir OPS_WORK (EXIT trap cleans
#                               up), a free TCP port OPS_PORT, OPS_BASE url;
#                               as root, an unprivileged user (OPS_USER,
#                               created when missing) owns OPS_WORK and
#                               OPS_RUN runs a command as that user
#   ops_start ARGS...           the daemon (--daemon, no synth, MIDI or LEDs,
#                               the API on OPS_PORT, state and log in
#                               OPS_WORK) until /state answers; OPS_PID
#   ops_stop                    SIGTERM; fails unless it exits 0 within 2 s
#   ops_fail MSG                print FAIL: MSG (and the log's tail), exit 1
#   ops_until MS CMD...         runs CMD until it succeeds, for at most MS ms
#   ops_unrefused CMD...        runs CMD, which prints an HTTP status, into
#                               $code; fails while that is 429 (the rate
#                               limit; a refusal takes no token)
#
# A missing tool fails the test (CI must not skip silently).

OPS_BIN=${ME_BIN:-${top_builddir:-.}/mystery-engine}
OPS_TOOLS=${top_srcdir:-.}/tests/tools
OPS_USER=mystery-test
OPS_RUN=()
OPS_WORK=
OPS_PID=
OPS_PORT=
OPS_BASE=

ops_fail() {
	echo "FAIL: $*" >&2
	[ -n "$OPS_WORK" ] && [ -f "$OPS_WORK/err" ] && tail -5 "$OPS_WORK/err" >&2
	exit 1
}

ops_cleanup() {
	if [ -n "$OPS_PID" ]; then
		kill -9 "$OPS_PID" 2>/dev/null || true
		wait "$OPS_PID" 2>/dev/null || true
	fi
	[ -n "$OPS_WORK" ] && rm -rf "$OPS_WORK"
	return 0
}

ops_need() {
	local t
	for t in "$@"; do
		command -v "${t%%:*}" >/dev/null 2>&1 ||
			ops_fail "${t%%:*} not found: install the Debian package ${t#*:}"
	done
}

ops_init() {
	ops_need curl:curl /usr/bin/python3:python3
	[ -x "$OPS_BIN" ] || ops_fail "$OPS_BIN is not built"
	OPS_WORK=$(mktemp -d)
	trap ops_cleanup EXIT
	chmod 755 "$OPS_WORK"
	if [ "$(id -u)" -eq 0 ]; then
		ops_need setpriv:util-linux useradd:passwd
		if ! id -u "$OPS_USER" >/dev/null 2>&1; then
			useradd --system --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin "$OPS_USER" 2>/dev/null ||
				id -u "$OPS_USER" >/dev/null 2>&1 ||
				ops_fail "cannot create the user $OPS_USER"
		fi
		chown "$OPS_USER:" "$OPS_WORK"
		OPS_RUN=(setpriv --reuid="$OPS_USER" --regid="$OPS_USER" --init-groups)
	fi
	OPS_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	OPS_BASE=http://127.0.0.1:$OPS_PORT
}

# ops_as CMD...: runs CMD as the test's user (files it makes are the daemon's).
ops_as() {
	"${OPS_RUN[@]}" "$@"
}

ops_start() {
	HOME=$OPS_WORK XDG_CONFIG_HOME=$OPS_WORK XDG_STATE_HOME=$OPS_WORK/xdg \
		"${OPS_RUN[@]}" "$OPS_BIN" --daemon --synth none --midi-in none --led none \
		--http "127.0.0.1:$OPS_PORT" --set state.dir="$OPS_WORK/state" "$@" \
		</dev/null >"$OPS_WORK/out" 2>"$OPS_WORK/err" &
	OPS_PID=$!
	local i
	for i in $(seq 100); do
		curl -sf -o /dev/null "$OPS_BASE/state" && return 0
		kill -0 "$OPS_PID" 2>/dev/null || ops_fail "the daemon exited"
		sleep 0.1
	done
	ops_fail "the API never answered on $OPS_BASE"
}

ops_stop() {
	local t0 rc=0 dog
	t0=$(date +%s%N)
	kill -TERM "$OPS_PID"
	(sleep 5; kill -9 "$OPS_PID" 2>/dev/null) &
	dog=$!
	wait "$OPS_PID" || rc=$?
	local ms=$((($(date +%s%N) - t0) / 1000000))
	kill "$dog" 2>/dev/null || true
	wait "$dog" 2>/dev/null || true
	OPS_PID=
	[ "$rc" -eq 0 ] || ops_fail "exit status $rc after SIGTERM"
	[ "$ms" -lt 2000 ] || ops_fail "SIGTERM took $ms ms (at most 2000)"
}

# ops_until MS CMD...: runs CMD every 50 ms until it succeeds or MS
# milliseconds have passed (then status 1).  A test waiting for
# a condition polls it with MS the longest it would wait, then checks the
# condition as before: a quick machine goes on at once, a slow one waits
# as long as ever, and a condition never met still fails the check.
ops_until() {
	local now end
	now=${EPOCHREALTIME//[!0-9]/}
	end=$((now + $1 * 1000))
	shift
	until "$@"; do
		now=${EPOCHREALTIME//[!0-9]/}
		[ "$now" -lt "$end" ] || return 1
		sleep 0.05
	done
}

ops_unrefused() {
	code=$("$@")
	[ "$code" != 429 ]
}
