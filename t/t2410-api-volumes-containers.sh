#!/bin/sh
test_description='api: volumes of containers: anonymous volumes (VOLUME, -v /path, --mount without source), copy-up, inspect Mounts, rm -v and --rm, in use (409, prune, dangling), docker diff without the runtime mountpoints'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

test_expect_success 'start daemon; an image with VOLUME /data holding a seed file' '
	start_daemon &&
	mkdir -p root/bin root/etc root/tmp root/data/sub &&
	cp /bin/busybox root/bin/ &&
	for c in sh echo cat ls true touch mkdir sleep; do ln -s busybox root/bin/$c || return 1; done &&
	echo "root:x:0:0:root:/root:/bin/sh" >root/etc/passwd &&
	echo seed >root/data/sub/f &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" -c "VOLUME /data" - vimg:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

hex64() {
	echo "$1" | grep -Eq "^[0-9a-f]{64}$"
}

test_expect_success 'VOLUME in the image: an anonymous volume, copied up from the image, in Mounts' '
	docker create --name c1 vimg cat /data/sub/f >/dev/null &&
	docker inspect c1 --format "{{range .Mounts}}{{.Type}} {{.Name}} {{.Source}} {{.Destination}} {{.Driver}} {{.Mode}}|{{.RW}}|{{.Propagation}}|{{end}}" >m &&
	read -r t1 t2 t3 t4 t5 t6 <m &&
	test "$t1" = volume && hex64 "$t2" &&
	test "$t3" = "$DAEMON_DATA/volumes/$t2/_data" &&
	test "$t4" = /data && test "$t5" = "local" && test "$t6" = "|true||" &&
	test "$(cat "$DAEMON_DATA/volumes/$t2/_data/sub/f")" = seed &&
	docker volume inspect "$t2" --format "{{json .Labels}}" | grep -q "com.docker.volume.anonymous" &&
	test "$(docker start -a c1)" = seed &&
	echo "$t2" >c1.vol
'

test_expect_success 'HostConfig keeps no trace of our own mount list' '
	api GET /containers/c1/json >j &&
	! grep -q BerthMountPoints j &&
	grep -q "\"Mounts\":\[{\"Type\":\"volume\"" j
'

test_expect_success 'docker ps shows the Mounts too' '
	api GET "/containers/json?all=1" >ps &&
	grep -q "\"Mounts\":\[{\"Type\":\"volume\",\"Name\":\"$(cat c1.vol)\"" ps
'

test_expect_success 'the volume is in use: 409 naming the container, even with force' '
	v=$(cat c1.vol) && id=$(docker inspect c1 --format "{{.Id}}") &&
	test "$(api_status DELETE "/volumes/$v")" = 409 &&
	grep -q "remove $v: volume is in use - \[$id\]" body &&
	test "$(api_status DELETE "/volumes/$v?force=1")" = 409 &&
	test_must_fail docker volume rm -f "$v" 2>err && grep -q "volume is in use" err &&
	test "$(api_status DELETE "/volumes/nosuchvolume?force=1")" = 204
'

test_expect_success 'dangling and prune see the use by a stopped container' '
	v=$(cat c1.vol) &&
	docker volume create loose >/dev/null &&
	docker volume ls -q --filter dangling=true >dang &&
	grep -qx loose dang && ! grep -q "$v" dang &&
	docker volume ls -q --filter dangling=false >used &&
	grep -qx "$v" used && ! grep -qx loose used &&
	docker volume prune -f --all >/dev/null &&
	docker volume inspect "$v" >/dev/null &&
	test_must_fail docker volume inspect loose
'

test_expect_success 'docker rm keeps the anonymous volume; then it can go' '
	v=$(cat c1.vol) &&
	docker rm c1 >/dev/null &&
	docker volume inspect "$v" >/dev/null &&
	docker volume rm "$v" >/dev/null &&
	test ! -e "$DAEMON_DATA/volumes/$v"
'

test_expect_success 'docker rm -v removes anonymous volumes, never named ones' '
	docker volume create keepme >/dev/null &&
	docker create --name c2 -v /anon -v keepme:/named --mount type=volume,target=/m vimg sh -c "touch /anon/a /m/b /named/c /data/d" >/dev/null &&
	docker start -a c2 &&
	for d in /anon=a /m=b /named=c /data=d; do
		src=$(docker inspect c2 --format "{{range .Mounts}}{{if eq .Destination \"${d%=*}\"}}{{.Source}}{{end}}{{end}}") &&
		test -f "$src/${d#*=}" || return 1
	done &&
	docker inspect c2 --format "{{range .Mounts}}{{.Destination}}={{.Name}}={{.Mode}}={{.RW}} {{end}}" >m &&
	grep -q "/data=[0-9a-f]\{64\}==true" m &&
	grep -q "/anon=[0-9a-f]\{64\}==true" m &&
	grep -q "/named=keepme=z=true" m &&
	grep -q "/m=[0-9a-f]\{64\}=z=true" m &&
	docker inspect c2 --format "{{range .Mounts}}{{.Name}} {{end}}" >names &&
	docker rm -v c2 >/dev/null &&
	for n in $(cat names); do
		if [ "$n" = keepme ]; then docker volume inspect keepme >/dev/null || return 1
		else test_must_fail docker volume inspect "$n" 2>/dev/null || return 1; fi
	done
'

test_expect_success 'Binds ["/path"] through the API: an anonymous volume the container uses' '
	api POST /containers/create?name=c8 -H "Content-Type: application/json" \
		-d "{\"Image\":\"busybox\",\"Cmd\":[\"touch\",\"/only/f\"],\"HostConfig\":{\"Binds\":[\"/only\"]}}" >out &&
	grep -q "\"Id\"" out &&
	docker start -a c8 &&
	docker inspect c8 --format "{{range .Mounts}}{{.Type}} {{.Destination}} {{.Mode}} {{.Name}}{{end}}" >m &&
	read -r t1 t2 t3 t4 <m &&
	test "$t1 $t2 $t3" = "volume /only z" && hex64 "$t4" &&
	test -f "$DAEMON_DATA/volumes/$t4/_data/f" &&
	test "$(api_status DELETE "/containers/c8?v=1")" = 204 &&
	test_must_fail docker volume inspect "$t4"
'

test_expect_success 'a named volume is copied up on first use only' '
	docker volume rm keepme >/dev/null &&
	docker run --rm -v nv:/data busybox cat /data/sub/f >out &&
	test "$(cat out)" = seed &&
	docker run --rm -v nv:/data busybox sh -c "echo changed >/data/sub/f" &&
	docker run --rm -v nv:/data busybox cat /data/sub/f >out &&
	test "$(cat out)" = changed &&
	docker run --rm -v nv2:/data:nocopy busybox ls /data >out &&
	test ! -s out &&
	docker volume rm nv nv2 >/dev/null
'

test_expect_success 'docker run --rm removes its anonymous volumes' '
	docker volume ls -q >before &&
	docker run --rm -v /anon2 vimg sh -c "ls /data/sub && touch /anon2/x" >out &&
	test "$(cat out)" = f &&
	wait_for 10 test -z "$(docker ps -aq)" &&
	docker volume ls -q >after &&
	cmp before after
'

test_expect_success 'volume events: create for the volumes a create made, destroy on rm -v' '
	t0=$(date +%s) &&
	docker create --name c9 -v /ev busybox true >/dev/null &&
	v=$(docker inspect c9 --format "{{range .Mounts}}{{.Name}}{{end}}") &&
	docker rm -v c9 >/dev/null &&
	docker events --since "$t0" --until "$(($(date +%s) + 1))" --filter type=volume --format "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}" >ev &&
	grep -qx "create $v local" ev && grep -qx "destroy $v local" ev &&
	docker inspect --format "{{json .}}" "$(docker create busybox true)" >j &&
	! grep -q "\"Created\":true" j
'

test_expect_success 'binds and tmpfs mounts in Mounts as Docker shows them' '
	mkdir -p hostdir &&
	docker create --name c3 -v "$TRASH/hostdir:/b:ro" -v "$TRASH/hostdir:/c:rw,rshared" \
		--mount "type=bind,source=$TRASH/hostdir,target=/d" --mount type=tmpfs,target=/t --tmpfs /tt busybox true >/dev/null &&
	docker inspect c3 --format "{{range .Mounts}}{{.Type}},{{.Source}},{{.Destination}},{{.Mode}},{{.RW}},{{.Propagation}} {{end}}" >m &&
	grep -q "bind,$TRASH/hostdir,/b,ro,false,rprivate" m &&
	grep -q "bind,$TRASH/hostdir,/c,rw,rshared,true,rshared" m &&
	grep -q "bind,$TRASH/hostdir,/d,,true,rprivate" m &&
	grep -q "tmpfs,,/t,,true," m &&
	! grep -q "/tt" m &&
	docker rm c3 >/dev/null
'

test_expect_success 'docker diff shows only what the container did' '
	docker run --name c4 busybox touch /x &&
	docker diff c4 >d &&
	echo "A /x" >expect &&
	cmp expect d &&
	docker run --name c5 -v /anon3 busybox sh -c "touch /anon3/y /x" &&
	docker diff c5 >d &&
	printf "A /anon3\nA /x\n" >expect &&
	cmp expect d &&
	docker rm -v c4 c5 >/dev/null
'

test_expect_success 'docker commit does not capture the runtime mountpoints' '
	docker run --name c6 busybox touch /made &&
	docker commit c6 committed:1 >/dev/null &&
	docker rm c6 >/dev/null &&
	docker run --rm committed:1 ls -a / >ls &&
	grep -qx made ls &&
	docker save committed:1 -o img.tar &&
	mkdir ex && tar -C ex -xf img.tar &&
	for l in $(find ex -name "*.tar" -o -path "*blobs/sha256/*" -type f); do tar -tf "$l" 2>/dev/null || :; done >entries &&
	grep -q "^made$" entries &&
	! grep -Eq "^(etc/hosts|etc/hostname|etc/resolv.conf|proc/?|sys/?|dev/?|.dockerenv)$" entries
'

test_expect_success 'the container sees /.dockerenv and /etc/mtab as in Docker' '
	docker run --rm busybox sh -c "test -f /.dockerenv && test -L /etc/mtab"
'

test_expect_success 'a bad named volume in -v: 400 at create, nothing left' '
	docker volume ls -q >before &&
	{ test_must_fail docker create --name c7 -v "bad@name:/x" busybox true 2>err || { cat err; false; }; } &&
	grep -q "invalid characters" err &&
	test_must_fail docker container inspect c7 >/dev/null &&
	docker volume ls -q >after &&
	{ cmp before after || { cat before after; false; }; }
'

test_expect_success 'volume events: mount before the start, unmount after die and disconnect (as dockerd)' '
	since=$(date +%s) &&
	docker run --rm --network none -v evvol:/data --mount type=volume,src=evvol2,dst=/ro,readonly -v "$TRASH:/host" \
		busybox true &&
	until=$(( $(date +%s) + 1 )) &&
	docker events --since "$since" --until "$until" --filter type=volume \
		--format "{{.Action}} {{.Actor.ID}} {{json .Actor.Attributes}}" >vev &&
	cid=$(grep -m1 "^mount evvol " vev | sed "s/.*\"container\":\"\([0-9a-f]*\)\".*/\1/") &&
	hex64 "$cid" &&
	grep -qx "mount evvol {\"container\":\"$cid\",\"destination\":\"/data\",\"driver\":\"local\",\"propagation\":\"\",\"read/write\":\"true\"}" vev &&
	grep -qx "mount evvol2 {\"container\":\"$cid\",\"destination\":\"/ro\",\"driver\":\"local\",\"propagation\":\"\",\"read/write\":\"false\"}" vev &&
	grep -qx "unmount evvol {\"container\":\"$cid\",\"driver\":\"local\"}" vev &&
	grep -qx "unmount evvol2 {\"container\":\"$cid\",\"driver\":\"local\"}" vev &&
	test $(grep -c "mount .*\"container\":\"$cid\"" vev) = 4 &&
	docker events --since "$since" --until "$until" \
		--format "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.container}}" >allev &&
	awk -v c="$cid" "\$3 == c || \$4 == c { print \$1, \$2 }" allev |
		grep -E "^(volume (mount|unmount)|container (start|die|destroy))$" | uniq >order &&
	printf "volume mount\ncontainer start\ncontainer die\nvolume unmount\ncontainer destroy\n" >order.expect &&
	diff -u order.expect order &&
	docker volume rm evvol evvol2 >/dev/null
'

test_expect_success 'stop daemon' '
	stop_daemon
'

test_done
