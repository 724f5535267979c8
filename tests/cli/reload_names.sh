#!/bin/bash
# reload_names: a reload renames the palettes and the modes; from then on
# the LED cues, /state and the event log all say the new names.  The daemon
# runs as the installation runs it (an unprivileged user, --daemon) with its
# LED cues going to a UDP listener and control allowed over HTTP.  After
# SIGHUP with palettes and modes renamed, setting the palette and the mode
# over HTTP gives a palette cue and a mode cue named as /state names them,
# and as the event log does; nothing says an old name.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/ops_lib.sh"
ops_init
conf=${top_srcdir:-.}/conf/mystery-engine.conf
lpid=
stop_listener() {
	if [ -n "$lpid" ]; then
		kill "$lpid" 2>/dev/null || true
		wait "$lpid" 2>/dev/null || true
		lpid=
	fi
}
trap 'stop_listener; ops_cleanup' EXIT

# A UDP listener: its port in port.txt, each datagram a line of udp.txt.
/usr/bin/python3 "${top_srcdir:-.}/tests/tools/udp_listen.py" "$OPS_WORK/port.txt" "$OPS_WORK/udp.txt" &
lpid=$!
for _ in $(seq 100); do [ -s "$OPS_WORK/port.txt" ] && break; sleep 0.05; done
[ -s "$OPS_WORK/port.txt" ] || ops_fail "the UDP listener did not start"
udp=$(cat "$OPS_WORK/port.txt")

grep -q '^modes = \["calm", "mystic", "pulse"\];' "$conf" &&
	grep -q '^palettes = \["ember", "tide", "aurora"\];' "$conf" ||
	ops_fail "$conf no longer has the modes and palettes this test renames"
ops_as cp "$conf" "$OPS_WORK/me.conf"
ops_start -c "$OPS_WORK/me.conf" --led "udp:127.0.0.1:$udp" --events "$OPS_WORK/events" \
	--set api.allow_control=true --set api.max_writes_per_s=50 --seed 3

state() {	# state PYTHON-EXPRESSION over the JSON j of /state
	curl -sf "$OPS_BASE/state" | /usr/bin/python3 -c "import json, sys; j = json.load(sys.stdin); print($1)"
}
post() {	# post PARAM VALUE: must answer 200
	local code
	code=$(curl -s -o "$OPS_WORK/body" -w '%{http_code}' -X POST --data-binary "$2" \
		"$OPS_BASE/params/$1")
	[ "$code" = 200 ] || ops_fail "POST /params/$1 $2 answered $code: $(cat "$OPS_WORK/body")"
}
wait_for() {	# wait_for FILE FIXED-STRING: up to 5 s
	for _ in $(seq 100); do grep -qF -- "$2" "$1" && return 0; sleep 0.05; done
	return 1
}

# Before: the shipped names.
post palette 1
wait_for "$OPS_WORK/udp.txt" '{"type":"palette","palette":"tide"}' ||
	ops_fail "no palette cue tide before the reload: $(tail -3 "$OPS_WORK/udp.txt")"

# The reload: palettes renamed, modes in another order.
sed -e 's/^modes = \["calm", "mystic", "pulse"\];/modes = ["mystic", "pulse", "calm"];/' \
	-e 's/^palettes = \["ember", "tide", "aurora"\];/palettes = ["dusk", "sea", "north"];/' \
	"$conf" | ops_as tee "$OPS_WORK/me.conf.new" >/dev/null
ops_as mv "$OPS_WORK/me.conf.new" "$OPS_WORK/me.conf"
kill -HUP "$OPS_PID"
for _ in $(seq 100); do
	grep -q '"event":"reload".*applied' "$OPS_WORK/err" && break
	sleep 0.05
done
grep -q '"event":"reload".*applied' "$OPS_WORK/err" ||
	ops_fail "the reload was not applied: $(tail -3 "$OPS_WORK/err")"

post palette 2
post mode 1
wait_for "$OPS_WORK/udp.txt" '{"type":"mode","mode":"pulse"}' ||
	ops_fail "no mode cue pulse after the reload: $(grep -E 'mode|palette' "$OPS_WORK/udp.txt" | tail -4)"
[ "$(state "j['palette']['name']")" = north ] || ops_fail "/state palette: $(state "j['palette']")"
[ "$(state "j['mode']['name']")" = pulse ] || ops_fail "/state mode: $(state "j['mode']")"
grep -qF '{"type":"palette","palette":"north"}' "$OPS_WORK/udp.txt" ||
	ops_fail "the palette cue does not say north as /state does: $(grep palette "$OPS_WORK/udp.txt" | tail -3)"
ops_stop
stop_listener

# Nothing after the reload names an old palette or mode: cues and log.
/usr/bin/python3 - "$OPS_WORK/udp.txt" "$OPS_WORK/events" <<'EOF' || ops_fail "names after the reload"
import json, sys
cues = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
named = [(c["type"], c.get("palette", c.get("mode"))) for c in cues
         if c["type"] in ("palette", "mode")]
want = [("palette", "tide"), ("palette", "north"), ("mode", "pulse")]
if named[-3:] != want or len(named) > 4:
    sys.exit("LED cues %r, want %r at the end" % (named, want))
ev = [json.loads(l) for l in open(sys.argv[2])]
labels = [(e["name"], e.get("label")) for e in ev
          if e["type"] == "param" and e["name"] in ("palette", "mode")]
if ("palette", "north") not in labels or ("mode", "pulse") not in labels:
    sys.exit("the event log's labels %r lack north and pulse" % labels)
after = labels[labels.index(("palette", "north")):]
old = [l for l in after if l[1] in ("ember", "tide", "aurora")]
if old:
    sys.exit("the event log says old names after the reload: %r" % old)
print("cues %r, log labels %r" % (named, labels))
EOF
echo "PASS: after a reload that renames palettes and modes, LED cues, /state and the event log agree"
