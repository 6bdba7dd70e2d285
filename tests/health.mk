# Health and metrics: the board, its status and metrics pages, the
# CONNECT_HTTP_LISTEN parser and the HTTP listener, which the suite compiles
# in (it is not part of libnsconnect) and calls through libcurl.
# prom_parse.py reads a metrics page with the Prometheus client's own parser,
# for the shell tests of the programs that serve one.
EXTRA_DIST += tests/prom_parse.py
if HAVE_CHECK
check_PROGRAMS += tests/check_health
TESTS += tests/check_health
tests_check_health_SOURCES = tests/check_health.c tests/curl_reply.c tests/curl_reply.h \
	$(NSC_LOG_CAPTURE_SOURCES) $(NSC_HEALTH_LISTENER_SOURCES)
tests_check_health_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS)
tests_check_health_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(CURL_LIBS) $(JSONC_LIBS)
endif
