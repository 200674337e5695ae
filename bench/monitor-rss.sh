#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/monitor-rss.sh -- memory of berth-monitor: N monitors, each holding a
# `sleep` container under runc (private state root) and writing its log;
# prints VmRSS, RssAnon and Pss per monitor (from /proc), and the time from
# the monitor's start to "started".  Goal: RSS <= 1 MB per monitor
# (containerd-shim-runc-v2 here: 13.1 MB).
#
#   bench/monitor-rss.sh [BUILD_DIR]     N=20 to change the count.
#   Needs root, runc and busybox-static.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BERTH_BUILD_DIR:-$SRC}}
MON=$BUILD/runtime/berth-monitor
RUNC=${RUNC:-/usr/sbin/runc}
N=${N:-20}
[ "$(id -u)" = 0 ] || { echo "bench/monitor-rss.sh: needs root" >&2; exit 1; }
[ -x "$MON" ] || { echo "bench/monitor-rss.sh: no $MON (build it first)" >&2; exit 1; }
[ -x "$RUNC" ] || { echo "bench/monitor-rss.sh: needs runc" >&2; exit 1; }

D=$(mktemp -d /tmp/berth-monbench.XXXXXX)
cleanup() {
	for f in "$D"/s*/monitor.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	for c in $("$RUNC" --root "$D/runc" list -q 2>/dev/null); do
		"$RUNC" --root "$D/runc" delete -f "$c" >/dev/null 2>&1
	done
	rm -rf "$D"
}
trap cleanup EXIT INT TERM

mkdir -p "$D/rootfs/bin" "$D/rootfs/proc" "$D/rootfs/dev" "$D/rootfs/sys" "$D/b"
cp /bin/busybox "$D/rootfs/bin/busybox"
ln -s busybox "$D/rootfs/bin/sh"
ln -s busybox "$D/rootfs/bin/sleep"
(cd "$D/b" && "$RUNC" spec) || exit 1
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e "s|\"path\": \"rootfs\"|\"path\": \"$D/rootfs\"|" \
	-e 's|^\(\t*\)"sh"$|\1"sh", "-c", "while true; do echo tick; sleep 1; done"|' "$D/b/config.json"

t0=$(date +%s%N)
i=0
while [ $i -lt "$N" ]; do
	"$MON" --runtime "$RUNC" --runtime-arg=--root --runtime-arg="$D/runc" --id "m$i" \
		--bundle "$D/b" --state-dir "$D/s$i" --log-path "$D/s$i/log.json" --auto-start ||
		{ echo "monitor $i failed" >&2; exit 1; }
	i=$((i + 1))
done
t1=$(date +%s%N)
sleep 2

rss=0 anon=0 pss=0 i=0
while [ $i -lt "$N" ]; do
	p=$(cat "$D/s$i/monitor.pid")
	r=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status")
	a=$(awk '/^RssAnon:/{print $2}' "/proc/$p/status")
	s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup")
	rss=$((rss + r)) anon=$((anon + a)) pss=$((pss + s))
	i=$((i + 1))
done
echo "berth-monitor x $N ($(basename "$RUNC") sleep containers, logging):"
echo "  VmRSS   per monitor: $((rss / N)) kB"
echo "  RssAnon per monitor: $((anon / N)) kB"
echo "  Pss     per monitor: $((pss / N)) kB (shared text counted once)"
echo "  start (create+start) per monitor: $(( (t1 - t0) / N / 1000000 )) ms"
