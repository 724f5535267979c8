#!/usr/bin/env python3
"""pty_teensy: a stand-in Teensy for black-box tests of mystery-engine.

Creates up to two pseudo-terminals in raw mode and points symlinks at their
device sides: one the engine reads MIDI from (--midi LINK, give the engine
--midi-in raw:LINK) and one the engine writes LED cue frames to (--led LINK,
--led serial:LINK).  Then it follows commands, one per line on stdin, and
answers on stdout (one line each):

  send HEX...        write MIDI bytes, e.g. "send b0 01 40"  -> "ok"
  sleep MS           wait                                   -> "ok"
  cues N SECONDS     read LED frames until N cues decoded or time is up;
                     one JSON object per cue, then "cues N" with the count
  unplug            close both ptys (the engine sees the device vanish)
  replug            new ptys at the same links             -> "ok"
  quit

At start it prints "ready".  Frames are decoded as doc/led-protocol.md and
contrib/teensy/me_cue_decoder.h say: 0x00-delimited COBS of type, payload
and CRC-8/SMBUS; damaged frames are counted in the "cues" line.
"""
import argparse
import json
import os
import select
import struct
import sys
import termios
import time
import tty


def crc8(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def cobs_decode(enc):
    out, i = bytearray(), 0
    while i < len(enc):
        code = enc[i]
        i += 1
        if code == 0 or i + code - 1 > len(enc):
            return None
        out += enc[i:i + code - 1]
        i += code - 1
        if code != 0xFF and i < len(enc):
            out.append(0)
    return bytes(out)


def unpack(raw):
    if raw is None or len(raw) < 2 or crc8(raw[:-1]) != raw[-1]:
        return None
    t, p = raw[0], raw[1:-1]
    if t == 1 and len(p) == 2:
        return {"type": "note", "pitch": p[0], "velocity": p[1]}
    if t == 2 and len(p) == 7:
        value = struct.unpack(">f", p[1:5])[0]
        return {"type": "param", "id": p[0], "value": value,
                "position": struct.unpack(">H", p[5:7])[0]}
    if t in (3, 4, 5) and len(p) == 1:
        return {"type": {3: "mode", 4: "palette", 5: "idle"}[t], "value": p[0]}
    return None


class Pty:
    def __init__(self, link):
        self.link = link
        self.fd = None
        self.open()

    def open(self):
        master, slave = os.openpty()
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        name = os.ttyname(slave)
        os.close(slave)
        tmp = self.link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(name, tmp)
        os.rename(tmp, self.link)
        self.fd = master
        self.attrs = attrs

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--midi", help="symlink for the MIDI input pty")
    ap.add_argument("--led", help="symlink for the LED cue pty")
    a = ap.parse_args()
    ptys = {k: Pty(v) for k, v in (("midi", a.midi), ("led", a.led)) if v}
    buf = bytearray()
    bad = 0
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd, args = words[0], words[1:]
        try:
            if cmd == "send":
                os.write(ptys["midi"].fd, bytes(int(x, 16) for x in args))
                print("ok", flush=True)
            elif cmd == "sleep":
                time.sleep(int(args[0]) / 1000)
                print("ok", flush=True)
            elif cmd == "cues":
                want, end = int(args[0]), time.monotonic() + float(args[1])
                got = 0
                fd = ptys["led"].fd
                while got < want and time.monotonic() < end:
                    r, _, _ = select.select([fd], [], [], max(0, end - time.monotonic()))
                    if not r:
                        break
                    try:
                        buf += os.read(fd, 4096)
                    except OSError:
                        break
                    while 0 in buf and got < want:
                        i = buf.index(0)
                        frame, buf = bytes(buf[:i]), buf[i + 1:]
                        if not frame:
                            continue
                        cue = unpack(cobs_decode(frame))
                        if cue is None:
                            bad += 1
                            continue
                        print(json.dumps(cue), flush=True)
                        got += 1
                print("cues %d damaged %d" % (got, bad), flush=True)
            elif cmd == "unplug":
                for p in ptys.values():
                    p.close()
                print("ok", flush=True)
            elif cmd == "replug":
                for p in ptys.values():
                    p.open()
                print("ok", flush=True)
            elif cmd == "quit":
                break
            else:
                print("error: unknown command %s" % cmd, flush=True)
        except (KeyError, ValueError, IndexError, OSError) as e:
            print("error: %s: %s" % (cmd, e), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
