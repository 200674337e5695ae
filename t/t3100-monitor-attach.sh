#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-monitor: attach socket, stdin, stdin-once, tty over the console socket'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/mon-lib.sh"

test_have_prereq RUNC || skip_all 'needs root, /usr/sbin/runc and /bin/busybox'

test_expect_success 'setup: rootfs' '
	mon_rootfs
'

test_expect_success 'attach while running: output in frames, stdin in, half-close is EOF' '
	mon_bundle echo "\"sh\", \"-c\", \"echo ready; while read l; do echo got-\$l; echo e-\$l >&2; done; echo bye\"" &&
	mon_start echo --stdin --stdin-once &&
	mon-client s-echo/attach attach out,err,in,events start wait-output "ready\n" \
		stdin "one\ntwo\n" wait-output "got-two" shut read >out 2>err 3>ev &&
	printf "ready\ngot-one\ngot-two\nbye\n" >expect &&
	test_cmp_out() { cmp "$1" "$2" || { cat "$2"; return 1; }; } &&
	test_cmp_out expect out &&
	printf "e-one\ne-two\n" >expect-err &&
	test_cmp_out expect-err err &&
	grep "\"event\":\"started\"" ev &&
	grep "\"event\":\"exited\".*\"exit_code\":0," ev &&
	mon_wait_exit echo &&
	grep "\"log\":\"got-two\\\\n\",\"stream\":\"stdout\"" s-echo/log.json &&
	grep "\"log\":\"e-one\\\\n\",\"stream\":\"stderr\"" s-echo/log.json &&
	mon_clean echo
'

test_expect_success 'attach before START sees the first byte; stdin sent before start is kept' '
	mon_bundle early "\"sh\", \"-c\", \"echo first; read l; echo got-\$l\"" &&
	mon_start early --stdin --stdin-once &&
	mon-client s-early/attach attach out,in stdin "early\n" stdin-eof start read >out &&
	printf "first\ngot-early\n" >expect &&
	cmp expect out &&
	mon_wait_exit early &&
	mon_clean early
'

test_expect_success 'two clients get the same output; a client without flags gets none' '
	mon_bundle two "\"sh\", \"-c\", \"read l; echo line-\$l; read l; echo line-\$l\"" &&
	mon_start two --auto-start --stdin &&
	{ mon-client s-two/attach attach out,events read >out1 3>ev1 & p1=$!; } &&
	{ mon-client s-two/attach attach out,events read >out2 3>ev2 & p2=$!; } &&
	{ mon-client s-two/attach attach events read >out3 3>ev3 & p3=$!; } &&
	wait_for 5 grep -q started ev1 &&
	wait_for 5 grep -q started ev2 &&
	wait_for 5 grep -q started ev3 &&
	mon-client s-two/attach stdin "a\n" stdin-eof &&
	mon-client s-two/attach stdin "b\n" &&
	wait $p1 && wait $p2 && wait $p3 &&
	printf "line-a\nline-b\n" >expect &&
	cmp expect out1 && cmp expect out2 && ! test -s out3 &&
	grep exited ev3 &&
	mon_wait_exit two &&
	mon_clean two
'

test_expect_success 'without stdin-once a client EOF leaves stdin open; CLOSE_STDIN closes it' '
	mon_bundle open "\"sh\", \"-c\", \"while read l; do echo got-\$l; done; echo eof\"" &&
	mon_start open --auto-start --stdin &&
	mon-client s-open/attach attach out,in stdin "x\n" wait-output "got-x" shut &&
	mon-client s-open/attach attach out,in stdin "y\n" wait-output "got-y" close-stdin read >out &&
	printf "got-y\neof\n" >expect &&
	cmp expect out &&
	mon_wait_exit open &&
	test "$(mon_json open exit_code)" = 0 &&
	mon_clean open
'

test_expect_success 'no --stdin: the process reads /dev/null' '
	mon_bundle nostdin "\"sh\", \"-c\", \"cat; echo done-\$?\"" &&
	mon_start nostdin &&
	mon-client s-nostdin/attach attach out stdin "ignored\n" start read >out &&
	echo done-0 >expect &&
	cmp expect out &&
	mon_wait_exit nostdin &&
	mon_clean nostdin
'

test_expect_success 'a client that does not read holds the output back, nothing is lost' '
	mon_bundle flood "\"sh\", \"-c\", \"i=0; while [ \$i -lt 6000 ]; do echo line-\$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=\$((i+1)); done\"" &&
	mon_start flood &&
	{ mon-client s-flood/attach attach out,events wait-event created pause 1500 >/dev/null 3>evslow & p=$!; } &&
	wait_for 5 grep -q created evslow &&
	mon-client -t 60 s-flood/attach attach out start read >out &&
	wait $p &&
	grep -c "^line-" out >n && test "$(cat n)" = 6000 &&
	mon_wait_exit flood &&
	test "$(grep -c "^{\"log\":\"line-" s-flood/log.json)" = 6000 &&
	mon_clean flood
'

test_expect_success 'a client that never reads cannot keep the exit status back' '
	mon_bundle stuck "\"sh\", \"-c\", \"yes | head -c 2000000 & sleep 0.5; exit 4\"" &&
	mon_start stuck &&
	{ mon-client -t 30 s-stuck/attach attach out,events wait-event created pause 13000 >/dev/null 3>evstuck & p=$!; } &&
	test_when_finished "kill $p 2>/dev/null" &&
	wait_for 5 grep -q created evstuck &&
	mon-client s-stuck/attach start &&
	wait_for 20 _mon_ended stuck &&
	test "$(mon_json stuck exit_code)" = 4 &&
	mon_clean stuck
'

test_expect_success 'tty: the pty comes over the console socket, RESIZE before START' '
	mon_bundle tty "\"sh\", \"-c\", \"stty size; tty; echo tty-out; echo tty-err >&2\"" true &&
	mon_start tty --tty &&
	! test -e s-tty/console.sock &&
	mon-client s-tty/attach attach out,err,events resize 30 100 start read >out 2>err 3>ev &&
	printf "30 100\r\n/dev/pts/0\r\ntty-out\r\ntty-err\r\n" >expect &&
	cmp expect out &&
	! test -s err &&
	mon_wait_exit tty &&
	grep "^{\"log\":\"tty-err\\\\r\\\\n\",\"stream\":\"stdout\"" s-tty/log.json &&
	! grep stderr s-tty/log.json &&
	mon_clean tty
'

test_expect_success 'tty with stdin: raw in and out, resize while running' '
	mon_bundle ttyin "\"sh\", \"-c\", \"read l; stty size; echo got-\$l\"" true &&
	mon_start ttyin --tty --stdin --auto-start &&
	mon-client s-ttyin/attach resize 40 120 &&
	mon-client s-ttyin/attach attach out,rawout,rawin raw "hello\n" read >out &&
	grep "^hello" out &&
	grep "^40 120" out &&
	grep "^got-hello" out &&
	mon_wait_exit ttyin &&
	mon_clean ttyin
'

test_expect_success 'bad frames close the connection, the monitor goes on' '
	mon_bundle bad "\"sh\", \"-c\", \"read l; echo ok-\$l\"" &&
	mon_start bad --auto-start --stdin &&
	mon-client s-bad/attach bytes ff00000000000000 read &&
	mon-client s-bad/attach bytes 1200000000000400 read &&
	mon-client s-bad/attach bytes 1200000000000001ff read &&
	kill -0 "$MPID" &&
	mon-client s-bad/attach attach out stdin "z\n" read >out &&
	echo ok-z >expect &&
	cmp expect out &&
	mon_wait_exit bad &&
	mon_clean bad
'

test_done
