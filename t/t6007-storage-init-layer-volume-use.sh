#!/bin/sh
test_description='storage: image list order, the init layer under each container, volumes recorded as used by containers'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

ROOT=$TRASH/root
export ROOT
test_atexit 'for m in $(grep -o "$TRASH/[^ ]*/merged" /proc/self/mounts); do umount -l "$m"; done'

prereq_OVERLAY() {
	[ "$(id -u)" = 0 ] && grep -qw overlay /proc/filesystems
}

# make_config with the creation date of $CREATED (lib-storage's is fixed)
make_config() {
	_mc_out=$1
	shift
	_ids=
	for _d in "$@"; do
		_ids="$_ids${_ids:+,}\"sha256:$_d\""
	done
	printf '{"architecture":"amd64","config":{"Cmd":["sh"],"Env":["PATH=/bin"]},"created":"%s","history":[],"os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' "${CREATED:-2026-01-01T00:00:00Z}" "$_ids" >"$_mc_out"
}

test_expect_success BUSYBOX 'images of different dates load in any order: all listed, newest first' '
	make_rootfs rfs && tar_of rfs "$TRASH/base.tar" &&
	for d in 03 01 04 02 05; do
		CREATED=2026-01-${d}T00:00:00Z make_docker_archive "$TRASH/d$d.tar" "img:$d" base.tar &&
		st load "d$d.tar" >/dev/null || return 1
	done &&
	st images >l &&
	grep -o "\"RepoTags\":\[\"img:[0-9]*\"\]" l >tags &&
	printf "\"RepoTags\":[\"img:%s\"]\n" 05 04 03 02 01 >expect &&
	test_cmp_files() { cmp "$1" "$2"; } &&
	test_cmp_files expect tags
'

test_expect_success OVERLAY,BUSYBOX 'a rootfs gets an init layer with the runtime mountpoints the image lacks' '
	st rootfs-create c1 img:01 &&
	iid=$(cat "$ROOT/image/layerdb/mounts/c1/init-id") &&
	echo "$iid" | grep -E "^[0-9a-f]{64}-init$" &&
	i=$ROOT/overlay/$iid/diff &&
	test -d "$i/proc" && test -d "$i/sys" && test -d "$i/dev/pts" && test -d "$i/dev/shm" &&
	test -f "$i/.dockerenv" && test -f "$i/etc/hosts" && test -f "$i/etc/hostname" &&
	test -f "$i/etc/resolv.conf" && test -f "$i/dev/console" &&
	test "$(readlink "$i/etc/mtab")" = /proc/mounts &&
	test ! -e "$i/etc/passwd" &&
	st graphdriver c1 >g &&
	grep -q "\"LowerDir\":\"$ROOT/overlay/$iid/diff:" g
'

test_expect_success OVERLAY,BUSYBOX 'the init layer keeps the image dir modes and what the image has' '
	mkdir -p rfs2/etc && make_rootfs rfs2 && echo "127.0.0.1 img" >rfs2/etc/hosts && mkdir rfs2/proc &&
	chmod 0750 rfs2/etc &&
	tar_of rfs2 "$TRASH/base2.tar" &&
	make_docker_archive "$TRASH/e.tar" img2:1 base2.tar &&
	st load e.tar >/dev/null &&
	st rootfs-create c2 img2:1 &&
	iid=$(cat "$ROOT/image/layerdb/mounts/c2/init-id") &&
	test "$iid" != "$(cat "$ROOT/image/layerdb/mounts/c1/init-id")" &&
	i=$ROOT/overlay/$iid/diff &&
	test ! -e "$i/etc/hosts" && test ! -e "$i/proc" && test -f "$i/etc/hostname" &&
	test "$(stat -c %a "$i/etc")" = 750 &&
	m=$(st mount c2) &&
	test "$(cat "$m/etc/hosts")" = "127.0.0.1 img" &&
	test "$(stat -c %a "$m/etc")" = 750 &&
	st umount c2
'

test_expect_success OVERLAY,BUSYBOX 'the stubs are not changes, nor in a commit' '
	m=$(st mount c1) &&
	test -f "$m/.dockerenv" && test -d "$m/proc" &&
	echo x >"$m/made" &&
	st changes c1 >ch &&
	test "$(cat ch)" = "[{\"Path\":\"/made\",\"Kind\":1}]" &&
	st commit c1 >id &&
	st save img.tar "$(cat id)" &&
	mkdir ex && tar -C ex -xf img.tar &&
	for l in $(find ex -type f -size +0); do tar -tf "$l" 2>/dev/null || :; done >entries &&
	grep -Eq "^(\./)?made$" entries &&
	! grep -Eq "dockerenv|etc/hosts|etc/mtab|proc|sys/?$|dev/" entries &&
	st umount c1
'

test_expect_success OVERLAY,BUSYBOX 'gc keeps the init layer while a container names it; rootfs-rm keeps it, gc then takes it' '
	iid=$(cat "$ROOT/image/layerdb/mounts/c1/init-id") &&
	st gc >/dev/null &&
	test -d "$ROOT/overlay/$iid/diff" &&
	link=$(cat "$ROOT/overlay/$iid/link") &&
	test -L "$ROOT/overlay/l/$link" &&
	st rootfs-rm c1 &&
	test -d "$ROOT/overlay/$iid/diff" && test -L "$ROOT/overlay/l/$link" &&
	st gc >/dev/null &&
	test ! -e "$ROOT/overlay/$iid" && test ! -e "$ROOT/overlay/l/$link" &&
	st rootfs-rm c2 &&
	st check
'

test_expect_success 'a volume named in a container record is in use, force or not' '
	st vol-create used1 >/dev/null &&
	mkdir -p "$ROOT/image/layerdb/mounts/cX" &&
	echo fakemount >"$ROOT/image/layerdb/mounts/cX/mount-id" &&
	echo "{\"AutoRemove\":false,\"Volumes\":[{\"Name\":\"used1\",\"Anonymous\":false}]}" >"$ROOT/image/layerdb/mounts/cX/volumes.json" &&
	test_must_fail st vol-rm used1 2>err &&
	grep -q "remove used1: volume is in use - \[cX\]" err &&
	test_must_fail st vol-rm --force used1 &&
	st vol-ls "{\"dangling\":[\"false\"]}" >l && grep -q used1 l &&
	st vol-ls "{\"dangling\":[\"true\"]}" >l && ! grep -q used1 l &&
	st vol-prune --all >p && ! grep -q used1 p &&
	st df >df && grep -q "\"Name\":\"used1\".*\"RefCount\":1" df &&
	rm -r "$ROOT/image/layerdb/mounts/cX" &&
	st vol-rm used1
'

test_done
