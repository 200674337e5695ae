#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='userland-proxy false: published ports by DNAT alone, 127.0.0.1 included (route_localnet on the bridge, masquerade)'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
command -v curl >/dev/null 2>&1 || skip_all 'needs curl'
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

test_expect_success 'start berthd (own netns) with "userland-proxy": false' '
	echo "{\"userland-proxy\": false}" >"$TRASH/d.json" &&
	start_daemon &&
	test -n "$DAEMON_NETNS" &&
	mkdir -p root/bin root/www &&
	cp /bin/busybox root/bin/ &&
	for c in sh httpd sleep; do ln -s busybox root/bin/$c || return 1; done &&
	echo "no proxy here" >root/www/index.html &&
	tar -C root -c . | docker import -c "ENV PATH=/bin" - busybox:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'a port published on all addresses answers on 127.0.0.1 with nobody listening' '
	docker run -d --name web -p 8080:80 busybox httpd -f -p 80 -h /www >/dev/null &&
	wait_for 5 in_daemon_netns curl -sf -m 2 -o page http://127.0.0.1:8080/ &&
	test "$(cat page)" = "no proxy here" &&
	in_daemon_netns curl -sf -m 2 http://172.17.0.1:8080/ >page2 &&
	test "$(cat page2)" = "no proxy here" &&
	in_daemon_netns ss -Hltn "sport = :8080" >listeners &&
	test ! -s listeners &&
	test "$(in_daemon_netns cat /proc/sys/net/ipv4/conf/berth0/route_localnet)" = 1 &&
	in_daemon_netns nft list table inet berth >rules &&
	grep -q "ip saddr 127.0.0.0/8 oifname \"berth0\" masquerade" rules &&
	! grep -q "ip daddr != 127.0.0.0/8" rules
'

test_expect_success 'a user network and a port on 127.0.0.1 only' '
	docker network create nu >/dev/null &&
	br=br-$(docker network inspect -f "{{.Id}}" nu | cut -c1-12) &&
	docker run -d --name web2 --network nu -p 127.0.0.1:8081:80 busybox httpd -f -p 80 -h /www >/dev/null &&
	wait_for 5 in_daemon_netns curl -sf -m 2 -o page http://127.0.0.1:8081/ &&
	test "$(cat page)" = "no proxy here" &&
	test "$(in_daemon_netns cat /proc/sys/net/ipv4/conf/$br/route_localnet)" = 1 &&
	test_must_fail in_daemon_netns curl -sf -m 1 http://172.17.0.1:8081/
'

test_expect_success 'removed: the rules go, nothing answers' '
	docker rm -f web web2 >/dev/null &&
	docker network rm nu >/dev/null &&
	in_daemon_netns nft list table inet berth >rules &&
	! grep -q "dport 8080" rules &&
	test_must_fail in_daemon_netns curl -sf -m 1 http://127.0.0.1:8080/ &&
	check_daemon_log "$DAEMON_LOG"
'

test_done
