#!/bin/bash
# The sound card as an operator meets it, on the card lists of real
# Raspberry Pi images (tests/fixtures/asound, given through
# MYSTERY_ENGINE_ASOUND instead of /proc/asound):
#  - --list-audio shows every card with its kind, marks auto's choice (never
#    HDMI) and prints the device synth.audio_device chooses; status 1 when
#    there is nothing to play on;
#  - a bad synth.audio_device is a configuration error naming the key;
#  - the running program with a named USB interface that is not plugged in:
#    a clear error, no jackd on another card, still running; once the
#    interface appears, jackd is started on it (hw:CARD=CODEC).
set -euo pipefail
: "${ME_BIN:?}" "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/audio.sh"
work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HOME="$work" XDG_CONFIG_HOME="$work"
fixtures=$top_srcdir/tests/fixtures/asound

list() {	# list IMAGE [--set ...]: --list-audio on that image; rc, out
	local img=$1
	shift
	rc=0
	MYSTERY_ENGINE_ASOUND=$fixtures/$img "$ME_BIN" --list-audio "$@" >"$work/out" 2>"$work/err" || rc=$?
}

list rpios-bookworm
[ "$rc" -eq 0 ] || fail "--list-audio exited $rc: $(cat "$work/err")"
grep -qx ' 0  vc4hdmi0         hdmi        vc4-hdmi-0  (only when named)' "$work/out" ||
	fail "card 0 (HDMI) is not shown as such: $(cat "$work/out")"
grep -qx ' 2  Headphones       headphones  bcm2835 Headphones  <- auto' "$work/out" ||
	fail "auto does not take the headphone jack: $(cat "$work/out")"
[ "$(tail -n 1 "$work/out")" = 'synth.audio_device "auto": hw:CARD=Headphones (bcm2835 Headphones)' ] ||
	fail "the choice line: $(tail -n 1 "$work/out")"

list debian-raspi
[ "$(tail -n 1 "$work/out")" = 'synth.audio_device "auto": hw:CARD=ALSA (bcm2835 ALSA)' ] ||
	fail "Debian's image: $(tail -n 1 "$work/out")"
list usb-teensy
grep -q ' 3  CODEC .* <- auto$' "$work/out" || fail "the USB interface is not auto's choice: $(cat "$work/out")"
grep -q 'Teensy MIDI (no playback)$' "$work/out" || fail "the Teensy is not marked: $(cat "$work/out")"
list rpios-bookworm --set 'synth.audio_device="vc4hdmi0"'
[ "$rc" -eq 0 ] && tail -n 1 "$work/out" | grep -q ': hw:CARD=vc4hdmi0 ' ||
	fail "HDMI asked by name: rc $rc, $(tail -n 1 "$work/out")"
list hdmi-only
[ "$rc" -eq 1 ] || fail "HDMI only: exited $rc, expected 1"
grep -q 'no sound card to play on' "$work/out" || fail "HDMI only: $(cat "$work/out")"
list rpios-bookworm --set 'synth.audio_device="CODEC"'
[ "$rc" -eq 1 ] && grep -q '"CODEC": no such sound card now' "$work/out" ||
	fail "an absent card: rc $rc, $(cat "$work/out")"
rc=0
MYSTERY_ENGINE_ASOUND=$work/nowhere "$ME_BIN" --list-audio >"$work/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot read $work/nowhere/cards" "$work/out" ||
	fail "no card list: rc $rc, $(cat "$work/out")"

rc=0
"$ME_BIN" --check-config --set 'synth.audio_device="hw:99"' >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -eq 78 ] || fail "a bad synth.audio_device exited $rc, expected 78"
grep -q 'synth.audio_device' "$work/err" && grep -q 'hw:CARD=ID' "$work/err" ||
	fail "the error does not name the key and its forms: $(cat "$work/err")"
"$ME_BIN" --check-config >"$work/out"
grep -q 'audio_device = "auto";' "$work/out" || fail "--check-config lacks audio_device"

# The running program, waiting for a USB interface.
command -v jackd >/dev/null || fail "jackd not found: install the Debian package jackd2"
jack=me-card-$$-$RANDOM
port=$(audio_free_port) || fail "no free UDP port"
hport=$(audio_free_port) || fail "no free port"
mkdir "$work/asound"
cp "$fixtures/rpios-bookworm/cards" "$fixtures/rpios-bookworm/pcm" "$work/asound/"
MYSTERY_ENGINE_ASOUND=$work/asound "$ME_BIN" --daemon --midi-in none --led none --http "127.0.0.1:$hport" \
	--set 'synth.jack_driver="alsa"' --set 'synth.audio_device="CODEC"' \
	--set "synth.jack_name=\"$jack\"" --set "synth.port=$port" 2>"$work/log" &
pid=$!

wait_log() {	# wait_log PATTERN SECONDS
	local i
	for i in $(seq 1 $(($2 * 10))); do
		grep -q "$1" "$work/log" && return 0
		kill -0 "$pid" 2>/dev/null || fail "the program ended: $(tail -n 5 "$work/log")"
		sleep 0.1
	done
	return 1
}
wait_log '"event":"audio_card".*sound card \\"CODEC\\": no such sound card now; cards: 0 vc4hdmi0 (hdmi), 1 vc4hdmi1 (hdmi), 2 Headphones (headphones); retrying' 10 ||
	fail "no clear error for the absent card: $(grep audio_card "$work/log" || tail -n 5 "$work/log")"
sleep 2
pgrep -f "jackd -n $jack " >/dev/null && fail "jackd started although its card is absent"
grep -q '"event":"synth.jack".*started jackd' "$work/log" && fail "jackd started on another card"
[ "$(grep -c '"event":"audio_card"' "$work/log")" -eq 1 ] ||
	fail "the absent card is logged at every retry: $(grep -c audio_card "$work/log") lines"
state() {	# the sound card in GET /state
	curl -s "http://127.0.0.1:$hport/state" | /usr/bin/python3 -c \
		'import json, sys; c = json.load(sys.stdin)["links"]["sound_card"]; print(c["state"], c["card"], c["seen"], sep="|")'
}
# (the API answers once the start-up has waited its 10 s for the audio stack)
for i in $(seq 1 150); do
	[ -n "$(state 2>/dev/null)" ] && break
	sleep 0.1
done
[ "$(state)" = 'missing|CODEC|0 vc4hdmi0 (hdmi), 1 vc4hdmi1 (hdmi), 2 Headphones (headphones)' ] ||
	fail "/state: $(state)"

# The interface is plugged in.
cp "$fixtures/usb-teensy/cards" "$fixtures/usb-teensy/pcm" "$work/asound/"
wait_log '"event":"audio_card".*sound card hw:CARD=CODEC: usb' 25 ||
	fail "the card plugged in was not taken: $(grep audio_card "$work/log")"
wait_log "started jackd '$jack' with the ALSA driver on hw:CARD=CODEC" 5 ||
	fail "jackd was not started on the card: $(grep synth.jack "$work/log")"
for i in $(seq 1 20); do
	[ "$(state | cut -d'|' -f1-2)" = 'chosen|CODEC' ] && break
	sleep 0.1
done
[ "$(state | cut -d'|' -f1-2)" = 'chosen|CODEC' ] || fail "/state after the plug: $(state)"

kill -TERM "$pid"
for i in $(seq 1 50); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "the program did not stop within 5 s of SIGTERM"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" -eq 0 ] || fail "the program exited $rc after SIGTERM"
pgrep -f "jackd -n $jack " >/dev/null && fail "jackd was left running"
echo "audio_card: ok"
