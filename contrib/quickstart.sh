#!/usr/bin/env bash
# mystery-engine quickstart: the project's two set-up commands.
#
#   contrib/quickstart.sh run [ARGS...]   install what is missing, build, start the instrument
#   contrib/quickstart.sh test            install what is missing, build with warnings as
#                                         errors and sanitizers, run the whole test suite
#
# Debian packages are installed as root, or through sudo; otherwise the exact
# apt-get line is printed and the script stops.  Builds are out of tree:
# build/ for run, build-test/ for test.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
[ $# -gt 0 ] && shift

# Everything the project builds, tests and runs with, by Debian package name.
packages=(
  git build-essential autoconf automake pkg-config
  libncurses-dev libportmidi-dev liblo-dev libconfig-dev libcunit1-dev
  libjansson-dev libmicrohttpd-dev libsmf-dev libsystemd-dev
  supercollider-server jackd2 sox liblo-tools tmux valgrind curl python3
  clang libclang-rt-14-dev clang-format systemd
)

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

say() { printf 'quickstart: %s\n' "$*" >&2; }

install_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local line="apt-get install -y --no-install-recommends ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      say "missing Debian packages: ${missing[*]}"
      say "install them as root, then run this again:"
      printf '  sudo apt-get update && sudo %s\n' "$line" >&2
      exit 1
    fi
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Package lists may be absent on a fresh machine: update once when needed.
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# build DIR CONFIGURE-ARGS...: autogen, configure and make, each when needed.
build() {
  local dir=$1; shift
  if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ]; then
    say "autogen"
    (cd "$top" && ./autogen.sh)
  fi
  mkdir -p "$dir"
  if [ ! -f "$dir/Makefile" ] || [ "$top/configure" -nt "$dir/Makefile" ]; then
    say "configure $*"
    (cd "$dir" && "$top/configure" "$@")
  fi
  say "make in $dir"
  make -C "$dir" -j"$(nproc)"
}

case "$cmd" in
run)
  install_packages
  build "$top/build"
  say "starting the instrument"
  exec "$top/build/mystery-engine" -c "$top/conf/mystery-engine.conf" "$@"
  ;;
test)
  install_packages
  build "$top/build-test" --enable-werror --enable-sanitizers
  say "running the test suite"
  summary() {	# the automake harness's totals as one plain closing line
    local log="$top/build-test/test-suite.log" pass fail
    [ -f "$log" ] || return 0
    pass=$(awk '/^# PASS:/ { print $3 }' "$log")
    fail=$(awk '/^# (FAIL|ERROR|XPASS):/ { n += $3 } END { print n + 0 }' "$log")
    echo "mystery-engine: ${pass:-0} passed, ${fail:-0} failed"
  }
  failures() {	# the log of every test that failed, wherever it lives in the tree
    local trs log n
    while IFS= read -r trs; do
      grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs" || continue
      log=${trs%.trs}.log
      n=$(wc -l <"$log" 2>/dev/null || echo 0)
      echo "==== ${log#"$top"/}: $(sed -n 's/^:test-result: //p' "$trs" | sort -u | tr '\n' ' ')($n lines$([ "$n" -gt 150 ] && echo ", the last 150"))"
      tail -n 150 "$log" 2>/dev/null || echo "(no log)"
    done < <(find "$top/build-test" -name '*.trs' -newer "$top/build-test/Makefile" | sort)
  }
  if ! make -C "$top/build-test" -j"$(nproc)" check; then
    failures
    summary
    exit 1
  fi
  summary
  ;;
*)
  usage
  ;;
esac
