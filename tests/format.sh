#!/bin/bash
# format: every C source and header of the project is laid out as
# .clang-format says (clang-format --dry-run -Werror on each); a file that
# differs is named with clang-format's first complaints.  Reformat with
#   clang-format -i FILE
# (Debian 12's clang-format 14: another version may lay out differently).
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
fmt=${CLANG_FORMAT:-clang-format}
if ! command -v "$fmt" >/dev/null; then
	echo "FAIL: $fmt not found: install the Debian package clang-format (contrib/quickstart.sh does)" >&2
	exit 1
fi
[ -f "$top_srcdir/.clang-format" ] || { echo "FAIL: $top_srcdir/.clang-format missing" >&2; exit 1; }
mapfile -t files < <(cd "$top_srcdir" && find src tests bench contrib -name '*.[ch]' -type f | sort)
[ "${#files[@]}" -gt 50 ] || { echo "FAIL: only ${#files[@]} C files found under $top_srcdir" >&2; exit 1; }
bad=0
for f in "${files[@]}"; do
	if ! out=$(cd "$top_srcdir" && "$fmt" --style=file --dry-run -Werror "$f" 2>&1); then
		bad=$((bad + 1))
		echo "FAIL: $f is not laid out as .clang-format says:" >&2
		printf '%s\n' "$out" | sed -n 1,6p >&2
	fi
done
echo "format: ${#files[@]} files checked, $bad differ"
[ "$bad" -eq 0 ]
