#!/bin/sh
test_description='api: volumes through the docker CLI and curl; JSON bodies that are bad get 400'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'start daemon' '
	start_daemon
'

test_expect_success DOCKER 'docker volume create with labels; inspect returns them exactly' '
	docker volume create --label app=web --label "note=two words" v1 >out &&
	test "$(cat out)" = v1 &&
	docker volume inspect v1 --format "{{.Name}} {{.Driver}} {{index .Labels \"app\"}}|{{index .Labels \"note\"}}" >out &&
	test "$(cat out)" = "v1 local web|two words" &&
	mp=$(docker volume inspect v1 --format "{{.Mountpoint}}") &&
	test "$mp" = "$DAEMON_DATA/volumes/v1/_data" &&
	test -d "$mp"
'

test_expect_success DOCKER 'docker volume create without a name makes a 64-hex one' '
	name=$(docker volume create) &&
	echo "$name" | grep -Eq "^[0-9a-f]{64}$" &&
	docker volume rm "$name"
'

test_expect_success DOCKER 'docker volume ls with filters' '
	docker volume create --label app=db v2 >/dev/null &&
	docker volume ls -q | sort >all &&
	printf "v1\nv2\n" >expect && cmp expect all &&
	test "$(docker volume ls -q --filter label=app=web)" = v1 &&
	test "$(docker volume ls -q --filter name=v2)" = v2 &&
	test "$(docker volume ls -q --filter label=app | wc -l)" = 2 &&
	test -z "$(docker volume ls -q --filter label=app=none)"
'

test_expect_success DOCKER 'volume events: create and destroy' '
	t0=$(date +%s) &&
	docker volume create evv >/dev/null &&
	docker volume rm evv >/dev/null &&
	docker events --since "$t0" --until "$(($(date +%s) + 1))" --filter type=volume --format "{{.Action}} {{.Actor.ID}}" >ev &&
	grep -q "^create evv$" ev && grep -q "^destroy evv$" ev
'

test_expect_success DOCKER 'remove a missing volume: 404 message, exit 1' '
	test_must_fail docker volume rm nosuch 2>err &&
	grep -q "no such volume" err &&
	test "$(api_status GET /volumes/nosuch)" = 404 &&
	grep -q "no such volume" body
'

test_expect_success DOCKER 'prune with --all and a label filter' '
	docker volume create --label keep=yes v3 >/dev/null &&
	docker volume prune -f --all --filter label=app=db >out &&
	! docker volume inspect v2 >/dev/null 2>&1 &&
	docker volume inspect v1 >/dev/null && docker volume inspect v3 >/dev/null
'

test_expect_success 'invalid JSON body: 400 naming the byte offset' '
	test "$(api_status POST /volumes/create -H "Content-Type: application/json" -d "{\"Name\": ")" = 400 &&
	grep -q "invalid JSON at byte" body
'

test_expect_success 'invalid UTF-8 in the body: 400' '
	printf "{\"Name\":\"bad\377\376\"}" >bad.json &&
	test "$(api_status POST /volumes/create -H "Content-Type: application/json" --data-binary @bad.json)" = 400 &&
	grep -q "not valid UTF-8" body &&
	test "$(api_status GET /volumes/bad)" = 404
'

test_expect_success 'wrong JSON types and wrong content type: 400' '
	test "$(api_status POST /volumes/create -H "Content-Type: application/json" -d "{\"Name\": 5}")" = 400 &&
	grep -q "Name must be a string" body &&
	test "$(api_status POST /volumes/create -H "Content-Type: application/json" -d "{\"Labels\": {\"a\": 1}}")" = 400 &&
	test "$(api_status POST /volumes/create -H "Content-Type: application/json" -d "[1,2]")" = 400 &&
	test "$(api_status POST /volumes/create -H "Content-Type: text/plain" -d "{}")" = 400 &&
	grep -q "unsupported Content-Type" body
'

test_expect_success 'a bad volume name: 400, nothing created' '
	test "$(api_status POST /volumes/create -H "Content-Type: application/json" -d "{\"Name\": \"../escape\"}")" = 400 &&
	test ! -e "$DAEMON_DATA/escape" && test ! -e "$DAEMON_DATA/volumes/../escape"
'

test_expect_success 'the daemon survived all of it' '
	test "$(api GET /_ping)" = OK &&
	stop_daemon
'

test_expect_success DOCKER 'volumes and labels survive a restart' '
	start_daemon &&
	docker volume inspect v1 --format "{{index .Labels \"app\"}}" >out &&
	test "$(cat out)" = web &&
	stop_daemon
'

test_done
