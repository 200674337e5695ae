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
	# what berthd left mounted under its dirs (its read-only bind of
	# berth-runtime outlives it on purpose)
	grep " $BENCH_DIR/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
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

# berth_start [berthd args...]: berthd from BERTH_BUILD_DIR when set, else
# from ./build (built first)
berth_start() {
	_bd=${BERTH_BUILD_DIR:-}
	if [ -z "$_bd" ]; then
		sh "$BENCH_SRC/scripts/build.sh" build --enable-werror >/dev/null || exit 1
		_bd=$BENCH_SRC/build
	fi
	B_SOCK=$BENCH_DIR/berth.sock
	echo '{}' >"$BENCH_DIR/berth.json"
	"$_bd/berthd" --data-root "$BENCH_DIR/berth-data" --exec-root "$BENCH_DIR/berth-exec" \
		--pidfile "$BENCH_DIR/berth.pid" --config-file "$BENCH_DIR/berth.json" --log-level error \
		-H "unix://$B_SOCK" -H "tcp://127.0.0.1:$B_PORT" "$@" >"$BENCH_DIR/berth.log" 2>&1 </dev/null &
	B_PID=$!
	wait_http "http://127.0.0.1:$B_PORT/_ping" || { echo "berthd did not start" >&2; cat "$BENCH_DIR/berth.log" >&2; exit 1; }
}

# ref_start: returns 1 (and says why) when the reference cannot run here.
# Without a bridge and firewall rules unless REF_BRIDGE=1 (then it makes
# docker0: run it in a network namespace of the bench's own).
ref_start() {
	_ref_net="--bridge none --iptables=false --ip-forward=false"
	[ "${REF_BRIDGE:-0}" = 1 ] && _ref_net=

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
		--pidfile "$R/dockerd.pid" $_ref_net \
		>"$R/dockerd.log" 2>&1 </dev/null &
	R_DOCKERD_PID=$!
	wait_http "http://127.0.0.1:$R_PORT/_ping" || { echo "reference: dockerd did not start (see $R/dockerd.log)" >&2; return 1; }
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }

# ---- berthd in a network namespace of the bench's own (net.sh, dns.sh) ----
# bn_start BUILD_DIR [berthd args...]: berthd from BUILD_DIR, entered with
# nsenter into a fresh netns (only the netns changes: mounts stay shared),
# private dirs under $BENCH_DIR/bn.  Sets BN_NS, BN_PID, BN_SOCK, BN_LOG,
# BN_DIR.  Clean up with bn_stop (by pid; containers first).
BN_PID= BN_NS=
bn_start() {
	_bb=$1
	shift
	BN_DIR=$BENCH_DIR/bn
	BN_SOCK=$BN_DIR/berthd.sock
	BN_LOG=$BN_DIR/berthd.log
	mkdir -p "$BN_DIR" && echo '{}' >"$BN_DIR/daemon.json" || return 1
	BN_NS=bench.$$
	ip netns add "$BN_NS" && ip -n "$BN_NS" link set lo up || { BN_NS=; return 1; }
	# nsenter execs berthd: $! is berthd's own pid
	nsenter --net="/run/netns/$BN_NS" "$_bb/berthd" --data-root "$BN_DIR/data" \
		--exec-root "$BN_DIR/exec" --pidfile "$BN_DIR/berthd.pid" \
		--config-file "$BN_DIR/daemon.json" -H "unix://$BN_SOCK" "$@" \
		>"$BN_LOG" 2>&1 </dev/null &
	BN_PID=$!
	for _i in $(seq 500); do
		kill -0 "$BN_PID" 2>/dev/null || { echo "berthd exited at start:" >&2; cat "$BN_LOG" >&2; BN_PID=; return 1; }
		curl -sf --max-time 2 --unix-socket "$BN_SOCK" http://berth/_ping >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	echo "berthd did not answer /_ping within 10 s" >&2
	return 1
}

# bn_docker ARGS...: the docker CLI against the bench's berthd
bn_docker() { DOCKER_HOST=unix://$BN_SOCK docker "$@"; }

# bn_in CMD...: CMD in berthd's netns (its loopback, bridges, published ports)
bn_in() { nsenter --net="/run/netns/$BN_NS" "$@"; }

# bn_stop: remove berthd's containers (live-restore would keep them), stop
# berthd by pid (bounded), then monitors it left, mounts under BN_DIR, the netns
bn_stop() {
	case $- in *e*) _bn_e=1 ;; *) _bn_e= ;; esac
	set +e
	if [ -n "$BN_PID" ]; then
		_ids=$(bn_docker ps -aq 2>/dev/null)
		[ -n "$_ids" ] && bn_docker rm -f $_ids >/dev/null 2>&1
		kill -TERM "$BN_PID" 2>/dev/null
		for _i in $(seq 500); do kill -0 "$BN_PID" 2>/dev/null || break; sleep 0.02; done
		kill -KILL "$BN_PID" 2>/dev/null
		BN_PID=
	fi
	if [ -n "${BN_DIR:-}" ]; then
		for _p in /proc/[0-9]*; do
			case "$(tr '\000' ' ' 2>/dev/null <"$_p/cmdline")" in
			*berth-monitor*"$BN_DIR/"*)
				for _k in $(cat "$_p"/task/*/children 2>/dev/null); do kill -KILL "$_k" 2>/dev/null; done
				kill -TERM "${_p#/proc/}" 2>/dev/null ;;
			esac
		done
		grep " $BN_DIR/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
	fi
	[ -n "$BN_NS" ] && ip netns del "$BN_NS" 2>/dev/null
	BN_NS=
	[ -n "$_bn_e" ] && set -e
	return 0
}

# bench_busybox_image: import busybox:latest (static busybox, every applet,
# PATH=/bin) into the engine the docker CLI talks to
bench_busybox_image() {
	_r=$(mktemp -d "$BENCH_DIR/bbroot.XXXXXX") &&
	mkdir -p "$_r/bin" "$_r/etc" "$_r/proc" "$_r/sys" "$_r/dev" "$_r/tmp" "$_r/root" "$_r/www" &&
	cp /bin/busybox "$_r/bin/" || return 1
	for _c in $(/bin/busybox --list); do [ "$_c" = busybox ] || ln -sf busybox "$_r/bin/$_c"; done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$_r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$_r/etc/group"
	tar -C "$_r" -c . | docker import -c 'CMD ["sh"]' -c 'ENV PATH=/bin' - busybox:latest >/dev/null
	_rc=$?
	rm -rf "$_r"
	return $_rc
}

# now_ns: wall clock in ns; ms_since T0: ms elapsed since T0 (2 decimals)
now_ns() { date +%s%N; }
ms_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f\n", (b - a) / 1e6 }'; }

# med_mean FILE: "median mean" of the numbers in FILE, one a line
med_mean() {
	sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
		END { if (!NR) { print "0 0"; exit }
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.1f %.1f\n", m, s / NR }'
}
