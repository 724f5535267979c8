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
# One clang-format for every file (its start-up, not the layout, is what
# costs: one run per file took 30 s); its complaints name file:line.
if out=$(cd "$top_srcdir" && "$fmt" --style=file --dry-run -Werror "${files[@]}" 2>&1); then
	echo "format: ${#files[@]} files checked, 0 differ"
	exit 0
fi
mapfile -t bad < <(printf '%s\n' "$out" | sed -n 's/^\([^: ]*\.[ch]\):[0-9]*:[0-9]*: error: .*/\1/p' | uniq | sort -u)
if [ "${#bad[@]}" -eq 0 ]; then
	echo "FAIL: $fmt failed without naming a file:" >&2
	printf '%s\n' "$out" | sed -n 1,12p >&2
	exit 1
fi
for f in "${bad[@]}"; do
	echo "FAIL: $f is not laid out as .clang-format says:" >&2
	printf '%s\n' "$out" | grep -A2 -F "$f:" | sed -n 1,6p >&2
done
echo "format: ${#files[@]} files checked, ${#bad[@]} differ"
exit 1
