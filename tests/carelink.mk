# Medtronic CareLink: simulator on the test server, and its own tests over HTTP (no driver code).
NSC_TEST_SERVER_SOURCES += tests/server/carelink.c tests/server/carelink.h

if HAVE_MHD
if HAVE_CHECK
check_PROGRAMS += tests/check_test_carelink
TESTS += tests/check_test_carelink
tests_check_test_carelink_SOURCES = tests/check_test_carelink.c tests/curl_reply.c tests/curl_reply.h $(NSC_TEST_SERVER_SOURCES)
tests_check_test_carelink_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_test_carelink_LDADD = $(CHECK_LIBS) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS) -lm
endif
endif

# The CareLink source: the pure protocol on fixtures and the driver against the
# simulator; carelink-login end to end against the standalone test server.
if HAVE_MHD
TESTS += tests/cli_carelink_login.sh
dist_check_SCRIPTS += tests/cli_carelink_login.sh
if HAVE_CHECK
check_PROGRAMS += tests/check_carelink
TESTS += tests/check_carelink
tests_check_carelink_SOURCES = tests/check_carelink.c tests/keep_output.c tests/keep_output.h $(NSC_ENGINE_TEST_SOURCES) $(NSC_TEST_SERVER_SOURCES)
tests_check_carelink_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_carelink_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS) -lm
endif
endif
