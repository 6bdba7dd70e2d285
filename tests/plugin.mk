# The Nightscout plugin (plugin/) in Node's own test runner, against a
# MongoDB-wire server: tests/plugin.sh runs tests/plugin/plugin.test.js.
EXTRA_DIST += tests/plugin/plugin.test.js tests/plugin/outage.test.js tests/plugin_env.sh
if BUILD_PLUGIN
if BUILD_MONGO
if HAVE_NODE
TESTS += tests/plugin.sh tests/plugin_outage.sh
dist_check_SCRIPTS += tests/plugin.sh tests/plugin_outage.sh
endif
endif
endif
