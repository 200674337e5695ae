#!/bin/sh
test_description='fuzz: a short libFuzzer run of the request parser and router (built by make fuzz)'
. "$(dirname "$0")/test-lib.sh"

F=$BERTH_BUILD_DIR/t/fuzz/fuzz-http
[ -x "$F" ] || skip_all "fuzz-http not built (make fuzz; needs clang)"

test_expect_success 'the seed corpus replays clean' '
	"$F" -runs=0 "$BERTH_SRC_DIR/t/fuzz/corpus-http"/* >replay.log 2>&1
'

test_expect_success 'fuzz for ${BERTH_FUZZ_SECONDS:-20} seconds: no crash, no leak, no hang' '
	mkdir corpus &&
	cp "$BERTH_SRC_DIR/t/fuzz/corpus-http"/* corpus/ &&
	"$F" -max_total_time="${BERTH_FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$TRASH/" corpus >fuzz.log 2>&1 ||
	{ tail -n 40 fuzz.log; false; }
'

test_done
