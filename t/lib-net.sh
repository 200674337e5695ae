# SPDX-License-Identifier: Apache-2.0
# t/lib-net.sh -- network namespaces for the t4xxx net tests.  Sourced after
# test-lib.sh.  The test's "host" is itself a netns, so nothing berth makes
# (bridges, veths, nft tables, sysctls) ever lands on the real host.
#
#   net_ns_add NAME      make netns <prefix>NAME with lo up (removed at exit)
#   in_ns NAME CMD...    run CMD in it
#   ntool ARGS...        net-tool in the host netns with the test's state dir
#   net_bg NAME OUT CMD... start CMD in netns NAME in the background, output
#                        to OUT; killed at exit; sets BG_PID
#   host_snapshot        names of the real host's links and nft tables

NETNS_PREFIX="bt4.$$."
NET_STATE="$TRASH/state"
_net_pids=

_net_cleanup() {
	for _p in $_net_pids; do
		kill "$_p" 2>/dev/null
	done
	for _n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case "$_n" in
		"$NETNS_PREFIX"*) ip netns del "$_n" 2>/dev/null ;;
		esac
	done
}
test_atexit _net_cleanup

net_ns_add() {
	ip netns add "$NETNS_PREFIX$1" &&
	ip -n "$NETNS_PREFIX$1" link set lo up
}

ns_path() {
	echo "/run/netns/$NETNS_PREFIX$1"
}

in_ns() {
	_ns=$1
	shift
	ip netns exec "$NETNS_PREFIX$_ns" "$@"
}

ntool() {
	ip netns exec "${NETNS_PREFIX}host" net-tool --state "$NET_STATE" "$@"
}

net_bg() {
	_ns=$1
	_out=$2
	shift 2
	ip netns exec "$NETNS_PREFIX$_ns" "$@" >"$_out" 2>&1 </dev/null &
	BG_PID=$!
	_net_pids="$_net_pids $BG_PID"
}

# wait until FILE holds a line "ready" (bounded)
wait_ready() {
	wait_for 10 grep -q '^ready' "$1"
}

host_snapshot() {
	ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	nft list tables 2>/dev/null | sort
}

# KEY=VALUE output of net-tool: get KEY
kv() {
	sed -n "s/^$1=//p" "$2"
}

prereq_NFT() {
	command -v nft >/dev/null 2>&1
}

# sanitizer reports go to files, so that an expected failure (test_must_fail)
# cannot hide one; net_sanitizer_clean fails if any was written
ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$TRASH/san"
UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$TRASH/san"
export ASAN_OPTIONS UBSAN_OPTIONS

net_sanitizer_clean() {
	for _f in "$TRASH"/san.*; do
		[ -e "$_f" ] || continue
		cat "$_f" >&2
		return 1
	done
	return 0
}
