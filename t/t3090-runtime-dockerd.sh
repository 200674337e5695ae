#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime driven by a real engine: Debian dockerd --add-runtime'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

test_have_prereq ROOT,BUSYBOX || skip_all 'needs root and busybox-static'
command -v dockerd >/dev/null && command -v containerd >/dev/null && command -v docker >/dev/null ||
	skip_all 'needs dockerd, containerd and docker (Debian docker.io)'

# a private engine: own sockets and dirs, no bridge, no iptables, so that it
# cannot disturb another engine on this machine
DK=$TRASH/dk
SOCK=$DK/d.sock
chmod 755 "$TRASH"
mkdir -p "$DK"
dk() { docker -H "unix://$SOCK" "$@"; }
# stop the private dockerd (bounded wait for its exit), then its mounts
dk_stop() {
	_dp=$(cat "$DK/dockerd.pid.0" 2>/dev/null) || return 0
	kill "$_dp" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $_dp 2>/dev/null"
	umount -R "$DK"/data/* 2>/dev/null
}

test_expect_success 'start dockerd with --add-runtime berth' '
	setsid containerd --root "$DK/ctd" --state "$DK/ctd-state" --address "$DK/ctd.sock" \
		>"$DK/containerd.log" 2>&1 </dev/null &
	echo $! >"$DK/containerd.pid" &&
	test_atexit "kill \$(cat $DK/containerd.pid) 2>/dev/null" &&
	wait_for 10 test -S "$DK/ctd.sock" &&
	setsid dockerd --data-root "$DK/data" --exec-root "$DK/exec" -H "unix://$SOCK" \
		--containerd "$DK/ctd.sock" --pidfile "$DK/dockerd.pid" --bridge none --iptables=false \
		--ip-masq=false --ip-forward=false --add-runtime "berth=$BERTH_BUILD_DIR/runtime/berth-runtime" \
		--default-runtime berth >"$DK/dockerd.log" 2>&1 </dev/null &
	echo $! >"$DK/dockerd.pid.0" &&
	test_atexit "dk_stop" &&
	wait_for 30 dk version &&
	dk info --format "{{json .Runtimes}}" | grep "\"berth\""
'

test_expect_success 'import a busybox image' '
	r=$TRASH/img && mkdir -p "$r/bin" "$r/etc" "$r/tmp" &&
	cp /bin/busybox "$r/bin/" && for c in $(/bin/busybox --list); do [ "$c" = busybox ] || ln -sf busybox "$r/bin/$c"; done &&
	printf "root:x:0:0:root:/:/bin/sh\n" >"$r/etc/passwd" && printf "root:x:0:\n" >"$r/etc/group" &&
	tar -C "$r" -c . | dk import -c "CMD [\"sh\"]" - busybox:berth >/dev/null &&
	rm -rf "$r"
'

test_expect_success 'docker run --runtime berth: output and exit code' '
	test "$(dk run --rm --network none --runtime berth busybox:berth echo hello)" = hello &&
	{ dk run --rm --network none --runtime berth busybox:berth sh -c "exit 42"; rc=$?; } &&
	test $rc = 42
'

test_expect_success 'the container got the runtime namespaces, caps and seccomp from dockerd' '
	dk run --rm --network none busybox:berth sh -c "echo \$\$; hostname; grep -E \"^(CapEff|Seccomp):\" /proc/self/status" >out &&
	test "$(sed -n 1p out)" = 1 &&
	grep "CapEff:.*00000000a80425fb" out &&
	grep "Seccomp:.*2" out
'

test_expect_success 'detached container: exec, pause, unpause, top, stop' '
	dk run -d --name c1 --network none busybox:berth sleep 300 >id &&
	test_when_finished "dk rm -f c1 >/dev/null 2>&1" &&
	test "$(dk exec c1 echo inside)" = inside &&
	{ dk exec c1 sh -c "exit 3"; rc=$?; } && test $rc = 3 &&
	dk pause c1 &&
	test "$(dk inspect -f "{{.State.Status}}" c1)" = paused &&
	dk unpause c1 &&
	dk top c1 | grep "sleep 300" &&
	dk stop -t 1 c1 &&
	test "$(dk inspect -f "{{.State.Status}}" c1)" = exited
'

test_expect_success 'tty and limits' '
	dk run --rm -t --network none busybox:berth sh -c "test -t 1 && echo tty" | grep tty &&
	dk run --rm --network none --memory 64m --pids-limit 50 busybox:berth \
		sh -c "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max" >out &&
	grep "^67108864$" out && grep "^50$" out
'

test_expect_success 'docker update of a running container' '
	dk run -d --name c2 --network none busybox:berth sleep 300 >/dev/null &&
	test_when_finished "dk rm -f c2 >/dev/null 2>&1" &&
	dk update --memory 96m --memory-swap 200m c2 &&
	dk exec c2 sh -c "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max" | grep "^100663296$"
'

test_expect_success 'stop the engine' '
	kill $(cat "$DK/dockerd.pid.0") && wait_for 20 sh -c "! kill -0 $(cat "$DK/dockerd.pid.0")" &&
	kill $(cat "$DK/containerd.pid") && wait_for 20 sh -c "! kill -0 $(cat "$DK/containerd.pid")"
'

test_done
