#!/bin/sh
test_description='containers: docker run, exec-less lifecycle through the real CLI (run, -d, -i, -t, logs, stop, kill, wait, restart, rm -f, exit codes)'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

test_expect_success 'start daemon with a busybox image' '
	start_daemon &&
	mkdir -p root/bin root/etc root/tmp &&
	cp /bin/busybox root/bin/ &&
	for c in sh echo cat ls true false sleep env id hostname ip readlink test pwd; do ln -s busybox root/bin/$c || return 1; done &&
	echo "root:x:0:0:root:/root:/bin/sh" >root/etc/passwd &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'docker run --rm busybox echo: output, exit 0, container gone' '
	docker run --rm busybox echo hello from berth >out &&
	test "$(cat out)" = "hello from berth" &&
	test -z "$(docker ps -aq)"
'

test_expect_success 'exit codes: 3, 1, 127 for a missing executable, 126 for a directory' '
	test_expect_code() { want=$1; shift; "$@"; got=$?; test "$got" = "$want" || { echo "exit $got, want $want: $*"; return 1; }; } &&
	test_expect_code 3 docker run --rm busybox sh -c "exit 3" &&
	test_expect_code 1 docker run --rm busybox false &&
	test_expect_code 127 docker run --rm busybox nothere 2>err &&
	grep -q "executable file not found" err &&
	test_expect_code 126 docker run --rm busybox /tmp 2>err &&
	test -z "$(docker ps -aq)"
'

test_expect_success 'stdout and stderr stay apart' '
	docker run --rm busybox sh -c "echo out; echo err >&2" >o 2>e &&
	test "$(cat o)" = out && test "$(cat e)" = err
'

test_expect_success 'docker run -i feeds stdin; the stream closes with it' '
	printf "line one\nline two\n" | docker run --rm -i busybox cat >out &&
	printf "line one\nline two\n" >expect &&
	cmp expect out
'

test_expect_success 'docker run -t under a pty' '
	script -qec "docker run --rm -t busybox sh -c \"echo tty; test -t 1 && echo is-a-tty\"" /dev/null >out &&
	grep -q "^tty" out && grep -q "is-a-tty" out
'

test_expect_success 'docker run -d, ps Up, logs, logs --tail, inspect Running' '
	docker run -d --name web busybox sh -c "i=0; while true; do echo line\$i; i=\$((i+1)); sleep 0.1; done" >id &&
	wait_for 10 sh -c "docker logs web | grep -q line3" &&
	docker ps --format "{{.Names}} {{.Status}}" | grep -q "^web Up" &&
	test "$(docker inspect web --format "{{.State.Status}} {{.State.Running}}")" = "running true" &&
	pid=$(docker inspect web --format "{{.State.Pid}}") && test -d /proc/$pid &&
	test "$(docker logs --tail 1 web | wc -l)" = 1 &&
	docker logs -t web | head -n 1 | grep -Eq "^20[0-9-]+T[0-9:.]+Z line0$" &&
	test -s "$(docker inspect web --format {{.LogPath}})" &&
	head -n 1 "$(docker inspect web --format {{.LogPath}})" | grep -q "^{\"log\":\"line0\\\\n\",\"stream\":\"stdout\",\"time\":\""
'

test_expect_success 'docker logs -f follows and ends when the container stops' '
	docker run -d --name fol busybox sh -c "echo a; sleep 0.9; echo b" >/dev/null &&
	timeout 20 docker logs -f fol >flog &&
	printf "a\nb\n" >expect && cmp expect flog
'

test_expect_success 'docker stop: SIGTERM, then SIGKILL after -t; 137 for sh as pid 1' '
	docker stop -t 1 web >/dev/null &&
	test "$(docker inspect web --format "{{.State.Status}} {{.State.ExitCode}}")" = "exited 137" &&
	docker ps -a --format "{{.Names}} {{.Status}}" | grep -q "^web Exited (137)"
'

test_expect_success 'docker start again, then kill -s and wait' '
	docker run -d --name trap busybox sh -c "trap \"exit 9\" USR1; echo ready; while true; do sleep 0.1; done" >/dev/null &&
	wait_for 10 sh -c "docker logs trap | grep -q ready" &&
	docker kill -s USR1 trap >/dev/null &&
	timeout 20 docker wait trap >code &&
	test "$(cat code)" = 9 &&
	docker start web >/dev/null &&
	docker ps --format "{{.Names}}" | grep -qx web &&
	docker kill web >/dev/null &&
	timeout 20 docker wait web >code &&
	test "$(cat code)" = 137
'

test_expect_success 'docker restart keeps the container, running again' '
	docker run -d --name r1 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	p1=$(docker inspect r1 --format {{.State.Pid}}) &&
	docker restart -t 0 r1 >/dev/null &&
	test "$(docker inspect r1 --format {{.State.Status}})" = running &&
	test "$(docker inspect r1 --format {{.State.Pid}})" != "$p1"
'

test_expect_success 'rm of a running container is 409; rm -f kills and removes' '
	test_must_fail docker rm r1 2>err &&
	grep -q "You cannot remove a running container" err &&
	docker rm -f r1 >/dev/null &&
	test_must_fail docker inspect r1 >/dev/null 2>&1
'

test_expect_success 'start of a running container is a no-op; stop of a stopped one too' '
	docker run -d --name r2 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker start r2 >/dev/null &&
	docker stop -t 0 r2 >/dev/null && docker stop r2 >/dev/null &&
	docker rm r2 >/dev/null
'

test_expect_success 'events: create, start, die, destroy for docker run --rm' '
	t0=$(date +%s) &&
	docker run --rm --name evc busybox true &&
	docker events --since "$t0" --until "$(($(date +%s) + 1))" --filter container=evc --format "{{.Action}}" >ev &&
	grep -qx create ev && grep -qx start ev && grep -qx die ev && grep -qx destroy ev
'

test_expect_success 'docker exec: output, exit codes, stdin, env, workdir, tty, detached, missing command' '
	docker run -d --name ex busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test "$(docker exec ex echo hi)" = hi &&
	{ docker exec ex sh -c "echo err >&2; exit 5" 2>err; test $? = 5; } &&
	test "$(cat err)" = err &&
	test "$(echo input | docker exec -i ex cat)" = input &&
	test "$(docker exec -e FOO=bar -w /bin ex sh -c "echo \$FOO \$(pwd)")" = "bar /bin" &&
	script -qec "docker exec -t ex sh -c \"test -t 1 && echo is-a-tty\"" /dev/null | grep -q is-a-tty &&
	docker exec -d ex sh -c "echo detached >/tmp/d" &&
	wait_for 5 docker exec ex test -f /tmp/d &&
	{ docker exec ex nothere 2>err; test $? = 127; }
'

test_expect_success 'the container has its own network namespace with lo up; SandboxKey enters it' '
	key=$(docker inspect ex --format {{.NetworkSettings.SandboxKey}}) &&
	test -e "$key" &&
	nsenter --net="$key" ip -o link show lo | grep -q "UP" &&
	test "$(readlink /proc/$(docker inspect ex --format {{.State.Pid}})/ns/net)" != "$(readlink /proc/self/ns/net)" &&
	docker run --rm busybox ip -o link show lo | grep -q "LOOPBACK,UP" &&
	test "$(docker run --rm --network host busybox readlink /proc/self/ns/net)" = "$(in_daemon_netns readlink /proc/self/ns/net)" &&
	docker rm -f ex >/dev/null &&
	test ! -e "$key"
'

test_expect_success 'docker run -v: a named volume (made on first use) and a bind mount' '
	docker run --rm -v data:/data busybox sh -c "echo kept >/data/f" &&
	test "$(docker run --rm -v data:/data busybox cat /data/f)" = kept &&
	docker volume inspect data --format {{.Name}} >/dev/null &&
	mkdir -p "$TRASH/hostdir" && echo from-host >"$TRASH/hostdir/h" &&
	test "$(docker run --rm -v "$TRASH/hostdir:/h:ro" busybox cat /h/h)" = from-host &&
	test_must_fail docker run --rm -v "$TRASH/hostdir:/h:ro" busybox sh -c "echo x >/h/new" 2>/dev/null &&
	test ! -e "$TRASH/hostdir/new"
'

test_expect_success 'docker cp both ways, diff, export, commit' '
	docker run -d --name fs busybox sh -c "echo data >/tmp/f; while :; do sleep 0.5; done" >/dev/null &&
	wait_for 10 docker exec fs test -f /tmp/f &&
	docker cp fs:/tmp/f "$TRASH/f.out" && test "$(cat "$TRASH/f.out")" = data &&
	echo hostfile >"$TRASH/in.txt" &&
	docker cp "$TRASH/in.txt" fs:/tmp/ &&
	test "$(docker exec fs cat /tmp/in.txt)" = hostfile &&
	docker diff fs | grep -qx "A /tmp/f" &&
	docker export fs | tar -t | grep -qx "\./tmp/f\|tmp/f" &&
	docker commit -c "CMD [\"cat\",\"/tmp/f\"]" fs committed:1 | grep -q "^sha256:" &&
	test "$(docker run --rm committed:1)" = data &&
	{ docker cp fs:/nonexistent "$TRASH/x" 2>err; test $? != 0; } &&
	grep -q "Could not find the file /nonexistent" err &&
	docker rm -f fs >/dev/null
'

test_expect_success 'restart policies: on-failure:2 stops after two restarts; always restarts until docker stop' '
	docker run -d --name of --restart on-failure:2 busybox sh -c "exit 1" >/dev/null &&
	wait_for 20 sh -c "test \"\$(docker inspect of --format \"{{.RestartCount}} {{.State.Status}}\")\" = \"2 exited\"" &&
	test "$(docker inspect of --format {{.State.ExitCode}})" = 1 &&
	docker run -d --name al --restart always busybox sleep 0.2 >/dev/null &&
	wait_for 20 sh -c "test \$(docker inspect al --format {{.RestartCount}}) -ge 2" &&
	docker stop -t 1 al >/dev/null &&
	n=$(docker inspect al --format {{.RestartCount}}) &&
	test "$(docker inspect al --format {{.State.Status}})" = exited &&
	test "$(docker inspect al --format {{.RestartCount}})" = "$n" &&
	docker rm -f of al >/dev/null
'

test_expect_success 'pause, unpause, top' '
	docker run -d --name pz busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker pause pz >/dev/null &&
	docker ps --format "{{.Names}} {{.Status}}" | grep -q "^pz Up .* (Paused)$" &&
	test "$(docker inspect pz --format {{.State.Status}})" = paused &&
	test_must_fail docker pause pz 2>err && grep -q "already paused" err &&
	docker unpause pz >/dev/null &&
	test "$(docker inspect pz --format {{.State.Status}})" = running &&
	docker top pz >top && head -n 1 top | grep -q "PID" && grep -q "sleep" top &&
	docker top pz -o pid,comm >top2 && grep -q "sleep" top2 &&
	docker pause pz >/dev/null &&
	timeout 20 docker rm -f pz >/dev/null &&
	test_must_fail docker inspect pz >/dev/null 2>&1
'

test_expect_success 'no zombie is left by failed starts' '
	docker run --rm busybox nothere 2>/dev/null; docker run --rm busybox nothere 2>/dev/null;
	wait_for 5 sh -c "! ps -o stat=,ppid= -e | grep -q \"^Z *$DAEMON_PID\$\""
'

test_expect_success 'kill of a stopped container is 409' '
	test_must_fail docker kill web 2>err &&
	grep -q "is not running" err
'

test_expect_success 'after all that: no mounts, monitors or state left but the containers kept' '
	docker rm -f web fol trap >/dev/null &&
	test -z "$(docker ps -aq)" &&
	wait_for 10 sh -c "! grep -q \" $DAEMON_DATA/\" /proc/mounts" &&
	stop_daemon
'

test_done
