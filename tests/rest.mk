# REST output tests: the v1/v3 backends against the in-process test server
# (tests/server/, libmicrohttpd), the status classification table, and the
# standalone test server for integration scripts.

NSC_TEST_SERVER_SOURCES = \
	tests/server/server.c tests/server/server.h \
	tests/server/nightscout.c tests/server/nightscout.h \
	tests/server/ns_find.c tests/server/ns_find.h \
	tests/server/iso_time.c tests/server/iso_time.h

if HAVE_MHD
noinst_PROGRAMS += tests/server/nsc-test-server
tests_server_nsc_test_server_SOURCES = tests/server/nsc-test-server.c $(NSC_TEST_SERVER_SOURCES)
tests_server_nsc_test_server_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
tests_server_nsc_test_server_LDADD = $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS)

TESTS += tests/cli_rest.sh tests/cli_backfill.sh
dist_check_SCRIPTS += tests/cli_rest.sh tests/cli_backfill.sh

# `make bench-rest`: the rest3 upload of a 48-hour first capture against the
# test Nightscout with a latency; BENCH_REST_ARGS="LATENCY_MS CONCURRENCY..."
# (default 40 ms, one POST at a time and 4).
noinst_PROGRAMS += tests/nsc-bench-rest
tests_nsc_bench_rest_SOURCES = tests/bench_rest.c tests/sim_batch.c tests/sim_batch.h \
	$(NSC_TEST_SERVER_SOURCES)
tests_nsc_bench_rest_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
tests_nsc_bench_rest_LDADD = src/libnsconnect-internal.la $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS)
bench-rest: tests/nsc-bench-rest
	tests/nsc-bench-rest $(BENCH_REST_ARGS)
.PHONY: bench-rest

# `make bench-backfill`: time, documents and peak memory of a 90-day backfill
# (BENCH_DAYS=N for another span), from the simulator and from a Nightscout.
EXTRA_DIST += tests/bench_backfill.sh
bench-backfill: src/nightscout-connect tests/server/nsc-test-server
	NSC_BUILDDIR=$(abs_top_builddir) NSC_SRCDIR=$(abs_top_srcdir) sh $(top_srcdir)/tests/bench_backfill.sh
.PHONY: bench-backfill

if HAVE_CHECK
check_PROGRAMS += tests/check_rest
TESTS += tests/check_rest
tests_check_rest_SOURCES = tests/check_rest.c $(NSC_LOG_CAPTURE_SOURCES) tests/test_docs.c tests/test_docs.h $(NSC_TEST_SERVER_SOURCES)
tests_check_rest_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_rest_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS)

# The sources' asynchronous HTTP call, on the same test server.
check_PROGRAMS += tests/check_vendor_http
TESTS += tests/check_vendor_http
tests_check_vendor_http_SOURCES = tests/check_vendor_http.c $(NSC_ENGINE_TEST_SOURCES) \
	tests/server/server.c tests/server/server.h
tests_check_vendor_http_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS)
tests_check_vendor_http_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CURL_LIBS)
endif
endif
