# The Nightscout plugin (plugin/) in Node's own test runner, against a
# MongoDB-wire server: tests/plugin.sh runs tests/plugin/plugin.test.js.
EXTRA_DIST += tests/plugin/plugin.test.js
if BUILD_PLUGIN
if BUILD_MONGO
if HAVE_NODE
TESTS += tests/plugin.sh
dist_check_SCRIPTS += tests/plugin.sh
endif
endif
endif
