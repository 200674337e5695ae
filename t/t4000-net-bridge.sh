#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='net: bridge networks, veth endpoints, IPv4/IPv6, isolation, IPAM errors'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-net.sh"

if ! test_have_prereq ROOT,NETNS,BUSYBOX; then
	skip_all "needs root, network namespaces and busybox"
fi

ping4() { in_ns "$1" busybox ping -c 1 -W 2 "$2"; }
ping6() { in_ns "$1" busybox ping6 -c 1 -W 2 "$2"; }

# link names of two "ip -o link" outputs are equal
test_cmp_links() {
	sed "s/^[0-9]*: //; s/:.*//" "$1" | sort >"$1.n" &&
	sed "s/^[0-9]*: //; s/:.*//" "$2" | sort >"$2.n" &&
	cmp "$1.n" "$2.n"
}

detach_all() {
	_net=$1
	shift
	for _c in "$@"; do
		ntool detach "$_net" "$_c" || return 1
	done
}

# no ethN left in these container namespaces
no_eth_in() {
	for _c in "$@"; do
		in_ns "$_c" ip -o link show >"$TRASH/l" || return 1
		if grep -q "eth" "$TRASH/l"; then
			cat "$TRASH/l"
			return 1
		fi
	done
}

test_expect_success 'setup: host and container namespaces' '
	host_snapshot >host-before &&
	net_ns_add host && net_ns_add c1 && net_ns_add c2 && net_ns_add c3
'

test_expect_success 'create a dual-stack bridge network' '
	ntool net-create n1 --subnet 10.91.0.0/24 --ipv6 --subnet6 fd00:91::/64 --bridge br-n1 &&
	ntool net-inspect n1 >out &&
	test "$(kv subnet out)" = 10.91.0.0/24 &&
	test "$(kv gateway out)" = 10.91.0.1 &&
	test "$(kv gateway6 out)" = fd00:91::1 &&
	in_ns host ip -o addr show br-n1 >addr &&
	grep -q "10.91.0.1/24" addr &&
	grep -q "fd00:91::1/64" addr &&
	in_ns host ip -o link show br-n1 | grep -q "state UP\|,UP" &&
	test "$(in_ns host cat /proc/sys/net/ipv4/ip_forward)" = 1
'

test_expect_success 'first endpoint gets the first free address, a derived MAC, eth0 and routes' '
	ntool attach n1 c1 "$(ns_path c1)" >ep1 &&
	test "$(kv ip ep1)" = 10.91.0.2 &&
	test "$(kv ip6 ep1)" = fd00:91::2 &&
	test "$(kv mac ep1)" = 02:42:0a:5b:00:02 &&
	test "$(kv ifname ep1)" = eth0 &&
	in_ns c1 ip -o addr show eth0 >addr &&
	grep -q "10.91.0.2/24" addr && grep -q "fd00:91::2/64" addr &&
	in_ns c1 ip link show eth0 | grep -q "02:42:0a:5b:00:02" &&
	in_ns c1 ip route show default | grep -q "via 10.91.0.1 dev eth0" &&
	in_ns c1 ip -6 route show default | grep -q "via fd00:91::1 dev eth0" &&
	in_ns c1 ip -o link show lo | grep -q "UP" &&
	in_ns host ip -o link show "$(kv host_ifname ep1)" | grep -q "master br-n1"
'

test_expect_success 'static IPv4 and IPv6 addresses' '
	ntool attach n1 c2 "$(ns_path c2)" --ip 10.91.0.50 --ip6 fd00:91::50 >ep2 &&
	test "$(kv ip ep2)" = 10.91.0.50 &&
	test "$(kv ip6 ep2)" = fd00:91::50 &&
	test "$(kv mac ep2)" = 02:42:0a:5b:00:32 &&
	in_ns c2 ip -o addr show eth0 | grep -q "10.91.0.50/24"
'

test_expect_success 'two endpoints on one bridge ping each other (v4 and v6)' '
	ping4 c1 10.91.0.50 &&
	ping4 c2 10.91.0.2 &&
	ping6 c1 fd00:91::50 &&
	ping6 c2 fd00:91::2 &&
	ping4 c1 10.91.0.1
'

test_expect_success 'a static address in use is refused and leaves nothing behind' '
	in_ns host ip -o link show >links-before &&
	test_must_fail ntool attach n1 c3 "$(ns_path c3)" --ip 10.91.0.50 2>err &&
	grep -q "already in use" err &&
	in_ns host ip -o link show >links-after &&
	test_cmp_links links-before links-after &&
	! in_ns c3 ip link show eth0 2>/dev/null
'

test_expect_success 'static addresses outside the subnet or on the gateway are refused' '
	test_must_fail ntool attach n1 c3 "$(ns_path c3)" --ip 10.92.0.9 2>err &&
	grep -q "not a host address" err &&
	test_must_fail ntool attach n1 c3 "$(ns_path c3)" --ip 10.91.0.1 2>err &&
	grep -q "already in use" err &&
	test_must_fail ntool attach n1 c3 "$(ns_path c3)" --ip 10.91.0.255 2>err &&
	grep -q "not a host address" err
'

test_expect_success 'endpoints on two different bridges do not reach each other' '
	ntool net-create n2 --subnet 10.92.0.0/24 --bridge br-n2 &&
	ntool attach n2 c3 "$(ns_path c3)" >ep3 &&
	test "$(kv ip ep3)" = 10.92.0.2 &&
	ping4 c3 10.92.0.1 &&
	test_must_fail ping4 c1 10.92.0.2 &&
	test_must_fail ping4 c3 10.91.0.2
'

test_expect_success 'a second network gives eth1 and keeps the first default route' '
	ntool attach n1 c3 "$(ns_path c3)" >ep3b &&
	test "$(kv ifname ep3b)" = eth1 &&
	test "$(kv ip ep3b)" = 10.91.0.3 &&
	in_ns c3 ip route show default >def &&
	test "$(wc -l <def)" = 1 &&
	grep -q "via 10.92.0.1 dev eth0" def &&
	ping4 c3 10.91.0.2
'

test_expect_success 'bad input: overlap, invalid CIDR, gateway outside, range outside, duplicates' '
	test_must_fail ntool net-create bad1 --subnet 10.91.0.128/25 2>err &&
	grep -q "overlaps" err &&
	test_must_fail ntool net-create bad2 --subnet 10.1.2/24 2>err &&
	grep -q "invalid CIDR" err &&
	test_must_fail ntool net-create bad3 --subnet 10.93.0.0/33 2>err &&
	grep -q "invalid CIDR" err &&
	test_must_fail ntool net-create bad4 --subnet 10.93.0.0/24 --gateway 10.94.0.1 2>err &&
	grep -q "is not in subnet" err &&
	test_must_fail ntool net-create bad5 --subnet 10.93.0.0/24 --ip-range 10.93.1.0/28 2>err &&
	grep -q "not inside subnet" err &&
	test_must_fail ntool net-create n1 --subnet 10.95.0.0/24 2>err &&
	grep -q "already exists" err &&
	test_must_fail ntool net-create bad6 --ipv6 --subnet 10.96.0.0/24 --subnet6 fd00:91:0:0:1::/80 2>err &&
	grep -q "overlaps" err &&
	test_must_fail ntool net-create bad7 --subnet 10.96.0.0/24 --gateway 10.96.0.0 2>err &&
	grep -q "is not in subnet" err &&
	ntool net-ls >ls &&
	! grep -q bad ls &&
	! in_ns host ip link show | grep -q "br-bad\|: br-[0-9a-f]"
'

test_expect_success 'ip-range and gateway are honoured' '
	ntool net-create n3 --subnet 10.97.0.0/16 --gateway 10.97.255.254 --ip-range 10.97.5.0/24 &&
	ntool attach n3 c2 "$(ns_path c2)" >ep &&
	test "$(kv ip ep)" = 10.97.5.0 -o "$(kv ip ep)" = 10.97.5.1 &&
	test "$(kv gateway ep)" = 10.97.255.254 &&
	test "$(kv ifname ep)" = eth1 &&
	ntool detach n3 c2 "$(ns_path c2)" &&
	! in_ns c2 ip link show eth1 2>/dev/null &&
	ntool net-rm n3
'

test_expect_success 'default pools: 172.17 for the default bridge, host routes are skipped' '
	ntool net-create bridge --default-bridge >out &&
	ntool net-inspect bridge >out &&
	test "$(kv subnet out)" = 172.17.0.0/16 &&
	test "$(kv ifname out)" = berth0 &&
	in_ns host ip link add rt18 type veth peer name rt18p &&
	in_ns host ip addr add 172.18.3.1/24 dev rt18 &&
	in_ns host ip link set rt18 up &&
	in_ns host ip link set rt18p up &&
	ntool net-create auto1 &&
	ntool net-inspect auto1 >out &&
	test "$(kv subnet out)" = 172.19.0.0/16 &&
	test "$(kv gateway out)" = 172.19.0.1 &&
	ntool attach bridge c1 "$(ns_path c1)" >ep &&
	test "$(kv ip ep)" = 172.17.0.2 &&
	test "$(kv mac ep)" = 02:42:ac:11:00:02 &&
	ntool detach bridge c1 "$(ns_path c1)" &&
	ntool net-rm auto1 && ntool net-rm bridge &&
	in_ns host ip link del rt18
'

test_expect_success 'MTU reaches the bridge and both veth ends' '
	ntool net-create m1 --subnet 10.98.0.0/24 --mtu 1400 --bridge br-m1 &&
	ntool attach m1 c1 "$(ns_path c1)" >ep &&
	in_ns host ip link show br-m1 | grep -q "mtu 1400" &&
	in_ns c1 ip link show "$(kv ifname ep)" | grep -q "mtu 1400" &&
	ntool detach m1 c1 "$(ns_path c1)" &&
	ntool net-rm m1
'

test_expect_success 'a network in use cannot be removed' '
	test_must_fail ntool net-rm n1 2>err &&
	grep -q "active endpoints" err &&
	ntool net-ls | grep -q "^n1$"
'

test_expect_success 'detach releases addresses; re-attach reuses them' '
	ntool detach n1 c2 "$(ns_path c2)" &&
	! in_ns c2 ip link show eth0 2>/dev/null &&
	ntool attach n1 c2 "$(ns_path c2)" --ip 10.91.0.50 >ep &&
	test "$(kv ip ep)" = 10.91.0.50
'

test_expect_success 'teardown removes every link, address and the nft table' '
	detach_all n1 c1 c2 c3 &&
	ntool detach n2 c3 &&
	ntool net-rm n1 && ntool net-rm n2 &&
	in_ns host ip -o link show >links &&
	! grep -q "bveth\|br-n\|berth0" links &&
	test "$(in_ns host nft list tables 2>/dev/null)" = "" &&
	no_eth_in c1 c2 c3
'

test_expect_success 'nothing of berth on the real host' '
	host_snapshot >host-after &&
	! grep -q "bveth\|br-n[0-9]\|berth0" host-after &&
	! grep -q "table inet berth" host-after
'

test_expect_success 'no sanitizer report from any net-tool run' '
	net_sanitizer_clean
'

test_done
