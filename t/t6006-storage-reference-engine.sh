#!/bin/sh
test_description='storage: archives saved by the reference engine load in berth; berth save output loads in Docker'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

ROOT=$TRASH/root
export ROOT
REF_SOCK=${REFERENCE_ENGINE_DIR:-/tmp/berth-ref}/docker.sock

# only when the reference engine already runs (/work/shared/tools/reference-engine start)
prereq_REFENGINE() {
	command -v docker >/dev/null 2>&1 &&
	curl -sf --max-time 2 --unix-socket "$REF_SOCK" http://x/_ping >/dev/null 2>&1 &&
	DOCKER_HOST=unix://$REF_SOCK docker image inspect busybox:latest >/dev/null 2>&1
}
test_have_prereq REFENGINE || skip_all 'reference engine not running'

ref() {
	DOCKER_HOST=unix://$REF_SOCK docker "$@"
}
TAG=berth-t6006-$$
test_atexit "DOCKER_HOST=unix://$REF_SOCK docker rmi $TAG:saved $TAG:src"

test_expect_success 'load an archive the reference engine saved' '
	ref tag busybox:latest $TAG:src &&
	ref save -o ref.tar $TAG:src &&
	st load ref.tar >out &&
	grep "^Loaded image: $TAG:src$" out &&
	test "$(st resolve $TAG:src)" = "$(ref image inspect -f "{{.Id}}" $TAG:src)" &&
	test "$(st inspect $TAG:src | sed -n "s/.*\"Layers\":\(\[[^]]*\]\).*/\1/p")" = \
		"$(ref image inspect -f "{{json .RootFS.Layers}}" $TAG:src)" &&
	st check
'

test_expect_success 'docker load reads what berth saved, same ID' '
	st tag $TAG:src docker.io/library/$TAG saved &&
	st save berth.tar $TAG:saved &&
	ref load -i berth.tar >out &&
	grep "Loaded image: $TAG:saved" out &&
	test "$(ref image inspect -f "{{.Id}}" $TAG:saved)" = "$(st resolve $TAG:saved)"
'

test_expect_success BUSYBOX 'a hand-built image round-trips through Docker' '
	make_rootfs rfs && tar_of rfs "$TRASH/base.tar" &&
	mkdir l2 && echo hi >l2/hello && tar_of l2 "$TRASH/l2.tar" &&
	make_docker_archive "$TRASH/da.tar" $TAG:saved base.tar l2.tar &&
	st load da.tar &&
	st save b2.tar $TAG:saved &&
	ref load -i b2.tar &&
	test "$(ref image inspect -f "{{.Id}}" $TAG:saved)" = "$(cat da.tar.id)" &&
	test "$(ref run --rm --network none $TAG:saved /bin/busybox cat /hello)" = hi &&
	ref save -o back.tar $TAG:saved &&
	rm -rf "$ROOT" && st load back.tar &&
	test "$(st resolve $TAG:saved)" = "$(cat da.tar.id)"
'

test_done
