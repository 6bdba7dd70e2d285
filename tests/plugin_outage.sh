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
. "$srcdir/tests/plugin_env.sh"
run_plugin_tests "$srcdir/tests/plugin/outage.test.js"
