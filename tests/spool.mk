# The spooled output: spool files, writer thread, outages, restarts, crashes.
if HAVE_CHECK
check_PROGRAMS += tests/check_spooled
TESTS += tests/check_spooled
tests_check_spooled_SOURCES = tests/check_spooled.c $(NSC_LOG_CAPTURE_SOURCES) tests/test_docs.c tests/test_docs.h
tests_check_spooled_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_spooled_LDADD = $(NSC_CHECK_LDADD)
endif
