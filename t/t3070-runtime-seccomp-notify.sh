#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime: SCMP_ACT_NOTIFY, the listener fd sent to linux.seccomp.listenerPath'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

# seccomp user notification (SECCOMP_FILTER_FLAG_NEW_LISTENER): Linux 5.0
prereq_NOTIFY() {
	[ "$(uname -r | sed 's/\..*//')" -ge 5 ]
}
test_have_prereq ROOT,BUSYBOX,SECCOMP || skip_all 'needs root, busybox-static and seccomp'
test_have_prereq NOTIFY || skip_all 'needs Linux 5.0 for seccomp user notification'
command -v rt-notify >/dev/null || skip_all 'needs t/helper/rt-notify (make check builds it)'

ID=t3070-$$
EXDEV_MSG='Invalid cross-device link'

# notify_config 'SCRIPT' [LISTENER]: mkdir and mkdirat go to the agent
notify_config() {
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"${2-$TRASH/l18.sock}\",
	  \"listenerMetadata\": \"meta-t3070\",
	  \"syscalls\": [ { \"names\": [ \"mkdir\", \"mkdirat\" ], \"action\": \"SCMP_ACT_NOTIFY\" } ] }" \
	rt_config b "\"sh\", \"-c\", \"$1\""
}

# agent ERRNO: start rt-notify on $TRASH/lERRNO.sock, logging to $TRASH/lERRNO.log
agent() {
	rt-notify "$TRASH/l$1.sock" "$TRASH/l$1.log" "$1" 2>>"$TRASH/agent.err" &
	eval "AGENT_$1=$!"
	test_atexit "kill $! 2>/dev/null"
	wait_for 5 test -S "$TRASH/l$1.sock"
}

test_expect_success 'setup: bundle and two agents (EXDEV, success)' '
	rt_bundle b &&
	agent 18 &&
	agent 0
'

test_expect_success 'the agent answers for the container (filter loaded last, noNewPrivileges)' '
	notify_config "mkdir /tmp/n1; test -d /tmp/n1 || echo absent; echo done" &&
	rt create --bundle b $ID >out 2>&1 &&
	test_when_finished "rt delete -f $ID" &&
	pid=$(rt state $ID | berth-test-tool json-get pid) &&
	grep -c "^state " l18.log >count &&
	test "$(cat count)" = 1 &&
	rt start $ID &&
	rt_wait_status $ID stopped &&
	cat out &&
	grep "$EXDEV_MSG" out && grep "^absent$" out && grep "^done$" out &&
	grep "^notify mkdir" l18.log &&
	grep "^state " l18.log | sed "s/^state //" >state.json &&
	test "$(berth-test-tool json-get ociVersion <state.json)" = 1.2.0 &&
	test "$(berth-test-tool json-get "fds[0]" <state.json)" = seccompFd &&
	test "$(berth-test-tool json-len fds <state.json)" = 1 &&
	test "$(berth-test-tool json-get pid <state.json)" = "$pid" &&
	test "$(berth-test-tool json-get metadata <state.json)" = meta-t3070 &&
	test "$(berth-test-tool json-get state.id <state.json)" = $ID &&
	test "$(berth-test-tool json-get state.status <state.json)" = creating &&
	test "$(berth-test-tool json-get state.pid <state.json)" = "$pid" &&
	test "$(berth-test-tool json-get state.bundle <state.json)" = "$TRASH/b" &&
	! grep "not closed\|no fd" l18.log
'

test_expect_success 'an agent answering success: mkdir "works", nothing is made (filter loaded early)' '
	notify_config "mkdir /tmp/n2 && echo made; test -d /tmp/n2 || echo absent; grep NoNewPrivs /proc/self/status" "$TRASH/l0.sock" &&
	sed -i "s/\"noNewPrivileges\": true/\"noNewPrivileges\": false/" b/config.json &&
	rt run --bundle b $ID >out 2>&1 &&
	cat out &&
	grep "^made$" out && grep "^absent$" out && grep "NoNewPrivs:.*0" out &&
	grep "^notify mkdir" l0.log
'

test_expect_success 'exec: the new process gets its own listener fd' '
	notify_config "while :; do sleep 0.5; done" &&
	rt create --bundle b $ID &&
	test_when_finished "rt delete -f $ID" &&
	rt start $ID &&
	before=$(grep -c "^state " l18.log) &&
	test_must_fail rt exec $ID mkdir /tmp/e1 2>err &&
	cat err &&
	grep "$EXDEV_MSG" err &&
	test "$(grep -c "^state " l18.log)" = $((before + 1)) &&
	grep "^state " l18.log | tail -n 1 | sed "s/^state //" >state.json &&
	test "$(berth-test-tool json-get state.status <state.json)" = running &&
	test "$(berth-test-tool json-get state.id <state.json)" = $ID &&
	rt exec $ID sh -c "test -d /tmp/e1 || echo absent" >out &&
	grep "^absent$" out
'

test_expect_success 'bad notify configs fail create and leave nothing behind' '
	notify_config "true" "$TRASH/nobody.sock" &&
	test_must_fail rt create --bundle b $ID 2>err &&
	cat err &&
	grep "connect to listenerPath.*nobody.sock" err &&
	test_must_fail rt state $ID &&
	! test -d /sys/fs/cgroup/pids/berth-runtime/$ID &&
	! test -d /sys/fs/cgroup/berth-runtime/$ID &&
	notify_config "true" "" &&
	test_must_fail rt create --bundle b $ID 2>err &&
	grep "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath" err &&
	test_must_fail rt state $ID &&
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"$TRASH/l18.sock\" }" \
	rt_config b "\"true\"" &&
	test_must_fail rt create --bundle b $ID 2>err &&
	grep "cannot be the default action" err &&
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$TRASH/l18.sock\",
	  \"syscalls\": [ { \"names\": [ \"sendmsg\" ], \"action\": \"SCMP_ACT_NOTIFY\" } ] }" \
	rt_config b "\"true\"" &&
	test_must_fail rt create --bundle b $ID 2>err &&
	grep "cannot be used for sendmsg" err &&
	test_must_fail rt state $ID
'

test_expect_success 'features lists SCMP_ACT_NOTIFY; the agents saw no stray connection' '
	rt features >features.json &&
	grep "\"SCMP_ACT_NOTIFY\"" features.json &&
	! grep "not closed\|no fd" l18.log l0.log
'

test_done
