#!/bin/bash
# The console of the real program shows the sound card: a named USB
# interface that is not plugged in is "card CODEC missing", the help (F1)
# lists the cards seen; once the interface appears the header shows
# "card CODEC".  The cards come from a fake /proc/asound
# (MYSTERY_ENGINE_ASOUND) modelled on Raspberry Pi OS 12.
. "$(dirname "$0")/tui_lib.sh"
. "$top_srcdir/tests/lib/audio.sh"
: "${ME_BIN:?}"
command -v jackd >/dev/null || fail "jackd not found: install the Debian package jackd2"
fixtures=$top_srcdir/tests/fixtures/asound
mkdir "$work/asound" "$work/home"
cp "$fixtures/rpios-bookworm/cards" "$fixtures/rpios-bookworm/pcm" "$work/asound/"
port=$(audio_free_port) || fail "no free UDP port"
jack=me-cardtui-$$-$RANDOM

tui_start "HOME=$work/home XDG_CONFIG_HOME=$work/home MYSTERY_ENGINE_ASOUND=$work/asound" \
	"LANG=C.UTF-8 TERM=xterm-256color $ME_BIN --midi-in none --led none --http off" \
	"--set 'synth.jack_driver=\"alsa\"' --set 'synth.audio_device=\"CODEC\"'" \
	"--set 'synth.jack_name=\"$jack\"' --set synth.port=$port 2>$work/err"
tui_size 120 30
tui_wait 'card CODEC missing' 20
tui_keys F1
tui_wait 'sound cards: 0 vc4hdmi0 \(hdmi\), 1 vc4hdmi1 \(hdmi\),'
tui_wait '│ +2 Headphones \(headphones\) '
tui_keys Escape

cp "$fixtures/usb-teensy/cards" "$fixtures/usb-teensy/pcm" "$work/asound/"
tui_wait 'card CODEC  ' 25
tui_gone 'card CODEC missing' 2
tui_quit
pgrep -f "jackd -n $jack " >/dev/null && fail "jackd was left running"
echo "audio_card_console: ok"
