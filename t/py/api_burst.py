#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# t/py/api_burst.py SOCKET create|remove PREFIX COUNT [DUPS] -- many API
# requests at once over berthd's unix socket, raw HTTP/1.1, one connection per
# request, PARALLEL (env, default 50) threads.  For t/t2310-api-concurrent-creates.sh.
#   create: POST /containers/create?name=PREFIX-i for i < COUNT, plus DUPS
#           requests that reuse the names PREFIX-0 .. PREFIX-(DUPS-1)
#   remove: DELETE /containers/PREFIX-i?force=1 for i < COUNT
# Prints "status N" per HTTP status seen and "noanswer N" for requests that
# got no complete answer; each answer that is not 2xx must carry Docker's
# {"message": ...} body, else it counts as "unclear".  Exit 0 if every request
# had a clear answer, 1 otherwise.
import json
import os
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 60


def request(path, method, target, body=b""):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    try:
        s.connect(path)
        head = "%s %s HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            method, target, len(body))
        s.sendall(head.encode() + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no complete response head: %r" % data[:200])
    status = int(head.split(b" ", 2)[1])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        out = b""
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line.split(b";")[0], 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2:]
        rest = out
    elif b"content-length" in headers:
        n = int(headers[b"content-length"])
        if len(rest) < n:
            raise ValueError("short body: %d of %d bytes" % (len(rest), n))
        rest = rest[:n]
    return status, rest


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    sock, mode, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    dups = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    parallel = int(os.environ.get("PARALLEL", "50"))
    jobs = []
    if mode == "create":
        body = json.dumps({"Image": "busybox", "Cmd": ["true"], "Labels": {"burst": prefix}}).encode()
        for i in range(count):
            jobs.append(("POST", "/v1.44/containers/create?name=%s-%d" % (prefix, i), body))
        # the duplicates go in among the first names, racing them
        for i in range(dups):
            jobs.insert(2 * i + 1, ("POST", "/v1.44/containers/create?name=%s-%d" % (prefix, i), body))
    elif mode == "remove":
        for i in range(count):
            jobs.append(("DELETE", "/v1.44/containers/%s-%d?force=1" % (prefix, i), b""))
    else:
        print("unknown mode %s" % mode, file=sys.stderr)
        return 2

    lock = threading.Lock()
    seen = {}
    problems = []

    def one(job):
        method, target, b = job
        try:
            status, rbody = request(sock, method, target, b)
        except Exception as e:
            with lock:
                seen["noanswer"] = seen.get("noanswer", 0) + 1
                if len(problems) < 10:
                    problems.append("%s %s: %s" % (method, target, e))
            return
        key = "status %d" % status
        clear = True
        if status >= 300:
            try:
                clear = bool(json.loads(rbody).get("message"))
            except Exception:
                clear = False
        with lock:
            seen[key] = seen.get(key, 0) + 1
            if not clear:
                seen["unclear"] = seen.get("unclear", 0) + 1
                if len(problems) < 10:
                    problems.append("%s %s: %d %r" % (method, target, status, rbody[:200]))

    with ThreadPoolExecutor(max_workers=parallel) as ex:
        list(ex.map(one, jobs))
    for k in sorted(seen):
        print("%s %d" % (k, seen[k]))
    for p in problems:
        print("problem: " + p, file=sys.stderr)
    return 1 if seen.get("noanswer") or seen.get("unclear") else 0


if __name__ == "__main__":
    sys.exit(main())
