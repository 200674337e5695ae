#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-monitor: create/start, exit codes, errors, status file, detaching'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/mon-lib.sh"

test_have_prereq RUNC || skip_all 'needs root, /usr/sbin/runc and /bin/busybox'

TIME_RE='"time":"20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\.[0-9]*[1-9])?Z"}$'

test_expect_success 'setup: rootfs' '
	mon_rootfs
'

test_expect_success 'exit 0: output in the log with its streams and times' '
	mon_bundle ok "\"sh\", \"-c\", \"$(mon_gate ok)echo out1; echo err1 >&2; echo out2\"" &&
	mon_start ok --auto-start &&
	test -n "$MPID" &&
	mon_open ok &&
	mon_wait_exit ok &&
	test "$(mon_json ok exit_code)" = 0 &&
	test "$(mon_json ok signal)" = 0 &&
	test "$(mon_json ok error)" = "" &&
	grep -c . s-ok/log.json >n && test "$(cat n)" = 3 &&
	grep "^{\"log\":\"out1\\\\n\",\"stream\":\"stdout\",\"time\":\"" s-ok/log.json &&
	grep "^{\"log\":\"err1\\\\n\",\"stream\":\"stderr\",\"time\":\"" s-ok/log.json &&
	grep "^{\"log\":\"out2\\\\n\",\"stream\":\"stdout\"" s-ok/log.json &&
	grep -E "$TIME_RE" s-ok/log.json >timed && test "$(grep -c . timed)" = 3 &&
	mon_clean ok
'

test_expect_success 'status file: times, pid, oom flag, fsynced json' '
	test "$(mon_json ok exec)" = false &&
	test "$(mon_json ok pid)" = "$(cat s-ok/container.pid)" &&
	test "$(mon_json ok oom_killed)" = false &&
	mon_json ok started_at | grep -E "^20[0-9-]+T[0-9:]+\.[0-9]{9}Z$" &&
	mon_json ok finished_at | grep -E "^20[0-9-]+T[0-9:]+\.[0-9]{9}Z$" &&
	test "$(mon_json ok finished_at)" ">" "$(mon_json ok started_at)" &&
	grep "\"started_at_ns\":[1-9][0-9]\{18\},\"finished_at_ns\":[1-9][0-9]\{18\}," s-ok/exit.json &&
	! ls s-ok/exit.json.tmp* 2>/dev/null
'

test_expect_success 'exit 3, and the sync fd reports created, started, exited' '
	mon_bundle three "\"sh\", \"-c\", \"$(mon_gate three)exit 3\"" &&
	mon_start three --auto-start --sync-fd 3 3>sync-three &&
	test -n "$MPID" &&
	mon_open three &&
	mon_wait_exit three &&
	test "$(mon_json three exit_code)" = 3 &&
	sed -n 1p sync-three | grep "^{\"event\":\"created\",\"pid\":[0-9]*,\"monitor_pid\":$MPID,\"monitor_starttime\":[1-9][0-9]*}$" &&
	sed -n 2p sync-three | grep "^{\"event\":\"started\",\"pid\":" &&
	sed -n 3p sync-three | grep "^{\"event\":\"exited\",.*\"exit_code\":3," &&
	test "$(grep -c . sync-three)" = 3 &&
	mon_clean three
'

test_expect_success 'SIGKILL gives 137 and signal 9' '
	mon_bundle killed "\"sleep\", \"1000\"" &&
	mon_start killed --auto-start &&
	kill -9 "$(cat s-killed/container.pid)" &&
	mon_wait_exit killed &&
	test "$(mon_json killed exit_code)" = 137 &&
	test "$(mon_json killed signal)" = 9 &&
	mon_clean killed
'

test_expect_success 'KILL over the socket' '
	mon_bundle sockkill "\"sleep\", \"1000\"" &&
	mon_start sockkill --auto-start &&
	mon-client s-sockkill/attach kill 15 kill 9 &&
	mon_wait_exit sockkill &&
	test "$(mon_json sockkill exit_code)" = 137 &&
	mon_clean sockkill
'

test_expect_success 'missing executable: create fails with the runtime text' '
	mon_bundle missing "\"nothere\"" &&
	test_must_fail mon_start missing --auto-start --sync-fd 3 2>err 3>sync-missing &&
	grep "executable file not found" err &&
	grep "\"event\":\"error\",\"stage\":\"create\",\"message\":\".*executable file not found" sync-missing &&
	mon_wait_exit missing &&
	test "$(mon_json missing exit_code)" = -1 &&
	test "$(mon_json missing stage)" = create &&
	mon_json missing error | grep "exec: \"nothere\": executable file not found in \$PATH" &&
	! test -s s-missing/log.json &&
	mon_clean missing
'

test_expect_success 'a second create of a running id fails and leaves it alone' '
	mon_bundle dup "\"sleep\", \"1000\"" &&
	mon_start dup --auto-start &&
	test_must_fail berth-monitor --runtime "$MON_RUNC" --runtime-arg=--root --runtime-arg="$MON_ROOT" \
		--id dup --bundle "$TRASH/dup" --state-dir "$TRASH/s-dup2" --auto-start 2>err &&
	grep "already exists" err &&
	mon_rt state dup | grep "\"status\": \"running\"" &&
	mon_alive "$MPID" &&
	mon-client s-dup/attach kill 9 &&
	mon_wait_exit dup &&
	mon_clean dup
'

test_expect_success 'waiting for START: created first, started by a message' '
	mon_bundle waits "\"sh\", \"-c\", \"echo started-late\"" &&
	mon_start waits &&
	mon_rt state waits | grep "\"status\": \"created\"" &&
	! test -s s-waits/log.json &&
	mon-client s-waits/attach attach out,events start wait-event exited read >out 3>ev &&
	grep -x started-late out &&
	grep "\"event\":\"created\"" ev &&
	grep "\"event\":\"started\"" ev &&
	grep "\"event\":\"exited\"" ev &&
	mon_wait_exit waits &&
	grep started-late s-waits/log.json &&
	mon_clean waits
'

test_expect_success 'SIGTERM before START aborts and deletes the container' '
	mon_bundle abort "\"true\"" &&
	mon_start abort &&
	kill -TERM "$MPID" &&
	mon_wait_exit abort &&
	test "$(mon_json abort stage)" = abort &&
	mon_clean abort
'

test_expect_success 'the monitor is detached: own session and group, no fds of ours' '
	mon_bundle detached "\"sh\", \"-c\", \"ls /proc/self/fd; sleep 1000\"" &&
	exec 7>keep-open &&
	mon_start detached --auto-start &&
	exec 7>&- &&
	test "$(ps -o sid= -p "$MPID" | tr -d " ")" != "$(ps -o sid= -p $$ | tr -d " ")" &&
	test "$(ps -o pgid= -p "$MPID" | tr -d " ")" != "$(ps -o pgid= -p $$ | tr -d " ")" &&
	! ls -l /proc/$MPID/fd | grep keep-open &&
	ign=$(sed -n "s/^SigIgn:[[:space:]]*//p" /proc/$MPID/status) &&
	test $((0x$ign & 0x1001)) = $((0x1001)) &&
	test "$(ps -o ppid= -p "$(cat s-detached/container.pid)" | tr -d " ")" = "$MPID" &&
	wait_for 5 grep -q "\"log\":\"2\\\\n\"" s-detached/log.json &&
	! grep "\"log\":\"4\\\\n\"" s-detached/log.json &&
	mon-client s-detached/attach kill 9 &&
	mon_wait_exit detached &&
	mon_clean detached
'

test_expect_success 'the monitor outlives the shell that started it; logs keep growing' '
	mon_bundle orphan "\"sh\", \"-c\", \"while true; do echo tick; sleep 0.05; done\"" &&
	sh -c "berth-monitor --runtime \"$MON_RUNC\" --runtime-arg=--root --runtime-arg=\"$MON_ROOT\" \
		--id orphan --bundle \"$TRASH/orphan\" --state-dir \"$TRASH/s-orphan\" \
		--log-path \"$TRASH/s-orphan/log.json\" --auto-start & echo \$! >starter; wait; exit 0" &&
	! kill -0 "$(cat starter)" 2>/dev/null &&
	MPID_orphan=$(cat s-orphan/monitor.pid) &&
	kill -0 "$MPID_orphan" &&
	wait_for 10 grep -q tick s-orphan/log.json &&
	n1=$(mon_log_lines orphan) &&
	wait_for 10 mon_log_more orphan $((n1 + 3)) &&
	kill -0 "$(cat s-orphan/container.pid)" &&
	mon-client s-orphan/attach kill 9 &&
	mon_wait_exit orphan &&
	test "$(mon_json orphan exit_code)" = 137 &&
	mon_clean orphan
'

test_expect_success 'OOM kill is flagged' '
	MON_RES="\"memory\": { \"limit\": 16777216, \"swap\": 16777216 }" \
		mon_bundle oom "\"sh\", \"-c\", \"x=\$(yes | head -c 64000000); echo \${#x}\"" &&
	mon_start oom --auto-start &&
	mon_wait_exit oom &&
	test "$(mon_json oom exit_code)" = 137 &&
	if test "$(mon_json oom oom_checked)" = true
	then
		test "$(mon_json oom oom_killed)" = true
	else
		say "no memory cgroup counter: OOM flag not checked"
	fi &&
	mon_clean oom
'

test_expect_success 'bad command lines exit 2' '
	test_expect_code() { "$@"; test $? = 2; } &&
	test_expect_code berth-monitor --id x --state-dir s-bad --bundle b 2>err &&
	grep "required" err &&
	test_expect_code berth-monitor --runtime "$MON_RUNC" --id x --state-dir s-bad 2>err &&
	test_expect_code berth-monitor --runtime "$MON_RUNC" --id x --state-dir s-bad --bundle b --log-max-size 0 2>err &&
	test_expect_code berth-monitor --runtime "$MON_RUNC" --id x --state-dir "/$(printf "%0120d" 0)" --bundle b 2>err &&
	grep "too long" err
'

test_done
