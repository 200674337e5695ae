#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='network disconnect and container removal: the interface is gone when the call returns, no veth is left (reaper threads, shutdown, restart), a reconnect right after works with the same static address'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
command -v jq >/dev/null 2>&1 || skip_all 'needs jq'
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

in_ctr() { # in_ctr NAME CMD...: CMD from the host, in the container's netns
	_k=$(docker inspect -f '{{.NetworkSettings.SandboxKey}}' "$1") && shift && nsenter --net="$_k" "$@"
}

ip_on() {
	docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

# host_veth NAME IF: the name of the host end (in berthd's netns) of the
# container's interface IF, from the peer ifindex "IF@ifN" shows
host_veth() {
	_n=$(in_ctr "$1" ip -o link show "$2" | sed -n 's/^[0-9]*: [^@]*@if\([0-9]*\):.*/\1/p') &&
	test -n "$_n" &&
	in_daemon_netns ip -o link | sed -n "s/^$_n: \([^@:]*\)[@:].*/\1/p"
}

# no_link NAME: berthd's netns has no link of that name
no_link() {
	! in_daemon_netns ip link show "$1" >/dev/null 2>&1
}

# veths_of_daemon: the host ends berthd's netns holds, sorted
veths_of_daemon() {
	in_daemon_netns ip -o link | sed -n 's/^[0-9]*: \(bveth[^@:]*\)[@:].*/\1/p' | sort
}

test_expect_success 'start berthd (in its own netns) with a busybox image' '
	start_daemon --dns 192.0.2.53 &&
	test -n "$DAEMON_NETNS" &&
	mkdir -p root/bin root/etc &&
	cp /bin/busybox root/bin/ &&
	for c in sh echo cat ls true sleep ip ping; do
		ln -s busybox root/bin/$c || return 1
	done &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null &&
	docker network create --subnet 10.91.0.0/24 fa >/dev/null &&
	docker network create --subnet 10.92.0.0/24 fb >/dev/null &&
	docker run -d --name c1 --network fa busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker run -d --name peer --network fb --ip 10.92.0.9 busybox sh -c "while :; do sleep 0.5; done" >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'disconnect: the interface is gone in the container when the call returns' '
	docker network connect --ip 10.92.0.50 fb c1 &&
	in_ctr c1 ip -o -4 addr show eth1 | grep -q "10.92.0.50/24" &&
	hv=$(host_veth c1 eth1) &&
	test -n "$hv" &&
	in_daemon_netns ip -o link show "$hv" | grep -q "master br-" &&
	docker network disconnect fb c1 &&
	in_ctr c1 ip -o link >links &&
	! grep -q "eth1" links &&
	! in_ctr c1 ip -o -4 addr | grep -q "10.92.0.50" &&
	wait_for 5 no_link "$hv" &&
	docker inspect c1 >c1.json &&
	test "$(jq -r ".[0].NetworkSettings.Networks | keys | join(\",\")" c1.json)" = fa
'

test_expect_success 'reconnect right after disconnect, same static address, five times' '
	i=0 &&
	while [ $i -lt 5 ]; do
		docker network connect --ip 10.92.0.50 fb c1 &&
		in_ctr c1 ip -o -4 addr show eth1 | grep -q "10.92.0.50/24" &&
		test "$(ip_on c1 fb)" = 10.92.0.50 &&
		docker exec c1 ping -c1 -W2 10.92.0.9 >/dev/null &&
		docker network disconnect fb c1 &&
		! in_ctr c1 ip -o link | grep -q "eth1" || return 1
		i=$((i + 1))
	done &&
	docker network inspect fb >fb.json &&
	test "$(jq -r ".[0].Containers | length" fb.json)" = 1
'

test_expect_success 'the same through the API, back to back' '
	id=$(docker inspect -f "{{.Id}}" c1) &&
	i=0 &&
	while [ $i -lt 5 ]; do
		curl -sf --unix-socket "$DAEMON_SOCK" -X POST -H "Content-Type: application/json" \
			-d "{\"Container\":\"$id\",\"EndpointConfig\":{\"IPAMConfig\":{\"IPv4Address\":\"10.92.0.51\"}}}" \
			http://berth/networks/fb/connect >/dev/null &&
		curl -sf --unix-socket "$DAEMON_SOCK" -X POST -H "Content-Type: application/json" \
			-d "{\"Container\":\"$id\"}" http://berth/networks/fb/disconnect >/dev/null || return 1
		i=$((i + 1))
	done &&
	! in_ctr c1 ip -o link | grep -q "eth1" &&
	wait_for 5 sh -c "test \"\$(nsenter --net=/run/netns/$DAEMON_NETNS ip -o link | grep -c bveth)\" = 2"
'

test_expect_success 'disconnects of several containers at once leave no veth' '
	for n in 1 2 3 4 5 6; do
		docker run -d --name m$n --network fa busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
		docker network connect fb m$n || return 1
	done &&
	veths_of_daemon >before &&
	test "$(wc -l <before)" = 14 &&
	pids= &&
	for n in 1 2 3 4 5 6; do
		docker network disconnect fb m$n &
		pids="$pids $!"
	done &&
	for p in $pids; do
		wait $p || return 1
	done &&
	for n in 1 2 3 4 5 6; do
		! in_ctr m$n ip -o link | grep -q "eth1" || return 1
	done &&
	wait_for 5 sh -c "test \"\$(nsenter --net=/run/netns/$DAEMON_NETNS ip -o link | grep -c bveth)\" = 8"
'

test_expect_success 'rm -f: the container veths go with it' '
	docker network connect fb m1 &&
	hv1=$(host_veth m1 eth0) && hv2=$(host_veth m1 eth1) &&
	test -n "$hv1" && test -n "$hv2" &&
	docker rm -f m1 m2 m3 >/dev/null &&
	no_link "$hv1" && no_link "$hv2" &&
	wait_for 5 sh -c "test \"\$(nsenter --net=/run/netns/$DAEMON_NETNS ip -o link | grep -c bveth)\" = 5"
'

test_expect_success 'berthd stopped right after a disconnect leaves no veth of it' '
	docker network connect fb m4 &&
	hv=$(host_veth m4 eth1) &&
	test -n "$hv" &&
	docker network disconnect fb m4 &&
	stop_daemon &&
	no_link "$hv" &&
	test "$(veths_of_daemon | wc -l)" = 5
'

test_expect_success 'restart of berthd: a veth left on a berth bridge is swept' '
	br=$(in_daemon_netns ip -o link show type bridge | sed -n "s/^[0-9]*: \(br-[^:@]*\).*/\1/p" | head -1) &&
	test -n "$br" &&
	in_daemon_netns ip link add bvethdead0 type veth peer name bvethdead1 &&
	in_daemon_netns ip link set bvethdead0 master "$br" up &&
	start_daemon --dns 192.0.2.53 &&
	wait_for 5 no_link bvethdead0 &&
	no_link bvethdead1 &&
	test "$(veths_of_daemon | wc -l)" = 5 &&
	docker network connect --ip 10.92.0.50 fb c1 &&
	docker exec c1 ping -c1 -W2 10.92.0.9 >/dev/null &&
	docker network disconnect fb c1 &&
	! in_ctr c1 ip -o link | grep -q "eth1"
'

test_expect_success 'after everything: no veth of berth left' '
	docker rm -f $(docker ps -aq) >/dev/null &&
	docker network rm fa fb >/dev/null &&
	test -z "$(veths_of_daemon)" &&
	stop_daemon &&
	test -z "$(veths_of_daemon)" &&
	check_daemon_log "$DAEMON_LOG"
'

test_done
