#!/usr/bin/env python3
"""pty_midi_cmd: a MIDI port on a pseudo-terminal that plays what it is told.

    pty_midi_cmd.py LINK < COMMANDS

Opens a pty in raw mode and links LINK to its device, then reads lines from
standard input and writes each as MIDI bytes into the pty:
    cc NUMBER VALUE [CHANNEL]      a control change (channel 1..16, default 1)
until its input ends or SIGTERM.  LINK is removed on exit.
"""
import os
import signal
import sys
import tty

link = sys.argv[1]
master, slave = os.openpty()
tty.setraw(slave)
if os.path.lexists(link):
    os.unlink(link)
os.symlink(os.ttyname(slave), link)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
try:
    for line in sys.stdin:
        w = line.split()
        if len(w) >= 3 and w[0] == "cc":
            ch = int(w[3]) if len(w) > 3 else 1
            os.write(master, bytes([0xB0 | (ch - 1), int(w[1]) & 0x7F, int(w[2]) & 0x7F]))
finally:
    if os.path.lexists(link):
        os.unlink(link)
