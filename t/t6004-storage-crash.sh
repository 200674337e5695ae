#!/bin/sh
test_description='storage: a crash at any step of a load leaves only garbage that the next open collects'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

ROOT=$TRASH/root
export ROOT

# store_empty: no image, no layer, no blob, nothing staged, consistent
store_empty() {
	st check &&
	test "$(st images)" = "[]" &&
	test -z "$(ls "$ROOT/tmp")" &&
	test -z "$(ls "$ROOT/image/layerdb/sha256")" &&
	test -z "$(ls "$ROOT/image/blobs/sha256")" &&
	test "$(ls "$ROOT/overlay")" = l &&
	test -z "$(ls "$ROOT/overlay/l")"
}

test_expect_success BUSYBOX 'build a two-layer archive' '
	make_rootfs rfs && tar_of rfs "$TRASH/base.tar" &&
	mkdir l2 && echo x >l2/x && tar_of l2 "$TRASH/l2.tar" &&
	make_docker_archive "$TRASH/da.tar" bb:1 base.tar l2.tar
'

for point in load-staged layer-unpacked layer-moved layer-registered layers-done; do
	test_expect_success BUSYBOX "crash at $point: reopen collects the garbage" "
		rm -rf \"\$ROOT\" &&
		BERTH_STORAGE_CRASH_AT=$point storage-tool \"\$ROOT\" load da.tar; test \$? = 99 &&
		store_empty &&
		st load da.tar &&
		test \"\$(st resolve bb:1)\" = \"\$(cat da.tar.id)\" &&
		st check
	"
done

test_expect_success BUSYBOX 'a crash after a first image keeps it intact' '
	rm -rf "$ROOT" &&
	make_docker_archive "$TRASH/one.tar" one:1 base.tar &&
	st load one.tar &&
	BERTH_STORAGE_CRASH_AT=layer-registered storage-tool "$ROOT" load da.tar; test $? = 99 &&
	st check &&
	st resolve one:1 &&
	test_must_fail st resolve bb:1 &&
	test $(ls "$ROOT/image/layerdb/sha256" | wc -l) = 1
'

test_expect_success BUSYBOX 'kill -9 in the middle of a streamed load' '
	rm -rf "$ROOT" && mkdir -p "$ROOT" &&
	mkfifo pipe &&
	{ storage-tool "$ROOT" load pipe >load.out 2>&1 & } &&
	pid=$! &&
	exec 7>pipe &&
	head -c 1500000 da.tar >&7 &&
	wait_for 10 sh -c "ls \"$ROOT/tmp\" | grep -q load-" &&
	kill -9 $pid &&
	exec 7>&- &&
	{ wait $pid; true; } &&
	store_empty &&
	st load da.tar && st check
'

test_done
