# Glooko: simulator on the test server, and its own tests over HTTP (no driver code).
NSC_TEST_SERVER_SOURCES += tests/server/glooko.c tests/server/glooko.h

if HAVE_MHD
if HAVE_CHECK
check_PROGRAMS += tests/check_test_glooko
TESTS += tests/check_test_glooko
tests_check_test_glooko_SOURCES = tests/check_test_glooko.c tests/curl_reply.c tests/curl_reply.h $(NSC_TEST_SERVER_SOURCES)
tests_check_test_glooko_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_test_glooko_LDADD = $(CHECK_LIBS) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS) -lm
endif
endif

# The Glooko source: the pure protocol on fixtures and the driver against the simulator.
if HAVE_MHD
if HAVE_CHECK
check_PROGRAMS += tests/check_glooko
TESTS += tests/check_glooko
tests_check_glooko_SOURCES = tests/check_glooko.c tests/keep_output.c tests/keep_output.h $(NSC_ENGINE_TEST_SOURCES) $(NSC_TEST_SERVER_SOURCES)
tests_check_glooko_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_glooko_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS) -lm
endif
endif
