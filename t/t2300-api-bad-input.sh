#!/bin/sh
test_description='api: malformed requests get their 4xx or are dropped; the daemon keeps serving and leaks nothing'
. "$(dirname "$0")/test-lib.sh"

test_have_prereq PYTHON3 || skip_all "python3 is missing"
abuse() { python3 "$BERTH_SRC_DIR/t/helper/http-abuse.py" "$@"; }

test_expect_success 'start daemon with short timeouts' '
	echo "{\"api-request-timeout-ms\": 1500, \"api-idle-timeout-ms\": 1000}" >"$TRASH/d.json" &&
	start_daemon &&
	base_fds=$(fd_count $DAEMON_PID) &&
	test "$base_fds" -gt 0
'

ping_ok() { test "$(api GET /_ping)" = OK; }

test_expect_success 'garbage bytes: 400 with a JSON message, connection closed' '
	printf "\001\002\003 hello garbage\r\n\r\n" | abuse raw "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 400 " &&
	grep -q "{\"message\":\"malformed HTTP request" out &&
	grep -q "Connection: close" out &&
	ping_ok
'

test_expect_success 'bad chunk sizes: 400' '
	printf "POST /_ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nx\r\n0\r\n\r\n" |
		abuse raw "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 4" &&
	printf "POST /_ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nx\r\n0\r\n\r\n" |
		abuse raw "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 400 " &&
	ping_ok
'

test_expect_success 'a 1 MiB header: 431' '
	{ printf "GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: "; head -c 1048576 /dev/zero | tr "\0" a; printf "\r\n\r\n"; } |
		abuse raw "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 431 " &&
	grep -q "request headers are larger than" out &&
	ping_ok
'

test_expect_success 'a body over the limit on a non-streaming endpoint: 413' '
	printf "POST /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n" |
		abuse raw "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 413 " &&
	ping_ok
'

test_expect_success 'conflicting Content-Length and chunked: 400' '
	printf "POST /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" |
		abuse raw "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 400 " &&
	ping_ok
'

test_expect_success 'invalid UTF-8 in the path and query is answered, not crashed on' '
	printf "GET /v1.44/\377\376/json?x=%%ff%%fe HTTP/1.1\r\nHost: x\r\n\r\n" | abuse raw "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 4" &&
	printf "GET /_ping?a=%%zz HTTP/1.1\r\nHost: x\r\n\r\n" | abuse raw "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 400 " &&
	ping_ok
'

test_expect_success 'half-open and abruptly closed connections' '
	test "$(abuse halfopen "$DAEMON_SOCK")" = closed &&
	for i in 1 2 3 4 5 6 7 8 9 10; do abuse abort "$DAEMON_SOCK" || return 1; done &&
	ping_ok
'

test_expect_success 'a request that never completes gets 408 after the request timeout' '
	abuse stall "$DAEMON_SOCK" >out &&
	head -n 1 out | grep -q "^HTTP/1.1 408 " &&
	ping_ok
'

test_expect_success 'idle keep-alive connections are closed after the idle timeout' '
	abuse hold "$DAEMON_SOCK" 20 >held &&
	test "$(cut -d" " -f1 held)" = 0
'

test_expect_success '200 slow clients at once: /_ping keeps answering' '
	abuse slow "$DAEMON_SOCK" 200 1.0 >worst &&
	test -s worst &&
	ping_ok
'

test_expect_success 'after all that, file descriptors are back to the baseline' '
	wait_for 10 sh -c "test \$(ls /proc/$DAEMON_PID/fd | wc -l) -le $base_fds" &&
	ping_ok
'

test_expect_success 'stop daemon: exit 0, no sanitizer report, no alert' '
	stop_daemon
'

test_done
