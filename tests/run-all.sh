#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole test suite, from a fresh checkout: installs the test
# dependencies, then builds and runs `make check` with warnings as errors,
# again under ASan+UBSan, and `make distcheck`. Exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

sh tests/install-deps.sh test
# The builds below are out of tree; an in-tree build (the quick start's) would block them.
if [ -f config.status ]; then
	echo "run-all: cleaning the in-tree build first (make distclean)" >&2
	make -s distclean
fi
autoreconf -fi

step() { printf '\n=== %s ===\n' "$*"; }

step "build and unit/integration tests (-Werror)"
rm -rf build/plain && mkdir -p build/plain && cd build/plain
"$top/configure" -q --enable-werror
make -s -j"$jobs"
make -s -j"$jobs" check || { cat tests/*.log 2>/dev/null | tail -200; exit 1; }
cd "$top"

step "the same tests under AddressSanitizer and UndefinedBehaviorSanitizer"
rm -rf build/asan && mkdir -p build/asan && cd build/asan
"$top/configure" -q --enable-werror --enable-asan
make -s -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 make -s -j"$jobs" check || { cat tests/*.log 2>/dev/null | tail -200; exit 1; }
cd "$top"

step "distcheck"
cd build/plain
make -s distcheck
cd "$top"

# One closing line with the totals, for readers of CI logs.
pass=$(cat build/plain/tests/*.trs build/asan/tests/*.trs 2>/dev/null | grep -c '^:test-result: PASS' || true)
fail=$(cat build/plain/tests/*.trs build/asan/tests/*.trs 2>/dev/null | grep -c '^:test-result: FAIL' || true)
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
