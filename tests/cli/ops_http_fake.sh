#!/bin/bash
# The HTTP API as an operator meets it, served by tests/tools/http_fake (the
# real server in front of a synthetic instrument that plays a note every
# 10 ms): /metrics passes a strict Prometheus parser and its counters move;
# /state is JSON with the parameters; control is refused by default (403),
# works and is rate-limited (429) when enabled, loads presets and refuses a
# damaged one (422); a thousand malformed requests leave it serving; SIGTERM
# stops it with status 0.  The parser itself is checked against broken
# expositions first, so a lax parser cannot pass.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/ops_lib.sh"	# ops_until, ops_unrefused
tools=${top_builddir:-.}/tests/tools
src=${top_srcdir:-.}/tests/tools
prom="python3 $src/prom_check.py"
for t in "$tools/http_fake" "$tools/preset_hammer"; do
	[ -x "$t" ] || { echo "FAIL: $t is not built"; exit 1; }
done
command -v curl >/dev/null || { echo "FAIL: curl is missing (apt-get install curl)"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is missing"; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --- the parser refuses what Prometheus would refuse ---
good='# HELP a_total A.
# TYPE a_total counter
a_total{k="x"} 3
# HELP h_seconds H.
# TYPE h_seconds histogram
h_seconds_bucket{le="0.1"} 1
h_seconds_bucket{le="+Inf"} 2
h_seconds_sum 0.3
h_seconds_count 2
'
printf '%s' "$good" | $prom - || fail "prom_check refused a valid exposition"
[ "$(printf '%s' "$good" | $prom --value 'a_total{k="x"}' -)" = 3 ] ||
	fail "prom_check --value does not read a series"
bad() {	# bad WHY TEXT: the parser must refuse TEXT
	if printf '%s' "$2" | $prom - 2>/dev/null; then fail "prom_check accepted $1"; fi
}
bad "a counter without _total" $'# HELP a A.\n# TYPE a counter\na 1\n'
bad "a gauge ending in _total" $'# HELP a_total A.\n# TYPE a_total gauge\na_total 1\n'
bad "a missing HELP" $'# TYPE a gauge\na 1\n'
bad "a bad value" $'# HELP a A.\n# TYPE a gauge\na one\n'
bad "an unterminated label" $'# HELP a A.\n# TYPE a gauge\na{k="x} 1\n'
bad "a bad escape" $'# HELP a A.\n# TYPE a gauge\na{k="\\x"} 1\n'
bad "a repeated series" $'# HELP a A.\n# TYPE a gauge\na 1\na 2\n'
bad "a split family" $'# HELP a A.\n# TYPE a gauge\na{k="1"} 1\n# HELP b B.\n# TYPE b gauge\nb 1\na{k="2"} 1\n'
bad "a TYPE after samples" $'# HELP a A.\na 1\n# TYPE a gauge\n'
bad "no final newline" $'# HELP a A.\n# TYPE a gauge\na 1'
bad "non-cumulative buckets" $'# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n'
bad "+Inf != count" $'# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'
bad "no +Inf bucket" $'# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'
bad "milliseconds" $'# HELP a_milliseconds A.\n# TYPE a_milliseconds gauge\na_milliseconds 1\n'

# --- a server ---
start() {	# start ARGS...: runs http_fake, sets pid and base
	"$tools/http_fake" "$@" >"$work/out" 2>"$work/err" &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^port ' "$work/out" 2>/dev/null && break
		sleep 0.05
	done
	local port
	port=$(sed -n 's/^port //p' "$work/out")
	[ -n "$port" ] || fail "http_fake did not start: $(cat "$work/err")"
	base=http://127.0.0.1:$port
	port_now=$port
}
stop() {	# SIGTERM: must exit 0 promptly
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	pid=
	[ "$rc" -eq 0 ] || fail "http_fake exited $rc on SIGTERM"
}
status() {	# status METHOD PATH [BODY]: prints the HTTP status
	curl -s -o "$work/body" -w '%{http_code}' -X "$1" ${3+--data-binary "$3"} "$base$2"
}
json() {	# json EXPR: evaluates EXPR on the last body as `j`
	python3 -c "import json,sys; j=json.load(open('$work/body')); print($1)"
}
note_ons() {
	curl -sf "$base/metrics" >"$work/m"
	$prom --value 'mystery_engine_midi_messages_total{kind="note_on"}' "$work/m"
}

start
curl -sf -D "$work/head" "$base/metrics" >"$work/m1" || fail "GET /metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$work/head" ||
	fail "/metrics has the wrong content type: $(cat "$work/head")"
$prom "$work/m1" || fail "/metrics is not valid Prometheus text"
for fam in midi_messages_total dropped_messages_total input_queue_depth \
	midi_to_send_latency_seconds worker_lateness_seconds notes_played_total \
	late_bundles_total voices_active mutations_total idle_transitions_total \
	backend_restarts_total link_state; do
	grep -q "^# TYPE mystery_engine_$fam " "$work/m1" || fail "/metrics lacks $fam"
done
for fam in process_resident_memory_bytes process_cpu_seconds_total process_start_time_seconds; do
	grep -q "^# TYPE $fam " "$work/m1" || fail "/metrics lacks $fam"
done
n1=$(note_ons)
c1=$($prom --value mystery_engine_midi_to_send_latency_seconds_count "$work/m")
both_moved() {	# a note every 10 ms: they move at once, 0.3 s at most
	n2=$(note_ons)
	c2=$($prom --value mystery_engine_midi_to_send_latency_seconds_count "$work/m")
	[ "$n2" -gt "$n1" ] && [ "$c2" -gt "$c1" ]
}
ops_until 300 both_moved || true
[ "$n2" -gt "$n1" ] || fail "the note_on counter did not move ($n1 -> $n2)"
[ "$c2" -gt "$c1" ] || fail "the latency histogram did not move ($c1 -> $c2)"

[ "$(status GET /state)" = 200 ] || fail "GET /state failed"
[ "$(json "j['params']['tempo']['value']")" = 110.0 ] || fail "/state tempo: $(cat "$work/body")"
[ "$(json "j['params']['tempo']['source']")" = config ] || fail "/state tempo source"
[ "$(status GET /mutations)" = 200 ] || fail "GET /mutations failed"
json "j['mutations']" >/dev/null || fail "/mutations is not JSON"

# Control is off by default.
[ "$(status POST /params/tempo 150)" = 403 ] || fail "a write was not refused by default"
[ "$(status POST /presets/evening/load)" = 403 ] || fail "a preset load was not refused by default"
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 110.0 ] || fail "a refused write changed tempo"
[ "$(status GET /nowhere)" = 404 ] || fail "unknown path"
[ "$(status PUT /state x)" = 405 ] || fail "wrong method"

# A thousand malformed requests, then it still serves and the notes still move.
python3 "$src/http_garbage.py" "$port_now" 1000 || fail "the malformed requests were refused"
n3=$(note_ons)
moved() { n4=$(note_ons) && [ "$n4" -gt "$n3" ]; }
ops_until 300 moved || true
[ "$n4" -gt "$n3" ] || fail "after the malformed requests the instrument stopped ($n3 -> $n4)"
[ "$(status GET /state)" = 200 ] || fail "after the malformed requests /state fails"
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 110.0 ] ||
	fail "malformed requests changed the tempo"
stop

# --- control enabled, 5 writes per second ---
presets=$work/presets
"$tools/preset_hammer" once "$presets" evening
start --control --rate 5 --presets "$presets"
[ "$(status POST /params/tempo 150)" = 200 ] || fail "an allowed write failed: $(cat "$work/body")"
[ "$(status POST /params/tempo '{"value": 500}')" = 400 ] || fail "an out-of-range write"
[ "$(status POST /params/tempo 'fast')" = 400 ] || fail "a malformed write"
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 150.0 ] || fail "the write did not apply"
[ "$(json "j['params']['tempo']['source']")" = api ] || fail "the write's source is not api"
# 20 writes from one curl on one connection: quick whatever the machine's
# load (a curl process per write can take longer than a token's refill).
quick=()
for _ in $(seq 20); do quick+=(-o /dev/null "$base/params/density"); done
limited=$(curl -s -w '%{http_code}\n' -X POST --data-binary 0.5 "${quick[@]}" | grep -c '^429$' || true)
[ "$limited" -ge 10 ] || fail "20 quick writes at 5/s: only $limited refused with 429"
# tried again while refused with 429: 1.1 s at most, the bucket's refill
ops_until 1100 ops_unrefused status POST /presets/evening/load || true
[ "$code" = 200 ] || fail "preset load: $(cat "$work/body")"
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 90.0 ] || fail "the preset's tempo did not apply"
[ "$(json "j['params']['tempo']['source']")" = preset ] || fail "the preset's source"
head -c 500 "$presets/evening.preset" >"$presets/broken.preset"
ops_until 1100 ops_unrefused status POST /presets/broken/load || true
[ "$code" = 422 ] || fail "a damaged preset was not refused"
grep -q 'broken.preset:[0-9]' "$work/body" || fail "the refusal names no file and line"
ops_until 1100 ops_unrefused status POST /presets/missing/load || true
[ "$code" = 404 ] || fail "a missing preset"
# No wait: the fake applies a preset before it answers (the good one's
# tempo is read at once above), so whatever a damaged one changed shows.
status GET /state >/dev/null
[ "$(json "j['params']['tempo']['value']")" = 90.0 ] || fail "a damaged preset changed the tempo"
stop
echo "PASS: metrics, state, control, rate limit, presets, 1000 malformed requests"
