#!/bin/bash
# unit_suites: every CUnit suite linked into tests/unit is a TESTS entry of
# its own (UNIT_TESTS in the tests/*.am fragments), so none is built and
# never run, and every entry names a suite that exists.
set -euo pipefail
unit=${top_builddir:-.}/tests/unit
[ -x "$unit" ] || { echo "FAIL: $unit is not built"; exit 1; }
[ -n "${UNIT_TESTS:-}" ] || { echo "FAIL: UNIT_TESTS is not set (run through make check)"; exit 1; }
linked=$("$unit" --list | sort)
listed=$(printf '%s\n' $UNIT_TESTS | sed 's|.*/||; s|\.unit$||' | sort)
if [ "$linked" != "$listed" ]; then
	echo "FAIL: suites linked into tests/unit but not in UNIT_TESTS:"
	comm -23 <(echo "$linked") <(echo "$listed")
	echo "FAIL: entries in UNIT_TESTS that are no suite:"
	comm -13 <(echo "$linked") <(echo "$listed")
	exit 1
fi
echo "PASS: $(echo "$linked" | wc -l) suites, each its own TESTS entry"
