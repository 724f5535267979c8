#!/usr/bin/python3
"""udp_listen.py PORT_FILE OUT_FILE [--hex]: binds a UDP socket on an
ephemeral port of 127.0.0.1, writes the port to PORT_FILE (atomically, so a
reader never sees half of it), then writes each datagram as one line of
OUT_FILE (as text, or as hex with --hex) until SIGTERM."""
import os
import signal
import socket
import sys

signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
port_file, out_file = sys.argv[1], sys.argv[2]
as_hex = "--hex" in sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(out_file, "w") as out:
    with open(port_file + ".new", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.replace(port_file + ".new", port_file)
    while True:
        data = s.recv(65536)
        out.write((data.hex() if as_hex else data.decode("utf-8", "replace")) + "\n")
        out.flush()
