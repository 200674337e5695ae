#!/bin/sh
test_description='berthd: start, signals, pidfile and data-root locks, config errors, reload, sd_notify, socket activation'
# berthd is dialled over TCP (or wrapped into a netns by the test itself)
BERTH_TEST_HOSTNET=1
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'berthd --version and --help exit 0' '
	berthd --version >out && grep -q "^berthd version .*, API 1.44" out &&
	berthd --help >out && grep -q -- "--data-root" out
'

test_expect_success 'an unknown flag is an error on stderr' '
	test_must_fail berthd --bogus 2>err &&
	grep -q "unknown flag: --bogus" err
'

test_expect_success 'start and answer /_ping' '
	start_daemon &&
	test "$(api GET /_ping)" = OK &&
	test -S "$DAEMON_SOCK" &&
	test "$(cat $TRASH/d.pid)" = "$DAEMON_PID"
'

test_expect_success 'the socket is private to root without --group' '
	test "$(stat -c %a "$DAEMON_SOCK")" = 600
'

test_expect_success 'a second daemon on the same data-root refuses to start' '
	test_must_fail berthd --data-root "$DAEMON_DATA" --exec-root "$TRASH/x-exec" \
		--pidfile "$TRASH/x.pid" --config-file /dev/null -H "unix://$TRASH/x.sock" 2>err &&
	grep -q "data-root lock .* is locked by another berthd" err &&
	test ! -S "$TRASH/x.sock" &&
	test "$(api GET /_ping)" = OK
'

test_expect_success 'a second daemon on the same pidfile refuses to start' '
	test_must_fail berthd --data-root "$TRASH/y-data" --exec-root "$TRASH/y-exec" \
		--pidfile "$TRASH/d.pid" --config-file /dev/null -H "unix://$TRASH/y.sock" 2>err &&
	grep -q "pid file .* is locked by another berthd" err
'

test_expect_success 'a second daemon on the same socket refuses to steal it' '
	test_must_fail berthd --data-root "$TRASH/z-data" --exec-root "$TRASH/z-exec" \
		--pidfile "$TRASH/z.pid" --config-file /dev/null -H "unix://$DAEMON_SOCK" 2>err &&
	grep -q "in use by another daemon" err &&
	test "$(api GET /_ping)" = OK
'

test_expect_success 'SIGHUP reloads reloadable keys and emits a daemon reload event' '
	since=$(date +%s) &&
	echo "{\"debug\": true, \"labels\": [\"zone=a\"]}" >"$TRASH/d.json" &&
	kill -HUP "$DAEMON_PID" &&
	wait_for 5 sh -c "curl -s --unix-socket $DAEMON_SOCK http://x/info | grep -q \"\\\"Labels\\\":\\[\\\"zone=a\\\"\\]\"" &&
	api GET /info >info &&
	grep -q "\"Debug\":true" info &&
	api GET "/events?since=$since&until=$(($(date +%s) + 1))" >ev &&
	grep -q "\"Type\":\"daemon\",\"Action\":\"reload\"" ev
'

test_expect_success 'a broken file on SIGHUP keeps the running configuration' '
	echo "{\"debug\": fals" >"$TRASH/d.json" &&
	kill -HUP "$DAEMON_PID" &&
	wait_for 5 grep -q "configuration not reloaded" "$DAEMON_LOG" &&
	api GET /info | grep -q "\"Labels\":\[\"zone=a\"\]" &&
	test "$(api GET /_ping)" = OK
'

test_expect_success 'SIGTERM: exit 0, socket and pidfile removed' '
	stop_daemon &&
	test ! -e "$DAEMON_SOCK" &&
	test ! -e "$TRASH/d.pid"
'

test_expect_success 'restart on the same data-root keeps the engine ID' '
	id1=$(cat "$DAEMON_DATA/engine-id") &&
	echo "{}" >"$TRASH/d.json" &&
	start_daemon &&
	api GET /info | grep -q "\"ID\":\"$id1\"" &&
	stop_daemon
'

test_expect_success '--group makes the socket 0660 for that group' '
	start_daemon g --group 0 &&
	test "$(stat -c %a "$TRASH/g.sock")" = 660 &&
	test "$(stat -c %g "$TRASH/g.sock")" = 0 &&
	stop_daemon
'

test_expect_success DOCKER 'plain TCP on loopback works, with a warning in docker info' '
	start_daemon p -H tcp://127.0.0.1:0 &&
	addr=$(sed -n "s/.*API listen on tcp:\/\/\([0-9.]*:[0-9]*\).*/\1/p" "$DAEMON_LOG" | head -n 1) &&
	test -n "$addr" &&
	DOCKER_HOST=tcp://$addr docker version --format "{{.Server.APIVersion}}" >v &&
	test "$(cat v)" = 1.44 &&
	DOCKER_HOST=tcp://$addr docker info 2>&1 | grep -q "WARNING: API is accessible on http://127.0.0.1:0 without encryption" &&
	stop_daemon
'

test_expect_success 'unknown key in daemon.json: clear startup error' '
	echo "{\"data-root\": \"/x\", \"frobnicate\": 1}" >"$TRASH/bad.json" &&
	test_must_fail berthd --config-file "$TRASH/bad.json" -H "unix://$TRASH/b.sock" 2>err &&
	grep -q "unknown key .frobnicate." err && grep -q bad.json err
'

test_expect_success 'malformed daemon.json: clear startup error' '
	printf "{\"debug\": true,," >"$TRASH/bad.json" &&
	test_must_fail berthd --config-file "$TRASH/bad.json" -H "unix://$TRASH/b.sock" 2>err &&
	grep -q "invalid JSON at byte" err
'

test_expect_success 'plain TCP on a public address needs --tls=false' '
	test_must_fail berthd --config-file /dev/null -H tcp://0.0.0.0:0 2>err &&
	grep -q "without TLS" err
'

test_expect_success SOCAT 'sd_notify: READY=1 then STOPPING=1' '
	socat -u UNIX-RECV:"$TRASH/notify" OPEN:"$TRASH/notified",creat,append &
	socat_pid=$! &&
	test_when_finished "kill $socat_pid 2>/dev/null" &&
	wait_for 5 test -S "$TRASH/notify" &&
	NOTIFY_SOCKET=$TRASH/notify start_daemon &&
	wait_for 5 grep -q READY=1 "$TRASH/notified" &&
	stop_daemon &&
	wait_for 5 grep -q STOPPING=1 "$TRASH/notified"
'

test_expect_success SOCKACT,DOCKER 'socket activation: systemd-socket-activate -l PATH berthd -H fd://' '
	systemd-socket-activate -l "$TRASH/act.sock" -E LISTEN_FDNAMES=berth.socket \
		berthd -H fd:// --data-root "$TRASH/act-data" --exec-root "$TRASH/act-exec" \
		--pidfile "$TRASH/act.pid" --config-file /dev/null >"$TRASH/act.log" 2>&1 &
	act_pid=$! &&
	test_atexit "kill $act_pid 2>/dev/null" &&
	wait_for 5 test -S "$TRASH/act.sock" &&
	DOCKER_HOST=unix://$TRASH/act.sock docker version --format "{{.Server.APIVersion}}" >v &&
	test "$(cat v)" = 1.44 &&
	wait_for 5 test -s "$TRASH/act.pid" &&
	grep -q "API listen on fd://" "$TRASH/act.log" &&
	stop_daemon "$(cat $TRASH/act.pid)" "$TRASH/act.log"
'

test_expect_success SOCKACT 'socket activation by name: fd://NAME' '
	systemd-socket-activate -l "$TRASH/act2.sock" --fdname=api \
		berthd -H fd://api --data-root "$TRASH/act2-data" --exec-root "$TRASH/act2-exec" \
		--pidfile "$TRASH/act2.pid" --config-file /dev/null >"$TRASH/act2.log" 2>&1 &
	act2_pid=$! &&
	test_atexit "kill $act2_pid 2>/dev/null" &&
	wait_for 5 test -S "$TRASH/act2.sock" &&
	test "$(curl -s --unix-socket $TRASH/act2.sock http://x/_ping)" = OK &&
	wait_for 5 test -s "$TRASH/act2.pid" &&
	stop_daemon "$(cat $TRASH/act2.pid)" "$TRASH/act2.log"
'

test_expect_success 'fd:// without socket activation is a clear error' '
	test_must_fail berthd -H fd:// --data-root "$TRASH/f-data" --exec-root "$TRASH/f-exec" \
		--pidfile "$TRASH/f.pid" --config-file /dev/null 2>err &&
	grep -q "no sockets were passed by socket activation" err
'

test_done
