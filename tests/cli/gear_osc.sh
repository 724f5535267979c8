#!/bin/bash
# gear_osc: the OSC control surface with the real binary and a stand-in
# tablet (tests/tools/osc_surface.py).  What a surface's user notices:
#  - a sender gets the whole state when it first speaks, then every change:
#    a parameter mutation moved reaches its fader (last echo = the engine's
#    last value, after the value it started from);
#  - a fader move sets the parameter (event log, source api) and comes back;
#    steps and the pause likewise;
#  - a fast fader flood is rate-limited (osc.max_writes_per_s) yet its last
#    value arrives;
#  - a bad address or an out-of-range value gets /mystery/error back;
#  - a sender outside osc.allowed_hosts is ignored (no reply, nothing moves,
#    a log line), and with OSC off (the default) nothing answers or moves.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
. "$top_srcdir/tests/lib/audio.sh"	# audio_free_port
dev_setup
TOOL="$top_srcdir/tests/tools/osc_surface.py"
[ -f "$TOOL" ] || dev_fail "$TOOL missing"
[ -x /usr/bin/python3 ] || dev_fail "/usr/bin/python3 not found (install python3)"
port=$(audio_free_port) || dev_fail "no free UDP port"
surface() { /usr/bin/python3 "$TOOL" "$@"; }
# The last value the surface heard for ADDRESS in file $1.
last_echo() { awk -v a="$2" '$2 == a { v = $3 } END { print v }' "$1"; }
# The api-set values of parameter $1 in the event log, one a line.
api_sets() {
	/usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] == "param" and e["name"] == sys.argv[2] and e["source"] == "api":
        print(e["value"])' "$tmp/ev.jsonl" "$1"
}

engine_start --midi-in none --led none --set osc.enabled=true --set osc.port="$port" \
	--set osc.allowed_hosts=127.0.0.0/31 --set osc.max_writes_per_s=20 \
	--set mutation.interval_min_s=1 --set mutation.interval_max_s=1
dev_wait_line "$tmp/engine.err" '"event":"osc".*OSC control surface' 5 ||
	dev_fail "no OSC surface started"

# 1. Mutation reaches a surface that only listens.
surface --listen 4 "127.0.0.1:$port" /mystery/state >"$tmp/mut.out"
n_ev=$(wc -l <"$tmp/ev.jsonl")
grep -q '^[0-9.]* /mystery/step/1 [01]$' "$tmp/mut.out" || dev_fail "no whole state sent"
# The engine's values when the surface stopped listening: the log up to
# then (a change in its last ~0.1 s may not have been echoed yet, so the one
# before the last also counts).
/usr/bin/python3 - "$tmp/ev.jsonl" "$tmp/mut.out" "$n_ev" <<'PY' || dev_fail "mutation did not reach the surface"
import json, sys
hist = {}
for l in open(sys.argv[1]).readlines()[:int(sys.argv[3])]:
    e = json.loads(l)
    if e["type"] == "param":
        hist.setdefault(e["name"], []).append(e["value"])
    elif e["type"] == "mutation":
        for c in e["changes"]:
            hist.setdefault(c["name"], [c["from"]]).append(c["to"])
heard = {}
for l in open(sys.argv[2]):
    f = l.split()
    if f[1].startswith("/mystery/param/"):
        heard.setdefault(f[1][15:], []).append(float(f[2]))
moved = [n for n, v in heard.items() if len(set(v)) > 1]
print("mutation moved on the surface: %s" % ", ".join(
    "%s %g -> %g" % (n, heard[n][0], heard[n][-1]) for n in moved))
def near(a, b):
    return abs(a - b) <= 1e-4 * max(1, abs(b))
bad = [n for n in heard if n in hist and not any(near(heard[n][-1], v) for v in hist[n][-2:])]
if bad:
    print("surface and engine disagree on %s" % bad)
    sys.exit(1)
if not moved:
    print("no parameter moved on the surface in 4 s of mutation every second")
    sys.exit(1)
PY

# 2. A fader, a step, the pause: each moves the engine and comes back.
surface --listen 1 "127.0.0.1:$port" /mystery/param/filter_cutoff f:900 \
	/mystery/step/3 i:0 /mystery/pause i:1 >"$tmp/set.out"
[ "$(api_sets filter_cutoff | tail -n1)" = 900 ] || dev_fail "filter_cutoff not set to 900"
[ "$(last_echo "$tmp/set.out" /mystery/param/filter_cutoff)" = 900 ] ||
	dev_fail "filter_cutoff 900 not echoed"
grep -q '"type":"step_edit","step":2,"on":false.*"source":"api"' "$tmp/ev.jsonl" ||
	dev_fail "step 3 not turned off"
[ "$(last_echo "$tmp/set.out" /mystery/step/3)" = 0 ] || dev_fail "step 3 off not echoed"
grep -q '"type":"transport","state":"paused"' "$tmp/ev.jsonl" || dev_fail "not paused"
[ "$(last_echo "$tmp/set.out" /mystery/pause)" = 1 ] || dev_fail "pause not echoed"
surface --listen 0.5 "127.0.0.1:$port" /mystery/pause i:0 >"$tmp/play.out"
grep -q '"type":"transport","state":"running"' "$tmp/ev.jsonl" || dev_fail "not running again"
[ "$(last_echo "$tmp/play.out" /mystery/pause)" = 0 ] || dev_fail "play not echoed"
echo "fader, step and pause: set and echoed"

# 3. A flood of 200 fader values at once, 20 allowed a second.
before=$(api_sets filter_cutoff | wc -l)
surface --listen 1.5 "127.0.0.1:$port" '#burst' 200 /mystery/param/filter_cutoff f:300 f:5000 \
	>"$tmp/flood.out"
n=$(($(api_sets filter_cutoff | wc -l) - before))
echo "flood: $n of 200 values reached the engine; last $(api_sets filter_cutoff | tail -n1)"
[ "$n" -le 60 ] || dev_fail "the rate limit let $n of 200 through"
[ "$(api_sets filter_cutoff | tail -n1)" = 5000 ] || dev_fail "the flood's last value was lost"
[ "$(last_echo "$tmp/flood.out" /mystery/param/filter_cutoff)" = 5000 ] ||
	dev_fail "the flood's last value not echoed"

# 4. Errors come back to the sender.
surface --listen 0.5 "127.0.0.1:$port" /mystery/param/tempo f:9999 /mystery/nothing \
	/mystery/step/0 i:1 >"$tmp/err.out"
grep -q '/mystery/error tempo: 9999 is out of range' "$tmp/err.out" || dev_fail "no range error"
grep -q '/mystery/error unknown address /mystery/nothing' "$tmp/err.out" ||
	dev_fail "no unknown-address error"
grep -q '/mystery/error /mystery/step/0: the step must be' "$tmp/err.out" ||
	dev_fail "no step error"

# 5. Another host (127.0.0.2 is outside 127.0.0.0/31): ignored.
surface --bind 127.0.0.2 --listen 0.7 "127.0.0.1:$port" /mystery/param/reverb_mix f:0.9 \
	/mystery/state >"$tmp/other.out"
[ ! -s "$tmp/other.out" ] || dev_fail "a host not allowed got answers: $(head -3 "$tmp/other.out")"
[ -z "$(api_sets reverb_mix)" ] || dev_fail "a host not allowed moved reverb_mix"
dev_wait_line "$tmp/engine.err" 'from 127.0.0.2: not in osc.allowed_hosts' 2 ||
	dev_fail "the refusal was not logged"
echo "127.0.0.2 refused"
engine_stop
grep -q '"event":"osc_stats"' "$tmp/engine.err" || dev_fail "no osc_stats line at exit"

# 6. OSC off (the default): nothing listens, nothing moves.
rm -f "$tmp/ev.jsonl"
engine_start --midi-in none --led none --set osc.port="$port"
surface --listen 0.7 "127.0.0.1:$port" /mystery/param/reverb_mix f:0.9 /mystery/state \
	>"$tmp/off.out"
[ ! -s "$tmp/off.out" ] || dev_fail "OSC is off but answered"
[ -z "$(api_sets reverb_mix)" ] || dev_fail "OSC is off but reverb_mix moved"
grep -q '"event":"osc"' "$tmp/engine.err" && dev_fail "OSC is off but logged"
engine_stop
echo "$DEV_NAME: ok"
