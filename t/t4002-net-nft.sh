#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='net: nftables table of berth: masquerade, DNAT, internal networks, reconciliation'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-net.sh"

if ! test_have_prereq ROOT,NETNS,BUSYBOX,NFT; then
	skip_all "needs root, network namespaces, busybox and nft"
fi

ping4() { in_ns "$1" busybox ping -c 1 -W 2 "$2"; }
ruleset() { in_ns host nft list table inet berth; }

test_expect_success 'setup: host, an outside namespace, containers' '
	host_snapshot >host-before &&
	net_ns_add host && net_ns_add out && net_ns_add c1 && net_ns_add c2 &&
	in_ns host ip link add ho0 type veth peer name ho1 netns "${NETNS_PREFIX}out" &&
	in_ns host ip addr add 192.0.2.1/24 dev ho0 &&
	in_ns host ip link set ho0 up &&
	in_ns out ip addr add 192.0.2.2/24 dev ho1 &&
	in_ns out ip link set ho1 up &&
	ntool net-ls >/dev/null &&
	test "$(in_ns host nft list tables)" = ""
'

test_expect_success 'a bridge network adds the table with masquerade and turns on ip_forward' '
	echo 0 | in_ns host tee /proc/sys/net/ipv4/ip_forward >/dev/null &&
	test "$(in_ns host cat /proc/sys/net/ipv4/ip_forward)" = 0 &&
	ntool net-create n1 --subnet 10.71.0.0/24 --bridge br-n1 &&
	ruleset >rules &&
	grep -q "ip saddr 10.71.0.0/24 oifname != \"br-n1\" masquerade" rules &&
	test "$(in_ns host cat /proc/sys/net/ipv4/ip_forward)" = 1
'

test_expect_success 'masquerade: a container reaches a host that has no route back' '
	ntool attach n1 c1 "$(ns_path c1)" >ep1 &&
	! in_ns out ip route get 10.71.0.2 | grep -q "via" &&
	ping4 c1 192.0.2.2
'

test_expect_success 'an internal network has no masquerade and cannot leave its bridge' '
	ntool net-create n2 --subnet 10.72.0.0/24 --internal --bridge br-n2 &&
	ruleset >rules &&
	! grep -q "10.72.0.0/24" rules &&
	grep -q "iifname \"br-n2\" oifname != \"br-n2\" drop" rules &&
	ntool attach n2 c2 "$(ns_path c2)" >ep2 &&
	! in_ns c2 ip route show default | grep -q . &&
	in_ns c2 ip route add default via 10.72.0.1 &&
	test_must_fail ping4 c2 192.0.2.2 &&
	test_must_fail ping4 c2 10.71.0.2
'

test_expect_success 'DNAT: a published port answers from outside' '
	net_bg c1 echo.out net-tool echo 10.71.0.2 80 tcp &&
	wait_ready echo.out &&
	ntool publish c1 8080:80 "127.0.0.1:8081:80" >pub &&
	grep -q "tcp - 8080 10.71.0.2 80" pub &&
	ruleset >rules &&
	grep -q "tcp dport 8080 dnat ip to 10.71.0.2:80" rules &&
	grep -q "ip daddr 127.0.0.1 iifname != \"br-n1\" tcp dport 8081 dnat ip to 10.71.0.2:80" rules &&
	echo hello-dnat | in_ns out net-tool ask 192.0.2.1 8080 tcp >got &&
	test "$(cat got)" = hello-dnat
'

test_expect_success 'UDP DNAT rule' '
	ntool publish c1 5353:53/udp &&
	ruleset | grep -q "udp dport 5353 dnat ip to 10.71.0.2:53"
'

test_expect_success 'a host port published by another container is refused, nothing added' '
	ruleset >before &&
	test_must_fail ntool publish c2 9999:99=10.72.0.2 8080:80=10.72.0.2 2>err &&
	grep -q "cannot publish tcp port 0.0.0.0:8080: already published by container c1" err &&
	ruleset >after &&
	cmp before after &&
	ntool publish c2 5353:53/tcp=10.72.0.2 &&
	ntool unpublish c2 &&
	ruleset >after &&
	cmp before after
'

test_expect_success 'reconciliation is idempotent: no duplicate rules' '
	ruleset >r1 &&
	ntool net-ls >/dev/null && ntool net-ls >/dev/null && ntool net-ls >/dev/null &&
	ruleset >r2 &&
	cmp r1 r2 &&
	test "$(in_ns host nft list tables | grep -c berth)" = 1
'

test_expect_success 'a table deleted behind our back is rebuilt on restart' '
	in_ns host nft delete table inet berth &&
	ntool net-ls >/dev/null &&
	ruleset >r3 &&
	cmp r1 r3
'

test_expect_success 'unpublish removes the DNAT rules, rm removes the table' '
	ntool unpublish c1 &&
	ruleset >rules &&
	! grep -q dnat rules &&
	grep -q masquerade rules &&
	ntool detach n1 c1 && ntool detach n2 c2 &&
	ntool net-rm n1 && ntool net-rm n2 &&
	! in_ns host nft list table inet berth 2>/dev/null &&
	test "$(in_ns host nft list tables)" = ""
'

test_expect_success 'nothing of berth on the real host' '
	host_snapshot >host-after &&
	! grep -q "table inet berth" host-after &&
	! grep -q "bveth\|br-n1\|br-n2" host-after
'

test_expect_success 'no sanitizer report from any net-tool run' '
	net_sanitizer_clean
'

test_done
