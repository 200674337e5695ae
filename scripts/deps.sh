#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/deps.sh [build|test] -- install the Debian packages berth needs
# (build: to compile; test: also what the test suite and benchmarks use).
# Installs only what is missing; runs `apt-get update` at most once.  No
# service is started by the installs (policy-rc.d for their duration).
set -eu
mode=${1:-test}
build_pkgs="build-essential autoconf automake libtool pkg-config libuv1-dev libcjson-dev
libseccomp-dev libcap-dev libnl-3-dev libnl-route-3-dev libc-ares-dev libssl-dev libarchive-dev
zlib1g-dev libnftables-dev node-llhttp busybox-static curl"
test_pkgs="clang socat openssl prometheus systemd iproute2 nftables dnsutils dnsmasq-base wrk hyperfine
python3 python3-docker util-linux procps kmod psmisc jq tini"
pkgs=$build_pkgs
[ "$mode" = test ] && pkgs="$pkgs $test_pkgs"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
fi
trap '[ -n "$own_policy" ] && rm -f "$policy"' EXIT
if ! apt-get install -y -qq --no-install-recommends $missing >/tmp/berth-deps.log 2>&1; then
	apt-get update -qq >/tmp/berth-deps-update.log 2>&1 || true
	apt-get install -y -qq --no-install-recommends $missing >/tmp/berth-deps.log 2>&1 || {
		tail -20 /tmp/berth-deps.log >&2
		echo "deps: apt-get install failed (log: /tmp/berth-deps.log)" >&2
		exit 1
	}
fi
