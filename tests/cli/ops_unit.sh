#!/bin/bash
# The systemd unit `make` generates is accepted by `systemd-analyze verify`
# (pointed at the built binary in a test-local copy, since verify needs the
# ExecStart program to exist), has its install path substituted, and keeps
# the promised behaviour: Type=notify with a watchdog, an unprivileged user
# in the audio group, the sandbox, devices, restart and stop timeout; its
# `systemd-analyze security` exposure is at most 3.0 while real-time
# scheduling and memory locking stay allowed (limits, no RestrictRealtime,
# the system calls they need).  systemd cannot run as PID 1 here, so the
# sandbox itself is tried by tests/cli/ops_unit_live.sh.
set -euo pipefail
command -v systemd-analyze >/dev/null ||
	{ echo "FAIL: systemd-analyze is missing (apt-get install systemd)"; exit 1; }
unit=${top_builddir:-.}/contrib/systemd/mystery-engine.service
[ -f "$unit" ] || { echo "FAIL: $unit was not generated (run make)"; exit 1; }
[ -x "${ME_BIN:-}" ] || { echo "FAIL: ME_BIN is not the built program"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

grep -q '@[a-z]*@' "$unit" && fail "unsubstituted @...@ left in $unit"
grep -Eq '^ExecStart=/.*/mystery-engine --daemon$' "$unit" ||
	fail "ExecStart does not run the installed program with --daemon"
for line in Type=notify WatchdogSec=10 Restart=on-failure TimeoutStopSec=5 \
	User=mystery-engine Group=audio StateDirectory=mystery-engine \
	RuntimeDirectory=mystery-engine LogsDirectory=mystery-engine \
	NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	CapabilityBoundingSet= SystemCallFilter=@system-service \
	DevicePolicy=closed 'DeviceAllow=char-alsa rw' 'DeviceAllow=char-ttyACM rw' \
	LimitRTPRIO=95 LimitMEMLOCK=infinity Nice=-10; do
	grep -qx "$line" "$unit" || fail "the unit lacks '$line'"
done
grep -Eq '^SupplementaryGroups=.*\baudio\b' "$unit" || fail "audio is not a supplementary group"
grep -Eq '^SupplementaryGroups=.*\bdialout\b' "$unit" || fail "dialout is not a supplementary group"
# What real time and memory locking need must stay allowed.
grep -Eq '^RestrictRealtime=(yes|true|on|1)' "$unit" && fail "RestrictRealtime forbids SCHED_FIFO"
grep -Eq '^SystemCallFilter=~.*@(resources|memlock)' "$unit" &&
	fail "the system call filter denies sched_setscheduler or mlockall"
grep -Eq '^(PrivateDevices|PrivateUsers|ProcSubset)=' "$unit" &&
	fail "PrivateDevices hides /dev/snd, PrivateUsers the audio group, ProcSubset /proc/asound"

sed "s|^ExecStart=[^ ]*|ExecStart=$ME_BIN|" "$unit" >"$work/mystery-engine.service"
rc=0
SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$work/mystery-engine.service" \
	>"$work/out" 2>&1 || rc=$?
# Only what concerns this unit counts (the host's own units may be noisy).
grep 'mystery-engine' "$work/out" >"$work/ours" || true
[ "$rc" -eq 0 ] || fail "systemd-analyze verify exited $rc: $(cat "$work/out")"
[ ! -s "$work/ours" ] || fail "systemd-analyze verify complains: $(cat "$work/ours")"

# The exposure systemd reports (0 safest .. 10): at most 3.0.
SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=true --no-pager \
	"$work/mystery-engine.service" >"$work/security" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for mystery-engine.service: \([0-9.]*\).*/\1/p' \
	"$work/security")
[ -n "$exposure" ] || fail "systemd-analyze security printed no exposure: $(tail -3 "$work/security")"
echo "systemd-analyze security: exposure $exposure"
awk -v e="$exposure" 'BEGIN { exit !(e <= 3.0) }' || fail "exposure $exposure is above 3.0"
# ... and the bound can fail: without the sandbox the exposure is high.
grep -Ev '^(CapabilityBoundingSet|SystemCallFilter|ProtectSystem|PrivateTmp|ProtectHome|RestrictAddressFamilies|MemoryDenyWriteExecute)=' \
	"$work/mystery-engine.service" >"$work/open.service"
SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=true --no-pager "$work/open.service" \
	>"$work/security" 2>&1 || true
open=$(sed -n 's/.*Overall exposure level for open.service: \([0-9.]*\).*/\1/p' "$work/security")
awk -v e="$open" 'BEGIN { exit !(e > 3.0) }' || fail "a unit without its sandbox scored $open"

# A unit with a mistake is refused: the check above can fail.
sed 's/^Type=notify/Type=notifyy/' "$work/mystery-engine.service" >"$work/bad.service"
SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$work/bad.service" >"$work/out" 2>&1 || true
grep -q 'bad.service' "$work/out" || fail "verify did not notice a bad Type="

# The udev rule gives the Teensy its two stable names.
rules=${top_srcdir:-.}/contrib/udev/99-mystery-engine.rules
grep -Eq 'SUBSYSTEM=="sound".*ATTRS\{idVendor\}=="16c0".*SYMLINK\+="mystery-midi"' "$rules" ||
	fail "no /dev/mystery-midi rule"
grep -Eq 'SUBSYSTEM=="tty".*ATTRS\{idVendor\}=="16c0".*SYMLINK\+="mystery-leds"' "$rules" ||
	fail "no /dev/mystery-leds rule"
echo "PASS: systemd-analyze verify accepts the unit"
