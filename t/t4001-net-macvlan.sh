#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='net: macvlan networks on a veth parent, modes, the VLAN parent error'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-net.sh"

if ! test_have_prereq ROOT,NETNS,BUSYBOX; then
	skip_all "needs root, network namespaces and busybox"
fi

ping4() { in_ns "$1" busybox ping -c 1 -W 2 "$2"; }

test_expect_success 'setup: host with a veth parent the test made' '
	host_snapshot >host-before &&
	net_ns_add host && net_ns_add c1 && net_ns_add c2 && net_ns_add c3 &&
	in_ns host ip link add pv0 type veth peer name pv1 &&
	in_ns host ip link set pv0 up &&
	in_ns host ip link set pv1 up
'

test_expect_success 'macvlan (bridge mode) endpoints get addresses and reach each other' '
	ntool net-create mv --driver macvlan --parent pv0 --subnet 10.81.0.0/24 --gateway 10.81.0.254 &&
	ntool net-inspect mv >out &&
	test "$(kv driver out)" = macvlan &&
	test "$(kv ifname out)" = pv0 &&
	ntool attach mv c1 "$(ns_path c1)" >ep1 &&
	ntool attach mv c2 "$(ns_path c2)" --ip 10.81.0.20 >ep2 &&
	test "$(kv ip ep1)" = 10.81.0.1 &&
	test "$(kv host_ifname ep1)" = "" &&
	in_ns c1 ip -d link show eth0 >l &&
	grep -q "macvlan mode bridge" l &&
	grep -q "02:42:0a:51:00:01" l &&
	in_ns c1 ip route show default | grep -q "via 10.81.0.254" &&
	ping4 c1 10.81.0.20 &&
	ping4 c2 10.81.0.1
'

test_expect_success 'private mode keeps macvlans on one parent apart' '
	in_ns host ip link add pw0 type veth peer name pw1 &&
	in_ns host ip link set pw0 up && in_ns host ip link set pw1 up &&
	ntool net-create mvp --driver macvlan --parent pw0 --mode private --subnet 10.82.0.0/24 &&
	ntool attach mvp c1 "$(ns_path c1)" >ep &&
	test "$(kv ifname ep)" = eth1 &&
	ntool attach mvp c3 "$(ns_path c3)" &&
	in_ns c3 ip -d link show eth0 | grep -q "macvlan mode private" &&
	test_must_fail ping4 c3 10.82.0.1 &&
	ntool detach mvp c1 "$(ns_path c1)" &&
	ntool detach mvp c3 "$(ns_path c3)" &&
	ntool net-rm mvp
'

test_expect_success 'vepa and passthru modes are passed to the kernel' '
	ntool net-create mvv --driver macvlan --parent pw0 --mode vepa --subnet 10.83.0.0/24 &&
	ntool attach mvv c3 "$(ns_path c3)" &&
	in_ns c3 ip -d link show eth0 | grep -q "macvlan mode vepa" &&
	ntool detach mvv c3 "$(ns_path c3)" &&
	ntool net-rm mvv &&
	ntool net-create mvt --driver macvlan --parent pw0 --mode passthru --subnet 10.84.0.0/24 &&
	ntool attach mvt c3 "$(ns_path c3)" &&
	in_ns c3 ip -d link show eth0 | grep -q "macvlan mode passthru" &&
	ntool detach mvt c3 "$(ns_path c3)" &&
	ntool net-rm mvt &&
	test_must_fail ntool net-create mvx --driver macvlan --parent pw0 --mode bogus --subnet 10.85.0.0/24 2>err &&
	grep -q "invalid macvlan mode" err
'

test_expect_success 'a VLAN parent fails clearly on a kernel without 802.1Q, leaving nothing' '
	test_must_fail ntool net-create vl --driver macvlan --parent pv0.10 --subnet 10.86.0.0/24 2>err &&
	cat err &&
	grep -q "802.1Q" err &&
	grep -q "VLAN" err &&
	! in_ns host ip link show pv0.10 2>/dev/null &&
	! ntool net-ls | grep -q "^vl$"
'

test_expect_success 'a missing parent and a missing -o parent are refused' '
	test_must_fail ntool net-create mn --driver macvlan --parent nosuch0 --subnet 10.87.0.0/24 2>err &&
	grep -q "parent interface .nosuch0. does not exist" err &&
	test_must_fail ntool net-create mn --driver macvlan --subnet 10.87.0.0/24 2>err &&
	grep -q "parent is required" err &&
	test_must_fail ntool net-create mn --driver macvlan --parent nosuch0.5000 --subnet 10.87.0.0/24 2>err &&
	grep -q "invalid VLAN parent" err
'

test_expect_success 'detach removes the macvlan from the container; rm leaves the parent' '
	ntool detach mv c1 "$(ns_path c1)" &&
	ntool detach mv c2 "$(ns_path c2)" &&
	! in_ns c1 ip link show eth0 2>/dev/null &&
	! in_ns c2 ip link show eth0 2>/dev/null &&
	ntool net-rm mv &&
	in_ns host ip link show pv0 >/dev/null
'

test_expect_success 'nothing of berth on the real host' '
	host_snapshot >host-after &&
	! grep -q "bveth\|pv0\|table inet berth" host-after
'

test_expect_success 'no sanitizer report from any net-tool run' '
	net_sanitizer_clean
'

test_done
