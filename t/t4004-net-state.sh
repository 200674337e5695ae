#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='net: state persisted and restored, reconciliation after a restart'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-net.sh"

if ! test_have_prereq ROOT,NETNS,BUSYBOX; then
	skip_all "needs root, network namespaces and busybox"
fi

test_expect_success 'setup' '
	host_snapshot >host-before &&
	net_ns_add host && net_ns_add c1 && net_ns_add c2 && net_ns_add c3 &&
	ntool net-create n1 --subnet 10.51.0.0/24 --ipv6 --subnet6 fd00:51::/64 --bridge br-n1 &&
	ntool attach n1 c1 "$(ns_path c1)" >ep1 &&
	ntool attach n1 c2 "$(ns_path c2)" --ip 10.51.0.77 >ep2
'

test_expect_success 'the state file is JSON with networks and allocations' '
	test -f "$NET_STATE/networks.json" &&
	grep -q "\"v4_subnet\":\"10.51.0.0/24\"" "$NET_STATE/networks.json" &&
	grep -q "\"ip\":\"10.51.0.77\"" "$NET_STATE/networks.json" &&
	grep -q "\"ip6\":\"fd00:51::2\"" "$NET_STATE/networks.json" &&
	test "$(stat -c %a "$NET_STATE/networks.json")" = 600
'

test_expect_success 'allocations survive a restart: the next address is not reused' '
	ntool attach n1 c3 "$(ns_path c3)" >ep3 &&
	test "$(kv ip ep3)" = 10.51.0.3 &&
	test "$(kv ip6 ep3)" = fd00:51::4 &&
	test_must_fail ntool attach n1 c3 "$(ns_path c3)" 2>err &&
	grep -q "already exists" err &&
	ntool net-inspect n1 >out &&
	test "$(kv endpoints out)" = 3
'

test_expect_success 'a bridge deleted behind our back is re-created with its gateway' '
	in_ns host ip link del br-n1 &&
	ntool net-ls >/dev/null &&
	in_ns host ip -o addr show br-n1 >addr &&
	grep -q "10.51.0.1/24" addr &&
	grep -q "fd00:51::1/64" addr &&
	in_ns host ip -o link show "$(kv host_ifname ep1)" | grep -q "master br-n1" &&
	in_ns c1 busybox ping -c 1 -W 2 10.51.0.77
'

test_expect_success 'orphaned host veths on our bridges are removed on restart, ours are kept' '
	in_ns host ip link add bvethdeadbeef type veth peer name orphanpeer &&
	in_ns host ip link set bvethdeadbeef master br-n1 &&
	in_ns host ip link add bvethotherd type veth peer name otherpeer &&
	ntool net-ls >/dev/null &&
	! in_ns host ip link show bvethdeadbeef 2>/dev/null &&
	in_ns host ip link show "$(kv host_ifname ep3)" >/dev/null &&
	in_ns host ip link show bvethotherd >/dev/null &&
	in_ns host ip link del bvethotherd
'

test_expect_success 'a corrupt state file is an error, not a silent reset' '
	cp "$NET_STATE/networks.json" saved.json &&
	echo "{not json" >"$NET_STATE/networks.json" &&
	test_must_fail ntool net-ls 2>err &&
	grep -q "networks.json" err &&
	cp saved.json "$NET_STATE/networks.json" &&
	ntool net-ls | grep -q "^n1$"
'

test_expect_success 'detach after restart with the netns gone still releases the address' '
	ip netns del "${NETNS_PREFIX}c3" &&
	ntool detach n1 c3 &&
	ntool attach n1 c1b "$(ns_path c2)" --ifname eth5 >ep &&
	test "$(kv ip ep)" = 10.51.0.3
'

test_expect_success 'teardown and nothing of berth on the real host' '
	ntool detach n1 c1 && ntool detach n1 c2 && ntool detach n1 c1b &&
	ntool net-rm n1 &&
	grep -q "\"networks\":\[\]" "$NET_STATE/networks.json" &&
	! in_ns host ip link show | grep -q "bveth\|br-n1" &&
	host_snapshot >host-after &&
	! grep -q "table inet berth\|bveth\|br-n1" host-after
'

test_expect_success 'no sanitizer report from any net-tool run' '
	net_sanitizer_clean
'

test_done
