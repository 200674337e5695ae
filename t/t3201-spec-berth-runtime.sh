#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The t3200 cases, run with berth-runtime instead of runc: the generated
# specs must work with our own OCI runtime as well.
: "${BERTH_BUILD_DIR:=${abs_top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}}"
SPEC_RUNTIME="$BERTH_BUILD_DIR/runtime/berth-runtime"
export SPEC_RUNTIME
. "$(dirname "$0")/t3200-spec-runc.sh"
