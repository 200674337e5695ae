#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/api.sh -- API throughput and latency: wrk (-t2 -c32, 10 s) on GET
# /_ping, /version and /info over loopback TCP, berth vs a reference dockerd,
# plus idle memory.  Prints one line per endpoint and the ratios.
. "$(dirname "$0")/lib.sh"
DUR=${BENCH_SECONDS:-10}
need wrk curl

# run_wrk URL: prints "req/s p50_ms p99_ms"
run_wrk() {
	wrk -t2 -c32 -d"${DUR}s" --latency "$1" 2>/dev/null | awk '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/Requests\/sec:/ { rps = $2 }
		/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
		END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }'
}

berth_start
ref=1
ref_start || ref=0
sleep 1
b_idle=$(rss_kb "$B_PID")
r_idle=0
[ $ref = 1 ] && r_idle=$(( $(rss_kb "$R_DOCKERD_PID") + $(rss_kb "$R_CONTAINERD_PID") ))

printf '%-10s %12s %10s %10s | %12s %10s %10s | %8s %8s\n' endpoint berth-rps p50-ms p99-ms ref-rps p50-ms p99-ms rps-x p99-x
for ep in _ping version info; do
	set -- $(run_wrk "http://127.0.0.1:$B_PORT/$ep")
	b_rps=$1 b_p50=$2 b_p99=$3
	r_rps=0 r_p50=0 r_p99=0
	if [ $ref = 1 ]; then
		set -- $(run_wrk "http://127.0.0.1:$R_PORT/$ep")
		r_rps=$1 r_p50=$2 r_p99=$3
	fi
	printf '%-10s %12s %10s %10s | %12s %10s %10s | %8s %8s\n' "/$ep" "$b_rps" "$b_p50" "$b_p99" \
		"$r_rps" "$r_p50" "$r_p99" "$(ratio "$b_rps" "$r_rps")" "$(ratio "$r_p99" "$b_p99")"
done
echo "idle RSS: berthd $((b_idle / 1024)) MiB ($b_idle kB); reference dockerd+containerd $((r_idle / 1024)) MiB; ratio $(ratio "$r_idle" "$b_idle")"
echo "berthd RSS after the run: $(( $(rss_kb "$B_PID") )) kB"
