#!/bin/sh
test_description='containers: logs over rotated json-file logs (read, tail, follow across a rotation), the logs Content-Type by API version, docker exec --user by name against the container'"'"'s passwd and group'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
test_have_prereq CURL || skip_all "curl is missing"
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

test_cmp_files() {
	cmp "$1" "$2" || { diff -u "$1" "$2" | head -n 40; return 1; }
}

# the log lines of FILE in order (the "log" member, newline dropped)
log_lines() {
	sed -e 's/^{"log":"\(.*\)\\n","stream".*$/\1/' "$@"
}

test_expect_success 'start daemon with a busybox image that has users and groups' '
	start_daemon &&
	mkdir -p root/bin root/etc root/tmp && chmod 1777 root/tmp &&
	cp /bin/busybox root/bin/ &&
	for c in sh echo cat ls true false sleep id seq head test; do ln -s busybox root/bin/$c || return 1; done &&
	printf "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nsvc:x:1001:1001::/srv:/bin/sh\n" >root/etc/passwd &&
	printf "root:x:0:\napp:x:1000:\nsvc:x:1001:\nstaff:x:50:app\naudio:x:63:app,svc\n" >root/etc/group &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null &&
	mkdir -p evil/bin evil/etc evil/tmp &&
	cp /bin/busybox evil/bin/ &&
	for c in sh id sleep true; do ln -s busybox evil/bin/$c || return 1; done &&
	echo "hostonly:x:4242:4242::/:/bin/sh" >"$TRASH/hostpasswd" &&
	ln -s "../../../../../../../../..$TRASH/hostpasswd" evil/etc/passwd &&
	ln -s "$TRASH/hostpasswd" evil/etc/group &&
	tar -C evil -c . | docker import -c "ENV PATH=/bin" - evil:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'logs Content-Type: raw-stream before API 1.42, multiplexed-stream from 1.42 without a tty' '
	docker run -d --name ct busybox sh -c "echo hi; while :; do sleep 0.5; done" >/dev/null &&
	docker run -d -t --name ctt busybox sh -c "echo hi; while :; do sleep 0.5; done" >/dev/null &&
	wait_for 10 sh -c "docker logs ct | grep -q hi" &&
	curl -s -D h41 -o /dev/null --unix-socket "$DAEMON_SOCK" "http://b/v1.41/containers/ct/logs?stdout=1" &&
	grep -i "^content-type: application/vnd.docker.raw-stream" h41 &&
	curl -s -D h44 -o b44 --unix-socket "$DAEMON_SOCK" "http://b/v1.44/containers/ct/logs?stdout=1" &&
	grep -i "^content-type: application/vnd.docker.multiplexed-stream" h44 &&
	printf "\001\000\000\000\000\000\000\003hi\n" >expect && cmp expect b44 &&
	curl -s -D h42 -o /dev/null --unix-socket "$DAEMON_SOCK" "http://b/v1.42/containers/ct/logs?stderr=1" &&
	grep -i "^content-type: application/vnd.docker.multiplexed-stream" h42 &&
	curl -s -D htty -o /dev/null --unix-socket "$DAEMON_SOCK" "http://b/v1.44/containers/ctt/logs?stdout=1" &&
	grep -i "^content-type: application/vnd.docker.raw-stream" htty &&
	docker rm -f ct ctt >/dev/null
'

test_expect_success 'logs read every rotated file, oldest first; --tail reaches into them' '
	docker run -d --name rot --log-opt max-size=1k --log-opt max-file=4 busybox \
		sh -c "i=0; while [ \$i -lt 200 ]; do echo line\$i; i=\$((i+1)); done" >/dev/null &&
	timeout 20 docker wait rot >/dev/null &&
	lp=$(docker inspect rot --format {{.LogPath}}) &&
	test -s "$lp.1" && test -s "$lp.2" && test -s "$lp.3" && test ! -e "$lp.4" &&
	log_lines "$lp.3" "$lp.2" "$lp.1" "$lp" >expect &&
	test "$(tail -n 1 expect)" = line199 &&
	test "$(wc -l <expect)" -gt 30 &&
	docker logs rot >out &&
	test_cmp_files expect out &&
	docker logs --tail 35 rot >out35 &&
	tail -n 35 expect >expect35 &&
	test_cmp_files expect35 out35 &&
	test "$(head -n 1 out35)" = line165 &&
	docker logs --tail 0 rot >out0 && test ! -s out0 &&
	docker logs --tail 1 rot >out1 && test "$(cat out1)" = line199 &&
	n=$(wc -l <expect) &&
	docker logs --tail 10000 rot >outall && test_cmp_files expect outall &&
	docker rm rot >/dev/null
'

test_expect_success 'logs -f continues across rotations: each line once, in order' '
	docker run -d --name rotf --log-opt max-size=1k --log-opt max-file=10 busybox \
		sh -c "sleep 0.3; i=0; while [ \$i -lt 150 ]; do echo line\$i; i=\$((i+1)); sleep 0.01; done" >/dev/null &&
	timeout 30 docker logs -f rotf >fout &&
	i=0 && : >expect &&
	while [ $i -lt 150 ]; do echo line$i >>expect; i=$((i+1)); done &&
	test_cmp_files expect fout &&
	lp=$(docker inspect rotf --format {{.LogPath}}) &&
	test -s "$lp.3" &&
	docker rm rotf >/dev/null
'

test_expect_success 'logs -f on a single-file log that is cut (max-file=1) still follows' '
	docker run -d --name rot1 --log-opt max-size=1k --log-opt max-file=1 busybox \
		sh -c "sleep 0.3; i=0; while [ \$i -lt 60 ]; do echo line\$i; i=\$((i+1)); sleep 0.01; done" >/dev/null &&
	timeout 30 docker logs -f rot1 >fout1 &&
	test "$(tail -n 1 fout1)" = line59 &&
	docker rm rot1 >/dev/null
'

test_expect_success 'docker exec --user NAME and NAME:GROUP from the container'"'"'s passwd and group' '
	docker run -d --name ux busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test "$(docker exec -u app ux id -u)" = 1000 &&
	test "$(docker exec -u app ux id -g)" = 1000 &&
	docker exec -u app ux id -G >groups &&
	grep -qw 50 groups && grep -qw 63 groups &&
	test "$(docker exec -u app:staff ux id -g)" = 50 &&
	test "$(docker exec -u svc:audio ux id -un)" = svc &&
	test "$(docker exec -u svc:63 ux id -g)" = 63 &&
	test "$(docker exec -u 1234:5678 ux sh -c "echo \$(id -u):\$(id -g)")" = 1234:5678 &&
	test "$(docker exec -u 1000 ux id -g)" = 1000 &&
	test "$(docker exec ux id -u)" = 0 &&
	docker exec -u app -d ux sh -c "id -u >/tmp/who" &&
	wait_for 5 docker exec ux test -s /tmp/who &&
	test "$(docker exec ux cat /tmp/who)" = 1000
'

test_expect_success 'docker exec --user with an unknown name or group: 126 and Docker'"'"'s words' '
	{ docker exec -u nosuch ux true >out 2>&1; rc=$?; } ;
	test "$rc" = 126 &&
	grep -q "unable to find user nosuch: no matching entries in passwd file" out &&
	{ docker exec -u app:nogroup ux true >out 2>&1; rc=$?; } ;
	test "$rc" = 126 &&
	grep -q "unable to find group nogroup" out &&
	test_must_fail docker exec -d -u nosuch ux true 2>err &&
	grep -q "unable to find user nosuch" err &&
	docker rm -f ux >/dev/null
'

test_expect_success 'exec --user never reads a passwd outside the rootfs (symlinks resolve inside it)' '
	docker run -d --name ev evil sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test_must_fail docker exec -u hostonly ev true >out 2>&1 &&
	grep -q "unable to find user hostonly" out &&
	test "$(docker exec -u 77 ev id -u)" = 77 &&
	docker rm -f ev >/dev/null
'

test_expect_success 'nothing left; the daemon log is clean' '
	test -z "$(docker ps -aq)" &&
	stop_daemon
'

test_done
