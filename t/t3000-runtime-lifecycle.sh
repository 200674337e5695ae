#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime: create/start/state/kill/delete, run, exit codes, errors'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

test_have_prereq ROOT,BUSYBOX || skip_all 'needs root and busybox-static'
ID=t3000-$$
rt_two_pids() { rt ps --format json "$1" | grep -q ,; }

test_expect_success 'version, features and spec' '
	berth-runtime --version >out &&
	head -n 1 out | grep "^runc version " &&
	berth-runtime features >feat &&
	berth-test-tool json-get ociVersionMax <feat &&
	grep "\"CAP_SYS_ADMIN\"" feat && grep "SCMP_ACT_ERRNO" feat &&
	mkdir sp && berth-runtime spec --bundle sp &&
	berth-test-tool json-get ociVersion <sp/config.json &&
	test_must_fail berth-runtime spec --bundle sp 2>err &&
	grep "exists" err
'

test_expect_success 'setup bundle' '
	rt_bundle b && rt_config b "\"sh\", \"-c\", \"echo out; echo err >&2; exit 7\""
'

test_expect_success 'run: output and exit code of the process, nothing left' '
	test_expect_code=0 &&
	{ rt run --bundle b $ID-run >out 2>err; rc=$?; } &&
	test $rc = 7 &&
	grep "^out$" out && grep "^err$" err &&
	test_must_fail rt state $ID-run 2>err &&
	grep "container does not exist" err &&
	! test -d /sys/fs/cgroup/memory/berth-runtime/$ID-run
'

test_expect_success 'create parks the process; pid file; state created' '
	rt_config b "\"sh\", \"-c\", \"echo started >/tmp/flag; sleep 60\"" &&
	rt create --bundle b --pid-file pid $ID-a &&
	test -s pid &&
	pid=$(cat pid) &&
	rt state $ID-a >st &&
	test "$(berth-test-tool json-get status <st)" = created &&
	test "$(berth-test-tool json-get pid <st)" = "$pid" &&
	test "$(berth-test-tool json-get id <st)" = "$ID-a" &&
	test "$(berth-test-tool json-get bundle <st)" = "$(cd b && pwd)" &&
	! test -e b/rootfs/tmp/flag &&
	rt list | grep "$ID-a.*created"
'

test_expect_success 'start runs it; second start fails' '
	rt start $ID-a &&
	rt_wait_status $ID-a running &&
	wait_for 5 test -e b/rootfs/tmp/flag &&
	test_must_fail rt start $ID-a 2>err &&
	grep "cannot start an already running container" err
'

test_expect_success 'delete of a running container fails without --force' '
	test_must_fail rt delete $ID-a 2>err &&
	grep "is not stopped: running" err
'

test_expect_success 'kill by name; state stopped; kill again says not running' '
	rt kill $ID-a KILL &&
	rt_wait_status $ID-a stopped &&
	test "$(rt state $ID-a | berth-test-tool json-get pid)" = 0 &&
	test_must_fail rt kill $ID-a 9 2>err &&
	grep "container not running" err &&
	test_must_fail rt start $ID-a 2>err &&
	grep "stopped" err &&
	rt delete $ID-a &&
	test_must_fail rt state $ID-a
'

test_expect_success 'kill accepts SIGTERM, TERM and 15' '
	rt_config b "\"sh\", \"-c\", \"trap \\\"exit 0\\\" TERM; while :; do sleep 0.05; done\"" &&
	bad= &&
	for s in SIGTERM TERM 15; do
		rt create --bundle b $ID-k && rt start $ID-k &&
		wait_for 5 rt_two_pids $ID-k &&
		rt kill $ID-k $s && rt_wait_status $ID-k stopped && rt delete $ID-k || { echo "failed with $s"; bad=1; break; }
	done && test -z "${bad:-}"
'

test_expect_success 'delete --force kills a running container and removes its cgroup' '
	rt_config b "\"sleep\", \"60\"" &&
	rt create --bundle b $ID-f && rt start $ID-f &&
	cg=$(sed -n "s/.*\"memory\":\"\([^\"]*\)\".*/\1/p" "$RT_STATE/$ID-f/state.json") &&
	test -d "$cg" &&
	rt delete --force $ID-f &&
	! test -d "$cg" &&
	test_must_fail rt state $ID-f
'

test_expect_success 'delete of a created container' '
	rt create --bundle b $ID-c &&
	rt delete $ID-c &&
	test_must_fail rt state $ID-c &&
	! test -d "$RT_STATE/$ID-c"
'

test_expect_success 'delete --force of a missing container succeeds' '
	rt delete --force $ID-none &&
	test_must_fail rt delete $ID-none 2>err &&
	grep "does not exist" err
'

test_expect_success 'pause and resume' '
	rt_config b "\"sleep\", \"60\"" &&
	rt create --bundle b $ID-p && rt start $ID-p &&
	rt pause $ID-p &&
	test "$(rt state $ID-p | berth-test-tool json-get status)" = paused &&
	test_must_fail rt pause $ID-p &&
	rt resume $ID-p &&
	test "$(rt state $ID-p | berth-test-tool json-get status)" = running &&
	test_must_fail rt resume $ID-p 2>err && grep "not paused" err &&
	rt delete -f $ID-p
'

test_expect_success 'ps lists the container processes' '
	rt create --bundle b $ID-ps && rt start $ID-ps &&
	rt ps --format json $ID-ps >ps &&
	grep "\[[0-9][0-9]*\]" ps &&
	rt ps $ID-ps >pst && grep "PID" pst && grep "sleep" pst &&
	rt delete -f $ID-ps
'

test_expect_success 'duplicate id and invalid ids are refused' '
	rt create --bundle b $ID-d &&
	test_must_fail rt create --bundle b $ID-d 2>err &&
	grep "exists" err &&
	rt delete -f $ID-d &&
	test_must_fail rt create --bundle b ../x 2>err &&
	grep "invalid container id" err &&
	! test -e "$RT_STATE/../x"
'

test_expect_success '--log --log-format json records errors as containerd reads them' '
	test_must_fail rt --log log.json --log-format json state nosuch 2>err &&
	grep "does not exist" err &&
	grep "\"level\":\"error\"" log.json &&
	grep "\"msg\":\"container does not exist\"" log.json &&
	grep "\"time\":" log.json
'

test_expect_success 'run --detach returns; exit of the process makes it stopped' '
	rt_config b "\"sh\", \"-c\", \"sleep 0.2\"" &&
	rt run -d --bundle b $ID-det &&
	rt_wait_status $ID-det stopped &&
	rt delete $ID-det
'

test_done
