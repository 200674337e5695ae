#!/bin/sh
test_description='storage: container rootfs (overlay mount, read-only, changes, export, commit, many layers)'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

ROOT=$TRASH/root
export ROOT
test_atexit 'for m in $(grep -o "$TRASH/[^ ]*/merged" /proc/self/mounts); do umount -l "$m"; done'

prereq_OVERLAY() {
	[ "$(id -u)" = 0 ] && grep -qw overlay /proc/filesystems
}

test_expect_success BUSYBOX 'load a two-layer image' '
	make_rootfs rfs && tar_of rfs "$TRASH/base.tar" &&
	mkdir -p l2/etc && echo motd >l2/etc/motd && echo gone >l2/gone &&
	tar_of l2 "$TRASH/l2.tar" &&
	make_docker_archive "$TRASH/da.tar" bb:1 base.tar l2.tar &&
	st load da.tar
'

test_expect_success OVERLAY,BUSYBOX 'create and mount a rootfs; the container sees the image' '
	st rootfs-create c1 bb:1 &&
	test_must_fail st rootfs-create c1 bb:1 &&
	m=$(st mount c1) &&
	test "$(st mount c1)" = "$m" &&
	test -x "$m/bin/busybox" &&
	test "$(cat "$m/etc/motd")" = motd &&
	chroot "$m" /bin/sh -c "echo hello from busybox" >out &&
	test "$(cat out)" = "hello from busybox"
'

test_expect_success OVERLAY,BUSYBOX 'containers of one image share its init layer; removal keeps it, rmi takes it' '
	make_docker_archive "$TRASH/one.tar" one:1 base.tar && st load one.tar &&
	st rootfs-create s1 one:1 && st rootfs-create s2 one:1 &&
	i1=$(cat "$ROOT/image/layerdb/mounts/s1/init-id") &&
	test "$i1" = "$(cat "$ROOT/image/layerdb/mounts/s2/init-id")" &&
	echo "$i1" | grep -E "^[0-9a-f]{64}-init$" &&
	test "$i1" != "$(cat "$ROOT/image/layerdb/mounts/s1/mount-id")-init" &&
	test "$i1" != "$(cat "$ROOT/image/layerdb/mounts/c1/init-id")" &&
	test -f "$ROOT/overlay/$i1/diff/.dockerenv" &&
	st rootfs-rm s1 &&
	test -d "$ROOT/overlay/$i1" &&
	m=$(st mount s2) &&
	test -f "$m/.dockerenv" && test -d "$m/proc" &&
	st umount s2 && st rootfs-rm s2 &&
	test -d "$ROOT/overlay/$i1" &&
	rm "$ROOT/overlay/l/$(cat "$ROOT/overlay/$i1/link")" &&
	st rootfs-create s3 one:1 &&
	test "$(cat "$ROOT/image/layerdb/mounts/s3/init-id")" = "$i1" &&
	m=$(st mount s3) &&
	test -f "$m/.dockerenv" &&
	st umount s3 && st rootfs-rm s3 &&
	st rmi one:1 >/dev/null &&
	test ! -e "$ROOT/overlay/$i1" &&
	st check
'

test_expect_success OVERLAY,BUSYBOX 'changes report A, C and D from the upper dir' '
	m=$(st mount c1) &&
	echo new >"$m/tmp/new" &&
	echo more >>"$m/etc/passwd" &&
	rm "$m/gone" &&
	st changes c1 >ch &&
	test "$(cat ch)" = "[{\"Path\":\"/etc\",\"Kind\":0},{\"Path\":\"/etc/passwd\",\"Kind\":0},{\"Path\":\"/gone\",\"Kind\":2},{\"Path\":\"/tmp\",\"Kind\":0},{\"Path\":\"/tmp/new\",\"Kind\":1}]"
'

test_expect_success OVERLAY,BUSYBOX 'export is a tar of the merged view' '
	st export c1 exp.tar &&
	tar -tf exp.tar >list &&
	grep "^tmp/new$" list && grep "^bin/busybox$" list && grep "^etc/motd$" list &&
	! grep "^gone$" list
'

test_expect_success OVERLAY,BUSYBOX 'commit makes a new layer from the upper dir' '
	st commit c1 --repo docker.io/library/committed --tag 1 --change "ENV X=1" --comment "test commit" >id &&
	st inspect committed:1 >insp &&
	grep "\"Comment\":\"test commit\"" insp &&
	grep "\"X=1\"" insp &&
	grep "\"Parent\":\"$(st resolve bb:1)\"" insp &&
	st rootfs-create c2 committed:1 &&
	m2=$(st mount c2) &&
	test "$(cat "$m2/tmp/new")" = new &&
	test ! -e "$m2/gone" &&
	grep -q more "$m2/etc/passwd" &&
	st rootfs-rm c2 &&
	st check
'

test_expect_success OVERLAY,BUSYBOX 'docker cp: stat, get and put resolve inside the root' '
	m=$(st mount c1) &&
	ln -s /etc "$m/etclink" &&
	ln -s ../../../../../../.. "$m/up" &&
	st cp-stat c1 /etc/motd >s &&
	grep "\"name\":\"motd\"" s && grep "\"size\":5" s && grep "\"mode\":420" s &&
	st cp-stat c1 /etc >s && grep "\"mode\":2147484141" s &&
	st cp-stat c1 /etclink >s && grep "\"linkTarget\":\"/etc\"" s &&
	st cp-stat c1 /etclink/motd >s && grep "\"name\":\"motd\"" s &&
	test_must_fail st cp-stat c1 /nope 2>err &&
	grep "Could not find the file /nope in container c1" err &&
	st cp-get c1 /up/etc/passwd got.tar 2>/dev/null &&
	tar -xOf got.tar passwd | grep -q "^root:x:0:0:root:/root:/bin/sh" &&
	! tar -xOf got.tar passwd | grep -v "^root" | grep -qv more &&
	st cp-get c1 /etc etc.tar 2>/dev/null &&
	tar -tf etc.tar | grep "^etc/motd$" &&
	mkdir -p cpin && echo in >cpin/cpin.txt && (cd cpin && tar -cf ../in.tar cpin.txt) &&
	st cp-put c1 /tmp in.tar &&
	test "$(cat "$m/tmp/cpin.txt")" = in &&
	st cp-put c1 /up/tmp in.tar &&
	test ! -e /tmp/cpin.txt &&
	storage-tool mktar evil.tar f:../../pwned:x &&
	test_must_fail st cp-put c1 /tmp evil.tar 2>err && grep "hostile archive entry" err &&
	storage-tool mktar dnd.tar f:etc:x &&
	test_must_fail st cp-put c1 / dnd.tar --no-overwrite-dir-non-dir 2>err &&
	grep "cannot overwrite directory" err &&
	test -d "$m/etc" &&
	test_must_fail st cp-put c1 /etc/motd in.tar 2>err && grep "not a directory" err &&
	rm "$m/etclink" "$m/up" "$m/tmp/cpin.txt"
'

test_expect_success OVERLAY,BUSYBOX 'read-only mount, graphdriver data, unmount and remove' '
	st umount c1 &&
	m=$(st mount --ro c1) &&
	test_must_fail sh -c "echo x >\"$m/tmp/ro\"" &&
	st graphdriver c1 >gd &&
	grep "\"Name\":\"overlay2\"" gd && grep UpperDir gd && grep LowerDir gd &&
	st umount c1 &&
	! grep -q "$m" /proc/self/mounts &&
	st rootfs-rm c1 &&
	test_must_fail st changes c1 &&
	st rmi committed:1 && st rmi bb:1 &&
	test "$(ls "$ROOT/overlay")" = l && st check
'

test_expect_success OVERLAY,BUSYBOX 'eighty layers: lowerdir longer than a page still mounts' '
	i=0 && layers= &&
	while [ $i -lt 80 ]; do
		mkdir -p "ml/$i" && echo $i >"ml/$i/f$i" &&
		tar_of "ml/$i" "$TRASH/ml$i.tar" || return 1
		layers="$layers ml$i.tar"
		i=$((i + 1))
	done &&
	make_docker_archive "$TRASH/many.tar" many:1 base.tar $layers &&
	st load many.tar &&
	st rootfs-create cm many:1 &&
	test $(cat "$ROOT"/overlay/*/lower | tr ":" "\n" | sort -u | wc -l) -ge 80 &&
	m=$(st mount cm) &&
	test "$(cat "$m/f0")" = 0 && test "$(cat "$m/f79")" = 79 &&
	test -x "$m/bin/busybox" &&
	st umount cm && st rootfs-rm cm && st rmi many:1 && st check
'

test_done
