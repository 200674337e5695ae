#!/bin/sh
test_description='storage: local volumes (create, list filters, inspect, in use, remove, prune, tmpfs opts)'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

ROOT=$TRASH/root
export ROOT
test_atexit 'for m in $(grep -o "$TRASH/root/volumes/[^ ]*/_data" /proc/self/mounts); do umount -l "$m"; done'

test_expect_success 'create a named volume with labels' '
	st vol-create vol1 --label tier=db --label "empty=" >v &&
	grep "\"Driver\":\"local\"" v &&
	grep "\"Labels\":{\"tier\":\"db\",\"empty\":\"\"}" v &&
	grep "\"Mountpoint\":\"$ROOT/volumes/vol1/_data\"" v &&
	grep "\"Name\":\"vol1\"" v &&
	grep "\"Options\":null" v &&
	grep "\"Scope\":\"local\"" v &&
	grep "\"CreatedAt\":\"20[0-9-]*T[0-9:]*Z\"" v &&
	test -d "$ROOT/volumes/vol1/_data" &&
	test -f "$ROOT/volumes/vol1/meta.json"
'

test_expect_success 'creating it again returns the same volume' '
	st vol-create vol1 >v2 &&
	test "$(sed -n "s/.*\"CreatedAt\":\"\([^\"]*\)\".*/\1/p" v)" = "$(sed -n "s/.*\"CreatedAt\":\"\([^\"]*\)\".*/\1/p" v2)"
'

test_expect_success 'a generated name is 64 hex' '
	st vol-create >g &&
	name=$(sed -n "s/.*\"Name\":\"\([0-9a-f]*\)\".*/\1/p" g) &&
	test ${#name} = 64 &&
	echo "$name" >anon
'

test_expect_success 'bad names and options are refused' '
	test_must_fail st vol-create "a/b" 2>err && grep "invalid characters" err &&
	test_must_fail st vol-create "-x" &&
	test_must_fail st vol-create x1 --opt bogus=1 2>err && grep "invalid option" err
'

test_expect_success 'inspect and a missing volume' '
	st vol-inspect vol1 >i && grep "\"tier\":\"db\"" i &&
	test_must_fail st vol-inspect nope 2>err && grep "get nope: no such volume" err
'

test_expect_success 'list with filters' '
	st vol-create other --label tier=web >/dev/null &&
	st vol-ls >l && grep "\"Warnings\":null" l && grep vol1 l && grep other l &&
	st vol-ls "{\"label\":{\"tier=db\":true}}" >l && grep vol1 l && ! grep other l &&
	st vol-ls "{\"label\":[\"tier\"]}" >l && grep vol1 l && grep other l &&
	st vol-ls "{\"name\":[\"oth\"]}" >l && grep other l && ! grep vol1 l &&
	st vol-ls "{\"driver\":[\"local\"]}" >l && grep vol1 l &&
	st vol-ls "{\"driver\":[\"nfs\"]}" >l && ! grep vol1 l &&
	st vol-ls "{\"dangling\":[\"true\"]}" >l && grep vol1 l
'

test_expect_success 'in use: EBUSY, forced or not (Docker: force only forgives a missing volume)' '
	test_must_fail st vol-rm-in-use vol1 2>err &&
	grep "volume is in use" err && grep "errno 16" err &&
	st vol-inspect vol1 &&
	test_must_fail st vol-rm-in-use vol1 --force 2>err &&
	grep "volume is in use" err &&
	st vol-rm vol1 &&
	test_must_fail st vol-inspect vol1
'

test_expect_success 'remove and prune' '
	echo data >"$ROOT/volumes/other/_data/f" &&
	st vol-prune >p && grep "\"VolumesDeleted\":null" p &&
	st vol-prune --all >p && grep other p && grep "$(cat anon)" p &&
	grep "\"SpaceReclaimed\":5" p &&
	test "$(st vol-ls)" = "{\"Volumes\":[],\"Warnings\":null}" &&
	test_must_fail st vol-rm nope && st vol-rm --force nope
'

test_expect_success ROOT 'driver opts type=tmpfs are mounted on use' '
	st vol-create tmpv --opt type=tmpfs --opt device=tmpfs --opt o=size=1m,uid=1000 >v &&
	grep "\"Options\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m,uid=1000\"}" v &&
	p=$(st vol-path tmpv) &&
	grep " $p tmpfs " /proc/self/mounts &&
	st vol-rm tmpv &&
	! grep " $p " /proc/self/mounts &&
	test ! -e "$ROOT/volumes/tmpv"
'

test_expect_success ROOT 'driver opts o=bind mount a host directory' '
	mkdir -p host && echo h >host/file &&
	st vol-create bindv --opt type=none --opt "device=$TRASH/host" --opt o=bind >/dev/null &&
	p=$(st vol-path bindv) &&
	test "$(cat "$p/file")" = h &&
	st vol-rm bindv &&
	test "$(cat host/file)" = h
'

prereq_OVERLAY() {
	[ "$(id -u)" = 0 ] && grep -qw overlay /proc/filesystems
}
test_atexit 'for m in $(grep -o "$TRASH/root/overlay/[^ ]*/merged" /proc/self/mounts); do umount -l "$m"; done'

test_expect_success OVERLAY,BUSYBOX 'copy-up fills an empty volume from the image, once' '
	make_rootfs rfs &&
	mkdir -p rfs/data/sub && echo seed >rfs/data/sub/f && ln -s sub/f rfs/data/l &&
	chown -R 1000:1000 rfs/data && chmod 0750 rfs/data &&
	ln -s ../../../../../../etc rfs/esc &&
	tar_of rfs "$TRASH/base.tar" &&
	make_docker_archive "$TRASH/da.tar" vimg:1 base.tar &&
	st load da.tar && st rootfs-create c1 vimg:1 &&
	st vol-create cv >/dev/null &&
	st vol-copy-up cv c1 /data &&
	d=$ROOT/volumes/cv/_data &&
	test "$(cat "$d/sub/f")" = seed &&
	test "$(readlink "$d/l")" = sub/f &&
	test "$(stat -c %u:%g:%a "$d")" = 1000:1000:750 &&
	test "$(stat -c %u "$d/sub/f")" = 1000 &&
	echo changed >"$d/sub/f" &&
	st vol-copy-up cv c1 /data &&
	test "$(cat "$d/sub/f")" = changed &&
	st vol-create cv2 >/dev/null &&
	st vol-copy-up cv2 c1 /esc &&
	test "$(cat "$ROOT/volumes/cv2/_data/passwd")" = "root:x:0:0:root:/root:/bin/sh" &&
	st vol-create cv3 >/dev/null &&
	st vol-copy-up cv3 c1 /nothing-here &&
	test -z "$(ls "$ROOT/volumes/cv3/_data")" &&
	st rootfs-rm c1
'

test_done
