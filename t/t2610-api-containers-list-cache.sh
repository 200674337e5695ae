#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='api: GET /containers/json answers from its cache only while a fresh build would give the same bytes: changes show at once, Status text advances with time, queries differ'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

# warm QUERY: ask twice, so that the next answer may come from the cache
warm() {
	api GET "/containers/json$1" >/dev/null && api GET "/containers/json$1" >/dev/null
}

# names QUERY: the Names of the list, one a line (no leading slash)
names() {
	api GET "/containers/json$1" >list.json &&
	n=$(berth-test-tool json-len "" <list.json) &&
	i=0 &&
	while [ "$i" -lt "$n" ]; do
		berth-test-tool json-get "[$i].Names[0]" <list.json | sed "s|^/||" || return 1
		i=$((i + 1))
	done
}

# field NAME KEY: KEY of NAME's list entry (all=1), e.g. Status or State
field() {
	api GET "/containers/json?all=1" >list.json &&
	n=$(berth-test-tool json-len "" <list.json) &&
	i=0 &&
	while [ "$i" -lt "$n" ]; do
		if [ "$(berth-test-tool json-get "[$i].Names[0]" <list.json)" = "/$1" ]; then
			berth-test-tool json-get "[$i].$2" <list.json
			return
		fi
		i=$((i + 1))
	done
	echo "no $1 in the list" >&2
	return 1
}

# human S: Docker's words for S whole seconds (S below a minute)
human() {
	if [ "$1" -lt 1 ]; then
		echo "Less than a second"
	elif [ "$1" -eq 1 ]; then
		echo "1 second"
	else
		echo "$1 seconds"
	fi
}

# status_follows_clock NAME PREFIX SUFFIX SINCE_NS N: poll the list
# (filtered by name: one entry) until N whole seconds have passed since
# SINCE_NS (bounded); every answer must be PREFIX + the words for the clock
# at some instant between the request's send and its answer + SUFFIX (whole
# seconds: the test stays below a minute), and the text must have changed
status_follows_clock() {
	_q="?all=1&filters=%7B%22name%22%3A%5B%22%5E%2F$1%24%22%5D%7D"
	_i=0
	_first=
	_changed=
	while [ $_i -lt 1000 ]; do
		_t0=$(date +%s%N)
		api GET "/containers/json$_q" >st.json || return 1
		_t1=$(date +%s%N)
		_st=$(berth-test-tool json-get "[0].Status" <st.json) || return 1
		_s=$(( (_t0 - $4) / 1000000000 ))
		_ok=
		while [ $_s -le $(( (_t1 - $4) / 1000000000 )) ]; do
			[ "$_st" = "$2$(human $_s)$3" ] && _ok=1
			_s=$((_s + 1))
		done
		if [ -z "$_ok" ]; then
			echo "Status '$_st' between $_t0 and $_t1 (since $4): not the text of any instant between" >&2
			return 1
		fi
		[ -z "$_first" ] && _first=$_st
		[ "$_st" != "$_first" ] && _changed=1
		if [ $(( (_t0 - $4) / 1000000000 )) -gt "$5" ]; then
			[ -n "$_changed" ] && return 0
			echo "Status stayed '$_first'" >&2
			return 1
		fi
		sleep 0.01
		_i=$((_i + 1))
	done
	echo "polled $_i times; last Status '$_st'" >&2
	return 1
}

ns_of() {
	date -d "$1" +%s%N
}

test_expect_success 'start daemon with a busybox image' '
	start_daemon &&
	mkdir -p root/bin root/etc &&
	cp /bin/busybox root/bin/ &&
	for c in sh true sleep; do
		ln -s busybox root/bin/$c || return 1
	done &&
	echo "root:x:0:0:root:/root:/bin/sh" >root/etc/passwd &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null &&
	test_atexit "docker rm -f \$(docker ps -aq) >/dev/null 2>&1"
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'create shows in all=1 at once, not in the default list' '
	warm "" && warm "?all=1" &&
	docker create --network none --name c1 -l tier=a busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test "$(names "?all=1")" = c1 &&
	test -z "$(names "")" &&
	test "$(field c1 State)" = created &&
	test "$(field c1 Status)" = Created
'

test_expect_success 'start shows in the default list at once, Up' '
	warm "" && warm "?all=1" &&
	docker start c1 >/dev/null &&
	test "$(names "")" = c1 &&
	test "$(field c1 State)" = running &&
	field c1 Status | grep -Eq "^Up (Less than a second|1 second|[0-9]+ seconds)$"
'

test_expect_success 'a running container: Status advances with the clock, every answer exact' '
	since=$(ns_of "$(docker inspect -f "{{.State.StartedAt}}" c1)") &&
	status_follows_clock c1 "Up " "" "$since" 2
'

test_expect_success 'pause and unpause show at once' '
	warm "" &&
	docker pause c1 >/dev/null &&
	test "$(field c1 State)" = paused &&
	field c1 Status | grep -q "(Paused)$" &&
	docker unpause c1 >/dev/null &&
	test "$(field c1 State)" = running &&
	! field c1 Status | grep -q Paused
'

test_expect_success 'stop: gone from the default list at once, Exited in all=1, and its Status advances' '
	warm "" && warm "?all=1" &&
	docker stop -t 0 c1 >/dev/null &&
	test -z "$(names "")" &&
	test "$(field c1 State)" = exited &&
	field c1 Status | grep -Eq "^Exited \(137\) " &&
	since=$(ns_of "$(docker inspect -f "{{.State.FinishedAt}}" c1)") &&
	status_follows_clock c1 "Exited (137) " " ago" "$since" 1
'

test_expect_success 'rename shows at once, in the list and in name filters' '
	warm "?all=1" &&
	warm "?all=1&filters=%7B%22name%22%3A%5B%22c1%22%5D%7D" &&
	docker rename c1 c2 &&
	test "$(names "?all=1")" = c2 &&
	test -z "$(names "?all=1&filters=%7B%22name%22%3A%5B%22c1%22%5D%7D")" &&
	test "$(docker ps -a --filter name=c2 --format "{{.Names}}")" = c2
'

test_expect_success 'network connect and disconnect show at once, stopped and running' '
	docker network create lc1 >/dev/null &&
	docker network create lc2 >/dev/null &&
	docker create --network lc1 --name n1 busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	warm "?all=1" &&
	test "$(field n1 HostConfig.NetworkMode)" = lc1 &&
	test "$(docker ps -a --filter name=n1 --format "{{.Networks}}")" = lc1 &&
	docker network connect lc2 n1 &&
	docker ps -a --filter name=n1 --format "{{.Networks}}" | tr , "\n" | sort | tr "\n" " " >nets &&
	test "$(cat nets)" = "lc1 lc2 " &&
	warm "?all=1" &&
	docker network disconnect lc2 n1 &&
	test "$(docker ps -a --filter name=n1 --format "{{.Networks}}")" = lc1 &&
	docker start n1 >/dev/null &&
	ip=$(field n1 NetworkSettings.Networks.lc1.IPAddress) &&
	test -n "$ip" &&
	warm "" &&
	docker network connect lc2 n1 &&
	test -n "$(field n1 NetworkSettings.Networks.lc2.IPAddress)" &&
	test "$(docker ps --filter network=lc2 --format "{{.Names}}")" = n1 &&
	warm "" &&
	docker network disconnect lc2 n1 &&
	test -z "$(docker ps --filter network=lc2 --format "{{.Names}}")" &&
	test_must_fail field n1 NetworkSettings.Networks.lc2.IPAddress
'

test_expect_success 'network rm and create (events only) show in a created container'"'"'s entry at once' '
	docker network create lc3 >/dev/null &&
	docker create --network lc3 --name n3 busybox true >/dev/null &&
	warm "?all=1" &&
	test "$(field n3 NetworkSettings.Networks.lc3.NetworkID)" = "$(docker network inspect -f "{{.Id}}" lc3)" &&
	docker network rm lc3 >/dev/null &&
	test -z "$(field n3 NetworkSettings.Networks.lc3.NetworkID)" &&
	warm "?all=1" &&
	docker network create lc3 >/dev/null &&
	test "$(field n3 NetworkSettings.Networks.lc3.NetworkID)" = "$(docker network inspect -f "{{.Id}}" lc3)" &&
	docker rm n3 >/dev/null &&
	docker network rm lc3 >/dev/null
'

test_expect_success 'filters, all=1 and limit each get their own answer' '
	docker run -d --network none --name r1 -l tier=b busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	warm "" && warm "?all=1" &&
	test "$(names "" | sort | tr "\n" " ")" = "n1 r1 " &&
	test "$(names "?all=1" | sort | tr "\n" " ")" = "c2 n1 r1 " &&
	test "$(names "?all=1&filters=%7B%22label%22%3A%5B%22tier%3Da%22%5D%7D")" = c2 &&
	test "$(names "?all=1&filters=%7B%22label%22%3A%5B%22tier%3Db%22%5D%7D")" = r1 &&
	test "$(names "?all=1&filters=%7B%22status%22%3A%5B%22exited%22%5D%7D")" = c2 &&
	test "$(names "?limit=1")" = r1 &&
	test "$(docker ps -q | wc -l)" = 2 &&
	test "$(docker ps -aq | wc -l)" = 3 &&
	test "$(docker ps -a -s --format "{{.Names}}" | sort | tr "\n" " ")" = "c2 n1 r1 "
'

test_expect_success 'rm and rm -f show at once' '
	warm "?all=1" && warm "" &&
	docker rm c2 >/dev/null &&
	test "$(names "?all=1" | sort | tr "\n" " ")" = "n1 r1 " &&
	docker rm -f r1 >/dev/null &&
	test "$(names "")" = n1 &&
	docker rm -f n1 >/dev/null &&
	test -z "$(names "?all=1")" &&
	docker network rm lc1 lc2 >/dev/null
'

test_expect_success 'a container that exits by itself leaves the default list at once' '
	docker run -d --network none --name short busybox sleep 0.3 >/dev/null &&
	test "$(names "")" = short &&
	wait_for 10 sh -c "test \"\$(docker ps -q | wc -l)\" = 0" &&
	test "$(field short State)" = exited &&
	field short Status | grep -Eq "^Exited \(0\) (Less than a second|1 second|[0-9]+ seconds) ago$"
'

test_expect_success 'stop daemon: no container, mount or monitor left' '
	ids=$(docker ps -aq) &&
	{ test -z "$ids" || docker rm -f $ids >/dev/null; } &&
	stop_daemon &&
	! grep " $TRASH/" /proc/mounts | grep -v " $DAEMON_EXEC/bin/berth-runtime "
'

test_done
