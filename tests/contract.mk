# The driver contract: every registered source with a driver, through the
# engine, against its simulator (tests/check_driver_contract.c).
if HAVE_MHD
if HAVE_CHECK
check_PROGRAMS += tests/check_driver_contract
TESTS += tests/check_driver_contract
tests_check_driver_contract_SOURCES = tests/check_driver_contract.c $(NSC_ENGINE_TEST_SOURCES) $(NSC_TEST_SERVER_SOURCES)
tests_check_driver_contract_CFLAGS = $(NSC_CHECK_CFLAGS) $(MHD_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_driver_contract_LDADD = $(NSC_CHECK_LDADD) $(MHD_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) $(CURL_LIBS) -lm
endif
endif
