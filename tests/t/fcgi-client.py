#!/usr/bin/env python3
"""Speak FastCGI straight to the pool's Unix socket (bounded: 10 s per read).

Usage: fcgi-client.py SOCKET MODE [BODY_FILE]
  keep        two POST /api/v1/predict requests on one connection (FCGI_KEEP_CONN)
  close       one request without FCGI_KEEP_CONN: the pool closes after answering
  trickle     one request sent a byte at a time (the pool assembles it)
  split       the body in FCGI_STDIN records of 7 bytes
  values      an FCGI_GET_VALUES management record
  badversion  a record of protocol version 2: the pool closes the connection
Prints one JSON object: the HTTP status of each answer ("status"), the
FCGI_STDOUT records of each ("records"), each answer's body ("bodies"),
whether the pool closed the connection afterwards ("eof"), the types of the
records received ("types").
"""
import json
import socket
import struct
import sys
import time

BEGIN, END, PARAMS, STDIN, STDOUT, GET_VALUES = 1, 3, 4, 5, 6, 9


def record(rtype, rid, content=b""):
    return struct.pack(">BBHHBB", 1, rtype, rid, len(content), 0, 0) + content


def nv(name, value):
    out = b""
    for s in (name, value):
        n = len(s)
        out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name + value


def request(rid, body, keep, stdin_chunk=65535):
    params = b"".join(
        nv(k.encode(), v.encode())
        for k, v in [
            ("REQUEST_METHOD", "POST"),
            ("DOCUMENT_URI", "/api/v1/predict"),
            ("CONTENT_TYPE", "application/json"),
            ("CONTENT_LENGTH", str(len(body))),
            ("REQUEST_ID", "fcgi-client-%d" % rid),
        ]
    )
    out = record(BEGIN, rid, struct.pack(">HB5x", 1, 1 if keep else 0))
    out += record(PARAMS, rid, params) + record(PARAMS, rid)
    for i in range(0, len(body), stdin_chunk):
        out += record(STDIN, rid, body[i : i + stdin_chunk])
    return out + record(STDIN, rid)


class Reader:
    def __init__(self, sock):
        self.sock, self.buf, self.eof, self.types = sock, b"", False, []

    def fill(self):
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            d = b""
        if not d:
            self.eof = True
        self.buf += d

    def next_record(self):
        while len(self.buf) < 8 and not self.eof:
            self.fill()
        if len(self.buf) < 8:
            return None
        _, rtype, _, n, pad, _ = struct.unpack(">BBHHBB", self.buf[:8])
        while len(self.buf) < 8 + n + pad and not self.eof:
            self.fill()
        if len(self.buf) < 8 + n + pad:
            return None
        content = self.buf[8 : 8 + n]
        self.buf = self.buf[8 + n + pad :]
        self.types.append(rtype)
        return rtype, content

    def answer(self):
        """(status, STDOUT records, body) of one response, up to FCGI_END_REQUEST."""
        out, n = b"", 0
        while True:
            r = self.next_record()
            if r is None:
                return None, n, ""
            rtype, content = r
            if rtype == STDOUT and content:
                out += content
                n += 1
            if rtype == END:
                break
        head, _, body = out.partition(b"\r\n\r\n")
        status = int(head.split(b"\r\n")[0].split()[1])
        return status, n, body.decode()

    def closed(self):
        self.sock.settimeout(5)
        while not self.eof:
            self.fill()
            if self.buf:
                return False
        return True


def main():
    path, mode = sys.argv[1], sys.argv[2]
    body = open(sys.argv[3], "rb").read().strip() if len(sys.argv) > 3 else b"{}"
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    rd = Reader(s)
    res = {"status": [], "records": [], "bodies": []}

    def answer():
        st, n, b = rd.answer()
        res["status"].append(st)
        res["records"].append(n)
        res["bodies"].append(b)

    if mode == "keep":
        for rid in (1, 2):
            s.sendall(request(rid, body, True))
            answer()
    elif mode == "close":
        s.sendall(request(1, body, False))
        answer()
        res["eof"] = rd.closed()
    elif mode == "trickle":
        data = request(1, body, True)
        deadline = time.time() + 8
        for i in range(len(data)):
            s.sendall(data[i : i + 1])
            if i % 16 == 0 and time.time() < deadline:
                time.sleep(0.002)
        answer()
    elif mode == "split":
        s.sendall(request(1, body, True, stdin_chunk=7))
        answer()
    elif mode == "values":
        s.sendall(record(GET_VALUES, 0, nv(b"FCGI_MPXS_CONNS", b"")))
        rd.next_record()
    elif mode == "badversion":
        s.sendall(b"\x02" + record(BEGIN, 1, b"\0" * 8)[1:])
        res["eof"] = rd.closed()
    else:
        sys.exit("unknown mode " + mode)
    res["types"] = rd.types
    print(json.dumps(res))


if __name__ == "__main__":
    main()
