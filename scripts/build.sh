#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/build.sh DIR [configure options...] -- configure (once) and build
# berth in DIR under the source tree, with 2 jobs.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
cd "$src"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ ! -f build-aux/tap-driver.sh ]; then
	autoreconf -fi >/tmp/berth-autoreconf.log 2>&1 || { cat /tmp/berth-autoreconf.log >&2; exit 1; }
fi
mkdir -p "$src/$dir"
cd "$src/$dir"
want="$*"
if [ ! -f Makefile ] || [ "$(cat .berth-configure-args 2>/dev/null)" != "$want" ]; then
	"$src/configure" "$@" >configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
	echo "$want" >.berth-configure-args
fi
make -j2 all >make.log 2>&1 || { grep -E 'error|Error' make.log | head -40 >&2; tail -20 make.log >&2; exit 1; }
make -j2 check TESTS= >>make.log 2>&1 || { grep -E 'error|Error' make.log | head -40 >&2; exit 1; }
echo "built berth in $src/$dir"
