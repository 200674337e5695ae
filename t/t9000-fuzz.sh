#!/bin/sh
test_description='fuzz: short libFuzzer runs of every parser that reads untrusted bytes (built by make fuzz)'
. "$(dirname "$0")/test-lib.sh"

secs=${BERTH_FUZZ_SECONDS:-15}
found=0
for name in http dns; do
	F=$BERTH_BUILD_DIR/t/fuzz/fuzz-$name
	C=$BERTH_SRC_DIR/t/fuzz/corpus-$name
	[ -x "$F" ] || continue
	found=1
	test_expect_success "fuzz-$name: the seed corpus replays clean" "
		'$F' -runs=0 '$C'/* >replay-$name.log 2>&1 || { tail -n 30 replay-$name.log; false; }
	"
	test_expect_success "fuzz-$name: $secs seconds without a crash, leak or hang" "
		mkdir corpus-$name && cp '$C'/* corpus-$name/ &&
		'$F' -max_total_time=$secs -timeout=10 -rss_limit_mb=2048 -artifact_prefix='$TRASH/' corpus-$name \
			>fuzz-$name.log 2>&1 || { tail -n 40 fuzz-$name.log; false; }
	"
done
[ $found = 1 ] || skip_all "no fuzzer built (make fuzz; needs clang)"

test_done
