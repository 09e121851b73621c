#!/usr/bin/env python3
"""A packet delay line between two network namespaces, for kernels without tc netem.

    delay-line.py NS_A DEV_A NS_B DEV_B DELAY_MS JITTER_MS LOSS_PERCENT SEED [LOG]

Opens TUN device DEV_A in namespace NS_A and DEV_B in NS_B (as `ip netns` names them) and
forwards every IP packet between them. Packets from B to A wait DELAY_MS plus a uniform
jitter of +-JITTER_MS (reordering them, as netem's jitter does); packets in either
direction are lost with probability LOSS_PERCENT. Runs until killed. The caller gives
the devices addresses and routes once they exist (this prints "ready" then).

With LOG, every TCP packet is written there as it is lost or delivered: the time, the
direction ("ab" or "ba"), "lost" or "sent", the 4-tuple, the TCP flags and, for a delayed
packet, how late it left against its due time (ms). It tells a wrong verdict's cause apart:
the line's chosen loss, or a reply delivered later than the delay and jitter allow.
"""

import ctypes
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
MTU = 65535

libc = ctypes.CDLL(None, use_errno=True)


def enter(namespace):
    fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"setns {namespace}")
    os.close(fd)


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def describe(packet):
    """The 4-tuple and TCP flags of an IPv4 TCP packet, or None."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 6:
        return None
    ihl = (packet[0] & 15) * 4
    if len(packet) < ihl + 14:
        return None
    sport, dport = struct.unpack_from("!HH", packet, ihl)
    flags = packet[ihl + 13]
    src = ".".join(str(b) for b in packet[12:16])
    dst = ".".join(str(b) for b in packet[16:20])
    return f"{src}:{sport} {dst}:{dport} {flags:02x}"


def main():
    ns_a, dev_a, ns_b, dev_b = sys.argv[1:5]
    delay = float(sys.argv[5]) / 1000.0
    jitter = float(sys.argv[6]) / 1000.0
    loss = float(sys.argv[7]) / 100.0
    rng = random.Random(int(sys.argv[8]))
    log = open(sys.argv[9], "w", buffering=1 << 20) if len(sys.argv) > 9 else None
    def note(direction, action, packet, due=None):
        if log is None:
            return
        what = describe(packet)
        if what is None:
            return
        extra = "" if due is None else f" {(time.monotonic() - due) * 1000:.1f}"
        log.write(f"{time.time():.4f} {direction} {action} {what}{extra}\n")

    signal.signal(signal.SIGTERM, lambda *_: (log and log.flush(), os._exit(0)))
    enter(ns_a)
    a = tun(dev_a)
    enter(ns_b)
    b = tun(dev_b)
    print("ready", flush=True)
    due = []  # (time, sequence, fd, packet)
    sequence = 0
    while True:
        now = time.monotonic()
        wait = max(0.0, due[0][0] - now) if due else 1.0
        readable, _, _ = select.select([a, b], [], [], wait)
        for fd in readable:
            while True:
                try:
                    packet = os.read(fd, MTU)
                except BlockingIOError:
                    break
                if rng.random() < loss:
                    note("ab" if fd == a else "ba", "lost", packet)
                    continue
                if fd == a:
                    note("ab", "sent", packet)
                    try:
                        os.write(b, packet)
                    except OSError:
                        pass  # the other device is not up yet
                else:
                    at = time.monotonic() + delay + rng.uniform(-jitter, jitter)
                    sequence += 1
                    heapq.heappush(due, (at, sequence, a, packet))
        now = time.monotonic()
        while due and due[0][0] <= now:
            at, _, fd, packet = heapq.heappop(due)
            note("ba", "sent", packet, at)
            try:
                os.write(fd, packet)
            except OSError:
                pass


if __name__ == "__main__":
    main()
