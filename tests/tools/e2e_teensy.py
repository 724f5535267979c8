#!/usr/bin/env python3
"""A stand-in Teensy for mystery-engine's end-to-end tests and benches.

  e2e_teensy.py [--midi LINK] [--led LINK --led-out FILE]

--midi LINK creates a pty pair whose device side (the slave, what the engine
opens with --midi-in raw:LINK) is reached through the symlink LINK; this
program keeps the other side and writes MIDI bytes into it.  --led LINK
creates a second pair for --led serial:LINK and copies every byte the engine
writes there to FILE (raw, as it arrives), from a background thread; decode
it with tests/tools/cue_dump.  Both device sides are put in raw mode (the
flags cfmakeraw sets), so no byte is eaten or rewritten by the line
discipline.

Commands, one per line on standard input (a FIFO in the tests):

  cc CH NUM VAL          control change (CH 1..16)
  on CH NOTE VEL         note on
  off CH NOTE            note off
  hex B1 B2 ...          raw bytes, in hexadecimal
  random N SEED          N bytes from a generator seeded with SEED
  sleep S                wait S seconds
  close                  close the MIDI pty and remove LINK (unplugged)
  open                   create a new MIDI pty at LINK (plugged back in)
  wait_connected [S]     wait (up to S s, default 10) until the engine has
                         the device side open
  script FILE            play FILE: lines "SECONDS cc|on|off|hex ...", SECONDS
                         counted from the start of the script
  flood S RATE NOTE_MS N1,N2,...
                         RATE control changes per second for S seconds, round
                         robin over the controllers N1..., each value moving
                         by its own stride, plus a note on (60 + k mod 12,
                         velocity 100) every NOTE_MS ms
  quit                   close everything and exit (so does end of input)

Each command answers one line on standard output, flushed; times are
CLOCK_MONOTONIC seconds: t= right after write() returned, w= right
before it was called:

  open PTS | closed T wall=UNIX_TIME | connected MS | timeout |
  sent KIND ARGS t=T w=T | random N bytes t=T | slept S |
  script N messages t0=T t1=T | flood_done cc=N notes=M seconds=S | bye

`script` also prints "sent ..." per message; `flood` prints
"flood_note NOTE t=T w=T" per note on and, before flood_done, "flood_last NUM
VAL" per controller.  A bad command answers "error MESSAGE" and the program
goes on.  Python 3 standard library only.
"""
import argparse
import os
import random
import select
import sys
import termios
import threading
import time


def make_raw(fd):
    """The flags cfmakeraw() sets: 8 bits, no echo, no translation, no signals."""
    a = termios.tcgetattr(fd)
    a[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP |
              termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
    a[1] &= ~termios.OPOST
    a[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG |
              termios.IEXTEN)
    a[2] &= ~(termios.CSIZE | termios.PARENB)
    a[2] |= termios.CS8
    a[6][termios.VMIN] = 1
    a[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, a)


def new_pty(link):
    """A pty pair in raw mode with LINK pointing at its device side.

    Returns (master fd, device path).  The device side is closed again here
    (its settings stay with the pair), so the master reports POLLHUP until
    someone else opens it: that is how wait_connected sees the engine.
    """
    master, slave = os.openpty()
    name = os.ttyname(slave)
    make_raw(slave)
    os.close(slave)
    tmp = link + ".new"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    os.symlink(name, tmp)
    os.replace(tmp, link)
    return master, name


def mono():
    return time.monotonic_ns() / 1e9


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def midi_bytes(words):
    """The bytes of one message command (cc/on/off/hex) and its arguments."""
    kind = words[0]
    nums = words[1:]
    if kind == "hex":
        return bytes(int(w, 16) for w in nums), " ".join(nums)
    need = {"cc": 3, "on": 3, "off": 2}
    if kind not in need or len(nums) != need[kind]:
        raise ValueError("unknown message `%s`" % " ".join(words))
    v = [int(w) for w in nums]
    if not 1 <= v[0] <= 16 or any(not 0 <= x <= 127 for x in v[1:]):
        raise ValueError("out of range: `%s`" % " ".join(words))
    status = {"cc": 0xB0, "on": 0x90, "off": 0x80}[kind] | (v[0] - 1)
    data = v[1:] if kind != "off" else [v[1], 0]
    return bytes([status] + data), " ".join(nums)


class LedReader(threading.Thread):
    """Copies what the engine writes to the LED pty into a file."""

    def __init__(self, master, path):
        super().__init__(daemon=True)
        self.master = master
        self.f = open(path, "wb")
        self.stop = False

    def run(self):
        p = select.poll()
        p.register(self.master, select.POLLIN)
        while not self.stop:
            ev = p.poll(50)
            if not ev:
                continue
            if ev[0][1] & select.POLLIN:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if data:
                    self.f.write(data)
                    self.f.flush()
                    continue
            # nobody has the device side open (yet, or any more)
            time.sleep(0.01)
        self.f.close()


class Teensy:
    def __init__(self, link):
        self.link = link
        self.master = None
        self.opened_at = None
        if self.link:
            self.open()

    def open(self):
        if not self.link:
            raise ValueError("no --midi LINK")
        if self.master is not None:
            os.close(self.master)
        self.master, name = new_pty(self.link)
        self.opened_at = mono()
        return name

    def close(self):
        if self.master is not None:
            os.close(self.master)
            self.master = None
        if self.link:
            try:
                os.unlink(self.link)
            except FileNotFoundError:
                pass

    def need(self):
        if self.master is None:
            raise ValueError("no MIDI pty open")
        return self.master

    def send(self, words):
        data, desc = midi_bytes(words)
        fd = self.need()
        w = mono()
        write_all(fd, data)
        return "sent %s %s t=%.6f w=%.6f" % (words[0], desc, mono(), w)

    def wait_connected(self, limit):
        fd = self.need()
        p = select.poll()
        p.register(fd, select.POLLOUT)
        end = time.monotonic() + limit
        while time.monotonic() < end:
            ev = p.poll(0)
            if ev and not ev[0][1] & select.POLLHUP:
                return "connected %.1f" % ((mono() - self.opened_at) * 1e3)
            time.sleep(0.001)
        return "timeout"

    def script(self, path):
        steps = []
        with open(path) as f:
            for n, line in enumerate(f, 1):
                w = line.split()
                if not w or w[0].startswith("#"):
                    continue
                try:
                    steps.append((float(w[0]), w[1:], midi_bytes(w[1:])[0]))
                except (ValueError, IndexError) as e:
                    raise ValueError("%s:%d: %s" % (path, n, e))
        fd = self.need()
        t0 = mono()
        for at, words, data in steps:
            delay = t0 + at - mono()
            if delay > 0:
                time.sleep(delay)
            write_all(fd, data)
            out("sent %s %s t=%.6f" % (words[0], " ".join(words[1:]), mono()))
        return "script %d messages t0=%.6f t1=%.6f" % (len(steps), t0, mono())

    def flood(self, seconds, rate, note_ms, ccs):
        fd = self.need()
        tick = 0.001
        value = {n: (17 * i) % 128 for i, n in enumerate(ccs)}
        stride = {n: 1 + 2 * i for i, n in enumerate(ccs)}
        sent = notes = 0
        k = 0
        t0 = time.monotonic()
        next_note = t0
        next_tick = t0
        while True:
            now = time.monotonic()
            if now - t0 >= seconds:
                break
            if now >= next_note:
                note = 60 + notes % 12
                w = mono()
                write_all(fd, bytes([0x90, note, 100]))
                out("flood_note %d t=%.6f w=%.6f" % (note, mono(), w))
                notes += 1
                next_note += note_ms / 1e3
            # as many as the rate owes up to now: a late wake-up catches up
            due = int((now - t0) * rate) - sent
            burst = bytearray()
            for _ in range(max(due, 0)):
                n = ccs[k % len(ccs)]
                k += 1
                value[n] = (value[n] + stride[n]) % 128
                burst += bytes([0xB0, n, value[n]])
                sent += 1
            if burst:
                write_all(fd, bytes(burst))
            next_tick += tick
            delay = min(next_tick, next_note) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        for n in ccs:
            out("flood_last %d %d" % (n, value[n]))
        return "flood_done cc=%d notes=%d seconds=%.3f" % (sent, notes,
                                                         time.monotonic() - t0)

    def command(self, w):
        cmd = w[0]
        if cmd in ("cc", "on", "off", "hex"):
            return self.send(w)
        if cmd == "random":
            n, seed = int(w[1]), int(w[2])
            data = random.Random(seed).randbytes(n)
            write_all(self.need(), data)
            return "random %d bytes t=%.6f" % (n, mono())
        if cmd == "sleep":
            time.sleep(float(w[1]))
            return "slept %s" % w[1]
        if cmd == "close":
            self.close()
            return "closed %.6f wall=%.3f" % (mono(), time.time())
        if cmd == "open":
            return "open %s" % self.open()
        if cmd == "wait_connected":
            return self.wait_connected(float(w[1]) if len(w) > 1 else 10.0)
        if cmd == "script":
            return self.script(w[1])
        if cmd == "flood":
            ccs = [int(x) for x in w[4].split(",")]
            if not ccs or any(not 0 <= n <= 127 for n in ccs):
                raise ValueError("controllers 0..127")
            return self.flood(float(w[1]), float(w[2]), float(w[3]), ccs)
        raise ValueError("unknown command `%s`" % cmd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--midi", help="symlink to the MIDI pty's device side")
    ap.add_argument("--led", help="symlink to the LED pty's device side")
    ap.add_argument("--led-out", help="file receiving the LED bytes")
    args = ap.parse_args()
    if args.led and not args.led_out:
        ap.error("--led needs --led-out")

    teensy = Teensy(args.midi)
    if args.midi:
        out("open %s" % os.readlink(args.midi))
    reader = None
    if args.led:
        led_master, name = new_pty(args.led)
        reader = LedReader(led_master, args.led_out)
        reader.start()
        out("led %s" % name)

    try:
        for line in sys.stdin:
            w = line.split()
            if not w:
                continue
            if w[0] == "quit":
                break
            try:
                out(teensy.command(w))
            except (ValueError, IndexError, OSError) as e:
                out("error %s" % e)
    finally:
        teensy.close()
        if reader:
            time.sleep(0.1)
            reader.stop = True
            reader.join()
            os.unlink(args.led)
        out("bye")


if __name__ == "__main__":
    main()
