#!/bin/sh
test_description='api: the real docker CLI against berthd (version, info, events, errors)'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'start daemon' '
	start_daemon
'

test_expect_success DOCKER 'docker version shows the server side' '
	docker version >out &&
	grep -q "^Server: berth" out &&
	grep -q "API version: *1.44 (minimum version 1.24)" out &&
	grep -q "API version: *1.44 (downgraded from" out &&
	test "$(docker version --format "{{.Server.Os}}/{{.Server.Arch}}")" = "linux/$(dpkg --print-architecture)"
'

test_expect_success DOCKER 'docker info shows real figures' '
	docker info >out &&
	grep -q "Server Version: " out &&
	grep -q "Storage Driver: overlay2" out &&
	grep -q "Logging Driver: json-file" out &&
	grep -q "Cgroup Driver: cgroupfs" out &&
	grep -q "CPUs: $(nproc)" out &&
	grep -q "Kernel Version: $(uname -r)" out &&
	grep -q "Docker Root Dir: $DAEMON_DATA" out &&
	grep -q "Live Restore Enabled: true" out &&
	test "$(docker info --format "{{.NCPU}}")" = "$(nproc)" &&
	mem=$(docker info --format "{{.MemTotal}}") &&
	test "$mem" = "$(awk "/^MemTotal:/ {printf \"%.0f\", \$2 * 1024}" /proc/meminfo)"
'

test_expect_success DOCKER 'docker info reports cgroup version and runtimes' '
	v=$(docker info --format "{{.CgroupVersion}}") &&
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then test "$v" = 2; else test "$v" = 1; fi &&
	test "$(docker info --format "{{.DefaultRuntime}}")" = berth
'

test_expect_success 'unversioned /version as docker-py sends it' '
	api GET /version >v.json &&
	test "$(berth-test-tool json-get ApiVersion <v.json)" = 1.44 &&
	test "$(berth-test-tool json-get MinAPIVersion <v.json)" = 1.24 &&
	test "$(berth-test-tool json-get Components[0].Name <v.json)" = Engine &&
	test "$(berth-test-tool json-get Components[0].Details.KernelVersion <v.json)" = "$(uname -r)"
'

test_expect_success 'versions 1.24 to 1.44 are accepted, others refused' '
	test "$(api_status GET /v1.24/_ping)" = 200 &&
	test "$(api_status GET /v1.41/info)" = 200 &&
	test "$(api_status GET /v1.45/info)" = 400 &&
	grep -q "client version 1.45 is too new. Maximum supported API version is 1.44" body &&
	test "$(api_status GET /v1.23/info)" = 400 &&
	grep -q "is too old. Minimum supported API version is 1.24" body
'

test_expect_success 'unknown route is 404 page not found; wrong method 405' '
	test "$(api_status GET /v1.44/nonexistent)" = 404 &&
	test "$(cat body)" = "{\"message\":\"page not found\"}" &&
	test "$(api_status DELETE /info)" = 405 &&
	grep -q message body
'

test_expect_success 'ping headers' '
	curl -s -I --unix-socket "$DAEMON_SOCK" http://x/_ping >h &&
	grep -qi "^Api-Version: 1.44" h &&
	grep -qi "^Ostype: linux" h &&
	grep -qi "^Docker-Experimental: false" h &&
	grep -qi "^Cache-Control: no-cache, no-store, must-revalidate" h &&
	grep -qi "^Server: berth/" h
'

test_expect_success DOCKER 'docker events --since/--until replays daemon events' '
	t0=$(date +%s) &&
	kill -HUP "$DAEMON_PID" &&
	wait_for 5 grep -q "configuration reloaded" "$DAEMON_LOG" &&
	docker events --since "$t0" --until "$(($(date +%s) + 1))" >ev &&
	grep -q "daemon reload" ev &&
	docker events --since "$t0" --until "$(($(date +%s) + 1))" --filter type=container >ev2 &&
	test ! -s ev2 &&
	docker events --since "$t0" --until "$(($(date +%s) + 1))" --filter event=reload --format "{{.Type}} {{.Action}}" >ev3 &&
	grep -q "^daemon reload$" ev3
'

test_expect_success 'events streams live: headers at once, then events as they happen' '
	curl -sN --max-time 10 --unix-socket "$DAEMON_SOCK" "http://x/events?filters=%7B%22type%22%3A%5B%22daemon%22%5D%7D" >live &
	curl_pid=$! &&
	wait_for 5 sh -c "curl -s --unix-socket $DAEMON_SOCK http://x/info | grep -q \"NEventsListener\\\":1\"" &&
	kill -HUP "$DAEMON_PID" &&
	wait_for 5 grep -q "\"Action\":\"reload\"" live &&
	kill $curl_pid; wait $curl_pid; true
'

test_expect_success 'events: bad filters and times are 400' '
	test "$(api_status GET "/events?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D")" = 400 &&
	grep -q "invalid filter .bogus." body &&
	test "$(api_status GET "/events?since=yesterday")" = 400 &&
	test "$(api_status GET "/events?since=200&until=100")" = 400
'

test_expect_success 'events --until in the future ends the stream on time' '
	api GET "/events?until=$(($(date +%s) + 1))" >/dev/null
'

test_expect_success 'stop daemon' '
	stop_daemon
'

test_done
