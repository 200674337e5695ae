#!/bin/sh
test_description='api: 1000 concurrent container creates (and 100 racing duplicate names) all get an answer; the daemon stays healthy, counts right, removes them all and gives its fds back'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq PYTHON3 || skip_all "python3 is missing"
test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq CURL || skip_all "curl is missing"

BURST="$BERTH_SRC_DIR/t/py/api_burst.py"
N=1000
DUPS=100

test_expect_success 'start daemon with a busybox image; fd baseline' '
	start_daemon &&
	mkdir -p root/bin &&
	cp /bin/busybox root/bin/ && ln -s busybox root/bin/true &&
	tar -C root -c . | docker import - busybox:latest >/dev/null &&
	api GET /_ping >/dev/null &&
	fd0=$(fd_count $DAEMON_PID) &&
	test "$fd0" -gt 0
'

test_expect_success "$N concurrent creates and $DUPS racing duplicates: every one answered, 201 or 409" '
	PARALLEL=50 timeout 120 python3 "$BURST" "$DAEMON_SOCK" create burst $N $DUPS >res &&
	cat res &&
	grep -qx "status 201 $N" res &&
	grep -qx "status 409 $DUPS" res &&
	test "$(wc -l <res)" = 2
'

test_expect_success 'the daemon is healthy: /_ping, docker ps -a counts them, inspect works' '
	test "$(api GET /_ping)" = OK &&
	test "$(docker ps -aq | wc -l)" = $N &&
	test "$(docker ps -aq --filter label=burst=burst | wc -l)" = $N &&
	test "$(docker inspect burst-999 --format "{{.Name}} {{.State.Status}}")" = "/burst-999 created" &&
	test "$(docker info --format {{.ContainersStopped}})" = $N
'

test_expect_success "$N concurrent removes: all 204; nothing left" '
	PARALLEL=50 timeout 120 python3 "$BURST" "$DAEMON_SOCK" remove burst $N >res &&
	cat res &&
	grep -qx "status 204 $N" res &&
	test -z "$(docker ps -aq)" &&
	test "$(docker info --format {{.Containers}})" = 0 &&
	test -z "$(ls "$DAEMON_DATA/containers" 2>/dev/null)"
'

test_expect_success 'fds back near the baseline; /_ping still OK; clean log' '
	wait_for 10 sh -c "test \$(ls /proc/$DAEMON_PID/fd | wc -l) -le $((fd0 + 8))" || {
		echo "fds: $(fd_count $DAEMON_PID), baseline $fd0"; ls -l /proc/$DAEMON_PID/fd; false; } &&
	test "$(api GET /_ping)" = OK &&
	stop_daemon
'

test_done
