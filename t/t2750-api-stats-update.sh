#!/bin/sh
test_description='containers: docker stats (one-shot, two samples, stream), update (limits, restart policy), resize and --init through the real CLI'
BERTH_TEST_HOSTNET=${BERTH_TEST_HOSTNET:-}
. "$(dirname "$0")/test-lib.sh"

test_have_prereq DOCKER || skip_all "the docker CLI is missing"
test_have_prereq BUSYBOX || skip_all "busybox-static is missing"
test_have_prereq ROOT || skip_all "running containers needs root"
command -v jq >/dev/null 2>&1 || skip_all "jq is missing"
[ -x "$BERTH_BUILD_DIR/runtime/berth-monitor" ] || skip_all "berth-monitor is not built"

prereq_DOCKERPY() { /usr/bin/python3 -c "import docker"; } >/dev/null 2>&1
prereq_INIT() { command -v docker-init || command -v tini-static; } >/dev/null 2>&1

# the host-side cgroup v1 or v2 dir of a container's controller
cgdir() {
	_pid=$(docker inspect "$1" --format "{{.State.Pid}}") &&
	if grep -q "^0::" /proc/$_pid/cgroup && ! grep -q ":memory:" /proc/$_pid/cgroup; then
		echo "/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/$_pid/cgroup)"
	else
		_p=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" /proc/$_pid/cgroup | head -n1) &&
		_ctrls=$(echo "$_p" | cut -d: -f2) &&
		echo "/sys/fs/cgroup/$_ctrls$(echo "$_p" | cut -d: -f3-)"
	fi
}

test_expect_success 'start daemon with a busybox image' '
	start_daemon &&
	mkdir -p root/bin root/etc root/tmp &&
	cp /bin/busybox root/bin/ &&
	for c in sh echo cat ls true sleep stty ps readlink head tr; do ln -s busybox root/bin/$c || return 1; done &&
	echo "root:x:0:0:root:/root:/bin/sh" >root/etc/passwd &&
	tar -C root -c . | docker import -c "CMD [\"sh\"]" -c "ENV PATH=/bin" - busybox:latest >/dev/null
'
test_atexit 'grep " $TRASH/" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l'

test_expect_success 'docker stats --no-stream: 64MiB limit, CPU of a busy loop, pids' '
	docker run -d --name busy -m 64m busybox sh -c "(while :; do sleep 0.5; done) & while :; do :; done" >/dev/null &&
	wait_for 10 sh -c "test \$(docker inspect busy --format {{.State.Pid}}) -gt 0" &&
	docker stats --no-stream --format "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}" busy >out &&
	cat out &&
	IFS="|" read name cpu mem net blk pids <out &&
	test "$name" = busy &&
	test "${mem#* / }" = "64MiB" &&
	cpuint=${cpu%%.*} && test "$cpuint" -ge 10 &&
	test "$pids" -ge 2 &&
	case "$blk" in *B\ /\ *B) ;; *) false ;; esac &&
	case "$net" in *B\ /\ *B) ;; *) false ;; esac
'

test_expect_success 'stream=false: two samples, precpu_stats filled, Docker field set' '
	api GET "/containers/busy/stats?stream=false" >s.json &&
	test "$(jq -r .name s.json)" = /busy &&
	test "$(jq -r .id s.json)" = "$(docker inspect busy --format {{.Id}})" &&
	test "$(jq -r .preread s.json)" != "0001-01-01T00:00:00Z" &&
	test "$(jq -r .read s.json)" != "$(jq -r .preread s.json)" &&
	test "$(jq ".precpu_stats.cpu_usage.total_usage > 0" s.json)" = true &&
	test "$(jq ".cpu_stats.cpu_usage.total_usage > .precpu_stats.cpu_usage.total_usage" s.json)" = true &&
	test "$(jq ".cpu_stats.system_cpu_usage > .precpu_stats.system_cpu_usage" s.json)" = true &&
	test "$(jq ".cpu_stats.online_cpus > 0" s.json)" = true &&
	test "$(jq ".cpu_stats.throttling_data | has(\"throttled_time\")" s.json)" = true &&
	test "$(jq .memory_stats.limit s.json)" = 67108864 &&
	test "$(jq ".memory_stats.usage > 0" s.json)" = true &&
	test "$(jq ".memory_stats.stats | length > 3" s.json)" = true &&
	test "$(jq ".pids_stats.current >= 2" s.json)" = true &&
	test "$(jq -r "keys_unsorted | join(\",\")" s.json | cut -d, -f1-11)" = \
		"read,preread,pids_stats,blkio_stats,num_procs,storage_stats,cpu_stats,precpu_stats,memory_stats,name,id" &&
	test "$(jq ".blkio_stats | has(\"io_service_bytes_recursive\")" s.json)" = true
'

test_expect_success 'one-shot: one sample at once, zero precpu' '
	api GET "/containers/busy/stats?stream=false&one-shot=true" >s.json &&
	test "$(jq -r .preread s.json)" = "0001-01-01T00:00:00Z" &&
	test "$(jq .precpu_stats.cpu_usage.total_usage s.json)" = 0 &&
	test "$(jq ".cpu_stats.cpu_usage.total_usage > 0" s.json)" = true &&
	test "$(api_status GET "/containers/busy/stats?stream=true&one-shot=true")" = 400
'

test_expect_success 'stream: one object a second, each with the one before as pre' '
	api GET "/containers/busy/stats" | head -n 3 >st.json &&
	test "$(wc -l <st.json)" = 3 &&
	sed -n 1p st.json | jq -e ".preread == \"0001-01-01T00:00:00Z\"" >/dev/null &&
	r1=$(sed -n 1p st.json | jq -r .read) &&
	test "$(sed -n 2p st.json | jq -r .preread)" = "$r1" &&
	t1=$(sed -n 1p st.json | jq .cpu_stats.cpu_usage.total_usage) &&
	test "$(sed -n 2p st.json | jq .precpu_stats.cpu_usage.total_usage)" = "$t1"
'

test_expect_success 'docker stats --no-stream of every container: no limit reads as the host memory' '
	docker run -d --name nolimit busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	docker stats --no-stream --format "{{.Name}}|{{.MemUsage}}" >out 2>err &&
	cat out err &&
	! grep -q -- "--" out && test ! -s err &&
	grep -q "^busy|.* / 64MiB$" out &&
	grep "^nolimit|" out | grep -q -v " / 0B$" &&
	api GET "/containers/nolimit/stats?stream=false&one-shot=true" >n.json &&
	test "$(jq .memory_stats.limit n.json)" -gt 67108864 &&
	docker rm -f nolimit >/dev/null
'

test_expect_success 'networks: eth0 of the default network (no lo); none for --network none' '
	docker run -d --name quiet --network none busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	api GET "/containers/quiet/stats?stream=false&one-shot=true" >n.json &&
	test "$(jq "has(\"networks\")" n.json)" = false &&
	api GET "/containers/busy/stats?stream=false&one-shot=true" >b.json &&
	pid=$(docker inspect busy --format "{{.State.Pid}}") &&
	if grep -q "eth0:" /proc/$pid/net/dev; then
		test "$(jq ".networks.eth0 | has(\"rx_bytes\") and has(\"tx_dropped\")" b.json)" = true
	fi &&
	test "$(jq ".networks // {} | has(\"lo\")" b.json)" = false
'

test_expect_success 'a stopped container: zeros at once with name and id' '
	docker create --name idle busybox true >/dev/null &&
	api GET "/containers/idle/stats?stream=false" >z.json &&
	test "$(jq -r .read z.json)" = "0001-01-01T00:00:00Z" &&
	test "$(jq .cpu_stats.cpu_usage.total_usage z.json)" = 0 &&
	test "$(jq -r .name z.json)" = /idle &&
	test "$(jq -c .memory_stats z.json)" = "{}" &&
	docker stats --no-stream --format "{{.Name}} {{.CPUPerc}}" idle >out &&
	test "$(cat out)" = "idle 0.00%" &&
	test "$(api_status GET "/containers/nothere/stats?stream=false")" = 404
'

test_expect_success 'a stats stream ends when its container is removed' '
	docker run -d --name gone busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	( api GET "/containers/gone/stats" >gone.json; echo done >gone.end ) &
	wait_for 10 test -s gone.json &&
	docker rm -f gone >/dev/null &&
	wait_for 10 test -s gone.end
'

test_expect_success 'docker update --memory --restart on a running container' '
	docker update --memory 128m --restart always busy >out &&
	test "$(cat out)" = busy &&
	test "$(docker inspect busy --format "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}")" = "134217728 always" &&
	d=$(cgdir busy memory) &&
	if [ -f "$d/memory.limit_in_bytes" ]; then
		test "$(cat "$d/memory.limit_in_bytes")" = 134217728
	else
		test "$(cat "$d/memory.max")" = 134217728
	fi &&
	docker stats --no-stream --format "{{.MemUsage}}" busy >out &&
	test "$(sed "s/.* \/ //" out)" = 128MiB
'

test_expect_success 'update: cpus, cpu-shares and pids-limit reach the cgroup' '
	docker update --cpus 0.5 --cpu-shares 512 --pids-limit 50 busy >/dev/null &&
	test "$(docker inspect busy --format "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}")" = "500000000 512 50" &&
	d=$(cgdir busy cpu) &&
	if [ -f "$d/cpu.cfs_quota_us" ]; then
		test "$(cat "$d/cpu.cfs_quota_us")" = 50000 &&
		test "$(cat "$d/cpu.shares")" = 512
	else
		test "$(cat "$d/cpu.max")" = "50000 100000"
	fi &&
	d=$(cgdir busy pids) && test "$(cat "$d/pids.max")" = 50 &&
	api GET "/containers/busy/stats?stream=false&one-shot=true" >s.json &&
	test "$(jq .pids_stats.limit s.json)" = 50
'

test_expect_success DOCKERPY 'docker-py: stats (two samples and a stream), update' '
	cat >py.py <<-\EOF &&
	import docker, itertools, os
	c = docker.DockerClient(base_url=os.environ["DOCKER_HOST"]).containers.get("busy")
	s = c.stats(stream=False)
	assert s["name"] == "/busy" and s["precpu_stats"]["cpu_usage"]["total_usage"] > 0, s
	two = list(itertools.islice(c.stats(decode=True), 2))
	assert two[1]["preread"] == two[0]["read"], two
	assert two[1]["precpu_stats"]["cpu_usage"]["total_usage"] == two[0]["cpu_stats"]["cpu_usage"]["total_usage"]
	r = c.update(mem_limit="192m", memswap_limit="256m")
	assert r.get("Warnings") == [], r
	c.reload()
	assert c.attrs["HostConfig"]["Memory"] == 192 * 1024 * 1024, c.attrs["HostConfig"]["Memory"]
	c.update(mem_limit="128m")
	print("ok")
	EOF
	/usr/bin/python3 py.py >out &&
	test "$(cat out)" = ok &&
	test "$(docker inspect busy --format "{{.HostConfig.Memory}}")" = 134217728
'

test_expect_success 'update errors: 404, 400 bad values, 409 conflicts, the container unchanged' '
	test "$(api_status POST /containers/nothere/update -H "Content-Type: application/json" -d "{\"Memory\":134217728}")" = 404 &&
	test "$(api_status POST /containers/busy/update -H "Content-Type: application/json" -d "{\"Memory\":1000}")" = 400 &&
	grep -q "Minimum memory limit allowed is 6MB" "$TRASH/body" &&
	test "$(api_status POST /containers/busy/update -H "Content-Type: application/json" -d "{\"Memory\":\"x\"}")" = 400 &&
	test "$(api_status POST /containers/busy/update -H "Content-Type: application/json" -d "{\"CpuQuota\":20000}")" = 409 &&
	grep -q "NanoCPUs has already been set" "$TRASH/body" &&
	test "$(api_status POST /containers/busy/update -H "Content-Type: application/json" -d "{\"RestartPolicy\":{\"Name\":\"sometimes\"}}")" = 400 &&
	test "$(api_status POST /containers/busy/update -H "Content-Type: application/json" -d "{\"Memory\":536870912}")" = 409 &&
	grep -q "memoryswap" "$TRASH/body" &&
	test_must_fail docker update --memory 1m busy 2>err &&
	test_must_fail docker update --cpuset-cpus 1000 busy 2>err &&
	grep -q "Requested CPUs are not available" err &&
	test "$(docker inspect busy --format "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}")" = "134217728 always" &&
	docker run -d --rm --name auto busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test_must_fail docker update --restart always auto 2>err &&
	grep -q "AutoRemove" err &&
	docker rm -f auto >/dev/null
'

test_expect_success 'update of a stopped container applies at its next start' '
	docker create --name later -m 64m busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	echo "{\"Memory\":100663296,\"MemorySwap\":201326592}" >body.json &&
	test "$(api_status POST /containers/later/update -H "Content-Type: application/json" --data-binary @body.json)" = 200 &&
	test "$(jq -c . "$TRASH/body")" = "{\"Warnings\":[]}" &&
	docker start later >/dev/null &&
	d=$(cgdir later memory) &&
	if [ -f "$d/memory.limit_in_bytes" ]; then
		test "$(cat "$d/memory.limit_in_bytes")" = 100663296
	else
		test "$(cat "$d/memory.max")" = 100663296
	fi &&
	docker events --since 0 --until "$(( $(date +%s) + 1 ))" --filter event=update --format "{{.Actor.Attributes.name}}" >ev &&
	grep -q "^later$" ev && grep -q "^busy$" ev
'

test_expect_success 'resize: the tty of a running container takes the size' '
	docker run -d -t --name tty busybox sh -c "while :; do stty size; sleep 0.1; done" >/dev/null &&
	test "$(api_status POST "/containers/tty/resize?h=33&w=101")" = 200 &&
	wait_for 10 sh -c "docker logs tty | grep -q \"^33 101\"" &&
	test "$(api_status POST "/containers/tty/resize?h=x&w=101")" = 400 &&
	test "$(api_status POST "/containers/tty/resize?h=70000&w=101")" = 400 &&
	test "$(api_status POST "/containers/nothere/resize?h=3&w=3")" = 404 &&
	test "$(api_status POST "/containers/idle/resize?h=3&w=3")" = 409
'

test_expect_success 'docker run -t under a pty: the CLI resize reaches the container' '
	script -qec "stty rows 27 cols 91; docker run --rm -t busybox stty size" /dev/null >out &&
	grep -q "27 91" out
'

test_expect_success INIT 'docker run --init: docker-init is pid 1 and reaps; exit codes pass through' '
	docker run --rm --init busybox sh -c "cat /proc/1/cmdline | tr \"\\0\" \" \"; echo" >out &&
	grep -q "^/sbin/docker-init -- sh" out &&
	{ docker run --rm --init busybox sh -c "exit 7"; test $? = 7; } &&
	test "$(docker run --rm --init busybox readlink /proc/1/exe)" != /bin/busybox &&
	docker run -d --init --name ini busybox sh -c "while :; do sleep 0.5; done" >/dev/null &&
	test "$(docker inspect ini --format {{.HostConfig.Init}})" = true &&
	docker stop -t 5 ini >/dev/null &&
	test "$(docker inspect ini --format {{.State.ExitCode}})" = 143
'

test_expect_success 'berthd stops cleanly with stats requests open' '
	docker rm -f quiet idle later tty ini >/dev/null &&
	{ api GET "/containers/busy/stats" >open1.json 2>&1 & } &&
	{ api GET "/containers/busy/stats?stream=false" >open2.json 2>&1 & } &&
	wait_for 10 test -s open1.json &&
	stop_daemon
'

test_expect_success 'after a restart of berthd: the updated values stay, stats of the restored container' '
	start_daemon &&
	test "$(docker inspect busy --format "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.PidsLimit}}")" = "134217728 always 50" &&
	docker stats --no-stream --format "{{.MemUsage}}|{{.PIDs}}" busy >out &&
	IFS="|" read mem pids <out &&
	test "${mem##* / }" = 128MiB &&
	test "$pids" -ge 2 &&
	docker rm -f busy >/dev/null &&
	stop_daemon
'

test_done
