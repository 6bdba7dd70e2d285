# The pieces of `serve`: tenant names and the folder listing, the closer
# (outputs closed off the loop) and the tenant set's scans, with the
# built-in simulator source and the filesystem output in a scratch folder.
if HAVE_CHECK
check_PROGRAMS += tests/check_tenants
TESTS += tests/check_tenants
tests_check_tenants_SOURCES = tests/check_tenants.c $(NSC_LOG_CAPTURE_SOURCES)
tests_check_tenants_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_tenants_LDADD = $(NSC_CHECK_LDADD)
endif
