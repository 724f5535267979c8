#!/usr/bin/env python3
"""Stops or kills scsynth under a playing mystery-engine and times, by the
engine's own output meter (GET /state: links.synth.state, sound.peak,
sound.meter_age_s), how long the sound takes to come back.

  sound_check.py --http PORT --sc-port PORT (--stop SECONDS | --kill | --mute NODE)
                 [--external [--restart CMD]] [--times N] [--bound SECONDS]
                 [--settle SECONDS] [--seed N]

Each cycle waits until the engine reports sound (link connected, a fresh
meter reading above the floor), then finds the scsynth listening on
--sc-port (by its command line "-u PORT" under /proc), sends SIGSTOP and,
--stop SECONDS later, SIGCONT (or SIGKILL with --kill; or, with --mute
NODE, sends the server "/n_set NODE volume 0" as another client would, a
silent output while everything else looks fine), and polls /state every
20 ms.  detected: the first reading after the fault whose link is
not connected or whose sound state is not "ok" (the engine noticed);
back: the first fresh
reading above the floor with the link connected after that.  A managed
server is replaced while it is stopped, so "back" counts from detection;
an external one can only come back once it is continued, so it counts
from the later of detection and SIGCONT.  A killed external server is
started again by whoever runs it: with --restart CMD (a shell command that
starts scsynth on the same port in the background) this tool plays that
part as soon as the engine noticed, and "back" counts from when the new
server answers /status.

Prints one line per cycle and a summary ("back: median M ms, max X ms, K
of N within B s"); exits 1 when a cycle does not come back within
--bound, or when the engine never sounds.  Cycles start --settle to 1.5 x
--settle seconds (random, from --seed) after the previous one came back.
Python 3 standard library only.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import socket
import statistics
import struct
import sys
import time
import urllib.request

FLOOR = 1e-5


def state(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/state" % port, timeout=2) as r:
        d = json.load(r)
    s = d.get("sound") or {}
    return (d["links"]["synth"]["state"], s.get("state"), s.get("peak") or 0.0,
            s.get("meter_age_s"))


def sounding(st):
    link, snd, peak, age = st
    return link == "connected" and snd == "ok" and age is not None and age < 0.3 and peak > FLOOR


def scsynth_pid(sc_port):
    want = ["-u", str(sc_port)]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv if a]
        if args and os.path.basename(args[0]) == "scsynth":
            for i in range(len(args) - 1):
                if args[i:i + 2] == want:
                    return int(pid)
    return None


def osc(path, types, *args):
    def pad(b):
        return b + b"\0" * (4 - len(b) % 4)
    data = pad(path.encode()) + pad(("," + types).encode())
    for t, a in zip(types, args):
        data += struct.pack(">i", a) if t == "i" else struct.pack(">f", a) if t == "f" \
            else pad(a.encode())
    return data


def mute(sc_port, node):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(osc("/n_set", "isf", node, "volume", 0.0), ("127.0.0.1", sc_port))


def answers(sc_port):
    """Does a server on sc_port answer /status (within 100 ms)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.1)
        try:
            s.sendto(osc("/status", ""), ("127.0.0.1", sc_port))
            return s.recv(1024).startswith(b"/status.reply")
        except OSError:
            return False


def wait(port, pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            st = state(port)
            if pred(st):
                return time.monotonic(), st
        except OSError:
            pass
        time.sleep(0.02)
    return None, None


def cycle(a, k):
    t, _ = wait(a.http, sounding, 20)
    if t is None:
        print("cycle %d: the engine never reported sound" % k)
        return None
    pid = scsynth_pid(a.sc_port)
    if not pid:
        print("cycle %d: no scsynth on port %d" % (k, a.sc_port))
        return None
    t0 = time.monotonic()
    if a.mute is not None:
        mute(a.sc_port, a.mute)
    else:
        os.kill(pid, signal.SIGKILL if a.kill else signal.SIGSTOP)
    t_cont = None
    detected = None
    back = None
    restarted = None
    # a muted output is judged silent only once the meter has heard 3 s of
    # silence where notes sounded (4..10 s in these runs, while the instrument plays
    # its sparse pattern), a hung server within about 2 s
    end = t0 + (a.stop or 0) + a.bound + (20 if a.mute is not None else 10)
    while time.monotonic() < end:
        now = time.monotonic()
        if a.stop and t_cont is None and now - t0 >= a.stop:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass  # replaced while stopped
            t_cont = time.monotonic()
        try:
            st = state(a.http)
        except OSError:
            time.sleep(0.02)
            continue
        now = time.monotonic()
        if detected is None and (st[0] != "connected" or st[1] != "ok"):
            detected = now
            if a.kill and a.restart:
                subprocess.run(a.restart, shell=True, check=False)
                while restarted is None and time.monotonic() < end:
                    if answers(a.sc_port):
                        restarted = time.monotonic()
                    else:
                        time.sleep(0.01)
                continue
        elif detected is not None and sounding(st) and (not a.stop or t_cont is not None or
                                                        not a.external) and \
                (not a.restart or restarted is not None):
            back = now
            break
        time.sleep(0.02)
    if a.stop and t_cont is None:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    what = ("SIGKILL" if a.kill else "SIGSTOP %.1f s" % a.stop if a.stop
            else "volume 0 on node %d" % a.mute)
    if detected is None or back is None:
        print("cycle %d: %s: %s" % (k, what, "not detected" if detected is None
                                   else "no sound within %.1f s" % (end - t0)))
        return None
    start = max(detected, t_cont) if a.external and t_cont else detected
    since = "the server continued" if start is not detected else "detection"
    if restarted is not None:
        start, since = restarted, "the new server answered (%.0f ms after detection)" % (
            (restarted - detected) * 1000)
    ms = (back - start) * 1000
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print("cycle %d: %s: detected after %.0f ms, sound back %.0f ms after %s (load %s)" % (
        k, what, (detected - t0) * 1000, ms, since, load))
    return ms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--http", type=int, required=True)
    p.add_argument("--sc-port", type=int, required=True)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--stop", type=float)
    g.add_argument("--kill", action="store_true")
    g.add_argument("--mute", type=int, metavar="NODE")
    p.add_argument("--external", action="store_true",
                   help="the server is not the engine's: only SIGCONT brings it back")
    p.add_argument("--restart", metavar="CMD",
                   help="with --kill: a shell command that starts the killed server again")
    p.add_argument("--times", type=int, default=1)
    p.add_argument("--bound", type=float, default=2.0)
    p.add_argument("--settle", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    res = []
    for k in range(1, a.times + 1):
        ms = cycle(a, k)
        res.append(ms)
        if ms is None:
            break
        time.sleep(a.settle * (1 + 0.5 * rnd.random()))
    got = [m for m in res if m is not None]
    ok = sum(1 for m in got if m <= a.bound * 1000)
    if got:
        print("back: median %.0f ms, max %.0f ms, %d of %d within %.1f s" % (
            statistics.median(got), max(got), ok, a.times, a.bound))
    sys.exit(0 if ok == a.times else 1)


if __name__ == "__main__":
    main()
