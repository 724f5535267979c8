#!/usr/bin/env bash
# mystery-engine: the cross check, on the Raspberry Pi's own architectures.
#
#   contrib/cross-check.sh [ARCH...]        (default: arm64 armhf)
#
# 1. sysroots of Debian's ARCH packages (contrib/cross-sysroot.sh: unpacked,
#    never installed), cached between runs;
# 2. the Debian packages, native and for each ARCH (dpkg-buildpackage -b,
#    -a ARCH against the sysroot), with warnings as errors, checked by
#    lintian; in the same build trees, the CUnit runner, the fuzz replay
#    and -Wconversion on the files that handle time (make
#    check-conversion): what is tested is what is shipped;
# 3. the CUnit runner and the fuzz replay under qemu-user (qemu-aarch64 /
#    qemu-arm -L SYSROOT: there is no binfmt here).  What qemu-user does not
#    emulate is skipped by a named rule, printed (tests/testlib.h:
#    SKIP[emulator:tcgets2], SKIP[emulator:rss]); natively and on the Pi
#    those tests run;
# 4. a fixed set of renders (seeds, MIDI files from tests/fixtures, the
#    shipped configuration and variations of it; events and OSC scores) on
#    x86-64 and on each ARCH: any byte of difference fails.
#
# Build trees and packages go to ${ME_CROSS_DIR:-build-cross}/ (the
# packages in build-cross/pkg/ARCH/); the downloaded .debs and the sysroots
# made of them are cached in ${ME_CROSS_CACHE:-~/.cache/mystery-engine/cross}
# (ARCH/ and sysroot-ARCH/), so that a fresh clone finds them made.  Missing tools are
# installed as root (or through sudo), else the apt-get line is printed.
# See doc/pi.md.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${ME_CROSS_DIR:-$top/build-cross}
cache=${ME_CROSS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mystery-engine/cross}
jobs=$(nproc)
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(arm64 armhf)
native=$(dpkg --print-architecture)
t_start=$SECONDS

say() { printf 'cross-check: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
phase() { printf '\ncross-check: == %s (at %d s)\n' "$*" $((SECONDS - t_start)) >&2; }

triplet() {
	case $1 in
	arm64) echo aarch64-linux-gnu ;;
	armhf) echo arm-linux-gnueabihf ;;
	*) die "unknown architecture '$1' (arm64 or armhf)" ;;
	esac
}
sysroot() { echo "$cache/sysroot-$1"; }
qemu_of() {
	case $1 in
	arm64) echo qemu-aarch64 ;;
	armhf) echo qemu-arm ;;
	esac
}

# --- tools ------------------------------------------------------------------

tools=(gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user dpkg-dev debhelper
	lintian pkg-config autoconf automake git ccache)
install_tools() {
	local missing=() p
	for p in "${tools[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			say "missing Debian packages: ${missing[*]}; as root, run:"
			printf '  apt-get update && apt-get install -y --no-install-recommends %s\n' \
				"${missing[*]}" >&2
			exit 1
		fi
	fi
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Native packages only; --no-remove: apt stops rather than remove
	# anything (the build machine's own -dev packages above all); a dpkg
	# lock held by another installation is waited for.
	local install=("${sudo[@]}" apt-get install -y --no-install-recommends --no-remove
		-o DPkg::Lock::Timeout=600 "${missing[@]}")
	"${install[@]}" || { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update || true; "${install[@]}"; } ||
		die "cannot install ${missing[*]}"
}

# --- builds -----------------------------------------------------------------

# Compilations go through ccache, kept with the sysroots: a run on a fresh
# clone recompiles only what changed since the last one.  The compilers are
# reached by their usual names through links to ccache in front of PATH;
# paths under $out are hashed relative to it, so clones elsewhere share the
# cache.  (The packages are built without -g: no directory is in the code.)
use_ccache() {
	local bin=$cache/ccache-bin c
	mkdir -p "$bin"
	for c in gcc cc "$(dpkg-architecture -qDEB_HOST_GNU_TYPE)-gcc" aarch64-linux-gnu-gcc \
		arm-linux-gnueabihf-gcc; do
		ln -sfn "$(command -v ccache)" "$bin/$c"
	done
	export PATH="$bin:$PATH" CCACHE_DIR="$cache/ccache" CCACHE_BASEDIR="$out" CCACHE_NOHASHDIR=1
	ccache --max-size=1G >/dev/null
	ccache --zero-stats >/dev/null
}

# The build tree of ARCH's package (configured by dh_auto_configure).
bdir() { echo "$out/pkg/$1/src/debian/build"; }

# package ARCH: dpkg-buildpackage in a copy of the source tree, lintian on
# the result, then the unit runner and the fuzz replay in the same tree.
package() {
	local arch=$1 dir=$out/pkg/$1 env=() opts=(-b --no-sign)
	rm -rf "$dir"
	mkdir -p "$dir/src"
	say "$arch: building the package in ${dir#"$out"/}"
	# The project's files, and the build system autogen.sh made in $top
	# (ME_KEEP_CONFIGURE: debian/rules then skips dh_autoreconf, which
	# would make the same files again in each copy).
	(cd "$top" && { git ls-files -co --exclude-standard -z
		printf '%s\0' configure aclocal.m4 config.h.in build-aux m4
		find . -name Makefile.in -not -path './build*' -not -path './debian/*' -printf '%P\0'
	} | tar --null -T - -cf -) | tar -xf - -C "$dir/src"
	if [ "$arch" != "$native" ]; then
		local t
		t=$(triplet "$arch")
		# -d: the build dependencies are in the sysroot, not installed.
		opts+=(-a "$arch" -d)
		env=(ME_SYSROOT="$(sysroot "$arch")" CC="$t-gcc --sysroot=$(sysroot "$arch")")
	fi
	# No debug symbols package, so no -g either: the code is the same (GCC
	# generates the same code with and without -g, and dh_strip removes the
	# debug information anyway) and the builds are faster.
	(cd "$dir/src" && env "${env[@]}" ME_CONFIGURE_FLAGS=--enable-werror ME_KEEP_CONFIGURE=1 \
		DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$jobs" DEB_CFLAGS_STRIP=-g \
		dpkg-buildpackage "${opts[@]}") >"$dir/build.out" 2>&1 ||
		{ tail -n 40 "$dir/build.out" >&2; die "dpkg-buildpackage for $arch"; }
	local deb
	deb=$(ls "$dir"/mystery-engine_*_"$arch".deb)
	lintian --fail-on error,warning "$dir"/mystery-engine_*_"$arch".changes \
		>"$dir/lintian.out" 2>&1 || { cat "$dir/lintian.out" >&2; die "lintian on the $arch package"; }
	check_deb "$arch" "$deb"
	say "$arch: ${deb#"$out"/} ($(stat -c %s "$deb") bytes), built with -Werror, lintian clean"
	say "$arch: Depends: $(dpkg-deb -f "$deb" Depends)"
	make -C "$(bdir "$arch")" -s -j"$jobs" tests/unit tests/fuzz/replay >"$dir/make.out" 2>&1 ||
		{ tail -n 40 "$dir/make.out" >&2; die "the $arch unit runner"; }
	make -C "$(bdir "$arch")" -s check-conversion >>"$dir/make.out" 2>&1 ||
		{ tail -n 40 "$dir/make.out" >&2; die "-Wconversion in the time-handling files ($arch)"; }
	say "$arch: check-conversion clean"
}

# check_deb ARCH DEB: what an operator installs: the program, its man page,
# the configuration as a conffile, the unit (pointing at the program), the
# user and the udev names; a postinst that creates the user and enables or
# starts nothing (debhelper's "enable" snippet enables a new install; the
# --no-enable one re-enables only what was installed and enabled before).
check_deb() {
	local arch=$1 deb=$2 f ctl
	ctl=$(mktemp -d)
	dpkg-deb -e "$deb" "$ctl"
	for f in ./usr/bin/mystery-engine ./usr/share/man/man1/mystery-engine.1.gz \
		./etc/mystery-engine/mystery-engine.conf ./lib/systemd/system/mystery-engine.service \
		./usr/lib/sysusers.d/mystery-engine.conf ./usr/lib/udev/rules.d/99-mystery-engine.rules; do
		dpkg-deb -c "$deb" | awk '{ print $6 }' | grep -qxF "$f" || die "$arch: the package lacks $f"
	done
	grep -qxF /etc/mystery-engine/mystery-engine.conf "$ctl/conffiles" ||
		die "$arch: the configuration is not a conffile"
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./lib/systemd/system/mystery-engine.service |
		grep -qx 'ExecStart=/usr/bin/mystery-engine --daemon' || die "$arch: the unit's ExecStart"
	grep -q 'systemd-sysusers.*mystery-engine.conf' "$ctl/postinst" || die "$arch: postinst creates no user"
	if grep -q 'deb-systemd-invoke\|systemctl.*start' "$ctl/postinst" ||
		awk '/debian-installed/ { guard = 1 } /deb-systemd-helper enable/ && !guard { bad = 1 } END { exit !bad }' "$ctl/postinst"; then
		die "$arch: postinst enables or starts the service"
	fi
	rm -rf "$ctl"
}

# run ARCH PROGRAM ARGS...: the program of ARCH's build, emulated if foreign.
run() {
	local arch=$1 prog=$2
	shift 2
	if [ "$arch" = "$native" ]; then
		"$prog" "$@"
	else
		"$(qemu_of "$arch")" -L "$(sysroot "$arch")" "$prog" "$@"
	fi
}

# --- tests under qemu ---------------------------------------------------------

# unit_tests ARCH: the CUnit runner and the fuzz replay; writes
# unit.out and unit.verdict in its build tree.
unit_tests() {
	local arch=$1 dir rc=0 tmp
	dir=$(bdir "$arch")
	tmp=$(mktemp -d)
	(cd "$dir" && ME_EMULATOR=$(qemu_of "$arch") top_srcdir=$top top_builddir=$dir TMPDIR=$tmp \
		LC_ALL=C run "$arch" ./tests/unit) >"$dir/unit.out" 2>&1 || rc=$?
	rm -rf "$tmp"
	if [ $rc -ne 0 ]; then
		echo "unit tests exited $rc" >"$dir/unit.verdict"
		return
	fi
	run "$arch" "$dir/tests/fuzz/replay" "$top/tests/fuzz/corpus" >"$dir/replay.out" 2>&1 ||
		{ echo "fuzz replay failed" >"$dir/unit.verdict"; return; }
	echo ok >"$dir/unit.verdict"
}

report_unit() {
	local arch=$1 dir verdict summary
	dir=$(bdir "$arch")
	verdict=$(cat "$dir/unit.verdict" 2>/dev/null || echo "did not finish")
	summary=$(awk '/^ *tests / { print "run " $3 ", passed " $4 ", failed " $5 }' "$dir/unit.out")
	say "$arch: CUnit under $(qemu_of "$arch"): ${summary:-no summary}; fuzz replay: $(tail -n 1 "$dir/replay.out" 2>/dev/null)"
	# Every skip, by rule, never silently.
	grep -o 'SKIP\[emulator:[a-z0-9]*\] [a-z_0-9]*: .*' "$dir/unit.out" | sed 's/^/    /' >&2 || true
	say "$arch: $(grep -c 'SKIP\[emulator:' "$dir/unit.out" || true) skipped by emulator rules"
	if [ "$verdict" != ok ]; then
		grep -B2 -A8 'FAILED\|Assertion' "$dir/unit.out" | head -n 60 >&2 || true
		die "$arch: $verdict (log: $dir/unit.out)"
	fi
}

# --- renders ------------------------------------------------------------------

# The fixed set: NAME and the render arguments (with the shipped
# configuration).  Idle fades (the timeout is 30 s), mutations, tempo
# maps, swing and another root all go through floating point.
cases=(
	"seed-1 --seed 1 --seconds 600"
	"seed-2 --seed 2 --seconds 600"
	"seed-3 --seed 3 --seconds 600"
	"seed-4 --seed 4 --seconds 600"
	"seed-5 --seed 5 --seconds 600"
	"seed-6 --seed 6 --seconds 600"
	"seed-7 --seed 7 --seconds 600"
	"seed-8 --seed 8 --seconds 600"
	"seed-42 --seed 42 --seconds 600"
	"seed-1000 --seed 1000 --seconds 600"
	"hour-99 --seed 99 --seconds 3600"
	"cc_note-1 --seed 1 --seconds 300 --input $top/tests/fixtures/midi/cc_note.mid"
	"cc_note-2 --seed 2 --seconds 300 --input $top/tests/fixtures/midi/cc_note.mid"
	"tempo_map-1 --seed 1 --seconds 300 --input $top/tests/fixtures/midi/tempo_map.mid"
	"tempo_map-3 --seed 3 --seconds 300 --input $top/tests/fixtures/midi/tempo_map.mid"
	"late_start-1 --seed 1 --seconds 300 --input $top/tests/fixtures/midi/late_start.mid"
	"late_start-4 --seed 4 --seconds 300 --input $top/tests/fixtures/midi/late_start.mid"
	"bpm-swing --seed 5 --seconds 600 --set sequencer.bpm=97.3 --set sequencer.swing=0.21"
	"root-62 --seed 6 --seconds 300 --set sequencer.root_note=62"
)

render_set() {
	local arch=$1 dir=$out/render/$1 c name
	rm -rf "$dir"
	mkdir -p "$dir"
	for c in "${cases[@]}"; do
		read -r name rest <<<"$c"
		# shellcheck disable=SC2086 # the case's arguments split on purpose
		LC_ALL=C run "$arch" "$(bdir "$arch")/mystery-engine" render -q -c "$top/conf/mystery-engine.conf" \
			$rest --events "$dir/$name.jsonl" --score "$dir/$name.osc" 2>"$dir/$name.err" ||
			{ cat "$dir/$name.err" >&2; die "$arch: render $name failed"; }
	done
}

compare_renders() {
	local arch f base bad=0 n=0 notes
	for f in "$out/render/$native"/*.jsonl "$out/render/$native"/*.osc; do
		base=${f##*/}
		[ -s "$f" ] || die "$native: $base is empty"
		n=$((n + 1))
		for arch in "${archs[@]}"; do
			if ! cmp -s "$f" "$out/render/$arch/$base"; then
				bad=$((bad + 1))
				say "$base: $arch DIFFERS from $native: $(cmp "$f" "$out/render/$arch/$base" 2>&1 | head -n 1)"
				[ "${base##*.}" = jsonl ] && diff <(tr ',' '\n' <"$f") \
					<(tr ',' '\n' <"$out/render/$arch/$base") | head -n 6 >&2
			fi
		done
	done
	notes=$(cat "$out/render/$native"/*.jsonl | grep -c '"type":"note"' || true)
	say "renders: ${#cases[@]} cases, $n files ($(du -cb "$out/render/$native"/* | tail -n 1 | cut -f1) bytes, $notes notes) on $native and ${archs[*]}: $bad differ"
	[ "$bad" -eq 0 ] || die "renders differ between architectures"
	[ "$notes" -gt 1000 ] || die "the render set played only $notes notes"
}

# --- the check ----------------------------------------------------------------

for a in "${archs[@]}"; do triplet "$a" >/dev/null; done
phase "tools"
install_tools
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
	die "$top is not a git checkout: the package builds copy its files (git ls-files)"
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ]; then
	(cd "$top" && ./autogen.sh) >/dev/null 2>&1 || die "autogen"
fi
mkdir -p "$out"

use_ccache

phase "sysroots"
ME_CROSS_CACHE=$cache "$top/contrib/cross-sysroot.sh" --lists "${archs[@]}"
declare -A job=()
for a in "${archs[@]}"; do
	ME_CROSS_CACHE=$cache "$top/contrib/cross-sysroot.sh" "$a" "$(sysroot "$a")" &
	job[$a]=$!
done
for a in "${archs[@]}"; do
	wait "${job[$a]}" || die "the $a sysroot (see above)"
	# Held until the end: another run waits before it remakes this
	# sysroot (when the package lists changed) under this one's builds.
	exec {lock}>>"$(sysroot "$a").lock"
	flock -s "$lock"
done

phase "packages and builds: the foreign ones, then their unit tests under qemu in the background while the native one builds"
# The foreign packages build at the same time (overlapping the
# single-threaded parts: autoreconf, configure, dh); each job goes on to its
# unit tests, which mostly wait (the HTTP suite's slow clients), while the
# native package builds.
for a in "${archs[@]}"; do
	rm -f "$out/pkg/$a.built"
	(package "$a" && touch "$out/pkg/$a.built" && unit_tests "$a") &
	job[$a]=$!
done
for a in "${archs[@]}"; do
	while [ ! -e "$out/pkg/$a.built" ]; do
		kill -0 "${job[$a]}" 2>/dev/null || die "the $a package (see above)"
		sleep 1
	done
done
package "$native"

phase "renders"
for a in "$native" "${archs[@]}"; do
	render_set "$a"
done
compare_renders

phase "waiting for the unit tests"
for a in "${archs[@]}"; do
	wait "${job[$a]}" || die "the $a package or its unit tests (see above)"
done
for a in "${archs[@]}"; do
	report_unit "$a"
done

say "ccache: $(ccache --print-stats | awk -F'\t' '$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { h += $2 } $1 == "cache_miss" { m = $2 } END { print h + 0 " compilations from the cache, " m + 0 " compiled" }')"

phase "done"
echo "cross-check: ${archs[*]}: packages (lintian clean), unit tests under qemu, ${#cases[@]} identical renders in $((SECONDS - t_start)) s"
