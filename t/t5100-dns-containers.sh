#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='embedded DNS for containers: names, aliases round robin, AAAA/NODATA, PTR, name.network, short id, live changes, forwarding to a stub, SERVFAIL, TCP, EDNS, a burst'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
command -v jq >/dev/null 2>&1 || skip_all 'needs jq'
command -v dig >/dev/null 2>&1 || skip_all 'needs dig (dnsutils)'
command -v dnsmasq >/dev/null 2>&1 || skip_all 'needs dnsmasq'
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

# the upstream is a dnsmasq stub on 127.0.0.53 inside berthd's own netns
# (the "host" of its containers): nothing ever reaches a real resolver
STUB=127.0.0.53

# q CTR ARGS...: dig from inside the container's netns at the embedded server
q() {
	_k=$(docker inspect -f '{{.NetworkSettings.SandboxKey}}' "$1") && shift &&
	nsenter --net="$_k" dig @127.0.0.11 +time=6 +tries=1 "$@"
}

start_stub() {
	# nsenter execs dnsmasq: $! is the stub's own pid
	nsenter --net="/run/netns/$DAEMON_NETNS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address=$STUB --port=53 --address=/ext.test/192.0.2.7 \
		--pid-file="$TRASH/dnsmasq.pid" >"$TRASH/dnsmasq.log" 2>&1 &
	STUB_PID=$!
	test_atexit "kill $STUB_PID 2>/dev/null"
	wait_for 5 in_daemon_netns dig @$STUB +time=1 +tries=1 +short ext.test
}

test_expect_success 'start berthd with the stub as its DNS, and a busybox image' '
	start_daemon --dns $STUB &&
	start_stub &&
	mkdir -p root/bin &&
	cp /bin/busybox root/bin/ &&
	for c in sh cat sleep nslookup ping; do ln -s busybox root/bin/$c || return 1; done &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'containers on a user network: name, alias, short id, hostname, name.network' '
	docker network create --subnet 10.88.0.0/24 dn >/dev/null &&
	docker run -d --name web1 --hostname h-web1 --network dn --network-alias svc busybox sh -c "while :; do sleep 0.5; done" >id1 &&
	docker run -d --name cli --network dn busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	ip1=$(docker inspect -f "{{.NetworkSettings.Networks.dn.IPAddress}}" web1) &&
	test "$(q cli +short web1)" = "$ip1" &&
	test "$(q cli +short WEB1)" = "$ip1" &&
	test "$(q cli +short svc)" = "$ip1" &&
	test "$(q cli +short $(cut -c1-12 id1))" = "$ip1" &&
	test "$(q cli +short h-web1)" = "$ip1" &&
	test "$(q cli +short web1.dn)" = "$ip1" &&
	q cli web1 >full &&
	grep -q "IN	A	$ip1" full &&
	grep -E "^web1\.[[:space:]]+600[[:space:]]" full &&
	docker exec cli nslookup web1 >ns.out &&
	grep -q "$ip1" ns.out
'

test_expect_success 'an alias held by three containers: all answered, order varies' '
	docker run -d --name web2 --network dn --network-alias svc busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker run -d --name web3 --network dn --network-alias svc busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	q cli +short svc | sort >all &&
	test "$(wc -l <all)" = 3 &&
	i=0 &&
	while [ $i -lt 20 ]; do q cli +short svc | head -1; i=$((i + 1)); done | sort -u >firsts &&
	test "$(wc -l <firsts)" -gt 1
'

test_expect_success 'AAAA on a v4-only network is NODATA (NOERROR, no answer), not forwarded' '
	q cli AAAA web1 >aaaa &&
	grep -q "status: NOERROR" aaaa &&
	grep -q "ANSWER: 0" aaaa
'

test_expect_success 'PTR of a container address answers name.network.' '
	ip1=$(docker inspect -f "{{.NetworkSettings.Networks.dn.IPAddress}}" web1) &&
	test "$(q cli +short -x "$ip1")" = "web1.dn."
'

test_expect_success 'AAAA on an IPv6 network' '
	docker network create --ipv6 --subnet fd88:1::/64 --subnet 10.89.0.0/24 dn6 >/dev/null &&
	docker run -d --name six --network dn6 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker run -d --name six2 --network dn6 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	a6=$(docker inspect -f "{{.NetworkSettings.Networks.dn6.GlobalIPv6Address}}" six) &&
	test -n "$a6" &&
	test "$(q six2 +short AAAA six)" = "$a6" &&
	test -n "$(q six2 +short A six)"
'

test_expect_success 'names are scoped to the networks the asker is on' '
	test -z "$(q six2 +short web1)" &&
	test -z "$(q cli +short six)"
'

test_expect_success 'other names go to the stub: answer relayed, id kept; TCP and EDNS work' '
	test "$(q cli +short ext.test)" = 192.0.2.7 &&
	q cli +tcp +short web1 >tcp.out &&
	test "$(cat tcp.out)" = "$(docker inspect -f "{{.NetworkSettings.Networks.dn.IPAddress}}" web1)" &&
	q cli +tcp +short ext.test >tcp2.out &&
	test "$(cat tcp2.out)" = 192.0.2.7 &&
	q cli +edns=0 web1 >edns.out &&
	grep -q "EDNS: version: 0" edns.out
'

test_expect_success 'rename, disconnect and stop take effect at once' '
	docker rename web1 webone &&
	test -n "$(q cli +short webone)" &&
	test -z "$(q cli +short web1 | grep -v "^;")" &&
	docker network disconnect dn web2 &&
	test "$(q cli +short svc | wc -l)" = 2 &&
	docker stop -t 0 web3 >/dev/null &&
	test "$(q cli +short svc | wc -l)" = 1 &&
	docker start web3 >/dev/null &&
	test "$(q cli +short svc | wc -l)" = 2
'

test_expect_success 'connect brings the resolver and the names of the new network' '
	docker network connect dn six2 &&
	test -n "$(q six2 +short webone)" &&
	test -n "$(q six2 +short six)"
'

test_expect_success 'the default bridge has no embedded DNS: resolv.conf names the daemon servers' '
	docker run --rm busybox cat /etc/resolv.conf >rc &&
	grep -q "^nameserver $STUB" rc &&
	! grep -q 127.0.0.11 rc
'

test_expect_success 'an --internal network never forwards, but answers its own names' '
	docker network create --internal dint >/dev/null &&
	docker run -d --name ia --network dint busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker run -d --name ib --network dint busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test -n "$(q ib +short ia)" &&
	q ib ext.test >int.out &&
	! grep -q "192.0.2.7" int.out &&
	docker rm -f ia ib >/dev/null &&
	docker network rm dint >/dev/null
'

test_expect_success 'a burst of 1000 queries: every one answered' '
	i=0 &&
	while [ $i -lt 1000 ]; do
		case $((i % 3)) in 0) echo "webone A" ;; 1) echo "svc A" ;; 2) echo "ext.test A" ;; esac
		i=$((i + 1))
	done >batch &&
	k=$(docker inspect -f "{{.NetworkSettings.SandboxKey}}" cli) &&
	nsenter --net="$k" dig @127.0.0.11 +time=3 +tries=1 +noall +comments -f batch >burst.out &&
	test "$(grep -c "status: NOERROR" burst.out)" = 1000
'

test_expect_success 'SERVFAIL within the timeout when the stub is down' '
	kill $STUB_PID && wait_for 5 sh -c "! kill -0 $STUB_PID 2>/dev/null" &&
	q cli ext.test >sf.out &&
	grep -q "status: SERVFAIL" sf.out &&
	test -n "$(q cli +short webone)"
'

test_expect_success 'restart of berthd: the resolvers serve again' '
	stop_daemon &&
	start_daemon --dns $STUB &&
	wait_for 5 sh -c "test -n \"\$(nsenter --net=\$(docker inspect -f {{.NetworkSettings.SandboxKey}} cli) dig @127.0.0.11 +time=1 +tries=1 +short webone)\""
'

test_expect_success 'cleanup: containers and networks go; no resolver left' '
	docker rm -f $(docker ps -aq) >/dev/null &&
	docker network rm dn dn6 >/dev/null &&
	check_daemon_log "$DAEMON_LOG"
'

test_done
