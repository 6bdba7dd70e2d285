# Dexcom Share: simulator on the test server, driver tests.
NSC_TEST_SERVER_SOURCES += tests/server/dexcom.c tests/server/dexcom.h

if HAVE_MHD
if HAVE_CHECK
check_PROGRAMS += tests/check_dexcom
TESTS += tests/check_dexcom
tests_check_dexcom_SOURCES = tests/check_dexcom.c $(NSC_ENGINE_TEST_SOURCES) $(NSC_TEST_SERVER_SOURCES)
tests_check_dexcom_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_dexcom_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS)
endif
endif
