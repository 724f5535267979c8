# tests/cli/e2e_live_lib.sh: running the real mystery-engine binary on a
# private audio stack, for the end-to-end tests (tests/cli/e2e_live_*.sh)
# and the benches (bench/e2e_onsets.sh, live_latency.sh, daemon_cost.sh,
# kill_recovery_e2e.sh).  Source it (bash) after setting nothing; then:
#
#   e2e_require                 fail naming any missing tool
#   e2e_init NAME               private temp dir E2E_TMP, JACK server name
#                               E2E_JACK and UDP port E2E_PORT; EXIT trap;
#                               E2E_AS: how e2e_start runs the binary: as the
#                               unprivileged test user (tests/lib/audio.sh
#                               audio_user) unless E2E_AS_ROOT=1; takes the
#                               audio lock (audio.sh audio_exclusive)
#   e2e_attempts N FUNC ARGS... run FUNC up to N times until it succeeds
#                               (each in a subshell: its e2e_fail ends that
#                               attempt only; E2E_TRY is its number); on
#                               failure E2E_FAILS holds each one's reason
#   E2E_SETS=(...)              --set options of the run (e2e_isolated,
#                               e2e_dense fill it)
#   e2e_pick_seed               a seed whose first step lasts at most half a
#                               e2e_isolated step (so notes are isolated)
#   e2e_start LOG [ARGS...]     start the binary (--daemon -v, managed stack
#                               on E2E_JACK/E2E_PORT, no MIDI, no LEDs, no
#                               HTTP) with E2E_SETS and ARGS; E2E_PID
#   e2e_wait_log LOG REGEX [S]  wait until a log line matches (fail after S s
#                               or when the binary died)
#   e2e_stop                    SIGTERM; sets E2E_RC (exit status, 137 when
#                               it needed SIGKILL after 2.5 s) and E2E_STOP_MS
#   e2e_leftovers               prints what the run left behind: scsynth on
#                               E2E_PORT, jackd named E2E_JACK, the /dev/shm
#                               segment; empty output = clean
#   e2e_late LOG                scsynth's "late" lines in the debug log
#   e2e_rms WAV                 RMS amplitude of a WAV, by sox
#
# The cleanup kills the binary (by its pid), then any scsynth on E2E_PORT
# and jackd named E2E_JACK that survived it (found by their command lines,
# which carry the private port and name), and removes the /dev/shm segment.

E2E_BIN=${ME_BIN:-${top_builddir:-.}/mystery-engine}
E2E_CONF=${top_srcdir:-.}/conf/mystery-engine.conf
E2E_TOOLS=${top_builddir:-.}/tests/tools
E2E_MATCH=${top_srcdir:-.}/tests/tools/onset_match.py
E2E_TMP=
E2E_PID=
E2E_JACK=
E2E_PORT=
E2E_RC=
E2E_STOP_MS=
E2E_SETS=()
E2E_AS=()
E2E_STEP_S=
E2E_TRY=1
E2E_FAILS=

e2e_fail() {
	echo "FAIL: $*" >&2
	[ -z "$E2E_TMP" ] || echo "$*" >>"$E2E_TMP/fails" 2>/dev/null || true
	exit 1
}

e2e_require() {
	local t
	for t in jackd:jackd2 jack_wait:jackd2 jack_lsp:jackd2 scsynth:supercollider-server sox:sox \
		python3:python3 pgrep:procps curl:curl; do
		command -v "${t%%:*}" >/dev/null 2>&1 ||
			e2e_fail "${t%%:*} not found: install the Debian package ${t#*:}"
	done
	[ -x "$E2E_BIN" ] || e2e_fail "$E2E_BIN not built"
	for t in wav_onsets sc_probe; do
		[ -x "$E2E_TOOLS/$t" ] || e2e_fail "$E2E_TOOLS/$t not built (make check)"
	done
	[ -r "$E2E_MATCH" ] || e2e_fail "$E2E_MATCH missing"
	[ -r "$E2E_CONF" ] || e2e_fail "$E2E_CONF missing"
}

# A UDP port on 127.0.0.1 that nothing listens on now (tests/lib/audio.sh).
. "${top_srcdir:-.}/tests/lib/audio.sh"
e2e_free_port() { audio_free_port; }

# The engine and the managed stack it started (a killed engine leaves them).
e2e_kill_all() {
	local p
	if [ -n "$E2E_PID" ]; then
		kill -9 "$E2E_PID" 2>/dev/null || true
		wait "$E2E_PID" 2>/dev/null || true
		E2E_PID=
	fi
	if [ -n "$E2E_PORT" ]; then
		for p in $(pgrep -f "^scsynth -u $E2E_PORT " || true); do
			kill -9 "$p" 2>/dev/null || true
		done
		rm -f "/dev/shm/SuperColliderServer_$E2E_PORT"
	fi
	if [ -n "$E2E_JACK" ]; then
		for p in $(pgrep -f "^jackd -n $E2E_JACK " || true); do
			kill -9 "$p" 2>/dev/null || true
		done
		audio_jack_forget "$E2E_JACK"
	fi
}

e2e_cleanup() {
	e2e_kill_all
	if declare -F audio_stop >/dev/null; then
		audio_stop
	fi
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	E2E_TMP=
}

e2e_init() {
	E2E_TMP=$(mktemp -d)
	E2E_JACK="me-$1-$$"
	E2E_PORT=$(e2e_free_port) || e2e_fail "no free UDP port"
	trap e2e_cleanup EXIT
	audio_exclusive
	E2E_AS=()
	if [ "${E2E_AS_ROOT:-0}" != 1 ]; then
		audio_user "$E2E_TMP"
		E2E_AS=("${AUDIO_AS[@]}")
	fi
}

# Sequenced notes separated by silence: a one-step pattern that always
# sounds, one step per beat at BPM (50: 1.2 s), reverb off, the filter open
# (a sharp first sample), nothing that changes the tempo or the sound.
e2e_isolated() {
	local bpm=${1:-50} swing=${2:-0.2}
	E2E_STEP_S=$(awk -v b="$bpm" 'BEGIN { printf "%.6f", 60 / b }')
	E2E_SETS=(--set sequencer.steps=1 --set sequencer.steps_per_beat=1
		--set sequencer.bpm="$bpm" --set sequencer.swing="$swing"
		--set sequencer.density=1 --set sequencer.drift=0
		--set sound.reverb_mix=0 --set sound.filter_cutoff=12000
		--set mutation.enabled=false --set idle.timeout_ms=86400000)
}

# The seed whose pattern's first step is half a step long (notes of
# 0.5 x step, the shortest the sequencer draws): found by rendering.  The
# step is e2e_isolated's (one step per beat).
e2e_pick_seed() {
	local s d step=$E2E_STEP_S
	for s in $(seq 1 40); do
		d=$("$E2E_BIN" render -c "$E2E_CONF" "${E2E_SETS[@]}" --seconds 2 --seed "$s" \
			--events - 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e["type"] == "note":
        print(e["duration"])
        break
') || true
		if [ -n "$d" ] && python3 -c "import sys; sys.exit(not float('$d') <= 0.5 * float('$step') + 1e-6)"; then
			echo "$s"
			return 0
		fi
	done
	e2e_fail "no seed in 1..40 gives a first step of half a step"
}

e2e_start() {
	local log=$1
	shift
	"${E2E_AS[@]}" "$E2E_BIN" --daemon -v -c "$E2E_CONF" --set synth.jack_name="$E2E_JACK" \
		--set synth.port="$E2E_PORT" --midi-in none --led none --http off \
		"${E2E_SETS[@]}" "$@" >"$log" 2>&1 </dev/null 9>&- &
	E2E_PID=$!
}

# A timing check on a shared machine: a fault fails every attempt, a
# machine too busy for one run rarely fails N in a row.  Each attempt's
# figures stay in the log; after N failures the caller's e2e_fail names
# the check.
e2e_attempts() {
	local n=$1 k why
	shift
	E2E_FAILS=
	for k in $(seq 1 "$n"); do
		echo "-- attempt $k of $n: $* (load $(cut -d' ' -f1-3 /proc/loadavg))"
		rm -f "$E2E_TMP/fails"
		if (trap e2e_kill_all EXIT; E2E_TRY=$k; "$@"); then
			return 0
		fi
		why=$(tail -1 "$E2E_TMP/fails" 2>/dev/null || true)
		E2E_FAILS="${E2E_FAILS:+$E2E_FAILS; }attempt $k: ${why:-failed (see above)}"
		echo "-- attempt $k of $n failed: ${why:-see above}" >&2
	done
	return 1
}

# Is the process running (not exited, not a zombie waiting to be reaped)?
e2e_alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

e2e_wait_log() {
	local log=$1 re=$2 secs=${3:-15} i
	for i in $(seq 1 $((secs * 20))); do
		grep -Eq "$re" "$log" 2>/dev/null && return 0
		if [ -n "$E2E_PID" ] && ! e2e_alive "$E2E_PID"; then
			grep -v '"debug"' "$log" >&2 || true
			e2e_fail "mystery-engine exited while waiting for /$re/"
		fi
		sleep 0.05
	done
	grep -v '"debug"' "$log" >&2 || true
	e2e_fail "no log line /$re/ within $secs s"
}

e2e_stop() {
	local t0 t1 dog
	t0=$(date +%s%N)
	kill -TERM "$E2E_PID"
	(sleep 2.5; kill -9 "$E2E_PID" 2>/dev/null) &
	dog=$!
	E2E_RC=0
	wait "$E2E_PID" || E2E_RC=$?
	t1=$(date +%s%N)
	kill "$dog" 2>/dev/null || true
	wait "$dog" 2>/dev/null || true
	E2E_PID=
	E2E_STOP_MS=$(((t1 - t0) / 1000000))
}

e2e_leftovers() {
	local p
	p=$(pgrep -f "^scsynth -u $E2E_PORT " || true)
	[ -z "$p" ] || echo "scsynth on port $E2E_PORT still runs (pid $p)"
	p=$(pgrep -f "^jackd -n $E2E_JACK " || true)
	[ -z "$p" ] || echo "jackd $E2E_JACK still runs (pid $p)"
	[ ! -e "/dev/shm/SuperColliderServer_$E2E_PORT" ] ||
		echo "/dev/shm/SuperColliderServer_$E2E_PORT left behind"
	return 0
}

e2e_late() {
	grep -c '"event":"scsynth","msg":"late ' "$1" || true
}

e2e_rms() {
	sox "$1" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}'
}
