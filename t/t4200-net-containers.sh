#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='containers on networks: bridge, user networks, connect/disconnect, static and IPv6 addresses, published ports, none/host/container:, restart, cleanup'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
command -v jq >/dev/null 2>&1 || skip_all 'needs jq'
command -v socat >/dev/null 2>&1 || skip_all 'needs socat'
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

# what the real host has before: nothing of berth's may appear on it
host_state() {
	ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^(berth0|br-|veth)' | sort
	nft list tables 2>/dev/null | grep -w berth
	true
}
host_state >host.before

sandbox() {
	docker inspect -f '{{.NetworkSettings.SandboxKey}}' "$1"
}

# in_ctr NAME CMD...: CMD from the host, in the container's netns
in_ctr() {
	_k=$(sandbox "$1") && shift && nsenter --net="$_k" "$@"
}

ip_on() {
	docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

test_expect_success 'start berthd (in its own netns) with a busybox image' '
	start_daemon --dns 192.0.2.53 &&
	test -n "$DAEMON_NETNS" &&
	mkdir -p root/bin root/etc root/www &&
	cp /bin/busybox root/bin/ &&
	for c in sh echo cat ls true sleep ip ping ping6 httpd nslookup hostname wget; do
		ln -s busybox root/bin/$c || return 1
	done &&
	echo "it works" >root/www/index.html &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'default bridge: eth0 with an address of berth0, default route, daemon DNS' '
	docker run --rm busybox ip -4 -o addr show eth0 >addr &&
	grep -q "inet 172\.17\." addr &&
	docker run --rm busybox ip route >route &&
	grep -q "^default via 172\.17\.0\.1" route &&
	in_daemon_netns ip link show berth0 >/dev/null &&
	! ip link show berth0 2>/dev/null
'

test_expect_success 'inspect of a running bridge container: top-level and per-network addresses' '
	docker run -d --name b1 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker inspect b1 >b1.json &&
	ip=$(jq -r ".[0].NetworkSettings.IPAddress" b1.json) &&
	test "$ip" = "$(jq -r ".[0].NetworkSettings.Networks.bridge.IPAddress" b1.json)" &&
	test "$(jq -r ".[0].NetworkSettings.Gateway" b1.json)" = 172.17.0.1 &&
	test "$(jq -r ".[0].NetworkSettings.Networks.bridge.MacAddress" b1.json)" = \
		"$(printf "02:42:%02x:%02x:%02x:%02x" $(echo "$ip" | tr . " "))" &&
	jq -r ".[0].NetworkSettings.SandboxKey" b1.json | grep -q "/netns/" &&
	docker exec b1 cat /etc/resolv.conf >resolv &&
	grep -q "^nameserver 192.0.2.53" resolv &&
	docker exec b1 cat /etc/hosts >hosts &&
	grep -q "^$ip	" hosts &&
	docker rm -f b1 >/dev/null
'

test_expect_success '--add-host, --dns, --dns-search, --dns-option and --hostname in the /etc files' '
	docker run --rm --hostname h1 --add-host foo.test:10.1.2.3 --dns 192.0.2.99 --dns-search example.test \
		--dns-option ndots:2 busybox sh -c "cat /etc/hosts /etc/resolv.conf /etc/hostname" >files &&
	grep -q "^10.1.2.3[[:space:]]*foo.test" files &&
	grep -q "^nameserver 192.0.2.99" files &&
	! grep -q "^nameserver 192.0.2.53" files &&
	grep -q "^search example.test" files &&
	grep -q "ndots:2" files &&
	grep -qx h1 files &&
	test_must_fail docker run --rm --add-host "bad entry" busybox true 2>err
'

test_expect_success 'a stopped container keeps its networks but no address' '
	docker run --name s1 busybox true &&
	docker inspect s1 >s1.json &&
	test "$(jq -r ".[0].NetworkSettings.Networks | keys[]" s1.json)" = bridge &&
	test "$(jq -r ".[0].NetworkSettings.Networks.bridge.IPAddress" s1.json)" = "" &&
	test "$(jq -r ".[0].NetworkSettings.SandboxKey" s1.json)" = "" &&
	docker rm s1 >/dev/null
'

test_expect_success 'two containers on one user network reach each other by name' '
	docker network create n1 >/dev/null &&
	docker run -d --name alpha --network n1 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker run -d --name bravo --network n1 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker exec bravo ping -c1 -W2 alpha >ping.out &&
	grep -q "1 packets received" ping.out &&
	docker exec alpha cat /etc/resolv.conf >resolv &&
	grep -q "^nameserver 127.0.0.11" resolv &&
	grep -q "ndots:0" resolv
'

test_expect_success 'containers on different networks do not reach each other' '
	docker network create n2 >/dev/null &&
	docker run -d --name charlie --network n2 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	aip=$(ip_on alpha n1) &&
	test -n "$aip" &&
	test_must_fail docker exec charlie ping -c1 -W1 "$aip" >/dev/null
'

test_expect_success 'connect a running container: a second interface, the other network reachable' '
	docker network connect --alias cee n1 charlie &&
	docker exec charlie ip -o link >links &&
	grep -q "eth1" links &&
	docker exec charlie ping -c1 -W2 alpha >/dev/null &&
	docker exec alpha ping -c1 -W2 cee >/dev/null &&
	docker inspect charlie >c.json &&
	test "$(jq -r ".[0].NetworkSettings.Networks | keys | join(\",\")" c.json)" = "n1,n2"
'

test_expect_success 'disconnect a running container: the interface goes, the network is out of reach' '
	docker network disconnect n1 charlie &&
	docker exec charlie ip -o link >links &&
	! grep -q "eth1" links &&
	test_must_fail docker exec charlie ping -c1 -W1 "$(ip_on alpha n1)" >/dev/null &&
	docker inspect charlie >c.json &&
	test "$(jq -r ".[0].NetworkSettings.Networks | keys | join(\",\")" c.json)" = n2 &&
	test_must_fail docker network disconnect n1 charlie 2>err &&
	grep -q "not connected" err
'

test_expect_success 'connect before start (as Compose does): both networks at start' '
	docker create --name pre --network n2 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker network connect n1 pre &&
	docker inspect pre >pre.json &&
	test "$(jq -r ".[0].NetworkSettings.Networks | keys | join(\",\")" pre.json)" = "n1,n2" &&
	docker start pre >/dev/null &&
	docker exec pre ip -o -4 addr >addrs &&
	test "$(grep -c "inet " addrs)" = 3 &&
	docker exec pre ping -c1 -W2 alpha >/dev/null &&
	test_must_fail docker network connect n1 pre 2>err &&
	grep -q "already exists" err
'

test_expect_success 'a removed network cannot be removed while in use; predefined ones never' '
	test_must_fail docker network rm n1 2>err &&
	grep -q "active endpoints" err &&
	test_must_fail docker network rm bridge 2>err &&
	grep -q "pre-defined" err
'

test_expect_success 'static addresses: --ip is given, a taken one is refused with nothing left' '
	docker network create --subnet 10.77.0.0/24 nstat >/dev/null &&
	docker run -d --name st1 --network nstat --ip 10.77.0.50 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test "$(ip_on st1 nstat)" = 10.77.0.50 &&
	docker exec st1 ip -4 -o addr show eth0 | grep -q "10.77.0.50/24" &&
	test_must_fail docker run -d --name st2 --network nstat --ip 10.77.0.50 busybox sh -c "while :; do sleep 0.5; done" >out 2>err &&
	grep -qi "in use\|already" err &&
	test "$(docker inspect -f "{{.State.Running}}" st2)" = false &&
	test_must_fail docker run --rm --network nstat --ip 10.99.0.5 busybox true 2>err &&
	grep -qi "subnet\|range" err &&
	docker rm -f st1 st2 >/dev/null &&
	docker run --rm --network nstat --ip 10.77.0.50 busybox true
'

test_expect_success 'IPv6: addresses on an --ipv6 network, ping6 between containers' '
	docker network create --ipv6 --subnet fd77:1::/64 --subnet 10.78.0.0/24 n6 >/dev/null &&
	docker run -d --name v6a --network n6 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker run -d --name v6b --network n6 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	a6=$(docker inspect -f "{{.NetworkSettings.Networks.n6.GlobalIPv6Address}}" v6a) &&
	case "$a6" in fd77:1::*) ;; *) echo "v6 address: $a6"; false ;; esac &&
	docker exec v6a ip -6 -o addr show eth0 | grep -q "$a6/64" &&
	wait_for 5 docker exec v6b ping6 -c1 -W1 "$a6"
'

test_expect_success 'published TCP port: through the proxy on 127.0.0.1 and through DNAT' '
	docker run -d --name web -p 8080:80 busybox httpd -f -p 80 -h /www >/dev/null &&
	test "$(docker port web 80)" = "0.0.0.0:8080" &&
	wait_for 5 in_daemon_netns curl -sf -m 2 -o page http://127.0.0.1:8080/ &&
	test "$(cat page)" = "it works" &&
	in_daemon_netns curl -sf -m 2 http://172.17.0.1:8080/ >page2 &&
	test "$(cat page2)" = "it works" &&
	in_daemon_netns nft list table inet berth >rules &&
	grep -q "dport 8080 dnat ip to 172.17" rules &&
	docker ps --format "{{.Ports}}" --filter name=web >ps.ports &&
	grep -q "0.0.0.0:8080->80/tcp" ps.ports
'

test_expect_success 'published UDP port: an echo through the proxy' '
	docker run -d --name udp -p 5353:5000/udp busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	k=$(sandbox udp) &&
	nsenter --net="$k" socat UDP-RECVFROM:5000,fork EXEC:cat >/dev/null 2>&1 &
	echo $! >socat.pid &&
	test_when_finished "kill \$(cat socat.pid) 2>/dev/null" &&
	wait_for 5 sh -c "echo hello-udp | nsenter --net=/run/netns/$DAEMON_NETNS socat -T1 - UDP:127.0.0.1:5353 | grep -q hello-udp"
'

test_expect_success '-P publishes the exposed ports on ephemeral host ports' '
	docker run -d --name pall --expose 7000 -P busybox httpd -f -p 7000 -h /www >/dev/null &&
	hp=$(docker inspect -f "{{(index (index .NetworkSettings.Ports \"7000/tcp\") 0).HostPort}}" pall) &&
	test "$hp" -gt 1023 &&
	wait_for 5 in_daemon_netns curl -sf -m 2 -o page "http://127.0.0.1:$hp/" &&
	test "$(cat page)" = "it works"
'

test_expect_success 'docker ps filters: network, publish, expose, volume' '
	docker ps --filter network=n1 --format "{{.Names}}" | sort >net.names &&
	grep -qx alpha net.names && grep -qx bravo net.names && ! grep -qx web net.names &&
	test "$(docker ps --filter publish=80 --format "{{.Names}}")" = web &&
	test "$(docker ps --filter publish=7000/tcp --format "{{.Names}}")" = pall &&
	test "$(docker ps --filter expose=7000 --format "{{.Names}}")" = pall &&
	test -z "$(docker ps --filter publish=81 -q)" &&
	docker run -d --name volf -v vf1:/data busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test "$(docker ps --filter volume=vf1 --format "{{.Names}}")" = volf &&
	test "$(docker ps --filter volume=/data --format "{{.Names}}")" = volf &&
	docker rm -f volf >/dev/null
'

test_expect_success 'a host port in use fails the start cleanly; freed ports are reusable' '
	test_must_fail docker run -d --name web2 -p 8080:80 busybox httpd -f -p 80 -h /www >out 2>err &&
	grep -q "8080" err &&
	test "$(docker inspect -f "{{.State.Running}}" web2)" = false &&
	test "$(docker inspect -f "{{.NetworkSettings.Networks.bridge.IPAddress}}" web2)" = "" &&
	docker rm -f web >/dev/null &&
	docker start web2 &&
	wait_for 5 in_daemon_netns curl -sf -m 2 -o page http://127.0.0.1:8080/
'

test_expect_success 'bad input: port out of range (400), unknown network (404), none+other (400)' '
	cat >body.json <<-\EOF &&
	{"Image":"busybox","Cmd":["true"],"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"70000"}]}}}
	EOF
	api_status POST /v1.44/containers/create -H "Content-Type: application/json" -d @body.json >code &&
	test "$(cat code)" = 400 &&
	cat >body.json <<-\EOF &&
	{"Image":"busybox","Cmd":["true"],"HostConfig":{"PortBindings":{"99999/tcp":[{"HostPort":"80"}]}}}
	EOF
	api_status POST /v1.44/containers/create -H "Content-Type: application/json" -d @body.json >code &&
	test "$(cat code)" = 400 &&
	test_must_fail docker run --network nope busybox true 2>err &&
	grep -q "network nope not found" err &&
	cat >body.json <<-\EOF &&
	{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"none"},"NetworkingConfig":{"EndpointsConfig":{"n1":{}}}}
	EOF
	api_status POST /v1.44/containers/create -H "Content-Type: application/json" -d @body.json >code &&
	test "$(cat code)" = 400 &&
	curl -sf --unix-socket "$DAEMON_SOCK" http://berth/_ping >/dev/null
'

test_expect_success '--network none, host and container:NAME' '
	docker run --rm --network none busybox ip -o link >links &&
	test "$(wc -l <links)" = 1 &&
	docker run --rm --network host busybox ip -o link >links &&
	grep -q berth0 links &&
	docker run --rm --network container:alpha busybox ip -4 -o addr show eth0 >addr &&
	grep -q "$(ip_on alpha n1)/" addr &&
	test_must_fail docker network connect n2 $(docker create --network none busybox true) 2>err &&
	grep -q "none" err
'

test_expect_success 'macvlan on a veth parent: a container gets its address; a VLAN parent fails clearly' '
	in_daemon_netns ip link add mvpar type veth peer name mvpeer &&
	in_daemon_netns ip link set mvpar up &&
	in_daemon_netns ip link set mvpeer up &&
	docker network create -d macvlan -o parent=mvpar --subnet 10.66.0.0/24 mv >/dev/null &&
	docker run -d --name mv1 --network mv busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker run -d --name mv2 --network mv --ip 10.66.0.20 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker exec mv1 ip -4 -o addr show eth0 | grep -q "10\.66\.0\." &&
	in_ctr mv1 ip -d link show eth0 | grep -q macvlan &&
	wait_for 5 docker exec mv1 ping -c1 -W1 10.66.0.20 &&
	docker network inspect mv >mv.json &&
	test "$(jq -r ".[0].Containers | length" mv.json)" = 2 &&
	docker rm -f mv1 mv2 >/dev/null &&
	docker network rm mv >/dev/null &&
	in_daemon_netns ip link show mvpar >/dev/null &&
	test_must_fail docker network create -d macvlan -o parent=mvpar.42 --subnet 10.67.0.0/24 mvv 2>err &&
	grep -qi "802.1q\|vlan" err &&
	test -z "$(docker network ls -q --filter name=mvv)"
'

test_expect_success 'an --internal network: containers talk, nothing is masqueraded' '
	docker network create --internal nint >/dev/null &&
	docker run -d --name in1 --network nint busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker run --rm --network nint busybox ping -c1 -W2 in1 >/dev/null &&
	sub=$(docker network inspect -f "{{(index .IPAM.Config 0).Subnet}}" nint) &&
	in_daemon_netns nft list table inet berth >rules &&
	! grep -q "saddr $sub .*masquerade" rules &&
	docker rm -f in1 >/dev/null &&
	docker network rm nint >/dev/null
'

test_expect_success 'connect with a static address and aliases through the API' '
	docker network create --subnet 10.79.0.0/24 ncon >/dev/null &&
	docker run -d --name cs --network ncon busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker network create --subnet 10.80.0.0/24 ncon2 >/dev/null &&
	docker network connect --ip 10.80.0.99 --alias zed ncon2 cs &&
	test "$(ip_on cs ncon2)" = 10.80.0.99 &&
	docker inspect cs >cs.json &&
	jq -r ".[0].NetworkSettings.Networks.ncon2.Aliases[]" cs.json | grep -qx zed &&
	docker network inspect ncon2 >n.json &&
	jq -r ".[0].Containers[].IPv4Address" n.json | grep -qx "10.80.0.99/24" &&
	docker rm -f cs >/dev/null &&
	docker network rm ncon ncon2 >/dev/null
'

test_expect_success 'restart of berthd: networks, addresses, ports and names stay' '
	aip=$(ip_on alpha n1) &&
	stop_daemon &&
	start_daemon --dns 192.0.2.53 &&
	test "$(ip_on alpha n1)" = "$aip" &&
	docker network ls --format "{{.Name}}" | sort >nets &&
	grep -qx n1 nets && grep -qx n6 nets &&
	wait_for 5 in_daemon_netns curl -sf -m 2 -o page http://127.0.0.1:8080/ &&
	docker exec bravo ping -c1 -W2 alpha >/dev/null &&
	docker run --rm --network n1 busybox ping -c1 -W2 alpha >/dev/null
'

test_expect_success 'after everything: no veth, rule or address of berth left' '
	docker rm -f $(docker ps -aq) >/dev/null &&
	for n in n1 n2 nstat n6; do docker network rm $n >/dev/null || return 1; done &&
	in_daemon_netns ip -o link >links &&
	! grep -q "veth" links &&
	in_daemon_netns nft list table inet berth >rules &&
	! grep -q "dnat" rules &&
	! grep -q "br-" rules &&
	jq -e ".endpoints // [] | length == 0" "$DAEMON_DATA/network/networks.json" >/dev/null 2>&1 ||
		! grep -q "container_id" "$DAEMON_DATA/network/networks.json" &&
	host_state >host.after &&
	diff -u host.before host.after &&
	check_daemon_log "$DAEMON_LOG"
'

test_done
