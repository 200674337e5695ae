#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/net.sh [BUILD_DIR] -- container networking, berth vs the reference dockerd:
#   1. attach a container to a bridge network (veth, addresses, routes) and
#      detach it: berth's library (net-tool bench-attach, one process) and
#      one net-tool process per operation (daemon-like: state load + save),
#      against dockerd's POST /networks/{id}/connect + disconnect.
#   2. throughput of a published TCP port on 127.0.0.1: berth's userland
#      proxy vs docker-proxy, a bounded transfer (BENCH_MIB, default 1024).
# Prints figures and ratios.  Everything of berth runs in namespaces this
# script makes; the reference engine is started with
# /work/shared/tools/reference-engine unless BENCH_REFERENCE=no.
set -u
B=$(cd "${1:-${BERTH_BUILD_DIR:-.}}" && pwd)
T="$B/t/helper/net-tool"
N=${BENCH_N:-30}
MIB=${BENCH_MIB:-1024}
REF=/work/shared/tools/reference-engine
P="bnb.$$."
W=$(mktemp -d /tmp/bench-net.XXXXXX)
pids=

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for ns in host c1 c2; do ip netns del "$P$ns" 2>/dev/null; done
	if [ -n "${DOCKER_HOST:-}" ]; then
		docker rm -f bnb-att bnb-sink >/dev/null 2>&1
		docker network rm bnb-net bnb-base >/dev/null 2>&1
	fi
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

[ -x "$T" ] || { echo "no $T: build t/helper/net-tool first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

for ns in host c1 c2; do ip netns add "$P$ns" && ip -n "$P$ns" link set lo up || exit 1; done
H() { ip netns exec "${P}host" "$@"; }
H "$T" --state "$W/state" net-create bnb --subnet 10.211.0.0/24 --bridge br-bnb >/dev/null || exit 1

# ---- 1. attach/detach ----
H "$T" --state "$W/state" bench-attach bnb "/run/netns/${P}c1" "$N" >"$W/lib" || exit 1
lib_att=$(sed -n 's/attach_ms=//p' "$W/lib")
lib_det=$(sed -n 's/detach_ms=//p' "$W/lib")
t0=$(ms)
i=0
while [ $i -lt "$N" ]; do
	H "$T" --state "$W/state" attach bnb c2 "/run/netns/${P}c2" >/dev/null || exit 1
	i=$((i + 1))
	H "$T" --state "$W/state" detach bnb c2 >/dev/null || exit 1
done
proc_cycle=$(awk -v t="$(( $(ms) - t0 ))" -v n="$N" 'BEGIN { printf "%.2f", t / n }')
echo "berth attach (library): ${lib_att} ms, detach: ${lib_det} ms"
echo "berth attach+detach (one process per op, state fsync'd): ${proc_cycle} ms per cycle"

# ---- 2. proxy throughput ----
H "$T" --state "$W/state" attach bnb sink "/run/netns/${P}c1" >/dev/null || exit 1
ip netns exec "${P}c1" "$T" sink 10.211.0.2 9000 >"$W/sink.out" 2>&1 &
pids="$pids $!"
H "$T" --state "$W/state" serve sink 127.0.0.1:19100:9000 >"$W/serve.out" 2>&1 &
pids="$pids $!"
i=0
while ! grep -q ready "$W/serve.out" 2>/dev/null && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
direct=$(H "$T" source 10.211.0.2 9000 "$MIB")
best=0
for r in 1 2 3; do
	v=$(H "$T" source 127.0.0.1 19100 "$MIB") || exit 1
	best=$(awk -v a="$v" -v b="$best" 'BEGIN { print (a > b) ? a : b }')
done
echo "berth proxy: ${best} MiB/s (best of 3; direct to the container: ${direct} MiB/s)"

# ---- reference ----
if [ "${BENCH_REFERENCE:-yes}" = no ] || [ ! -x "$REF" ]; then
	echo "reference engine skipped"
	exit 0
fi
"$REF" start >/dev/null || { echo "reference engine did not start" >&2; exit 1; }
eval "$("$REF" env | grep ^export)"
sock=${DOCKER_HOST#unix://}
docker network create --subnet 10.212.0.0/24 bnb-net >/dev/null &&
docker network create --subnet 10.213.0.0/24 bnb-base >/dev/null &&
docker run -d --name bnb-att --network bnb-base busybox sleep 3600 >/dev/null || exit 1
ta=0
td=0
i=0
while [ $i -lt "$N" ]; do
	t0=$(date +%s%N)
	curl -sf --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
		-d '{"Container":"bnb-att"}' http://x/networks/bnb-net/connect >/dev/null || exit 1
	t1=$(date +%s%N)
	curl -sf --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
		-d '{"Container":"bnb-att"}' http://x/networks/bnb-net/disconnect >/dev/null || exit 1
	t2=$(date +%s%N)
	ta=$((ta + t1 - t0))
	td=$((td + t2 - t1))
	i=$((i + 1))
done
ref_att=$(awk -v t="$ta" -v n="$N" 'BEGIN { printf "%.2f", t / n / 1e6 }')
ref_det=$(awk -v t="$td" -v n="$N" 'BEGIN { printf "%.2f", t / n / 1e6 }')
ref_cycle=$(awk -v a="$ref_att" -v b="$ref_det" 'BEGIN { printf "%.2f", a + b }')
echo "dockerd connect (API): ${ref_att} ms, disconnect: ${ref_det} ms"
echo "attach ratio (library): $(ratio "$ref_att" "$lib_att")x faster than dockerd;" \
	"detach: $(ratio "$ref_det" "$lib_det")x"
echo "attach+detach ratio: library $(ratio "$ref_cycle" "$(awk -v a="$lib_att" -v b="$lib_det" 'BEGIN{print a+b}')")x," \
	"one process per op $(ratio "$ref_cycle" "$proc_cycle")x"

docker run -d --name bnb-sink --network bnb-base -p 127.0.0.1:19200:9000 busybox sh -c 'while true; do nc -l -p 9000 >/dev/null; done' >/dev/null || exit 1
i=0
while ! "$T" ask 127.0.0.1 19200 tcp </dev/null >/dev/null 2>&1 && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
rbest=0
for r in 1 2 3; do
	# busybox nc restarts between connections; docker-proxy accepts before
	# the backend listens again, so a run may fail early: retry (bounded)
	k=0
	while ! v=$("$T" source 127.0.0.1 19200 "$MIB" 2>/dev/null) && [ $k -lt 100 ]; do
		sleep 0.05
		k=$((k + 1))
	done
	[ -n "$v" ] || exit 1
	rbest=$(awk -v a="$v" -v b="$rbest" 'BEGIN { print (a > b) ? a : b }')
done
echo "docker-proxy: ${rbest} MiB/s (best of 3)"
echo "proxy throughput ratio: $(ratio "$best" "$rbest")x docker-proxy"
