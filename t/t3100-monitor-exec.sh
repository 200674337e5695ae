#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-monitor: exec mode; and containers under berth-runtime'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/mon-lib.sh"

test_have_prereq RUNC || skip_all 'needs root, /usr/sbin/runc and /bin/busybox'

# mon_exec NAME CONTAINER 'ARGS' [tty] [monitor args]: an exec monitor,
# state dir s-NAME, process file NAME.json; sets MPID_NAME
mon_exec() {
	_n=$1 _c=$2
	mon_process "$TRASH/$_n.json" "$3" "${4:-false}"
	if [ $# -ge 4 ]; then shift 4; else shift $#; fi
	berth-monitor --runtime "$MON_RUNC" --runtime-arg=--root --runtime-arg="$MON_ROOT" \
		--id "$_c" --exec "$TRASH/$_n.json" --state-dir "$TRASH/s-$_n" "$@"
	_rc=$?
	[ -f "$TRASH/s-$_n/monitor.pid" ] && eval "MPID_$_n=\$(cat \"\$TRASH/s-\$_n/monitor.pid\")"
	return $_rc
}

test_expect_success 'setup: a running container' '
	mon_rootfs &&
	mon_bundle box "\"sleep\", \"1000\"" &&
	mon_start box --auto-start &&
	BOX=$MPID
'

test_expect_success 'exec: ready, START, output, exit code; not in the container log' '
	mon_exec x1 box "\"sh\", \"-c\", \"echo in-exec; echo exec-err >&2; exit 5\"" false --sync-fd 3 3>sync-x1 &&
	grep "^{\"event\":\"ready\",\"monitor_pid\":$MPID_x1,\"monitor_starttime\":[1-9][0-9]*}$" sync-x1 &&
	test "$(grep -o "starttime\":[0-9]*" sync-x1 | cut -d: -f2)" = "$(sed -e "s/.*) //" /proc/$MPID_x1/stat | cut -d" " -f20)" &&
	mon-client s-x1/attach attach out,err,events start read >out 2>err 3>ev &&
	echo in-exec >expect && cmp expect out &&
	echo exec-err >expect && cmp expect err &&
	grep "\"event\":\"ready\"" ev &&
	grep "\"event\":\"started\"" ev &&
	grep "\"event\":\"exited\",.*\"exec\":true,.*\"exit_code\":5," ev &&
	test "$(mon_json x1 exit_code)" = 5 &&
	test "$(mon_json x1 exec)" = true &&
	mon_wait_exit x1 &&
	mon_clean x1 &&
	! grep in-exec s-box/log.json &&
	kill -0 "$BOX" &&
	mon_rt state box | grep "\"status\": \"running\""
'

test_expect_success 'exec of a missing executable: the error comes back' '
	test_must_fail mon_exec x2 box "\"nothere\"" false --auto-start 2>err &&
	grep "executable file not found" err &&
	mon_wait_exit x2 &&
	test "$(mon_json x2 stage)" = exec &&
	mon_json x2 error | grep "executable file not found" &&
	mon_clean x2 &&
	mon_rt state box | grep "\"status\": \"running\""
'

test_expect_success 'exec error after START goes to the attached client' '
	mon_exec x3 box "\"nothere\"" &&
	mon-client s-x3/attach attach out,events start read 3>ev &&
	grep "\"event\":\"error\",\"stage\":\"exec\",\"message\":\".*executable file not found" ev &&
	mon_wait_exit x3 &&
	mon_clean x3
'

test_expect_success 'exec with stdin: stdin-once EOF ends cat' '
	mon_exec x4 box "\"cat\"" false --stdin --stdin-once &&
	mon-client s-x4/attach attach out,in stdin "abc\n" start stdin "def\n" shut read >out &&
	printf "abc\ndef\n" >expect &&
	cmp expect out &&
	test "$(mon_json x4 exit_code)" = 0 &&
	mon_wait_exit x4 &&
	mon_clean x4
'

test_expect_success 'exec with a tty: consoleSize, then RESIZE while it runs' '
	MON_ROWS=33 MON_COLS=111 mon_exec x5 box "\"sh\", \"-c\", \"stty size; read l; stty size; echo tty-exec\"" true --tty --stdin &&
	mon-client s-x5/attach attach out start wait-output "33 111" resize 44 122 stdin "go\n" read >out &&
	printf "33 111\r\ngo\r\n44 122\r\ntty-exec\r\n" >expect &&
	cmp expect out &&
	mon_wait_exit x5 &&
	mon_clean x5
'

test_expect_success 'a background process holding stdout does not hold the end for long' '
	mon_exec x6 box "\"sh\", \"-c\", \"sleep 30 & echo bg\"" false &&
	mon-client -t 10 s-x6/attach attach out start read >out &&
	echo bg >expect &&
	cmp expect out &&
	test "$(mon_json x6 exit_code)" = 0 &&
	mon_wait_exit x6 &&
	mon_clean x6
'

test_expect_success 'stopping the container ends its monitor' '
	mon-client s-box/attach kill 9 &&
	mon_wait_exit box &&
	test "$(mon_json box exit_code)" = 137 &&
	mon_clean box
'

prereq_BERTH_RUNTIME() {
	test -x "$BERTH_BUILD_DIR/runtime/berth-runtime" &&
	"$BERTH_BUILD_DIR/runtime/berth-runtime" --version >/dev/null 2>&1
}

test_expect_success BERTH_RUNTIME 'berth-runtime: run, log, exit code, exec' '
	MON_RUNC="$BERTH_BUILD_DIR/runtime/berth-runtime" &&
	MON_ROOT="$TRASH/brt" &&
	test_atexit "for c in \$(\"$BERTH_BUILD_DIR/runtime/berth-runtime\" --root \"$TRASH/brt\" list -q 2>/dev/null); do \"$BERTH_BUILD_DIR/runtime/berth-runtime\" --root \"$TRASH/brt\" delete -f \$c; done" &&
	mon_bundle bbox "\"sh\", \"-c\", \"read l; echo brt-out-\$l; echo brt-err >&2; exit 7\"" &&
	mon_start bbox --stdin --stdin-once --auto-start &&
	mon_exec bx bbox "\"sh\", \"-c\", \"echo exec-in-brt\"" false &&
	mon-client s-bx/attach attach out start read >outx &&
	echo exec-in-brt >expect && cmp expect outx &&
	mon_wait_exit bx &&
	mon-client s-bbox/attach attach out,err,in stdin "go\n" shut read >out 2>err &&
	echo brt-out-go >expect && cmp expect out &&
	mon_wait_exit bbox &&
	test "$(mon_json bbox exit_code)" = 7 &&
	grep "\"log\":\"brt-err\\\\n\",\"stream\":\"stderr\"" s-bbox/log.json &&
	mon_clean bbox &&
	mon_clean bx
'

test_done
