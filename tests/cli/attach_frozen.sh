#!/bin/bash
# A console whose terminal freezes (its attach process stopped with SIGSTOP
# for 4 s, as when an SSH link stalls) changes nothing for anyone else: the
# daemon's notes are exactly those of an offline render of the same seed
# (same times from the first note to the microsecond, none skipped, no
# stall counted), a second console keeps refreshing during the freeze, `ctl`
# answers as fast as before it (within twice its time then, plus a second),
# and the frozen console is kept: once it runs again it shows the present
# (its uptime within a second of the daemon's), not a backlog.
. "$(dirname "$0")/tui_lib.sh"
. "$(dirname "$0")/ops_lib.sh"
. "$(dirname "$0")/attach_lib.sh"
ops_init
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; ops_cleanup' EXIT

ctl_sock=$OPS_WORK/control.sock
events=$OPS_WORK/events.jsonl
# A stall is counted only past 5 s (synth.late_drop_ms): a loaded machine
# may delay the unprivileged worker, and a worker that waited for the frozen
# console would stop the other console's clock anyway.
sets=(--set idle.timeout_ms=86400000 --set mutation.enabled=false --set synth.late_drop_ms=5000)
ops_start --socket "$ctl_sock" --events "$events" --seed 5 "${sets[@]}"

screen_of() { tmux -L "$sock" capture-pane -p -t "$1"; }
uptime_of() {	# seconds of the "up MM:SS" a console shows
	screen_of "$1" | sed -nE 's/.* up ([0-9]+):([0-9]+).*/\1 \2/p' | head -n 1 |
		awk '{ print $1 * 60 + $2 }'
}

tui_start "LANG=C.UTF-8 TERM=xterm-256color $ME_BIN attach -S $ctl_sock"
tui_wait 'latency +p50'
tmux -L "$sock" new-session -d -s u -x 80 -y 24 "LANG=C.UTF-8 TERM=xterm-256color $ME_BIN attach -S $ctl_sock"
for ((i = 0; i < 100; i++)); do screen_of u | grep -Eq 'latency +p50' && break; sleep 0.05; done
pane=$(tmux -L "$sock" display -p -t t '#{pane_pid}')
# the first console: its pane's process or that shell's child (a looser pattern would
# also match the tmux server, whose command line holds the same command,
# and stopping the server would hang every capture-pane)
frozen=
for ((i = 0; i < 200; i++)); do
	# (the pane's shell may also have exec'd the console itself)
	case "$(tr '\0' ' ' <"/proc/$pane/cmdline" 2>/dev/null)" in
	"$ME_BIN attach -S "*) frozen=$pane ;;
	*) frozen=$({ pgrep -P "$pane" -f "^$ME_BIN attach -S " || true; } | head -n 1) ;;
	esac
	[ -n "$frozen" ] && break
	sleep 0.05
done
[ -n "$frozen" ] || fail "cannot find the first console's process (a child of pane $pane)"

ctl_ms() {	# the milliseconds one `ctl get` takes
	local t0
	t0=$(date +%s%N)
	"$ME_BIN" ctl -S "$ctl_sock" get tempo >/dev/null || fail "ctl failed"
	echo $((($(date +%s%N) - t0) / 1000000))
}
base=0
for _ in 1 2 3; do
	ms=$(ctl_ms)
	[ "$ms" -gt "$base" ] && base=$ms
done
kill -STOP "$frozen"
seen=() slow=0
for ((i = 0; i < 8; i++)); do
	sleep 0.5
	seen+=("$(uptime_of u)")
	ms=$(ctl_ms)
	[ "$ms" -gt "$slow" ] && slow=$ms
done
kill -CONT "$frozen"
distinct=$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)
echo "second console's uptime during the freeze: ${seen[*]}; slowest ctl ${slow} ms (${base} ms before)"
[ "$distinct" -ge 3 ] || fail "the second console stopped refreshing while the first was frozen"
# the machine's load slows every process alike: against the same calls before the freeze
[ "$slow" -lt $((2 * base + 1000)) ] || fail "ctl took $slow ms while a console was frozen (${base} ms before)"

# the thawed console shows the present
ok=
for ((i = 0; i < 20; i++)); do
	sleep 0.1
	a=$(uptime_of t) b=$(uptime_of u)
	[ -n "$a" ] && [ -n "$b" ] && [ $((a > b ? a - b : b - a)) -le 1 ] && { ok=1; break; }
done
[ -n "$ok" ] || fail "the thawed console shows up ${a}s while the daemon is at ${b}s"
kill -0 "$frozen" || fail "the frozen console died"
grep -q 'console (pid '"$frozen"'.*went away' "$OPS_WORK/err" &&
	fail "the daemon dropped the frozen console"

curl -sf "$OPS_BASE/state" >"$OPS_WORK/state.json"
/usr/bin/python3 - "$OPS_WORK/state.json" <<'PY' || fail "the daemon stalled"
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
bad = {k: c[k] for k in ("stalls", "late_notes_dropped", "steps_skipped") if c.get(k)}
sys.exit(1 if bad else 0)
PY
attach_stop

# every note the daemon played is the render's, at the same time
"$ME_BIN" render --seconds 300 --seed 5 "${sets[@]}" --events "$OPS_WORK/render.jsonl" 2>/dev/null
/usr/bin/python3 - "$events" "$OPS_WORK/render.jsonl" <<'PY' || fail "the notes differ from the render"
import json, sys
def notes(p):	# times from the first note: the live engine starts a look-ahead late
    n = [(e["t"], e["pitch"]) for e in map(json.loads, open(p)) if e["type"] == "note"]
    return [(round(t - n[0][0], 6), p) for t, p in n] if n else []
live, ref = notes(sys.argv[1]), notes(sys.argv[2])
end = live[-1][0] if live else 0
ref = [n for n in ref if n[0] <= end]
print("live notes %d, render notes %d up to %.3f s" % (len(live), len(ref), end))
diff = [(a, b) for a, b in zip(live, ref) if a[1] != b[1] or abs(a[0] - b[0]) > 2e-6]
if len(live) < 10 or len(live) != len(ref) or diff:
    if diff:
        print("first difference: live %s render %s" % diff[0])
    sys.exit(1)
PY
echo "attach_frozen: ok"
