#!/bin/bash
# render --score/--wav: the same render loop writes an scsynth score, and
# scsynth -N turns it into a stereo WAV that is not silent and lasts the
# rendered time plus the 2 s tail.  Needs scsynth.
. "$(dirname "$0")/render_lib.sh"

command -v scsynth >/dev/null || fail "scsynth is not installed"
$ME_BIN render --seconds 3 --seed 2 --score "$work/s.osc" --wav "$work/s.wav" \
	2>"$work/err" || fail "render --score --wav exited $?: $(cat "$work/err")"
[ -s "$work/s.osc" ] || fail "no score written"
python3 - "$work/s.wav" <<'PY' || fail "the WAV is not the rendered music"
import array, sys, wave
w = wave.open(sys.argv[1])
frames = w.getnframes()
data = array.array("h", w.readframes(frames))
secs = frames / w.getframerate()
if w.getnchannels() != 2 or abs(secs - 5.0) > 0.05:
    sys.exit("%d channels, %.3f s; expected 2 channels, 5 s" % (w.getnchannels(), secs))
if max(abs(x) for x in data) < 300:
    sys.exit("the WAV is silent")
PY
echo "render_score: ok"
