#!/usr/bin/env python3
"""Hold N connections open for S seconds (bounded; loopback or a Unix socket).

Usage: hold-connections.py ADDR N SECONDS [HEX_BYTES]
  ADDR: HOST:PORT (TCP) or a Unix socket path
  HEX_BYTES: what each connection sends once (a partial request), else nothing
Prints "held K" once the connections are open, then "closed K" at the end.
"""
import binascii
import socket
import sys
import time


def main():
    addr, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    data = binascii.unhexlify(sys.argv[4]) if len(sys.argv) > 4 else b""
    if n > 10000 or secs > 120:
        sys.exit("hold-connections: at most 10000 connections for 120 s")
    socks = []
    for _ in range(n):
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
        except OSError as e:
            print("connect failed after %d: %s" % (len(socks), e), flush=True)
            s.close()
            break
        socks.append(s)
    print("held %d" % len(socks), flush=True)
    time.sleep(secs)
    for s in socks:
        s.close()
    print("closed %d" % len(socks), flush=True)


if __name__ == "__main__":
    main()
