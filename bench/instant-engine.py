# SPDX-License-Identifier: Apache-2.0
# bench/instant-engine.py SOCKET -- a fake engine on a unix socket that answers
# the five requests of `docker run --rm IMAGE CMD` (ping, create, attach,
# wait, start) at once: the container "exits 0" the moment it is started.
# `docker run` against it takes what the docker CLI itself takes, the floor
# under any engine's single-run latency (bench/run.sh).
import asyncio, json, os, sys, uuid
SOCK = sys.argv[1]
waiters = {}
async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            method, path, _ = line.decode().split(" ", 2)
            hdrs = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, v = h.decode().split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
            n = int(hdrs.get("content-length", "0"))
            if n:
                await reader.readexactly(n)
            base = b"Api-Version: 1.44\r\nServer: fake\r\n"
            if path.startswith("/_ping"):
                writer.write(b"HTTP/1.1 200 OK\r\n" + base + b"Content-Length: 2\r\n\r\n" + (b"OK" if method == "GET" else b""))
            elif path.endswith("/containers/create") or "/containers/create?" in path:
                body = json.dumps({"Id": uuid.uuid4().hex * 2, "Warnings": []}).encode()
                writer.write(b"HTTP/1.1 201 Created\r\n" + base + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            elif "/attach" in path:
                writer.write(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
                await writer.drain()
                cid = path.split("/containers/")[1].split("/")[0]
                ev = waiters.setdefault(cid, asyncio.Event())
                await ev.wait()
                writer.close()
                return
            elif "/wait" in path:
                writer.write(b"HTTP/1.1 200 OK\r\n" + base + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                await writer.drain()
                cid = path.split("/containers/")[1].split("/")[0]
                ev = waiters.setdefault(cid + "w", asyncio.Event())
                await ev.wait()
                body = b'{"Error":null,"StatusCode":0}\n'
                writer.write(b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
            elif path.endswith("/start"):
                cid = path.split("/containers/")[1].split("/")[0]
                writer.write(b"HTTP/1.1 204 No Content\r\n" + base + b"\r\n")
                await writer.drain()
                waiters.setdefault(cid, asyncio.Event()).set()
                waiters.setdefault(cid + "w", asyncio.Event()).set()
            else:
                body = b'{"message":"not here"}'
                writer.write(b"HTTP/1.1 404 Not Found\r\n" + base + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
    except Exception:
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass
async def main():
    if os.path.exists(SOCK):
        os.unlink(SOCK)
    srv = await asyncio.start_unix_server(handle, path=SOCK)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
