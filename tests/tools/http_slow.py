#!/usr/bin/python3
"""http_slow: slow HTTP clients against 127.0.0.1:PORT, and an operator's
requests timed while they are connected.

    http_slow.py PORT N SECONDS [--interval S] [--probe PATH]... [--probes K]

Keeps N connections open for SECONDS, each sending a request one byte every
S seconds (default 2) and never finishing it; a connection the server closes
is opened again at once, as an attacker would.  Meanwhile, once all N are
connected, it sends K (default 20) complete GET PATH requests (default
/state) on fresh connections, one every SECONDS / (K + 2), and times each;
with --probe given more than once, the probes take the paths in turn.
Prints one line of figures:

    slow N held H reconnects R answered A probes K ok O p50_ms X p95_ms Y max_ms Z

(H: connections open at the end; A: slow connections that got an answer,
which must stay 0 since none sent a whole request).  Exit status 0 when
every probe got 200, 1 otherwise.
"""
import argparse
import selectors
import socket
import sys
import time

TRICKLE = b"GET /state HTTP/1.1\r\nHost: slow\r\n" + b"X-Slow: " + b"z" * 4096


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('port', type=int)
    ap.add_argument('n', type=int)
    ap.add_argument('seconds', type=float)
    ap.add_argument('--interval', type=float, default=2.0)
    ap.add_argument('--probe', action='append')
    ap.add_argument('--probes', type=int, default=20)
    a = ap.parse_args()
    paths = a.probe or ['/state']
    sel = selectors.DefaultSelector()
    conns = {}          # socket -> [bytes sent, next send time]
    reconnects = answered = 0

    def open_one():
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(('127.0.0.1', a.port))
        conns[s] = [0, time.monotonic()]
        sel.register(s, selectors.EVENT_READ)

    def drop(s):
        sel.unregister(s)
        del conns[s]
        s.close()

    for _ in range(a.n):
        open_one()
    t_end = time.monotonic() + a.seconds
    probe_every = a.seconds / (a.probes + 2)
    next_probe = time.monotonic() + probe_every
    times, ok = [], 0
    while time.monotonic() < t_end:
        now = time.monotonic()
        for s, st in list(conns.items()):
            if now >= st[1] and st[0] < len(TRICKLE):
                try:
                    st[0] += s.send(TRICKLE[st[0]:st[0] + 1])
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    drop(s)
                    reconnects += 1
                    open_one()
                    continue
                st[1] = now + a.interval
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b''
            if data:
                answered += 1
            drop(s)
            reconnects += 1
            open_one()
        if now >= next_probe and len(times) < a.probes:
            next_probe = max(next_probe + probe_every, now)  # a fixed cadence: all K fit
            path = paths[len(times) % len(paths)]
            t0 = time.monotonic()
            code = probe(a.port, path)
            times.append((time.monotonic() - t0) * 1000)
            ok += code == 200
            if code != 200:
                print(f"probe {len(times)}: {path} answered {code}", file=sys.stderr)
    held = len(conns)
    for s in list(conns):
        drop(s)
    times.sort()
    pct = (lambda q: times[min(len(times) - 1, int(q * len(times)))]) if times else (lambda q: -1)
    print(f"slow {a.n} held {held} reconnects {reconnects} answered {answered} "
          f"probes {len(times)} ok {ok} p50_ms {pct(0.5):.1f} p95_ms {pct(0.95):.1f} "
          f"max_ms {times[-1] if times else -1:.1f}")
    return 0 if times and ok == len(times) else 1


def probe(port, path):
    """One whole GET on a fresh connection; its status, 0 on failure."""
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            head = b''
            while b'\r\n' not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
            while s.recv(65536):
                pass
            parts = head.split(b' ', 2)
            return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    except OSError:
        return 0


if __name__ == '__main__':
    sys.exit(main())
