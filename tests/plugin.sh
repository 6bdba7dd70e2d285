#!/bin/sh
# SPDX-License-Identifier: MIT
# The Nightscout plugin as Nightscout loads it: Node's built-in test runner
# (TAP for Automake's driver) runs tests/plugin/plugin.test.js on the built
# package folder plugin/package/, against a MongoDB-wire server.
srcdir=${NSC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
if [ -z "${NSC_TEST_MONGODB_URI:-}" ]; then
	exec sh "$srcdir/tests/with-mongo.sh" sh "$0" "$@"
fi
. "$srcdir/tests/lib.sh"

node=${NODE:-node}
addon=$NSC_BUILDDIR/plugin/package/nsconnect.node
[ -r "$addon" ] || { echo "Bail out! $addon is not built"; exit 99; }
# An ASan build: the sanitizer's runtime must be loaded before Node itself;
# Node's own allocations at exit are not this project's leaks.
asan=$(ldd "$addon" 2>/dev/null | sed -n 's/^[[:space:]]*libasan[^ ]* => \([^ ]*\) .*/\1/p')
if [ -n "$asan" ]; then
	LD_PRELOAD=$asan${LD_PRELOAD:+:$LD_PRELOAD}
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	export LD_PRELOAD ASAN_OPTIONS
fi
NSC_PLUGIN_DIR=$NSC_BUILDDIR/plugin/package
NSC_MONGO_PROBE=$NSC_BUILDDIR/tests/nsc-mongo-probe
export NSC_PLUGIN_DIR NSC_MONGO_PROBE
"$node" --test --test-reporter=tap "$srcdir/tests/plugin/plugin.test.js"
