#!/bin/bash
# The real daemon's operations, black-box: started with --daemon on a
# private port with MIDI arriving on a pty, /metrics passes a strict
# Prometheus parser and its MIDI counters move; /state is JSON whose tempo
# matches the event log; control writes are refused by default (403), and
# when enabled apply with source api and are rate-limited (429); a thousand
# malformed requests leave it playing; a preset loads at start and over
# HTTP, a damaged one is reported with file and line and not applied;
# SIGHUP with a broken configuration keeps the old one; SIGTERM exits 0
# within 2 s.
set -euo pipefail
: "${ME_BIN:?}"
. "${top_srcdir:-.}/tests/cli/ops_lib.sh"	# ops_until, ops_unrefused
tools=${top_srcdir:-.}/tests/tools
hammer=${top_builddir:-.}/tests/tools/preset_hammer
prom="python3 $tools/prom_check.py"
command -v curl >/dev/null || { echo "FAIL: curl is missing (apt-get install curl)"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is missing"; exit 1; }
[ -x "$hammer" ] || { echo "FAIL: $hammer is not built"; exit 1; }
work=$(mktemp -d)
pid= midi_pid=
cleanup() {
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	[ -z "$midi_pid" ] || kill -TERM "$midi_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HOME="$work" XDG_CONFIG_HOME="$work" XDG_STATE_HOME="$work/xdg-state"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
cat >"$work/me.conf" <<CONF
logging = { file = "$work/me.log"; };
state = { dir = "$work/state"; };
CONF
cp "$work/me.conf" "$work/good.conf"

python3 "$tools/pty_midi.py" "$work/midi" 20 &
midi_pid=$!
for _ in $(seq 50); do [ -L "$work/midi" ] && break; sleep 0.1; done
[ -L "$work/midi" ] || fail "the MIDI pty did not appear"

logs() { cat "$work/me.log" "$work/err" 2>/dev/null || true; }
start() {	# start ARGS...: the daemon, until its API answers
	: >"$work/events"
	"$ME_BIN" -c "$work/me.conf" --daemon --synth none --led none \
		--midi-in "raw:$work/midi" --http "127.0.0.1:$port" --events "$work/events" \
		--seed 7 "$@" </dev/null >"$work/out" 2>"$work/err" &
	pid=$!
	for _ in $(seq 100); do
		curl -sf -o /dev/null "$base/state" && return 0
		kill -0 "$pid" 2>/dev/null || fail "the daemon exited: $(logs | tail -5)"
		sleep 0.1
	done
	fail "the API never answered on $base: $(logs | tail -5)"
}
stop() {	# SIGTERM: exit 0 within 2 s
	local t0 rc=0
	t0=$(date +%s%N)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	local ms=$((($(date +%s%N) - t0) / 1000000))
	pid=
	[ "$rc" -eq 0 ] || fail "SIGTERM: exit $rc: $(logs | tail -5)"
	[ "$ms" -le 2000 ] || fail "SIGTERM took $ms ms (limit 2000)"
}
status() {	# status METHOD PATH [BODY]: prints the HTTP status, body in $work/body
	curl -s -o "$work/body" -w '%{http_code}' -X "$1" ${3+--data-binary "$3"} "$base$2"
}
json() { python3 -c "import json; j=json.load(open('$work/body')); print($1)"; }
metric() {	# metric SERIES: scrape, check the whole exposition, print the value
	curl -sf "$base/metrics" >"$work/m" || fail "GET /metrics failed"
	$prom --value "$1" "$work/m" || fail "bad /metrics or no $1"
}
notes() { grep -c '"type":"note"' "$work/events" || true; }
more_notes() { [ "$(notes)" -gt "$1" ]; }
still_playing() {	# still_playing WHY: notes keep appearing in the event log
	local n0
	n0=$(notes)
	ops_until 600 more_notes "$n0" || true	# 0.6 s at most
	[ "$(notes)" -gt "$n0" ] || fail "$1: no new notes in the event log"
}
state_is() {	# state_is EXPR VALUE: /state's EXPR (as in json) is VALUE
	status GET /state >/dev/null && [ "$(json "$1")" = "$2" ]
}
# The engine's tempo as the event log last reported it (the config's 110 before).
log_tempo() {
	python3 - "$work/events" <<'PY'
import json, sys
t = 110.0
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") == "param" and e.get("name") == "tempo":
        t = float(e["value"])
print(t)
PY
}

# --- defaults: reading works, control is refused ---
start
on1=$(metric 'mystery_engine_midi_messages_total{kind="note_on"}')
on_moved() { on2=$(metric 'mystery_engine_midi_messages_total{kind="note_on"}') && [ "$on2" -gt "$on1" ]; }
ops_until 500 on_moved || true	# 0.5 s at most
[ "$on2" -gt "$on1" ] || fail "note_on did not move with MIDI arriving ($on1 -> $on2)"
[ "$(metric 'mystery_engine_link_state{link="midi",state="connected"}')" = 1 ] ||
	fail "the MIDI link is not reported connected"
[ "$(status GET /state)" = 200 ] || fail "GET /state"
st=$(json "j['params']['tempo']['value']")
lt=$(log_tempo)
python3 -c "import sys; sys.exit(abs($st - $lt) > 1e-6)" ||
	fail "/state tempo $st differs from the event log's $lt"
[ "$(status POST /params/tempo 150)" = 403 ] || fail "a write was not refused by default"
[ "$(status GET /mutations)" = 200 ] || fail "GET /mutations"

python3 "$tools/http_garbage.py" "$port" 1000 || fail "malformed requests were refused"
still_playing "after 1000 malformed requests"
[ "$(status GET /state)" = 200 ] || fail "/state after the malformed requests"
[ "$(json "j['params']['tempo']['value']")" = "$st" ] || fail "malformed requests changed the tempo"

# --- SIGHUP with a broken configuration keeps the running one ---
printf 'sequencer = { bpm = 900; };\n' >>"$work/me.conf"
kill -HUP "$pid"
for _ in $(seq 50); do logs | grep -q 'me.conf:3' && break; sleep 0.1; done
logs | grep -q 'me.conf:3' || fail "the broken reload is not reported with file and line: $(logs | tail -3)"
kill -0 "$pid" || fail "a broken reload stopped the daemon"
still_playing "after a broken reload"
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = "$st" ] || fail "a broken reload changed the tempo"
cp "$work/good.conf" "$work/me.conf"
stop

# --- control enabled, 2 writes per second; presets ---
"$hammer" once "$work/state/presets" evening
head -c 600 "$work/state/presets/evening.preset" >"$work/state/presets/broken.preset"
start --preset evening --set api.allow_control=true --set api.max_writes_per_s=2
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 90.0 ] || fail "--preset evening did not set its tempo"
[ "$(json "j['params']['tempo']['source']")" = preset ] || fail "--preset: source is not preset"
[ "$(status POST /params/tempo 150)" = 200 ] || fail "an allowed write: $(cat "$work/body")"
# The write goes through the worker: 0.3 s at most for it to show.
api_write_shown() {
	state_is "j['params']['tempo']['value']" 150.0 &&
		grep -q '"type":"param","name":"tempo","value":150[.0-9]*,"source":"api"' "$work/events"
}
ops_until 300 api_write_shown || true
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 150.0 ] || fail "the write did not reach the engine"
[ "$(json "j['params']['tempo']['source']")" = api ] || fail "the write's source is not api"
grep -q '"type":"param","name":"tempo","value":150[.0-9]*,"source":"api"' "$work/events" ||
	fail "the event log does not show the api write"
# 10 writes from one curl on one connection: quick whatever the machine's load.
quick=()
for _ in $(seq 10); do quick+=(-o /dev/null "$base/params/density"); done
limited=$(curl -s -w '%{http_code}\n' -X POST --data-binary 0.5 "${quick[@]}" | grep -c '^429$' || true)
[ "$limited" -ge 5 ] || fail "10 quick writes at 2/s: only $limited refused with 429"
# tried again while refused with 429: 1.1 s at most, the bucket's refill
ops_until 1100 ops_unrefused status POST /presets/broken/load || true
[ "$code" = 422 ] || fail "a damaged preset over HTTP: $(cat "$work/body")"
grep -q 'broken.preset:[0-9]' "$work/body" || fail "the refusal names no file and line"
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 150.0 ] || fail "a damaged preset changed the tempo"
ops_until 1100 ops_unrefused status POST /presets/evening/load || true
[ "$code" = 200 ] || fail "preset load over HTTP: $(cat "$work/body")"
ops_until 300 state_is "j['params']['tempo']['value']" 90.0 || true	# through the worker
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 90.0 ] || fail "the preset over HTTP did not apply"
stop

# --- a damaged preset at start is reported and not applied ---
start --preset broken
logs | grep -q 'broken.preset:[0-9]' || fail "a damaged --preset is not reported with file and line"
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 110.0 ] || fail "a damaged --preset changed the tempo"
stop
echo "PASS: metrics, state, control, rate limit, presets, malformed requests, reload, SIGTERM"
