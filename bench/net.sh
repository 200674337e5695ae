#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/net.sh [BUILD_DIR] -- container networking through the daemons and the
# real docker CLI, berthd vs the reference dockerd, same commands on both:
#   1. attach: `docker run -d --network NET busybox sleep` until `docker
#      inspect` shows an address (create -> running with an address), then
#      `docker rm -f` (teardown), BENCH_N times; `docker network connect` and
#      `disconnect` of a running container, BENCH_N times; the same connect and
#      disconnect as bare API calls (curl), without the CLI's own cost; for
#      scale, the floor of one CLI call (network inspect) and of one curl
#      call (/_ping) on the same daemon.
#   2. throughput of a published TCP port on 127.0.0.1 (-p 127.0.0.1:P:80):
#      busybox httpd in a container on the user network NET serves a
#      BENCH_MIB MiB file made in its rootfs, curl downloads it on the engine's loopback (berth: inside
#      berthd's netns; dockerd: the host), berth's proxy vs docker-proxy, best
#      of 3; the same download straight to the container address for scale;
#      and berthd again with --userland-proxy=false (kernel DNAT, loopback
#      included).
# berthd (BUILD_DIR, default $BERTH_BUILD_DIR or /work/build) runs in a
# network namespace this script makes; the reference engine is
# /work/shared/tools/reference-engine (skipped with BENCH_REFERENCE=no).
# Everything is removed at exit, by pid and by name.  Needs root, curl.
set -u
. "$(dirname "$0")/lib.sh"
B=$(cd "${1:-${BERTH_BUILD_DIR:-/work/build}}" && pwd) || exit 1
N=${BENCH_N:-10}
MIB=${BENCH_MIB:-1024}
REF=${REFERENCE_ENGINE:-/work/shared/tools/reference-engine}
W=$BENCH_DIR
TAG=bnb$$
R_UP=

cleanup() {
	set +e
	if [ -n "$R_UP" ]; then
		_ids=$(docker ps -aq --filter "label=berth.bench=$TAG")
		[ -n "$_ids" ] && docker rm -f $_ids >/dev/null 2>&1
		docker network rm "$TAG-net" "$TAG-net2" >/dev/null 2>&1
	fi
	bn_stop
	bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "bench/net.sh: needs root" >&2; exit 2; }
[ -x "$B/berthd" ] || { echo "bench/net.sh: no $B/berthd" >&2; exit 2; }
for t in curl docker nsenter ip; do
	command -v $t >/dev/null || { echo "bench/net.sh: needs $t" >&2; exit 2; }
done
NET=$TAG-net NET2=$TAG-net2

addr_of() { # addr_of DOCKER ID: the container's addresses (empty until it has one)
	$1 inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$2" 2>/dev/null
}

# attach DOCKER LABEL: run -> address, then rm -f, N times
attach() {
	: >"$W/$2.run"
	: >"$W/$2.rm"
	_n=0
	while [ $_n -lt "$N" ]; do
		_t=$(now_ns)
		_id=$($1 run -d --label "berth.bench=$TAG" --network "$NET" busybox sleep 3600) || return 1
		_k=0
		until [ -n "$(addr_of "$1" "$_id")" ]; do
			_k=$((_k + 1))
			[ $_k -lt 500 ] || { echo "$2: $_id got no address" >&2; return 1; }
			sleep 0.01
		done
		ms_since "$_t" >>"$W/$2.run"
		_t=$(now_ns)
		$1 rm -f "$_id" >/dev/null || return 1
		ms_since "$_t" >>"$W/$2.rm"
		_n=$((_n + 1))
	done
}

# conndisc DOCKER LABEL SOCKET: network connect/disconnect of a running
# container, N times with the CLI, then N times as bare API calls
conndisc() {
	: >"$W/$2.conn"
	: >"$W/$2.disc"
	: >"$W/$2.aconn"
	: >"$W/$2.adisc"
	: >"$W/$2.floor"
	: >"$W/$2.ping"
	_id=$($1 run -d --label "berth.bench=$TAG" --network "$NET" busybox sleep 3600) || return 1
	_n=0
	while [ $_n -lt "$N" ]; do
		_t=$(now_ns)
		$1 network connect "$NET2" "$_id" || return 1
		ms_since "$_t" >>"$W/$2.conn"
		_t=$(now_ns)
		$1 network disconnect "$NET2" "$_id" || return 1
		ms_since "$_t" >>"$W/$2.disc"
		_n=$((_n + 1))
	done
	_n=0
	while [ $_n -lt "$N" ]; do
		for _op in connect disconnect; do
			_t=$(now_ns)
			curl -sf --unix-socket "$3" -X POST -H 'Content-Type: application/json' \
				-d "{\"Container\":\"$_id\"}" "http://x/networks/$NET2/$_op" >/dev/null ||
				{ echo "$2: API $_op failed" >&2; return 1; }
			ms_since "$_t" >>"$W/$2.a$(echo $_op | cut -c1-4)"
		done
		_n=$((_n + 1))
	done
	_n=0
	while [ $_n -lt "$N" ]; do
		_t=$(now_ns)
		$1 network inspect -f '{{.Id}}' "$NET2" >/dev/null || return 1
		ms_since "$_t" >>"$W/$2.floor"
		_t=$(now_ns)
		curl -sf --unix-socket "$3" http://x/_ping >/dev/null || return 1
		ms_since "$_t" >>"$W/$2.ping"
		_n=$((_n + 1))
	done
	$1 rm -f "$_id" >/dev/null
}

# fetch LABEL URL CLIENT...: best MiB/s of 3 downloads of the blob
fetch() {
	_l=$1 _u=$2
	shift 2
	_best=0
	for _r in 1 2 3; do
		_o=$("$@" curl -s --max-time 120 -o /dev/null -w '%{size_download} %{speed_download}' "$_u") ||
			{ echo "$_l: download from $_u failed" >&2; return 1; }
		_sz=${_o% *}
		[ "$_sz" = $((MIB * 1048576)) ] || { echo "$_l: got $_sz bytes from $_u" >&2; return 1; }
		_best=$(awk -v s="${_o#* }" -v b="$_best" 'BEGIN { v = s / 1048576; printf "%.0f", (v > b) ? v : b }')
	done
	echo "$_best"
}

# proxy DOCKER LABEL PORT CLIENT...: httpd behind -p 127.0.0.1:PORT:80;
# prints "proxy_MiB/s direct_MiB/s"
proxy() {
	_d=$1 _l=$2 _p=$3
	shift 3
	_id=$($_d run -d --label "berth.bench=$TAG" --network "$NET" -p "127.0.0.1:$_p:80" busybox sh -c \
		"mkdir -p /www && dd if=/dev/zero of=/www/blob bs=1M count=$MIB 2>/dev/null && echo ok >/www/ready && exec httpd -f -p 80 -h /www") ||
		return 1
	_k=0
	until "$@" curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$_p/ready" 2>/dev/null; do
		_k=$((_k + 1))
		[ $_k -lt 1500 ] || { echo "$_l: httpd behind port $_p never answered" >&2; return 1; }
		sleep 0.04
	done
	_ip=$(addr_of "$_d" "$_id")
	_px=$(fetch "$_l" "http://127.0.0.1:$_p/blob" "$@") || return 1
	_dir=$(fetch "$_l" "http://$_ip/blob" "$@") || return 1
	$_d rm -f "$_id" >/dev/null
	echo "$_px $_dir"
}

# ---- berth ----
bn_start "$B" --dns 127.0.0.53 --log-level warn || exit 1
(export DOCKER_HOST="unix://$BN_SOCK" && bench_busybox_image) || { echo "busybox import into berthd failed" >&2; exit 1; }
bn_docker network create "$NET" >/dev/null && bn_docker network create "$NET2" >/dev/null || exit 1
attach bn_docker berth || exit 1
conndisc bn_docker berth "$BN_SOCK" || exit 1
BP=$(proxy bn_docker berth 19280 bn_in) || exit 1

show() { # show LABEL FILE...: median/mean per file
	printf '%-32s' "$1"
	shift
	for f in "$@"; do
		set -- $(med_mean "$f")
		printf ' median %7s ms  mean %7s ms' "$1" "$2"
	done
	echo
}
ratio2() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
med() { med_mean "$1" | cut -d' ' -f1; }

echo "# bench/net.sh: N=$N, ${MIB} MiB per download ($(date -u +%FT%TZ), $(nproc) cpus, load $(cut -d" " -f1-3 /proc/loadavg))"
show "berth run -> address" "$W/berth.run"
show "berth rm -f" "$W/berth.rm"
show "berth network connect (CLI)" "$W/berth.conn"
show "berth network disconnect (CLI)" "$W/berth.disc"
show "berth connect (API)" "$W/berth.aconn"
show "berth disconnect (API)" "$W/berth.adisc"
show "berth floor: CLI inspect" "$W/berth.floor"
show "berth floor: curl _ping" "$W/berth.ping"
echo "berth proxy 127.0.0.1: ${BP% *} MiB/s (direct to the container: ${BP#* } MiB/s)"
# the same port with --userland-proxy=false: the kernel's DNAT serves
# 127.0.0.1 too (route_localnet on the bridge), as dockerd does without it
bn_stop
bn_start "$B" --dns 127.0.0.53 --log-level warn --userland-proxy=false || exit 1
BK=$(proxy bn_docker berth-dnat 19280 bn_in) || exit 1
echo "berth --userland-proxy=false 127.0.0.1: ${BK% *} MiB/s (direct to the container: ${BK#* } MiB/s)"
bn_stop

# ---- reference ----
if [ "${BENCH_REFERENCE:-yes}" = no ] || [ ! -x "$REF" ]; then
	echo "# reference engine skipped"
	exit 0
fi
"$REF" start >/dev/null || { echo "reference engine did not start" >&2; exit 1; }
eval "$("$REF" env | grep ^export)"
R_SOCK=${DOCKER_HOST#unix://}
R_UP=1
RP=19280
while [ -n "$(ss -Hltn "sport = :$RP")" ]; do RP=$((RP + 1)); done
docker network create "$NET" >/dev/null && docker network create "$NET2" >/dev/null || exit 1
attach docker ref || exit 1
conndisc docker ref "$R_SOCK" || exit 1
DP=$(proxy docker ref "$RP") || exit 1
show "dockerd run -> address" "$W/ref.run"
show "dockerd rm -f" "$W/ref.rm"
show "dockerd network connect (CLI)" "$W/ref.conn"
show "dockerd network disconnect (CLI)" "$W/ref.disc"
show "dockerd connect (API)" "$W/ref.aconn"
show "dockerd disconnect (API)" "$W/ref.adisc"
show "dockerd floor: CLI inspect" "$W/ref.floor"
show "dockerd floor: curl _ping" "$W/ref.ping"
echo "docker-proxy 127.0.0.1: ${DP% *} MiB/s (direct to the container: ${DP#* } MiB/s)"

echo "# ratios dockerd/berth on medians (higher: berth faster)"
echo "run -> address $(ratio2 "$(med "$W/ref.run")" "$(med "$W/berth.run")"),"\
	"rm -f $(ratio2 "$(med "$W/ref.rm")" "$(med "$W/berth.rm")"),"\
	"connect CLI $(ratio2 "$(med "$W/ref.conn")" "$(med "$W/berth.conn")"),"\
	"disconnect CLI $(ratio2 "$(med "$W/ref.disc")" "$(med "$W/berth.disc")"),"\
	"connect API $(ratio2 "$(med "$W/ref.aconn")" "$(med "$W/berth.aconn")"),"\
	"disconnect API $(ratio2 "$(med "$W/ref.adisc")" "$(med "$W/berth.adisc")")"
net() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.1f", a - b }'; }
echo "# daemon side (API median minus the curl floor): connect berth $(net "$W/berth.aconn" "$W/berth.ping") ms," \
	"dockerd $(net "$W/ref.aconn" "$W/ref.ping") ms ($(ratio2 "$(net "$W/ref.aconn" "$W/ref.ping")" "$(net "$W/berth.aconn" "$W/berth.ping")"));" \
	"disconnect berth $(net "$W/berth.adisc" "$W/berth.ping") ms, dockerd $(net "$W/ref.adisc" "$W/ref.ping") ms" \
	"($(ratio2 "$(net "$W/ref.adisc" "$W/ref.ping")" "$(net "$W/berth.adisc" "$W/berth.ping")"))"
echo "proxy throughput: berth $(ratio2 "${BP% *}" "${DP% *}") docker-proxy;" \
	"berth with --userland-proxy=false $(ratio2 "${BK% *}" "${DP% *}") docker-proxy"
