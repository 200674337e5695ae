#!/bin/sh
test_description='api: uploads whose worker ends before the body does (tar padding after the end-of-archive blocks) are answered once the whole body arrived, on a live connection'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

test_have_prereq CURL || skip_all "curl is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"

test_expect_success 'start daemon; an archive followed by 16 MB of zeros' '
	start_daemon &&
	make_rootfs rfs && tar_of rfs "$TRASH/base.tar" &&
	make_docker_archive "$TRASH/da.tar" padded:1 base.tar &&
	cat da.tar >padded.tar &&
	head -c 16M /dev/zero >>padded.tar
'

test_expect_success 'POST /images/load: 200 and the loaded line, whole body read' '
	curl -sS --max-time 20 --unix-socket "$DAEMON_SOCK" -X POST -H "Content-Type: application/x-tar" \
		--data-binary @padded.tar -o out -w "%{http_code}" "http://berth/images/load?quiet=1" >code &&
	test "$(cat code)" = 200 &&
	grep -q "Loaded image: padded:1" out
'

test_expect_success 'a bad archive with a long tail: the 400 arrives, not a reset' '
	printf "this is not a tar archive at all" >bad.tar &&
	head -c 8M /dev/zero >>bad.tar &&
	curl -sS --max-time 20 --unix-socket "$DAEMON_SOCK" -X POST -H "Content-Type: application/x-tar" \
		--data-binary @bad.tar -o out -w "%{http_code}" "http://berth/images/load?quiet=1" >code &&
	test "$(cat code)" != 000 &&
	grep -q message out
'

test_expect_success ROOT 'PUT /containers/{id}/archive with a padded tar: 200, the file is there' '
	docker create --name pc padded:1 sh >/dev/null &&
	mkdir -p put && echo hello >put/f.txt &&
	(cd put && tar -cf ../put.tar f.txt) &&
	head -c 16M /dev/zero >>put.tar &&
	curl -sS --max-time 20 --unix-socket "$DAEMON_SOCK" -X PUT -H "Content-Type: application/x-tar" \
		--data-binary @put.tar -o out -w "%{http_code}" "http://berth/containers/pc/archive?path=/tmp" >code &&
	test "$(cat code)" = 200 &&
	docker cp pc:/tmp/f.txt got.txt &&
	test "$(cat got.txt)" = hello &&
	docker rm pc >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'the same connection serves the next request (keep-alive kept)' '
	curl -sS --max-time 20 --unix-socket "$DAEMON_SOCK" -X POST -H "Content-Type: application/x-tar" \
		--data-binary @padded.tar -o out1 "http://berth/images/load?quiet=1" \
		--next --unix-socket "$DAEMON_SOCK" -o out2 "http://berth/_ping" 2>err &&
	grep -q "Loaded image" out1 && test "$(cat out2)" = OK
'

test_expect_success 'stop daemon' '
	stop_daemon
'

test_done
