/* SPDX-License-Identifier: MIT */
/*
 * The driver kit's pure parts: the default status map and a driver's
 * override rules, the verdict shape, and the secret slot's bookkeeping
 * with the log redactor (a held value never prints; a dropped one is
 * forgotten).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nsc_check.h"
#include "sources/kit/secret_slot.h"
#include "sources/kit/verdict.h"

static const struct nsc_vendor_status_rule rules[] = {
	{ 430, NSC_VENDOR_PHASE_DATA, NSC_ERR_RETRY, 1800000, "%s blocked us (HTTP %ld)" },
	{ 403, NSC_VENDOR_PHASE_LOGIN, NSC_ERR_REJECTED, 0, "%s refused the account (HTTP %ld)" },
	{ 429, NSC_VENDOR_PHASE_DATA, NSC_ERR_RETRY, 5000, "%s: slow down (HTTP %ld)" },
	{ 0, 0, 0, 0, NULL },
};

static const struct nsc_vendor_words plain = {
	.who = "Acme Cloud", .server_setting = "CONNECT_ACME_SERVER", .rate_hold_off_ms = 60000,
};
static const struct nsc_vendor_words custom = {
	.who = "Acme Cloud", .server_setting = "CONNECT_ACME_SERVER", .rate_hold_off_ms = 60000, .rules = rules,
};

START_TEST(default_status_map)
{
	static const struct {
		enum nsc_vendor_phase phase;
		long status;
		int64_t retry_after_ms;
		nsc_rc rc;
		int64_t hold;
		const char *words;
	} cases[] = {
		{ NSC_VENDOR_PHASE_DATA, 200, -1, NSC_OK, 0, "" },
		{ NSC_VENDOR_PHASE_LOGIN, 204, -1, NSC_OK, 0, "" },
		{ NSC_VENDOR_PHASE_DATA, 401, -1, NSC_ERR_AUTH, 0, "no longer accepts the session" },
		/* A refused login request is not a refused password. */
		{ NSC_VENDOR_PHASE_LOGIN, 401, -1, NSC_ERR_RETRY, 0, "refused the login request" },
		{ NSC_VENDOR_PHASE_DATA, 429, -1, NSC_ERR_RETRY, 60000, "slow down" },
		{ NSC_VENDOR_PHASE_LOGIN, 429, 120000, NSC_ERR_RETRY, 120000, "slow down" },
		{ NSC_VENDOR_PHASE_DATA, 400, -1, NSC_ERR_RETRY, 0, "malformed" },
		{ NSC_VENDOR_PHASE_DATA, 404, -1, NSC_ERR_RETRY, 0, "check CONNECT_ACME_SERVER" },
		{ NSC_VENDOR_PHASE_DATA, 503, -1, NSC_ERR_RETRY, 0, "unavailable (HTTP 503)" },
		{ NSC_VENDOR_PHASE_DATA, 418, -1, NSC_ERR_RETRY, 0, "HTTP 418 unexpectedly" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_vendor_verdict v;
		memset(&v, 0x55, sizeof(v));
		nsc_rc rc = nsc_vendor_status_verdict(&plain, cases[i].phase, cases[i].status,
						      cases[i].retry_after_ms, &v);
		ck_assert_msg(rc == cases[i].rc && v.rc == rc, "case %zu: %s", i, nsc_rc_name(rc));
		ck_assert_msg(v.hold_off_ms == cases[i].hold, "case %zu: hold %lld", i, (long long)v.hold_off_ms);
		ck_assert_msg(strstr(v.msg, cases[i].words) != NULL, "case %zu: %s", i, v.msg);
		if (rc != NSC_OK)
			ck_assert_msg(strstr(v.msg, "Acme Cloud") != NULL, "case %zu names the vendor: %s", i, v.msg);
		else
			ck_assert_str_eq(v.msg, "");
	}
}
END_TEST

START_TEST(override_rules_come_first)
{
	struct nsc_vendor_verdict v;
	ck_assert_int_eq(nsc_vendor_status_verdict(&custom, NSC_VENDOR_PHASE_DATA, 430, -1, &v), NSC_ERR_RETRY);
	ck_assert_int_eq(v.hold_off_ms, 1800000);
	ck_assert_str_eq(v.msg, "Acme Cloud blocked us (HTTP 430)");
	/* A rule is for its phase only: a 403 on data keeps the default meaning. */
	ck_assert_int_eq(nsc_vendor_status_verdict(&custom, NSC_VENDOR_PHASE_LOGIN, 403, -1, &v), NSC_ERR_REJECTED);
	ck_assert_str_eq(v.msg, "Acme Cloud refused the account (HTTP 403)");
	ck_assert_int_eq(nsc_vendor_status_verdict(&custom, NSC_VENDOR_PHASE_DATA, 403, -1, &v), NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(v.msg, "HTTP 403 unexpectedly"));
	/* A 429 rule still honours Retry-After, else its own hold-off. */
	nsc_vendor_status_verdict(&custom, NSC_VENDOR_PHASE_DATA, 429, -1, &v);
	ck_assert_int_eq(v.hold_off_ms, 5000);
	nsc_vendor_status_verdict(&custom, NSC_VENDOR_PHASE_DATA, 429, 9000, &v);
	ck_assert_int_eq(v.hold_off_ms, 9000);
}
END_TEST

static char logged[4096];

static void sink(void *ctx, enum nsc_log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	size_t used = strlen(logged), len = strlen(line);
	if (used + len + 1 < sizeof(logged)) {
		memcpy(logged + used, line, len);
		logged[used + len] = '\0';
	}
}

static struct nsc_log *capture(void)
{
	struct nsc_log *log = nsc_log_new(NSC_LOG_TRACE);
	ck_assert_ptr_nonnull(log);
	nsc_log_set_sink(log, sink, NULL);
	logged[0] = '\0';
	return log;
}

START_TEST(secret_slot_redacts_while_held)
{
	struct nsc_log *log = capture();
	struct nsc_secret_slot s;
	nsc_secret_slot_init(&s, log);
	ck_assert(!nsc_secret_slot_held(&s));
	ck_assert_int_eq(nsc_secret_slot_keep(&s, "session-aaaa-1111"), NSC_OK);
	ck_assert(nsc_secret_slot_held(&s));
	ck_assert_str_eq(nsc_secret_slot_get(&s), "session-aaaa-1111");
	nsc_info(log, "test", "event=one id=%s", "session-aaaa-1111");
	ck_assert_ptr_null(strstr(logged, "session-aaaa-1111"));

	/* Rolling registers the new value and forgets the old one. */
	char *next = strdup("session-bbbb-2222");
	ck_assert_ptr_nonnull(next);
	ck_assert_int_eq(nsc_secret_slot_roll(&s, next), NSC_OK);
	ck_assert_str_eq(nsc_secret_slot_get(&s), "session-bbbb-2222");
	logged[0] = '\0';
	nsc_info(log, "test", "event=two new=%s old=%s", "session-bbbb-2222", "session-aaaa-1111");
	ck_assert_ptr_null(strstr(logged, "session-bbbb-2222"));
	ck_assert_ptr_nonnull(strstr(logged, "session-aaaa-1111"));

	/* NULL keeps the value (an answer without a new ticket); the same value is no change. */
	ck_assert_int_eq(nsc_secret_slot_roll(&s, NULL), NSC_OK);
	ck_assert_str_eq(nsc_secret_slot_get(&s), "session-bbbb-2222");
	ck_assert_int_eq(nsc_secret_slot_keep(&s, "session-bbbb-2222"), NSC_OK);
	ck_assert_str_eq(nsc_secret_slot_get(&s), "session-bbbb-2222");

	/* Keeping "" forgets; a forgotten value is no longer redacted. */
	ck_assert_int_eq(nsc_secret_slot_keep(&s, ""), NSC_OK);
	ck_assert(!nsc_secret_slot_held(&s));
	ck_assert_ptr_null(nsc_secret_slot_get(&s));
	logged[0] = '\0';
	nsc_info(log, "test", "event=three old=%s", "session-bbbb-2222");
	ck_assert_ptr_nonnull(strstr(logged, "session-bbbb-2222"));
	nsc_secret_slot_forget(&s); /* harmless when empty */
	nsc_log_free(log);
}
END_TEST

static Suite *kit_suite(void)
{
	Suite *s = suite_create("kit");
	TCase *tc = tcase_create("verdict");
	tcase_add_test(tc, default_status_map);
	tcase_add_test(tc, override_rules_come_first);
	suite_add_tcase(s, tc);
	tc = tcase_create("secret_slot");
	tcase_add_test(tc, secret_slot_redacts_while_held);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(kit_suite)
