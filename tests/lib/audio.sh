# tests/lib/audio.sh: a private audio stack for black-box tests (bash).
#
# Source it, then:
#   audio_require               fail (exit 1) naming any missing tool
#   audio_start DIR             start jackd (dummy driver, 48 kHz, period 256)
#                               under a private name (AUDIO_JACK_PREFIX-PID-N,
#                               prefix me-test unless set) and scsynth on a
#                               free private UDP port (AUDIO_SC_LOGINS
#                               clients may /notify, 4 unless set); logs go
#                               to DIR
#   audio_free_port, audio_free_tcp_port
#                               a UDP (TCP) port nothing listens on now
#   audio_stop                  stop both, remove scsynth's shared memory;
#                               safe to call twice and from an EXIT trap
#   audio_exclusive             wait until no other audio test of this build
#                               tree runs, and hold that until exit (below)
#   audio_jack_forget NAME      free the JACK registry entry a killed server
#                               NAME left (below)
# After audio_start: AUDIO_PORT (scsynth's UDP port), AUDIO_JACK (the JACK
# server name), AUDIO_SC_LOG (scsynth's stdout and stderr), AUDIO_JACK_LOG
# (jackd's), AUDIO_PROBE (the sc_probe tool); audio_late_count and
# audio_clock_steps count scsynth's "late" lines and the dummy driver's
# clock steps so far; audio_metric PORT NAME reads one of the engine's
# metrics.  Typical use:
#   tmp=$(mktemp -d); trap 'audio_stop; rm -rf "$tmp"' EXIT
#   audio_require; audio_start "$tmp"
# A missing tool or a stack that does not come up fails the test: CI must
# not skip silently.
#
# The installation runs as its own unprivileged user, without memory locking
# or real-time rights; root hides bugs (JACK's per-user sockets, what libjack
# prints).  So the live tests run the engine that way:
#   audio_user DIR              AUDIO_USER, and AUDIO_AS: a command prefix that
#                               runs a program as that user (as root: a system
#                               user ME_TEST_USER, default mystery-test,
#                               created when missing, in the audio group,
#                               through prlimit and setpriv; otherwise the
#                               caller itself), with no real-time priority and
#                               64 KiB of lockable memory, at the niceness
#                               the unit gives (Nice=-10; ME_TEST_NICE
#                               chooses another; as root only: a user
#                               cannot lower it); DIR becomes the user's,
#                               and its HOME.

AUDIO_RATE=48000
AUDIO_PERIOD=256
AUDIO_JACK=
AUDIO_PORT=
AUDIO_JACK_PID=
AUDIO_SC_PID=
AUDIO_SC_LOG=
AUDIO_JACK_LOG=
AUDIO_PROBE="${top_builddir:-.}/tests/tools/sc_probe"
AUDIO_USER=
AUDIO_NICE=
AUDIO_AS=()

audio_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

audio_require() {
	local t pkg
	for t in jackd:jackd2 jack_wait:jackd2 jack_lsp:jackd2 scsynth:supercollider-server sox:sox; do
		pkg=${t#*:}
		t=${t%%:*}
		command -v "$t" >/dev/null 2>&1 ||
			audio_fail "$t not found: install the Debian package $pkg"
	done
	[ -x "$AUDIO_PROBE" ] || audio_fail "$AUDIO_PROBE not built (run make check)"
}

# A port for a test to bind: below the kernel's ephemeral range, where
# outgoing connections take their local ports (a port there that nothing
# listens on may still be taken by a connection, or its TIME_WAIT, by the
# time the program binds it: "Address already in use" in a CI run), and
# not used by any socket of the protocol now, in any state.
audio_pick_port() {	# audio_pick_port udp|tcp
	local p i lo flag=-Hanu
	[ "$1" = tcp ] && flag=-Hant
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) || lo=
	[ -n "$lo" ] && [ "$lo" -gt 12000 ] || lo=61000
	for i in $(seq 1 50); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
		if ! ss "$flag" 2>/dev/null | awk '{ print $4 }' | grep -q ":$p\$"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# A UDP port on 127.0.0.1 that nothing uses now.
audio_free_port() { audio_pick_port udp; }

# A TCP port on 127.0.0.1 that nothing uses now (for --http).
audio_free_tcp_port() { audio_pick_port tcp; }

audio_start() {
	local dir=$1 i try
	[ -d "$dir" ] || audio_fail "audio_start: no directory $dir"
	AUDIO_JACK="${AUDIO_JACK_PREFIX:-me-test}-$$-$RANDOM"
	jackd -n "$AUDIO_JACK" -d dummy -r "$AUDIO_RATE" -p "$AUDIO_PERIOD" \
		>"$dir/jackd.log" 2>&1 9>&- &
	AUDIO_JACK_PID=$!
	AUDIO_JACK_LOG="$dir/jackd.log"
	if ! JACK_DEFAULT_SERVER="$AUDIO_JACK" timeout 15 jack_wait -w -t 10 >/dev/null 2>&1; then
		cat "$dir/jackd.log" >&2
		audio_fail "jackd ($AUDIO_JACK) did not start"
	fi
	for try in 1 2 3; do
		AUDIO_PORT=$(audio_free_port) || audio_fail "no free UDP port"
		AUDIO_SC_LOG="$dir/scsynth.log"
		JACK_DEFAULT_SERVER="$AUDIO_JACK" JACK_NO_START_SERVER=1 \
			SC_JACK_DEFAULT_OUTPUTS= SC_JACK_DEFAULT_INPUTS= \
			scsynth -u "$AUDIO_PORT" -i 0 -o 2 -D 0 -R 0 -l "${AUDIO_SC_LOGINS:-4}" \
			>"$AUDIO_SC_LOG" 2>&1 </dev/null 9>&- &
		AUDIO_SC_PID=$!
		for i in $(seq 1 50); do
			if ! kill -0 "$AUDIO_SC_PID" 2>/dev/null; then
				break
			fi
			if "$AUDIO_PROBE" -p "$AUDIO_PORT" -t 200 status >/dev/null 2>&1; then
				return 0
			fi
			sleep 0.1
		done
		# dead (port taken?) or silent: stop it and try another port
		audio_stop_sc
		echo "scsynth on port $AUDIO_PORT did not answer (try $try):" >&2
		tail -5 "$AUDIO_SC_LOG" >&2
	done
	audio_fail "scsynth did not come up on the private JACK server $AUDIO_JACK"
}

audio_stop_sc() {
	local i
	if [ -n "$AUDIO_SC_PID" ]; then
		kill "$AUDIO_SC_PID" 2>/dev/null || true
		for i in $(seq 1 30); do
			kill -0 "$AUDIO_SC_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$AUDIO_SC_PID" 2>/dev/null || true
		wait "$AUDIO_SC_PID" 2>/dev/null || true
		AUDIO_SC_PID=
	fi
	if [ -n "$AUDIO_PORT" ]; then
		# one started again on the same port (a test standing in for its supervisor)
		for i in $(pgrep -f "^scsynth -u $AUDIO_PORT " || true); do
			kill -9 "$i" 2>/dev/null || true
		done
		rm -f "/dev/shm/SuperColliderServer_$AUDIO_PORT"
	fi
}

audio_stop() {
	local i
	audio_stop_sc
	if [ -n "$AUDIO_JACK_PID" ]; then
		kill "$AUDIO_JACK_PID" 2>/dev/null || true
		for i in $(seq 1 30); do
			kill -0 "$AUDIO_JACK_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$AUDIO_JACK_PID" 2>/dev/null || true
		wait "$AUDIO_JACK_PID" 2>/dev/null || true
		AUDIO_JACK_PID=
		audio_jack_forget "$AUDIO_JACK"
	fi
}

# A JACK server that ended without unregistering (SIGKILL) keeps its entry
# in libjack's registry of servers (/dev/shm/jack-shm-registry: 8 entries
# for the whole machine, every user's), and only a server started later
# under the same name takes it back.  Tests name their servers uniquely, so
# a few such leftovers and no JACK server starts anywhere on the machine
# ("Too many servers already active").  So when the registry still holds
# NAME and no jackd of that name runs: start one under that name, which
# reclaims the entry, and stop it properly.  The entry says whose server
# it was ("jack-UID:NAME:"): the one started runs as that user (the test
# user's servers; root may, another user cannot).
audio_jack_forget() {
	local name=$1 pid i uid as=()
	[ -n "$name" ] || return 0
	uid=$(tr '\0' '\n' 2>/dev/null </dev/shm/jack-shm-registry | grep -aF ":$name:" | head -1 |
		sed -n 's/^jack-\([0-9]*\):.*/\1/p') || true
	[ -n "$uid" ] || return 0
	! pgrep -f "^jackd -n $name " >/dev/null || return 0
	if [ "$uid" != "$(id -u)" ]; then
		[ "$(id -u)" -eq 0 ] || return 0
		as=(setpriv --reuid="$uid" --regid="$(id -g "$uid")" --init-groups env HOME=/tmp)
	fi
	"${as[@]}" jackd -n "$name" -d dummy -r "$AUDIO_RATE" -p "$AUDIO_PERIOD" >/dev/null 2>&1 </dev/null 9>&- &
	pid=$!
	for i in $(seq 1 50); do
		JACK_DEFAULT_SERVER=$name JACK_NO_START_SERVER=1 "${as[@]}" jack_lsp >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# make -j2 check runs two tests at once; two audio stacks (each a JACK
# dummy driver waking every 5 ms and a scsynth, at real-time priority when
# root) on a 2-core machine disturb each other's timing, which the
# installation, with one stack, never sees.  So each live audio test holds
# an exclusive lock (flock on fd 9, tests/.audio.lock in the build tree)
# from here until it exits; the other tests go on in parallel.  Long-lived
# processes the test starts get fd 9 closed (9>&-), so one left behind
# cannot keep the lock.
audio_exclusive() {
	local lock="${top_builddir:-.}/tests/.audio.lock" t0
	# make check runs AUDIO_TESTS one after the other (tests/tests.am); a
	# test outside that list would hold one of its slots only waiting here.
	if [ -n "${AUDIO_TESTS+set}" ]; then
		case " $AUDIO_TESTS " in
		*"/${0##*/} "*) ;;
		*) audio_fail "${0##*/} takes the audio lock but is not in AUDIO_TESTS (tests/*.am)" ;;
		esac
	fi
	command -v flock >/dev/null 2>&1 || audio_fail "flock not found: install the Debian package util-linux"
	exec 9>>"$lock" || audio_fail "cannot open $lock"
	t0=$(date +%s)
	flock -w 1200 9 || audio_fail "another audio test held $lock for 20 minutes"
	[ $(($(date +%s) - t0)) -lt 2 ] || echo "audio_exclusive: waited $(($(date +%s) - t0)) s for $lock"
	audio_hold_awake
}

# An idle virtual CPU halts, and JACK's dummy driver, woken late by it,
# steps its clock (11 to 68 times a minute on a quiet 2-vCPU VM, once in
# four minutes with the CPUs held awake: doc/performance.md, "Side by
# side", runs 3 and 4), which moves every later onset by many samples:
# the machine, not the engine.  So while an audio test runs, one spinner
# per CPU under SCHED_IDLE can keep the CPUs awake; SCHED_IDLE gets a CPU
# only when nothing else wants it, so it takes no time from the test, the
# engine, scsynth or JACK.  Each spinner ends with the test's shell.
# Asked for with AUDIO_AWAKE=1, and only under make check (which sets
# AUDIO_TESTS): a bench that measures CPU keeps the machine as it is.  Not
# the default: with the other chain of make check running, spinning vCPUs
# did worse in one run (doc/performance.md, "The test suite's time").
audio_hold_awake() {
	local i owner=$$
	[ -n "${AUDIO_TESTS+set}" ] && [ "${AUDIO_AWAKE:-0}" = 1 ] || return 0
	command -v chrt >/dev/null 2>&1 || audio_fail "chrt not found: install the Debian package util-linux"
	for i in $(seq 1 "$(nproc)"); do
		# in a subshell: not a job of the test's shell (a bare `wait`)
		(chrt --idle 0 sh -c 'while kill -0 "$1" 2>/dev/null; do :; done' sh "$owner" \
			</dev/null >/dev/null 2>&1 9>&- &)
	done
}

# Number of "late" lines scsynth printed (bundles that arrived too late).
audio_late_count() {
	grep -c '^late ' "$AUDIO_SC_LOG" 2>/dev/null || true
}

# The value of the engine's metric mystery_engine_NAME, from its HTTP API on
# 127.0.0.1:PORT (empty when it does not answer).  awk reads the whole
# answer: one that stopped early would make curl fail (exit 23) under
# pipefail.
audio_metric() {	# audio_metric PORT NAME
	curl -s --max-time 2 "http://127.0.0.1:$1/metrics" |
		awk -v k="mystery_engine_$2" '$1 == k { print $2 }'
}

# Number of steps the JACK dummy driver's clock made so far (its
# "JackTimedDriver::Process XRun" lines): the driver caught up with time
# lost while its CPU was not running, and scsynth's time moved with it.
audio_clock_steps() {
	grep -c 'JackTimedDriver::Process XRun' "$AUDIO_JACK_LOG" 2>/dev/null || true
}

audio_user() {
	local dir=$1 name=${ME_TEST_USER:-mystery-test} i groups=()
	local lim=(--rtprio=0:0 --memlock=65536:65536)
	[ -d "$dir" ] || audio_fail "audio_user: no directory $dir"
	if [ "$(id -u)" -ne 0 ]; then
		AUDIO_USER=$(id -un)
		AUDIO_AS=(prlimit "${lim[@]}" env HOME="$dir")
		return 0
	fi
	local t
	for t in setpriv:util-linux prlimit:util-linux useradd:passwd; do
		command -v "${t%%:*}" >/dev/null 2>&1 ||
			audio_fail "${t%%:*} not found: install the Debian package ${t#*:}"
	done
	getent group audio >/dev/null && groups=(--groups audio)
	# Parallel tests may race to create it: whoever loses finds it made.
	for i in 1 2 3 4 5 6; do
		id -u "$name" >/dev/null 2>&1 && break
		useradd --system --user-group "${groups[@]}" --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin "$name" 2>/dev/null ||
			sleep 0.5
	done
	id -u "$name" >/dev/null 2>&1 || audio_fail "cannot create the test user $name (useradd)"
	chown "$name:" "$dir" || audio_fail "cannot give $dir to $name"
	AUDIO_USER=$name
	# the unit's Nice=-10 (absolute), set before the privileges are
	# dropped, as systemd does
	AUDIO_NICE=${ME_TEST_NICE:--10}
	AUDIO_AS=(nice -n $((AUDIO_NICE - $(nice))) prlimit "${lim[@]}"
		setpriv --reuid="$name" --regid="$name" --init-groups
		env HOME="$dir" XDG_STATE_HOME="$dir/state")
}
