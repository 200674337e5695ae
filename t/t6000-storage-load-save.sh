#!/bin/sh
test_description='storage: docker-archive and OCI-layout load, save, load back; import, tag, rmi, prune'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

ROOT=$TRASH/root
export ROOT
ROOT2=$TRASH/root2

test_expect_success BUSYBOX 'build layers and archives from the host busybox' '
	make_rootfs rfs &&
	tar_of rfs "$TRASH/base.tar" &&
	mkdir -p l2/bin l2/etc &&
	echo hi >l2/hello &&
	: >l2/bin/.wh.ls &&
	echo changed >l2/etc/motd &&
	tar_of l2 "$TRASH/l2.tar" &&
	make_docker_archive "$TRASH/da.tar" bb:1 base.tar l2.tar &&
	make_oci_layout "$TRASH/oci.tar" localhost:5000/x/y:2 base.tar l2.tar &&
	test -s da.tar && test -s oci.tar
'

test_expect_success BUSYBOX 'load a docker-archive' '
	st load da.tar >out &&
	grep "^Loaded image: bb:1$" out &&
	st resolve bb:1 >id &&
	test "$(cat id)" = "$(cat da.tar.id)" &&
	st check
'

test_expect_success BUSYBOX 'layers are unpacked with overlay whiteouts' '
	st inspect bb:1 >insp &&
	upper=$(sed -n "s/.*\"UpperDir\":\"\([^\"]*\)\".*/\1/p" insp) &&
	test -c "$upper/bin/ls" &&
	test "$(stat -c %t:%T "$upper/bin/ls")" = 0:0 &&
	test "$(cat "$upper/hello")" = hi &&
	grep "\"RepoTags\":\[\"bb:1\"\]" insp &&
	grep "\"Type\":\"layers\"" insp
'

test_expect_success BUSYBOX 'an OCI layout with gzip layers shares the layers' '
	n1=$(ls "$ROOT/image/layerdb/sha256" | wc -l) &&
	st load oci.tar >out &&
	grep "^Loaded image: localhost:5000/x/y:2$" out &&
	test "$(st resolve localhost:5000/x/y:2)" = "$(cat oci.tar.id)" &&
	n2=$(ls "$ROOT/image/layerdb/sha256" | wc -l) &&
	test "$n1" = "$n2" &&
	st check
'

test_expect_success BUSYBOX 'save, load back into another store, same IDs' '
	st save saved.tar bb:1 localhost:5000/x/y:2 &&
	tar -tf saved.tar >list &&
	grep "^manifest.json$" list &&
	grep "^index.json$" list &&
	grep "^oci-layout$" list &&
	ROOT=$ROOT2 st load saved.tar >out &&
	grep "^Loaded image: bb:1$" out &&
	grep "^Loaded image: localhost:5000/x/y:2$" out &&
	test "$(ROOT=$ROOT2 st resolve bb:1)" = "$(cat da.tar.id)" &&
	ROOT=$ROOT2 st save saved2.tar bb:1 &&
	ROOT=$ROOT2 st check
'

test_expect_success BUSYBOX 'save of an untagged image by ID loads as an ID' '
	id=$(cat da.tar.id) &&
	st save byid.tar "$id" &&
	rm -rf "$TRASH/root3" &&
	ROOT=$TRASH/root3 st load byid.tar >out &&
	grep "^Loaded image ID: $id$" out
'

test_expect_success BUSYBOX 'zstd and gzip compressed archives load' '
	gzip -c da.tar >da.tar.gz &&
	zstd -q -c da.tar >da.tar.zst &&
	rm -rf "$TRASH/rz" && ROOT=$TRASH/rz st load da.tar.gz &&
	rm -rf "$TRASH/rz" && ROOT=$TRASH/rz st load da.tar.zst &&
	test "$(ROOT=$TRASH/rz st resolve bb:1)" = "$(cat da.tar.id)"
'

test_expect_success BUSYBOX 'load through the thread pool calls back once, later' '
	rm -rf "$TRASH/ra" &&
	ROOT=$TRASH/ra st load-async da.tar >out &&
	grep "callbacks=1 early=0 status=0" out &&
	grep "Loaded image: bb:1" out
'

test_expect_success BUSYBOX 'a layer whose digest does not match is rejected, nothing stored' '
	mkdir bad && (cd bad && tar -xf ../oci.tar) &&
	blob=$(ls -S bad/blobs/sha256 | head -n 1) &&
	printf x >>"bad/blobs/sha256/$blob" &&
	(cd bad && tar -cf ../bad.tar .) &&
	rm -rf "$TRASH/rb" &&
	test_must_fail env ROOT=$TRASH/rb sh -c ". \"$BERTH_SRC_DIR/t/lib-storage.sh\"; st load bad.tar" 2>err &&
	grep "hashes to" err &&
	test -z "$(ls "$TRASH/rb/image/blobs/sha256")" &&
	test -z "$(ls "$TRASH/rb/image/layerdb/sha256")"
'

test_expect_success BUSYBOX 'a config with other diff IDs is rejected' '
	mkdir bad2 && (cd bad2 && tar -xf ../da.tar) &&
	for l in bad2/*/layer.tar; do cp l2.tar "$l" || return 1; done &&
	(cd bad2 && tar -cf ../bad2.tar .) &&
	rm -rf "$TRASH/rb" &&
	test_must_fail env ROOT=$TRASH/rb sh -c ". \"$BERTH_SRC_DIR/t/lib-storage.sh\"; st load bad2.tar" 2>err &&
	grep "diff ID" err &&
	test -z "$(ls "$TRASH/rb/image/layerdb/sha256")"
'

test_expect_success BUSYBOX 'import a rootfs tar with changes and a message' '
	gzip -c base.tar >base.tar.gz &&
	st import base.tar.gz --repo docker.io/library/imp --tag v1 --message "hello import" \
		--change "CMD [\"sh\",\"-c\",\"echo hi\"]" --change "ENV A=1 B=two" \
		--change "EXPOSE 80" --change "LABEL k=v" --change "WORKDIR /tmp" >id &&
	grep "^sha256:" id &&
	st inspect imp:v1 >insp &&
	grep "\"Comment\":\"hello import\"" insp &&
	grep "\"Cmd\":\[\"sh\",\"-c\",\"echo hi\"\]" insp &&
	grep "\"Env\":\[\"A=1\",\"B=two\"\]" insp &&
	grep "\"80/tcp\":{}" insp &&
	grep "\"WorkingDir\":\"/tmp\"" insp &&
	st history imp:v1 >hist &&
	grep "hello import" hist &&
	test_must_fail st import base.tar --change "FROB x"
'

test_expect_success BUSYBOX 'tag, list with filters, history' '
	st tag bb:1 docker.io/library/bb v2 &&
	st images "{\"reference\":{\"bb\":true}}" >l &&
	grep "\"bb:1\"" l && grep "\"bb:v2\"" l &&
	st images "{\"reference\":[\"imp:*\"]}" >l &&
	grep imp:v1 l && ! grep bb:1 l &&
	st images "{\"label\":{\"made-by=t6000\":true}}" >l &&
	grep bb:1 l && ! grep imp:v1 l &&
	st images "{\"dangling\":[\"true\"]}" >l &&
	test "$(cat l)" = "[]" &&
	st history bb:1 >h &&
	grep "\"Tags\":\[\"bb:1\",.*\"bb:v2\"\]" h
'

test_expect_success BUSYBOX 'rmi untags, then deletes image and layers' '
	st rmi bb:v2 >o &&
	test "$(cat o)" = "[{\"Untagged\":\"bb:v2\"}]" &&
	test_must_fail st rmi "$(cat da.tar.id)" 2>err &&
	grep "referenced in multiple repositories" err &&
	st rmi bb:1 >o &&
	test "$(cat o)" = "[{\"Untagged\":\"bb:1\"}]" &&
	st rmi localhost:5000/x/y:2 >o &&
	grep "\"Deleted\":\"$(cat da.tar.id)\"" o &&
	test_must_fail st resolve bb:1 2>err &&
	grep "No such image: bb:1" err &&
	st check
'

test_expect_success BUSYBOX 'prune removes dangling images, --all the rest, with their layers' '
	st load da.tar >/dev/null &&
	st import base.tar >imp_id &&
	st images "{\"dangling\":[\"true\"]}" >l &&
	grep "$(cat imp_id)" l && ! grep bb:1 l &&
	st prune >p &&
	grep "\"Deleted\":\"$(cat imp_id)\"" p &&
	st resolve bb:1 &&
	st prune --all >p &&
	grep "\"Untagged\":\"bb:1\"" p &&
	grep "SpaceReclaimed" p &&
	test "$(st images)" = "[]" &&
	test -z "$(ls "$ROOT/image/layerdb/sha256")" &&
	test -z "$(ls "$ROOT/image/blobs/sha256")" &&
	test "$(ls "$ROOT/overlay")" = l &&
	test -z "$(ls "$ROOT/overlay/l")" &&
	st check
'

test_expect_success 'reference parsing and normalisation' '
	test "$(st ref busybox)" = "docker.io/library/busybox:latest busybox:latest" &&
	test "$(st ref library/busybox:1.36)" = "docker.io/library/busybox:1.36 busybox:1.36" &&
	test "$(st ref docker.io/library/busybox)" = "docker.io/library/busybox:latest busybox:latest" &&
	test "$(st ref localhost:5000/a/b:t)" = "localhost:5000/a/b:t localhost:5000/a/b:t" &&
	test "$(st ref quay.io/x)" = "quay.io/x:latest quay.io/x:latest" &&
	d=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef &&
	test "$(st ref "busybox@$d")" = "docker.io/library/busybox@$d busybox@$d" &&
	test_must_fail st ref Busybox 2>err && grep "must be lowercase" err &&
	test_must_fail st ref "bad:tag:x" &&
	test_must_fail st ref "a/../b" &&
	test_must_fail st ref "x@sha256:123" &&
	test_must_fail st ref 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 2>err &&
	grep "64-byte hexadecimal" err
'

test_done
