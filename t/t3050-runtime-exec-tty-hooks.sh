#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='berth-runtime: exec, terminals over --console-socket, hooks'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/helper/rt-lib.sh"

test_have_prereq ROOT,BUSYBOX || skip_all 'needs root and busybox-static'
ID=t3050-$$

test_expect_success 'setup: a running container' '
	rt_bundle b &&
	rt_config b "\"sleep\", \"120\"" &&
	rt run -d --bundle b $ID &&
	rt_wait_status $ID running
'

test_expect_success 'exec -- CMD runs in the namespaces with the exit code' '
	{ rt exec $ID sh -c "echo \$\$ >/dev/null; hostname; readlink /proc/self/ns/pid; exit 5" >out; rc=$?; } &&
	test $rc = 5 &&
	grep "^berth-test$" out &&
	pid=$(rt state $ID | berth-test-tool json-get pid) &&
	test "$(sed -n 2p out)" = "$(readlink /proc/$pid/ns/pid)"
'

test_expect_success 'exec --env --cwd --user' '
	rt exec --env FOO=bar --cwd /tmp --user 1000:1000 $ID sh -c "echo \$FOO; pwd; id -u; id -g" >out &&
	test "$(cat out | tr "\n" " ")" = "bar /tmp 1000 1000 "
'

test_expect_success 'exec --process process.json, --detach --pid-file' '
	cat >proc.json <<-\JSON &&
	{ "terminal": false, "user": { "uid": 0, "gid": 0 }, "args": [ "sh", "-c", "echo fromjson >/tmp/pj; sleep 30" ],
	  "env": [ "PATH=/bin" ], "cwd": "/" }
	JSON
	rt exec --process proc.json --detach --pid-file epid $ID &&
	test -s epid && test "$(cat epid)" -gt 1 &&
	kill -0 $(cat epid) &&
	wait_for 5 test -s b/rootfs/tmp/pj &&
	grep fromjson b/rootfs/tmp/pj &&
	rt ps --format json $ID | grep "$(cat epid)" &&
	kill $(cat epid)
'

test_expect_success 'exec joins the cgroup and keeps the capabilities of the config' '
	rt exec $ID sh -c "cat /proc/self/cgroup; grep CapEff /proc/self/status" >out &&
	grep "pids:/berth-runtime/$ID$" out &&
	test $(grep -c "^[0-9]*:[^:]\{1,\}:/berth-runtime/$ID$" out) -ge 8 &&
	! grep -v -e "/berth-runtime/$ID$" -e "^0::" -e CapEff out &&
	grep "CapEff:.*0000000020000420$" out
'

test_expect_success 'exec into a missing or stopped container fails' '
	test_must_fail rt exec $ID-none true 2>err &&
	grep "does not exist" err
'

test_expect_success 'terminal: pty master sent to the console socket' '
	RT_PROCESS=", \"terminal\": true" rt_config b "\"sh\", \"-c\", \"tty; test -t 0 && echo isatty; ls -l /dev/console | grep -c pts\"" &&
	sed -i "s/\"terminal\": false,//" b/config.json &&
	rt-console "$TRASH/c.sock" >cout 2>cerr &
	cpid=$! &&
	wait_for 5 test -S "$TRASH/c.sock" &&
	rt run -d --console-socket "$TRASH/c.sock" --bundle b $ID-tty &&
	wait $cpid &&
	grep "name=/dev/pts/" cerr &&
	grep "^/dev/pts/0" cout && grep "^isatty" cout &&
	rt_wait_status $ID-tty stopped && rt delete $ID-tty
'

test_expect_success 'run in the foreground with a terminal and no console socket proxies the pty' '
	RT_PROCESS=", \"terminal\": true" rt_config b "\"sh\", \"-c\", \"test -t 0 && echo fg-tty; exit 4\"" &&
	sed -i "s/\"terminal\": false,//" b/config.json &&
	{ rt run --bundle b $ID-fg >out 2>err; rc=$?; } &&
	test $rc = 4 &&
	grep "^fg-tty" out
'

test_expect_success 'exec --tty --console-socket' '
	rm -f "$TRASH/c2.sock" &&
	rt-console "$TRASH/c2.sock" >cout 2>cerr &
	cpid=$! &&
	wait_for 5 test -S "$TRASH/c2.sock" &&
	rt exec --tty --console-socket "$TRASH/c2.sock" $ID sh -c "test -t 1 && echo exec-tty" &&
	wait $cpid &&
	grep "^exec-tty" cout
'

test_expect_success 'hooks: order, state on stdin, namespaces' '
	cat >hook.sh <<-EOF &&
	#!/bin/sh
	echo "\$1 \$(cat)" >>"$TRASH/hooks.log"
	EOF
	chmod +x hook.sh &&
	h() { echo "{ \"path\": \"$TRASH/hook.sh\", \"args\": [ \"hook.sh\", \"$1\" ] }"; } &&
	RT_TOP=", \"hooks\": { \"prestart\": [ $(h prestart) ], \"createRuntime\": [ $(h createRuntime) ],
	  \"createContainer\": [ $(h createContainer) ],
	  \"startContainer\": [ { \"path\": \"/bin/sh\", \"args\": [ \"sh\", \"-c\", \"echo startContainer >/tmp/sc\" ] } ],
	  \"poststart\": [ $(h poststart) ], \"poststop\": [ $(h poststop) ] }" \
	rt_config b "\"sh\", \"-c\", \"cat /tmp/sc\"" &&
	rt create --bundle b $ID-h &&
	test "$(cut -d" " -f1 hooks.log | tr "\n" " ")" = "prestart createRuntime createContainer " &&
	grep "^prestart .*\"id\":\"$ID-h\"" hooks.log &&
	grep "^prestart .*\"status\":\"created\"" hooks.log &&
	grep "^createRuntime .*\"pid\":[1-9]" hooks.log &&
	rt start $ID-h &&
	grep "^poststart .*\"status\":\"running\"" hooks.log &&
	rt_wait_status $ID-h stopped &&
	grep startContainer b/rootfs/tmp/sc &&
	rt delete $ID-h &&
	grep "^poststop .*\"status\":\"stopped\"" hooks.log
'

test_expect_success 'a failing or timed-out prestart hook fails create and cleans up' '
	RT_TOP=", \"hooks\": { \"prestart\": [ { \"path\": \"/bin/false\" } ] }" rt_config b "\"true\"" &&
	test_must_fail rt create --bundle b $ID-hf 2>err &&
	grep "prestart hook" err && ! test -d "$RT_STATE/$ID-hf" &&
	RT_TOP=", \"hooks\": { \"createRuntime\": [ { \"path\": \"/bin/sleep\", \"args\": [ \"sleep\", \"10\" ], \"timeout\": 1 } ] }" rt_config b "\"true\"" &&
	test_must_fail rt create --bundle b $ID-ht 2>err &&
	grep "timed out" err && ! test -d "$RT_STATE/$ID-ht"
'

# Both builds: the runtime checks after its re-exec that /proc/self/exe is
# read-only or sealed (and re-clones once if a sanitizer re-exec undid it).
test_expect_success 'CVE-2019-5736: the binary behind /proc/<init>/exe cannot be opened for writing' '
	rt_config b "\"true\"" &&
	rt create --bundle b $ID-cve &&
	pid=$(rt state $ID-cve | berth-test-tool json-get pid) &&
	exec 8</proc/$pid/exe &&
	rt delete -f $ID-cve &&
	! (: 1<>/proc/self/fd/8) 2>err &&
	exec 8<&- &&
	grep -i "read-only\|not permitted" err
'

# berth-monitor starts the runtime from a read-only bind mount of itself
# (open_tree), and then the runtime runs as is: still protected.
test_expect_success 'CVE-2019-5736: started from a read-only mount, the runtime is still protected' '
	cp "$(command -v berth-runtime)" rt-ro &&
	touch rt-ro-mnt &&
	mount --bind rt-ro rt-ro-mnt &&
	test_when_finished "umount -l \"$TRASH/rt-ro-mnt\"" &&
	mount -o remount,bind,ro rt-ro-mnt &&
	rt_config b "\"true\"" &&
	./rt-ro-mnt --root "$RT_STATE" create --bundle b $ID-ro &&
	pid=$(rt state $ID-ro | berth-test-tool json-get pid) &&
	exec 8</proc/$pid/exe &&
	rt delete -f $ID-ro &&
	! (: 1<>/proc/self/fd/8) 2>err &&
	exec 8<&- &&
	grep -i "read-only\|not permitted" err
'

test_expect_success 'cleanup' '
	rt delete -f $ID &&
	test_must_fail rt state $ID
'

test_done
