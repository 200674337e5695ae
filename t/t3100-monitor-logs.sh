#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-monitor: the json-file log as Docker writes it, rotation'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/mon-lib.sh"

test_have_prereq RUNC || skip_all 'needs root, /usr/sbin/runc and /bin/busybox'

# mon_script NAME: the script on stdin becomes /t/NAME in the rootfs
mon_script() {
	mkdir -p "$TRASH/rootfs/t" && cat >"$TRASH/rootfs/t/$1"
}

# the log lines without their time
strip_time() {
	sed -e 's/,"time":"[^"]*"}$//' "$1"
}

test_expect_success 'setup: rootfs and scripts' '
	mon_rootfs &&
	mon_script escape <<-\EOF &&
	printf "<a&b>\"\\\\\t\001\303\251\342\200\250\377end\n"
	printf "\r\n"
	echo
	EOF
	mon_script long <<-\EOF &&
	head -c 20000 /dev/zero | tr "\0" x
	echo
	head -c 16384 /dev/zero | tr "\0" y
	echo
	EOF
	mon_script partial <<-\EOF &&
	printf "no newline"
	printf "err partial" >&2
	EOF
	mon_script count <<-\EOF
	i=100
	while [ $i -lt 300 ]; do echo "line-$i"; i=$((i+1)); done
	EOF
'

test_expect_success 'escaping is byte for byte what Docker writes' '
	mon_bundle esc "\"sh\", \"/t/escape\"" &&
	mon_start esc --auto-start &&
	mon_wait_exit esc &&
	cat >expect <<-\EOF &&
	{"log":"\u003ca\u0026b\u003e\"\\\u0009\u0001é\u2028\ufffdend\n","stream":"stdout"
	{"log":"\r\n","stream":"stdout"
	{"log":"\n","stream":"stdout"
	EOF
	strip_time s-esc/log.json >actual &&
	cmp expect actual &&
	mon_clean esc
'

test_expect_success 'lines over 16K are cut in pieces that share one time' '
	mon_bundle long "\"sh\", \"/t/long\"" &&
	mon_start long --auto-start &&
	mon_wait_exit long &&
	test "$(grep -c . s-long/log.json)" = 4 &&
	sed -n 1p s-long/log.json | sed -e "s/^{\"log\":\"\\(x*\\)\",\"stream\".*/\\1/" | tr -d "\\n" | wc -c >n1 &&
	test "$(cat n1)" = 16384 &&
	sed -n 2p s-long/log.json | grep "^{\"log\":\"x*\\\\n\"" &&
	sed -n 2p s-long/log.json | sed -e "s/^{\"log\":\"\\(x*\\)\\\\n\".*/\\1/" | tr -d "\\n" | wc -c >n2 &&
	test "$(cat n2)" = 3616 &&
	t1=$(sed -n "1s/.*\"time\":\"\\([^\"]*\\)\".*/\\1/p" s-long/log.json) &&
	t2=$(sed -n "2s/.*\"time\":\"\\([^\"]*\\)\".*/\\1/p" s-long/log.json) &&
	test "$t1" = "$t2" &&
	sed -n 3p s-long/log.json | grep "^{\"log\":\"y\\{16384\\}\"," &&
	sed -n 4p s-long/log.json | grep "^{\"log\":\"\\\\n\"," &&
	mon_clean long
'

test_expect_success 'output without a final newline is logged without one' '
	mon_bundle partial "\"sh\", \"/t/partial\"" &&
	mon_start partial --auto-start &&
	mon_wait_exit partial &&
	grep "^{\"log\":\"no newline\",\"stream\":\"stdout\"," s-partial/log.json &&
	grep "^{\"log\":\"err partial\",\"stream\":\"stderr\"," s-partial/log.json &&
	test "$(grep -c . s-partial/log.json)" = 2 &&
	mon_clean partial
'

test_expect_success 'times are RFC 3339 nano, UTC, in order' '
	mon_bundle times "\"sh\", \"/t/count\"" &&
	mon_start times --auto-start &&
	mon_wait_exit times &&
	test "$(grep -c . s-times/log.json)" = 200 &&
	sed -e "s/.*\"time\":\"\\([^\"]*\\)\"}$/\\1/" s-times/log.json >tlist &&
	grep -E -v "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*[1-9])?Z$" tlist >bad || true &&
	! test -s bad &&
	sed -e "s/\\.\\([0-9]*\\)Z$/.\\1000000000Z/; s/Z$//; s/\\(\\.[0-9]\\{9\\}\\).*/\\1/" tlist >norm &&
	sort -c norm &&
	mon_clean times
'

test_expect_success 'rotation: max-size 1k, max-file 3 keeps log, log.1, log.2' '
	mon_bundle rot "\"sh\", \"/t/count\"" &&
	mon_start rot --auto-start --log-max-size 1k --log-max-file 3 &&
	mon_wait_exit rot &&
	test -f s-rot/log.json && test -f s-rot/log.json.1 && test -f s-rot/log.json.2 &&
	! test -e s-rot/log.json.3 &&
	for f in s-rot/log.json s-rot/log.json.1 s-rot/log.json.2; do
		test "$(wc -c <$f)" -lt 1100 || return 1
	done &&
	test "$(stat -c %a s-rot/log.json)" = 640 &&
	cat s-rot/log.json.2 s-rot/log.json.1 s-rot/log.json |
		sed -e "s/^{\"log\":\"line-\\([0-9]*\\).*/\\1/" >nums &&
	tail -n 1 nums | grep -x 299 &&
	first=$(head -n 1 nums) &&
	seq "$first" 299 >expect &&
	cmp expect nums &&
	mon_clean rot
'

test_expect_success 'rotation with max-file 1 replaces the file' '
	mon_bundle rot1 "\"sh\", \"/t/count\"" &&
	mon_start rot1 --auto-start --log-max-size 2k &&
	mon_wait_exit rot1 &&
	! test -e s-rot1/log.json.1 &&
	test "$(wc -c <s-rot1/log.json)" -lt 2100 &&
	tail -n 1 s-rot1/log.json | grep "^{\"log\":\"line-299\\\\n\"" &&
	mon_clean rot1
'

test_expect_success 'attrs go in every line; an existing log is appended to' '
	mon_bundle attrs "\"echo\", \"with-attrs\"" &&
	mkdir -p s-attrs &&
	printf "%s\n" "{\"log\":\"old\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00Z\"}" >s-attrs/log.json &&
	mon_start attrs --auto-start --log-attrs "{\"tag\":\"web\"}" &&
	mon_wait_exit attrs &&
	sed -n 1p s-attrs/log.json | grep "\"log\":\"old" &&
	sed -n 2p s-attrs/log.json | grep "^{\"log\":\"with-attrs\\\\n\",\"stream\":\"stdout\",\"attrs\":{\"tag\":\"web\"},\"time\":\"" &&
	mon_clean attrs
'

test_expect_success 'no log path: nothing is written, output still goes to clients' '
	mon_bundle nolog "\"echo\", \"unlogged\"" &&
	berth-monitor --runtime "$MON_RUNC" --runtime-arg=--root --runtime-arg="$MON_ROOT" \
		--id nolog --bundle "$TRASH/nolog" --state-dir "$TRASH/s-nolog" &&
	MPID_nolog=$(cat s-nolog/monitor.pid) &&
	mon-client s-nolog/attach attach out start read >out &&
	echo unlogged >expect &&
	cmp expect out &&
	mon_wait_exit nolog &&
	! test -e s-nolog/log.json &&
	mon_clean nolog
'

test_done
