#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='net: userland port proxy on a uv loop, TCP and UDP, port errors'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-net.sh"

if ! test_have_prereq ROOT,NETNS,BUSYBOX; then
	skip_all "needs root, network namespaces and busybox"
fi

# serve_ports OUT ARGS...: net-tool serve in the host netns, wait until ready
serve_ports() {
	_o=$1
	shift
	net_bg host "$_o" net-tool --state "$NET_STATE" "$@" &&
	SERVE_PID=$BG_PID &&
	wait_ready "$_o"
}

# stop_serve: SIGTERM, bounded wait, exit status 0 required
stop_serve() {
	kill -TERM "$SERVE_PID" &&
	wait "$SERVE_PID"
}

test_expect_success 'setup: host, container on a bridge with echo servers' '
	host_snapshot >host-before &&
	net_ns_add host && net_ns_add c1 &&
	ntool net-create n1 --subnet 10.61.0.0/24 --ipv6 --subnet6 fd00:61::/64 --bridge br-n1 &&
	ntool attach n1 c1 "$(ns_path c1)" >ep &&
	net_bg c1 tcp.out net-tool echo 10.61.0.2 80 tcp && wait_ready tcp.out &&
	net_bg c1 udp.out net-tool echo 10.61.0.2 53 udp && wait_ready udp.out
'

test_expect_success 'TCP and UDP through the proxy on 127.0.0.1' '
	serve_ports serve.out serve c1 127.0.0.1:8080:80 127.0.0.1:5300:53/udp &&
	MAIN_SERVE=$SERVE_PID &&
	grep -q "tcp 127.0.0.1 8080 10.61.0.2 80" serve.out &&
	grep -q "udp 127.0.0.1 5300 10.61.0.2 53" serve.out &&
	echo hello-tcp | in_ns host net-tool ask 127.0.0.1 8080 tcp >got &&
	test "$(cat got)" = hello-tcp &&
	echo hello-udp | in_ns host net-tool ask 127.0.0.1 5300 udp >got &&
	test "$(cat got)" = hello-udp &&
	echo again-udp | in_ns host net-tool ask 127.0.0.1 5300 udp >got &&
	test "$(cat got)" = again-udp
'

test_expect_success 'IPv6: TCP and UDP through the proxy on [::1]' '
	net_bg c1 tcp6.out net-tool echo fd00:61::2 80 tcp && wait_ready tcp6.out &&
	net_bg c1 udp6.out net-tool echo fd00:61::2 53 udp && wait_ready udp6.out &&
	serve_ports serve6.out serve c6 "[::1]:8086:80=fd00:61::2" "[::1]:5306:53/udp=fd00:61::2" &&
	echo hello-tcp6 | in_ns host net-tool ask ::1 8086 tcp >got &&
	test "$(cat got)" = hello-tcp6 &&
	echo hello-udp6 | in_ns host net-tool ask ::1 5306 udp >got &&
	test "$(cat got)" = hello-udp6 &&
	in_ns host nft list table inet berth >rules &&
	grep -q "ip6 daddr ::1 tcp dport 8086 dnat ip6 to \[fd00:61::2\]:80" rules &&
	stop_serve &&
	SERVE_PID=$MAIN_SERVE
'

test_expect_success 'a bigger TCP transfer arrives intact' '
	busybox dd if=/dev/urandom of=blob bs=1024 count=900 2>/dev/null &&
	in_ns host net-tool ask 127.0.0.1 8080 tcp <blob >blob.back &&
	cmp blob blob.back
'

test_expect_success 'several TCP clients at once' '
	for i in 1 2 3 4 5; do
		(echo "client-$i" | in_ns host net-tool ask 127.0.0.1 8080 tcp >"c$i.out") &
	done &&
	wait_for 10 sh -c "test -s c1.out && test -s c2.out && test -s c3.out && test -s c4.out && test -s c5.out" &&
	test "$(cat c3.out)" = client-3
'

test_expect_success 'a port in use by another program fails clearly, nothing half set up' '
	net_bg host other.out net-tool echo 127.0.0.1 8085 tcp && wait_ready other.out &&
	ntool net-ls >/dev/null &&
	cp "$NET_STATE/networks.json" state-before &&
	in_ns host nft list ruleset >nft-before &&
	test_must_fail in_ns host net-tool --state "$NET_STATE" serve c9 \
		127.0.0.1:9090:80=10.61.0.2 127.0.0.1:8085:80=10.61.0.2 2>err &&
	grep -q "cannot publish tcp port 127.0.0.1:8085: address already in use" err &&
	cmp state-before "$NET_STATE/networks.json" &&
	in_ns host nft list ruleset >nft-after &&
	cmp nft-before nft-after &&
	test_must_fail in_ns host net-tool ask 127.0.0.1 9090 tcp </dev/null &&
	echo still | in_ns host net-tool ask 127.0.0.1 8080 tcp >got &&
	test "$(cat got)" = still
'

test_expect_success 'a port published by another container is refused' '
	test_must_fail ntool publish c9 127.0.0.1:8080:80=10.61.0.2 2>err &&
	grep -q "cannot publish tcp port 127.0.0.1:8080: already published by container c1" err &&
	cmp state-before "$NET_STATE/networks.json"
'

test_expect_success 'the proxy stops cleanly and unpublishes its ports' '
	stop_serve &&
	grep -q "\"ports\":\[\]" "$NET_STATE/networks.json" &&
	! in_ns host nft list table inet berth | grep -q dnat &&
	test_must_fail in_ns host net-tool ask 127.0.0.1 8080 tcp </dev/null
'

test_expect_success 'an ephemeral host port is chosen when none is given' '
	serve_ports eph.out serve c1 127.0.0.1::80 &&
	port=$(awk "/^tcp/ {print \$3}" eph.out) &&
	test "$port" -gt 0 &&
	echo eph | in_ns host net-tool ask 127.0.0.1 "$port" tcp >got &&
	test "$(cat got)" = eph &&
	stop_serve
'

test_expect_success 'port specs: ranges, protocols, out-of-range and malformed ports' '
	net-tool port-parse 127.0.0.1:8000-8001:80-81/udp >out &&
	printf "udp 127.0.0.1 8000 - 80\nudp 127.0.0.1 8001 - 81\n" >expect &&
	cmp expect out &&
	net-tool port-parse "[::1]:8080:80" >out &&
	test "$(cat out)" = "tcp ::1 8080 - 80" &&
	test_must_fail net-tool port-parse 70000:80 2>err &&
	grep -q "invalid hostPort" err &&
	test_must_fail net-tool port-parse 8080:0 2>err &&
	grep -q "invalid containerPort" err &&
	test_must_fail net-tool port-parse 8080:65536 2>err &&
	test_must_fail net-tool port-parse 8000-8002:80-81 2>err &&
	grep -q "invalid ranges" err &&
	test_must_fail net-tool port-parse 80/sctp 2>err &&
	grep -q "invalid proto" err &&
	test_must_fail net-tool port-parse 1.2.3:80:80 2>err &&
	grep -q "invalid IP" err
'

test_expect_success 'teardown and nothing of berth on the real host' '
	ntool detach n1 c1 && ntool net-rm n1 &&
	test "$(in_ns host nft list tables)" = "" &&
	host_snapshot >host-after &&
	! grep -q "table inet berth\|bveth\|br-n1" host-after
'

test_expect_success 'no sanitizer report from any net-tool run' '
	net_sanitizer_clean
'

test_done
