# SPDX-License-Identifier: Apache-2.0
# t/test-lib.sh -- TAP test library for berth's shell tests (after git's t/test-lib.sh).
#
#   test_description='...'
#   . "$(dirname "$0")/test-lib.sh"
#   test_expect_success [PREREQ,...] 'title' 'commands &&-chained'
#   test_when_finished 'cleanup'      (inside a test: runs after it, pass or fail)
#   test_atexit 'cleanup'             (runs when the script exits, whatever happens)
#   test_done
#
# Environment: BERTH_BUILD_DIR (where berthd and friends were built; default the
# tree above t/), BERTH_SRC_DIR.  Each script gets its own trash directory under
# /tmp with a short path (unix socket paths hold 108 bytes).

set -u
: "${BERTH_SRC_DIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BERTH_BUILD_DIR:=${abs_top_builddir:-$BERTH_SRC_DIR}}"
export BERTH_SRC_DIR BERTH_BUILD_DIR
PATH="$BERTH_BUILD_DIR:$BERTH_BUILD_DIR/t/helper:$PATH"
export PATH
# sanitizer runtimes: fail loudly, never hide reports
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-exitcode=86}"

test_count=0
test_failures=0
test_skipped=0
_test_cleanup=
_atexit_cmds=
_test_name=$(basename "$0" .sh)

TRASH=$(mktemp -d "/tmp/bt.${_test_name%%-*}.XXXXXX")
export TRASH
cd "$TRASH" || exit 1

say() { printf '# %s\n' "$*"; }

_run_atexit() {
	_rc=$?
	set +e
	if [ -n "$_atexit_cmds" ]; then
		eval "$_atexit_cmds" >/dev/null 2>&1
	fi
	# the read-only binds of berth-runtime every berthd of the test made
	# in its exec-root outlive it (for the monitors): they go last
	for _m in $(grep -o " $TRASH/[^ ]*/bin/berth-runtime " /proc/self/mounts); do
		umount -l "$_m" 2>/dev/null
	done
	cd /
	if [ -z "${BERTH_TEST_KEEP:-}" ]; then
		rm -rf "$TRASH" 2>/dev/null
	fi
	exit $_rc
}
trap _run_atexit EXIT
trap 'exit 130' INT TERM

test_atexit() {
	_atexit_cmds="$1
$_atexit_cmds"
}

test_when_finished() {
	_test_cleanup="$1
$_test_cleanup"
}

# ---- prerequisites ----
_prereq_cache=" "
_prereq_check() {
	case "$1" in
	ROOT) [ "$(id -u)" = 0 ] ;;
	DOCKER) command -v docker >/dev/null 2>&1 ;;
	CURL) command -v curl >/dev/null 2>&1 ;;
	OPENSSL) command -v openssl >/dev/null 2>&1 ;;
	PROMTOOL) command -v promtool >/dev/null 2>&1 ;;
	SOCKACT) command -v systemd-socket-activate >/dev/null 2>&1 ;;
	SOCAT) command -v socat >/dev/null 2>&1 ;;
	PYTHON3) command -v python3 >/dev/null 2>&1 ;;
	BUSYBOX) [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 ;;
	USERNS) unshare -U true 2>/dev/null ;;
	NETNS) [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null ;;
	SECCOMP) grep -q '^Seccomp:' /proc/self/status ;;
	SANITIZED) [ -n "${BERTH_SANITIZED:-}" ] ;;
	NOT_SANITIZED) [ -z "${BERTH_SANITIZED:-}" ] ;;
	*) type "prereq_$1" >/dev/null 2>&1 && "prereq_$1" ;;
	esac
}

test_have_prereq() {
	_ok=0
	_list=$(printf '%s' "$1" | tr ',' ' ')
	for _p in $_list; do
		case "$_prereq_cache" in
		*" $_p=1 "*) continue ;;
		*" $_p=0 "*) _ok=1; continue ;;
		esac
		if _prereq_check "$_p"; then
			_prereq_cache="$_prereq_cache$_p=1 "
		else
			_prereq_cache="$_prereq_cache$_p=0 "
			_missing_prereq=$_p
			_ok=1
		fi
	done
	return $_ok
}

# ---- tests ----
test_expect_success() {
	_prereq=
	if [ $# -eq 3 ]; then
		_prereq=$1
		shift
	fi
	test_count=$((test_count + 1))
	if [ -n "$_prereq" ] && ! test_have_prereq "$_prereq"; then
		test_skipped=$((test_skipped + 1))
		printf 'ok %d # skip %s (missing %s)\n' "$test_count" "$1" "$_missing_prereq"
		return 0
	fi
	_test_cleanup=
	say "running: $1"
	# the body runs in this shell (as git's do): variables it sets stay set
	{ eval "$2"; } >"$TRASH/.test-out" 2>&1 </dev/null
	_rc=$?
	if [ -n "$_test_cleanup" ]; then
		eval "$_test_cleanup" >/dev/null 2>&1
		_test_cleanup=
	fi
	if [ $_rc -eq 0 ]; then
		printf 'ok %d - %s\n' "$test_count" "$1"
	else
		test_failures=$((test_failures + 1))
		printf 'not ok %d - %s\n' "$test_count" "$1"
		sed -e 's/^/#   /' "$TRASH/.test-out" | tail -n 60
		printf '#   test body:\n'
		printf '%s\n' "$2" | sed -e 's/^/#     /'
	fi
	return 0
}

skip_all() {
	printf '1..0 # SKIP %s\n' "$1"
	exit 0
}

test_done() {
	printf '1..%d\n' "$test_count"
	if [ "$test_failures" -gt 0 ]; then
		say "failed $test_failures of $test_count"
		exit 1
	fi
	exit 0
}

test_must_fail() {
	"$@"
	_rc=$?
	if [ $_rc -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	fi
	if [ $_rc -gt 128 ] && [ $_rc -ne 137 ]; then
		echo "test_must_fail: command died of a signal ($_rc): $*" >&2
		return 1
	fi
	return 0
}

# wait_for TIMEOUT_SECONDS COMMAND...: poll COMMAND every 20 ms, bounded.
wait_for() {
	_limit=$(( $1 * 50 ))
	shift
	_i=0
	while [ $_i -lt $_limit ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.02
		_i=$((_i + 1))
	done
	echo "wait_for: timed out: $*" >&2
	return 1
}

# count open fds of a process
fd_count() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# ---- berthd ----
# start_daemon [NAME] [extra berthd args...]: berthd on private dirs and a
# unix socket $TRASH/NAME.sock; sets DAEMON_PID, DAEMON_SOCK, DAEMON_LOG,
# DOCKER_HOST.  Waits (bounded) until /_ping answers.
start_daemon() {
	_name=d
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		_name=$1
		shift
	fi
	DAEMON_SOCK=$TRASH/$_name.sock
	DAEMON_LOG=$TRASH/$_name.log
	DAEMON_DATA=$TRASH/$_name-data
	DAEMON_EXEC=$TRASH/$_name-exec
	[ -f "$TRASH/$_name.json" ] || echo '{}' >"$TRASH/$_name.json"
	# As root, berthd runs in a network namespace of the test's own (made
	# once per daemon name, kept across restarts): the bridges, veths,
	# nftables rules and proxies it makes never touch the host.  Only the
	# network namespace changes: mounts stay shared with the test.  Tests
	# that dial berthd over TCP set BERTH_TEST_HOSTNET=1.
	_wrap=
	DAEMON_NETNS=
	if [ -z "${BERTH_TEST_HOSTNET:-}" ] && [ "$(id -u)" = 0 ] && command -v nsenter >/dev/null 2>&1 &&
	   command -v ip >/dev/null 2>&1; then
		DAEMON_NETNS=bt.$$.$_name
		if [ ! -e "/run/netns/$DAEMON_NETNS" ]; then
			ip netns add "$DAEMON_NETNS" &&
			ip -n "$DAEMON_NETNS" link set lo up &&
			test_atexit "ip netns del $DAEMON_NETNS 2>/dev/null" || return 1
		fi
		_wrap="nsenter --net=/run/netns/$DAEMON_NETNS"
	fi
	$_wrap berthd --data-root "$DAEMON_DATA" --exec-root "$DAEMON_EXEC" \
		--pidfile "$TRASH/$_name.pid" --config-file "$TRASH/$_name.json" \
		-H "unix://$DAEMON_SOCK" --log-level debug "$@" \
		>"$DAEMON_LOG" 2>&1 </dev/null &
	DAEMON_PID=$!
	eval "DAEMON_PID_$_name=$DAEMON_PID"
	test_atexit "kill -9 $DAEMON_PID 2>/dev/null; kill_monitors_under '$DAEMON_EXEC'"
	export DOCKER_HOST="unix://$DAEMON_SOCK"
	_i=0
	while [ $_i -lt 500 ]; do
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "berthd exited during startup:" >&2
			cat "$DAEMON_LOG" >&2
			return 1
		fi
		curl -sf --max-time 2 --unix-socket "$DAEMON_SOCK" http://berth/_ping >/dev/null 2>&1 && return 0
		sleep 0.02
		_i=$((_i + 1))
	done
	echo "berthd did not answer /_ping within 10 s" >&2
	cat "$DAEMON_LOG" >&2
	return 1
}

# in_daemon_netns CMD...: run CMD in berthd's network namespace (where its
# bridges and published ports are), or plainly when it has none
in_daemon_netns() {
	if [ -n "$DAEMON_NETNS" ]; then
		nsenter --net="/run/netns/$DAEMON_NETNS" "$@"
	else
		"$@"
	fi
}

# kill_monitors_under DIR: containers outlive berthd (live restore); at the
# end of a test, the monitors this test's daemon started (their --state-dir
# under DIR) are stopped, and with them their containers.
kill_monitors_under() {
	for _p in /proc/[0-9]*; do
		_c=$(tr '\000' ' ' <"$_p/cmdline" 2>/dev/null) || continue
		case "$_c" in
		*berth-monitor*"--state-dir $1/"*)
			# the container first (a pid 1 may ignore SIGTERM), then its monitor
			for _k in $(cat "$_p"/task/*/children 2>/dev/null); do
				kill -KILL "$_k" 2>/dev/null
			done
			kill -TERM "${_p#/proc/}" 2>/dev/null ;;
		esac
	done
}

# check_daemon_log FILE: no alert, no sanitizer report
check_daemon_log() {
	if grep -E 'level=alert|Sanitizer|runtime error:|LeakSanitizer' "$1" >&2; then
		echo "daemon log $1 has alerts or sanitizer reports" >&2
		return 1
	fi
	return 0
}

# stop_daemon [PID] [LOG]: SIGTERM, wait (bounded), require exit 0 and a clean log
stop_daemon() {
	_pid=${1:-$DAEMON_PID}
	_log=${2:-$DAEMON_LOG}
	kill -TERM "$_pid" 2>/dev/null || { echo "berthd $_pid not running" >&2; return 1; }
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 1000 ]; do
		sleep 0.02
		_i=$((_i + 1))
	done
	if kill -0 "$_pid" 2>/dev/null; then
		echo "berthd $_pid did not exit within 20 s of SIGTERM" >&2
		kill -9 "$_pid"
		return 1
	fi
	wait "$_pid" 2>/dev/null
	_rc=$?
	if [ $_rc -ne 0 ] && [ $_rc -ne 127 ]; then
		echo "berthd exited with $_rc" >&2
		cat "$_log" >&2
		return 1
	fi
	check_daemon_log "$_log"
}

# api METHOD PATH [curl args...]: request over the daemon's socket; writes the
# body to stdout, sets nothing.  Use api_status for the code.
api() {
	_m=$1
	_p=$2
	shift 2
	curl -s --max-time 20 --unix-socket "$DAEMON_SOCK" -X "$_m" "$@" "http://berth$_p"
}

# api_status METHOD PATH [curl args]: prints the HTTP status, body to $TRASH/body
api_status() {
	_m=$1
	_p=$2
	shift 2
	curl -s --max-time 20 --unix-socket "$DAEMON_SOCK" -X "$_m" -o "$TRASH/body" -w '%{http_code}' "$@" "http://berth$_p"
}
