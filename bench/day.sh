#!/bin/bash
# day: a gallery day of mystery-engine, offline, for many seeds.
#
# Renders HOURS (default 10) hours of the shipped configuration for SEEDS
# seeds (default 20: seeds 1..20), once with no input and once with a
# scripted visitor MIDI file (tests/tools/visitor_midi.py --seed
# VISITOR_SEED: visits of 1 to 4 minutes every 2 to 20 minutes, button
# presses and knob turns), writing the event log, and checks every log with
# tests/tools/day_check.py in one-hour bins.  Prints one row per render and
# a summary per kind against the targets of the gallery day:
#
#   hour/median  every hour's note count within 0.5x..2x of the median hour
#   range        no walked parameter ever outside its mutation range
#   gap          the longest silence between onsets at most max_gap_ms
#   patterns     at least 6 distinct patterns an hour while idle (scaled by
#                the share of the hour spent idle when visitors come)
#   scale        every note in the active scale
#   cpu          10 h of events in under 1 s of CPU (the render loop's own
#                figure, log writing included)
#
# Builds nothing: it runs $ME_BIN (default ./mystery-engine); use a build
# without sanitizers for CPU figures worth quoting.  Exit status 0 when
# every render met every target.
#
#   ME_BIN=./mystery-engine SEEDS=20 HOURS=10 bench/day.sh
set -euo pipefail

bin=${ME_BIN:-./mystery-engine}
seeds=${SEEDS:-20}
hours=${HOURS:-10}
vseed=${VISITOR_SEED:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
conf="$here/conf/mystery-engine.conf"

[ -x "$bin" ] || { echo "day: no executable at $bin (set ME_BIN)" >&2; exit 1; }
[ -x "$py" ] || { echo "day: needs /usr/bin/python3" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" --check-config -c "$conf" >"$work/effective.conf"
"$py" "$here/tests/tools/visitor_midi.py" "$work/visitors.mid" --hours "$hours" --seed "$vseed"
seconds=$(awk -v h="$hours" 'BEGIN { printf "%d", h * 3600 }')

printf '%-9s %4s %7s %7s %7s %6s %6s %5s %5s %6s %5s %6s %7s\n' kind seed notes/h lo/med \
	hi/med gap_s range idle pat/h follow scale cpu_s result
fails=0
for kind in none visitors; do
	input=()
	[ "$kind" = visitors ] && input=(--input "$work/visitors.mid")
	for seed in $(seq 1 "$seeds"); do
		log="$work/events.jsonl"
		"$bin" render -c "$conf" --seconds "$seconds" --seed "$seed" "${input[@]}" \
			--events "$log" >/dev/null 2>"$work/err" || {
			echo "day: render of seed $seed ($kind) failed:" >&2
			cat "$work/err" >&2
			exit 1
		}
		cpu=$(sed -n 's/.* of music in \([0-9.]*\) s of CPU.*/\1/p' "$work/err")
		rc=0
		"$py" "$here/tests/tools/day_check.py" "$log" --config "$work/effective.conf" \
			--bin-s 3600 --min-patterns 6 --json >"$work/check" || rc=$?
		fig=$(tail -n 1 "$work/check")
		"$py" - "$kind" "$seed" "$cpu" "$rc" "$fig" <<'EOF' | tee -a "$work/rows"
import json, sys
kind, seed, cpu, rc, fig = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
ok = rc == 0 and cpu < 1.0
print("%-9s %4s %7.0f %7.2f %7.2f %6.2f %6d %5.2f %5s %6.3f %5d %6.3f %7s" % (
    kind, seed, fig["notes_median"], fig["ratio_lo"], fig["ratio_hi"], fig["longest_gap"],
    fig["range_violations"], fig["idle_share"], fig["patterns_min"], fig["follow_min"],
    fig["out_of_scale"], cpu, "ok" if ok else "FAILED"))
EOF
		[ "$rc" -eq 0 ] || { fails=$((fails + 1)); sed '$d' "$work/check" | head -n 5 >&2; }
		rm -f "$log"
	done
done

"$py" - "$work/rows" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
print()
print("summary (%s, worst over seeds):" % "targets: 0.5 <= lo/med, hi/med <= 2, gap <= 10 s, "
      "range 0, >= 6 patterns an idle hour, scale 0, cpu < 1 s")
for kind in ("none", "visitors"):
    r = [x for x in rows if x[0] == kind]
    if not r:
        continue
    pats = [int(x[8]) for x in r if x[8] != "None"]
    print("  %-9s %2d renders: lo/med >= %.2f, hi/med <= %.2f, gap <= %.2f s, %d range "
          "violations, patterns/h >= %s, follow >= %.3f, %d notes out of scale, cpu <= %.3f s, "
          "%d failed" % (kind, len(r), min(float(x[3]) for x in r), max(float(x[4]) for x in r),
                         max(float(x[5]) for x in r), sum(int(x[6]) for x in r),
                         min(pats) if pats else "-", min(float(x[9]) for x in r),
                         sum(int(x[10]) for x in r), max(float(x[11]) for x in r),
                         sum(1 for x in r if x[12] != "ok")))
EOF
[ "$fails" -eq 0 ]
