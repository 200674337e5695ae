#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime: namespaces, rootfs, mounts, devices, process attributes'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

test_have_prereq ROOT,BUSYBOX || skip_all 'needs root and busybox-static'
ID=t3010-$$

# crun CMD: run sh -c CMD in bundle b, output in out
crun_sh() {
	rt_config b "\"sh\", \"-c\", \"$1\"" && rt run --bundle b $ID-x >out 2>err
}

test_expect_success 'setup' '
	rt_bundle b && mkdir -p hostdir && echo hostfile >hostdir/f
'

test_expect_success 'uts, pid namespaces; hostname and domainname' '
	RT_TOP=", \"domainname\": \"example.org\"" crun_sh "hostname; cat /proc/sys/kernel/domainname; echo pid=\$\$" &&
	grep "^berth-test$" out && grep "^example.org$" out && grep "^pid=1$" out
'

test_expect_success 'network namespace has only lo; ipc and mount are private' '
	crun_sh "ls /sys/class/net; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/mnt" &&
	grep "^lo$" out && test $(grep -c . out) = 4 &&
	! grep "$(readlink /proc/self/ns/net)" out &&
	! grep "$(readlink /proc/self/ns/ipc)" out &&
	! grep "$(readlink /proc/self/ns/mnt)" out
'

test_expect_success 'proc, sysfs read-only, devpts, tmpfs /dev with options' '
	crun_sh "grep -E \\\" /(proc|sys|dev|dev/pts|dev/shm) \\\" /proc/self/mountinfo" &&
	grep " /proc .* - proc " out &&
	grep " /sys ro,.* - sysfs " out &&
	grep " /dev rw,nosuid.* - tmpfs .*mode=755" out &&
	grep " /dev/shm .*nosuid,nodev,noexec.* - tmpfs " out &&
	grep " /dev/pts .* - devpts " out
'

test_expect_success 'bind mounts in order, read-only bind, tmpfs with data' '
	RT_MOUNTS=", { \"destination\": \"/data\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=1m\", \"mode=700\"] },
	  { \"destination\": \"/data/host\", \"type\": \"bind\", \"source\": \"$TRASH/hostdir\", \"options\": [\"rbind\", \"ro\"] },
	  { \"destination\": \"/etc/f\", \"type\": \"bind\", \"source\": \"$TRASH/hostdir/f\", \"options\": [\"bind\"] }" \
	crun_sh "cat /data/host/f /etc/f; stat -c %a /data; touch /data/host/new 2>&1 || echo rofail; grep \\\" /data\\\" /proc/self/mountinfo" &&
	test "$(grep -c hostfile out)" = 2 &&
	grep "^700$" out && grep "^rofail$" out &&
	grep " /data/host ro," out &&
	! test -e hostdir/new
'

test_expect_success 'mount destination through a symlink stays inside the rootfs' '
	ln -s / b/rootfs/evil &&
	test_when_finished "rm -f b/rootfs/evil; rmdir b/rootfs/escape-$$ 2>/dev/null" &&
	RT_MOUNTS=", { \"destination\": \"/evil/escape-$$\", \"type\": \"tmpfs\", \"source\": \"tmpfs\" }" \
	crun_sh "grep escape /proc/self/mountinfo" &&
	grep " /escape-$$ " out &&
	! test -e /escape-$$ &&
	test -d b/rootfs/escape-$$
'

test_expect_success 'readonly root, masked and readonly paths' '
	RT_ROOT="\"path\": \"rootfs\", \"readonly\": true" \
	crun_sh "touch /x 2>/dev/null || echo rootro; wc -c </proc/keys; ls /sys/firmware | wc -l; echo 1 >/proc/sys/kernel/ns_last_pid 2>/dev/null || echo sysro; touch /dev/ok && echo devrw" &&
	grep "^rootro$" out && grep "^sysro$" out && grep "^devrw$" out &&
	test "$(sed -n 2p out)" = 0 && test "$(sed -n 3p out)" = 0
'

test_expect_success 'default devices, linux.devices, /dev symlinks' '
	RT_LINUX=", \"devices\": [ { \"path\": \"/dev/mydev\", \"type\": \"c\", \"major\": 1, \"minor\": 5, \"fileMode\": 438, \"uid\": 7, \"gid\": 8 } ]" \
	crun_sh "stat -c \\\"%n %t %T %a %u %g\\\" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/mydev; readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx; head -c 4 /dev/mydev | wc -c" &&
	grep "^/dev/null 1 3 666 0 0$" out && grep "^/dev/tty 5 0 666" out &&
	grep "^/dev/mydev 1 5 666 7 8$" out &&
	grep "^/proc/self/fd$" out && grep "^/proc/self/fd/0$" out && grep "^pts/ptmx$" out &&
	grep "^4$" out
'

test_expect_success 'user, groups, umask, cwd, env' '
	RT_USER="\"uid\": 1000, \"gid\": 1001, \"umask\": 63, \"additionalGids\": [ 10, 20 ]" \
	RT_CWD=/tmp RT_ENV="\"PATH=/bin\", \"FOO=bar baz\"" \
	crun_sh "id -u; id -g; id -G; umask; pwd; echo \$FOO" &&
	test "$(sed -n 1p out)" = 1000 && test "$(sed -n 2p out)" = 1001 &&
	test "$(sed -n 3p out)" = "1001 10 20" && test "$(sed -n 4p out)" = 0077 &&
	test "$(sed -n 5p out)" = /tmp && test "$(sed -n 6p out)" = "bar baz"
'

test_expect_success 'capabilities, no_new_privs, rlimits, oom_score_adj' '
	RT_CAPS="\"CAP_CHOWN\", \"CAP_KILL\"" RT_PROCESS=", \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"soft\": 100, \"hard\": 200 } ], \"oomScoreAdj\": 123" \
	crun_sh "grep -E \\\"^(CapEff|CapBnd|CapPrm|NoNewPrivs)\\\" /proc/self/status; ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj" &&
	grep "^CapEff:.*0000000000000021$" out && grep "^CapBnd:.*0000000000000021$" out &&
	grep "^NoNewPrivs:.*1$" out &&
	grep "^100$" out && grep "^200$" out && grep "^123$" out
'

test_expect_success 'a hard rlimit above ours is clamped, not an error' '
	RT_PROCESS=", \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"soft\": 99999999, \"hard\": 99999999 } ]" \
	crun_sh "ulimit -Hn" &&
	test "$(cat out)" = "$(ulimit -Hn)"
'

test_expect_success 'sysctl in the ipc and network namespaces' '
	RT_LINUX=", \"sysctl\": { \"kernel.msgmax\": \"4242\", \"net.ipv4.ip_forward\": \"1\" }" \
	crun_sh "cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_forward" &&
	grep "^4242$" out && grep "^1$" out
'

test_expect_success 'personality LINUX32' '
	RT_LINUX=", \"personality\": { \"domain\": \"LINUX32\" }" crun_sh "uname -m" &&
	grep "^i.86$" out
'

test_expect_success 'cgroup namespace' '
	RT_NS="$RT_DEFAULT_NS, { \"type\": \"cgroup\" }" crun_sh "cat /proc/self/cgroup" &&
	grep ":memory:/$" out
'

test_expect_success USERNS 'user namespace with mappings' '
	chmod 755 "$TRASH" &&
	RT_NS="$RT_DEFAULT_NS, { \"type\": \"user\" }" \
	RT_LINUX=", \"uidMappings\": [ { \"containerID\": 0, \"hostID\": 100000, \"size\": 65536 } ], \"gidMappings\": [ { \"containerID\": 0, \"hostID\": 100000, \"size\": 65536 } ]" \
	crun_sh "cat /proc/self/uid_map /proc/self/gid_map; id -u; ls -l /dev/null" &&
	grep "^ *0 *100000 *65536$" out && grep "^0$" out &&
	grep "/dev/null" out
'

test_expect_success 'join a network namespace by path' '
	rt_config b "\"sleep\", \"60\"" &&
	rt run -d --bundle b $ID-net &&
	test_when_finished "rt delete -f $ID-net" &&
	pid=$(rt state $ID-net | berth-test-tool json-get pid) &&
	RT_NS="{ \"type\": \"pid\" }, { \"type\": \"mount\" }, { \"type\": \"uts\" }, { \"type\": \"network\", \"path\": \"/proc/$pid/ns/net\" }" \
	crun_sh "readlink /proc/self/ns/net; echo \$\$" &&
	test "$(sed -n 1p out)" = "$(readlink /proc/$pid/ns/net)" &&
	test "$(sed -n 2p out)" = 1
'

test_expect_success '--no-pivot' '
	rt_config b "\"sh\", \"-c\", \"ls /bin/busybox; cat /proc/self/mountinfo | wc -l\"" &&
	rt run --no-pivot --bundle b $ID-np >out &&
	grep "^/bin/busybox$" out
'

test_expect_success 'relative root.path escaping the bundle is refused' '
	RT_ROOT="\"path\": \"../..\"" rt_config b "\"true\"" &&
	test_must_fail rt run --bundle b $ID-esc 2>err &&
	grep -i "rootfs" err && ! test -d "$RT_STATE/$ID-esc"
'

test_expect_success 'no runtime fd leaks into the container; --preserve-fds passes fd 3' '
	echo passed-fd >pf &&
	rt_config b "\"sh\", \"-c\", \"ls /proc/self/fd | tr \\\"\\\\n\\\" \\\" \\\"; echo; cat <&3\"" &&
	rt run --preserve-fds 1 --bundle b $ID-fd 3<pf >out &&
	test "$(sed -n 1p out)" = "0 1 2 3 4 " &&
	grep "^passed-fd$" out &&
	rt_config b "\"sh\", \"-c\", \"ls /proc/self/fd | tr \\\"\\\\n\\\" \\\" \\\"\"" &&
	rt run --bundle b $ID-fd 3<pf >out &&
	test "$(cat out)" = "0 1 2 3 "
'

test_expect_success 'rootfsPropagation shared and private are applied to the new root' '
	RT_LINUX=", \"rootfsPropagation\": \"shared\"" crun_sh "head -n 1 /proc/self/mountinfo" &&
	grep "shared:" out &&
	RT_LINUX=", \"rootfsPropagation\": \"rprivate\"" crun_sh "head -n 1 /proc/self/mountinfo" &&
	! grep "shared:\|master:" out
'

test_done
