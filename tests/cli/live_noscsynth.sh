#!/bin/bash
# live_noscsynth: scsynth is not installed (not on the PATH the engine
# gets), as the unprivileged test user.  An operator would expect: the
# engine starts anyway and keeps running silent; the synth link reads
# "error" with the reason in the log and in /state (and /metrics says
# which); once scsynth appears on the PATH (a directory of the PATH gets
# it), the sound comes without a restart of the engine.
set -euo pipefail
. "${top_srcdir:-.}/tests/lib/audio.sh"
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
command -v promtool >/dev/null || e2e_fail "promtool not found: install the Debian package prometheus"
e2e_init live-nosc
E2E_SETS=(--set sequencer.density=1 --set idle.timeout_ms=86400000)

# A PATH with JACK's programs and an empty directory where scsynth will go.
bin="$E2E_TMP/bin" later="$E2E_TMP/later"
mkdir -p "$bin" "$later"
for t in jackd jack_lsp; do ln -s "$(command -v $t)" "$bin/$t"; done
chmod 755 "$E2E_TMP" "$bin" "$later"

field() {
	curl -s --max-time 2 "http://127.0.0.1:$http/state" | python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

http=$(audio_free_tcp_port) || e2e_fail "no free TCP port"
log="$E2E_TMP/run.log"
E2E_AS+=(PATH="$bin:$later")
e2e_start "$log" --http "127.0.0.1:$http"
e2e_wait_log "$log" '"event":"started"' 20
e2e_wait_log "$log" '"event":"synth.fault".*scsynth is not installed' 5
sleep 2
e2e_alive "$E2E_PID" || e2e_fail "the engine exited without scsynth"
link=$(field "d['links']['synth']['state'], d['links']['synth']['reason']")
echo "/state links.synth: $link"
[[ $link == "error scsynth is not installed"* ]] || e2e_fail "links.synth is not an error with the reason: $link"
curl -s "http://127.0.0.1:$http/metrics" >"$E2E_TMP/metrics.txt"
grep -q '^mystery_engine_link_state{link="synth",state="error"} 1' "$E2E_TMP/metrics.txt" ||
	e2e_fail "/metrics does not say the synth link is in error"
grep -q '^mystery_engine_sound_state{state="down"} 1' "$E2E_TMP/metrics.txt" ||
	e2e_fail "/metrics does not say the sound is down"
promtool check metrics <"$E2E_TMP/metrics.txt" || e2e_fail "promtool refuses /metrics"
notes=$(field "d['counters']['notes']")
[ "$notes" -gt 0 ] || e2e_fail "the engine does not play without scsynth (notes $notes)"
echo "playing silent: $notes notes so far"

ln -s "$(command -v scsynth)" "$later/scsynth"
echo "scsynth installed"
e2e_wait_log "$log" '"event":"synth.ready"' 15
for i in $(seq 1 100); do
	s=$(field "d['sound']['state'], d['sound']['peak'] > 1e-5, d['links']['synth']['state']")
	[ "$s" = "ok True connected" ] && break
	sleep 0.1
done
echo "/state after: sound, audible, link: $s"
[ "$s" = "ok True connected" ] || e2e_fail "no sound after scsynth appeared: $s"
grep -q '"event":"synth.fault","msg":"cleared' "$log" || e2e_fail "the log does not say the fault cleared"
e2e_stop
[ "$E2E_RC" -eq 0 ] || e2e_fail "exit status $E2E_RC"
[ -z "$(e2e_leftovers)" ] || e2e_fail "$(e2e_leftovers)"
echo "live_noscsynth: ok"
