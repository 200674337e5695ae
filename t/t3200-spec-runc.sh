#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='spec: generated OCI configs run under runc with Docker defaults'
. "$(dirname "$0")/test-lib.sh"

# SPEC_RUNTIME: the runc-compatible binary (t3201 runs this file with
# berth-runtime); default Debian's runc.
: "${SPEC_RUNTIME:=runc}"
prereq_RUNC() { command -v "$SPEC_RUNTIME" >/dev/null 2>&1; }
runc() { command "$SPEC_RUNTIME" "$@"; }
prereq_CGV1() { [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ]; }

GEN="$BERTH_BUILD_DIR/t/unit/u-spec"
RUNC_ROOT="$TRASH/runc"
CGP="berth-t3200-$$"
B="$TRASH/b"
N=0

# Every container is deleted, then the private cgroup parent in every
# hierarchy, even when a test failed half-way.
spec_cleanup() {
	for _c in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
		runc --root "$RUNC_ROOT" kill "$_c" KILL 2>/dev/null
		runc --root "$RUNC_ROOT" delete -f "$_c" 2>/dev/null
	done
	for _d in /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/"$CGP"; do
		[ -d "$_d" ] || continue
		find "$_d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
}
test_atexit 'spec_cleanup'

# spec_run NAME 'BODY-JSON' 'SHELL SCRIPT': the script goes to /t.sh in the
# rootfs; generate config.json from the create body, run it in the foreground
# with runc; prints what the container wrote.
spec_run() {
	N=$((N + 1))
	_id="t3200-$$-$N"
	printf '%s\n' "$2" >"$TRASH/$1.json" &&
	mkdir -p "$TRASH/$1.files" &&
	printf '%s\n' "$3" >"$B/rootfs/t.sh" &&
	"$GEN" gen "$TRASH/$1.json" "$B/rootfs" "$_id" "/$CGP" "$TRASH/$1.files" >"$B/config.json" &&
	timeout 60 runc --root "$RUNC_ROOT" run -b "$B" "$_id" </dev/null >"$TRASH/$1.out" 2>"$TRASH/$1.err"
	_rc=$?
	runc --root "$RUNC_ROOT" delete -f "$_id" >/dev/null 2>&1
	cat "$TRASH/$1.out" "$TRASH/$1.err"
	return $_rc
}

test_expect_success ROOT,BUSYBOX,RUNC 'setup: busybox rootfs with users' '
	mkdir -p "$B/rootfs/bin" "$B/rootfs/etc" "$B/rootfs/proc" "$B/rootfs/sys" "$B/rootfs/dev" \
		"$B/rootfs/tmp" "$B/rootfs/run" "$B/rootfs/mnt" "$B/rootfs/data" "$TRASH/data" &&
	cp /bin/busybox "$B/rootfs/bin/busybox" &&
	for a in $(/bin/busybox --list); do
		[ -e "$B/rootfs/bin/$a" ] || ln -s busybox "$B/rootfs/bin/$a" || return 1
	done &&
	printf "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" \
		>"$B/rootfs/etc/passwd" &&
	printf "root:x:0:\nnogroup:x:65534:\n" >"$B/rootfs/etc/group" &&
	echo hostdata >"$TRASH/data/f" &&
	chmod 1777 "$B/rootfs/tmp"
'

test_expect_success ROOT,BUSYBOX,RUNC 'docker run defaults: 14 caps, seccomp, masked paths, shm' '
	spec_run def "{\"Cmd\":[\"sh\",\"/t.sh\"],\"HostConfig\":{\"NetworkMode\":\"default\"}}" \
		"grep -E \"^(CapEff|CapBnd|NoNewPrivs|Seccomp):\" /proc/self/status; echo host=\$(hostname); echo uid=\$(id -u); echo home=\$HOME; echo cwd=\$(pwd); echo keys=\$(wc -c </proc/keys); cat /proc/mounts; mount -t tmpfs t /mnt && echo MOUNTED; unshare -U true && echo UNSHARED; echo end" \
		>out &&
	grep "^CapEff:	00000000a80425fb" out &&
	grep "^CapBnd:	00000000a80425fb" out &&
	grep "^NoNewPrivs:	0" out &&
	grep "^Seccomp:	2" out &&
	grep "^host=$(printf %.12s "t3200-$$-$N")\$" out &&
	grep "^uid=0" out &&
	grep "^home=/root" out &&
	grep "^cwd=/$" out &&
	grep "^keys=0" out &&
	grep "^tmpfs /proc/keys " out &&
	grep "^shm /dev/shm tmpfs .*size=65536k" out &&
	grep "^proc /proc/sys proc ro," out &&
	grep "^sysfs /sys sysfs ro," out &&
	! grep MOUNTED out &&
	! grep UNSHARED out &&
	grep "^end" out
'

test_expect_success ROOT,BUSYBOX,RUNC,CGV1 'options: user, nnp, env, workdir, ulimit, limits, read-only' '
	spec_run opts "{\"Hostname\":\"web\",\"User\":\"nobody\",\"Env\":[\"FOO=bar baz\"],\"WorkingDir\":\"/tmp\",\"Cmd\":[\"sh\",\"/t.sh\"],\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges\"],\"Memory\":67108864,\"PidsLimit\":50,\"NanoCpus\":500000000,\"ShmSize\":1048576,\"ReadonlyRootfs\":true,\"Tmpfs\":{\"/run\":\"size=2m\"},\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":100,\"Hard\":200}],\"Binds\":[\"$TRASH/data:/data:ro\"]}}" \
		"grep -E \"^(CapEff|NoNewPrivs|Seccomp):\" /proc/self/status; echo host=\$(hostname); echo uid=\$(id -u) gid=\$(id -g); echo foo=\$FOO; echo cwd=\$(pwd); echo nofile=\$(ulimit -n):\$(ulimit -Hn); echo mem=\$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo pids=\$(cat /sys/fs/cgroup/pids/pids.max); echo quota=\$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us); echo data=\$(cat /data/f); cat /proc/mounts; touch /rootfile && echo ROOTWRITE; touch /data/g && echo DATAWRITE; echo end" \
		>out &&
	grep "^CapEff:	0000000000000000" out &&
	grep "^NoNewPrivs:	1" out &&
	grep "^Seccomp:	2" out &&
	grep "^host=web" out &&
	grep "^uid=65534 gid=65534" out &&
	grep "^foo=bar baz" out &&
	grep "^cwd=/tmp" out &&
	grep "^nofile=100:200" out &&
	grep "^mem=67108864" out &&
	grep "^pids=50" out &&
	grep "^quota=50000" out &&
	grep "^data=hostdata" out &&
	grep "^shm /dev/shm tmpfs .*size=1024k" out &&
	grep "^tmpfs /run tmpfs .*size=2048k" out &&
	! grep ROOTWRITE out &&
	! grep DATAWRITE out &&
	grep "^end" out &&
	test ! -e "$TRASH/data/g"
'

test_expect_success ROOT,BUSYBOX,RUNC 'privileged: all caps, no seccomp, /sys writable' '
	spec_run priv "{\"Cmd\":[\"sh\",\"/t.sh\"],\"HostConfig\":{\"Privileged\":true}}" \
		"grep -E \"^(CapEff|CapBnd|Seccomp):\" /proc/self/status; cat /proc/mounts; mount -t tmpfs t /mnt && echo MOUNTED; echo end" \
		>out &&
	bnd=$(sed -n "s/^CapBnd:	//p" /proc/self/status) &&
	grep "^CapEff:	$bnd" out &&
	grep "^Seccomp:	0" out &&
	grep "^sysfs /sys sysfs rw," out &&
	grep MOUNTED out
'

test_expect_success ROOT,BUSYBOX,RUNC 'seccomp=unconfined and cap-add SYS_ADMIN' '
	spec_run unconf "{\"Cmd\":[\"sh\",\"/t.sh\"],\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\"],\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"CHOWN\"]}}" \
		"grep -E \"^(CapEff|Seccomp):\" /proc/self/status; echo end" >out &&
	grep "^Seccomp:	0" out &&
	grep "^CapEff:	0000000000000001" out &&
	spec_run sysadm "{\"Cmd\":[\"sh\",\"/t.sh\"],\"HostConfig\":{\"CapAdd\":[\"SYS_ADMIN\"]}}" \
		"grep -E \"^Seccomp:\" /proc/self/status; mount -t tmpfs t /mnt && echo MOUNTED; echo end" >out2 &&
	grep "^Seccomp:	2" out2 &&
	grep MOUNTED out2
'

test_expect_success ROOT,BUSYBOX,RUNC 'a custom seccomp profile (seccomp=FILE contents)' '
	spec_run prof "{\"Cmd\":[\"sh\",\"/t.sh\"],\"HostConfig\":{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"syscalls\\\":[{\\\"names\\\":[\\\"mkdir\\\",\\\"mkdirat\\\"],\\\"action\\\":\\\"SCMP_ACT_ERRNO\\\"}]}\"]}}" \
		"mkdir /tmp/d && echo MKDIR; touch /tmp/f && echo TOUCH; echo end" >out &&
	! grep MKDIR out &&
	grep TOUCH out
'

test_expect_success ROOT,BUSYBOX,RUNC 'a failing container leaves nothing behind' '
	test_must_fail spec_run bad "{\"Cmd\":[\"/nonexistent\"]}" "" &&
	test -z "$(runc --root "$RUNC_ROOT" list -q 2>/dev/null)" &&
	! ls -d /sys/fs/cgroup/*/"$CGP"/t3200-* 2>/dev/null &&
	! grep -F "$TRASH" /proc/self/mountinfo
'

test_expect_success ROOT,RUNC 'no containers, cgroups or mounts left' '
	test -z "$(runc --root "$RUNC_ROOT" list -q 2>/dev/null)" &&
	! ls -d /sys/fs/cgroup/*/"$CGP"/t3200-* 2>/dev/null &&
	! grep -F "$TRASH" /proc/self/mountinfo
'

test_done
