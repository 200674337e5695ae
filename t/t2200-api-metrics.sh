#!/bin/sh
test_description='api: Prometheus metrics on --metrics-addr pass promtool'
# berthd is dialled over TCP (or wrapped into a netns by the test itself)
BERTH_TEST_HOSTNET=1
. "$(dirname "$0")/test-lib.sh"

metrics_addr() {
	sed -n 's/.*API listen on tcp:\/\/\([0-9.]*:[0-9]*\) (metrics).*/\1/p' "$DAEMON_LOG" | head -n 1
}

test_expect_success 'start daemon with a metrics listener' '
	start_daemon --metrics-addr 127.0.0.1:0 &&
	M=$(metrics_addr) &&
	test -n "$M"
'

test_expect_success 'requests are counted by route, method and code' '
	api GET /_ping >/dev/null && api GET /v1.44/info >/dev/null && api GET /nope >/dev/null &&
	curl -sf "http://$M/metrics" >m &&
	grep -q "^berth_api_requests_total{route=\"/_ping\",method=\"GET\",code=\"200\"} [2-9]$" m &&
	grep -q "^berth_api_requests_total{route=\"/info\",method=\"GET\",code=\"200\"} 1$" m &&
	grep -q "^berth_api_requests_total{route=\"other\",method=\"GET\",code=\"404\"} 1$" m &&
	grep -q "^berth_build_info{" m &&
	grep -q "^berth_uptime_seconds " m &&
	grep -q "^berth_api_request_duration_seconds_count " m &&
	grep -q "^berth_api_connections_open " m &&
	grep -q "^process_resident_memory_bytes [1-9]" m &&
	grep -q "^process_open_fds [1-9]" m
'

test_expect_success PROMTOOL 'promtool check metrics passes' '
	curl -sf "http://$M/metrics" | promtool check metrics
'

test_expect_success 'metrics content type is the text exposition format' '
	curl -sf -D h -o /dev/null "http://$M/metrics" &&
	grep -qi "^Content-Type: text/plain; version=0.0.4" h
'

test_expect_success 'the metrics listener serves nothing else; the API socket has no /metrics' '
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://$M/v1.44/info")" = 404 &&
	test "$(api_status GET /metrics)" = 404
'

test_expect_success 'stop daemon' '
	stop_daemon
'

test_done
