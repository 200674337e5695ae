#!/bin/sh
test_description='storage: overlay2.min_free_space guard and ENOSPC rollback on a small loop-mounted filesystem'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

prereq_LOOP() {
	[ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null 2>&1 && [ -e /dev/loop-control ]
}
prereq_OVERLAY() {
	grep -qw overlay /proc/filesystems
}

MNT=$TRASH/mnt
ROOT=$MNT/root
export ROOT
test_atexit 'for m in $(grep -o "$MNT/[^ ]*/merged" /proc/self/mounts); do umount -l "$m"; done; umount -d "$MNT" 2>/dev/null; umount -l "$MNT" 2>/dev/null'

test_expect_success LOOP,BUSYBOX 'a 64 MB ext4 filesystem as data-root' '
	truncate -s 64M fs.img &&
	mkfs.ext4 -q -F -m 0 fs.img &&
	mkdir -p "$MNT" &&
	mount -o loop fs.img "$MNT" &&
	make_rootfs rfs && tar_of rfs "$TRASH/base.tar" &&
	make_docker_archive "$TRASH/small.tar" small:1 base.tar &&
	mkdir big && head -c 40M /dev/urandom >big/blob &&
	tar_of big "$TRASH/big.tar" &&
	make_docker_archive "$TRASH/big-image.tar" big:1 big.tar &&
	rm -rf big
'

test_expect_success LOOP,BUSYBOX 'option syntax is checked' '
	test_must_fail storage-tool --min-free "overlay2.min_free_space=abc" "$ROOT" images 2>err &&
	grep min_free_space err &&
	test_must_fail storage-tool --min-free "overlay2.bogus=1" "$ROOT" images &&
	storage-tool --min-free "overlay2.min_free_space=10%" "$ROOT" images &&
	storage-tool --min-free "20M" "$ROOT" images
'

test_expect_success LOOP,BUSYBOX 'loads within the bound work' '
	MIN_FREE=overlay2.min_free_space=20M st load small.tar
'

test_expect_success LOOP,BUSYBOX 'a load that would pass the bound fails with a clear message' '
	test_must_fail env MIN_FREE=overlay2.min_free_space=20M sh -c ". \"$BERTH_SRC_DIR/t/lib-storage.sh\"; st load big-image.tar" 2>err &&
	grep "no space left" err && grep "min_free_space" err &&
	test -z "$(ls "$ROOT/tmp")" &&
	test_must_fail st resolve big:1 &&
	st check
'

test_expect_success LOOP,BUSYBOX 'ENOSPC mid-write is rolled back and the store stays usable' '
	st rmi small:1 &&
	head -c 30M /dev/zero >"$MNT/filler" &&
	test_must_fail st load big-image.tar 2>err &&
	grep -i "no space left" err &&
	test -z "$(ls "$ROOT/tmp")" &&
	test -z "$(ls "$ROOT/image/layerdb/sha256")" &&
	test -z "$(ls "$ROOT/image/blobs/sha256")" &&
	st check &&
	rm "$MNT/filler" &&
	st load small.tar && st check
'

test_expect_success LOOP,OVERLAY,BUSYBOX 'a container that fills the disk blocks new containers, commits and loads' '
	st rootfs-create c1 small:1 &&
	m=$(st mount c1) &&
	test_must_fail dd if=/dev/zero of="$m/fill" bs=1M 2>/dev/null &&
	test_must_fail env MIN_FREE=10% sh -c ". \"$BERTH_SRC_DIR/t/lib-storage.sh\"; st rootfs-create c2 small:1" 2>err &&
	grep "no space left" err && grep min_free_space err &&
	test_must_fail env MIN_FREE=10% sh -c ". \"$BERTH_SRC_DIR/t/lib-storage.sh\"; st commit c1" 2>err &&
	grep min_free_space err &&
	test_must_fail env MIN_FREE=10% sh -c ". \"$BERTH_SRC_DIR/t/lib-storage.sh\"; st load small.tar" 2>err &&
	grep min_free_space err &&
	st check
'

test_expect_success LOOP,OVERLAY,BUSYBOX 'after cleanup the store works again' '
	st umount c1 && st rootfs-rm c1 &&
	MIN_FREE=10% st rootfs-create c2 small:1 &&
	MIN_FREE=10% st rootfs-rm c2 &&
	st rmi small:1 && MIN_FREE=10% st load small.tar && st check
'

test_done
