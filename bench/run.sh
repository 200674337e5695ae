#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh -- containers, berth vs the reference dockerd (Debian docker.io:
# dockerd + containerd + runc shims), both driven by the same docker CLI:
#   1. `docker run --rm busybox true` latency, --network none and the default
#      network (median of RUNS after 2 warm-ups)
#   2. 20 concurrent `docker run --rm busybox true` (wall time)
#   3. 200 detached `sleep` containers: memory of the engine plus its
#      per-container processes (berthd + berth-monitors vs dockerd +
#      containerd + containerd-shim-runc-v2)
#   4. `docker ps` with those 200 containers (mean of 10)
#   5. GET /containers/json over loopback TCP with wrk, 20 running containers
# and the ratios (how many times better berth is).
#
# The whole run happens in a private network namespace (unshare --net): both
# engines make their default bridges, veths and firewall rules there, never
# on the host.  Mounts stay shared.  BERTH_BUILD_DIR=DIR uses that build's
# berthd (else bench/lib.sh builds ./build).  RUNS, N_DETACHED, WRK_SECONDS
# tune the sizes.  Everything started is stopped by pid at exit; containers
# are removed first (berthd keeps them running across its exit: live restore).
set -u
if [ -z "${BENCH_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "bench/run.sh: needs root (containers, a private netns)" >&2; exit 1; }
	export BENCH_IN_NETNS=1
	exec unshare --net sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-20}
N_DETACHED=${N_DETACHED:-200}
WRK_SECONDS=${WRK_SECONDS:-10}
need wrk curl busybox-static
command -v docker >/dev/null 2>&1 || { echo "bench/run.sh: the docker CLI is missing" >&2; exit 1; }

run_cleanup() {
	[ -n "${I_PID:-}" ] && kill "$I_PID" 2>/dev/null
	for h in "${B_SOCK:-}" "${R_SOCK:-}"; do
		[ -n "$h" ] && [ -S "$h" ] || continue
		ids=$(DOCKER_HOST=unix://$h timeout 60 docker ps -aq 2>/dev/null)
		[ -n "$ids" ] && echo "$ids" | DOCKER_HOST=unix://$h timeout 120 xargs -r -n 20 -P 4 docker rm -f >/dev/null 2>&1
	done
	bench_cleanup_engines
	# what may outlive its engine: monitors and shims of this run, by pid
	for p in /proc/[0-9]*; do
		c=$(tr '\000' ' ' 2>/dev/null <"$p/cmdline") || continue
		case "$c" in
		*berth-monitor*"$BENCH_DIR/"*|*containerd-shim*"$BENCH_DIR/"*) kill -9 "${p#/proc/}" 2>/dev/null ;;
		esac
	done
	grep " $BENCH_DIR/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$BENCH_DIR"
}
bench_cleanup_engines() {
	[ -n "$B_PID" ] && kill "$B_PID" 2>/dev/null
	[ -n "$R_DOCKERD_PID" ] && kill "$R_DOCKERD_PID" 2>/dev/null
	for _i in $(seq 200); do
		{ [ -n "$B_PID" ] && kill -0 "$B_PID" 2>/dev/null; } ||
			{ [ -n "$R_DOCKERD_PID" ] && kill -0 "$R_DOCKERD_PID" 2>/dev/null; } || break
		sleep 0.05
	done
	[ -n "$R_CONTAINERD_PID" ] && kill "$R_CONTAINERD_PID" 2>/dev/null
	for _i in $(seq 100); do
		[ -n "$R_CONTAINERD_PID" ] && kill -0 "$R_CONTAINERD_PID" 2>/dev/null || break
		sleep 0.05
	done
}
trap run_cleanup EXIT

# berthd (BERTH_BUILD_DIR, else lib.sh's build) and the reference with its
# default bridge (docker0 in this netns)
berth_up() { berth_start; }
ref_up() { REF_BRIDGE=1 ref_start; }

# rt A B: A/B as "N.Nx", n/a when either is missing
rt() {
	case "$1/$2" in
	-*|*/-*|/*|*/) echo n/a ;;
	*) ratio "$1" "$2" ;;
	esac
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# lat HOST ARGS...: median ms of RUNS `docker run --rm ARGS` after 2 warm-ups
lat() {
	_h=$1; shift
	for _i in 1 2; do DOCKER_HOST=$_h docker run --rm "$@" >/dev/null 2>&1; done
	: >"$BENCH_DIR/lat"
	for _i in $(seq "$RUNS"); do
		_t0=$(now_ms)
		DOCKER_HOST=$_h docker run --rm "$@" >/dev/null 2>&1 || { echo "run failed: $*" >&2; echo -1; return; }
		echo $(( $(now_ms) - _t0 )) >>"$BENCH_DIR/lat"
	done
	sort -n "$BENCH_DIR/lat" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# conc HOST N ARGS...: wall ms of N concurrent `docker run --rm ARGS`
conc() {
	_h=$1 _n=$2; shift 2
	_t0=$(now_ms)
	_pids=
	for _i in $(seq "$_n"); do
		DOCKER_HOST=$_h docker run --rm "$@" >/dev/null 2>"$BENCH_DIR/conc.$_i" &
		_pids="$_pids $!"
	done
	_fail=0
	for _p in $_pids; do wait "$_p" || _fail=$((_fail + 1)); done
	_ms=$(( $(now_ms) - _t0 ))
	[ $_fail = 0 ] || echo "conc: $_fail of $_n runs failed: $(cat "$BENCH_DIR"/conc.* | sort -u | head -3)" >&2
	echo "$_ms"
}

# detached HOST N: N `docker run -d busybox sleep` (8 at a time)
detached() {
	seq "$2" | DOCKER_HOST=$1 xargs -P 8 -I{} docker run -d --network none busybox sleep 3600 >/dev/null 2>&1
	DOCKER_HOST=$1 docker ps -q | wc -l
}

# rss_sum PATTERN: kB of every process whose command line matches PATTERN
rss_sum() {
	_s=0
	for _p in /proc/[0-9]*; do
		_c=$(tr '\000' ' ' 2>/dev/null <"$_p/cmdline") || continue
		case "$_c" in
		$1) _s=$((_s + $(rss_kb "${_p#/proc/}"))) ;;
		esac
	done
	echo $_s
}
count_procs() {
	_s=0
	for _p in /proc/[0-9]*; do
		_c=$(tr '\000' ' ' 2>/dev/null <"$_p/cmdline") || continue
		case "$_c" in
		$1) _s=$((_s + 1)) ;;
		esac
	done
	echo $_s
}

# ps_ms HOST: mean ms of 10 `docker ps`
ps_ms() {
	DOCKER_HOST=$1 docker ps >/dev/null
	_t0=$(now_ms)
	for _i in $(seq 10); do DOCKER_HOST=$1 docker ps >/dev/null || return 1; done
	echo $(( ($(now_ms) - _t0) / 10 ))
}

run_wrk() {
	wrk -t2 -c32 -d"${WRK_SECONDS}s" --latency "$1" 2>/dev/null | awk '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/Requests\/sec:/ { rps = $2 }
		/^ +99%/ { p99 = ms($2) }
		END { printf "%.0f %.2f\n", rps, p99 }'
}

rm_all() {
	DOCKER_HOST=$1 docker ps -aq | DOCKER_HOST=$1 xargs -r -n 20 -P 4 docker rm -f >/dev/null 2>&1
}

# ---- the engines and the image ----
berth_up
B_HOST=unix://$B_SOCK
ref=1
ref_up || ref=0
mkdir -p "$BENCH_DIR/img/bin"
cp /bin/busybox "$BENCH_DIR/img/bin/" && ln -s busybox "$BENCH_DIR/img/bin/sh" && ln -s busybox "$BENCH_DIR/img/bin/true" &&
	ln -s busybox "$BENCH_DIR/img/bin/sleep"
tar -C "$BENCH_DIR/img" -c . | DOCKER_HOST=$B_HOST docker import -c "ENV PATH=/bin" - busybox:latest >/dev/null || exit 1
if [ $ref = 1 ]; then
	R_HOST=unix://$R_SOCK
	tar -C "$BENCH_DIR/img" -c . | DOCKER_HOST=$R_HOST docker import -c "ENV PATH=/bin" - busybox:latest >/dev/null || ref=0
fi
echo "berth: $(DOCKER_HOST=$B_HOST docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
[ $ref = 1 ] && echo "reference: dockerd $(DOCKER_HOST=$R_HOST docker version --format '{{.Server.Version}}'), containerd, runc" ||
	echo "reference: not available; berth figures only"
echo "docker CLI $(docker version --format '{{.Client.Version}}' 2>/dev/null); $(nproc) CPUs; runs=$RUNS; load average $(cut -d" " -f1-3 /proc/loadavg)"
echo

row() { printf '%-44s %12s %12s %9s\n' "$@"; }
row "measure" "berth" "dockerd" "ratio"
b0=$(rss_kb "$B_PID")
r0=0
[ $ref = 1 ] && r0=$(( $(rss_kb "$R_DOCKERD_PID") + $(rss_kb "$R_CONTAINERD_PID") ))
row "idle engine RSS (kB)" "$b0" "$r0" "$(rt "$r0" "$b0")"

# the CLI's own share: `docker version` (ping + one request), median ms
cli_floor() {
	: >"$BENCH_DIR/cli"
	for _i in $(seq "$RUNS"); do
		_t0=$(now_ms)
		DOCKER_HOST=$1 docker version >/dev/null 2>&1
		echo $(( $(now_ms) - _t0 )) >>"$BENCH_DIR/cli"
	done
	sort -n "$BENCH_DIR/cli" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
b=$(cli_floor "$B_HOST"); r=-
[ $ref = 1 ] && r=$(cli_floor "$R_HOST")
row "docker version (CLI floor), median ms" "$b" "$r" "$(rt "$r" "$b")"

# 1. single-run latency, and the CLI's own share of it: the same run against
# an engine that answers every request at once (bench/instant-engine.py)
b=$(lat "$B_HOST" --network none busybox true); r=-
[ $ref = 1 ] && r=$(lat "$R_HOST" --network none busybox true)
row "run --rm --network none true, median ms" "$b" "$r" "$(rt "$r" "$b")"
r_none=$r
b=$(lat "$B_HOST" busybox true); r=-
[ $ref = 1 ] && r=$(lat "$R_HOST" busybox true)
row "run --rm true (default network), median ms" "$b" "$r" "$(rt "$r" "$b")"
r_bridge=$r
if command -v python3 >/dev/null 2>&1; then
	python3 "$BENCH_SRC/bench/instant-engine.py" "$BENCH_DIR/instant.sock" &
	I_PID=$!
	for _i in $(seq 100); do [ -S "$BENCH_DIR/instant.sock" ] && break; sleep 0.05; done
	f=$(lat "unix://$BENCH_DIR/instant.sock" --network none busybox true)
	kill "$I_PID" 2>/dev/null
	wait "$I_PID" 2>/dev/null
	row "run --rm against an instant engine (CLI floor), ms" "$f" "" ""
	row "  best ratio any engine could reach (none / default)" "" "" "$(rt "$r_none" "$f") / $(rt "$r_bridge" "$f")"
fi
nm=$(DOCKER_HOST=$B_HOST docker run --rm busybox sh -c 'ls /sys/class/net | tr "\n" " "' 2>/dev/null)
echo "  (berth default network: interfaces in the container: ${nm:-?})"

# 2. concurrency
b=$(conc "$B_HOST" 20 busybox true); r=-
[ $ref = 1 ] && r=$(conc "$R_HOST" 20 busybox true)
row "20 concurrent run --rm true (default), ms" "$b" "$r" "$(rt "$r" "$b")"
b=$(conc "$B_HOST" 20 --network none busybox true); r=-
[ $ref = 1 ] && r=$(conc "$R_HOST" 20 --network none busybox true)
row "20 concurrent run --rm --network none, ms" "$b" "$r" "$(rt "$r" "$b")"

# 3. memory with N detached containers
bn=$(detached "$B_HOST" "$N_DETACHED")
sleep 2
b_mon=$(rss_sum "*berth-monitor*$BENCH_DIR/berth-exec/*")
b_nmon=$(count_procs "*berth-monitor*$BENCH_DIR/berth-exec/*")
b_d=$(rss_kb "$B_PID")
b_tot=$((b_d + b_mon))
rn=0 r_tot=0 r_shim=0 r_nshim=0 r_d=0
if [ $ref = 1 ]; then
	rn=$(detached "$R_HOST" "$N_DETACHED")
	sleep 2
	r_shim=$(rss_sum "*containerd-shim*$R/containerd.sock*")
	r_nshim=$(count_procs "*containerd-shim*$R/containerd.sock*")
	r_d=$(( $(rss_kb "$R_DOCKERD_PID") + $(rss_kb "$R_CONTAINERD_PID") ))
	r_tot=$((r_d + r_shim))
fi
row "detached sleep containers running" "$bn" "$rn" ""
row "engine RSS with them (kB)" "$b_d" "$r_d" "$(rt "$r_d" "$b_d")"
row "per-container processes" "$b_nmon monitors" "$r_nshim shims" ""
row "per-container processes RSS (kB)" "$b_mon" "$r_shim" "$(rt "$r_shim" "$b_mon")"
row "total RSS (kB)" "$b_tot" "$r_tot" "$(rt "$r_tot" "$b_tot")"
bpc=$(awk -v t="$b_tot" -v z="$b0" -v n="$bn" 'BEGIN { if (n > 0) printf "%.0f", (t - z) / n; else print 0 }')
rpc=$(awk -v t="$r_tot" -v z="$r0" -v n="$rn" 'BEGIN { if (n > 0) printf "%.0f", (t - z) / n; else print 0 }')
row "memory per container (kB, over idle)" "$bpc" "$rpc" "$(rt "$rpc" "$bpc")"

# 4. docker ps with them
b=$(ps_ms "$B_HOST"); r=-
[ $ref = 1 ] && r=$(ps_ms "$R_HOST")
row "docker ps with $N_DETACHED containers, mean ms" "$b" "$r" "$(rt "$r" "$b")"
rm_all "$B_HOST"
[ $ref = 1 ] && rm_all "$R_HOST"

# 5. list throughput, 20 running containers
detached "$B_HOST" 20 >/dev/null
[ $ref = 1 ] && detached "$R_HOST" 20 >/dev/null
set -- $(run_wrk "http://127.0.0.1:$B_PORT/containers/json")
b_rps=$1 b_p99=$2
r_rps=- r_p99=-
if [ $ref = 1 ]; then
	set -- $(run_wrk "http://127.0.0.1:$R_PORT/containers/json")
	r_rps=$1 r_p99=$2
fi
row "GET /containers/json (20 ctrs), req/s" "$b_rps" "$r_rps" "$(rt "$b_rps" "$r_rps")"
row "GET /containers/json (20 ctrs), p99 ms" "$b_p99" "$r_p99" "$(rt "$r_p99" "$b_p99")"
echo "berthd RSS at the end: $(rss_kb "$B_PID") kB"
