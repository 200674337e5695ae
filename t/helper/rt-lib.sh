# SPDX-License-Identifier: Apache-2.0
# t/helper/rt-lib.sh -- bundles for the berth-runtime tests (t3NNN), sourced
# after test-lib.sh.  Bundles use the host's static busybox.
#
#   rt_bundle DIR                   rootfs with busybox and its applet links
#   rt_config DIR 'ARGS'            write DIR/config.json; ARGS is a JSON list body,
#                                   e.g. '"sh", "-c", "echo hi"'.  Knobs (env):
#     RT_PROCESS  extra members of "process" (leading comma)
#     RT_LINUX    extra members of "linux" (leading comma)
#     RT_TOP      extra top-level members (leading comma)
#     RT_NS       namespaces list body (default pid, ipc, uts, mount, network)
#     RT_MOUNTS   extra mounts (leading comma)
#     RT_CAPS     capability list body (default runc's three)
#     RT_ROOT     root object members (default "path": "rootfs")
#     RT_USER     user object members; RT_ENV env list body; RT_CWD cwd
#   rt ...                          berth-runtime --root $RT_STATE ...
#   rt_cleanup_all                  delete -f every container of $RT_STATE

PATH="$BERTH_BUILD_DIR/runtime:$PATH"
export PATH
RT_STATE="$TRASH/state"
export RT_STATE

rt() {
	berth-runtime --root "$RT_STATE" "$@"
}

rt_cleanup_all() {
	for _c in $(rt list -q 2>/dev/null); do
		rt delete -f "$_c" >/dev/null 2>&1
	done
}
test_atexit 'rt_cleanup_all'

rt_bundle() {
	mkdir -p "$1/rootfs/bin" "$1/rootfs/proc" "$1/rootfs/dev" "$1/rootfs/sys" "$1/rootfs/tmp" "$1/rootfs/etc" &&
	cp /bin/busybox "$1/rootfs/bin/busybox" &&
	for _a in $(/bin/busybox --list); do
		[ -e "$1/rootfs/bin/$_a" ] || ln -s busybox "$1/rootfs/bin/$_a" || return 1
	done &&
	echo "root:x:0:0:root:/:/bin/sh" >"$1/rootfs/etc/passwd"
}

RT_DEFAULT_CAPS='"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"'
RT_DEFAULT_NS='{ "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" }'
RT_DEFAULT_ROOT='"path": "rootfs"'
RT_DEFAULT_USER='"uid": 0, "gid": 0'
RT_DEFAULT_ENV='"PATH=/bin:/usr/bin:/sbin", "TERM=xterm"'
rt_config() {
	_caps=${RT_CAPS-$RT_DEFAULT_CAPS}
	_ns=${RT_NS-$RT_DEFAULT_NS}
	_root=${RT_ROOT-$RT_DEFAULT_ROOT}
	_user=${RT_USER-$RT_DEFAULT_USER}
	cat >"$1/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { $_user },
    "args": [ $2 ],
    "env": [ ${RT_ENV:-$RT_DEFAULT_ENV} ],
    "cwd": "${RT_CWD:-/}",
    "capabilities": {
      "bounding": [ $_caps ],
      "effective": [ $_caps ],
      "permitted": [ $_caps ]
    },
    "noNewPrivileges": true${RT_PROCESS:-}
  },
  "root": { $_root },
  "hostname": "berth-test",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] }${RT_MOUNTS:-}
  ],
  "linux": {
    "namespaces": [ $_ns ],
    "maskedPaths": [ "/proc/kcore", "/proc/keys", "/sys/firmware" ],
    "readonlyPaths": [ "/proc/sys", "/proc/sysrq-trigger" ]${RT_LINUX:-}
  }${RT_TOP:-}
}
JSON
}

# wait_for_status ID STATUS: poll `state` (bounded, 5 s)
rt_wait_status() {
	_i=0
	while [ $_i -lt 500 ]; do
		rt state "$1" 2>/dev/null | grep -q "\"status\":[[:space:]]*\"$2\"" && return 0
		sleep 0.01
		_i=$((_i + 1))
	done
	return 1
}
