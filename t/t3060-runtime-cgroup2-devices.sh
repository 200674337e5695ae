#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime: linux.resources.devices on cgroup v2 (eBPF device filter)'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

# The runtime picks v2 when /sys/fs/cgroup is a cgroup2 mount.  On a hybrid
# host (v1 controllers, an empty cgroup2 at /sys/fs/cgroup/unified) every
# runtime call here runs in a private mount namespace where /sys/fs/cgroup is
# the cgroup2 hierarchy: the device filter needs no controller enabled.
CG=/sys/fs/cgroup
if [ "$(stat -f -c %T $CG 2>/dev/null)" = cgroup2fs ]; then
	CG2=$CG
elif [ "$(stat -f -c %T $CG/unified 2>/dev/null)" = cgroup2fs ]; then
	CG2=$CG/unified
else
	CG2=
fi
prereq_CGROUP2() { test -n "$CG2"; }
# bpf(2) is there (CONFIG_BPF_SYSCALL); cgroup device programs come with cgroup2
prereq_BPF() { test -e /proc/sys/kernel/unprivileged_bpf_disabled; }
prereq_UNSHARE() { unshare -m true 2>/dev/null; }

test_have_prereq ROOT,BUSYBOX || skip_all 'needs root and busybox-static'
test_have_prereq CGROUP2,BPF,UNSHARE || skip_all 'needs a cgroup2 hierarchy, bpf(2) and unshare -m'

ID=t3060-$$
PARENT=t3060-$$
test_atexit "rmdir $CG2/$PARENT/* $CG2/$PARENT"

# v2 CMD...: the runtime with a cgroup2 /sys/fs/cgroup, in a private mount namespace
v2() {
	unshare -m sh -c '
		set -e
		if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
			mount --make-rprivate /
			umount -l /sys/fs/cgroup
			mount -t cgroup2 none /sys/fs/cgroup
		fi
		exec berth-runtime --root "$RT_STATE" "$@"' v2 "$@"
}

# v2_cleanup: delete -f every container, in the namespace where its cgroup is v2
v2_cleanup() {
	for _c in $(rt list -q 2>/dev/null); do
		v2 delete -f "$_c" >/dev/null 2>&1
	done
}
test_atexit v2_cleanup

# devs_config 'DEVICES-RULES' 'SCRIPT': the container runs sh -c SCRIPT
devs_config() {
	RT_CAPS='"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_MKNOD"' \
	RT_LINUX=", \"cgroupsPath\": \"/$PARENT/$ID\", \"resources\": { \"devices\": [ $1 ] }" \
	rt_config b "\"sh\", \"-c\", \"$2\""
}

# MAJ: a char major for local use (never allocated dynamically) that no
# driver holds here, so an open the filter allows fails with ENXIO and one it
# denies with EPERM.
MAJ=
for _m in 60 61 62 63 120 121 122 123 124 125 126 127; do
	sed -n '/^Character/,/^$/p' /proc/devices | grep -q "^ *$_m " || { MAJ=$_m; break; }
done
test -n "$MAJ" || skip_all 'every local-use char major has a driver'
PROBE="mknod /tmp/d0 c $MAJ 0 && mknod /tmp/d1 c $MAJ 1 && echo mknod-ok; "\
'for d in d0 d1; do cat /tmp/$d 2>&1; echo x 2>&1 >/tmp/$d; done; '\
'echo >/dev/null && head -c1 /dev/zero >/dev/null && echo null-ok'

test_expect_success 'setup' '
	rt_bundle b
'

test_expect_success 'deny all: a device outside the defaults cannot be opened; /dev/null can' '
	devs_config "{ \"allow\": false, \"access\": \"rwm\" }" "$PROBE" &&
	v2 run --bundle b $ID >out 2>&1 &&
	cat out &&
	grep "^mknod-ok$" out &&
	test "$(grep -c "/tmp/d[01].*Operation not permitted" out)" = 4 &&
	! grep "No such device" out &&
	grep "^null-ok$" out &&
	! test -d $CG2/$PARENT/$ID
'

test_expect_success 'allow rules: access is checked per kind (r allowed, w denied)' '
	devs_config "{ \"allow\": false, \"access\": \"rwm\" }, { \"allow\": true, \"type\": \"c\", \"major\": $MAJ, \"access\": \"r\" }" "$PROBE" &&
	v2 run --bundle b $ID >out 2>&1 &&
	cat out &&
	test "$(grep -c "cat: can.t open ./tmp/d[01].: No such device or address" out)" = 2 &&
	test "$(grep -c "/tmp/d[01]: Operation not permitted" out)" = 2 &&
	grep "^null-ok$" out
'

test_expect_success 'deny rules on an allow-all default: only what they name is denied' '
	devs_config "{ \"allow\": true, \"access\": \"rwm\" }, { \"allow\": false, \"type\": \"c\", \"major\": $MAJ, \"minor\": 0, \"access\": \"w\" }" "$PROBE" &&
	v2 run --bundle b $ID >out 2>&1 &&
	cat out &&
	grep "cat: can.t open ./tmp/d0.: No such device or address" out &&
	grep "/tmp/d0: Operation not permitted" out &&
	grep "cat: can.t open ./tmp/d1.: No such device or address" out &&
	grep "/tmp/d1: No such device or address" out &&
	test "$(grep -c "Operation not permitted" out)" = 1
'

test_expect_success 'later rules win: allow after deny, deny after allow' '
	devs_config "{ \"allow\": false, \"access\": \"rwm\" }, { \"allow\": true, \"type\": \"c\", \"major\": $MAJ, \"access\": \"rw\" }, { \"allow\": false, \"type\": \"c\", \"major\": $MAJ, \"minor\": 1, \"access\": \"rw\" }" "$PROBE" &&
	v2 run --bundle b $ID >out 2>&1 &&
	cat out &&
	test "$(grep -c "/tmp/d0.*No such device or address" out)" = 2 &&
	test "$(grep -c "/tmp/d1.*Operation not permitted" out)" = 2
'

test_expect_success 'read and write granted by separate rules allow an O_RDWR open' '
	devs_config "{ \"allow\": false, \"access\": \"rwm\" }, { \"allow\": true, \"type\": \"c\", \"major\": $MAJ, \"minor\": 0, \"access\": \"r\" }, { \"allow\": true, \"type\": \"c\", \"major\": $MAJ, \"access\": \"w\" }" \
		"mknod /tmp/d0 c $MAJ 0; mknod /tmp/d1 c $MAJ 1; true 3<>/tmp/d0; true 3<>/tmp/d1; true" &&
	v2 run --bundle b $ID >out 2>&1 &&
	cat out &&
	grep "/tmp/d0: No such device or address" out &&
	grep "/tmp/d1: Operation not permitted" out
'

test_expect_success 'update replaces the filter of a running container' '
	devs_config "{ \"allow\": false, \"access\": \"rwm\" }" "mknod /tmp/d0 c $MAJ 0; while :; do sleep 0.5; done" &&
	v2 create --bundle b $ID &&
	test_when_finished "v2 delete -f $ID" &&
	v2 start $ID &&
	wait_for 5 v2 exec $ID test -c /tmp/d0 &&
	{ v2 exec $ID cat /tmp/d0 >out 2>&1; true; } &&
	grep "Operation not permitted" out &&
	echo "{ \"devices\": [ { \"allow\": false, \"access\": \"rwm\" }, { \"allow\": true, \"type\": \"c\", \"major\": $MAJ, \"minor\": 0, \"access\": \"rw\" } ] }" >res.json &&
	v2 update --resources res.json $ID &&
	{ v2 exec $ID cat /tmp/d0 >out 2>&1; true; } &&
	cat out &&
	grep "No such device or address" out &&
	echo "{ \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] }" >res.json &&
	v2 update --resources res.json $ID &&
	{ v2 exec $ID cat /tmp/d0 >out 2>&1; true; } &&
	grep "Operation not permitted" out &&
	test -d $CG2/$PARENT/$ID &&
	v2 delete -f $ID &&
	! test -d $CG2/$PARENT/$ID
'

test_expect_success 'a bad rule fails create and leaves nothing behind' '
	devs_config "{ \"allow\": false, \"type\": \"c\", \"major\": $MAJ, \"access\": \"rwx\" }" "true" &&
	test_must_fail v2 create --bundle b $ID 2>err &&
	cat err &&
	grep "devices: invalid access" err &&
	test_must_fail rt state $ID &&
	! test -d $CG2/$PARENT/$ID &&
	devs_config "{ \"allow\": false, \"type\": \"q\" }" "true" &&
	test_must_fail v2 create --bundle b $ID 2>err &&
	grep "devices: invalid type" err &&
	! test -d $CG2/$PARENT/$ID
'

# many_rules N: deny all, then allow c MAJ:I rwm and deny b (300+I):I rw for I
# in 1..N (2N + 1 rules; with the 12 default devices the limit is 1024).  The
# distinct majors are what made the verifier give up on a naive program.
many_rules() {
	_r="{ \"allow\": false, \"access\": \"rwm\" }"
	_i=1
	while [ $_i -le "$1" ]; do
		_r="$_r, { \"allow\": true, \"type\": \"c\", \"major\": $MAJ, \"minor\": $_i, \"access\": \"rwm\" }, { \"allow\": false, \"type\": \"b\", \"major\": $((300 + _i)), \"minor\": $_i, \"access\": \"rw\" }"
		_i=$((_i + 1))
	done
	printf '%s' "$_r"
}

test_expect_success 'long rule lists: a large filter works; too many rules are refused' '
	devs_config "$(many_rules 505)" "$PROBE" &&
	v2 run --bundle b $ID >out 2>&1 &&
	cat out &&
	test "$(grep -c "/tmp/d0.*Operation not permitted" out)" = 2 &&
	test "$(grep -c "/tmp/d1.*No such device or address" out)" = 2 &&
	devs_config "$(many_rules 507)" "true" &&
	test_must_fail v2 create --bundle b $ID 2>err &&
	grep "devices: more than 1024 rules" err &&
	! test -d $CG2/$PARENT/$ID
'

test_expect_success 'without device rules no filter is attached' '
	RT_CAPS="\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_MKNOD\"" \
	RT_LINUX=", \"cgroupsPath\": \"/$PARENT/$ID\"" rt_config b "\"sh\", \"-c\", \"$PROBE\"" &&
	v2 run --bundle b $ID >out 2>&1 &&
	cat out &&
	test "$(grep -c "No such device or address" out)" = 4
'

test_done
