/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the log redactor's own interface (src/log_redact.h):
 * the spellings a secret is kept in, adding and removing them, the
 * longest-first order, and the text transformation with and without
 * registered secrets. check_log covers the same rules through a logger.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "log_redact.h"
#include "nsc_check.h"

/* Redacts `in` with r and compares with `want`; also checks the length it reports. */
static void assert_applied(const struct nsc_redactor *r, const char *in, const char *want)
{
	size_t len = 12345;
	char *out = nsc_redactor_apply(r, in, strlen(in), &len);

	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(len, strlen(want));
	free(out);
}

static void add_secret(struct nsc_redactor *r, const char *secret)
{
	struct nsc_redact_spellings sp;

	ck_assert_int_eq(nsc_redact_spellings(secret, &sp), NSC_OK);
	ck_assert_int_eq(nsc_redactor_add(r, &sp), NSC_OK);
	ck_assert_uint_eq(sp.n, 0); /* taken over */
	nsc_redact_spellings_free(&sp);
}

static int has_spelling(const struct nsc_redact_spellings *sp, const char *want)
{
	for (size_t i = 0; i < sp->n; i++) {
		if (strcmp(sp->v[i], want) == 0)
			return 1;
	}
	return 0;
}

START_TEST(test_spellings)
{
	struct nsc_redact_spellings sp;

	ck_assert_int_eq(nsc_redact_spellings("a b/\"c!", &sp), NSC_OK);
	ck_assert_uint_eq(sp.n, NSC_REDACT_SPELLINGS);
	ck_assert_str_eq(sp.v[0], "a b/\"c!");
	ck_assert(has_spelling(&sp, "a%20b%2F%22c%21"));  /* RFC 3986, upper-case hex */
	ck_assert(has_spelling(&sp, "a%20b%2f%22c%21"));  /* lower-case hex */
	ck_assert(has_spelling(&sp, "a+b%2F%22c%21"));    /* form */
	ck_assert(has_spelling(&sp, "a%20b%2F%22c!"));    /* encodeURIComponent */
	ck_assert(has_spelling(&sp, "a b/\\\"c!"));       /* JSON */
	ck_assert(has_spelling(&sp, "a b\\/\\\"c!"));     /* JSON with \/ */
	nsc_redact_spellings_free(&sp);
	ck_assert_uint_eq(sp.n, 0);
	ck_assert_ptr_null(sp.v[0]);

	/* Too short to tell from ordinary text, or none at all: nothing to redact. */
	ck_assert_int_eq(nsc_redact_spellings("ab", &sp), NSC_OK);
	ck_assert_uint_eq(sp.n, 0);
	ck_assert_int_eq(nsc_redact_spellings(NULL, &sp), NSC_OK);
	ck_assert_uint_eq(sp.n, 0);
	ck_assert_int_eq(nsc_redact_spellings("abc", &sp), NSC_OK);
	ck_assert_uint_eq(sp.n, NSC_REDACT_SPELLINGS);
	nsc_redact_spellings_free(&sp);
}
END_TEST

START_TEST(test_add_apply_remove)
{
	struct nsc_redactor r = { 0 };
	struct nsc_redact_spellings sp;

	assert_applied(&r, "user hunter2x logged in", "user hunter2x logged in");
	add_secret(&r, "p@ss word");
	/* Only the distinct spellings are kept (several encodings agree here). */
	ck_assert_uint_gt(r.n, 1);
	ck_assert_uint_le(r.n, NSC_REDACT_SPELLINGS);
	size_t held = r.n;
	add_secret(&r, "p@ss word"); /* twice: nothing new, but counted */
	ck_assert_uint_eq(r.n, held);

	assert_applied(&r, "say p@ss word now", "say " NSC_REDACTED " now");
	assert_applied(&r, "q=p%40ss%20word&x=1", "q=" NSC_REDACTED "&x=1");
	assert_applied(&r, "q=p%40ss+word", "q=" NSC_REDACTED);

	/* Registered twice, it stays until removed twice. */
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(nsc_redact_spellings("p@ss word", &sp), NSC_OK);
		nsc_redactor_remove(&r, &sp);
		ck_assert_uint_eq(sp.n, NSC_REDACT_SPELLINGS); /* still the caller's */
		nsc_redact_spellings_free(&sp);
		ck_assert_uint_eq(r.n, round == 0 ? held : 0);
		if (round == 0)
			assert_applied(&r, "say p@ss word now", "say " NSC_REDACTED " now");
	}
	assert_applied(&r, "say p@ss word now", "say p@ss word now");
	nsc_redactor_fini(&r);
}
END_TEST

START_TEST(test_longest_first)
{
	struct nsc_redactor r = { 0 };

	add_secret(&r, "abc");
	add_secret(&r, "abcdef");
	for (size_t i = 1; i < r.n; i++)
		ck_assert_uint_ge(r.lens[i - 1], r.lens[i]);
	/* The shorter secret must not split the longer one. */
	assert_applied(&r, "x abcdef y abc z", "x " NSC_REDACTED " y " NSC_REDACTED " z");
	nsc_redactor_fini(&r);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_ptr_null(r.spellings);
	ck_assert_ptr_null(r.lens);
	/* Reusable after fini. */
	add_secret(&r, "abc");
	assert_applied(&r, "abc", NSC_REDACTED);
	nsc_redactor_fini(&r);
}
END_TEST

START_TEST(test_patterns_without_secrets)
{
	/* No redactor: the credential patterns still apply. */
	assert_applied(NULL, "https://u:pw9x@h/?token=abc9x&q=1", "https://u:" NSC_REDACTED "@h/?token=" NSC_REDACTED "&q=1");
	assert_applied(NULL, "plain text, nothing secret", "plain text, nothing secret");
	assert_applied(NULL, "", "");

	/* A length cuts the input: what lies beyond is not read. */
	size_t len = 0;
	char *out = nsc_redactor_apply(NULL, "token=abcdef", 5, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "token");
	ck_assert_uint_eq(len, 5);
	free(out);
	out = nsc_redactor_apply(NULL, "abc", 3, NULL); /* the length is optional */
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "abc");
	free(out);
}
END_TEST

static Suite *log_redact_suite(void)
{
	Suite *s = suite_create("log_redact");
	TCase *tc = tcase_create("redactor");

	tcase_add_test(tc, test_spellings);
	tcase_add_test(tc, test_add_apply_remove);
	tcase_add_test(tc, test_longest_first);
	tcase_add_test(tc, test_patterns_without_secrets);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(log_redact_suite)
