#!/bin/bash
# sc_defs: our own SynthDefs load into a live scsynth (private JACK dummy
# server, private UDP port): each def starts with /s_new without /fail, the
# server counts three defs and printed no UGen error, and a def name that
# does not exist is refused (so the check can fail).
set -euo pipefail
. "${top_srcdir:-.}/tests/lib/audio.sh"
tmp=$(mktemp -d)
trap 'audio_stop; rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	[ -n "$AUDIO_SC_LOG" ] && [ -f "$AUDIO_SC_LOG" ] && sed 's/^/  scsynth: /' "$AUDIO_SC_LOG" >&2
	exit 1
}

audio_require
audio_exclusive
audio_start "$tmp"

out=$("$AUDIO_PROBE" -p "$AUDIO_PORT" defs 2>&1) || fail "loading the defs: $out"
echo "$out"
for d in me_voice me_fx me_rec; do
	grep -q "^$d: ok" <<<"$out" || fail "$d did not start"
done
status=$("$AUDIO_PROBE" -p "$AUDIO_PORT" status) || fail "/status: $status"
grep -q ' defs=3 ' <<<"$status" || fail "server does not hold 3 defs: $status"
grep -q ' synths=0 ' <<<"$status" || fail "trial synths were left running: $status"
if grep -Eqi 'not installed|exception|error' "$AUDIO_SC_LOG"; then
	fail "scsynth reported an error while loading the defs"
fi

set +e
out=$("$AUDIO_PROBE" -p "$AUDIO_PORT" trial me_no_such_def 2>&1)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a bogus def name was not refused (exit $rc): $out"
grep -q "SynthDef not found" <<<"$out" || fail "no /fail for a bogus def: $out"
echo "bogus def refused: $(grep '/fail' <<<"$out" | head -1)"
