#!/bin/bash
# ops_unit_live: the instrument plays inside the sandbox of its systemd
# unit.  systemd cannot run as PID 1 here, so the parts of the sandbox that
# can fail at run time are applied by hand: the unprivileged service user,
# the unit's system call filter and MemoryDenyWriteExecute
# (tests/tools/unit_sandbox.py: seccomp from the unit's own lines, and
# PR_SET_MDWE), inherited by jackd and scsynth.  The unit grants real time
# and memory locking through LimitRTPRIO= and LimitMEMLOCK=; this machine's
# hard limits cannot be raised (RTPRIO 0, no CAP_SYS_RESOURCE), so the test
# grants the same two rights as the ambient capabilities CAP_SYS_NICE and
# CAP_IPC_LOCK instead.  A listener and an operator would notice: the
# managed stack comes up, the worker runs SCHED_FIFO with its memory locked,
# jackd runs real-time, the recording is audible, SIGTERM exits 0.  And the
# check can fail: under a filter that also denies @resources, SCHED_FIFO is
# refused.
set -euo pipefail
. "${top_srcdir:-.}/tests/cli/e2e_live_lib.sh"
e2e_require
unit=${top_builddir:-.}/contrib/systemd/mystery-engine.service
[ -f "$unit" ] || e2e_fail "$unit was not generated (run make)"
for t in setpriv:util-linux systemd-analyze:systemd useradd:passwd chrt:util-linux; do
	command -v "${t%%:*}" >/dev/null 2>&1 || e2e_fail "${t%%:*} not found: install ${t#*:}"
done
[ "$(id -u)" -eq 0 ] || e2e_fail "run as root: the test switches to the service user itself"
sandbox="/usr/bin/python3 ${top_srcdir:-.}/tests/tools/unit_sandbox.py"
user=mystery-test
id -u "$user" >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		"$user" 2>/dev/null || id -u "$user" >/dev/null 2>&1 || e2e_fail "cannot create $user"
# The wrapper below drops to the service user itself: no second drop.
E2E_AS_ROOT=1
e2e_init unit-live
mkdir -p "$E2E_TMP/run"
chown "$user:" "$E2E_TMP" "$E2E_TMP/run"
as_service=(setpriv --reuid="$user" --regid="$user" --init-groups
	--inh-caps=+sys_nice,+ipc_lock --ambient-caps=+sys_nice,+ipc_lock)

# The check can fail: a filter that denies @resources refuses SCHED_FIFO.
cp "$unit" "$E2E_TMP/strict.service"
echo 'SystemCallFilter=~@resources' >>"$E2E_TMP/strict.service"
"${as_service[@]}" $sandbox "$E2E_TMP/strict.service" -- chrt -f 10 true 2>/dev/null &&
	e2e_fail "SCHED_FIFO was allowed under a filter without @resources"
"${as_service[@]}" $sandbox "$unit" -- chrt -f 10 true ||
	e2e_fail "the unit's own filter refuses SCHED_FIFO"

# The instrument, sandboxed, through a wrapper the e2e library runs.
# (Under AddressSanitizer the leak checker needs ptrace, which the unit
# rightly denies: leaks are checked elsewhere, not here.)
cat >"$E2E_TMP/sandboxed" <<EOF
#!/bin/sh
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
# the unit's Environment=HOME= (its state folder) and RuntimeDirectory=
# (the control socket's folder, private to this run), applied by hand too
HOME=$E2E_TMP
RUNTIME_DIRECTORY=$E2E_TMP/run
export HOME RUNTIME_DIRECTORY
exec ${as_service[*]} $sandbox "$(cd "$(dirname "$unit")" && pwd)/$(basename "$unit")" -- \
	"$(cd "$(dirname "$E2E_BIN")" && pwd)/$(basename "$E2E_BIN")" "\$@"
EOF
chmod 755 "$E2E_TMP/sandboxed"
E2E_BIN=$E2E_TMP/sandboxed
log=$E2E_TMP/run.log
wav=$E2E_TMP/take.wav
e2e_start "$log" --seed 3 --record "$wav"
e2e_wait_log "$log" '"event":"started"' 30
e2e_wait_log "$log" "\"event\":\"synth.ready\"" 60
sleep 3
e2e_stop
[ "$E2E_RC" -eq 0 ] || { grep -v '"debug"' "$log" >&2; e2e_fail "exit status $E2E_RC"; }
[ -z "$(e2e_leftovers)" ] || e2e_fail "$(e2e_leftovers)"
grep -q 'unit_sandbox: .* calls allowed, others fail with EPERM; MemoryDenyWriteExecute on' "$log" ||
	e2e_fail "the sandbox was not applied"
grep -q '"event":"synth.ready"' "$log" || e2e_fail "scsynth never became ready in the sandbox"
grep -q 'worker runs SCHED_FIFO' "$log" || e2e_fail "the worker did not get SCHED_FIFO"
grep -q '"event":"control","msg":"control socket '"$E2E_TMP/run/" "$log" ||
	e2e_fail "no control socket in the runtime folder inside the sandbox (mystery-engine attach cannot reach it): $(grep '"event":"control"' "$log" | head -n 2)"
grep -Eq '"msg":"(memory locked|memory not locked: AddressSanitizer build)"' "$log" ||
	e2e_fail "the memory was not locked"
grep -q 'JACK server starting in realtime mode' "$log" || e2e_fail "jackd is not real-time"
if grep -E '"level":"(error|warn)"' "$log" | grep -Eiv 'running as root' |
	grep -Ei 'not permitted|denied|EPERM'; then
	e2e_fail "something was refused inside the sandbox (above)"
fi
rms=$(e2e_rms "$wav")
echo "sandboxed run: $(grep -o 'unit_sandbox: [^"]*' "$log" | head -1); recording RMS $rms"
awk -v r="$rms" 'BEGIN { exit !(r > 0.01) }' || e2e_fail "the recording is silent (RMS $rms)"
echo "ops_unit_live: ok"
