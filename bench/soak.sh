#!/bin/bash
# soak: the live daemon as the installation runs it, for SECONDS (default
# 3600): the unprivileged test user (tests/lib/audio.sh audio_user; root with
# SOAK_AS_ROOT=1), its managed audio stack (JACK dummy 48 kHz / 256 and
# scsynth), the shipped configuration, and random visitors on a pty
# standing in for the Teensy (tests/tools/visitor.py: knob sweeps, button
# presses, idle gaps up to 2 min).  Every 30 s it samples the engine
# process (RSS, open fds, threads, CPU over the interval, from /proc) and
# its /metrics (notes played, late bundles, events not sent to the server,
# the output meter's peak, the sound check's state and restarts, scsynth's
# CPU, and the machine's load average) and prints a table, then the drift
# of each figure from the first sample after warm-up to the last.
# SOAK_EXTERNAL=1: the engine plays on a scsynth it did not start (a private
# JACK dummy + scsynth of tests/lib/audio.sh, run by the caller), so the
# late bundles it counts come from each note's /n_go; at the end the
# server's own "late" lines and the JACK clock's steps are printed beside.
# Usage: bench/soak.sh [SECONDS]   (top_builddir = a build tree)
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir
. "$top_srcdir/tests/cli/e2e_live_lib.sh"
e2e_require
secs=${1:-3600}
every=${SOAK_EVERY:-30}
[ "${SOAK_AS_ROOT:-0}" = 1 ] && E2E_AS_ROOT=1
e2e_init soak
ext=()
if [ "${SOAK_EXTERNAL:-0}" = 1 ]; then
	audio_require
	audio_start "$E2E_TMP"
	ext=(--synth "supercollider:127.0.0.1:$AUDIO_PORT")
fi
http=$(audio_free_tcp_port) || e2e_fail "no free TCP port"
log="$E2E_TMP/run.log"
pty="$E2E_TMP/midi"
owner=()
[ "$(id -u)" -eq 0 ] && [ -n "$AUDIO_USER" ] && [ "${E2E_AS_ROOT:-0}" != 1 ] && owner=(--owner "$AUDIO_USER")
python3 "$top_srcdir/tests/tools/visitor.py" "$pty" "$secs" --seed "${SOAK_SEED:-1}" \
	"${owner[@]}" >"$E2E_TMP/visitor.out" 2>&1 &
vpid=$!
for _ in $(seq 1 100); do [ -L "$pty" ] && break; sleep 0.05; done
[ -L "$pty" ] || e2e_fail "the visitor's pty did not appear"
# The log at info level (warn, plus e2e_start's -v): no debug line per scsynth line.
e2e_start "$log" --http "127.0.0.1:$http" --midi-in "raw:$pty" --set logging.level=warn "${ext[@]}"
e2e_wait_log "$log" '"event":"started"' 30
pid=$E2E_PID
echo "soak: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)," \
	"${secs} s, sample every ${every} s, user $(id -un "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)")"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
metric() { awk -v k="mystery_engine_$1" '$1 == k { print $2; exit }' "$E2E_TMP/m.txt"; }
hz=$(getconf CLK_TCK)
printf '%6s %8s %4s %4s %6s %8s %5s %6s %7s %9s %4s %6s %5s\n' \
	t_s rss_kB fds thr cpu_% notes late dropped peak_dB sound rst sc_cpu load1 | tee "$E2E_TMP/table.txt"
t0=$(date +%s)
c0=$(ticks "$pid")
n=0
while :; do
	sleep "$every"
	e2e_alive "$pid" || e2e_fail "the engine died (see $log)"
	now=$(date +%s)
	c1=$(ticks "$pid")
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	thr=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
	fds=$(ls "/proc/$pid/fd" | wc -l)
	curl -s --max-time 5 "http://127.0.0.1:$http/metrics" >"$E2E_TMP/m.txt" || :
	curl -s --max-time 5 "http://127.0.0.1:$http/state" >"$E2E_TMP/s.json" || :
	sound=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["sound"]["state"])' \
		"$E2E_TMP/s.json" 2>/dev/null || echo '?')
	peak=$(metric output_peak_ratio)
	late=$(metric late_bundles_total)
	drop=$(metric synth_dropped_events_total)
	notes=$(metric notes_played_total)
	rst=$(metric backend_restarts_total)
	sccpu=$(metric synth_server_cpu_ratio)
	printf '%6d %8d %4d %4d %6.2f %8s %5s %6s %7s %9s %4s %6s %5s\n' \
		$((now - t0)) "$rss" "$fds" "$thr" \
		"$(awk -v a="$c0" -v b="$c1" -v h="$hz" -v s="$every" 'BEGIN { printf "%.2f", (b - a) / h / s * 100 }')" \
		"${notes:-?}" "${late:-?}" "${drop:-?}" \
		"$(awk -v p="${peak:-0}" 'BEGIN { if (p < 1e-5) print "-inf"; else printf "%.1f", 20 * log(p) / log(10) }')" \
		"$sound" "${rst:-?}" "$(awk -v c="${sccpu:-0}" 'BEGIN { printf "%.1f%%", c * 100 }')" \
		"$(cut -d' ' -f1 /proc/loadavg)" |
		tee -a "$E2E_TMP/table.txt"
	c0=$c1
	n=$((n + 1))
	[ $((now - t0)) -lt "$secs" ] || break
done
wait "$vpid" || true
cat "$E2E_TMP/visitor.out"
e2e_stop
echo "SIGTERM: exit status $E2E_RC after $E2E_STOP_MS ms; left behind: $(e2e_leftovers)"
awk 'NR > 2 { if (!s) { s = 1; r0 = $2; f0 = $3; t0 = $4 } r1 = $2; f1 = $3; t1 = $4
	if ($3 > fmax) fmax = $3; if ($4 > tmax) tmax = $4; cpu += $5; k++; late = $7; drop = $8
	if ($10 == "ok") ok++; ld += $13 }
	END { printf "drift from the second sample to the last: rss %+d kB (%d -> %d), fds %d -> %d (max %d), threads %d -> %d (max %d)\n", r1 - r0, r0, r1, f0, f1, fmax, t0, t1, tmax
	      printf "engine cpu mean %.2f %%, late bundles %s, events not sent %s, sound ok in %d of %d samples, load average mean %.1f\n", cpu / k, late, drop, ok, k, ld / k }' \
	"$E2E_TMP/table.txt"
[ ${#ext[@]} -eq 0 ] ||
	echo "external server: it printed $(audio_late_count) late lines, its JACK clock stepped $(audio_clock_steps) times"
grep -E '"event":"(synth\.(health|lost|fault|exit)|stall|events_dropped)"' "$log" | head -20 || true
