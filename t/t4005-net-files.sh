#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='net: /etc/hosts, /etc/hostname and /etc/resolv.conf of a container'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-net.sh"

test_expect_success 'setup: a fake host resolv.conf and hosts' '
	printf "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.53\nnameserver 2001:db8::53\nsearch corp.example\noptions edns0 trust-ad\n" >host-resolv &&
	printf "127.0.0.1 localhost\n10.1.1.1 thehost\n" >host-hosts
'

test_expect_success 'user-defined network: embedded DNS with ndots:0' '
	net-tool files etc --hostname web1 --embedded-dns --resolv host-resolv \
		--self 172.18.0.2=web1 --add-host db:10.9.9.9 --add-host v6host:2001:db8::1 &&
	cat >expect <<-\EOF &&
	search corp.example
	nameserver 127.0.0.11
	nameserver 2001:db8::53
	options edns0 trust-ad ndots:0
	EOF
	cmp expect etc/resolv.conf &&
	test "$(cat etc/hostname)" = web1 &&
	cat >expect <<-\EOF &&
	127.0.0.1	localhost
	::1	localhost ip6-localhost ip6-loopback
	fe00::0	ip6-localnet
	ff00::0	ip6-mcastprefix
	ff02::1	ip6-allnodes
	ff02::2	ip6-allrouters
	10.9.9.9	db
	2001:db8::1	v6host
	172.18.0.2	web1
	EOF
	cmp expect etc/hosts
'

test_expect_success '--dns-search and --dns-option replace the host ones; ndots kept' '
	net-tool files etc --hostname web1 --embedded-dns --resolv host-resolv \
		--dns-search example.test --dns-option ndots:2 &&
	printf "search example.test\nnameserver 127.0.0.11\nnameserver 2001:db8::53\noptions ndots:2\n" >expect &&
	cmp expect etc/resolv.conf
'

test_expect_success 'default bridge: host servers minus loopback and IPv6' '
	net-tool files etc --hostname abc --resolv host-resolv &&
	printf "search corp.example\nnameserver 10.0.0.53\noptions edns0 trust-ad\n" >expect &&
	cmp expect etc/resolv.conf &&
	net-tool files etc --hostname abc --resolv host-resolv --ipv6 &&
	grep -q "nameserver 2001:db8::53" etc/resolv.conf
'

test_expect_success 'default bridge with daemon/--dns servers' '
	net-tool files etc --hostname abc --resolv host-resolv --dns 192.0.2.53 --dns 198.51.100.53 &&
	printf "search corp.example\nnameserver 192.0.2.53\nnameserver 198.51.100.53\noptions edns0 trust-ad\n" >expect &&
	cmp expect etc/resolv.conf
'

test_expect_success 'only loopback servers on the host: Google defaults' '
	printf "nameserver 127.0.0.53\n" >lo-resolv &&
	net-tool files etc --hostname abc --resolv lo-resolv &&
	printf "nameserver 8.8.8.8\nnameserver 8.8.4.4\n" >expect &&
	cmp expect etc/resolv.conf
'

test_expect_success 'host network copies the host files' '
	net-tool files etc --hostname h --host-network --resolv host-resolv --hosts host-hosts &&
	cmp host-resolv etc/resolv.conf &&
	cmp host-hosts etc/hosts
'

test_expect_success 'connect/disconnect: rewriting updates the self entries in place' '
	net-tool files etc --hostname web1 --embedded-dns --resolv host-resolv \
		--self 172.18.0.2=web1 --self 172.19.0.5=web1 &&
	grep -q "^172.19.0.5	web1$" etc/hosts &&
	net-tool files etc --hostname web1 --embedded-dns --resolv host-resolv --self 172.18.0.2=web1 &&
	! grep -q 172.19.0.5 etc/hosts &&
	test "$(ls etc | sort | tr "\n" " ")" = "hostname hosts resolv.conf "
'

test_expect_success 'bad input: --add-host without an IP, a bad --dns' '
	test_must_fail net-tool files etc2 --hostname x --add-host nohostip 2>err &&
	grep -q "invalid extra host" err &&
	test_must_fail net-tool files etc2 --hostname x --add-host h:999.1.1.1 2>err &&
	grep -q "invalid IP address in add-host" err &&
	test_must_fail net-tool files etc2 --hostname x --dns not-an-ip 2>err &&
	grep -q "invalid DNS server" err
'

test_expect_success 'no sanitizer report from any net-tool run' '
	net_sanitizer_clean
'

test_done
