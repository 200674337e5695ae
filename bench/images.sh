#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/images.sh -- `docker load` and `docker save` through the docker CLI
# of a 200 MB image (four 50 MB random-data layers), against berthd and
# against a reference dockerd (Debian's docker.io on private sockets and
# dirs, bench/lib.sh), with ratios.  Each figure is the median of RUNS runs
# (default 3); before each load the image and its layers are removed.
#   BERTH_BUILD_DIR=/work/build-x sh bench/images.sh
# Root: berthd runs in a network namespace of the bench's own (bn_start).
set -eu
. "$(dirname "$0")/lib.sh"
B=${BERTH_BUILD_DIR:-$BENCH_SRC/build}
RUNS=${RUNS:-3}
TAG=bench-images:1
W=$BENCH_DIR/work
mkdir -p "$W"
bench_cleanup_images() { set +e; bn_stop; bench_cleanup; }
trap bench_cleanup_images EXIT

[ -x "$B/berthd" ] || { echo "no berthd in $B (set BERTH_BUILD_DIR)" >&2; exit 1; }
PATH=$B:$B/runtime:$PATH
export TRASH=$W
. "$BENCH_SRC/t/lib-storage.sh"

# ---- the archive: docker-archive layout, four 50 MB layers of random data ----
i=0 layers=
while [ $i -lt 4 ]; do
	mkdir -p "$W/l$i" && head -c 50M /dev/urandom >"$W/l$i/data$i"
	tar_of "$W/l$i" "$W/l$i.tar" && rm -rf "$W/l$i"
	layers="$layers l$i.tar"
	i=$((i + 1))
done
cd "$W"
# shellcheck disable=SC2086
make_docker_archive "$W/img.tar" $TAG $layers
rm -f $layers
size=$(stat -c %s img.tar)
sync

# one run of: CLI load, CLI save; prints "load_ms save_ms"
one_run() {
	docker image rm -f $TAG >/dev/null 2>&1 || true
	t0=$(now_ns)
	docker load -q -i img.tar >/dev/null
	l=$(ms_since "$t0")
	t0=$(now_ns)
	docker save -o out.tar $TAG
	s=$(ms_since "$t0")
	rm -f out.tar
	echo "$l $s"
}

# measure NAME: RUNS runs, medians into ${NAME}_load / ${NAME}_save (ms)
measure() {
	: >"$W/$1.load"
	: >"$W/$1.save"
	n=0
	while [ $n -lt "$RUNS" ]; do
		set -- "$1" $(one_run)
		echo "$2" >>"$W/$1.load"
		echo "$3" >>"$W/$1.save"
		n=$((n + 1))
	done
	eval "${1}_load=\$(med_mean \"\$W/\$1.load\" | cut -d\" \" -f1)"
	eval "${1}_save=\$(med_mean \"\$W/\$1.save\" | cut -d\" \" -f1)"
}

# the floor: tar -x of the archive, sha256 of it through openssl
t0=$(now_ns); mkdir x && tar -xf img.tar -C x; floor_tar=$(ms_since "$t0"); rm -rf x
t0=$(now_ns); openssl dgst -sha256 img.tar >/dev/null; floor_sha=$(ms_since "$t0")

bn_start "$B" --log-level error || exit 1
export DOCKER_HOST=unix://$BN_SOCK
measure berth
# the saved archive loads back to the same ID
docker save -o back.tar $TAG
berth_id=$(docker image inspect -f '{{.Id}}' $TAG)
bn_stop
unset DOCKER_HOST

echo "archive: $size bytes; floor: tar -x ${floor_tar} ms, sha256 ${floor_sha} ms"
echo "berth      load ${berth_load} ms   save ${berth_save} ms   (median of $RUNS)"

R_PORT=${REF_BENCH_PORT:-23861}
if ref_start; then
	export DOCKER_HOST=unix://$R_SOCK
	measure ref
	docker image rm -f $TAG >/dev/null 2>&1 || true
	docker load -q -i back.tar >/dev/null
	ref_id=$(docker image inspect -f '{{.Id}}' $TAG)
	unset DOCKER_HOST
	echo "reference  load ${ref_load} ms   save ${ref_save} ms   (median of $RUNS)"
	echo "ratio (reference / berth): load $(ratio "$ref_load" "$berth_load")   save $(ratio "$ref_save" "$berth_save")   (goal >= 4x)"
	[ "$ref_id" = "$berth_id" ] && echo "berth's save loads into the reference with the same ID" ||
		echo "ID differs: berth $berth_id, reference $ref_id" >&2
else
	echo "reference engine unavailable: no ratios"
fi
