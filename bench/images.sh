#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/images.sh -- docker load / docker save of a 200 MB image (four 50 MB
# random-data layers): berth's storage library (t/helper/storage-tool, no
# HTTP yet) against the reference engine (docker load/save), with ratios.
#   BERTH_BUILD_DIR=/work/build-x sh bench/images.sh
# Needs the reference engine running for the comparison
# (/work/shared/tools/reference-engine start); berth figures alone otherwise.
set -eu
B=${BERTH_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
TOOL=$B/t/helper/storage-tool
REF_SOCK=${REFERENCE_ENGINE_DIR:-/tmp/berth-ref}/docker.sock
W=$(mktemp -d /tmp/bench-images.XXXXXX)
TAG=bench-images-$$
trap 'rm -rf "$W"; [ -S "$REF_SOCK" ] && DOCKER_HOST=unix://$REF_SOCK docker rmi -f $TAG:1 >/dev/null 2>&1; true' EXIT
export TRASH=$W ROOT=$W/root
. "$(dirname "$0")/../t/lib-storage.sh"
PATH=$B/t/helper:$PATH

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | sed 's/^\./0./'; }

i=0 layers=
while [ $i -lt 4 ]; do
	mkdir -p "$W/l$i" && head -c 50M /dev/urandom >"$W/l$i/data$i"
	tar_of "$W/l$i" "$W/l$i.tar" && rm -rf "$W/l$i"
	layers="$layers l$i.tar"
	i=$((i + 1))
done
cd "$W"
# shellcheck disable=SC2086
make_docker_archive "$W/img.tar" $TAG:1 $layers
size=$(stat -c %s img.tar)
sync

t0=$(now); "$TOOL" "$ROOT" load img.tar >/dev/null; t1=$(now)
b_load=$(secs "$t0" "$t1")
t0=$(now); "$TOOL" "$ROOT" save out.tar $TAG:1; t1=$(now)
b_save=$(secs "$t0" "$t1")
rm -f out.tar
t0=$(now); tar -xf img.tar -C "$W" 2>/dev/null || true; t1=$(now)
floor=$(secs "$t0" "$t1")
echo "archive: $size bytes"
echo "berth load: ${b_load}s  save: ${b_save}s  (tar -x floor ${floor}s)"

if curl -sf --max-time 2 --unix-socket "$REF_SOCK" http://x/_ping >/dev/null 2>&1; then
	export DOCKER_HOST=unix://$REF_SOCK
	docker rmi -f $TAG:1 >/dev/null 2>&1 || true
	t0=$(now); docker load -q -i img.tar >/dev/null; t1=$(now)
	r_load=$(secs "$t0" "$t1")
	t0=$(now); docker save -o out.tar $TAG:1; t1=$(now)
	r_save=$(secs "$t0" "$t1")
	echo "reference load: ${r_load}s  save: ${r_save}s"
	echo "speedup load: $(echo "$r_load / $b_load" | bc -l | cut -c1-5)x  save: $(echo "$r_save / $b_save" | bc -l | cut -c1-5)x  (goal >= 4x)"
else
	echo "reference engine not running: no ratios"
fi
