#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime: seccomp profiles through libseccomp'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

test_have_prereq ROOT,BUSYBOX,SECCOMP || skip_all 'needs root, busybox-static and seccomp'
ID=t3030-$$

test_expect_success 'setup' '
	rt_bundle b
'

test_expect_success 'errno actions with errnoRet, default errno, unknown names skipped' '
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [ \"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\" ],
	  \"syscalls\": [
	    { \"names\": [ \"mkdir\", \"mkdirat\", \"no_such_syscall_xyz\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 28 },
	    { \"names\": [ \"fchmodat\", \"chmod\", \"fchmodat2\" ], \"action\": \"SCMP_ACT_ERRNO\" } ] }" \
	rt_config b "\"sh\", \"-c\", \"grep ^Seccomp: /proc/self/status; mkdir /tmp/d; chmod 700 /tmp; echo end\"" &&
	rt run --bundle b $ID-1 >out 2>err &&
	grep "Seccomp:.*2" out && grep "^end$" out &&
	grep "No space left on device" err &&
	grep "Operation not permitted" err
'

test_expect_success 'argument conditions' '
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\",
	  \"syscalls\": [ { \"names\": [ \"personality\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,
	    \"args\": [ { \"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\" } ] } ] }" \
	rt_config b "\"sh\", \"-c\", \"uname -m; setarch linux32 true 2>/dev/null && echo p8ok || echo p8denied; setarch linux32 -R true 2>/dev/null; echo done\"" &&
	rt run --bundle b $ID-2 >out 2>err &&
	grep "^x86_64$" out && grep "^done$" out
'

test_expect_success 'SCMP_ACT_KILL_PROCESS kills with SIGSYS' '
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\",
	  \"syscalls\": [ { \"names\": [ \"uname\" ], \"action\": \"SCMP_ACT_KILL_PROCESS\" } ] }" \
	rt_config b "\"uname\"" &&
	{ rt run --bundle b $ID-4 >out 2>err; rc=$?; } &&
	test $rc = 159
'

test_expect_success 'flags are accepted; seccomp without no_new_privs' '
	RT_PROCESS=", \"noNewPrivileges\": false" &&
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [ \"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\" ],
	  \"syscalls\": [ { \"names\": [ \"mkdirat\", \"mkdir\" ], \"action\": \"SCMP_ACT_ERRNO\" } ] }" &&
	export RT_LINUX && test_when_finished "unset RT_LINUX" &&
	rt_config b "\"sh\", \"-c\", \"grep Seccomp: /proc/self/status; grep NoNewPrivs: /proc/self/status; mkdir /tmp/d2 || echo denied\"" &&
	sed -i "s/\"noNewPrivileges\": true/\"noNewPrivileges\": false/" b/config.json &&
	rt run --bundle b $ID-5 >out 2>&1 &&
	grep "NoNewPrivs:.*0" out && grep "Seccomp:.*2" out && grep "^denied$" out
'

test_expect_success 'default action errno with an allow list (docker style)' '
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,
	  \"syscalls\": [ { \"names\": [ \"read\", \"write\", \"exit_group\", \"execve\", \"brk\", \"mmap\", \"arch_prctl\",
	     \"set_tid_address\", \"getuid\", \"getpid\", \"rt_sigaction\", \"rt_sigprocmask\", \"close\", \"fstat\", \"newfstatat\",
	     \"ioctl\", \"getppid\", \"geteuid\", \"open\", \"openat\", \"prlimit64\", \"uname\", \"exit\", \"fcntl\", \"dup2\", \"getcwd\", \"mprotect\", \"writev\", \"munmap\", \"exit\" ],
	     \"action\": \"SCMP_ACT_ALLOW\" } ] }" \
	rt_config b "\"echo\", \"allowed\"" &&
	rt run --bundle b $ID-6 >out 2>err &&
	grep "^allowed$" out
'

test_expect_success 'compiled filters are cached per profile; a bad cache file is never used' '
	RT_LINUX=", \"seccomp\": { \"defaultAction\": \"SCMP_ACT_ALLOW\",
	  \"syscalls\": [ { \"names\": [ \"mkdir\", \"mkdirat\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 28 } ] }" \
	rt_config b "\"sh\", \"-c\", \"mkdir /tmp/d; echo end\"" &&
	rm -rf "$RT_STATE/seccomp-cache" &&
	rt run --bundle b $ID-7 >out 2>err &&
	grep "No space left on device" err &&
	test "$(ls "$RT_STATE/seccomp-cache" | wc -l)" = 1 &&
	f=$(ls "$RT_STATE/seccomp-cache"/*.bpf) &&
	rt run --bundle b $ID-8 >out 2>err &&
	grep "No space left on device" err &&
	printf "BSC1 garbage" >"$f" &&
	rt run --bundle b $ID-9 >out 2>err &&
	grep "No space left on device" err &&
	test "$(head -c 4 "$f")" = BSC1 &&
	test "$(wc -c <"$f")" -gt 100 &&
	dd if=/dev/zero of="$f" bs=1 count=64 seek=300 conv=notrunc 2>/dev/null &&
	rt run --bundle b $ID-10 >out 2>err &&
	grep "No space left on device" err &&
	grep "^end$" out
'

test_done
