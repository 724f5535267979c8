#!/bin/bash
# dev_midi_garbage: a noisy cable.  64 KiB of seeded random bytes go down
# the MIDI pty, then three valid CCs (tempo, density, pattern length to
# their maximum, so the sequencer surely plays whatever the noise changed).
# The engine keeps running, the three CCs arrive as input and param lines,
# and the sequencer's notes keep coming in the event log afterwards.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup

teensy_start --midi "$tmp/midi"
engine_start --midi-in "raw:$tmp/midi" --led none
teensy_do 6 '^(connected|timeout)' wait_connected 5 | grep -q '^connected' ||
	dev_fail "the engine never opened the MIDI pty"

sleep 0.2
teensy_do 10 '^random' random 65536 20251124 >/dev/null
sleep 0.5
engine_alive || dev_fail "the engine died on random bytes"
sent=$(teensy_do 2 '^sent' cc 1 20 127)
teensy_do 2 '^sent' cc 1 24 127 >/dev/null
teensy_do 2 '^sent' cc 1 50 127 >/dev/null
dev_wait_line "$tmp/ev.jsonl" '"type":"input","kind":"cc","channel":1,"number":50,"value":127' 3 ||
	dev_fail "the CCs after the noise did not arrive"
sleep 1.5
engine_alive || dev_fail "the engine died"
engine_stop

python3 - "$tmp/ev.jsonl" <<'EOF' || dev_fail "event log checks failed"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
bad = []
# the last three inputs are the valid CCs, each with its param line
tail = [e for e in ev if e["type"] == "input"][-3:]
# the tops of the shipped knobs' ranges
want = [(20, 150, "tempo"), (24, 1, "density"), (50, 16, "sequence_length")]
if [(e["kind"], e["channel"], e["number"], e["value"]) for e in tail] != \
        [("cc", 1, n, 127) for n, _, _ in want]:
    bad.append("the last inputs are not the three CCs: %r" % tail)
else:
    for e, (n, v, name) in zip(tail, want):
        p = [x for x in ev if x["type"] == "param" and x["t"] == e["t"]]
        # a parameter the noise had already put at its maximum writes no line
        last = [x for x in ev if x["type"] == "param" and x["name"] == name and
                x["t"] <= e["t"]]
        if not last or last[-1]["value"] != v:
            bad.append("after CC %d = 127, %s is %r, want %r" %
                       (n, name, last[-1]["value"] if last else None, v))
t_end = tail[-1]["t"] if tail else 0
n_inputs = sum(1 for e in ev if e["type"] == "input")
after = [e for e in ev if e["type"] == "note" and e["t"] > t_end + 0.1]
print("%d inputs parsed from the noise; %d notes in the 1.5 s after it" %
      (n_inputs - 3, len(after)))
if len(after) < 5:
    bad.append("only %d notes after the noise" % len(after))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
echo "$DEV_NAME: ok"
