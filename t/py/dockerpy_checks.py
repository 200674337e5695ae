#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# t/py/dockerpy_checks.py CASE -- berthd driven through Debian's python3-docker
# (docker-py), one case per call, for t/t2900-docker-py.sh.  DOCKER_HOST names
# the daemon; the client negotiates the API version from GET /version, as
# docker-compose does.  Exits 0 when the case holds, 1 with a reason if not.
# Every container, volume and stream a case makes is removed or closed before
# it returns, pass or fail; each wait is bounded.
import os
import sys
import threading
import time

import docker
from docker import errors

TIMEOUT = 30


def client():
    return docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version="auto", timeout=TIMEOUT)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def wait_until(fn, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if fn():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Cleanup:
    """Remove what a case made, whatever happened."""

    def __init__(self, cl):
        self.cl = cl
        self.containers = []
        self.volumes = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for name in self.containers:
            try:
                self.cl.containers.get(name).remove(force=True)
            except errors.NotFound:
                pass
            except Exception as e:  # keep going: the others still need removing
                print("cleanup: container %s: %s" % (name, e), file=sys.stderr)
        for name in self.volumes:
            try:
                self.cl.volumes.get(name).remove(force=True)
            except errors.NotFound:
                pass
            except Exception as e:
                print("cleanup: volume %s: %s" % (name, e), file=sys.stderr)
        return False


LOOP = ["sh", "-c", "trap 'exit 0' TERM; i=0; while :; do echo tick$i; i=$((i+1)); sleep 0.1; done"]


def case_version(cl):
    v = cl.version()
    check(v.get("ApiVersion"), "version has ApiVersion")
    check(cl.ping() is True, "ping answers OK")
    check(cl.api._version == v["ApiVersion"], "client negotiated the server's version")
    info = cl.info()
    eq(info.get("LoggingDriver"), "json-file", "info LoggingDriver")


def case_run(cl):
    with Cleanup(cl) as cu:
        out = cl.containers.run("busybox", ["echo", "hello from docker-py"], remove=True)
        eq(out, b"hello from docker-py\n", "run output")
        out = cl.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], remove=True, stderr=True, stdout=False)
        eq(out, b"err\n", "run with stderr only")
        # a failing command: ContainerError with the code and the stderr
        cu.containers.append("pyfail")
        try:
            cl.containers.run("busybox", ["sh", "-c", "echo oops >&2; exit 3"], name="pyfail")
            raise AssertionError("exit 3 did not raise ContainerError")
        except errors.ContainerError as e:
            eq(e.exit_status, 3, "ContainerError.exit_status")
            check(b"oops" in (e.stderr or b""), "ContainerError.stderr has the output: %r" % (e.stderr,))
        c = cl.containers.get("pyfail")
        eq(c.status, "exited", "failed container status")
        eq(c.attrs["State"]["ExitCode"], 3, "State.ExitCode")
        # a missing executable: the API error (docker-py's remove=True is
        # client-side: a container that never started stays, as with dockerd)
        cu.containers.append("pymiss")
        try:
            cl.containers.run("busybox", ["nothere"], remove=True, name="pymiss")
            raise AssertionError("a missing executable did not fail")
        except errors.APIError as e:
            check("executable file not found" in str(e) or "no such file" in str(e), "error text: %s" % e)
        eq(cl.containers.get("pymiss").status, "created", "a container that failed to start")
        # an unknown image: create is 404 (run then tries a pull, which
        # fails here without a registry)
        try:
            cl.containers.create("nosuchimage-xyz:1", ["true"])
            raise AssertionError("an unknown image did not fail")
        except errors.ImageNotFound as e:
            check("No such image" in str(e), "error text: %s" % e)
        try:
            cl.containers.run("nosuchimage-xyz:1", ["true"], remove=True)
            raise AssertionError("run of an unknown image did not fail")
        except errors.APIError:
            pass


def case_detach(cl):
    with Cleanup(cl) as cu:
        cu.containers.append("pyd")
        c = cl.containers.run("busybox", LOOP, detach=True, name="pyd", labels={"suite": "py"})
        c.reload()
        eq(c.status, "running", "status after run -d")
        eq(c.name, "pyd", "name")
        eq(c.labels.get("suite"), "py", "labels")
        wait_until(lambda: b"tick3" in c.logs(), 20, "four lines of log")
        logs = c.logs().decode().splitlines()
        eq(logs[:3], ["tick0", "tick1", "tick2"], "first log lines")
        eq(len(c.logs(tail=2).decode().splitlines()), 2, "logs tail=2")
        check(c.logs(stdout=False) == b"", "no stderr lines")
        ts = c.logs(timestamps=True).decode().splitlines()[0]
        check(ts.endswith(" tick0") and "T" in ts.split(" ")[0], "timestamps: %r" % ts)
        # follow: a bounded read of the live stream
        stream = c.logs(stream=True, follow=True)
        got = b""
        deadline = time.monotonic() + 20
        for chunk in stream:
            got += chunk
            if got.count(b"\n") >= 8 or time.monotonic() > deadline:
                break
        stream.close()
        check(got.count(b"\n") >= 8, "follow delivered lines: %r" % got)
        found = [x.name for x in cl.containers.list(filters={"label": "suite=py"})]
        eq(found, ["pyd"], "list by label")
        top = c.top()
        check("Titles" in top and top["Processes"], "top: %r" % top)


def case_exec(cl):
    with Cleanup(cl) as cu:
        cu.containers.append("pyx")
        c = cl.containers.run("busybox", LOOP, detach=True, name="pyx")
        r = c.exec_run(["echo", "hi"])
        eq((r.exit_code, r.output), (0, b"hi\n"), "exec_run echo")
        r = c.exec_run(["sh", "-c", "echo err >&2; exit 5"])
        eq(r.exit_code, 5, "exec_run exit code")
        eq(r.output, b"err\n", "exec_run stderr in output")
        r = c.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
        eq(r.output, (b"o\n", b"e\n"), "exec_run demux")
        r = c.exec_run(["sh", "-c", "echo $FOO $(pwd) $(id -u)"], environment={"FOO": "bar"}, workdir="/bin", user="0")
        eq(r.output, b"bar /bin 0\n", "exec_run env, workdir, user")
        r = c.exec_run(["nothere"])
        eq(r.exit_code, 127, "exec_run of a missing executable")
        r = c.exec_run(["sh", "-c", "echo detached >/tmp/d"], detach=True)
        wait_until(lambda: c.exec_run(["cat", "/tmp/d"]).output == b"detached\n", 10, "the detached exec")
        # a streamed exec
        r = c.exec_run(["sh", "-c", "for i in 1 2 3; do echo s$i; done"], stream=True)
        eq(b"".join(r.output), b"s1\ns2\ns3\n", "exec_run stream")
        # low level: exec inspect carries the exit code
        eid = cl.api.exec_create(c.id, ["sh", "-c", "exit 4"])["Id"]
        cl.api.exec_start(eid)
        eq(cl.api.exec_inspect(eid)["ExitCode"], 4, "exec_inspect ExitCode")
        c.stop(timeout=5)
        try:
            c.exec_run(["true"])
            raise AssertionError("exec in a stopped container did not fail")
        except errors.APIError as e:
            eq(e.status_code, 409, "exec in a stopped container")


def case_lifecycle(cl):
    with Cleanup(cl) as cu:
        cu.containers.append("pyl")
        c = cl.containers.run("busybox", LOOP, detach=True, name="pyl")
        # the trap is set once the first line is out (pid 1 ignores TERM before)
        wait_until(lambda: b"tick0" in c.logs(), 20, "the first line")
        pid1 = cl.api.inspect_container(c.id)["State"]["Pid"]
        c.stop(timeout=5)
        c.reload()
        eq(c.status, "exited", "status after stop")
        eq(c.attrs["State"]["ExitCode"], 0, "the TERM trap's exit code")
        c.start()
        c.reload()
        eq(c.status, "running", "status after start")
        check(c.attrs["State"]["Pid"] != pid1, "a new pid after start")
        c.kill()
        eq(c.wait(timeout=20)["StatusCode"], 137, "wait after kill")
        n = c.logs().count(b"tick0")
        c.restart(timeout=0)
        c.reload()
        eq(c.status, "running", "status after restart")
        wait_until(lambda: c.logs().count(b"tick0") > n, 20, "the restarted loop's first line")
        c.kill(signal="SIGTERM")
        eq(c.wait(timeout=20)["StatusCode"], 0, "kill -s TERM: the trap")
        c.start()
        try:
            c.remove()
            raise AssertionError("remove of a running container did not fail")
        except errors.APIError as e:
            eq(e.status_code, 409, "remove of a running container")
        c.remove(force=True)
        try:
            cl.containers.get("pyl")
            raise AssertionError("the container is still there")
        except errors.NotFound:
            pass
        # rename, then prune of stopped ones
        cu.containers.append("pyr2")
        c = cl.containers.create("busybox", ["true"], name="pyr")
        c.rename("pyr2")
        c.reload()
        eq(c.name, "pyr2", "rename")
        c.remove()


def case_wait(cl):
    with Cleanup(cl) as cu:
        cu.containers.append("pyw")
        c = cl.containers.run("busybox", ["sh", "-c", "sleep 0.3; exit 7"], detach=True, name="pyw")
        r = c.wait(timeout=20)
        eq(r["StatusCode"], 7, "wait StatusCode")
        check(r.get("Error") in (None, {}) or not r["Error"].get("Message"), "wait Error: %r" % r)
        # already exited: answers at once
        eq(c.wait(timeout=20)["StatusCode"], 7, "wait on an exited container")
        # removed condition with auto-remove
        c2 = cl.containers.run("busybox", ["sh", "-c", "sleep 0.2; exit 2"], detach=True, auto_remove=True)
        eq(c2.wait(timeout=20, condition="removed")["StatusCode"], 2, "wait condition=removed")
        wait_until(lambda: not any(x.id == c2.id for x in cl.containers.list(all=True)), 10, "the auto-removed container to go")


def case_images(cl):
    imgs = cl.images.list()
    tags = [t for i in imgs for t in i.tags]
    check("busybox:latest" in tags, "images.list has busybox:latest: %r" % tags)
    img = cl.images.get("busybox")
    check(img.id.startswith("sha256:"), "image id: %r" % img.id)
    check("busybox:latest" in img.tags, "image tags: %r" % img.tags)
    eq(cl.images.get(img.id).id, img.id, "get by id")
    eq(cl.images.get(img.short_id).id, img.id, "get by short id")
    check(len(cl.images.list(name="busybox")) == 1, "images.list(name=)")
    try:
        cl.images.get("nosuchimage-xyz")
        raise AssertionError("an unknown image was found")
    except errors.ImageNotFound:
        pass
    h = img.history()
    check(isinstance(h, list) and h, "history: %r" % h)
    img.tag("pytag", "v1")
    check("pytag:v1" in cl.images.get("pytag:v1").tags, "tag")
    cl.images.remove("pytag:v1")
    try:
        cl.images.get("pytag:v1")
        raise AssertionError("the tag is still there")
    except errors.ImageNotFound:
        pass


def case_volumes(cl):
    with Cleanup(cl) as cu:
        cu.volumes += ["pyvol", "pyvol2"]
        v = cl.volumes.create("pyvol", labels={"tier": "db"})
        eq(v.name, "pyvol", "volume name")
        eq(v.attrs.get("Driver"), "local", "volume driver")
        check(v.attrs.get("Mountpoint"), "volume mountpoint")
        cl.volumes.create("pyvol2")
        names = sorted(x.name for x in cl.volumes.list())
        check("pyvol" in names and "pyvol2" in names, "volumes.list: %r" % names)
        eq([x.name for x in cl.volumes.list(filters={"label": "tier=db"})], ["pyvol"], "list by label")
        eq(cl.volumes.get("pyvol").attrs["Labels"], {"tier": "db"}, "volumes.get labels")
        out = cl.containers.run("busybox", ["sh", "-c", "echo kept >/data/f; cat /data/f"], remove=True,
                                volumes={"pyvol": {"bind": "/data", "mode": "rw"}})
        eq(out, b"kept\n", "a volume in a container")
        out = cl.containers.run("busybox", ["cat", "/data/f"], remove=True, volumes=["pyvol:/data:ro"])
        eq(out, b"kept\n", "the data stays in the volume")
        v.remove()
        cl.volumes.get("pyvol2").remove()
        for n in ("pyvol", "pyvol2"):
            try:
                cl.volumes.get(n)
                raise AssertionError("volume %s is still there" % n)
            except errors.NotFound:
                pass


def case_events(cl):
    with Cleanup(cl) as cu:
        t0 = int(time.time())
        # a live stream, bounded: a reader thread, closed when done or after 20 s
        stream = cl.events(decode=True, filters={"type": "container", "container": "pyev"})
        seen = []
        done = threading.Event()

        def reader():
            try:
                for ev in stream:
                    seen.append(ev.get("Action") or ev.get("status"))
                    if seen[-1] == "destroy":
                        break
            except Exception as e:  # the close below ends the read with an error
                seen.append("error: %s" % e)
            finally:
                done.set()

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        cu.containers.append("pyev")
        cl.containers.run("busybox", ["true"], name="pyev", labels={"evt": "1"})
        cl.containers.get("pyev").remove()
        done.wait(20)
        stream.close()
        th.join(5)
        for a in ("create", "start", "die", "destroy"):
            check(a in seen, "live events: %s missing from %r" % (a, seen))
        # a replay with since/until ends by itself
        t1 = int(time.time()) + 1
        evs = list(cl.events(since=t0, until=t1, decode=True, filters={"container": "pyev"}))
        actions = [e.get("Action") for e in evs]
        for a in ("create", "start", "die", "destroy"):
            check(a in actions, "replayed events: %s missing from %r" % (a, actions))
        create = [e for e in evs if e.get("Action") == "create"][0]
        eq(create["Actor"]["Attributes"].get("name"), "pyev", "event name attribute")
        eq(create["Actor"]["Attributes"].get("evt"), "1", "event label attribute")
        check(create.get("timeNano", 0) > 0, "timeNano")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: dockerpy_checks.py %s" % "|".join(sorted(CASES)), file=sys.stderr)
        return 2
    cl = client()
    try:
        CASES[sys.argv[1]](cl)
    except AssertionError as e:
        print("FAIL %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    finally:
        cl.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
