#!/usr/bin/env python3
"""Sends one OSC message to a server on 127.0.0.1 and prints the replies.

  osc_ask.py PORT PATH [TYPES ARG...] [--wait S]

TYPES is the OSC type string without the comma (i int32, f float32, s
string), one character per ARG.  Prints every reply that arrives within
--wait seconds (default 0.5), one per line: its path, then its arguments
(floats with 6 significant digits).  Exits 1 when nothing came back.
Python 3 standard library only.
"""
import argparse
import socket
import struct
import sys
import time


def pad(b):
    return b + b"\0" * (4 - len(b) % 4)


def message(path, types, args):
    data = pad(path.encode()) + pad(("," + types).encode())
    for t, a in zip(types, args):
        if t == "i":
            data += struct.pack(">i", int(a))
        elif t == "f":
            data += struct.pack(">f", float(a))
        elif t == "s":
            data += pad(a.encode())
        else:
            raise SystemExit("osc_ask: type %s not supported" % t)
    return data


def parse(b):
    def rstr(i):
        e = b.index(b"\0", i)
        return b[i:e].decode(errors="replace"), (e + 4) & ~3
    path, i = rstr(0)
    tags, i = rstr(i)
    out = [path]
    for t in tags[1:]:
        if t == "i":
            out.append(str(struct.unpack(">i", b[i:i + 4])[0]))
            i += 4
        elif t == "f":
            out.append("%.6g" % struct.unpack(">f", b[i:i + 4])[0])
            i += 4
        elif t == "d":
            out.append("%.6g" % struct.unpack(">d", b[i:i + 8])[0])
            i += 8
        elif t == "s":
            s, i = rstr(i)
            out.append(s.strip())
        else:
            out.append("?")
            break
    return " ".join(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("path")
    p.add_argument("types", nargs="?", default="")
    p.add_argument("args", nargs="*")
    p.add_argument("--wait", type=float, default=0.5)
    a = p.parse_args()
    if len(a.types) != len(a.args):
        raise SystemExit("osc_ask: %d types for %d arguments" % (len(a.types), len(a.args)))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(message(a.path, a.types, a.args), ("127.0.0.1", a.port))
    end = time.monotonic() + a.wait
    n = 0
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            print(parse(s.recv(65536)), flush=True)
            n += 1
        except socket.timeout:
            break
    sys.exit(0 if n else 1)


if __name__ == "__main__":
    main()
