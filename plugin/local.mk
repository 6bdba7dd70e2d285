# plugin/: the C embedding API (part of libnsconnect, declared in the
# installed <nsconnect.h>) and the Nightscout-side Node-API addon.
NSC_EMBED_SOURCES = plugin/embed.c
