# plugin/: the C embedding API (part of libnsconnect, declared in the
# installed <nsconnect.h>) and the Nightscout-side Node-API addon.
NSC_EMBED_SOURCES = plugin/embed.c

# The Node-API addon, a libtool module named nsconnect.node with the engine
# linked in (only system libraries stay shared). It is installed with its
# JavaScript entry as an npm package folder, $(plugindir); the build also
# assembles that folder in the build tree, plugin/package/, for the tests
# and for `npm install /path/to/plugin/package`.
EXTRA_DIST += plugin/index.js plugin/package.json
if BUILD_PLUGIN
plugindir = $(pkglibdir)/nightscout-connect
plugin_LTLIBRARIES = plugin/nsconnect.la
plugin_nsconnect_la_SOURCES = plugin/addon.c plugin/addon.h plugin/addon_events.c
plugin_nsconnect_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(NODE_HEADERS)
plugin_nsconnect_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(JSONC_CFLAGS)
plugin_nsconnect_la_LIBADD = src/libnsconnect-internal.la
plugin_nsconnect_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shrext .node
plugin_DATA = plugin/package/index.js plugin/package/package.json

plugin/package/index.js: $(srcdir)/plugin/index.js
	$(AM_V_GEN)$(MKDIR_P) plugin/package && cp $(srcdir)/plugin/index.js $@
# The package's version is the release's.
plugin/package/package.json: $(srcdir)/plugin/package.json
	$(AM_V_GEN)$(MKDIR_P) plugin/package && \
	sed 's/"version": "[^"]*"/"version": "$(PACKAGE_VERSION)"/' $(srcdir)/plugin/package.json >$@
plugin/package/nsconnect.node: plugin/nsconnect.la
	$(AM_V_GEN)$(MKDIR_P) plugin/package && cp plugin/.libs/nsconnect.node $@

all-local: plugin/package/index.js plugin/package/package.json plugin/package/nsconnect.node
clean-local:
	-rm -rf plugin/package
# libtool's .la file has no use in an npm package; without it libtool's
# uninstall no longer knows the .node.
install-data-hook:
	rm -f $(DESTDIR)$(plugindir)/nsconnect.la
uninstall-hook:
	rm -f $(DESTDIR)$(plugindir)/nsconnect.node
endif
