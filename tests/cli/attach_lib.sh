# tests/cli/attach_lib.sh: shared by the attach_*.sh tests (sourced after
# ops_lib.sh, not run).
#
#   attach_stop   SIGTERM to the daemon (OPS_PID); it must exit 0, within
#                 10 s (the 2 s bound is tests/cli/ops_daemon.sh's, checked
#                 where the machine's load does not decide it)

attach_stop() {
	local rc=0 i
	kill -TERM "$OPS_PID"
	for ((i = 0; i < 200; i++)); do kill -0 "$OPS_PID" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$OPS_PID" 2>/dev/null && ops_fail "the daemon still runs 10 s after SIGTERM"
	wait "$OPS_PID" || rc=$?
	OPS_PID=
	[ "$rc" -eq 0 ] || ops_fail "exit status $rc after SIGTERM"
}
