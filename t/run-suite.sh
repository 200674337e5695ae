#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t/run-suite.sh BUILD_DIR [LABEL] [TEST...] -- run berth's TAP tests (unit
# programs built in BUILD_DIR/t/unit and the t/tNNNN-*.sh scripts) against one
# build, print one line per file and a closing `N passed, N failed, N skipped`.
# Exits non-zero when any test failed or any file broke its plan.
set -u
build=$(cd "${1:?usage: run-suite.sh BUILD_DIR [LABEL] [TEST...]}" && pwd)
label=${2:-$(basename "$build")}
shift; [ $# -gt 0 ] && shift
src=$(cd "$(dirname "$0")/.." && pwd)
export BERTH_BUILD_DIR="$build" BERTH_SRC_DIR="$src"
per_file_timeout=${BERTH_TEST_TIMEOUT:-900}

if [ $# -eq 0 ]; then
	set --
	for u in "$build"/t/unit/u-*; do
		[ -x "$u" ] && [ -f "$u" ] && set -- "$@" "$u"
	done
	for s in "$src"/t/t[0-9][0-9][0-9][0-9]-*.sh; do
		[ -f "$s" ] && set -- "$@" "$s"
	done
fi

pass=0 fail=0 skip=0 broken=0
log=$(mktemp /tmp/berth-suite.XXXXXX)
for t in "$@"; do
	name=${t#"$src"/}
	name=${name#"$build"/}
	start=$(date +%s)
	case "$t" in
	*.sh) timeout -k 10 "$per_file_timeout" sh "$t" >"$log" 2>&1 ;;
	*) timeout -k 10 "$per_file_timeout" "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	secs=$(( $(date +%s) - start ))
	counts=$(awk '
		/^ok [0-9]+.*# [Ss][Kk][Ii][Pp]/ { s++; next }
		/^ok [0-9]+/ { p++; next }
		/^not ok [0-9]+.*# TODO/ { next }
		/^not ok [0-9]+/ { f++; next }
		/^1\.\.[0-9]+/ { sub(/^1\.\./, ""); plan = $0 + 0; hasplan = 1 }
		/^1\.\.0 # SKIP/ { skipall = 1 }
		END { printf "%d %d %d %d %d %d\n", p, f, s, plan, hasplan, skipall }' "$log")
	set -- $counts "$@"
	p=$1 f=$2 s=$3 plan=$4 hasplan=$5 skipall=$6
	shift 6
	status=ok
	if [ "$skipall" = 1 ]; then
		status="skipped: $(grep -m1 '^1\.\.0' "$log" | sed 's/^1\.\.0 # SKIP *//')"
	elif [ "$f" -gt 0 ] || [ "$rc" -ne 0 ] || [ "$hasplan" != 1 ] || [ $((p + f + s)) -ne "$plan" ]; then
		status="FAILED (exit $rc, $f of $plan failed)"
		if [ "$f" -eq 0 ]; then
			broken=$((broken + 1))
			f=1
		fi
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '[%s] %-44s %s (%d tests, %ds)\n' "$label" "$name" "$status" $((p + f + s)) "$secs"
	case "$status" in
	FAILED*) sed -e 's/^/    /' "$log" | tail -n 120 ;;
	esac
done
rm -f "$log"
echo "[$label] $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
