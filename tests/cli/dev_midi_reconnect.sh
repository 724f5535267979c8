#!/bin/bash
# dev_midi_reconnect: the Teensy is plugged in late, unplugged and plugged
# back.  The engine starts with no device at the path (the log says it
# waits), finds the pty when it appears, logs the link going to
# reconnecting when the pty closes, opens the new pty created at the same
# path, and a CC sent afterwards arrives (input and param lines).  Prints how
# long the engine took to notice the loss and to reconnect.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/dev_lib.sh"
dev_setup

teensy_start --midi "$tmp/midi"
teensy_do 2 '^closed' close >/dev/null
engine_start --midi-in "raw:$tmp/midi" --led none
dev_wait_line "$tmp/engine.err" '"event":"midi_waiting"' 3 || dev_fail "no midi_waiting line without the device"

# plugged in late
teensy_do 2 '^open' open >/dev/null
first=$(teensy_do 6 '^(connected|timeout)' wait_connected 5)
[[ $first == connected* ]] || dev_fail "the engine did not open the pty once it appeared"
dev_wait_line "$tmp/engine.err" '"event":"midi_connected"' 2 || dev_fail "no midi_connected line"
teensy_do 2 '^sent' cc 1 22 64 >/dev/null
dev_wait_line "$tmp/ev.jsonl" '"name":"reverb_mix","value":0.4535,"source":"midi"' 2 ||
	dev_fail "CC 22 = 64 before the unplug did not arrive"

# unplugged
closed=$(teensy_do 2 '^closed' close)
wall_close=${closed#*wall=}
dev_wait_line "$tmp/engine.err" '"event":"midi_lost".*reconnecting' 3 || dev_fail "no midi_lost line (link reconnecting)"
sleep 0.5

# plugged back at the same path
teensy_do 2 '^open' open >/dev/null
back=$(teensy_do 6 '^(connected|timeout)' wait_connected 5)
[[ $back == connected* ]] || dev_fail "the engine did not reopen the pty at the same path"
for _ in $(seq 1 50); do
	n_conn=$(grep -c '"event":"midi_connected"' "$tmp/engine.err" || true)
	[ "$n_conn" -ge 2 ] && break
	sleep 0.02
done
[ "$n_conn" -ge 2 ] || dev_fail "the log does not show the reconnection (midi_connected $n_conn times)"
teensy_do 2 '^sent' cc 1 22 100 >/dev/null
dev_wait_line "$tmp/ev.jsonl" '"name":"reverb_mix","value":0.7087,"source":"midi"' 2 ||
	dev_fail "CC 22 = 100 after the reconnection did not arrive"
engine_alive || dev_fail "the engine died"
engine_stop

python3 - "$tmp/engine.err" "$wall_close" <<'EOF' || dev_fail "log order checks failed"
import datetime, json, re, sys
# The link's story in the log, in order: waiting, connected, lost (link
# reconnecting; a waiting line follows if the first retry finds no device),
# connected.
story = []
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") in ("midi_waiting", "midi_connected", "midi_lost"):
        story.append(e["event"])
    if e.get("event") == "midi_lost":
        ts = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
        ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
        print("loss logged %.0f ms after the pty closed (log stamps in ms)" %
              ((ts - float(sys.argv[2])) * 1e3))
print("link: " + " -> ".join(story))
want = r"midi_waiting midi_connected midi_lost (midi_waiting )?midi_connected"
if not re.fullmatch(want, " ".join(story)):
    print("want %s" % want)
    sys.exit(1)
EOF
python3 - "$tmp/ev.jsonl" <<'EOF' || dev_fail "event log checks failed"
import json, sys
ins = [json.loads(l) for l in open(sys.argv[1])]
ins = [(e["kind"], e["number"], e["value"]) for e in ins if e["type"] == "input"]
if ins != [("cc", 22, 64), ("cc", 22, 100)]:
    print("want the two CCs as input lines, got %r" % ins)
    sys.exit(1)
EOF
echo "first connection ${first#connected } ms after the pty appeared"
echo "reconnected ${back#connected } ms after the pty reappeared (0.5 s after the loss)"
echo "$DEV_NAME: ok"
