#!/bin/bash
# sound_clicks: no click where the sound is changed.  An offline render
# (deterministic: a seed, a MIDI file, scsynth -N) of a dense pattern on
# two voices, so that most notes steal a voice, with knobs jumped and swept
# (filter_cutoff, reverb_mix, master_volume: tests/tools/click_midi.py),
# a pause pressed while a loud note sounds and released a second later,
# and the instrument left alone until it fades into its ambient profile.
# tests/tools/click_check.py then compares the waveform's second difference
# where each of those happens with its largest value around it (away from
# note onsets): no point may exceed 2x.  The score must also show what
# makes it click-free: a stolen voice fades out in 10 ms, ending before the
# new note starts; the pause releases the voices along their release time;
# the reverb then rings on (not digital silence) and the music resumes.
# Needs scsynth.
set -euo pipefail
. "$(dirname "$0")/render_lib.sh"

command -v scsynth >/dev/null || fail "scsynth not found: install supercollider-server"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
tools="$top_srcdir/tests/tools"

# A pause time that is not a time is a usage error that names it.
for bad in -1 abc 1e99; do
	rc=0
	$ME_BIN render --seconds 1 --pause-at "$bad" >/dev/null 2>"$work/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "--pause-at $bad: exit status $rc, want 2"
	grep -q -- "--pause-at '$bad'" "$work/err" || fail "--pause-at $bad: $(cat "$work/err")"
done

$py "$tools/click_midi.py" "$work/knobs.mid" || fail "cannot write the MIDI file"
opts=(-c "$conf" --seed 3 --input "$work/knobs.mid"
	--set synth.voices=2 --set sequencer.bpm=180 --set sequencer.density=1
	--set mutation.enabled=false --set idle.timeout_ms=2500)

# The pause falls 10 ms into the loudest note after the last knob move
# (13.2 s): a voice at full level is released, not one already fading.
$ME_BIN render "${opts[@]}" --seconds 15 --events "$work/pre.jsonl" -q ||
	fail "render exited $?"
pause=$($py - "$work/pre.jsonl" <<'PY'
import json, sys
notes = [e for e in map(json.loads, open(sys.argv[1]))
         if e["type"] == "note" and 13.2 <= e["t"] < 14.0]
if not notes:
    sys.exit("no note between 13.2 and 14 s")
n = max(notes, key=lambda e: (e["velocity"], -e["t"]))
print("%.6f" % (n["t"] + 0.01))
PY
) || fail "no note to pause on"
resume=$(awk -v p="$pause" 'BEGIN { printf "%.6f", p + 1.0 }')
echo "pause at $pause s, resume at $resume s"

$ME_BIN render "${opts[@]}" --seconds 22 --pause-at "$pause" --pause-at "$resume" \
	--events "$work/ev.jsonl" --score "$work/s.osc" --wav "$work/w.wav" -v \
	>"$work/render.log" 2>&1 || fail "render exited $?: $(tail -5 "$work/render.log")"
if grep -Ei 'FAILURE|not found|late [0-9]' "$work/render.log"; then
	fail "scsynth refused a message of the score"
fi

# What the score tells the server.
$py - "$work/s.osc" "$work/w.wav" "$pause" "$resume" <<'PY' || fail "the score or the sound is not what a musician expects"
import array, os, sys, wave
sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "tools"))
import click_check as cc

msgs = cc.read_score(sys.argv[1])
pause, resume = float(sys.argv[3]), float(sys.argv[4])
news = {}       # node -> onset
releases = []   # (t, node, fade)
for t, addr, args in msgs:
    if addr == "/s_new" and args[0] == "me_voice":
        news[args[1]] = t
    elif addr == "/n_set" and "gate" in args:
        releases.append((t, args[0], -args[args.index("gate") + 1] - 1))
    elif addr in ("/n_free", "/g_freeAll"):
        sys.exit("%s at %.4f s: a hard cut" % (addr, t))
steals = [r for r in releases if r[1] != 900]
groups = [r for r in releases if r[1] == 900]
print("notes %d, stolen voices %d, group releases %d" % (len(news), len(steals), len(groups)))
if len(steals) < 50:
    sys.exit("only %d steals: the pattern does not test stealing" % len(steals))
onsets = sorted(news.values())
for t, node, fade in steals:
    if abs(fade - 0.010) > 1e-4:
        sys.exit("voice %d stolen at %.4f s fades in %.4f s, not 10 ms" % (node, t, fade))
    if t < news[node]:
        sys.exit("voice %d released at %.4f s before it started" % (node, t))
    # the next onset after the release is the note that took the voice:
    # the fade (and a margin of two blocks) ends before it
    nxt = min(o for o in onsets if o > t)
    if nxt - t < 0.010 + 0.002 and t > news[node] + 1e-6:
        sys.exit("voice %d released at %.4f s, only %.1f ms before the next note"
                 % (node, t, (nxt - t) * 1000))
if len(groups) != 1 or abs(groups[0][0] - (pause + 0.010)) > 1e-4:
    sys.exit("expected one release of every voice at the pause (+10 ms latency): %r" % groups)
if abs(groups[0][2] - 0.3) > 1e-4:
    sys.exit("the pause releases the voices in %.3f s, not their 0.3 s release" % groups[0][2])
w = wave.open(sys.argv[2])
rate = w.getframerate()
x = array.array("h", w.readframes(w.getnframes()))[0::2]
def peak(a, b):
    return max(abs(v) for v in x[int(a * rate):int(b * rate)])
ring, after = peak(pause + 0.5, pause + 0.9), peak(resume + 0.1, resume + 0.6)
print("peak 0.5-0.9 s after the pause %d, after resuming %d" % (ring, after))
if ring < 30:
    sys.exit("the reverb does not ring on after the pause (peak %d)" % ring)
if after < 300:
    sys.exit("the music does not resume (peak %d)" % after)
if any(0 < t - pause < 1.0 for t in onsets):
    sys.exit("a note sounds while paused")
PY

$py "$tools/click_check.py" --score "$work/s.osc" --wav "$work/w.wav" --events "$work/ev.jsonl" \
	--require steal --require pause --require knob:filter_cutoff --require knob:reverb_mix \
	--require knob:master_volume --require fade ||
	fail "a transient where the sound is changed (see above)"
echo "sound_clicks: ok"
