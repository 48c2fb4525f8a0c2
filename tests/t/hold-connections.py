#!/usr/bin/env python3
"""Hold N connections open for up to S seconds (bounded; loopback or a Unix socket).

Usage: hold-connections.py ADDR N SECONDS [HEX_BYTES [PACE_MS]]
  ADDR: HOST:PORT (TCP) or a Unix socket path
  HEX_BYTES: what each connection sends once (a partial request), else nothing
  PACE_MS: a pause after every 100 connections, so that the server reads
      what each sent before the next ones arrive (default 0)
Prints, flushed as it goes:
  "held K"  K connections still open once all were made and the server had a
            second to drop any (a server that cannot hold them all closes
            some: those closed at once are replaced, up to 10 times)
  "reopened R"  how many were replaced
  "open K after T s"  once a second
  "server closed C of K, first after A s, last after B s"  (of the K held:
            the ages of those the server closed; C is 0 when it closed none)
  "closed K"  at the end, when this script closes what is left
It ends early once the server has closed every connection.
"""
import binascii
import select
import socket
import sys
import time

ROUNDS = 10


def connect(addr, data):
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = addr
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    try:
        s.connect(target)
        if data:
            s.sendall(data)
    except OSError:
        s.close()
        raise
    return s


def main():
    addr, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    data = binascii.unhexlify(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else b""
    pace = float(sys.argv[5]) / 1000 if len(sys.argv) > 5 else 0.0
    if n > 10000 or secs > 120 or pace > 1:
        sys.exit("hold-connections: at most 10000 connections for 120 s, pauses up to 1000 ms")
    start = time.monotonic()
    deadline = start + secs
    opened = {}  # fd -> (socket, time it was opened)
    poller = select.poll()
    ages = []

    def open_more(k):
        for i in range(k):
            try:
                s = connect(addr, data)
            except OSError as e:
                print("connect failed after %d: %s" % (len(opened), e), flush=True)
                return False
            opened[s.fileno()] = (s, time.monotonic())
            poller.register(s.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
            if pace and (i + 1) % 100 == 0:
                time.sleep(pace)
        return True

    def reap(until):
        """Drop the connections the server closed, until the time `until`."""
        while opened and time.monotonic() < until:
            wait = max(0, int((until - time.monotonic()) * 1000))
            for fd, _ in poller.poll(wait):
                s, t = opened[fd]
                try:
                    got = s.recv(4096)
                except OSError:
                    got = b""
                if not got:
                    ages.append(time.monotonic() - t)
                    poller.unregister(fd)
                    del opened[fd]
                    s.close()

    # open N; replace those the server closes at once (it had no room), at
    # most ROUNDS times
    reopened = 0
    ok = open_more(n)
    for _ in range(ROUNDS):
        reap(min(deadline, time.monotonic() + 0.5))
        if not ok or len(opened) >= n or time.monotonic() >= deadline:
            break
        reopened += n - len(opened)
        ok = open_more(n - len(opened))
    reap(min(deadline, time.monotonic() + 1))
    del ages[:]
    print("held %d" % len(opened), flush=True)
    print("reopened %d" % reopened, flush=True)
    while opened and time.monotonic() < deadline:
        reap(min(deadline, time.monotonic() + 1))
        print("open %d after %.0f s" % (len(opened), time.monotonic() - start), flush=True)
    if ages:
        print("server closed %d of %d, first after %.1f s, last after %.1f s"
              % (len(ages), len(ages) + len(opened), min(ages), max(ages)), flush=True)
    else:
        print("server closed 0 of %d" % len(opened), flush=True)
    for s, _ in opened.values():
        s.close()
    print("closed %d" % len(opened), flush=True)


if __name__ == "__main__":
    main()
