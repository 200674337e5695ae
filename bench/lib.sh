# SPDX-License-Identifier: Apache-2.0
# bench/lib.sh -- shared by the benchmarks: build berth, start berthd and a
# reference dockerd (Debian's docker.io, private sockets and dirs, a loopback
# TCP port), stop both by pid.  Source it; it sets B_* and R_* variables.
set -u
BENCH_SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=$(mktemp -d /tmp/berth-bench.XXXXXX)
B_PORT=${BERTH_BENCH_PORT:-23850}
R_PORT=${REF_BENCH_PORT:-23851}
B_PID= R_DOCKERD_PID= R_CONTAINERD_PID=

bench_cleanup() {
	[ -n "$B_PID" ] && kill "$B_PID" 2>/dev/null
	[ -n "$R_DOCKERD_PID" ] && kill "$R_DOCKERD_PID" 2>/dev/null
	sleep 1
	[ -n "$R_CONTAINERD_PID" ] && kill "$R_CONTAINERD_PID" 2>/dev/null
	umount -R "$BENCH_DIR"/ref/data/* 2>/dev/null
	rm -rf "$BENCH_DIR"
}
trap bench_cleanup EXIT

need() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
		policy=/usr/sbin/policy-rc.d
		[ -e $policy ] || { printf '#!/bin/sh\nexit 101\n' >$policy; chmod +x $policy; rm_policy=1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1; }
		[ -n "${rm_policy:-}" ] && rm -f $policy
	done
}

# wait_http URL [curl args]: bounded wait until it answers
wait_http() {
	_u=$1; shift
	for _i in $(seq 300); do curl -sf --max-time 1 "$@" "$_u" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

berth_start() {
	sh "$BENCH_SRC/scripts/build.sh" build --enable-werror >/dev/null || exit 1
	B_SOCK=$BENCH_DIR/berth.sock
	echo '{}' >"$BENCH_DIR/berth.json"
	"$BENCH_SRC/build/berthd" --data-root "$BENCH_DIR/berth-data" --exec-root "$BENCH_DIR/berth-exec" \
		--pidfile "$BENCH_DIR/berth.pid" --config-file "$BENCH_DIR/berth.json" --log-level error \
		-H "unix://$B_SOCK" -H "tcp://127.0.0.1:$B_PORT" "$@" >"$BENCH_DIR/berth.log" 2>&1 </dev/null &
	B_PID=$!
	wait_http "http://127.0.0.1:$B_PORT/_ping" || { echo "berthd did not start" >&2; cat "$BENCH_DIR/berth.log" >&2; exit 1; }
}

# ref_start: returns 1 (and says why) when the reference cannot run here
ref_start() {
	need docker.io
	command -v dockerd >/dev/null 2>&1 || { echo "reference: dockerd unavailable" >&2; return 1; }
	R=$BENCH_DIR/ref
	mkdir -p "$R"
	R_SOCK=$R/docker.sock
	setsid containerd --root "$R/ctd" --state "$R/ctd-state" --address "$R/containerd.sock" \
		>"$R/containerd.log" 2>&1 </dev/null &
	R_CONTAINERD_PID=$!
	for _i in $(seq 100); do [ -S "$R/containerd.sock" ] && break; sleep 0.05; done
	echo '{}' >"$R/daemon.json"
	setsid dockerd --data-root "$R/data" --exec-root "$R/exec" -H "unix://$R_SOCK" \
		-H "tcp://127.0.0.1:$R_PORT" --config-file "$R/daemon.json" --containerd "$R/containerd.sock" \
		--pidfile "$R/dockerd.pid" --bridge none --iptables=false --ip-forward=false \
		>"$R/dockerd.log" 2>&1 </dev/null &
	R_DOCKERD_PID=$!
	wait_http "http://127.0.0.1:$R_PORT/_ping" || { echo "reference: dockerd did not start (see $R/dockerd.log)" >&2; return 1; }
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
