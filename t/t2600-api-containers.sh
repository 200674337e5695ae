#!/bin/sh
test_description='api: containers through the docker CLI: create, inspect, ps with filters, rename, rm, prune, bad input'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"

test_expect_success 'start daemon with a busybox image' '
	start_daemon &&
	mkdir -p root/bin root/etc &&
	cp /bin/busybox root/bin/ && ln -s busybox root/bin/sh &&
	echo "root:x:0:0:root:/root:/bin/sh" >root/etc/passwd &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin IMG=1" - busybox:latest >image_id
'

test_expect_success 'docker create: 201 with an ID; inspect shows Docker defaults' '
	docker create --name web -l app=demo -e IMG=2 busybox sleep 5.5 >id &&
	grep -Eq "^[0-9a-f]{64}$" id &&
	docker inspect web --format "{{.Id}} {{.Name}} {{.State.Status}} {{.Path}} {{json .Args}}" >out &&
	test "$(cat out)" = "$(cat id) /web created sleep [\"5.5\"]" &&
	docker inspect web --format "{{.Image}} {{.Config.Hostname}} {{.HostConfig.ShmSize}} {{.HostConfig.LogConfig.Type}} {{.HostConfig.IpcMode}}" >out &&
	test "$(cat out)" = "$(cat image_id) $(cut -c1-12 id) 67108864 json-file private" &&
	docker inspect web --format "{{json .Config.Env}}" >env &&
	grep -q "\"PATH=/bin\"" env && grep -q "\"IMG=2\"" env && ! grep -q "IMG=1" env &&
	test "$(docker inspect web --format "{{.State.FinishedAt}}")" = "0001-01-01T00:00:00Z" &&
	test -f "$DAEMON_DATA/containers/$(cat id)/config.v2.json"
'

test_expect_success 'the image Cmd is used when none is given; a generated name' '
	docker create busybox >id2 &&
	docker inspect "$(cat id2)" --format "{{.Path}} {{.Name}}" >out &&
	grep -Eq "^sh /[a-z]+_[a-z]+[0-9]?$" out
'

test_expect_success 'docker ps -a lists both, newest first, with Created status; filters work' '
	docker ps -a --format "{{.Names}}|{{.Status}}|{{.Command}}" >ps &&
	test "$(wc -l <ps)" = 2 &&
	tail -n 1 ps | grep -q "^web|Created|\"sleep 5.5\"$" &&
	test -z "$(docker ps -q)" &&
	test "$(docker ps -a --filter label=app=demo --format {{.Names}})" = web &&
	# a part of a name: web, and the generated name too if it holds "we"
	docker ps -a --filter name=we --format {{.Names}} >byname &&
	grep -qx web byname && ! grep -v we byname &&
	test "$(docker ps -a --filter status=created -q | wc -l)" = 2 &&
	test "$(docker ps -a --filter ancestor=busybox -q | wc -l)" = 2 &&
	test "$(docker ps -a --filter id=$(cut -c1-8 id) --format {{.Names}})" = web &&
	test "$(docker ps -a -n 1 -q)" = "$(cut -c1-12 id2)"
'

test_expect_success 'a unique ID prefix finds the container' '
	test "$(docker inspect "$(cut -c1-6 id)" --format {{.Name}})" = /web
'

test_expect_success 'docker rename, with a rename event; the old name is free again' '
	t0=$(date +%s) &&
	docker rename web web2 &&
	test "$(docker inspect web2 --format {{.Name}})" = /web2 &&
	test_must_fail docker inspect web >/dev/null 2>&1 &&
	docker events --since "$t0" --until "$(($(date +%s) + 1))" --filter event=rename --format "{{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}" >ev &&
	grep -q "^/web web2$" ev
'

test_expect_success 'bad input: unknown image 404, bad name 400, duplicate 409, conflicting flags 400' '
	test "$(api_status POST /containers/create -H "Content-Type: application/json" -d "{\"Image\":\"nosuch:1\"}")" = 404 &&
	grep -q "No such image: nosuch:1" body &&
	test_must_fail docker create --name a busybox 2>err &&
	grep -q "Invalid container name (a)" err &&
	test_must_fail docker create --name web2 busybox 2>err &&
	grep -q "is already in use by container" err &&
	test_must_fail docker create --rm --restart always busybox 2>err &&
	grep -q -i "conflicting options" err &&
	test_must_fail docker create -m 1m busybox 2>err &&
	grep -q "Minimum memory limit allowed is 6MB" err &&
	test_must_fail docker create --restart bogus busybox 2>err &&
	test "$(api_status POST /containers/create -H "Content-Type: application/json" -d "{\"Image\":")" = 400 &&
	test "$(api_status POST /containers/create -H "Content-Type: application/json" -d "{}")" = 400 &&
	test "$(docker ps -a -q | wc -l)" = 2
'

test_expect_success 'docker rm of a missing container: 404' '
	test_must_fail docker rm nosuch 2>err &&
	grep -q "No such container: nosuch" err
'

test_expect_success '100 concurrent creates all get an answer; the daemon stays healthy' '
	seq 100 | xargs -P 20 -I{} curl -s -o /dev/null -w "%{http_code}\n" --unix-socket "$DAEMON_SOCK" \
		-H "Content-Type: application/json" -d "{\"Image\":\"busybox\",\"Cmd\":[\"true\"]}" \
		"http://x/containers/create?name=c{}" >codes &&
	test "$(grep -c "^201$" codes)" = 100 &&
	test "$(docker ps -a -q | wc -l)" = 102 &&
	test "$(docker info --format {{.Containers}})" = 102 &&
	test "$(api GET /_ping)" = OK
'

test_expect_success 'containers survive a daemon restart' '
	stop_daemon &&
	start_daemon &&
	test "$(docker ps -a -q | wc -l)" = 102 &&
	test "$(docker inspect web2 --format "{{.State.Status}} {{.Config.Labels.app}}")" = "created demo"
'

test_expect_success 'docker rm and container prune remove state and rootfs' '
	docker rm web2 >/dev/null &&
	test ! -e "$DAEMON_DATA/containers/$(cat id)" &&
	docker container prune -f --filter label=none=none >/dev/null &&
	test "$(docker ps -a -q | wc -l)" = 101 &&
	docker container prune -f >out &&
	grep -q "Total reclaimed space" out &&
	test -z "$(docker ps -a -q)" &&
	test "$(ls "$DAEMON_DATA/containers" | wc -l)" = 0
'

test_expect_success 'what the start would refuse is refused at create (400), nothing made' '
	n=$(docker ps -aq | wc -l) &&
	test_must_fail docker create --cap-add FOO busybox true 2>err &&
	grep -q "unknown capability" err &&
	test_must_fail docker create --mount type=bind,src=/nonexistent-berth-x,dst=/x busybox true 2>err &&
	grep -q "bind source path does not exist" err &&
	test "$(docker ps -aq | wc -l)" = "$n"
'


test_expect_success 'an image a container uses: rmi is 409, prune -a keeps it, rmi -f only untags' '
	root2=$(mktemp -d) && mkdir -p "$root2/bin" && cp /bin/busybox "$root2/bin/" &&
	ln -s busybox "$root2/bin/true" &&
	tar -C "$root2" -c . | docker import -c "CMD [\"true\"]" - inuse:1 >/dev/null &&
	rm -rf "$root2" &&
	docker create --name user1 inuse:1 >/dev/null &&
	test_must_fail docker rmi inuse:1 2>err &&
	grep -q "container .*is using its referenced image" err &&
	id=$(docker image inspect -f "{{.Id}}" inuse:1) &&
	docker image prune -a -f >/dev/null &&
	docker image inspect "$id" >/dev/null &&
	docker rmi -f inuse:1 >/dev/null &&
	docker image inspect "$id" >/dev/null &&
	docker start -a user1 &&
	docker rm user1 >/dev/null &&
	docker rmi "$id" >/dev/null &&
	test_must_fail docker image inspect "$id" 2>/dev/null
'

test_expect_success 'stop daemon' '
	stop_daemon
'

test_done
