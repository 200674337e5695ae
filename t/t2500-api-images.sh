#!/bin/sh
test_description='api: images through the docker CLI: import, images, inspect, history, tag, save, load, rmi, prune, system df'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"

test_expect_success 'start daemon' '
	start_daemon
'

test_expect_success 'docker import of a busybox rootfs with changes and a message' '
	mkdir -p root/bin root/etc root/tmp &&
	cp /bin/busybox root/bin/ && ln -s busybox root/bin/sh && ln -s busybox root/bin/echo &&
	echo "root:x:0:0:root:/root:/bin/sh" >root/etc/passwd &&
	tar -C root -c . >rootfs.tar &&
	docker import -c "CMD [\"sh\"]" -c "ENV A=b" -m "made by t2500" rootfs.tar busybox:latest >id &&
	grep -Eq "^sha256:[0-9a-f]{64}$" id &&
	docker image inspect busybox --format "{{.Id}}|{{json .Config.Cmd}}|{{.Comment}}|{{.Os}}" >out &&
	test "$(cat out)" = "$(cat id)|[\"sh\"]|made by t2500|linux" &&
	docker image inspect busybox --format "{{json .Config.Env}}" | grep -q "A=b"
'

test_expect_success 'docker images lists it; /info counts it' '
	docker images --format "{{.Repository}}:{{.Tag}} {{.ID}}" >out &&
	grep -q "^busybox:latest $(cut -c8-19 id)$" out &&
	wait_for 5 sh -c "docker info --format {{.Images}} | grep -qx 1"
'

test_expect_success 'docker tag; both names resolve to one ID; tag event' '
	t0=$(date +%s) &&
	docker tag busybox mybox:v1 &&
	test "$(docker image inspect mybox:v1 --format {{.Id}})" = "$(cat id)" &&
	test "$(docker images -q --no-trunc | sort -u)" = "$(cat id)" &&
	docker events --since "$t0" --until "$(($(date +%s) + 1))" --filter type=image --format "{{.Action}} {{.Actor.Attributes.name}}" >ev &&
	grep -q "^tag mybox:v1$" ev
'

test_expect_success 'docker images with reference and dangling filters' '
	test "$(docker images --format "{{.Repository}}" --filter reference=mybox)" = mybox &&
	test -z "$(docker images -q --filter dangling=true)"
'

test_expect_success 'docker history' '
	docker history busybox --format "{{.ID}} {{.Comment}}" >h &&
	grep -q "made by t2500" h
'

test_expect_success 'docker save, rmi, load: the same ID comes back' '
	docker save busybox mybox:v1 -o saved.tar &&
	tar -tf saved.tar >list &&
	grep -q "^manifest.json$" list &&
	docker rmi mybox:v1 busybox >rmi.out &&
	grep -q "^Untagged: mybox:v1" rmi.out && grep -q "^Deleted: $(cat id)" rmi.out &&
	test -z "$(docker images -q)" &&
	docker load -i saved.tar >load.out &&
	grep -q "^Loaded image: busybox:latest" load.out &&
	grep -q "^Loaded image: mybox:v1" load.out &&
	test "$(docker image inspect busybox --format {{.Id}})" = "$(cat id)"
'

test_expect_success 'docker load from stdin (a chunked body)' '
	docker rmi -f mybox:v1 >/dev/null &&
	docker load <saved.tar >load2.out &&
	grep -q "Loaded image: mybox:v1" load2.out
'

test_expect_success 'load of garbage: a clear error, nothing stored, daemon alive' '
	head -c 100000 /dev/urandom >garbage.tar &&
	test_must_fail docker load -i garbage.tar 2>err &&
	grep -q "Error response from daemon" err &&
	test "$(docker images -q | sort -u | wc -l)" = 1 &&
	test "$(api GET /_ping)" = OK
'

test_expect_success 'load of an archive with a hostile entry names it and writes nothing outside' '
	mkdir -p evil && cd evil &&
	printf owned >payload &&
	tar --transform "s,^payload,../../../../outside-t2500," -cf layer.tar payload 2>/dev/null &&
	diff_id=sha256:$(sha256sum layer.tar | cut -d" " -f1) &&
	printf "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}" "$diff_id" >config.json &&
	cfg=$(sha256sum config.json | cut -d" " -f1) && mv config.json "$cfg.json" &&
	printf "[{\"Config\":\"%s.json\",\"RepoTags\":[\"evil:1\"],\"Layers\":[\"layer.tar\"]}]" "$cfg" >manifest.json &&
	tar -cf ../evil.tar manifest.json "$cfg.json" layer.tar && cd .. &&
	test_must_fail docker load -i evil.tar 2>err &&
	grep -q "outside-t2500" err &&
	test ! -e /outside-t2500 && test ! -e "$DAEMON_DATA/../outside-t2500" && test ! -e "$TRASH/outside-t2500" &&
	test_must_fail docker image inspect evil:1 >/dev/null 2>&1 &&
	test "$(api GET /_ping)" = OK
'

test_expect_success 'rmi and inspect of a missing image: 404 No such image' '
	test_must_fail docker rmi nosuch:1 2>err &&
	grep -q "No such image" err &&
	test "$(api_status GET /images/nosuch/json)" = 404
'

test_expect_success 'a bad reference for tag is 400' '
	test "$(api_status POST "/images/busybox/tag?repo=UPPER&tag=x")" = 400
'

test_expect_success 'pull is refused with a clear message (no registry client yet)' '
	test_must_fail docker pull alpine:3 2>err &&
	grep -q "not supported" err
'

test_expect_success 'docker system df and image prune -a' '
	docker system df >df &&
	grep -q "^Images *1 " df &&
	docker image prune -a -f >prune.out &&
	grep -q "Total reclaimed space" prune.out &&
	test -z "$(docker images -q)"
'

test_expect_success 'stop daemon' '
	stop_daemon
'

test_done
