#!/usr/bin/env python3
"""peers_osc: the small OSC jobs of bench/peers.sh, against one scsynth.

    peers_osc.py PORT def out|offset NAME [BUS]
                                              load the bench's test voice
                                              (playing to BUS, default 0)
    peers_osc.py PORT clear                   free every node but the root
    peers_osc.py PORT record FILE.wav SECONDS scsynth records bus 0 (left)
    peers_osc.py PORT relay LISTEN_PORT       forward UDP both ways (runs
                                              until killed)

The test voice is the same short percussive SynthDef for every system the
bench compares, under the name the system plays (NAME, e.g. me_voice):

    OffsetOut.ar(0, SinOsc.ar(1000, pi/2) * EnvGen.ar(Env([1, 0], [0.03], -4),
                 doneAction: 2) * 0.5)   (twice: both channels)

It starts at full level on its first sample (the sine at its peak, the
envelope at 1) and is silent 30 ms later, so every onset is isolated and
exact.  With "out" the voice ends in Out instead of OffsetOut: a bundle's
start then falls on the next 64-sample block boundary, the way most
SuperCollider code is written.  It takes no controls: whatever a system
sends with /s_new (freq, amp, out bus ...) is ignored, so every system
plays the very same sound to bus 0.  (For mystery-engine the bench gives
BUS = its effect bus: the instrument's master effect passes it on to bus 0
sample for sample, and its output meter, which the sound health check
reads, hears the notes.)

The def is written in SCgf version 2 (doc: /work/shared notes, or
SuperCollider's "Synth Definition File Format") and sent with /d_recv; the
command waits for scsynth's /done.  "relay" forwards datagrams sent to
LISTEN_PORT on to scsynth and scsynth's replies back to their client:
Sonic Pi insists that the port it sends to is free.

Exit status 0, 1 when the server did not answer within 3 s, 2 on bad
arguments.  Python 3 standard library only.
"""
import math
import select
import socket
import struct
import sys
import time


def pad(b):
    return b + b"\0" * (4 - len(b) % 4)


def osc_message(path, *args):
    tags, data = ",", b""
    for a in args:
        if isinstance(a, int):
            tags += "i"
            data += struct.pack(">i", a)
        elif isinstance(a, float):
            tags += "f"
            data += struct.pack(">f", a)
        elif isinstance(a, bytes):
            tags += "b"
            data += struct.pack(">i", len(a)) + a + b"\0" * ((4 - len(a) % 4) % 4)
        else:
            tags += "s"
            data += pad(str(a).encode())
    return pad(path.encode()) + pad(tags.encode()) + data


def osc_path(packet):
    end = packet.find(b"\0")
    return packet[:end].decode(errors="replace") if end > 0 else ""


def pstring(s):
    b = s.encode()
    return struct.pack(">B", len(b)) + b


AUDIO = 2


def scgf(name, consts, ugens):
    """SCgf v2 bytes of one def without controls; ugens are (class, rate,
    inputs, outputs, special index), an input is ("c", constant) or (ugen
    index, output)."""
    def ref(x):
        return (-1, consts.index(x[1])) if x[0] == "c" else x

    d = pstring(name)
    d += struct.pack(">i", len(consts)) + b"".join(struct.pack(">f", v) for v in consts)
    d += struct.pack(">i", 0)           # parameters
    d += struct.pack(">i", 0)           # parameter names
    d += struct.pack(">i", len(ugens))
    for cls, rate, ins, n_out, special in ugens:
        d += pstring(cls) + struct.pack(">biih", rate, len(ins), n_out, special)
        for x in ins:
            d += struct.pack(">ii", *ref(x))
        d += struct.pack(">b", rate) * n_out
    d += struct.pack(">h", 0)           # variants
    return b"SCgf" + struct.pack(">ih", 2, 1) + d


def voice_def(name, out_ugen, bus=0):
    """The test voice; out_ugen is OffsetOut or Out, to bus."""
    consts = [1000.0, math.pi / 2, 1.0, 0.0, 2.0, -99.0, 0.03, 5.0, -4.0, 0.5]
    if float(bus) not in consts:
        consts.append(float(bus))
    return scgf(name, consts, [
        ("SinOsc", AUDIO, [("c", 1000.0), ("c", math.pi / 2)], 1, 0),
        # EnvGen: gate, levelScale, levelBias, timeScale, doneAction, then
        # the envelope: initial level 1, 1 stage, no release or loop node,
        # to level 0 in 0.03 s with curve -4 (shape 5 = numeric curve)
        ("EnvGen", AUDIO, [("c", 1.0), ("c", 1.0), ("c", 0.0), ("c", 1.0), ("c", 2.0),
                           ("c", 1.0), ("c", 1.0), ("c", -99.0), ("c", -99.0),
                           ("c", 0.0), ("c", 0.03), ("c", 5.0), ("c", -4.0)], 1, 0),
        ("BinaryOpUGen", AUDIO, [(0, 0), (1, 0)], 1, 2),        # *
        ("BinaryOpUGen", AUDIO, [(2, 0), ("c", 0.5)], 1, 2),    # * 0.5
        (out_ugen, AUDIO, [("c", float(bus)), (3, 0), (3, 0)], 0, 0),
    ])


REC_DEF = "peers_rec"
REC_BUF = 1001
REC_NODE = 99001


def rec_def():
    """DiskOut.ar(REC_BUF, In.ar(0)): the left channel of bus 0."""
    return scgf(REC_DEF, [0.0, float(REC_BUF)], [
        ("In", AUDIO, [("c", 0.0)], 1, 0),
        ("DiskOut", AUDIO, [("c", float(REC_BUF)), (0, 0)], 1, 0),
    ])


def record(port, path, seconds):
    """Records bus 0 (left) into path, a 16-bit WAV, for seconds: scsynth's
    own recording, sample-exact whatever JACK's clients do meanwhile."""
    ok = ask(port, osc_message("/d_recv", rec_def()), "/done")
    ok = ok and ask(port, osc_message("/b_alloc", REC_BUF, 131072, 1), "/done")
    ok = ok and ask(port, osc_message("/b_write", REC_BUF, path, "wav", "int16", 0, 0, 1),
                    "/done")
    if not ok:
        return False
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # at the tail of the root group: after every voice has written bus 0
    s.sendto(osc_message("/s_new", REC_DEF, REC_NODE, 1, 0), ("127.0.0.1", port))
    time.sleep(seconds)
    s.sendto(osc_message("/n_free", REC_NODE), ("127.0.0.1", port))
    s.close()
    ok = ask(port, osc_message("/b_close", REC_BUF), "/done")
    return ask(port, osc_message("/b_free", REC_BUF), "/done") and ok


def ask(port, packet, want, timeout=3.0):
    """Sends packet, waits for a reply whose path is want (or /fail)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(packet, ("127.0.0.1", port))
    try:
        while True:
            data, _ = s.recvfrom(65536)
            p = osc_path(data)
            if p == want:
                return True
            if p == "/fail":
                print("peers_osc: scsynth: %r" % data, file=sys.stderr)
                return False
    except socket.timeout:
        print("peers_osc: no %s from scsynth on port %d" % (want, port), file=sys.stderr)
        return False
    finally:
        s.close()


def relay(port, listen):
    """Forwards datagrams to port, each client through a socket of its own,
    so that scsynth's replies (and notifications) reach the right one."""
    outer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    outer.bind(("127.0.0.1", listen))
    inner = {}                  # client address -> its socket towards scsynth
    back = {}                   # that socket -> client address
    while True:
        r, _, _ = select.select([outer] + list(back), [], [])
        for sock in r:
            data = sock.recv(65536) if sock is not outer else None
            if sock is outer:
                data, client = outer.recvfrom(65536)
                if osc_path(data) == "/quit":
                    continue    # the bench's server outlives its clients
                if client not in inner:
                    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    t.bind(("127.0.0.1", 0))
                    inner[client] = t
                    back[t] = client
                inner[client].sendto(data, ("127.0.0.1", port))
            else:
                outer.sendto(data, back[sock])


def main(argv):
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    port = int(argv[1])
    cmd = argv[2]
    if cmd == "def" and len(argv) in (5, 6) and argv[3] in ("out", "offset"):
        bus = int(argv[5]) if len(argv) == 6 else 0
        d = voice_def(argv[4], "Out" if argv[3] == "out" else "OffsetOut", bus)
        return 0 if ask(port, osc_message("/d_recv", d), "/done") else 1
    if cmd == "clear" and len(argv) == 3:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(osc_message("/g_deepFree", 0), ("127.0.0.1", port))
        s.sendto(osc_message("/g_freeAll", 0), ("127.0.0.1", port))
        s.close()
        return 0 if ask(port, osc_message("/sync", 1), "/synced") else 1
    if cmd == "record" and len(argv) == 5:
        return 0 if record(port, argv[3], float(argv[4])) else 1
    if cmd == "relay" and len(argv) == 4:
        relay(port, int(argv[3]))
        return 0
    print("peers_osc: bad arguments: %s" % " ".join(argv[1:]), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
