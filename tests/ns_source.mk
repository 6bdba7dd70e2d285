# Nightscout as a source: the pure protocol and the driver against the test Nightscout.
if HAVE_MHD
if HAVE_CHECK
check_PROGRAMS += tests/check_ns_source
TESTS += tests/check_ns_source
tests_check_ns_source_SOURCES = tests/check_ns_source.c tests/keep_output.c tests/keep_output.h $(NSC_ENGINE_TEST_SOURCES) $(NSC_TEST_SERVER_SOURCES)
tests_check_ns_source_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_ns_source_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS) -lm
endif
endif
