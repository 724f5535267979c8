#!/usr/bin/env python3
"""http_garbage: sends N malformed HTTP requests to 127.0.0.1:PORT.

    http_garbage.py PORT [N]     (N defaults to 1000)

Bad methods, oversized headers, bodies and URLs, wrong lengths, broken
chunking and random bytes, each on its own connection; exits 0 once all are
sent (whatever the server answered), 1 if the server stopped accepting.
"""
import random
import socket
import sys

port = int(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
rnd = random.Random(count)
kinds = [
    lambda: b"BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n",
    lambda: b"GET /state HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n",
    lambda: (b"POST /params/tempo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"
             + b"1" * 5000),
    lambda: b"POST /params/tempo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd",
    lambda: bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 600))),
    lambda: b"GET " + b"/" * 20000 + b" HTTP/1.1\r\n\r\n",
    lambda: b"GET /state HTTP/1.1\r\n" + b"H: v\r\n" * 5000 + b"\r\n",
    lambda: b"\x00\xff\r\n\r\n",
    lambda: b"GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    lambda: b"POST /params/tempo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    lambda: b"POST /presets/../../etc/passwd/load HTTP/1.1\r\nHost: x\r\n\r\n",
    lambda: b"GET /state HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
]
garbage = (4, 7, 11)    # no complete request to answer: send and hang up
refused = 0
for i in range(count):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
    except OSError:
        refused += 1
        continue
    try:
        s.sendall(kinds[i % len(kinds)]())
        if i % len(kinds) not in garbage:
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
    except OSError:
        pass    # the server may close first: that is an answer too
    finally:
        s.close()
if refused:
    print("http_garbage: %d of %d connections refused" % (refused, count), file=sys.stderr)
    sys.exit(1)
