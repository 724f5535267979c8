#!/usr/bin/env python3
"""pty_feed: a pseudo-terminal standing in for a MIDI device, for the tests.

    pty_feed.py LINK [--hold SECONDS]

Creates a pty, puts it in raw mode (no echo, no line editing, no CR/LF
rewriting), makes LINK a symbolic link to its device path (what the program
opens as --midi-in raw:LINK), then writes each line read from stdin to it as
bytes given in hex ("b0 14 7f" is CC 20 = 127 on channel 1).  Lines starting
with '#' are ignored; "sleep S" waits S seconds.  At the end of stdin it keeps
the pty open for --hold seconds (default: until killed), so the reader never
sees the device vanish mid-test.  Exit status 0, 1 on a bad line or LINK.
"""
import os
import sys
import time
import tty


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--hold"):
        print("usage: pty_feed.py LINK [--hold SECONDS]", file=sys.stderr)
        return 1
    link = argv[1]
    hold = float(argv[3]) if len(argv) == 4 else None
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    path = os.ttyname(slave)
    try:
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(path, link)
    except OSError as e:
        print(f"pty_feed: cannot link {link} to {path}: {e.strerror}", file=sys.stderr)
        return 1
    for n, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("sleep "):
            time.sleep(float(line.split()[1]))
            continue
        try:
            data = bytes(int(b, 16) for b in line.split())
        except ValueError:
            print(f"pty_feed: stdin line {n}: not hex bytes: {line!r}", file=sys.stderr)
            return 1
        os.write(master, data)
    if hold is None:
        while True:
            time.sleep(3600)
    time.sleep(hold)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(0)
