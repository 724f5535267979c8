#!/bin/bash
# sound_live_clicks: the live instrument, played the way a visitor and an
# operator would, makes no click.  The real binary runs with its console in
# a pseudo-terminal (tmux) on a private JACK dummy server and scsynth,
# recording its output (--record), with MIDI from a pty (tests/tools/
# pty_feed.py): two voices at 180 BPM so that most notes steal a voice,
# reverb_mix jumped 0 -> 127 -> 40 and master_volume jumped 110 -> 30 -> 110
# by CC, then the space bar pauses, and a second and a half later resumes.
# In the recording no transient may stand out of the music: the largest
# second difference |x[n] - 2x[n-1] + x[n-2]| must stay within 2x of its
# 99.9th percentile (the peaks of the notes themselves; a steal cut by
# /n_free, a reverb step or a pause cut by /g_freeAll made 5-8x).  While
# paused the reverb must ring on (no digital silence for 0.5 s after the
# pause) and nothing may be left on the server after q.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
command -v tmux >/dev/null 2>&1 || e2e_fail "tmux not found: install the Debian package tmux"
e2e_init sound-live
py=/usr/bin/python3
[ -x "$py" ] || py=python3

link="$E2E_TMP/midi"
wav="$E2E_TMP/take.wav"
ev="$E2E_TMP/ev.jsonl"
sock="me-sound-$$"
cleanup_more() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	[ -z "${feed:-}" ] || kill "$feed" 2>/dev/null || true
}
trap 'cleanup_more; e2e_cleanup' EXIT

# The MIDI keyboard, told what to play once the pattern plays (a FIFO).
mkfifo "$E2E_TMP/keys"
# E2E_AS (tests/cli/e2e_live_lib.sh, when it has it): the program and its
# MIDI device run as the unprivileged test user, as the installation does.
as=(${E2E_AS[@]+"${E2E_AS[@]}"})
as_cmd=
[ ${#as[@]} -eq 0 ] || as_cmd=$(printf '%q ' "${as[@]}")
${as[@]+"${as[@]}"} $py "$top_srcdir/tests/tools/pty_feed.py" "$link" --hold 60 <"$E2E_TMP/keys" &
feed=$!
exec 3>"$E2E_TMP/keys"
for _ in $(seq 1 50); do [ -e "$link" ] && break; sleep 0.1; done
[ -e "$link" ] || e2e_fail "the MIDI pty did not appear"

printf 'set -g status off\nset -g remain-on-exit on\n' >"$E2E_TMP/tmux.conf"
tmux -L "$sock" -f "$E2E_TMP/tmux.conf" new-session -d -s t -x 100 -y 30 \
	"$as_cmd'$E2E_BIN' -c '$E2E_CONF' --set synth.jack_name=$E2E_JACK --set synth.port=$E2E_PORT \
	--midi-in raw:$link --led none --http off --record '$wav' --events '$ev' --seed 3 --socket '$E2E_TMP/ctl.sock' \
	--set synth.voices=2 --set sequencer.bpm=180 --set sequencer.density=1 \
	--set mutation.enabled=false --set idle.timeout_ms=86400000 \
	2>'$E2E_TMP/run.log'; echo \$? >'$E2E_TMP/status'"
# playing: wait for the first note, then 5 s of knobs (3.7 s) and steals
for _ in $(seq 1 150); do grep -q '"note"' "$ev" 2>/dev/null && break; sleep 0.1; done
grep -q '"note"' "$ev" 2>/dev/null || e2e_fail "no note within 15 s: $(tail -5 "$E2E_TMP/run.log")"
cat >&3 <<'EOF'
sleep 1.0
# reverb_mix (CC 22) 0, then 127, then 40
b0 16 00
sleep 0.7
b0 16 7f
sleep 0.7
b0 16 28
sleep 0.5
# master_volume (CC 25) 110, 30, 110
b0 19 6e
sleep 0.4
b0 19 1e
sleep 0.4
b0 19 6e
EOF
exec 3>&-
sleep 5
tmux -L "$sock" send-keys -t t Space
sleep 1.5
tmux -L "$sock" send-keys -t t Space
sleep 1.5
tmux -L "$sock" send-keys -t t q
for _ in $(seq 1 50); do [ -s "$E2E_TMP/status" ] && break; sleep 0.1; done
[ "$(cat "$E2E_TMP/status" 2>/dev/null)" = 0 ] ||
	e2e_fail "the program did not quit with status 0: $(tail -5 "$E2E_TMP/run.log")"
left=$(e2e_leftovers)
[ -z "$left" ] || e2e_fail "$left"

set +e
$py - "$ev" "$wav" <<'PY'
import array, json, sys, wave
events = [json.loads(l) for l in open(sys.argv[1])]
notes = [e for e in events if e["type"] == "note"]
ccs = [e for e in events if e["type"] == "param" and e.get("source") == "midi"]
tr = [e["state"] for e in events if e["type"] == "transport"]
# a steal: a note starting while two earlier ones still sound (dur + 0.3 s)
ends, steals = [], 0
for n in notes:
    ends = [x for x in ends if x > n["t"]]
    steals += len(ends) >= 2
    ends.append(n["t"] + n["duration"] + 0.301)
print("notes %d, steals %d, knob moves %d, transport %s" % (len(notes), steals, len(ccs), tr))
if steals < 20 or len(ccs) < 6 or tr != ["paused", "running"]:
    sys.exit("the run did not play what the test needs")
w = wave.open(sys.argv[2])
rate, ch, n = w.getframerate(), w.getnchannels(), w.getnframes()
x = array.array("h", w.readframes(n))
if sys.byteorder == "big":
    x.byteswap()
per = [0] * n  # the larger channel's |d2| at each frame
for c in range(ch):
    s = x[c::ch]
    for i in range(2, len(s)):
        v = abs(s[i] - 2 * s[i - 1] + s[i - 2])
        if v > per[i]:
            per[i] = v
d2 = sorted(per)
top, p999 = d2[-1], d2[int(len(d2) * 0.999)]
print("recording %.2f s: largest |d2| %.5f, 99.9th percentile %.5f, ratio %.2f"
      % (n / rate, top / 32768, p999 / 32768, top / max(p999, 1)))
# where the largest ones are (10 ms apart), for a failure's diagnosis
peaks = []
for i in sorted(range(n), key=per.__getitem__, reverse=True):
    if per[i] <= 2 * p999 or len(peaks) == 5:
        break
    if all(abs(i - j) > rate // 100 for j in peaks):
        peaks.append(i)
for i in sorted(peaks):
    print("  |d2| %.5f at %.4f s (%.3f s before the end)" % (per[i] / 32768, i / rate, (n - i) / rate))
left = x[0::ch]
run = longest = 0
for v in left:
    run = run + 1 if v == 0 else 0
    longest = max(longest, run)
print("longest digital silence %.3f s" % (longest / rate))
if longest > 0.5 * rate:
    sys.exit("digital silence of %.2f s: the pause cut the reverb" % (longest / rate))
if top > 2 * p999:
    sys.exit("a transient %.1fx the music's peaks" % (top / p999))
PY
rc=$?
set -e
if [ $rc -ne 0 ] && [ -n "${SOUND_KEEP:-}" ]; then
	mkdir -p "$SOUND_KEEP" && cp "$ev" "$wav" "$E2E_TMP/run.log" "$SOUND_KEEP/" || true
fi
[ $rc -eq 0 ] || e2e_fail "a click in the live recording (see above)"
echo "sound_live_clicks: ok"
