#!/bin/bash
# peers: mystery-engine side by side with SuperCollider's sclang, Pure Data
# and Sonic Pi, playing the same job on the same scsynth.
#
# The job: sixteenth notes at 120 BPM (one every 125 ms) for SECONDS
# (default 60), each a /s_new of the same short percussive SynthDef under
# the same name (me_voice: bench/peers_osc.py), on one scsynth running on a
# private JACK dummy server (48 kHz, period 256).  Each system is started,
# given time to boot and play, then measured over one recording of SECONDS
# made by scsynth itself (DiskOut at the tail of the root group, so a late
# JACK client cannot lose frames); REPEATS (default 3) rounds, the systems
# interleaved and their order rotated every round.  Per run:
#   onsets     tests/tools/wav_onsets on the recording; bench/peers_onsets.py
#              compares each with a line fitted through the onsets within
#              +-2 s (rms, max in samples; within1: |onset - round(line)| <= 1)
#              and with the midpoint of its two neighbours ("of its
#              neighbours": a clock step spoils two notes, not four seconds);
#              "without a clock step": the same over the onsets whose +-2 s
#              hold no step of the driver's clock, found in the recording as
#              a jump of a gap (jumps), the sender's own error
#   late       scsynth's "late" lines during the recording (bundles that
#              arrived after their time)
#   steps      the JACK dummy driver's clock steps during the recording
#              ("JackTimedDriver::Process XRun" in jackd's log) and clients
#              that missed a cycle ("JackEngine::XRun"): what the driver did,
#              not the sender
#   cpu        the sender's CPU time (every thread of every process of its
#              tree: /proc/PID/task/TID/schedstat) over the recording, in %
#              of one core; rss: the sum of their peak RSS (VmHWM)
# Systems (PEERS, default all):
#   me          mystery-engine --daemon --synth supercollider:127.0.0.1:PORT,
#               a one-step pattern that always sounds (its own me_voice is
#               replaced by the test voice once it is connected), 50 ms
#               look-ahead, timetagged bundles, the def ends in OffsetOut
#   me-idle     the same with sequencer.density 0: the sequencer steps,
#               nothing is due to sound (no onsets to measure)
#   me-still    nothing due at all: density 0, 20 BPM, one step a beat (a
#               step every 3 s): what a paused instrument costs (pause
#               itself is a console key)
#   me-before   the same as "me" with the binary PEERS_ME_BEFORE (e.g. a
#               build of an older commit), when that is set
#   sclang      a Pbind on TempoClock at tempo 2 (dur 0.25), Server.remote,
#               latency 0.2 s; the def ends in OffsetOut
#   sclang-out  the same with the def ending in Out (as most SuperCollider
#               code does): onsets move to 64-sample block boundaries
#   pd          Pure Data -nogui -nosound: [metro 125] -> [oscformat] ->
#               [netsend -u -b]: a plain message, no timetag
#   sonicpi     sonic-pi-server.rb headless (use_bpm 120, a live_loop of
#               `synth :me_voice` and `sleep 0.25`, sched-ahead 0.5 s), its
#               messages passed to the bench's scsynth through a relay (it
#               wants to boot its own: a stand-in answers for that one)
# Prints every run and, per system, the medians and the ratios to "me";
# PEERS_AWAKE=1 keeps every CPU busy with a spinning process under
# SCHED_IDLE (chrt --idle 0), which runs only when nothing else wants the
# CPU: on a virtual machine an idle vCPU halts, and waking it costs far
# more than the sender's own work; it also makes the JACK dummy driver
# step its clock (doc/performance.md, "Side by side", runs 3 and 4).
# PEERS_DOC=FILE also writes those tables into FILE between the lines
# "<!-- peers.sh begin -->" and "<!-- peers.sh end -->".  Run as root,
# mystery-engine and Pd take SCHED_FIFO (as with rtprio at the
# installation); sclang and Sonic Pi do not ask for it.
#
# Usage: bench/peers.sh [SECONDS] [REPEATS]   (top_builddir = a build tree
# where `make check` has built tests/tools; ME_BIN = the program)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
secs=${1:-60}
repeats=${2:-3}
bench=$top_srcdir/bench
me_bin=${ME_BIN:-$top_builddir/mystery-engine}
onsets_tool=$top_builddir/tests/tools/wav_onsets
systems=${PEERS:-me me-idle me-still sclang sclang-out pd sonicpi}
[ -n "${PEERS_ME_BEFORE:-}" ] && [ -z "${PEERS:-}" ] && systems="$systems me-before"
sp_server=/usr/lib/sonic-pi/app/server/ruby/bin/sonic-pi-server.rb

say() { printf 'peers: %s\n' "$*" >&2; }
fail() {
	say "FAIL: $*"
	exit 1
}

# --- what is needed, by Debian package ------------------------------------
has() { case " $systems " in *" $1 "*) return 0 ;; esac; return 1; }
missing=() pkgs=()
need() {	# need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 && return 0
	missing+=("$1 (Debian package $2)")
	pkgs+=("$2")
}
need jackd jackd2
need jack_wait jackd2
need scsynth supercollider-server
need python3 python3
need ss iproute2
if has sclang || has sclang-out; then
	need sclang supercollider-language
fi
if has pd; then
	need pd puredata-core
fi
if has sonicpi; then
	need ruby ruby
	need erl erlang-base
	if [ ! -r "$sp_server" ]; then
		missing+=("$sp_server (Debian package sonic-pi-server)")
		pkgs+=(sonic-pi-server)
	fi
fi
if [ ${#missing[@]} -gt 0 ]; then
	for m in "${missing[@]}"; do say "missing: $m"; done
	say "install with: apt-get install --no-install-recommends $(printf '%s\n' "${pkgs[@]}" | sort -u | tr '\n' ' ')"
	say "or leave systems out, e.g. PEERS=\"me sclang pd\" $0 $*"
	exit 1
fi
[ -x "$me_bin" ] || fail "$me_bin is not built (set ME_BIN or top_builddir)"
[ -x "$onsets_tool" ] || fail "$onsets_tool is not built (make check builds it)"
if has me-before; then
	[ -x "${PEERS_ME_BEFORE:-}" ] || fail "me-before needs PEERS_ME_BEFORE=/path/to/mystery-engine"
fi

# --- the stack ---------------------------------------------------------------
export top_builddir
AUDIO_JACK_PREFIX=${AUDIO_JACK_PREFIX:-peers}
# a client killed before it unregisters (/notify 0) keeps its login for the
# server's life: room for every run of the bench
AUDIO_SC_LOGINS=64
. "$bench/lib.sh"	# tests/lib/audio.sh, bench_median
tmp=$(mktemp -d)
chmod 755 "$tmp"
pgids=()
cleanup() {
	local g
	for g in "${pgids[@]}"; do
		kill -KILL -- "-$g" 2>/dev/null || true
	done
	audio_stop
	if [ -n "${PEERS_KEEP:-}" ]; then
		say "recordings and logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
audio_require
awake=
if [ -n "${PEERS_AWAKE:-}" ]; then
	command -v chrt >/dev/null || fail "chrt missing (Debian package util-linux)"
	for _ in $(seq 1 "$(nproc)"); do
		setsid chrt --idle 0 sh -c 'while :; do :; done' &
		pgids+=($!)
	done
	awake=", every CPU held awake (PEERS_AWAKE=1: $(nproc) spinners under SCHED_IDLE)"
fi
audio_start "$tmp"
osc() { python3 "$bench/peers_osc.py" "$AUDIO_PORT" "$@"; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
load_before=$(load_avg)
say "scsynth on UDP $AUDIO_PORT, JACK server $AUDIO_JACK; ${secs} s per run, $repeats rounds: $systems$awake"

# --- measuring a process tree ------------------------------------------------
tree() {	# tree PID: PID and its descendants
	local p=$1 c
	echo "$p"
	for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
		tree "$c"
	done
}
# ns of CPU time of every thread of the tree, leaving out stand-ins (sleep)
cpu_ns() {
	local p t sum=0 v
	for p in $(tree "$1"); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = sleep ] && continue
		for t in /proc/"$p"/task/*; do
			v=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) || continue
			sum=$((sum + v))
		done
	done
	echo "$sum"
}
hwm_kb() {
	local p sum=0 v
	for p in $(tree "$1"); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = sleep ] && continue
		v=$(awk '/^VmHWM/ { print $2 }' /proc/"$p"/status 2>/dev/null) || continue
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
count() { grep -c "$1" "$2" 2>/dev/null || true; }

# Starts "$@" in a session of its own (so the whole tree can be stopped);
# sets PID.
spawn() {
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 </dev/null &
	PID=$!
	pgids+=("$PID")
}
stop_tree() {	# stop_tree PID: SIGTERM to its session, SIGKILL after 5 s
	local p=$1 i
	kill -TERM -- "-$p" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
wait_for() {	# wait_for LOG REGEX SECONDS PID
	local i
	for i in $(seq $(($3 * 10))); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- the systems -------------------------------------------------------------
fx_bus=$(grep -rh 'define SYNTHDEF_FX_BUS' "$top_srcdir/src" | awk '{ print $3 }')
[ -n "$fx_bus" ] || fail "SYNTHDEF_FX_BUS not found under $top_srcdir/src"
me_sets=(--set sequencer.bpm=120 --set sequencer.steps=1 --set sequencer.steps_per_beat=4
	--set sequencer.density=1 --set sequencer.swing=0 --set sequencer.drift=0
	--set mutation.enabled=false --set idle.timeout_ms=86400000 --set sound.reverb_mix=0)
start_me() {	# start_me LOG BINARY [--set ...]
	local log=$1 bin=$2
	shift 2
	# an empty configuration: the built-in one, which is the shipped one, for
	# any build (an older one may not know today's keys)
	: >"$tmp/empty.conf"
	spawn "$log" "$bin" --daemon -c "$tmp/empty.conf" \
		--synth "supercollider:127.0.0.1:$AUDIO_PORT" --midi-in none --led none \
		--http "127.0.0.1:$(audio_free_port)" --seed 5 "${me_sets[@]}" "$@"
	wait_for "$log" 'synth.ready' 20 "$PID" || return 1
	# the test voice in place of the instrument's, into its master effect
	# (reverb 0: a plain pass to bus 0), whose meter the health check reads
	osc def offset me_voice "$fx_bus"
}

sclang_script() {
	cat <<SC
Server.default = s = Server.remote(\\peers, NetAddr("127.0.0.1", $AUDIO_PORT));
s.latency = 0.2;
s.doWhenBooted({ fork {
	s.initTree;	// the default group, also when the server took us for a returning client
	s.sync;
	TempoClock.default.tempo = 2;
	Pbind(\\instrument, \\me_voice, \\dur, 0.25).play(TempoClock.default, quant: 1);
	"peers: playing".postln;
} });
SC
}
start_sclang() {
	sclang_script >"$tmp/peers.scd"
	mkdir -p "$tmp/home"
	# offscreen Qt: no display; QtWebEngine refuses root without this
	spawn "$1" env HOME="$tmp/home" QT_QPA_PLATFORM=offscreen QTWEBENGINE_DISABLE_SANDBOX=1 \
		sclang -D "$tmp/peers.scd"
	wait_for "$1" 'peers: playing' 60 "$PID"
}

start_pd() {
	cat >"$tmp/peers.pd" <<PD
#N canvas 0 0 450 300 12;
#X obj 10 10 loadbang;
#X msg 10 40 connect 127.0.0.1 $AUDIO_PORT;
#X obj 10 200 netsend -u -b;
#X obj 200 10 loadbang;
#X obj 200 40 delay 200;
#X obj 200 70 metro 125;
#X msg 200 100 list me_voice -1 0 0;
#X obj 200 130 oscformat -f siii s_new;
#X connect 0 0 1 0;
#X connect 1 0 2 0;
#X connect 3 0 4 0;
#X connect 4 0 5 0;
#X connect 5 0 6 0;
#X connect 6 0 7 0;
#X connect 7 0 2 0;
PD
	spawn "$1" pd -nogui -nosound -nomidi -noprefs -open "$tmp/peers.pd"
	sleep 1
	kill -0 "$PID" 2>/dev/null
}

sonicpi_code='use_bpm 120
live_loop :peers do
  use_external_synths true
  synth :me_voice
  sleep 0.25
end
'
start_sonicpi() {
	local log=$1 p i
	# Sonic Pi boots its own scsynth and insists that the port it sends to
	# is free: a stand-in answers its boot, a relay (started once the port
	# check is done) carries everything to the bench's server.
	mkdir -p "$tmp/sp-bin" "$tmp/sp-home"
	cat >"$tmp/sp-bin/scsynth" <<'SH'
#!/bin/sh
case "$1" in -v) echo "scsynth 3.13.0"; exit 0 ;; esac
echo "SuperCollider 3 server ready."
exec sleep 100000
SH
	chmod +x "$tmp/sp-bin/scsynth"
	local ports=()
	for i in $(seq 9); do ports+=("$(audio_free_port)"); done
	spawn "$log" env HOME="$tmp/sp-home" PATH="$tmp/sp-bin:$PATH" \
		JACK_DEFAULT_SERVER="$AUDIO_JACK" JACK_NO_START_SERVER=1 \
		ruby "$sp_server" -u "${ports[@]}"
	SP_PID=$PID
	for i in $(seq 300); do
		grep -A1 'Scsynth send port' "$log" | grep -q OK && break
		kill -0 "$SP_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	spawn "$tmp/relay.log" python3 "$bench/peers_osc.py" "$AUDIO_PORT" relay "${ports[3]}"
	RELAY_PID=$PID
	wait_for "$log" 'Sonic Pi Server successfully booted' 90 "$SP_PID" || return 1
	python3 -c '
import socket, sys
sys.path.insert(0, sys.argv[1])
import peers_osc
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(peers_osc.osc_message("/run-code", "peers", sys.argv[3]), ("127.0.0.1", int(sys.argv[2])))
' "$bench" "${ports[0]}" "$sonicpi_code"
	PID=$SP_PID
	sleep 2
}

# --- one run -----------------------------------------------------------------
results=$tmp/results.txt
: >"$results"
run_one() {	# run_one SYSTEM ROUND
	local sys=$1 round=$2 log="$tmp/$1-$2.log" rec="$tmp/$1-$2.wav" ok=0
	RELAY_PID=
	osc clear >/dev/null || fail "scsynth does not answer"
	case $sys in
	sclang-out) osc def out me_voice ;;
	*) osc def offset me_voice ;;
	esac
	case $sys in
	me) start_me "$log" "$me_bin" && ok=1 ;;
	me-idle) start_me "$log" "$me_bin" --set sequencer.density=0 && ok=1 ;;
	me-still)
		start_me "$log" "$me_bin" --set sequencer.density=0 --set sequencer.bpm=20 \
			--set sequencer.steps_per_beat=1 && ok=1
		;;
	me-before) start_me "$log" "$PEERS_ME_BEFORE" && ok=1 ;;
	sclang | sclang-out) start_sclang "$log" && ok=1 ;;
	pd) start_pd "$log" && ok=1 ;;
	sonicpi) start_sonicpi "$log" && ok=1 ;;
	esac
	local pid=$PID
	if [ "$ok" != 1 ]; then
		say "$sys did not start; its log:"
		tail -20 "$log" >&2
		stop_tree "$pid"
		[ -n "$RELAY_PID" ] && stop_tree "$RELAY_PID"
		echo "$sys|$round|failed" >>"$results"
		return 0
	fi
	sleep 2
	local l0 s0 x0 c0 t0 c1 t1 hwm
	l0=$(audio_late_count)
	s0=$(audio_clock_steps)
	x0=$(count 'JackEngine::XRun' "$tmp/jackd.log")
	c0=$(cpu_ns "$pid")
	t0=$(date +%s%N)
	osc record "$rec" "$secs" || say "$sys: the recording failed"
	c1=$(cpu_ns "$pid")
	t1=$(date +%s%N)
	hwm=$(hwm_kb "$pid")
	local late steps xr
	late=$(($(audio_late_count) - l0))
	steps=$(($(audio_clock_steps) - s0))
	xr=$(($(count 'JackEngine::XRun' "$tmp/jackd.log") - x0))
	stop_tree "$pid"
	[ -n "$RELAY_PID" ] && stop_tree "$RELAY_PID"
	[ "$sys" = sonicpi ] && rm -f /tmp/sonic-pi-pids/* 2>/dev/null
	local on="$tmp/$sys-$round.onsets" a o mid clean
	"$onsets_tool" "$rec" >"$on" 2>/dev/null || : >"$on"
	o=$(python3 "$bench/peers_onsets.py" --onsets "$on" --interval-s 0.125 2>/dev/null) || true
	get() { awk -v f="$1" '{ v[$1] = $2 } END { n = split(f, k, " "); for (i = 1; i <= n; i++)
		printf "%s%s", (i > 1 ? "|" : ""), v[k[i]] }' <<<"$o"; }
	a=$(get "notes expected missing rms max within1")
	mid=$(get "mid_within1 mid_measured")
	clean=$(get "clean_rms clean_max clean_within1 clean_measured jumps")
	[ -n "$o" ] || a="$(wc -l <"$on")|||||"
	awk -v s="$sys" -v r="$round" -v a="$a" -v c=$((c1 - c0)) -v dt=$((t1 - t0)) \
		-v h="$hwm" -v l="$late" -v st="$steps" -v x="$xr" -v m="$mid" -v cl="$clean" 'BEGIN {
		printf "%s|%s|%s|%.3f|%.1f|%d|%d|%d|%s|%s\n", s, r, a, 100 * c / dt, h / 1024, l, st, x, m, cl }' \
		>>"$results"
	tail -1 "$results" | awk -F'|' '{ printf "%-10s round %s: notes %s/%s missing %s, rms %s max %s, within 1 sample %s (of its neighbours %s/%s), without a clock step rms %s max %s within 1 sample %s/%s (jumps %s), late %s, clock steps %s (late clients %s), cpu %s %%, rss %s MB\n", $1, $2, $3, $4, $5, $6, $7, $8, $14, $15, $16, $17, $18, $19, $20, $11, $12, $13, $9, $10 }'
}

for round in $(seq 1 "$repeats"); do
	# rotate the order each round, so no system always follows the same one
	set -- $systems
	for _ in $(seq 2 "$round"); do
		set -- "${@:2}" "$1"
	done
	for sys in "$@"; do
		run_one "$sys" "$round"
	done
done
load_after=$(load_avg)

# --- the tables ---------------------------------------------------------------
col() {	# col SYSTEM FIELD: the field of that system's good runs
	awk -F'|' -v s="$1" -v f="$2" '$1 == s && $3 != "failed" && $f != "-" && $f != "" { print $f }' "$results"
}
table=$tmp/table.md
{
	echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average $load_before before, $load_after after; ${secs} s per run, $repeats interleaved rounds, medians$awake."
	echo "Command: \`${PEERS_AWAKE:+PEERS_AWAKE=1 }top_builddir=BUILD bench/peers.sh $secs $repeats\`"
	echo
	echo "| system | onset error rms / max (samples) | within +-1 sample | of its neighbours | without a clock step: rms / max, within +-1 (jumps) | late | clock steps (late clients) | sender CPU (% of a core) | peak RSS |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for s in $systems; do
		[ -n "$(col "$s" 9)" ] || { echo "| $s | did not run | | | | | | | |"; continue; }
		if [ -n "$(col "$s" 6)" ]; then
			printf '| %s | %s / %s | %s/%s | %s/%s | %s / %s, %s/%s (%s) |' "$s" "$(col "$s" 6 | bench_median)" \
				"$(col "$s" 7 | bench_median)" "$(col "$s" 8 | bench_median)" "$(col "$s" 4 | bench_median)" \
				"$(col "$s" 14 | bench_median)" "$(col "$s" 15 | bench_median)" "$(col "$s" 16 | bench_median)" \
				"$(col "$s" 17 | bench_median)" "$(col "$s" 18 | bench_median)" "$(col "$s" 19 | bench_median)" \
				"$(col "$s" 20 | bench_median)"
		else
			printf '| %s | no notes | - | - | - |' "$s"
		fi
		printf ' %s | %s (%s) | %s | %s MB |\n' "$(col "$s" 11 | bench_median)" \
			"$(col "$s" 12 | bench_median)" "$(col "$s" 13 | bench_median)" "$(col "$s" 9 | bench_median)" \
			"$(col "$s" 10 | bench_median)"
	done
	echo
	echo "Ratios to mystery-engine (me), medians of the per-round ratios:"
	echo
	echo "| system | sender CPU | peak RSS | onset error rms |"
	echo "|---|---|---|---|"
	for s in $systems; do
		[ "$s" = me ] && continue
		awk -F'|' -v s="$s" '
			$3 == "failed" { next }
			$1 == "me" { cpu[$2] = $9; rss[$2] = $10; rms[$2] = $6 }
			$1 == s { pc[$2] = $9; pr[$2] = $10; pm[$2] = $6 }
			END {
				n = 0
				for (r in pc) if (r in cpu && cpu[r] > 0 && rss[r] > 0) {
					n++; a[n] = pc[r] / cpu[r]; b[n] = pr[r] / rss[r]
					c[n] = (rms[r] > 0 && pm[r] != "-" && pm[r] != "") ? pm[r] / rms[r] : -1
				}
				if (!n) { printf "| %s | - | - | - |\n", s; exit }
				printf "| %s | %.2fx | %.1fx | %s |\n", s, med(a, n), med(b, n), fmt(med(c, n))
			}
			function med(x, n,   i, j, t) {
				for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
				return x[int((n + 1) / 2)]
			}
			function fmt(v) { return v < 0 ? "-" : sprintf("%.1fx", v) }' "$results"
	done
} >"$table"
echo
echo "Runs (system|round|notes|expected|missing|rms|max|within1|cpu %|rss MB|late|clock steps|late clients|within1 of neighbours|measured|without a step: rms|max|within1|measured|jumps):"
cat "$results"
echo
cat "$table"
if [ -n "${PEERS_DOC:-}" ]; then
	grep -q '^<!-- peers.sh begin -->$' "$PEERS_DOC" && grep -q '^<!-- peers.sh end -->$' "$PEERS_DOC" ||
		fail "$PEERS_DOC has no <!-- peers.sh begin/end --> lines"
	awk -v t="$table" '
		/^<!-- peers.sh begin -->$/ && !done { print; while ((getline l < t) > 0) print l; skip = done = 1; next }
		/^<!-- peers.sh begin -->$/ && skip { next }
		/^<!-- peers.sh end -->$/ { skip = 0 }
		!skip' "$PEERS_DOC" >"$tmp/doc" && cat "$tmp/doc" >"$PEERS_DOC"
	say "tables written into $PEERS_DOC"
fi
