# Dexcom Share: simulator on the test server, its own tests over HTTP (many
# accounts, no driver code), driver tests.
NSC_TEST_SERVER_SOURCES += tests/server/dexcom.c tests/server/dexcom.h

if HAVE_MHD
if HAVE_CHECK
check_PROGRAMS += tests/check_test_dexcom
TESTS += tests/check_test_dexcom
tests_check_test_dexcom_SOURCES = tests/check_test_dexcom.c tests/curl_reply.c tests/curl_reply.h $(NSC_TEST_SERVER_SOURCES)
tests_check_test_dexcom_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_test_dexcom_LDADD = $(CHECK_LIBS) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS) -lm

check_PROGRAMS += tests/check_dexcom
TESTS += tests/check_dexcom
tests_check_dexcom_SOURCES = tests/check_dexcom.c $(NSC_ENGINE_TEST_SOURCES) $(NSC_TEST_SERVER_SOURCES)
tests_check_dexcom_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_dexcom_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS)
endif
endif

# `make bench-tenants`: memory, CPU, delay and connections of `serve` with
# 1 to 10,000 Dexcom tenants against the simulator (NSC_BENCH_SIZES,
# NSC_BENCH_SECONDS); figures, not a test.
EXTRA_DIST += tests/bench_tenants.sh
if HAVE_MHD
bench-tenants: src/nightscout-connect tests/server/nsc-test-server
	NSC_BUILDDIR=$(abs_top_builddir) NSC_SRCDIR=$(abs_top_srcdir) sh $(top_srcdir)/tests/bench_tenants.sh
.PHONY: bench-tenants
endif
