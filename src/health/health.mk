# Health and metrics: the board the loop publishes each tenant's status on,
# its JSON and Prometheus renderers, /proc numbers and the listen address
# (in libnsconnect); the HTTP listener on libmicrohttpd, which only the
# nightscout-connect program links, so the library does not depend on it.
NSC_HEALTH_SOURCES = \
	src/health/board.c src/health/board.h \
	src/health/render.h src/health/render_status.c src/health/render_metrics.c \
	src/health/text.c src/health/text.h \
	src/health/proc.c src/health/proc.h \
	src/health/addr.c src/health/addr.h
NSC_HEALTH_LISTENER_SOURCES = src/health/listener.c src/health/listener.h
