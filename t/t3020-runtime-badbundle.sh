#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime: bad bundles fail with exit 1, a message, and nothing left behind'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

test_have_prereq ROOT,BUSYBOX || skip_all 'needs root and busybox-static'
ID=t3020-$$

# expect_bad ID PATTERN: create fails with status 1, stderr matches, no state, no cgroup
expect_bad() {
	rt create --bundle b "$1" >out 2>err
	_rc=$?
	test $_rc = 1 || { echo "exit $_rc, want 1" >&2; return 1; }
	grep -i -- "$2" err || { cat err >&2; return 1; }
	! test -e "$RT_STATE/$1" &&
	! test -e "/sys/fs/cgroup/memory/berth-runtime/$1" &&
	! test -e "/sys/fs/cgroup/pids/berth-runtime/$1" &&
	! grep -q "$TRASH/b/rootfs" /proc/self/mountinfo
}

test_expect_success 'setup' '
	rt_bundle b
'

test_expect_success 'missing config.json' '
	expect_bad $ID-1 "config.json"
'

test_expect_success 'malformed JSON' '
	echo "{ \"ociVersion\": " >b/config.json &&
	expect_bad $ID-2 "invalid JSON"
'

test_expect_success 'unknown namespace type' '
	RT_NS="{ \"type\": \"pid\" }, { \"type\": \"bogus\" }" rt_config b "\"true\"" &&
	expect_bad $ID-3 "unknown namespace type .bogus."
'

test_expect_success 'bind mount source that does not exist' '
	RT_MOUNTS=", { \"destination\": \"/x\", \"type\": \"bind\", \"source\": \"/nonexistent-$$\", \"options\": [\"bind\"] }" rt_config b "\"true\"" &&
	expect_bad $ID-4 "nonexistent-$$"
'

test_expect_success 'rootfs path escaping the bundle' '
	RT_ROOT="\"path\": \"../..\"" rt_config b "\"true\"" &&
	expect_bad $ID-5 "escapes the bundle"
'

test_expect_success 'missing rootfs' '
	RT_ROOT="\"path\": \"nope\"" rt_config b "\"true\"" &&
	expect_bad $ID-6 "rootfs"
'

test_expect_success 'invalid container ids' '
	rt_config b "\"true\"" &&
	bad= &&
	for id in ../x "a/b" "" ".."; do
		test_must_fail rt create --bundle b "$id" 2>err &&
		grep "invalid container id" err || { bad=1; break; }
	done &&
	test -z "$bad" &&
	! test -e "$RT_STATE/../x"
'

test_expect_success 'executable not found fails at create' '
	rt_config b "\"/no/such/binary\"" &&
	expect_bad $ID-7 "no/such/binary" &&
	rt_config b "\"nosuchcmd\"" &&
	expect_bad $ID-8 "executable file not found"
'

test_expect_success 'bad cwd fails at create' '
	RT_CWD=/does/not/exist rt_config b "\"true\"" &&
	expect_bad $ID-9 "cwd"
'

test_expect_success 'mount failure in the container cleans up' '
	RT_MOUNTS=", { \"destination\": \"/m\", \"type\": \"nosuchfs\", \"source\": \"x\" }" rt_config b "\"true\"" &&
	expect_bad $ID-10 "nosuchfs"
'

test_expect_success 'terminal without --console-socket' '
	RT_PROCESS=", \"terminal\": true" rt_config b "\"true\"" &&
	sed -i "s/\"terminal\": false,//" b/config.json &&
	expect_bad $ID-11 "console socket"
'

test_expect_success 'unknown seccomp action and missing process' '
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_BOGUS\" }" rt_config b "\"true\"" &&
	expect_bad $ID-12 "SCMP_ACT_BOGUS" &&
	echo "{ \"ociVersion\": \"1.0.2\", \"root\": { \"path\": \"rootfs\" } }" >b/config.json &&
	expect_bad $ID-13 "process"
'

test_done
