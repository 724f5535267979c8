#!/bin/bash
# core_pure: the core is plain C11 and libc.  tests/core_pure is linked with
# src/core/libcore.a and -lm alone (a core file calling the runtime or a
# library would fail that link) and plays music; here every symbol the core
# needs from outside itself must be a pure function of libc or libm: memory,
# strings, formatting into buffers, arithmetic.  A thread, a clock, a file,
# a socket, the environment or the terminal is a failure naming the symbol.
set -euo pipefail
: "${top_builddir:=.}"
core=$top_builddir/src/core/libcore.a
pure=$top_builddir/tests/core_pure
command -v nm >/dev/null || { echo "FAIL: nm not found (install binutils)"; exit 1; }
[ -f "$core" ] || { echo "FAIL: $core is not built"; exit 1; }
[ -x "$pure" ] || { echo "FAIL: $pure is not built"; exit 1; }
"$pure"
defined=$(nm --defined-only "$core" | awk 'NF == 3 { print $3 }' | sort -u)
needed=$(nm -u "$core" | awk 'NF == 2 { print $2 }' | sort -u | comm -23 - <(echo "$defined"))
allowed='^(calloc|malloc|realloc|free|mem(cpy|move|set|cmp|chr)|str(len|nlen|cmp|ncmp|cpy|ncpy|chr|rchr|cspn|spn|str|to[a-z]*)|(v)?snprintf|qsort|bsearch|abs|labs|llabs|__ctype_[a-z_]*_loc|l?l?round[fl]?|l?rint|floor|ceil|trunc|fabs|fmod|sqrt|exp[m2]?1?|log(1p|2|10)?|pow|sin|cos|tan|atan2?|tanh|hypot|fmin|fmax|isnan|isinf|__isnan|__isinf)$'
tools='^(__asan_|__ubsan_|__sanitizer_|__lsan_|__msan_|__tsan_|__stack_chk_fail$|__[a-z]+_chk$|_GLOBAL_OFFSET_TABLE_$)'
bad=$(echo "$needed" | grep -Ev "$allowed" | grep -Ev "$tools" || true)
if [ -n "$bad" ]; then
	echo "FAIL: the core calls outside libc's and libm's pure functions:"
	echo "$bad" | sed 's/^/  /'
	exit 1
fi
echo "PASS: the core needs only $(echo "$needed" | grep -Ev "$tools" | tr '\n' ' ')"
