#!/usr/bin/python3
"""osc_surface: a stand-in OSC control surface (a TouchOSC tablet) for tests.

    osc_surface.py [--bind ADDR] [--listen S] [--gap MS] HOST:PORT [MESSAGE ...]

Each MESSAGE starts with an OSC address and is followed by its arguments,
each TYPE:VALUE with TYPE f (float32), i (int32) or s (string):

    osc_surface.py --listen 1 127.0.0.1:8000 /mystery/param/tempo f:100 /mystery/pause i:1

The messages are sent from one UDP socket bound to ADDR (default
127.0.0.1; any 127.x.y.z works on Linux, so a test can be "another host"),
GAP ms apart (default 0), and everything that comes back to that socket
within S seconds of the last one is printed, one message a line:
`T ADDRESS ARG...` (T: seconds since the first send, floats with %.6g).
A message of the form `#burst N ADDRESS TYPE:A TYPE:B` sends N messages
whose value goes from A to B.  A hand-written OSC encoder and decoder
(OSC 1.0: messages and bundles, types i f s d h T F), no dependency.
"""
import socket
import struct
import sys
import time


def pad(b):
    return b + b"\0" * (4 - len(b) % 4)


def encode(address, args):
    types = ","
    data = b""
    for t, v in args:
        types += t
        if t == "f":
            data += struct.pack(">f", float(v))
        elif t == "i":
            data += struct.pack(">i", int(v))
        elif t == "s":
            data += pad(v.encode())
        else:
            raise SystemExit("osc_surface: unknown type %r" % t)
    return pad(address.encode()) + pad(types.encode()) + data


def read_str(b, off):
    end = b.index(b"\0", off)
    s = b[off:end].decode(errors="replace")
    return s, (end + 4) & ~3


def decode(b, out):
    if b.startswith(b"#bundle\0"):
        off = 16
        while off + 4 <= len(b):
            (n,) = struct.unpack(">i", b[off:off + 4])
            decode(b[off + 4:off + 4 + n], out)
            off += 4 + n
        return
    address, off = read_str(b, 0)
    types, off = read_str(b, off)
    args = []
    for t in types[1:]:
        if t == "i":
            args.append(str(struct.unpack(">i", b[off:off + 4])[0]))
            off += 4
        elif t == "f":
            args.append("%.6g" % struct.unpack(">f", b[off:off + 4])[0])
            off += 4
        elif t == "d":
            args.append("%.9g" % struct.unpack(">d", b[off:off + 8])[0])
            off += 8
        elif t == "h":
            args.append(str(struct.unpack(">q", b[off:off + 8])[0]))
            off += 8
        elif t == "s":
            s, off = read_str(b, off)
            args.append(s.replace("\n", " "))
        elif t in "TF":
            args.append("1" if t == "T" else "0")
    out.append((address, args))


def parse_messages(argv):
    msgs = []
    i = 0
    while i < len(argv):
        if argv[i] == "#burst":
            n, address = int(argv[i + 1]), argv[i + 2]
            (t, a), (_, z) = (x.split(":", 1) for x in argv[i + 3:i + 5])
            for k in range(n):
                v = float(a) + (float(z) - float(a)) * k / max(n - 1, 1)
                msgs.append(encode(address, [(t, v)]))
            i += 5
            continue
        address = argv[i]
        if not address.startswith("/"):
            raise SystemExit("osc_surface: %r is not an OSC address" % address)
        i += 1
        args = []
        while i < len(argv) and not argv[i].startswith("/") and argv[i] != "#burst":
            t, v = argv[i].split(":", 1)
            args.append((t, v))
            i += 1
        msgs.append(encode(address, args))
    return msgs


def main():
    argv = sys.argv[1:]
    bind, listen, gap = "127.0.0.1", 1.0, 0.0
    while argv and argv[0].startswith("--"):
        opt, val = argv[0], argv[1]
        argv = argv[2:]
        if opt == "--bind":
            bind = val
        elif opt == "--listen":
            listen = float(val)
        elif opt == "--gap":
            gap = float(val) / 1000
        else:
            raise SystemExit("osc_surface: unknown option " + opt)
    if not argv:
        raise SystemExit(__doc__)
    host, port = argv[0].rsplit(":", 1)
    msgs = parse_messages(argv[1:])
    fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((bind, 0))
    t0 = time.monotonic()
    for m in msgs:
        s.sendto(m, (host, int(port)))
        if gap:
            time.sleep(gap)
    end = time.monotonic() + listen
    got = []
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b, _ = s.recvfrom(65536)
        except socket.timeout:
            break
        except ConnectionRefusedError:
            continue
        t = time.monotonic() - t0
        out = []
        decode(b, out)
        for address, args in out:
            print("%.3f %s %s" % (t, address, " ".join(args)), flush=True)


if __name__ == "__main__":
    main()
