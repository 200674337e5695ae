#!/bin/sh
test_description='containers, images, volumes and events through docker-py (Debian python3-docker), as Compose and scripts drive an engine'
. "$(dirname "$0")/test-lib.sh"

prereq_PYDOCKER() {
	python3 -c 'import docker' 2>/dev/null
}

test_have_prereq PYTHON3 || skip_all "python3 is missing"
test_have_prereq PYDOCKER || skip_all "python3-docker (docker-py) is missing"
test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

PY="$BERTH_SRC_DIR/t/py/dockerpy_checks.py"
pycase() {
	timeout 120 python3 "$PY" "$1"
}

test_expect_success 'start daemon with a busybox image' '
	start_daemon &&
	mkdir -p root/bin root/etc root/tmp &&
	cp /bin/busybox root/bin/ &&
	for c in sh echo cat ls true false sleep id pwd; do ln -s busybox root/bin/$c || return 1; done &&
	echo "root:x:0:0:root:/root:/bin/sh" >root/etc/passwd &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'version negotiation, ping, info' '
	pycase version
'

test_expect_success 'containers.run: output, stderr only, ContainerError with the exit code, missing executable, unknown image' '
	pycase run
'

test_expect_success 'containers.run(detach=True): status, labels, logs (tail, timestamps, stream follow), list filter, top' '
	pycase detach
'

test_expect_success 'exec_run: output, exit codes, demux, env/workdir/user, 127, detach, stream, exec_inspect, 409 when stopped' '
	pycase exec
'

test_expect_success 'stop, start, kill, restart, remove (409 when running, force), rename' '
	pycase lifecycle
'

test_expect_success 'wait: exit code, on an exited container, condition=removed with auto_remove' '
	pycase wait
'

test_expect_success 'images.list/get (name, id, short id), history, tag and remove, ImageNotFound' '
	pycase images
'

test_expect_success 'volumes create/list (label filter)/get/remove, used by a container' '
	pycase volumes
'

test_expect_success 'events: a live stream closed after destroy, a since/until replay that ends' '
	pycase events
'

test_expect_success 'nothing left behind; the daemon log is clean' '
	docker ps -a >left && docker volume ls -q >>left &&
	test "$(wc -l <left)" = 1 || { cat left; false; } &&
	stop_daemon
'

test_done
