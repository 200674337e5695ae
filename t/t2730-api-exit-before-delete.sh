#!/bin/sh
test_description='containers: the exit counts as soon as the monitor reports it, while the runtime'"'"'s delete still runs (a new start waits for that delete; --rm removes at once); --rm rootfs mounted volatile'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"
[ -x "$BERTH_BUILD_DIR/runtime/berth-runtime" ] || skip_all "berth-runtime is not built"

# slowdel: berth-runtime whose "delete" first waits (bounded, 20 s) for the
# file GATE, then counts itself in DELETED
test_expect_success 'setup: a runtime whose delete waits for a gate, daemon, busybox' '
	cat >slowdel <<-EOF &&
	#!/bin/sh
	for a; do
		if [ "\$a" = delete ]; then
			i=0
			while [ ! -e "$TRASH/GATE" ] && [ \$i -lt 2000 ]; do sleep 0.01; i=\$((i + 1)); done
			echo x >>"$TRASH/DELETED"
			break
		fi
	done
	exec "$BERTH_BUILD_DIR/runtime/berth-runtime" "\$@"
	EOF
	chmod +x slowdel &&
	printf "{\"runtimes\": {\"slowdel\": {\"path\": \"%s\"}}}\n" "$TRASH/slowdel" >d.json &&
	start_daemon &&
	mkdir -p root/bin root/etc root/tmp &&
	cp /bin/busybox root/bin/ &&
	for c in sh cat true grep sleep; do ln -s busybox root/bin/$c || return 1; done &&
	echo "root:x:0:0:root:/root:/bin/sh" >root/etc/passwd &&
	tar -C root -c . | docker import -c "ENV PATH=/bin" - busybox:latest >/dev/null
'
test_atexit 'touch "$TRASH/GATE"; grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

expect_code() {
	_want=$1
	shift
	"$@"
	_got=$?
	[ "$_got" = "$_want" ] || { echo "exit $_got, wanted $_want: $*" >&2; return 1; }
}

deleted() {
	if [ -f DELETED ]; then grep -c . DELETED; else echo 0; fi
}

deleted_is() {
	test "$(deleted)" = "$1"
}

lines_are() {
	test "$(grep -c . "$1")" = "$2"
}

test_expect_success 'docker run returns the exit code while the runtime delete still waits' '
	rm -f GATE DELETED &&
	expect_code 7 docker run --runtime slowdel --name qq busybox sh -c "exit 7" &&
	test "$(deleted)" = 0 &&
	test "$(docker inspect qq --format "{{.State.Status}} {{.State.ExitCode}}")" = "exited 7" &&
	docker ps -a --format "{{.Names}} {{.Status}}" | grep "^qq Exited (7)"
'

test_expect_success 'a start meanwhile waits for that delete, then runs' '
	rm -f rc &&
	{ { docker start -a qq; echo $? >rc; } & } &&
	sleep 0.3 &&
	test ! -e rc &&
	test "$(deleted)" = 0 &&
	touch GATE &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 7 &&
	wait_for 20 deleted_is 2 &&
	test "$(docker inspect qq --format "{{.State.Status}} {{.State.ExitCode}}")" = "exited 7" &&
	! grep -E "level=(error|warn).*(exists|already)" d.log
'

test_expect_success 'docker restart of a container that just exited' '
	rm -f GATE DELETED &&
	docker start qq >/dev/null &&
	docker wait qq >code && test "$(cat code)" = 7 &&
	rm -f rc &&
	{ { docker restart qq >/dev/null; echo $? >rc; } & } &&
	sleep 0.3 &&
	touch GATE &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 0 &&
	docker wait qq >code && test "$(cat code)" = 7 &&
	docker rm qq >/dev/null
'

test_expect_success '--rm: removed before the runtime delete ends; nothing left after it' '
	rm -f GATE DELETED &&
	expect_code 3 docker run --rm --runtime slowdel --name rr busybox sh -c "exit 3" &&
	test "$(deleted)" = 0 &&
	test_must_fail docker inspect rr >/dev/null 2>&1 &&
	touch GATE &&
	wait_for 20 deleted_is 1 &&
	wait_for 10 sh -c "! grep -q \" $DAEMON_DATA/\" /proc/mounts" &&
	wait_for 10 sh -c "test -z \"\$(ls $DAEMON_EXEC | grep -v -e ^runtime\$ -e ^netns\$ -e ^bin\$)\""
'

test_expect_success 'a shared pid namespace: the exit counts once the delete is done' '
	rm -f GATE DELETED &&
	rm -f rc &&
	{ { docker run --rm --pid host --runtime slowdel busybox true; echo $? >rc; } & } &&
	sleep 0.3 &&
	test ! -e rc &&
	touch GATE &&
	wait_for 20 test -s rc &&
	test "$(cat rc)" = 0 &&
	test "$(deleted)" = 1
'

test_expect_success '--rm mounts the rootfs volatile, a kept container not' '
	docker run --rm busybox grep "^overlay / " /proc/mounts >rm.mounts &&
	grep -q -e ",volatile" -e ",fsync=volatile" rm.mounts &&
	docker run --name kept busybox grep "^overlay / " /proc/mounts >kept.mounts &&
	! grep -q volatile kept.mounts &&
	docker start -a kept >kept2.mounts &&
	! grep -q volatile kept2.mounts &&
	docker rm kept >/dev/null
'

test_expect_success CURL 'export and cp right after the wait returns see the whole rootfs' '
	for i in 1 2 3 4 5; do
		id=$(docker create busybox sh -c "echo $i >/made") &&
		docker start $id >/dev/null &&
		curl -sf --unix-socket "$DAEMON_SOCK" -X POST "http://berth/v1.44/containers/$id/wait" >w &&
		grep -q "\"StatusCode\":0" w &&
		curl -sf --unix-socket "$DAEMON_SOCK" "http://berth/v1.44/containers/$id/export" -o exp.tar &&
		tar -tf exp.tar >list &&
		grep -q "^bin/busybox$" list && grep -q "^made$" list &&
		docker cp $id:/made made.out && test "$(cat made.out)" = $i &&
		docker rm $id >/dev/null || return 1
	done
'

test_expect_success CURL 'starts at once: one runs the container, the others find it running' '
	id=$(docker create busybox sleep 60) &&
	: >codes &&
	for k in 1 2 3 4; do
		{ curl -s -o /dev/null -w "%{http_code}\n" --max-time 20 --unix-socket "$DAEMON_SOCK" \
			-X POST "http://berth/v1.44/containers/$id/start" >>codes & } || return 1
	done &&
	wait_for 20 lines_are codes 4 &&
	test "$(grep -c "^204$" codes)" = 1 && test "$(grep -c "^304$" codes)" = 3 &&
	test "$(docker inspect -f "{{.State.Status}}" $id)" = running &&
	test "$(ps -eo args | grep -c "^[^ ]*berth-monitor .*--id $id")" = 1 &&
	docker rm -f $id >/dev/null
'

test_expect_success 'a restart while its restart policy starts it again: no error' '
	id=$(docker run -d --restart on-failure:5 busybox sh -c "sleep 0.1; exit 1") &&
	for k in 1 2 3; do
		docker restart -t 0 $id >/dev/null || return 1
	done &&
	docker rm -f $id >/dev/null &&
	! grep -E "level=(error|warn).*(set up already|open netns)" d.log
'

test_expect_success 'a failed start leaves its rootfs unmounted' '
	expect_code 127 docker run --name bad busybox nothere 2>err &&
	grep -q "nothere" err &&
	wait_for 10 sh -c "! grep -q \" $DAEMON_DATA/\" /proc/mounts" &&
	docker rm bad >/dev/null
'

test_expect_success 'monitors run berth-runtime from one read-only bind mount (CVE-2019-5736)' '
	grep " $DAEMON_EXEC/bin/berth-runtime " /proc/mounts >m &&
	grep -q " ro," m &&
	cmp "$DAEMON_EXEC/bin/berth-runtime" "$BERTH_BUILD_DIR/runtime/berth-runtime" &&
	test_must_fail sh -c "echo x >>\"$DAEMON_EXEC/bin/berth-runtime\"" 2>/dev/null &&
	docker run -d --name ro busybox sleep 30 >/dev/null &&
	docker exec ro true &&
	docker rm -f ro >/dev/null &&
	test "$(grep -c " $DAEMON_EXEC/bin/berth-runtime " /proc/mounts)" = 1
'

test_expect_success 'stop: nothing left' '
	test -z "$(docker ps -aq)" &&
	wait_for 10 sh -c "! grep -q \" $DAEMON_DATA/\" /proc/mounts" &&
	stop_daemon
'

test_done
