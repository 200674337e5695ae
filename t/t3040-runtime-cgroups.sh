#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime: cgroup limits (v1 here, v2 where unified), update, cgroupsPath, cgroup mount'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

test_have_prereq ROOT,BUSYBOX || skip_all 'needs root and busybox-static'
ID=t3040-$$
CG=/sys/fs/cgroup
if [ "$(stat -f -c %T $CG)" = cgroup2fs ]; then V2=1; else V2=; fi
test_atexit "rmdir $CG/*/t3040-$$ $CG/t3040-$$ 2>/dev/null"

# cgfile CTRL FILE: the container's cgroup file on the host
cgfile() {
	if [ -n "$V2" ]; then
		cat "$CG/t3040-$$/$ID/$2"
	else
		cat "$CG/$1/t3040-$$/$ID/$2"
	fi
}

test_expect_success 'setup' '
	rt_bundle b
'

test_expect_success 'resources are applied before the process runs' '
	RT_LINUX=", \"cgroupsPath\": \"/t3040-$$/$ID\", \"resources\": {
	   \"memory\": { \"limit\": 67108864, \"reservation\": 33554432 },
	   \"cpu\": { \"shares\": 512, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0\" },
	   \"pids\": { \"limit\": 42 } }" \
	rt_config b "\"sleep\", \"60\"" &&
	rt create --bundle b $ID &&
	test_when_finished "rt delete -f $ID" &&
	pid=$(rt state $ID | berth-test-tool json-get pid) &&
	if [ -n "$V2" ]; then
		test "$(cgfile memory memory.max)" = 67108864 &&
		test "$(cgfile pids pids.max)" = 42 &&
		test "$(cgfile cpu cpu.max)" = "50000 100000"
	else
		test "$(cgfile memory memory.limit_in_bytes)" = 67108864 &&
		test "$(cgfile memory memory.soft_limit_in_bytes)" = 33554432 &&
		test "$(cgfile cpu cpu.shares)" = 512 &&
		test "$(cgfile cpu cpu.cfs_quota_us)" = 50000 &&
		test "$(cgfile cpuset cpuset.cpus)" = 0 &&
		test "$(cgfile pids pids.max)" = 42 &&
		grep "^$pid$" $CG/memory/t3040-$$/$ID/cgroup.procs &&
		grep "^$pid$" $CG/pids/t3040-$$/$ID/cgroup.procs
	fi
'

test_expect_success 'memory.kernelTCP (v1, where the kernel still has kmem.tcp)' '
	test -z "$V2" && test -f $CG/memory/memory.kmem.tcp.limit_in_bytes || { say "no kmem.tcp: skipped"; return 0; }
	RT_LINUX=", \"cgroupsPath\": \"/t3040-$$/$ID\", \"resources\": { \"memory\": { \"kernelTCP\": 16777216 } }" \
	rt_config b "\"true\"" &&
	rt create --bundle b $ID &&
	test_when_finished "rt delete -f $ID" &&
	test "$(cgfile memory memory.kmem.tcp.limit_in_bytes)" = 16777216
'

test_expect_success 'update changes limits of a running container' '
	rt create --bundle b $ID && rt start $ID &&
	test_when_finished "rt delete -f $ID" &&
	echo "{ \"memory\": { \"limit\": 134217728 }, \"pids\": { \"limit\": 100 } }" >res.json &&
	rt update --resources res.json $ID &&
	rt update --pids-limit 77 $ID &&
	if [ -n "$V2" ]; then
		test "$(cgfile memory memory.max)" = 134217728
	else
		test "$(cgfile memory memory.limit_in_bytes)" = 134217728
	fi &&
	test "$(cgfile pids pids.max)" = 77
'

test_expect_success 'the process sees its limits through the cgroup mount' '
	RT_MOUNTS=", { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [ \"ro\", \"nosuid\", \"nodev\", \"noexec\" ] }" \
	RT_LINUX=", \"cgroupsPath\": \"/t3040-$$/$ID\", \"resources\": { \"pids\": { \"limit\": 33 }, \"memory\": { \"limit\": 50331648 } }" \
	rt_config b "\"sh\", \"-c\", \"cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; grep -c . /proc/self/cgroup; echo x >/sys/fs/cgroup/pids/pids.max 2>/dev/null || echo ro\"" &&
	rt run --bundle b $ID >out &&
	grep "^33$" out && grep "^50331648$" out && grep "^ro$" out
'

test_expect_success 'pids limit is enforced' '
	RT_LINUX=", \"cgroupsPath\": \"/t3040-$$/$ID\", \"resources\": { \"pids\": { \"limit\": 3 } }" \
	rt_config b "\"sh\", \"-c\", \"for i in 1 2 3 4 5; do sleep 5 & done 2>&1; echo spawned\"" &&
	rt run --bundle b $ID >out 2>&1;
	grep -i "fork\|resource\|again" out
'

test_expect_success 'device rules: denied devices cannot be opened' '
	RT_LINUX=", \"cgroupsPath\": \"/t3040-$$/$ID\", \"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" }, { \"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 5, \"access\": \"rwm\" } ] }, \"devices\": [ { \"path\": \"/dev/kmsg\", \"type\": \"c\", \"major\": 1, \"minor\": 11, \"fileMode\": 420 } ]" \
	rt_config b "\"sh\", \"-c\", \"head -c1 /dev/kmsg >/dev/null 2>&1 || echo kmsg-denied; echo >/dev/null && echo null-ok\"" &&
	rt run --bundle b $ID >out 2>&1 &&
	grep "^kmsg-denied$" out && grep "^null-ok$" out
'

test_expect_success 'relative cgroupsPath nests under our own cgroup; default path' '
	RT_LINUX=", \"cgroupsPath\": \"t3040-$$-rel\"" rt_config b "\"cat\", \"/proc/self/cgroup\"" &&
	rt run --bundle b $ID >out &&
	grep "pids:.*/t3040-$$-rel$" out &&
	rt_config b "\"cat\", \"/proc/self/cgroup\"" &&
	rt run --bundle b $ID >out &&
	grep "pids:/berth-runtime/$ID$" out &&
	# init moved itself into every v1 hierarchy (the unified one is left alone)
	test $(grep -c "^[0-9]*:[^:]\{1,\}:/berth-runtime/$ID$" out) -ge 8 &&
	! grep -v -e "/berth-runtime/$ID$" -e "^0::" out &&
	! test -d $CG/pids/t3040-$$-rel
'

test_expect_success 'systemd-style cgroupsPath is mapped to a path' '
	RT_LINUX=", \"cgroupsPath\": \"t3040-$$.slice:berth:$ID\"" rt_config b "\"cat\", \"/proc/self/cgroup\"" &&
	rt --systemd-cgroup run --bundle b $ID >out &&
	grep "pids:/t3040-$$.slice/berth-$ID.scope$" out &&
	rmdir $CG/*/t3040-$$.slice 2>/dev/null; true
'

test_expect_success 'cgroup v2: run, pause through cgroup.freeze, delete (private unified mount)' '
	test "$(stat -f -c %T $CG/unified 2>/dev/null)" = cgroup2fs || { say "no unified hierarchy: skipped"; return 0; }
	chmod 755 "$TRASH" &&
	rt_config b "\"sh\", \"-c\", \"cat /proc/self/cgroup; sleep 30\"" &&
	cat >v2.sh <<-EOF &&
	set -e
	mount --make-rprivate /
	umount -l /sys/fs/cgroup
	mount -t cgroup2 none /sys/fs/cgroup
	R="berth-runtime --root $RT_STATE"
	\$R create --bundle b $ID-v2
	\$R start $ID-v2
	\$R pause $ID-v2
	\$R state $ID-v2 >v2state
	cat /sys/fs/cgroup/t3040-v2-$$/$ID-v2/cgroup.freeze >v2freeze
	\$R resume $ID-v2
	\$R delete -f $ID-v2
	test ! -d /sys/fs/cgroup/t3040-v2-$$/$ID-v2
	rmdir /sys/fs/cgroup/t3040-v2-$$
	EOF
	sed -i "s|\"linux\": {|\"linux\": { \"cgroupsPath\": \"/t3040-v2-$$/$ID-v2\",|" b/config.json &&
	test_when_finished "rmdir $CG/unified/t3040-v2-$$/$ID-v2 $CG/unified/t3040-v2-$$" &&
	unshare -m sh v2.sh &&
	grep "\"status\":.*\"paused\"" v2state &&
	test "$(cat v2freeze)" = 1
'

test_done
