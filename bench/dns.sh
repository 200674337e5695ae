#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/dns.sh [BUILD_DIR] -- the embedded DNS of berthd against Docker's
# resolver in the reference dockerd, both through the daemons and the docker
# CLI: a user network with three containers sharing the alias svc and a
# client container; dnsperf runs in the client's netns (nsenter --net=its
# SandboxKey) against 127.0.0.11 for local names (svc, a name, name.network,
# PTR, AAAA NODATA) and forwarded names (n*.ext.test, answered by a dnsmasq
# stub), DNS_BENCH_SECONDS (10) each at 100 outstanding, then a latency run at
# DNS_BENCH_LAT_QPS (5000) q/s for p50/p99.  CPU is the daemon's own.
#   berth:  berthd (BUILD_DIR, default $BERTH_BUILD_DIR or /work/build) in a
#           netns of this script's with --dns 127.0.0.53, the stub on
#           127.0.0.53 in that netns (host-loopback upstreams are queried
#           from the daemon's netns).
#   docker: /work/shared/tools/reference-engine (its containers get --dns
#           127.0.0.153, which Docker's resolver queries from the container's
#           netns: the stub listens there).  DNS_BENCH_NO_DOCKER=1 skips it.
# Prints ratios berth/docker.  Root, dnsperf, dnsmasq; nothing leaves the
# machine; everything is removed at exit, by pid and by name.
set -eu
. "$(dirname "$0")/lib.sh"
B=$(cd "${1:-${BERTH_BUILD_DIR:-/work/build}}" && pwd)
DUR=${DNS_BENCH_SECONDS:-10}
RATE=${DNS_BENCH_LAT_QPS:-5000}
REF=${REFERENCE_ENGINE:-/work/shared/tools/reference-engine}
W=$BENCH_DIR
P=dnsb$$-
NET=${P}net
STUB_PID= DSTUB_PID= DOCKER_UP=

for t in dnsperf dnsmasq dig ip nsenter docker curl; do
	command -v $t >/dev/null || { echo "bench/dns.sh: needs $t" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bench/dns.sh: needs root" >&2; exit 2; }
[ -x "$B/berthd" ] || { echo "bench/dns.sh: no $B/berthd" >&2; exit 2; }

cleanup() {
	set +e
	[ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null
	[ -n "$DSTUB_PID" ] && kill "$DSTUB_PID" 2>/dev/null
	if [ -n "$DOCKER_UP" ]; then
		docker rm -f "${P}svc1" "${P}svc2" "${P}svc3" "${P}client" >/dev/null 2>&1
		docker network rm "$NET" >/dev/null 2>&1
	fi
	bn_stop
	bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stub() { # stub IP EXEC...: dnsmasq on IP:53 in the netns of the exec prefix (which execs it)
	_ip=$1
	shift
	"$@" dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
		--bind-interfaces --listen-address="$_ip" --port=53 --user=root \
		--pid-file= --address=/ext.test/192.0.2.7 --cache-size=10000 >/dev/null 2>&1 &
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# perf PID FILE EXEC...: throughput then latency; prints "qps lost avg_us p50_us p99_us cpu%"
perf() {
	_pid=$1 _file=$2
	shift 2
	_t0=$(cpu_ticks "$_pid")
	"$@" dnsperf -s 127.0.0.11 -d "$_file" -l "$DUR" -q 100 >"$W/perf.out" 2>&1 || true
	_t1=$(cpu_ticks "$_pid")
	_qps=$(awk '/Queries per second/ { print int($4) }' "$W/perf.out")
	_lost=$(awk '/Queries lost/ { print $3 }' "$W/perf.out")
	_avg=$(awk '/Average Latency/ { printf "%d", $4 * 1000000 }' "$W/perf.out")
	_cpu=$(( (_t1 - _t0) * 100 / $(getconf CLK_TCK) / DUR ))
	"$@" dnsperf -s 127.0.0.11 -d "$_file" -l 5 -Q "$RATE" -v >"$W/lat.out" 2>&1 || true
	awk '$1 == ">" { print $NF * 1000000 }' "$W/lat.out" | sort -n >"$W/lat.sorted"
	_n=$(wc -l <"$W/lat.sorted")
	_p50=$(sed -n "$(( _n / 2 + 1 ))p" "$W/lat.sorted" | cut -d. -f1)
	_p99=$(sed -n "$(( _n * 99 / 100 + 1 ))p" "$W/lat.sorted" | cut -d. -f1)
	echo "${_qps:-0} ${_lost:-?} ${_avg:-0} ${_p50:-0} ${_p99:-0} $_cpu"
}

# answers EXEC...: each query of local.txt with its rcode and answer count,
# so a wrong answer (a local name forwarded) shows up
answers() {
	while read -r _name _type; do
		printf '%s %s: ' "$_name" "$_type"
		"$@" dig @127.0.0.11 +time=2 +tries=1 "$_name" "$_type" |
			awk '/status:/ { match($0, /status: [A-Z]+/); s = substr($0, RSTART + 8, RLENGTH - 8) }
			     /ANSWER:/ { match($0, /ANSWER: [0-9]+/); a = substr($0, RSTART + 8, RLENGTH - 8) }
			     END { print s, a }'
	done <"$W/local.txt"
}

mkfiles() { # mkfiles PTRNAME: local.txt and fwd.txt
	printf 'svc A\n%ssvc1 A\n%ssvc1.%s A\n%s PTR\nsvc AAAA\n' "$P" "$P" "$NET" "$1" >"$W/local.txt"
	i=0
	while [ $i -lt 2000 ]; do
		echo "n$i.ext.test A"
		i=$((i + 1))
	done >"$W/fwd.txt"
}

ptr_of() { echo "$1" | awk -F. '{ print $4"."$3"."$2"."$1".in-addr.arpa" }'; }

# setup DOCKER: the network, three svc holders and the client; sets CKEY, PTR
setup() {
	$1 network create "$NET" >/dev/null
	for i in 1 2 3; do
		$1 run -d --name "${P}svc$i" --network "$NET" --network-alias svc busybox sleep 3600 >/dev/null
	done
	$1 run -d --name "${P}client" --network "$NET" busybox sleep 3600 >/dev/null
	CKEY=$($1 inspect -f '{{.NetworkSettings.SandboxKey}}' "${P}client")
	PTR=$(ptr_of "$($1 inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "${P}svc1")")
	[ -n "$CKEY" ] && [ -n "$PTR" ]
}

wait_dns() { # wait_dns SERVER NAME EXEC...: bounded wait for an answer
	_s=$1 _q=$2
	shift 2
	i=0
	until [ -n "$("$@" dig @"$_s" +time=1 +tries=1 +short "$_q" 2>/dev/null)" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "bench/dns.sh: no answer for $_q from $_s" >&2; return 1; }
		sleep 0.05
	done
}

show() { # show LABEL "qps lost avg p50 p99 cpu"
	set -- "$1" $2
	printf '%-18s %9s q/s  lost %-6s avg %6s us  p50 %6s us  p99 %6s us  cpu %4s%%\n' "$@"
}

# ---- berth ----
bn_start "$B" --dns 127.0.0.53 --log-level warn
stub 127.0.0.53 nsenter --net="/run/netns/$BN_NS"
STUB_PID=$!
wait_dns 127.0.0.53 ext.test bn_in
(export DOCKER_HOST="unix://$BN_SOCK" && bench_busybox_image)
setup bn_docker
mkfiles "$PTR"
wait_dns 127.0.0.11 svc nsenter --net="$CKEY"
answers nsenter --net="$CKEY" >"$W/berth.answers"
B_LOCAL=$(perf "$BN_PID" "$W/local.txt" nsenter --net="$CKEY")
B_FWD=$(perf "$BN_PID" "$W/fwd.txt" nsenter --net="$CKEY")
kill "$STUB_PID"
STUB_PID=
bn_stop

echo "# bench/dns.sh: dnsperf ${DUR}s, 100 outstanding; latency at $RATE q/s ($(date -u +%FT%TZ), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "# berth local answers (rcode, count):" $(tr '\n' ';' <"$W/berth.answers")
show "berth local" "$B_LOCAL"
show "berth forwarded" "$B_FWD"

# ---- docker ----
if [ -n "${DNS_BENCH_NO_DOCKER:-}" ] || [ ! -x "$REF" ]; then
	echo "# reference engine skipped"
	exit 0
fi
"$REF" start >/dev/null
eval "$("$REF" env | grep ^export)"
DOCKER_UP=1
DPID=$(cat "${REFERENCE_ENGINE_DIR:-/tmp/berth-ref}/dockerd.pid")
setup docker
CPID=$(docker inspect -f '{{.State.Pid}}' "${P}client")
stub 127.0.0.153 nsenter -n -t "$CPID"
DSTUB_PID=$!
wait_dns 127.0.0.153 ext.test nsenter -n -t "$CPID"
mkfiles "$PTR"
answers nsenter -n -t "$CPID" >"$W/docker.answers"
D_LOCAL=$(perf "$DPID" "$W/local.txt" nsenter -n -t "$CPID")
D_FWD=$(perf "$DPID" "$W/fwd.txt" nsenter -n -t "$CPID")
echo "# docker local answers (rcode, count):" $(tr '\n' ';' <"$W/docker.answers")
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
