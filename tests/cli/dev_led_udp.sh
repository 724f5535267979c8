#!/bin/bash
# dev_led_udp: LED cues as JSON over UDP (--led udp:127.0.0.1:PORT).  A
# python3 listener collects the datagrams while the engine plays and a pty
# Teensy turns the reverb, mode and palette knobs.  Every datagram is one
# JSON object with the keys of doc/led-protocol.md in that order ("type"
# one of note, param, mode, palette, idle); the note cues are the event
# log's notes in order; the knobs give a param cue for reverb_mix, a mode
# cue "mystic" and a palette cue "aurora"; a step button gives a step cue
# {"type":"step","step":0,"on":true,"velocity":V,"probability":1} matching
# the log's step_edit; SIGTERM ends with the idle cue
# {"type":"idle","state":true}.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup
lpid=
stop_listener() {
	if [ -n "$lpid" ]; then
		kill "$lpid" 2>/dev/null || true
		wait "$lpid" 2>/dev/null || true
		lpid=
	fi
}
trap 'stop_listener; dev_cleanup' EXIT

# A UDP listener: its port in port.txt, each datagram a line of hex in udp.txt.
python3 "${top_srcdir:-.}/tests/tools/udp_listen.py" "$tmp/port.txt" "$tmp/udp.txt" --hex &
lpid=$!
dev_wait_line "$tmp/port.txt" '^[0-9]+$' 5 || dev_fail "the UDP listener did not start"
port=$(cat "$tmp/port.txt")

teensy_start --midi "$tmp/midi"
engine_start --midi-in "raw:$tmp/midi" --led "udp:127.0.0.1:$port"
teensy_do 6 '^(connected|timeout)' wait_connected 5 | grep -q '^connected' ||
	dev_fail "the engine never opened the MIDI pty"
sleep 0.8
teensy_do 2 '^sent' cc 1 22 100 >/dev/null	# reverb_mix = 0.9 x 100/127
sleep 0.3
teensy_do 2 '^sent' cc 1 60 64 >/dev/null	# mode: the second of calm, mystic, pulse
sleep 0.3
teensy_do 2 '^sent' cc 1 61 127 >/dev/null	# palette: the third of ember, tide, aurora
sleep 0.3
teensy_do 2 '^sent' on 1 60 100 >/dev/null	# the button of step 1
sleep 0.8
engine_alive || dev_fail "the engine died"
engine_stop
sleep 0.2
stop_listener

python3 - "$tmp/udp.txt" "$tmp/ev.jsonl" <<'EOF' || dev_fail "UDP cue checks failed"
import json, sys
KEYS = {"note": ["type", "velocity", "pitch"], "param": ["type", "name", "value"],
        "mode": ["type", "mode"], "palette": ["type", "palette"],
        "idle": ["type", "state"],
        "step": ["type", "step", "on", "velocity", "probability"]}
PARAMS = {"tempo", "filter_cutoff", "reverb_mix", "swing", "density", "master_volume",
          "sequence_length", "scale_select", "chaos_lock", "drift", "attack", "release"}
bad = []
cues = []
for n, line in enumerate(open(sys.argv[1]), 1):
    raw = bytes.fromhex(line.strip())
    try:
        text = raw.decode("utf-8")
        obj = json.loads(text)
    except ValueError as e:
        bad.append("datagram %d is not one JSON object (%s): %r" % (n, e, raw))
        continue
    if not isinstance(obj, dict) or text != text.strip():
        bad.append("datagram %d: not a bare JSON object: %r" % (n, raw))
        continue
    t = obj.get("type")
    if t not in KEYS:
        bad.append("datagram %d: type %r" % (n, t))
        continue
    if list(obj) != KEYS[t]:
        bad.append("datagram %d: keys %r, want %r" % (n, list(obj), KEYS[t]))
    if t == "note" and not all(type(obj[k]) is int and 0 <= obj[k] <= 127
                               for k in ("pitch", "velocity")):
        bad.append("datagram %d: pitch/velocity %r" % (n, obj))
    if t == "param" and (obj["name"] not in PARAMS or
                         type(obj["value"]) not in (int, float)):
        bad.append("datagram %d: param %r" % (n, obj))
    if t == "idle" and type(obj["state"]) is not bool:
        bad.append("datagram %d: idle state %r" % (n, obj))
    cues.append(obj)

ev = [json.loads(l) for l in open(sys.argv[2])]
log_notes = [(e["pitch"], e["velocity"]) for e in ev if e["type"] == "note"]
udp_notes = [(c["pitch"], c["velocity"]) for c in cues if c["type"] == "note"]
print("%d datagrams: %s" % (len(cues), ", ".join(
    "%d %s" % (sum(1 for c in cues if c["type"] == k), k) for k in KEYS)))
if len(udp_notes) < 5 or udp_notes != log_notes[len(log_notes) - len(udp_notes):] \
        or len(log_notes) - len(udp_notes) > 4:
    bad.append("note cues %r are not the log's notes %r" % (udp_notes, log_notes))
rev = [c for c in cues if c["type"] == "param" and c["name"] == "reverb_mix"]
if not rev or abs(rev[0]["value"] - 0.9 * 100 / 127) > 1e-6:
    bad.append("reverb_mix cues %r, want the first at %.6f" % (rev, 0.9 * 100 / 127))
edits = [e for e in ev if e["type"] == "step_edit"]
steps = [c for c in cues if c["type"] == "step"]
if len(edits) != 1 or len(steps) != 1:
    bad.append("want one step_edit and one step cue, got %r and %r" % (edits, steps))
else:
    e = edits[0]
    want = {"type": "step", "step": 0, "on": True, "velocity": e["velocity"],
            "probability": 1}
    if steps[0] != want or e["step"] != 0 or not e["on"]:
        bad.append("step cue %r, want %r (log %r)" % (steps[0], want, e))
if {"type": "mode", "mode": "mystic"} not in cues:
    bad.append("no mode cue mystic")
if {"type": "palette", "palette": "aurora"} not in cues:
    bad.append("no palette cue aurora")
if not cues or cues[-1] != {"type": "idle", "state": True}:
    bad.append("the last datagram is %r, not the idle cue" % (cues[-1] if cues else None))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
echo "$DEV_NAME: ok"
