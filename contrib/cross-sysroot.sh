#!/usr/bin/env bash
# mystery-engine: a sysroot of Debian's ARCH packages for cross-building.
#
#   contrib/cross-sysroot.sh ARCH DIR          (ARCH: arm64 or armhf)
#   contrib/cross-sysroot.sh --lists ARCH...   only add the architectures and
#                                              update the package lists, once
#                                              for all (then several sysroots
#                                              can be made at the same time)
#
# Resolves the Depends/Pre-Depends closure of the -dev packages the project
# links (only ARCH's own packages: Multi-Arch: foreign tools and
# architecture-independent data are the build machine's business),
# downloads the .debs with `apt-get download` into a cache and unpacks them
# with `dpkg -x` into DIR.  Nothing foreign is ever installed: installing an
# ARCH -dev package that is not Multi-Arch (liblo-dev, libsmf-dev,
# libportmidi-dev) would remove the build machine's own.  Absolute symbolic
# links are made relative so that the compiler (--sysroot) and qemu (-L)
# find what they point to inside DIR.
#
# The .debs are cached in ${ME_CROSS_CACHE:-~/.cache/mystery-engine/cross}/ARCH
# and DIR is rebuilt only when the resolved set of packages or this script
# changes, so a second run costs a second (contrib/cross-check.sh keeps DIR
# in that cache too, so that a fresh clone finds it made).  Two runs for
# the same DIR at once take turns (DIR.lock); a run that only finds DIR up
# to date takes no lock.  Needs the ARCH package lists: run as root
# it adds the architecture (dpkg --add-architecture) and updates them; a
# mirror that fails (a list of unexpected size during a sync, a timeout) is
# retried, then reported by name.  A list that keeps failing for one
# suite (the security one, say) is tolerated when the others resolve every
# package.
set -euo pipefail

usage="usage: cross-sysroot.sh ARCH DIR | --lists ARCH..."
archs=()
if [ "${1:-}" = --lists ]; then
	shift
	archs=("$@")
	arch=${1:?$usage}
	dir=
else
	arch=${1:?$usage}
	dir=${2:?$usage}
	archs=("$arch")
fi
cache=${ME_CROSS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mystery-engine/cross}/$arch
attempts=${ME_CROSS_ATTEMPTS:-3}
# apt's binary cache of the lists, kept here: Debian's container images
# disable the system one, and rebuilding it costs seconds per call.
apt_opts=(-o "Dir::Cache::pkgcache=$cache/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$cache/srcpkgcache.bin")

# What the project links (configure.ac), plus glib (smf.pc requires it).
roots=(libc6-dev libncurses-dev liblo-dev libconfig-dev libcunit1-dev libjansson-dev
	libmicrohttpd-dev libsmf-dev libglib2.0-dev libportmidi-dev libsystemd-dev)

say() { printf 'cross-sysroot[%s]: %s\n' "$arch" "$*" >&2; }
# apt's error lines from file $1, at most six of them.
apt_errors() {
	grep -E '^(E|W|Err):' "$1" | awk 'NR <= 6 { print "    " $0 } END { if (NR > 6) print "    ... and " NR - 6 " more" }' >&2 || true
}
die() { say "error: $*"; exit 1; }

for a in "${archs[@]}"; do
	case $a in
	arm64 | armhf) ;;
	*) die "unknown architecture '$a' (arm64 or armhf)" ;;
	esac
done

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		return 1
	fi
}

# apt-get update, retried.  A failure that leaves every root resolvable
# (one index of a suite failing its size check during a mirror sync, say)
# is reported and tolerated at once; otherwise it is retried, then left to
# the caller, which reports what is missing.
update_lists() {
	local i log
	log=$(mktemp)
	for ((i = 1; i <= attempts; i++)); do
		if as_root apt-get -o DPkg::Lock::Timeout=600 update -q >"$log" 2>&1; then
			rm -f "$log"
			return 0
		fi
		say "apt-get update failed (attempt $i of $attempts):"
		apt_errors "$log"
		if [ -z "$(missing_roots_all)" ]; then
			say "every package needed resolves with the lists that did arrive: going on"
			rm -f "$log"
			return 0
		fi
		[ "$i" -lt "$attempts" ] && sleep $((5 * i))
	done
	rm -f "$log"
	return 1
}

# Adds the architectures that are missing, then updates the lists.
ensure_lists() {
	local a added=0
	for a in "${archs[@]}"; do
		dpkg --print-foreign-architectures | grep -qx "$a" && continue
		as_root dpkg --add-architecture "$a" ||
			die "the $a package lists are needed: as root, run" \
				"dpkg --add-architecture $a && apt-get update"
		added=1
	done
	[ $added -eq 0 ] || update_lists || true
}

# The roots that have no candidate for architecture $1 (default ARCH) in
# the lists (empty: all resolve).
missing_roots() {
	local a=${1:-$arch} have p miss=()
	have=$(apt-cache "${apt_opts[@]}" show --no-all-versions "${roots[@]/%/:$a}" 2>/dev/null |
		awk '/^Package: / { print $2 }')
	for p in "${roots[@]}"; do
		grep -qxF "$p" <<<"$have" || miss+=("$p")
	done
	echo "${miss[*]}"
}

# As missing_roots, for every architecture asked for ("ARCH: pkg ...").
missing_roots_all() {
	local a m
	for a in "${archs[@]}"; do
		m=$(missing_roots "$a")
		[ -z "$m" ] || echo "$a: $m"
	done
}

# The closure, breadth first: prints "name version filename" for each ARCH
# package (one apt-cache call per level).
resolve() {
	local -A seen=()
	local -a level=("${roots[@]}") next
	local name ver file ma deps dep rec
	while [ ${#level[@]} -gt 0 ]; do
		next=()
		local q=()
		for name in "${level[@]}"; do
			[ -n "${seen[$name]:-}" ] && continue
			seen[$name]=1
			q+=("$name:$arch")
		done
		[ ${#q[@]} -eq 0 ] && break
		# One record per package: name|version|filename|multi-arch|arch|deps
		while IFS='|' read -r name ver file ma rec deps; do
			[ "$rec" = "$arch" ] || continue
			[ "$ma" = foreign ] && continue
			echo "$name $ver $file"
			# First alternative of each dependency, without versions or :any.
			while IFS= read -r dep; do
				dep=${dep%%|*}
				dep=${dep%%(*}
				dep=${dep// /}
				dep=${dep%%:*}
				[ -n "$dep" ] && [ -z "${seen[$dep]:-}" ] && next+=("$dep")
			done < <(tr ',' '\n' <<<"$deps")
		done < <(apt-cache "${apt_opts[@]}" show --no-all-versions "${q[@]}" 2>/dev/null | awk '
			function flush() { if (p != "") print p "|" v "|" f "|" m "|" a "|" d (d != "" && pd != "" ? "," : "") pd; p = v = f = m = a = d = pd = "" }
			/^Package: / { flush(); p = $2 }
			/^Version: / { v = $2 }
			/^Filename: / { f = $2 }
			/^Multi-Arch: / { m = $2 }
			/^Architecture: / { a = $2 }
			/^Depends: / { sub(/^Depends: /, ""); d = $0 }
			/^Pre-Depends: / { sub(/^Pre-Depends: /, ""); pd = $0 }
			END { flush() }')
		level=("${next[@]+"${next[@]}"}")
	done
}

# Downloads the .debs the cache lacks; false when one cannot be fetched.
download() {
	local want=("$@") i
	[ ${#want[@]} -eq 0 ] && return 0
	say "downloading ${#want[@]} packages into $cache"
	for ((i = 1; i <= attempts; i++)); do
		if (cd "$cache" && apt-get "${apt_opts[@]}" download -q "${want[@]}" >/dev/null 2>"$cache/download.err"); then
			return 0
		fi
		say "apt-get download failed (attempt $i of $attempts):"
		apt_errors "$cache/download.err"
		# A file gone from the mirror means stale lists: refresh them once.
		[ "$i" -eq 1 ] && { update_lists || true; }
		[ "$i" -lt "$attempts" ] && sleep $((5 * i))
	done
	return 1
}

# Makes every absolute symbolic link under $1 relative to $1.
relink() {
	local root=$1 link target rel up d
	while IFS=$'\t' read -r link target; do
		rel=${link#./}
		d=${rel%/*}
		up=
		[ "$d" != "$rel" ] && while :; do
			up+=../
			[ "${d#*/}" = "$d" ] && break
			d=${d#*/}
		done
		ln -sfn "${up}${target#/}" "$root/$rel"
	done < <(cd "$root" && find . -type l -lname '/*' -printf '%p\t%l\n')
}

mkdir -p "$cache"
ensure_lists
if [ -z "$dir" ]; then
	miss=$(missing_roots_all)
	if [ -n "$miss" ]; then
		update_lists || true
		miss=$(missing_roots_all)
	fi
	[ -z "$miss" ] || die "no candidate for: $miss (is the mirror reachable? the lists: apt-get update)"
	say "package lists ready for ${archs[*]}"
	exit 0
fi
# The closure is a function of the lists and of this script: when neither
# changed since DIR was made, there is nothing to do.
script_sum=$(sha256sum <"$0" | cut -c1-16)
fresh() {
	[ -f "$dir/.stamp" ] && [ "$(cat "$dir/.script" 2>/dev/null)" = "$script_sum" ] &&
		[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -newer "$dir/.stamp" -print -quit)" ]
}
if fresh; then
	say "sysroot $dir is up to date ($(wc -l <"$dir/.packages") packages)"
	exit 0
fi
mkdir -p "$(dirname "$dir")"
exec {lock}>"$dir.lock"
flock -n "$lock" || {
	say "waiting for another run that is making $dir"
	flock "$lock"
}
if fresh; then
	say "sysroot $dir is up to date ($(wc -l <"$dir/.packages") packages)"
	exit 0
fi
miss=$(missing_roots)
if [ -n "$miss" ]; then
	update_lists || true
	miss=$(missing_roots)
	[ -n "$miss" ] && die "no $arch candidate for: $miss (is the mirror reachable?" \
		"the lists: apt-get update; the architecture: dpkg --add-architecture $arch)"
fi

mapfile -t pkgs < <(resolve | sort -u)
[ ${#pkgs[@]} -gt 0 ] || die "the dependency closure is empty"
want=() debs=()
for rec in "${pkgs[@]}"; do
	read -r name ver _ <<<"$rec"
	deb=${name}_${ver//:/%3a}_$arch.deb	# as apt-get download names it
	debs+=("$deb")
	[ -s "$cache/$deb" ] || want+=("$name:$arch=$ver")
done
download "${want[@]+"${want[@]}"}" ||
	die "cannot download the $arch packages (mirror unreachable or out of sync); try again later"
for deb in "${debs[@]}"; do
	[ -s "$cache/$deb" ] || die "$deb is missing from $cache after the download"
done

stamp=$(printf '%s\n' "${debs[@]}" | sha256sum | cut -c1-16)
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] &&
	[ "$(cat "$dir/.script" 2>/dev/null)" = "$script_sum" ]; then
	touch "$dir/.stamp"
	say "sysroot $dir is up to date (${#debs[@]} packages)"
	exit 0
fi
say "unpacking ${#debs[@]} packages into $dir"
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/.dpkg/info" "$dir.tmp/.dpkg/updates"
echo 1 >"$dir.tmp/.dpkg/info/format"	# "pkg:arch.list" names, as dpkg writes them
ctl=$(mktemp -d)
trap 'rm -rf "$ctl"' EXIT
for deb in "${debs[@]}"; do
	# Unpacked, and recorded in a dpkg database of the sysroot's own
	# (DIR/.dpkg) with the paths as they are here: dpkg-shlibdeps
	# --admindir finds there which package holds a library and its
	# symbols, for the Depends of a cross-built package.
	rm -rf "$ctl"/*
	dpkg-deb -e "$cache/$deb" "$ctl"
	name=$(sed -n 's/^Package: //p' "$ctl/control")
	key=$name
	grep -qx 'Multi-Arch: same' "$ctl/control" && key=$name:$arch
	dpkg-deb -X "$cache/$deb" "$dir.tmp" |
		sed -e 's|^\./|/|' -e 's|/$||' -e "s|^/\{0,1\}|$dir/|" -e "s|^$dir/\.\{0,1\}$|$dir|" \
			>"$dir.tmp/.dpkg/info/$key.list"
	for f in shlibs symbols; do
		[ -f "$ctl/$f" ] && cp "$ctl/$f" "$dir.tmp/.dpkg/info/$key.$f"
	done
	{ sed '/^$/d' "$ctl/control"; echo "Status: install ok installed"; echo; } >>"$dir.tmp/.dpkg/status"
done
relink "$dir.tmp"
printf '%s\n' "${pkgs[@]}" >"$dir.tmp/.packages"
echo "$script_sum" >"$dir.tmp/.script"
echo "$stamp" >"$dir.tmp/.stamp"
rm -rf "$dir.old"
[ ! -e "$dir" ] || mv "$dir" "$dir.old"
mv "$dir.tmp" "$dir"
rm -rf "$dir.old"
# Old versions no longer in the closure leave the cache.
for f in "$cache"/*.deb; do
	[ -e "$f" ] || continue
	printf '%s\n' "${debs[@]}" | grep -qxF "${f##*/}" || rm -f "$f"
done
say "sysroot $dir ready (${#debs[@]} packages)"
