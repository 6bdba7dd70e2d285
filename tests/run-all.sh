#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite, from a fresh checkout: installs the test
# dependencies, then builds and runs `make check` with warnings as errors,
# again under ASan+UBSan, and `make distcheck`, each against a MongoDB-wire
# server (FerretDB, built and started by tests/with-mongo.sh unless
# NSC_TEST_MONGODB_URI names one). MongoDB tests never skip here.
# Exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
export NSC_REQUIRE_MONGO=1
with_mongo="sh $top/tests/with-mongo.sh"

sh tests/install-deps.sh test
# The builds below are out of tree; an in-tree build (the quick start's) would block them.
if [ -f config.status ]; then
	echo "run-all: cleaning the in-tree build first (make distclean)" >&2
	make -s distclean
fi
autoreconf -fi

step() { printf '\n=== %s ===\n' "$*"; }

# --with-node-headers=yes: the Nightscout plugin and its tests must be built
# here; configure fails rather than quietly leaving them out.
step "build and unit/integration tests (-Werror)"
rm -rf build/plain && mkdir -p build/plain && cd build/plain
"$top/configure" -q --enable-werror --with-node-headers=yes
make -s -j"$jobs"
$with_mongo make -s -j"$jobs" check || { cat tests/*.log tests/mongo/*.log 2>/dev/null | tail -200; exit 1; }
cd "$top"

step "the same tests under AddressSanitizer and UndefinedBehaviorSanitizer"
rm -rf build/asan && mkdir -p build/asan && cd build/asan
"$top/configure" -q --enable-werror --enable-asan --with-node-headers=yes
make -s -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 $with_mongo make -s -j"$jobs" check || { cat tests/*.log tests/mongo/*.log 2>/dev/null | tail -200; exit 1; }
cd "$top"

step "distcheck"
cd build/plain
$with_mongo make -s distcheck
cd "$top"

# One closing line with the totals, for readers of CI logs.
trs=$(find build/plain/tests build/asan/tests -name '*.trs' 2>/dev/null)
pass=$(cat $trs | grep -c '^:test-result: PASS' || true)
fail=$(cat $trs | grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)' || true)
skip=$(cat $trs | grep -c '^:test-result: SKIP' || true)
echo "$pass passed, $fail failed, $skip skipped"
# Nothing may be skipped here: a skipped MongoDB test would hide a missing server.
[ "$fail" -eq 0 ] && [ "$skip" -eq 0 ]
