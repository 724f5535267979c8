#!/usr/bin/env python3
"""pty_midi: a stand-in for the Teensy's MIDI port on a pseudo-terminal.

    pty_midi.py LINK [PERIOD_MS]

Opens a pty in raw mode, links LINK to its device, and plays into it until
SIGTERM: every PERIOD_MS (default 30) a note-on, its note-off and a CC 74
sweep on channel 1.  Bytes the reader does not take are dropped rather than
blocking.  LINK is removed on exit.
"""
import errno
import os
import signal
import sys
import time
import tty

link = sys.argv[1]
period = (int(sys.argv[2]) if len(sys.argv) > 2 else 30) / 1000.0
master, slave = os.openpty()
tty.setraw(slave)
os.set_blocking(master, False)
if os.path.lexists(link):
    os.unlink(link)
os.symlink(os.ttyname(slave), link)
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
i = 0
while running:
    note = 60 + i % 12
    msg = bytes([0x90, note, 100, 0x80, note, 0, 0xB0, 74, (i * 5) % 128])
    try:
        os.write(master, msg)
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EIO):
            raise
    # Drain what the engine might send back, so the pty never fills.
    try:
        os.read(master, 4096)
    except OSError:
        pass
    i += 1
    time.sleep(period)
if os.path.lexists(link):
    os.unlink(link)
