#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='dns: the embedded resolver in a netns made here, asked with dig'
. "$(dirname "$0")/test-lib.sh"

prereq_DIG() { command -v dig >/dev/null 2>&1; }
prereq_DNSMASQ() { command -v dnsmasq >/dev/null 2>&1; }

# Everything stays on loopback: the resolver listens on 127.0.0.11 inside NS,
# the stub upstreams are dnsmasq on 127.A.B.53 in the host netns and on
# 127.0.0.1 inside NS, both with --no-resolv (they never forward anywhere).
NS=bt-dns-$$
STUB=127.$(( ($$ / 250) % 250 + 1 )).$(( $$ % 250 + 1 )).53
P=ROOT,NETNS,DIG,DNSMASQ

qdig() {
	ip netns exec "$NS" dig @127.0.0.11 +time=3 +tries=1 "$@"
}
probe() {
	ip netns exec "$NS" dns-probe "$@"
}
send_cmd() {
	echo "$*" >&9
}
status_of() {
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
start_stub() {
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
		--bind-interfaces --listen-address="$STUB" --port=53 --user=root \
		--pid-file= --log-queries --log-facility="$TRASH/stub.log" \
		--address=/ext.test/192.0.2.7 --local=/nx.test/ --local-ttl=300 \
		--txt-record=big.ext.test,"$BIGX","$BIGY","$BIGZ" \
		--txt-record=huge.ext.test,$HUGE &
	STUB_PID=$!
	test_atexit "kill $STUB_PID 2>/dev/null"
	wait_for 10 dig @"$STUB" +time=1 +tries=1 +short a.ext.test
}
BIGX=$(printf 'x%.0s' $(seq 250))
BIGY=$(printf 'y%.0s' $(seq 250))
BIGZ=$(printf 'z%.0s' $(seq 250))
HUGE=$(for i in $(seq 18); do printf '%s,' "$BIGX"; done)end

test_expect_success $P 'set up a netns and the stub upstreams' '
	ip netns add "$NS" &&
	test_atexit "ip netns del $NS" &&
	ip -n "$NS" link set lo up &&
	start_stub &&
	{ ip netns exec "$NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--conf-file=/dev/null --bind-interfaces --listen-address=127.0.0.1 \
		--port=53 --user=root --pid-file= --address=/inner.test/192.0.2.9 \
		--txt-record=huge.inner.test,$HUGE & } &&
	INNER_PID=$! &&
	test_atexit "kill $INNER_PID 2>/dev/null" &&
	wait_for 10 ip netns exec "$NS" dig @127.0.0.1 +time=1 +tries=1 +short a.inner.test
'

test_expect_success $P 'start the resolver in the netns' '
	mkfifo ctl &&
	{ dns-serve --netns "/var/run/netns/$NS" --tcp-idle-ms 1000 \
		--net dnsnet,172.30.0.0/24,fd00:1::/64 --net dnsnet4,172.31.0.0/24 \
		--ep dnsnet/c1/svc1,svc,web,0bc94ed780d7/172.30.0.2/fd00:1::2 \
		--ep dnsnet/c2/svc2,svc,web/172.30.0.3/fd00:1::3 \
		--ep dnsnet/c3/svc3,svc,myhost3/172.30.0.4/fd00:1::4 \
		--ep dnsnet4/p4/plain4/172.31.0.2/ \
		--scope dnsnet --upstream-ctr 127.0.0.1 --upstream "$STUB" \
		<ctl >serve.out 2>serve.err & } &&
	SERVE_PID=$! &&
	test_atexit "kill -9 $SERVE_PID 2>/dev/null" &&
	exec 9<>ctl &&
	wait_for 10 grep -q "^ready udp=53 tcp=53" serve.out
'

test_expect_success $P 'container name, short id, hostname, name.network, any case' '
	test "$(qdig +short svc1)" = 172.30.0.2 &&
	test "$(qdig +short 0bc94ed780d7)" = 172.30.0.2 &&
	test "$(qdig +short myhost3)" = 172.30.0.4 &&
	test "$(qdig +short svc1.dnsnet)" = 172.30.0.2 &&
	test "$(qdig +short SvC1.DnsNet)" = 172.30.0.2 &&
	qdig +noall +answer svc1 >out &&
	awk "{ print \$2 }" out >ttl &&
	test "$(cat ttl)" = 600
'

test_expect_success $P 'an alias with three holders: all returned, order varies' '
	printf "172.30.0.2\n172.30.0.3\n172.30.0.4\n" >want &&
	: >firsts &&
	for i in $(seq 20); do
		qdig +short svc >got &&
		sort got >got.sorted &&
		cmp want got.sorted &&
		head -n 1 got >>firsts || return 1
	done &&
	test "$(sort -u firsts | wc -l)" -ge 2
'

test_expect_success $P 'an alias with two holders: both returned, order varies' '
	printf "172.30.0.2\n172.30.0.3\n" >want &&
	: >firsts &&
	for i in $(seq 20); do
		qdig +short web >got &&
		sort got >got.sorted &&
		cmp want got.sorted &&
		head -n 1 got >>firsts || return 1
	done &&
	test "$(sort -u firsts | wc -l)" -eq 2
'

test_expect_success $P 'AAAA on an IPv6 network' '
	qdig +short svc AAAA | sort >got &&
	printf "fd00:1::2\nfd00:1::3\nfd00:1::4\n" >want &&
	cmp want got
'

test_expect_success $P 'MX and SRV of a known name: NODATA, not forwarded' '
	qdig svc MX >out &&
	test "$(status_of <out)" = NOERROR &&
	grep -q "ANSWER: 0," out &&
	qdig _http._tcp.svc SRV >out &&
	test "$(status_of <out)" = NOERROR &&
	grep -q "ANSWER: 0," out &&
	! grep -q "_http._tcp.svc" stub.log
'

test_expect_success $P 'PTR for container addresses, NXDOMAIN for free ones in a subnet' '
	test "$(qdig +short -x 172.30.0.3)" = svc2.dnsnet. &&
	test "$(qdig +short -x fd00:1::4)" = svc3.dnsnet. &&
	qdig -x 172.30.0.99 >out &&
	test "$(status_of <out)" = NXDOMAIN &&
	! grep -q "99.0.30.172" stub.log
'

test_expect_success $P 'scope: a name of another network is forwarded until connect' '
	qdig plain4 >out &&
	test "$(status_of <out)" = SERVFAIL &&
	send_cmd connect dnsnet4 &&
	wait_for 5 sh -c "ip netns exec $NS dig @127.0.0.11 +time=1 +tries=1 +short plain4 | grep -q 172.31.0.2" &&
	test "$(qdig +short plain4.dnsnet4)" = 172.31.0.2 &&
	qdig plain4 AAAA >out &&
	test "$(status_of <out)" = NOERROR &&
	grep -q "ANSWER: 0," out &&
	send_cmd disconnect dnsnet4 &&
	wait_for 5 sh -c "ip netns exec $NS dig @127.0.0.11 +time=1 +tries=1 plain4 | grep -q SERVFAIL"
'

test_expect_success $P 'stop, rename and start take effect at once' '
	send_cmd ep-rm dnsnet c3 &&
	wait_for 5 sh -c "test \$(ip netns exec $NS dig @127.0.0.11 +time=1 +tries=1 +short svc | wc -l) -eq 2" &&
	qdig myhost3 >out &&
	test "$(status_of <out)" = SERVFAIL &&
	send_cmd ep-add dnsnet/c2/renamed,svc,web/172.30.0.3/ &&
	wait_for 5 sh -c "ip netns exec $NS dig @127.0.0.11 +time=1 +tries=1 +short renamed | grep -q 172.30.0.3" &&
	qdig svc2 >out &&
	test "$(status_of <out)" = SERVFAIL &&
	test "$(qdig +short -x 172.30.0.3)" = renamed.dnsnet. &&
	send_cmd ep-add dnsnet/c3/svc3,svc,myhost3/172.30.0.4/fd00:1::4 &&
	wait_for 5 sh -c "test \$(ip netns exec $NS dig @127.0.0.11 +time=1 +tries=1 +short svc | wc -l) -eq 3"
'

test_expect_success $P 'forwarding: host-loopback stub, container-netns stub, NXDOMAIN' '
	test "$(qdig +short www.ext.test)" = 192.0.2.7 &&
	test "$(qdig +short www.inner.test)" = 192.0.2.9 &&
	qdig nope.nx.test >out &&
	test "$(status_of <out)" = NXDOMAIN &&
	grep -q "www.ext.test" stub.log
'

test_expect_success $P 'a large upstream answer: TC over plain UDP, whole over TCP and EDNS' '
	qdig +noedns big.ext.test TXT >out &&
	grep -q "Truncated, retrying in TCP mode" out &&
	test "$(status_of <out)" = NOERROR &&
	grep -q "$BIGZ" out &&
	qdig +bufsize=4096 big.ext.test TXT >out &&
	! grep -q Truncated out &&
	grep -q "(UDP)" out &&
	grep -q "$BIGX" out
'

test_expect_success $P 'an answer over 4096 bytes: c-ares goes TCP, from either netns' '
	qdig +bufsize=4096 huge.ext.test TXT >out &&
	test "$(status_of <out)" = NOERROR &&
	grep -q "(TCP)" out &&
	test "$(sed -n "s/.*MSG SIZE  rcvd: //p" out)" -gt 4096 &&
	qdig +tcp huge.inner.test TXT >out &&
	test "$(status_of <out)" = NOERROR &&
	test "$(sed -n "s/.*MSG SIZE  rcvd: //p" out)" -gt 4096
'

test_expect_success $P 'TCP and EDNS on local answers' '
	qdig +tcp svc >out &&
	grep -q "(TCP)" out &&
	grep -q "ANSWER: 3," out &&
	qdig +bufsize=1232 svc >out &&
	grep -q "EDNS: version: 0" out &&
	qdig +noedns svc >out &&
	grep -q "ADDITIONAL: 0" out
'

test_expect_success $P 'a 1000-query burst is answered in full, local and forwarded' '
	test "$(probe burst 127.0.0.11 53 1000 svc)" = 1000 &&
	test "$(probe burst 127.0.0.11 53 1000 burst.ext.test)" = 1000
'

test_expect_success $P 'bad packets: FORMERR or silence, never a crash' '
	H="1234 0100" &&
	probe udp 127.0.0.11 53 "$H 0001 0000 0000 0000 c00c 0001 0001" >out &&
	grep -q "id=4660 rcode=1" out &&
	probe udp 127.0.0.11 53 "$H 0000 0000 0000 0000" >out &&
	grep -q "rcode=1" out &&
	probe udp 127.0.0.11 53 "$H 000a 0000 0000 0000 0373766300 0001 0001" >out &&
	grep -q "rcode=1" out &&
	probe udp 127.0.0.11 53 "$H 0001 0000 0000 0000 037376" >out &&
	grep -q "rcode=1" out &&
	probe udp 127.0.0.11 53 "$H 0001 0000 0000 0000 40$(printf "61%.0s" $(seq 64))00 0001 0001" >out &&
	grep -q "rcode=1" out &&
	long=$(for i in 1 2 3 4 5; do printf "3f"; printf "62%.0s" $(seq 63); done) &&
	probe udp 127.0.0.11 53 "$H 0001 0000 0000 0000 ${long}00 0001 0001" >out &&
	grep -q "rcode=1" out &&
	probe udp 127.0.0.11 53 "12" 300 >out &&
	grep -q timeout out &&
	probe udp 127.0.0.11 53 "1234 8100 0001 0000 0000 0000 0373766300 0001 0001" 300 >out &&
	grep -q timeout out &&
	test "$(qdig +short svc1)" = 172.30.0.2
'

test_expect_success $P 'TCP: garbage closes, pipelined queries answered, idle client cut' '
	probe tcp 127.0.0.11 53 "0004 deadbeef" 2000 >out &&
	grep -q closed out &&
	Q="1234 0100 0001 0000 0000 0000 0373766300 0001 0001" &&
	probe tcp 127.0.0.11 53 "0015 $Q 0015 $Q" 3000 >out &&
	test "$(grep -c "rcode=0 qd=1 an=3" out)" = 2 &&
	{ ip netns exec "$NS" dns-probe idle 127.0.0.11 53 10000 >idle.out & } &&
	IDLE_PID=$! &&
	test_when_finished "kill $IDLE_PID 2>/dev/null" &&
	qdig +tcp +short svc1 >out &&
	test "$(cat out)" = 172.30.0.2 &&
	wait $IDLE_PID &&
	grep -q closed idle.out
'

test_expect_success $P 'upstream down: SERVFAIL at once; upstream silent: SERVFAIL by the deadline' '
	kill $STUB_PID && wait $STUB_PID;
	qdig +time=4 down.ext.test >out &&
	test "$(status_of <out)" = SERVFAIL &&
	start_stub &&
	test "$(qdig +short back.ext.test)" = 192.0.2.7 &&
	kill -STOP $STUB_PID &&
	test_when_finished "kill -CONT $STUB_PID" &&
	qdig +time=6 silent.ext.test >out &&
	kill -CONT $STUB_PID &&
	test "$(status_of <out)" = SERVFAIL
'

test_expect_success $P 'an --internal network never forwards' '
	mkfifo ctl2 &&
	{ dns-serve --netns "/var/run/netns/$NS" --listen 127.0.0.12 \
		--net inet,internal --ep inet/i1/ihost/10.99.0.2/ --scope inet \
		--upstream "$STUB" <ctl2 >serve2.out 2>serve2.err & } &&
	SERVE2_PID=$! &&
	test_when_finished "kill $SERVE2_PID 2>/dev/null" &&
	exec 8<>ctl2 &&
	wait_for 10 grep -q "^ready" serve2.out &&
	test "$(ip netns exec $NS dig @127.0.0.12 +time=3 +tries=1 +short ihost)" = 10.99.0.2 &&
	ip netns exec $NS dig @127.0.0.12 +time=3 +tries=1 leak.ext.test >out &&
	test "$(status_of <out)" = SERVFAIL &&
	! grep -q leak.ext.test stub.log &&
	exec 8>&- &&
	wait $SERVE2_PID &&
	! grep -E "Sanitizer|runtime error|handles left" serve2.err
'

test_expect_success $P 'the optional cache answers repeats without the upstream' '
	mkfifo ctl3 &&
	{ dns-serve --netns "/var/run/netns/$NS" --listen 127.0.0.13 --cache \
		--net cnet --scope cnet --upstream "$STUB" <ctl3 >serve3.out 2>serve3.err & } &&
	SERVE3_PID=$! &&
	test_when_finished "kill $SERVE3_PID 2>/dev/null" &&
	exec 7<>ctl3 &&
	wait_for 10 grep -q "^ready" serve3.out &&
	for i in 1 2 3; do
		test "$(ip netns exec $NS dig @127.0.0.13 +time=3 +tries=1 +short cached.ext.test)" = 192.0.2.7 ||
		return 1
	done &&
	ip netns exec $NS dig @127.0.0.13 +time=3 +tries=1 +noall +answer cached.ext.test >out &&
	awk "{ print \$2 }" out >ttl &&
	test "$(cat ttl)" -le 300 &&
	test "$(grep -c "query\[A\] cached.ext.test" stub.log)" = 1 &&
	exec 7>&- &&
	wait $SERVE3_PID &&
	! grep -E "Sanitizer|runtime error|handles left" serve3.err
'

test_expect_success $P 'clean exit, no sanitizer report' '
	send_cmd stats &&
	wait_for 5 grep -q "^stats" serve.out &&
	kill -TERM $SERVE_PID &&
	wait $SERVE_PID &&
	! grep -E "Sanitizer|runtime error|handles left" serve.err
'

test_done
