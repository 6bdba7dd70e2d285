# CareLink's Auth0 + PKCE sign-in: the pure parts on the fixtures of reference/vendors.md §8.5.
if HAVE_CHECK
check_PROGRAMS += tests/check_carelink_auth
TESTS += tests/check_carelink_auth
tests_check_carelink_auth_SOURCES = tests/check_carelink_auth.c
tests_check_carelink_auth_CFLAGS = $(NSC_CHECK_CFLAGS) $(CRYPTO_CFLAGS)
tests_check_carelink_auth_LDADD = $(NSC_CHECK_LDADD) $(JSONC_LIBS) $(CRYPTO_LIBS)
endif
