#!/usr/bin/env python3
"""midi_pty: MIDI gear on pseudo-terminals for the MIDI out and clock tests.

  midi_pty.py listen LINK LOG
      Creates a pty in raw mode, links LINK to its device side (what the
      engine opens with --midi-out raw:LINK) and writes one line per byte
      read to LOG: "MONO_NS HEX", MONO_NS being CLOCK_MONOTONIC right after
      the read() that returned it.  Runs until SIGTERM or SIGINT.

  midi_pty.py clock LINK [--bpm B] [--seconds S] [--jitter-ms J] [--seed R]
                         [--start] [--bpm2 B2 --at T] [--stop-at T]
                         [--continue-at T] [--gap-at T --gap S] [--hold S]
      Creates a pty linked at LINK (for --midi-in raw:LINK), waits until the
      engine opens it, then plays a MIDI clock: Start first with --start, a
      clock byte every 1/(24 B/60) s with a uniform random delay of +-J ms
      around its ideal time (seeded), B2 from T seconds on, Stop at T,
      Continue at T, silence for S seconds at T.  Prints one line per byte
      written: "KIND IDEAL_NS SENT_NS" (KIND clock, start, stop, continue),
      both CLOCK_MONOTONIC.  Holds the pty open --hold seconds at the end
      (default 1).

Python 3 standard library only.
"""
import argparse
import os
import random
import select
import signal
import sys
import time
import tty


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def make_pty(link):
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.ttyname(slave), link)
    os.close(slave)
    return master


def listen(args):
    master = make_pty(args.link)
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(args.log, "w", buffering=1) as log:
        poller = select.poll()
        poller.register(master, select.POLLIN)
        while running[0]:
            try:
                ev = poller.poll(100)
            except InterruptedError:
                continue
            if not ev:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                time.sleep(0.01)	# nobody has the device side open yet
                continue
            t = mono_ns()
            log.write("".join("%d %02x\n" % (t, b) for b in data))
    os.unlink(args.link)
    return 0


def sleep_until(t_ns):
    """Sleeps to 0.5 ms before t_ns, then spins: sub-0.1 ms accuracy."""
    while True:
        left = t_ns - mono_ns()
        if left <= 0:
            return
        if left > 600000:
            time.sleep((left - 500000) / 1e9)


def wait_opened(master, limit_s=10):
    """The master reports POLLHUP until the device side is opened."""
    p = select.poll()
    p.register(master, select.POLLHUP)
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if not p.poll(0):
            return True
        time.sleep(0.02)
    return False


def clock(args):
    master = make_pty(args.link)
    if not wait_opened(master):
        print("error the engine never opened %s" % args.link, flush=True)
        return 1
    time.sleep(args.settle)
    rng = random.Random(args.seed)
    t0 = mono_ns() + 50000000
    out = sys.stdout

    def send(kind, b, ideal):
        sent_at = ideal + int(rng.uniform(-1, 1) * args.jitter_ms * 1e6) if kind == "clock" \
            else ideal
        sleep_until(sent_at)
        os.write(master, bytes([b]))
        out.write("%s %d %d\n" % (kind, ideal, mono_ns()))

    events = []		# (seconds, kind)
    if args.stop_at is not None:
        events.append((args.stop_at, "stop"))
    if args.continue_at is not None:
        events.append((args.continue_at, "continue"))
    events.sort()
    if args.start:
        send("start", 0xfa, t0 - 1000000)
    ideal = t0
    end = t0 + int(args.seconds * 1e9)
    gap_from = t0 + int(args.gap_at * 1e9) if args.gap_at is not None else None
    while ideal < end:
        s = (ideal - t0) / 1e9
        while events and events[0][0] <= s:
            kind = events.pop(0)[1]
            send(kind, 0xfc if kind == "stop" else 0xfb, ideal - 1000000)
        if gap_from is not None and ideal >= gap_from:
            ideal += int(args.gap * 1e9)
            gap_from = None
            continue
        send("clock", 0xf8, ideal)
        bpm = args.bpm2 if args.bpm2 and args.at is not None and s >= args.at else args.bpm
        ideal += int(round(60e9 / (24 * bpm)))
    out.flush()
    time.sleep(args.hold)
    os.unlink(args.link)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    li = sub.add_parser("listen")
    li.add_argument("link")
    li.add_argument("log")
    cl = sub.add_parser("clock")
    cl.add_argument("link")
    cl.add_argument("--bpm", type=float, default=120)
    cl.add_argument("--seconds", type=float, default=5)
    cl.add_argument("--jitter-ms", type=float, default=0)
    cl.add_argument("--seed", type=int, default=1)
    cl.add_argument("--start", action="store_true")
    cl.add_argument("--bpm2", type=float)
    cl.add_argument("--at", type=float)
    cl.add_argument("--stop-at", type=float)
    cl.add_argument("--continue-at", type=float)
    cl.add_argument("--gap-at", type=float)
    cl.add_argument("--gap", type=float, default=0)
    cl.add_argument("--hold", type=float, default=1)
    cl.add_argument("--settle", type=float, default=0.3)
    args = ap.parse_args()
    return listen(args) if args.cmd == "listen" else clock(args)


if __name__ == "__main__":
    sys.exit(main())
