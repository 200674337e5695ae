#!/bin/sh
test_description='containers: live restore: berthd killed with -9 and restarted finds its containers, their logs have no gap, an exit during the outage is seen'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

test_expect_success 'start daemon with a busybox image' '
	start_daemon &&
	mkdir -p root/bin root/etc &&
	cp /bin/busybox root/bin/ &&
	for c in sh echo sleep seq; do ln -s busybox root/bin/$c || return 1; done &&
	tar -C root -c . | docker import -c "ENV PATH=/bin" - busybox:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'two containers: a logger and one that exits 42 while berthd is away' '
	docker run -d --name logger busybox sh -c "i=0; while true; do echo \$i; i=\$((i+1)); sleep 0.1; done" >/dev/null &&
	docker run -d --name late busybox sh -c "sleep 0.9; exit 42" >late_id &&
	wait_for 10 sh -c "docker logs logger | grep -qx 3" &&
	pid=$(docker inspect logger --format {{.State.Pid}}) &&
	test -d /proc/$pid
'

test_expect_success 'kill -9 berthd; the containers keep running' '
	kill -9 $DAEMON_PID &&
	wait $DAEMON_PID 2>/dev/null; true &&
	test -d /proc/$pid &&
	wait_for 10 test -f "$DAEMON_EXEC/$(cut -c1-12 late_id)/exit.json"
'

test_expect_success 'restart berthd: the logger is running with the same pid' '
	start_daemon &&
	test "$(docker inspect logger --format "{{.State.Status}} {{.State.Pid}}")" = "running $pid" &&
	docker ps --format "{{.Names}}" | grep -qx logger
'

test_expect_success 'the one that exited during the outage shows its real exit code' '
	wait_for 10 sh -c "docker inspect late --format {{.State.Status}} | grep -qx exited" &&
	test "$(docker inspect late --format {{.State.ExitCode}})" = 42 &&
	docker ps -a --format "{{.Names}} {{.Status}}" | grep -q "^late Exited (42)"
'

test_expect_success 'the log has no gap across the outage' '
	wait_for 10 sh -c "test \$(docker logs logger | wc -l) -gt 40" &&
	docker logs logger >lines &&
	n=$(wc -l <lines) &&
	seq 0 $((n - 1)) >expect &&
	cmp expect lines
'

test_expect_success 'docker stop and rm work on the restored container' '
	docker stop -t 1 logger >/dev/null &&
	test "$(docker inspect logger --format {{.State.Status}})" = exited &&
	docker rm logger late >/dev/null &&
	test -z "$(docker ps -aq)" &&
	stop_daemon
'

test_done
