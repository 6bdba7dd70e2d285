#!/bin/sh
# SPDX-License-Identifier: MIT
# The Nightscout plugin as Nightscout loads it: Node's built-in test runner
# runs tests/plugin/plugin.test.js on the built package folder
# plugin/package/, against a MongoDB-wire server.
srcdir=${NSC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
if [ -z "${NSC_TEST_MONGODB_URI:-}" ]; then
	exec sh "$srcdir/tests/with-mongo.sh" sh "$0" "$@"
fi
. "$srcdir/tests/lib.sh"
. "$srcdir/tests/plugin_env.sh"
run_plugin_tests "$srcdir/tests/plugin/plugin.test.js"
