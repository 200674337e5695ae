#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# t/helper/http-abuse.py -- misbehaving HTTP clients for berth's bad-input
# tests.  Every wait is bounded; every socket is local (a unix socket path).
#   raw SOCK            send stdin, half-close, print what comes back (5 s max)
#   stall SOCK          send half a request and wait (8 s max) for the answer
#   abort SOCK          send a partial request, then reset the connection
#   halfopen SOCK       send a partial request, half-close, expect the close
#   slow SOCK N SECS    N clients trickle a request byte by byte for SECS
#                       seconds; meanwhile /_ping must answer (prints the
#                       worst /_ping latency in ms), then all close
#   hold SOCK N         open N idle connections, print when the server
#                       closed all of them (seconds), bounded at 20 s
import socket, struct, sys, time, select

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s

def read_all(s, limit=5.0):
    out = b""
    end = time.time() + limit
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not d:
            break
        out += d
    return out

def ping(path):
    t = time.time()
    s = conn(path)
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    r = read_all(s)
    s.close()
    if not r.startswith(b"HTTP/1.1 200 OK") or not r.endswith(b"OK"):
        raise SystemExit("ping failed: %r" % r[:200])
    return (time.time() - t) * 1000

def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "raw":
        s = conn(path)
        try:
            s.sendall(sys.stdin.buffer.read())
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the server answered and closed before we finished
        sys.stdout.buffer.write(read_all(s))
    elif cmd == "stall":
        s = conn(path)
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n")
        sys.stdout.buffer.write(read_all(s, 8.0))
    elif cmd == "abort":
        s = conn(path)
        s.sendall(b"POST /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    elif cmd == "halfopen":
        s = conn(path)
        s.sendall(b"GET /_pi")
        s.shutdown(socket.SHUT_WR)
        r = read_all(s)
        print("closed" if r == b"" else "got %r" % r[:80])
    elif cmd == "slow":
        n, secs = int(sys.argv[3]), float(sys.argv[4])
        req = b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
        socks = [conn(path) for _ in range(n)]
        sent = 0
        worst = 0.0
        end = time.time() + secs
        while time.time() < end and sent < len(req):
            for s in socks:
                s.send(req[sent:sent + 1])
            sent += 1
            worst = max(worst, ping(path))
            time.sleep(0.05)
        for s in socks:
            s.close()
        print("%.1f" % worst)
    elif cmd == "hold":
        n = int(sys.argv[3])
        socks = [conn(path) for _ in range(n)]
        t = time.time()
        open_ = set(socks)
        while open_ and time.time() - t < 20:
            r, _, _ = select.select(list(open_), [], [], 0.5)
            for s in r:
                try:
                    d = s.recv(100)
                except ConnectionResetError:
                    d = b""
                if not d:
                    open_.discard(s)
        print("%d %.1f" % (len(open_), time.time() - t))
    else:
        raise SystemExit("unknown command " + cmd)

main()
