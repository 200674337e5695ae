#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/dns.sh -- berth's embedded DNS (t/helper/dns-serve, the dns/ module on
# one uv loop) against Docker's resolver in the reference dockerd, with
# dnsperf from inside the client's netns.  Local names and forwarded names (a
# dnsmasq stub on 127.0.0.153 inside the client netns, as the reference engine
# passes --dns 127.0.0.153), DNS_BENCH_SECONDS (10) each at 100 outstanding,
# then a latency run at DNS_BENCH_LAT_QPS (5000) q/s for p50/p99.
# Prints ratios berth/docker.  Root, dnsperf, dnsmasq; DNS_BENCH_NO_DOCKER=1
# skips the reference engine.  Nothing leaves the machine.
#
#   BERTH_BUILD_DIR=/work/build sh bench/dns.sh
set -eu
BUILD=${BERTH_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
SERVE=$BUILD/t/helper/dns-serve
DUR=${DNS_BENCH_SECONDS:-10}
RATE=${DNS_BENCH_LAT_QPS:-5000}
REF=${REFERENCE_ENGINE:-/work/shared/tools/reference-engine}
NS=bt-dnsbench-$$
W=$(mktemp -d "${TMPDIR:-/tmp}/bt.dnsbench.XXXXXX")
SERVE_PID= STUB_PID= DSTUB_PID= DOCKER_UP=

for t in dnsperf dnsmasq ip; do
	command -v $t >/dev/null || { echo "bench/dns.sh: needs $t" >&2; exit 2; }
done
[ -x "$SERVE" ] || { echo "bench/dns.sh: build t/helper/dns-serve in $BUILD first" >&2; exit 2; }

cleanup() {
	set +e
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
	[ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null
	[ -n "$DSTUB_PID" ] && kill "$DSTUB_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	if [ -n "$DOCKER_UP" ]; then
		docker rm -f dnsb-svc1 dnsb-svc2 dnsb-svc3 dnsb-client >/dev/null 2>&1
		docker network rm dnsbench >/dev/null 2>&1
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stub() { # stub: dnsmasq on 127.0.0.153 in the netns of the given exec prefix
	"$@" dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
		--bind-interfaces --listen-address=127.0.0.153 --port=53 --user=root \
		--pid-file= --address=/ext.test/192.0.2.7 --cache-size=10000 >/dev/null 2>&1 &
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# perf LABEL PID FILE EXEC...: throughput then latency; prints "qps lost avg_us p50_us p99_us cpu%"
perf() {
	_pid=$2 _file=$3
	shift 3
	_t0=$(cpu_ticks "$_pid")
	"$@" dnsperf -s 127.0.0.11 -d "$_file" -l "$DUR" -q 100 >"$W/perf.out" 2>&1
	_t1=$(cpu_ticks "$_pid")
	_qps=$(awk '/Queries per second/ { print int($4) }' "$W/perf.out")
	_lost=$(awk '/Queries lost/ { print $3 }' "$W/perf.out")
	_avg=$(awk '/Average Latency/ { printf "%d", $4 * 1000000 }' "$W/perf.out")
	_cpu=$(( (_t1 - _t0) * 100 / $(getconf CLK_TCK) / DUR ))
	"$@" dnsperf -s 127.0.0.11 -d "$_file" -l 5 -Q "$RATE" -v >"$W/lat.out" 2>&1
	awk '$1 == ">" { print $NF * 1000000 }' "$W/lat.out" | sort -n >"$W/lat.sorted"
	_n=$(wc -l <"$W/lat.sorted")
	_p50=$(sed -n "$(( _n / 2 + 1 ))p" "$W/lat.sorted" | cut -d. -f1)
	_p99=$(sed -n "$(( _n * 99 / 100 + 1 ))p" "$W/lat.sorted" | cut -d. -f1)
	echo "${_qps:-0} ${_lost:-?} ${_avg:-0} ${_p50:-0} ${_p99:-0} $_cpu"
}

mkfiles() { # mkfiles NETWORK PTRNAME
	printf 'svc A\nsvc1 A\nsvc1.%s A\n%s PTR\nsvc AAAA\n' "$1" "$2" >"$W/local.txt"
	: >"$W/fwd.txt"
	i=0
	while [ $i -lt 2000 ]; do
		echo "n$i.ext.test A" >>"$W/fwd.txt"
		i=$((i + 1))
	done
}

# ---- berth ----
ip netns add "$NS"
ip -n "$NS" link set lo up
stub ip netns exec "$NS"
STUB_PID=$!
mkfifo "$W/ctl"
"$SERVE" --netns "/var/run/netns/$NS" --net dnsbench,172.30.0.0/24 \
	--ep dnsbench/c1/svc1,svc/172.30.0.2/ --ep dnsbench/c2/svc2,svc/172.30.0.3/ \
	--ep dnsbench/c3/svc3,svc/172.30.0.4/ --scope dnsbench --upstream-ctr 127.0.0.153 \
	<"$W/ctl" >"$W/serve.out" 2>&1 &
SERVE_PID=$!
exec 9<>"$W/ctl"
i=0
until grep -q ready "$W/serve.out" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 250 ] || { echo "dns-serve did not start" >&2; cat "$W/serve.out" >&2; exit 1; }
	sleep 0.02
done
mkfiles dnsbench 2.0.30.172.in-addr.arpa
B_LOCAL=$(perf berth "$SERVE_PID" "$W/local.txt" ip netns exec "$NS")
B_FWD=$(perf berth "$SERVE_PID" "$W/fwd.txt" ip netns exec "$NS")
kill "$SERVE_PID" "$STUB_PID"
SERVE_PID= STUB_PID=

show() { # show LABEL "qps lost avg p50 p99 cpu"
	set -- "$1" $2
	printf '%-22s %9s q/s  lost %-6s avg %6s us  p50 %6s us  p99 %6s us  cpu %4s%%\n' "$@"
}
echo "# dnsperf ${DUR}s, 100 outstanding; latency at $RATE q/s"
show "berth local" "$B_LOCAL"
show "berth forwarded" "$B_FWD"

# ---- docker ----
if [ -n "${DNS_BENCH_NO_DOCKER:-}" ] || [ ! -x "$REF" ]; then
	echo "# reference engine skipped"
	exit 0
fi
"$REF" start >/dev/null
eval "$("$REF" env)"
DOCKER_UP=1
docker network create dnsbench >/dev/null
for i in 1 2 3; do
	docker run -d --name dnsb-svc$i --network dnsbench --network-alias svc busybox sleep 3600 >/dev/null
done
docker run -d --name dnsb-client --network dnsbench busybox sleep 3600 >/dev/null
CPID=$(docker inspect -f '{{.State.Pid}}' dnsb-client)
DPID=$(pgrep -x dockerd | head -n 1)
[ -f /tmp/berth-ref/dockerd.pid ] && DPID=$(cat /tmp/berth-ref/dockerd.pid)
IP1=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' dnsb-svc1)
PTR=$(echo "$IP1" | awk -F. '{ print $4"."$3"."$2"."$1".in-addr.arpa" }')
stub nsenter -n -t "$CPID"
DSTUB_PID=$!
sleep 0.3
mkfiles dnsbench "$PTR"
D_LOCAL=$(perf docker "$DPID" "$W/local.txt" nsenter -n -t "$CPID")
D_FWD=$(perf docker "$DPID" "$W/fwd.txt" nsenter -n -t "$CPID")
show "docker local" "$D_LOCAL"
show "docker forwarded" "$D_FWD"

ratio() { # ratio "berth fields" "docker fields" FIELD
	b=$(echo "$1" | cut -d' ' -f"$3")
	d=$(echo "$2" | cut -d' ' -f"$3")
	awk -v b="$b" -v d="$d" 'BEGIN { if (d > 0) printf "%.2f", b / d; else print "n/a" }'
}
echo "# ratios berth/docker (q/s: higher is better; p99: lower is better)"
echo "local:     q/s x$(ratio "$B_LOCAL" "$D_LOCAL" 1)   p99 x$(ratio "$B_LOCAL" "$D_LOCAL" 5)"
echo "forwarded: q/s x$(ratio "$B_FWD" "$D_FWD" 1)   p99 x$(ratio "$B_FWD" "$D_FWD" 5)"
