#!/bin/bash
# e2e_render_score: the offline render gives the event log's notes at their
# exact samples.  `render --events E --score S.osc --wav W.wav` (scsynth -N
# renders the score) with swung, isolated notes: every note of E must start
# in W.wav at round(t x 48000), +-1 sample, with no clock fit at all
# (offline there is no clock to drift).  Needs scsynth.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
command -v scsynth >/dev/null 2>&1 || e2e_fail "scsynth not found: install supercollider-server"
command -v python3 >/dev/null 2>&1 || e2e_fail "python3 not found"
[ -x "$E2E_BIN" ] || e2e_fail "$E2E_BIN not built"
[ -x "$E2E_TOOLS/wav_onsets" ] || e2e_fail "$E2E_TOOLS/wav_onsets not built (make check)"
E2E_TMP=$(mktemp -d)
trap 'rm -rf "$E2E_TMP"' EXIT

e2e_isolated 50 0.2
seed=$(e2e_pick_seed)
"$E2E_BIN" render -c "$E2E_CONF" "${E2E_SETS[@]}" --seconds 8 --seed "$seed" \
	--events "$E2E_TMP/ev.jsonl" --score "$E2E_TMP/s.osc" --wav "$E2E_TMP/w.wav" \
	2>"$E2E_TMP/err" || e2e_fail "render exited $?: $(cat "$E2E_TMP/err")"
[ -s "$E2E_TMP/s.osc" ] || e2e_fail "no score written"
# every second step is late by 0.2 of a step (1.2 s): the log shows it
python3 - "$E2E_TMP/ev.jsonl" <<'PY' || e2e_fail "no swung note in the log"
import json, sys
ts = [json.loads(l)["t"] for l in open(sys.argv[1]) if '"note"' in l]
sys.exit(not any(abs(t / 1.2 - round(t / 1.2) - 0.2) < 1e-6 for t in ts))
PY
python3 "$E2E_MATCH" --events "$E2E_TMP/ev.jsonl" --wav "$E2E_TMP/w.wav" --offline \
	--latency-ms 0 --min-notes 6 --min-share 1 --verbose ||
	e2e_fail "rendered onsets are not at the event log's samples"
echo "e2e_render_score: ok"
