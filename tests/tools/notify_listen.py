#!/usr/bin/env python3
"""A stand-in for systemd's notification socket.

  notify_listen.py SOCKET OUT

Binds a Unix datagram socket at SOCKET (mode 0777, so an engine running as
another user can send to it) and appends every message it receives to OUT,
one line per message: CLOCK_MONOTONIC seconds, then the message with its
newlines as spaces ("12.345678 READY=1 STATUS=playing").  Runs until killed.
Python 3 standard library only.
"""
import os
import socket
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o777)
    with open(out, "a", buffering=1) as f:
        while True:
            data = s.recv(4096)
            f.write("%.6f %s\n" % (time.monotonic(), data.decode(errors="replace").replace("\n", " ").strip()))


if __name__ == "__main__":
    main()
