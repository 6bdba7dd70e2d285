#!/bin/sh
# SPDX-License-Identifier: MIT
# The Nightscout plugin through MongoDB outages (tests/plugin/outage.test.js):
# the server stopped for a minute, and a server that hangs while Nightscout
# tears the plugin down. It stops, hangs and restarts its server, so it runs
# under a private one (with-mongo.sh --own), never the one other tests share.
srcdir=${NSC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
if [ -z "${NSC_PLUGIN_OUTAGE_OWN_SERVER:-}" ]; then
	NSC_PLUGIN_OUTAGE_OWN_SERVER=1 exec sh "$srcdir/tests/with-mongo.sh" --own sh "$0" "$@"
fi
. "$srcdir/tests/lib.sh"

node=${NODE:-node}
addon=$NSC_BUILDDIR/plugin/package/nsconnect.node
[ -r "$addon" ] || { echo "Bail out! $addon is not built"; exit 99; }
asan=$(ldd "$addon" 2>/dev/null | sed -n 's/^[[:space:]]*libasan[^ ]* => \([^ ]*\) .*/\1/p')
if [ -n "$asan" ]; then
	LD_PRELOAD=$asan${LD_PRELOAD:+:$LD_PRELOAD}
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	export LD_PRELOAD ASAN_OPTIONS
fi
NSC_PLUGIN_DIR=$NSC_BUILDDIR/plugin/package
NSC_MONGO_PROBE=$NSC_BUILDDIR/tests/nsc-mongo-probe
export NSC_PLUGIN_DIR NSC_MONGO_PROBE
"$node" --test --test-reporter=tap "$srcdir/tests/plugin/outage.test.js"
