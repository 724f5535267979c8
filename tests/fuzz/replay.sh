#!/bin/bash
# Replays the committed fuzz corpus through the MIDI parser and the LED frame
# decoder (tests/fuzz/replay.c); any broken invariant aborts.
set -euo pipefail
exec "$top_builddir/tests/fuzz/replay" "$top_srcdir/tests/fuzz/corpus"
