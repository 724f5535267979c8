# render_lib.sh: shared set-up of the render_*.sh tests (sourced, not run).
# Gives $work (a private temp dir, removed on exit), $check (the event log
# checker), and the start scale and root of the shipped configuration in
# $start_scale and $start_root (the configuration's first scale and root).
set -euo pipefail
: "${ME_BIN:?ME_BIN must name the built mystery-engine}"
: "${top_srcdir:?top_srcdir must name the source tree}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check="python3 $top_srcdir/tests/tools/check_events.py"
fixtures="$top_srcdir/tests/fixtures/midi"
conf="$top_srcdir/conf/mystery-engine.conf"
start_scale=$(python3 -c '
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^scales\s*=\s*\[\s*\"([^\"]+)\"", text, re.M)
print(m.group(1))' "$conf")
start_root=$(python3 -c '
import re, sys
m = re.search(r"^\s*root_note\s*=\s*(\d+)", open(sys.argv[1]).read(), re.M)
print(m.group(1))' "$conf")

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
