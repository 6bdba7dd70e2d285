# LibreLinkUp: simulator on the test server, driver tests.
NSC_TEST_SERVER_SOURCES += tests/server/librelinkup.c tests/server/librelinkup.h

if HAVE_MHD
if HAVE_CHECK
check_PROGRAMS += tests/check_librelinkup
TESTS += tests/check_librelinkup
tests_check_librelinkup_SOURCES = tests/check_librelinkup.c $(NSC_TEST_SERVER_SOURCES) $(NSC_ENGINE_TEST_SOURCES)
tests_check_librelinkup_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_librelinkup_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS) -lm
endif
endif
