#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/runtime.sh -- start latency and peak memory of berth-runtime vs runc
# (Debian `runc`), crun when installed, and the kernel floor
# (`unshare -fpmuni --mount-proc true`), with hyperfine.  Prints ratios.
#
#   bench/runtime.sh [BUILD_DIR]      (default: the source tree)
#   RUNS=200 WARMUP=5 to change the counts.  Needs root, busybox-static, hyperfine, runc.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BERTH_BUILD_DIR:-$SRC}}
BR=$BUILD/runtime/berth-runtime
RUNS=${RUNS:-200}
WARMUP=${WARMUP:-5}
[ "$(id -u)" = 0 ] || { echo "bench/runtime.sh: needs root" >&2; exit 1; }
[ -x "$BR" ] || { echo "bench/runtime.sh: no $BR (build it first)" >&2; exit 1; }
for p in hyperfine runc; do
	command -v $p >/dev/null || { echo "bench/runtime.sh: needs $p (apt-get install $p)" >&2; exit 1; }
done

D=$(mktemp -d /tmp/berth-rtbench.XXXXXX)
chmod 755 "$D"
cleanup() {
	"$BR" --root "$D/state-berth" delete -f bench >/dev/null 2>&1
	runc --root "$D/state-runc" delete -f bench >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT INT TERM

mkdir -p "$D/b/rootfs/bin" "$D/b/rootfs/proc" "$D/b/rootfs/dev" "$D/b/rootfs/sys"
cp /bin/busybox "$D/b/rootfs/bin/" && ln -s busybox "$D/b/rootfs/bin/true" && ln -s busybox "$D/b/rootfs/bin/sh"
(cd "$D/b" && runc spec) || exit 1
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"true"/' "$D/b/config.json"

cd "$D" || exit 1
json=$D/h.json
mean() { # mean seconds of the command NAME from the last hyperfine json
	sed -n "s/.*\"command\": *\"$1\".*//p" "$json" >/dev/null
	awk -v want="$1" '
		/"command":/ { c = $0; sub(/.*"command": *"/, "", c); sub(/".*/, "", c) }
		/"mean":/ && c == want { m = $0; sub(/.*"mean": */, "", m); sub(/,.*/, "", m); print m; exit }' "$json"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.2f ms", a * 1000 }'; }

set -- -N -w "$WARMUP" -r "$RUNS" --export-json "$json" \
	-n floor "unshare -fpmuni --mount-proc true" \
	-n berth "$BR --root $D/state-berth run --bundle $D/b bench" \
	-n runc "runc --root $D/state-runc run --bundle $D/b bench"
if command -v crun >/dev/null; then
	# crun refuses hybrid cgroups unless the unified hierarchy is out of sight
	set -- "$@" -n crun "unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root $D/state-crun run --bundle $D/b bench'"
fi
echo "== run of a busybox true bundle ($RUNS runs)"
hyperfine --style basic "$@" 2>&1 | grep -E "^Benchmark|Time \(mean"
f=$(mean floor) b=$(mean berth) r=$(mean runc)
echo "floor $(ms "$f")  berth-runtime $(ms "$b")  runc $(ms "$r")"
echo "ratio berth/runc: $(ratio "$b" "$r")   berth/floor: $(ratio "$b" "$f")"
if command -v crun >/dev/null; then
	c=$(mean crun)
	echo "crun $(ms "$c")   ratio berth/crun: $(ratio "$b" "$c")"
fi

echo "== create --pid-file && start && state && delete -f ($((RUNS / 2)) runs)"
hyperfine --style basic -N -w "$WARMUP" -r $((RUNS / 2)) --export-json "$json" \
	-n berth "sh -c '$BR --root $D/state-berth create --bundle $D/b --pid-file $D/p1 bench && $BR --root $D/state-berth start bench && $BR --root $D/state-berth state bench >/dev/null && $BR --root $D/state-berth delete -f bench'" \
	-n runc "sh -c 'runc --root $D/state-runc create --bundle $D/b --pid-file $D/p2 bench && runc --root $D/state-runc start bench && runc --root $D/state-runc state bench >/dev/null && runc --root $D/state-runc delete -f bench'" \
	2>&1 | grep -E "^Benchmark|Time \(mean"
b=$(mean berth) r=$(mean runc)
echo "lifecycle berth-runtime $(ms "$b")  runc $(ms "$r")  ratio berth/runc: $(ratio "$b" "$r")"

echo "== peak RSS of one run (GNU time %M)"
rb=$(/usr/bin/time -f %M "$BR" --root "$D/state-berth" run --bundle "$D/b" bench 2>&1 >/dev/null | tail -n 1)
rr=$(/usr/bin/time -f %M runc --root "$D/state-runc" run --bundle "$D/b" bench 2>&1 >/dev/null | tail -n 1)
echo "berth-runtime ${rb} KiB  runc ${rr} KiB  ratio berth/runc: $(ratio "$rb" "$rr")"
echo "binary: $(stat -c %s "$BR") bytes (runc $(stat -c %s "$(command -v runc)"))"

# cgroup v2: on a hybrid host, in a private mount namespace where
# /sys/fs/cgroup is the cgroup2 hierarchy (as t3060 does); the runc spec's
# deny-all device rule then costs an eBPF program load and attach per run.
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	CG2=/sys/fs/cgroup
elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	CG2=/sys/fs/cgroup/unified
else
	CG2=
fi
if [ -n "$CG2" ]; then
	echo "== cgroup v2 run: with the eBPF device filter (runc spec's rules) vs without device rules ($RUNS runs)"
	mkdir -p "$D/nodev"
	sed -e '/"devices": \[/,/\]/d' -e "s|\"path\": \"rootfs\"|\"path\": \"$D/b/rootfs\"|" "$D/b/config.json" >"$D/nodev/config.json"
	unshare -m sh -c '
		if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
			mount --make-rprivate / && umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 1
		fi
		exec "$@"' v2 hyperfine --style basic -N -w "$WARMUP" -r "$RUNS" --export-json "$json" \
		-n filter "$BR --root $D/state-berth run --bundle $D/b bench" \
		-n nofilter "$BR --root $D/state-berth run --bundle $D/nodev bench" 2>&1 | grep -E "^Benchmark|Time \(mean"
	rmdir "$CG2/berth-runtime/bench" "$CG2/berth-runtime" 2>/dev/null
	b=$(mean filter) n=$(mean nofilter)
	echo "v2 run with device filter $(ms "$b")  without $(ms "$n")  ratio: $(ratio "$b" "$n")"
fi
