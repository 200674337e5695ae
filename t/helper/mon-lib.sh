# SPDX-License-Identifier: Apache-2.0
# t/helper/mon-lib.sh -- berth-monitor tests (t3100-monitor-*), sourced after
# test-lib.sh.  Containers run under Debian's runc with a private state root;
# bundles share one read-only rootfs made of the host's static busybox.
#
#   mon_rootfs                      make $TRASH/rootfs (once per script)
#   mon_bundle NAME 'ARGS' [tty]    $TRASH/NAME/config.json, ARGS a JSON list
#                                   body, e.g. '"sh", "-c", "echo hi"'.
#                                   MON_RES: extra members of linux.resources
#   mon_process FILE 'ARGS' [tty]   a process.json for exec
#   mon_start NAME [monitor args]   berth-monitor for bundle NAME, state dir
#                                   $TRASH/s-NAME, log $TRASH/s-NAME/log.json;
#                                   sets MPID (the monitor's pid)
#   mon_gate NAME                   a shell prefix for a container's command:
#                                   wait (bounded, 10 s) until mon_open NAME,
#                                   so that mon_start sees the monitor's pid
#                                   before a short-lived container ends
#   mon_open NAME                   let the container of mon_gate NAME go on
#   mon_wait_exit NAME              wait (bounded) for exit.json and the
#                                   monitor's end
#   mon_json NAME KEY               a member of exit.json
#   mon_clean NAME                  nothing left: no monitor, no runc state,
#                                   no socket, no container process
#   mon_rt ...                      runc with the private root

MON_RUNC=${MON_RUNC:-/usr/sbin/runc}
MON_ROOT="$TRASH/runc"
export MON_ROOT
PATH="$BERTH_BUILD_DIR/runtime:$BERTH_BUILD_DIR/t/helper:$PATH"
export PATH

prereq_RUNC() {
	[ "$(id -u)" = 0 ] && [ -x "$MON_RUNC" ] && [ -x /bin/busybox ]
}

mon_rt() {
	"$MON_RUNC" --root "$MON_ROOT" "$@"
}

# everything a script started: monitors first, then the containers
mon_cleanup_all() {
	for _f in "$TRASH"/s-*/monitor.pid; do
		[ -f "$_f" ] && kill -9 "$(cat "$_f")" 2>/dev/null
	done
	for _c in $(mon_rt list -q 2>/dev/null); do
		mon_rt delete -f "$_c" >/dev/null 2>&1
	done
}
test_atexit 'mon_cleanup_all'

mon_rootfs() {
	[ -d "$TRASH/rootfs/bin" ] && return 0
	mkdir -p "$TRASH/rootfs/bin" "$TRASH/rootfs/proc" "$TRASH/rootfs/dev" \
		"$TRASH/rootfs/sys" "$TRASH/rootfs/tmp" "$TRASH/rootfs/etc" &&
	cp /bin/busybox "$TRASH/rootfs/bin/busybox" &&
	for _a in $(/bin/busybox --list); do
		[ -e "$TRASH/rootfs/bin/$_a" ] || ln -s busybox "$TRASH/rootfs/bin/$_a" || return 1
	done &&
	echo "root:x:0:0:root:/:/bin/sh" >"$TRASH/rootfs/etc/passwd"
}

MON_CAPS='"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"'

mon_process_json() {
	cat <<JSON
{
    "terminal": ${2:-false},
    "consoleSize": { "height": ${MON_ROWS:-24}, "width": ${MON_COLS:-80} },
    "user": { "uid": 0, "gid": 0 },
    "args": [ $1 ],
    "env": [ "PATH=/bin", "TERM=xterm" ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ $MON_CAPS ], "effective": [ $MON_CAPS ], "permitted": [ $MON_CAPS ]
    },
    "noNewPrivileges": true
}
JSON
}

mon_process() {
	mon_process_json "$2" "${3:-false}" >"$1"
}

mon_bundle() {
	mkdir -p "$TRASH/$1" &&
	cat >"$TRASH/$1/config.json" <<JSON
{
  "ociVersion": "1.0.2-dev",
  "process": $(mon_process_json "$2" "${3:-false}"),
  "root": { "path": "$TRASH/rootfs", "readonly": true },
  "hostname": "mon",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" ] },
    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "nodev", "size=65536k" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] }
  ],
  "linux": {
    "resources": { "devices": [ { "allow": false, "access": "rwm" } ]${MON_RES:+, $MON_RES} },
    "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" } ],
    "maskedPaths": [ "/proc/kcore", "/proc/keys", "/sys/firmware" ],
    "readonlyPaths": [ "/proc/sys", "/proc/sysrq-trigger" ]
  }
}
JSON
}

mon_start() {
	_n=$1
	shift
	berth-monitor --runtime "$MON_RUNC" --runtime-arg=--root --runtime-arg="$MON_ROOT" \
		--id "$_n" --bundle "$TRASH/$_n" --state-dir "$TRASH/s-$_n" \
		--log-path "$TRASH/s-$_n/log.json" "$@"
	_rc=$?
	MPID=
	[ -f "$TRASH/s-$_n/monitor.pid" ] && MPID=$(cat "$TRASH/s-$_n/monitor.pid" 2>/dev/null)
	eval "MPID_$(echo "$_n" | tr -c 'a-zA-Z0-9_\n' _)=\$MPID"
	return $_rc
}

mon_gate() {
	printf 'i=0; while ! [ -e /gate-%s ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; ' "$1"
}

mon_open() {
	: >"$TRASH/rootfs/gate-$1"
}

# the monitor of NAME as mon_start recorded it
mon_pid() {
	eval "echo \${MPID_$(echo "$1" | tr -c 'a-zA-Z0-9_\n' _):-}"
}

# mon_alive PID: running, and not a zombie waiting for whoever reaps it
mon_alive() {
	[ -r "/proc/$1/stat" ] && [ "$(sed -e 's/.*) //' "/proc/$1/stat" | cut -d" " -f1)" != Z ]
}

_mon_ended() {
	[ -f "$TRASH/s-$1/exit.json" ] && ! [ -f "$TRASH/s-$1/monitor.pid" ] && {
		_p=$(mon_pid "$1")
		[ -z "$_p" ] || ! mon_alive "$_p"
	}
}

mon_wait_exit() {
	wait_for 20 _mon_ended "$1"
}

mon_json() {
	berth-test-tool json-get "$2" <"$TRASH/s-$1/exit.json"
}

mon_clean() {
	_p=$(mon_pid "$1")
	if [ -n "$_p" ] && mon_alive "$_p"; then
		echo "monitor $_p of $1 still runs" >&2
		return 1
	fi
	if mon_rt list -q | grep -qx "$1"; then
		echo "runc still knows $1" >&2
		return 1
	fi
	if [ -e "$TRASH/s-$1/attach" ] || [ -e "$TRASH/s-$1/console.sock" ]; then
		echo "sockets of $1 left behind" >&2
		return 1
	fi
	_c=$(cat "$TRASH/s-$1/container.pid" 2>/dev/null)
	if [ -n "$_c" ] && mon_alive "$_c"; then
		echo "process $_c of $1 still runs" >&2
		return 1
	fi
	if grep -E 'Sanitizer|runtime error:|level=alert' "$TRASH/s-$1/monitor.log" >&2; then
		return 1
	fi
	return 0
}

# log lines of NAME's json-file log, count
mon_log_lines() {
	wc -l <"$TRASH/s-$1/log.json" | tr -d ' '
}

# mon_log_more NAME N: the log has more than N lines
mon_log_more() {
	test "$(mon_log_lines "$1")" -gt "$2"
}
