/* SPDX-License-Identifier: MIT */
/*
 * Dexcom Share: the pure parts on the fixtures of reference/vendors.md
 * §8.1, then the real driver through the engine against the simulator
 * (tests/server/dexcom.h) on the harness's virtual clock.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/bridge.h"
#include "harness.h"
#include "nsc_check.h"
#include "server/dexcom.h"
#include "server/server.h"
#include "sources/registry.h"
#include "sources/dexcom/dexcom.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define USER "alice@example.com"
#define PASS "correct-pass"
#define MSG_WRONG "rejected the user name or password"

/* Nightscout's direction names by Dexcom trend number, the test's own copy. */
static const char *const directions[10] = { "NONE", "DoubleUp", "SingleUp", "FortyFiveUp", "Flat",
					    "FortyFiveDown", "SingleDown", "DoubleDown",
					    "NOT COMPUTABLE", "RATE OUT OF RANGE" };

/* ---- helpers ------------------------------------------------------------ */

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	ck_assert_msg(json_object_object_get_ex(o, key, &v), "member %s missing", key);
	return v;
}

static int64_t member_int(struct json_object *o, const char *key)
{
	return json_object_get_int64(member(o, key));
}

static const char *member_str(struct json_object *o, const char *key)
{
	return json_object_get_string(member(o, key));
}

static void iso_of(int64_t ms, char out[64])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static struct nsc_fetch_window window(int64_t from, int64_t to)
{
	struct nsc_fetch_window w;
	memset(&w, 0, sizeof(w));
	w.from_ms = from;
	w.to_ms = to;
	w.interval_ms = 5 * MIN;
	return w;
}

/* ---- pure: transform ---------------------------------------------------- */

static const char fixture_ok[] =
	"[{\"WT\":\"Date(1745081013817)\",\"ST\":\"Date(1745081013817)\",\"DT\":\"Date(1745081013817-0400)\",\"Value\":224,\"Trend\":\"Flat\"},"
	"{\"WT\":\"Date(1745080713817)\",\"ST\":\"Date(1745080713817)\",\"DT\":\"Date(1745080713817-0400)\",\"Value\":221,\"Trend\":\"FortyFiveUp\"},"
	"{\"WT\":\"Date(1745080413817)\",\"ST\":\"Date(1745080413817)\",\"DT\":\"Date(1745080413817-0400)\",\"Value\":210,\"Trend\":\"SingleUp\"}]";

static const char fixture_legacy[] =
	"[{\"DT\":\"/Date(1426292016000-0700)/\",\"ST\":\"/Date(1426295616000)/\",\"Trend\":4,\"Value\":101,\"WT\":\"/Date(1426292039000)/\"}]";

static void assert_entry(struct json_object *doc, int sgv, int64_t date, const char *iso, int trend,
			 const char *direction)
{
	ck_assert_str_eq(member_str(doc, "type"), "sgv");
	ck_assert_int_eq(member_int(doc, "sgv"), sgv);
	ck_assert_int_eq(member_int(doc, "date"), date);
	ck_assert_str_eq(member_str(doc, "dateString"), iso);
	ck_assert_int_eq(member_int(doc, "trend"), trend);
	ck_assert_str_eq(member_str(doc, "direction"), direction);
	ck_assert_str_eq(member_str(doc, "device"), "nsconnect-dexcomshare");
}

START_TEST(transform_fixture)
{
	struct nsc_batch b;
	struct nsc_error err;
	size_t skipped = 99;
	struct nsc_fetch_window w = window(1745080000000LL, 1745081020000LL);
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_dexcom_transform(fixture_ok, strlen(fixture_ok), &w, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 3);
	assert_entry(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), 224, 1745081013817LL, "2025-04-19T16:43:33.817Z", 4, "Flat");
	assert_entry(nsc_batch_get(&b, NSC_COLL_ENTRIES, 1), 221, 1745080713817LL, "2025-04-19T16:38:33.817Z", 3, "FortyFiveUp");
	assert_entry(nsc_batch_get(&b, NSC_COLL_ENTRIES, 2), 210, 1745080413817LL, "2025-04-19T16:33:33.817Z", 2, "SingleUp");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(transform_legacy_fixture)
{
	struct nsc_batch b;
	struct nsc_error err;
	size_t skipped = 99;
	struct nsc_fetch_window w = window(1426290000000LL, 1426292040000LL);
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_dexcom_transform(fixture_legacy, strlen(fixture_legacy), &w, &b, &skipped, &err),
			 NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 1);
	/* WT is the instant, not ST (an hour later) nor DT (23 s earlier). */
	assert_entry(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), 101, 1426292039000LL, "2015-03-14T00:13:59.000Z", 4, "Flat");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(transform_skips_and_window)
{
	const char *payload =
		"["
		"{\"WT\":\"Date(1000300000)\",\"Value\":100,\"Trend\":\"Sideways\"},"       /* kept: unknown trend -> NONE */
		"{\"WT\":\"junk\",\"ST\":\"Date(1000200000)\",\"Value\":101,\"Trend\":\"NotComputable\"}," /* ST fallback */
		"{\"DT\":\"Date(1000100000+0100)\",\"Value\":102,\"Trend\":\"RateOutOfRange\"},"  /* DT fallback */
		"{\"WT\":\"Date(1000400000)\",\"Value\":103,\"Trend\":12},"                 /* numeric out of range -> NONE */
		"{\"WT\":\"Date(1000500000)\",\"Value\":104,\"Trend\":6},"                  /* numeric */
		"{\"WT\":\"Date(1000000000)\",\"Value\":105,\"Trend\":\"Flat\"},"           /* == from: not ours */
		"{\"WT\":\"Date(999999999)\",\"Value\":106,\"Trend\":\"Flat\"},"            /* before: not ours */
		"{\"WT\":\"Date(1001030000)\",\"Value\":107,\"Trend\":\"flat\"},"           /* to + 30 s: tolerated */
		"{\"WT\":\"Date(1001100000)\",\"Value\":108,\"Trend\":\"Flat\"},"           /* to + 100 s: too far */
		"{\"WT\":\"Date(1000600000)\",\"Trend\":\"Flat\"},"                         /* skip: no Value */
		"{\"WT\":\"Date(1000600001)\",\"Value\":0},"                                /* skip: 0 */
		"{\"WT\":\"Date(1000600002)\",\"Value\":1001},"                             /* skip: > 1000 */
		"{\"WT\":\"Date(1000600003)\",\"Value\":\"110\"},"                          /* skip: string */
		"{\"WT\":\"Date(1000600004)\",\"Value\":110.5},"                            /* skip: fraction */
		"{\"Value\":111},"                                                          /* skip: no date */
		"{\"WT\":\"Date()\",\"Value\":112},"                                        /* skip: bad date */
		"17, null, \"x\""                                                           /* skip: not objects */
		"]";
	struct nsc_batch b;
	struct nsc_error err;
	size_t skipped = 0;
	struct nsc_fetch_window w = window(1000000000LL, 1001000000LL);
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_dexcom_transform(payload, strlen(payload), &w, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 10);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 6);
	struct json_object *d;
	d = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	ck_assert_int_eq(member_int(d, "sgv"), 100);
	ck_assert_int_eq(member_int(d, "trend"), 0);
	ck_assert_str_eq(member_str(d, "direction"), "NONE");
	d = nsc_batch_get(&b, NSC_COLL_ENTRIES, 1);
	ck_assert_int_eq(member_int(d, "date"), 1000200000LL);
	ck_assert_int_eq(member_int(d, "trend"), 8);
	ck_assert_str_eq(member_str(d, "direction"), "NOT COMPUTABLE");
	d = nsc_batch_get(&b, NSC_COLL_ENTRIES, 2);
	ck_assert_int_eq(member_int(d, "date"), 1000100000LL);
	ck_assert_int_eq(member_int(d, "trend"), 9);
	ck_assert_str_eq(member_str(d, "direction"), "RATE OUT OF RANGE");
	d = nsc_batch_get(&b, NSC_COLL_ENTRIES, 3);
	ck_assert_int_eq(member_int(d, "trend"), 0);
	d = nsc_batch_get(&b, NSC_COLL_ENTRIES, 4);
	ck_assert_int_eq(member_int(d, "trend"), 6);
	ck_assert_str_eq(member_str(d, "direction"), "SingleDown");
	d = nsc_batch_get(&b, NSC_COLL_ENTRIES, 5);
	ck_assert_int_eq(member_int(d, "sgv"), 107);
	ck_assert_str_eq(member_str(d, "direction"), "Flat");
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(transform_drops_what_is_no_list)
{
	static const char *const bad[] = { "", "{}", "[{", "\"x\"", "{\"Code\":\"SessionNotValid\"}", "<html></html>", "null" };
	struct nsc_fetch_window w = window(0, 2000000000000LL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nsc_batch b;
		struct nsc_error err;
		size_t skipped = 0;
		nsc_batch_init(&b);
		nsc_error_clear(&err);
		ck_assert_int_eq(nsc_dexcom_transform(bad[i], strlen(bad[i]), &w, &b, &skipped, &err), NSC_ERR_DROP);
		ck_assert_msg(strstr(err.msg, "Dexcom Share") != NULL, "%s", err.msg);
		ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 0);
		nsc_batch_clear(&b);
	}
	struct nsc_batch b;
	size_t skipped = 5;
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_dexcom_transform("[]", 2, &w, &b, &skipped, NULL), NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
}
END_TEST

/* ---- pure: dates, classification, sizing -------------------------------- */

START_TEST(date_forms)
{
	static const struct {
		const char *text;
		nsc_rc rc;
		int64_t ms;
		int off;
	} cases[] = {
		{ "Date(1745081013817)", NSC_OK, 1745081013817LL, 0 },
		{ "Date(1745081013817-0400)", NSC_OK, 1745081013817LL, -240 },
		{ "Date(1745081013817+0530)", NSC_OK, 1745081013817LL, 330 },
		{ "/Date(1426292016000-0700)/", NSC_OK, 1426292016000LL, -420 },
		{ "/Date(1426295616000)/", NSC_OK, 1426295616000LL, 0 },
		{ "Date(1)", NSC_OK, 1, 0 },
		{ "/Date(1426295616000)", NSC_ERR_PARSE, 0, 0 },
		{ "Date(1426295616000)/", NSC_ERR_PARSE, 0, 0 },
		{ "Date(-5)", NSC_ERR_PARSE, 0, 0 },
		{ "Date(0)", NSC_ERR_PARSE, 0, 0 },
		{ "Date()", NSC_ERR_PARSE, 0, 0 },
		{ "Date(12a)", NSC_ERR_PARSE, 0, 0 },
		{ "Date(1745081013817-04)", NSC_ERR_PARSE, 0, 0 },
		{ "Date(1745081013817-0460)", NSC_ERR_PARSE, 0, 0 },
		{ "Date(1745081013817", NSC_ERR_PARSE, 0, 0 },
		{ "Date(99999999999999999999)", NSC_ERR_PARSE, 0, 0 },
		{ "date(1745081013817)", NSC_ERR_PARSE, 0, 0 },
		{ "1745081013817", NSC_ERR_PARSE, 0, 0 },
		{ "", NSC_ERR_PARSE, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -1;
		int off = 99;
		nsc_rc rc = nsc_dexcom_parse_date(cases[i].text, &ms, &off);
		ck_assert_msg(rc == cases[i].rc, "%s: rc %d", cases[i].text, rc);
		if (rc == NSC_OK) {
			ck_assert_int_eq(ms, cases[i].ms);
			ck_assert_int_eq(off, cases[i].off);
		}
	}
	int64_t ms;
	ck_assert_int_eq(nsc_dexcom_parse_date(NULL, &ms, NULL), NSC_ERR_PARSE);
}
END_TEST

#define FAULT(code) "{\"Code\":\"" code "\",\"Message\":\"m\",\"TypeName\":\"FaultException\"}"

START_TEST(fault_classification)
{
	static const struct {
		enum nsc_dexcom_call call;
		long status;
		const char *body;
		nsc_rc rc;
		const char *words; /* in the message */
	} cases[] = {
		{ NSC_DEXCOM_CALL_LOGIN, 500, FAULT("AccountPasswordInvalid"), NSC_ERR_REJECTED, MSG_WRONG },
		{ NSC_DEXCOM_CALL_LOGIN, 500, FAULT("SSO_AuthenticateAccountNotFound"), NSC_ERR_REJECTED, "CONNECT_SHARE_REGION" },
		{ NSC_DEXCOM_CALL_LOGIN, 500, FAULT("SSO_AuthenticatePasswordInvalid"), NSC_ERR_REJECTED, "CONNECT_SHARE_PASSWORD" },
		{ NSC_DEXCOM_CALL_LOGIN, 500, FAULT("SSO_AuthenticateMaxAttemptsExceeded"), NSC_ERR_REJECTED, "locked the account after too many failed logins" },
		{ NSC_DEXCOM_CALL_LOGIN, 500, FAULT("SSO_AuthenticateMaxAttemptsExceeed"), NSC_ERR_REJECTED, "locked the account" },
		{ NSC_DEXCOM_CALL_LOGIN, 500, "{\"Code\":\"SSO_InternalError\",\"Message\":\"Cannot Authenticate by AccountName\"}", NSC_ERR_REJECTED, MSG_WRONG },
		{ NSC_DEXCOM_CALL_LOGIN, 500, "{\"Code\":\"SSO_InternalError\",\"Message\":\"Database down\"}", NSC_ERR_RETRY, "SSO_InternalError" },
		{ NSC_DEXCOM_CALL_LOGIN, 500, "{\"Code\":\"InvalidArgument\",\"Message\":\"Invalid argument: accountName\"}", NSC_ERR_REJECTED, "CONNECT_SHARE_ACCOUNT_NAME" },
		{ NSC_DEXCOM_CALL_LOGIN, 500, "{\"Code\":\"InvalidArgument\",\"Message\":\"password is empty\"}", NSC_ERR_REJECTED, "CONNECT_SHARE_PASSWORD" },
		{ NSC_DEXCOM_CALL_LOGIN, 500, FAULT("SomethingNew"), NSC_ERR_RETRY, "SomethingNew" },
		{ NSC_DEXCOM_CALL_LOGIN, 503, "<html>cloudflare</html>", NSC_ERR_RETRY, "web page" },
		{ NSC_DEXCOM_CALL_LOGIN, 502, "", NSC_ERR_RETRY, "unavailable (HTTP 502)" },
		{ NSC_DEXCOM_CALL_LOGIN, 429, "", NSC_ERR_RETRY, "slow down" },
		{ NSC_DEXCOM_CALL_DATA, 500, FAULT("SessionIdNotFound"), NSC_ERR_AUTH, "SessionIdNotFound" },
		{ NSC_DEXCOM_CALL_DATA, 500, FAULT("SessionNotValid"), NSC_ERR_AUTH, "SessionNotValid" },
		{ NSC_DEXCOM_CALL_DATA, 401, "", NSC_ERR_AUTH, "HTTP 401" },
		{ NSC_DEXCOM_CALL_DATA, 500, FAULT("InternalError"), NSC_ERR_RETRY, "InternalError" },
		{ NSC_DEXCOM_CALL_DATA, 400, "Bad Request", NSC_ERR_RETRY, "malformed (HTTP 400)" },
		{ NSC_DEXCOM_CALL_DATA, 404, "", NSC_ERR_RETRY, "CONNECT_SHARE_SERVER" },
		{ NSC_DEXCOM_CALL_DATA, 500, "{broken", NSC_ERR_RETRY, "HTTP 500" },
		{ NSC_DEXCOM_CALL_DATA, 429, "<html>…</html>", NSC_ERR_RETRY, "slow down" },
		{ NSC_DEXCOM_CALL_DATA, 403, "<!DOCTYPE html><html>", NSC_ERR_RETRY, "Cloudflare" },
		/* A code with markup in it cannot inject anything into the message. */
		{ NSC_DEXCOM_CALL_DATA, 500, FAULT("Odd<b>\\\"Code"), NSC_ERR_RETRY, "(OddbCode)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char msg[NSC_ERROR_MSG_MAX] = "";
		nsc_rc rc = nsc_dexcom_classify_fault(cases[i].call, cases[i].status, cases[i].body,
						      strlen(cases[i].body), msg, sizeof(msg));
		ck_assert_msg(rc == cases[i].rc, "case %zu: rc %s", i, nsc_rc_name(rc));
		ck_assert_msg(strstr(msg, cases[i].words) != NULL, "case %zu: \"%s\"", i, msg);
	}
	/* The rejected-login message names the credentials and the region (both look alike). */
	char msg[NSC_ERROR_MSG_MAX];
	nsc_dexcom_classify_fault(NSC_DEXCOM_CALL_LOGIN, 500, FAULT("AccountPasswordInvalid"),
				  strlen(FAULT("AccountPasswordInvalid")), msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "Dexcom Share " MSG_WRONG));
	ck_assert_ptr_nonnull(strstr(msg, "CONNECT_SHARE_ACCOUNT_NAME"));
	ck_assert_ptr_nonnull(strstr(msg, "CONNECT_SHARE_PASSWORD"));
	ck_assert_ptr_nonnull(strstr(msg, "CONNECT_SHARE_REGION"));
}
END_TEST

START_TEST(login_answers)
{
	char id[NSC_DEXCOM_UUID_BUF], msg[NSC_ERROR_MSG_MAX];
	const char *ok = "\"55555555-5555-5555-5555-555555555555\"";
	ck_assert_int_eq(nsc_dexcom_login_answer(200, "application/json", ok, strlen(ok), id, msg, sizeof(msg)), NSC_OK);
	ck_assert_str_eq(id, "55555555-5555-5555-5555-555555555555");
	const char *zero = "\"00000000-0000-0000-0000-000000000000\"";
	ck_assert_int_eq(nsc_dexcom_login_answer(200, "application/json", zero, strlen(zero), id, msg, sizeof(msg)),
			 NSC_ERR_RETRY);
	ck_assert_str_eq(id, "");
	ck_assert_ptr_nonnull(strstr(msg, "all-zero"));
	static const char *const not_ids[] = { "\"bad-session-id\"", "55555555-5555-5555-5555-555555555555",
					       "\"\"", "", "[]", "\"55555555-5555-5555-5555-55555555555g\"" };
	for (size_t i = 0; i < sizeof(not_ids) / sizeof(not_ids[0]); i++) {
		ck_assert_int_eq(nsc_dexcom_login_answer(200, "application/json", not_ids[i], strlen(not_ids[i]), id,
							 msg, sizeof(msg)),
				 NSC_ERR_RETRY);
		ck_assert_str_eq(id, "");
	}
	const char *html = "<html><body>Attention Required! | Cloudflare</body></html>";
	ck_assert_int_eq(nsc_dexcom_login_answer(200, "text/html", html, strlen(html), id, msg, sizeof(msg)),
			 NSC_ERR_RETRY);
	const char *fault = FAULT("AccountPasswordInvalid");
	ck_assert_int_eq(nsc_dexcom_login_answer(500, "application/json", fault, strlen(fault), id, msg, sizeof(msg)),
			 NSC_ERR_REJECTED);
	/* An error body is never a session, whatever the status. */
	ck_assert_int_eq(nsc_dexcom_login_answer(200, "application/json", fault, strlen(fault), id, msg, sizeof(msg)),
			 NSC_ERR_REJECTED);
	ck_assert_str_eq(id, "");

	ck_assert_int_eq(nsc_dexcom_data_answer(200, "application/json", "[]", 2, msg, sizeof(msg)), NSC_OK);
	ck_assert_int_eq(nsc_dexcom_data_answer(200, "application/json", "[{", 2, msg, sizeof(msg)), NSC_OK);
	ck_assert_int_eq(nsc_dexcom_data_answer(200, "text/html", "<html>", 6, msg, sizeof(msg)), NSC_ERR_RETRY);
	/* Broken JSON is the transform's to drop; a fault object is a fault even with 200. */
	ck_assert_int_eq(nsc_dexcom_data_answer(200, "application/json", "{\"a\":1", 6, msg, sizeof(msg)), NSC_OK);
	ck_assert_int_eq(nsc_dexcom_data_answer(200, "application/json", "{}", 2, msg, sizeof(msg)), NSC_OK);
	const char *fault200 = FAULT("SessionIdNotFound");
	ck_assert_int_eq(nsc_dexcom_data_answer(200, "application/json", fault200, strlen(fault200), msg, sizeof(msg)),
			 NSC_ERR_AUTH);
	const char *dead = FAULT("SessionNotValid");
	ck_assert_int_eq(nsc_dexcom_data_answer(500, "application/json", dead, strlen(dead), msg, sizeof(msg)),
			 NSC_ERR_AUTH);
}
END_TEST

START_TEST(request_sizing)
{
	static const struct {
		int64_t gap, interval;
		int minutes, count;
	} cases[] = {
		{ 15 * MIN, 5 * MIN, 15, 4 },
		{ 10 * MIN + 1, 5 * MIN, 11, 4 },
		{ 61 * SEC, 5 * MIN, 2, 2 },
		{ 0, 5 * MIN, 1, 1 },
		{ -5 * MIN, 5 * MIN, 1, 1 },
		{ 48 * HOUR, 5 * MIN, 1440, 288 },
		{ 24 * HOUR, 5 * MIN, 1440, 288 },
		{ 23 * HOUR, 5 * MIN, 1380, 277 },
		{ 10 * MIN, 1 * MIN, 10, 11 },
		{ 10 * MIN, 0, 10, 3 },
		{ INT64_C(1) << 60, 5 * MIN, 1440, 288 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_fetch_window w = window(1700000000000LL, 1700000000000LL + cases[i].gap);
		w.interval_ms = cases[i].interval;
		int minutes = -1, count = -1;
		nsc_dexcom_request_size(&w, &minutes, &count);
		ck_assert_msg(minutes == cases[i].minutes && count == cases[i].count, "case %zu: %d %d", i,
			      minutes, count);
	}
}
END_TEST

START_TEST(regions)
{
	ck_assert_str_eq(nsc_dexcom_region_host("us"), "share2.dexcom.com");
	ck_assert_str_eq(nsc_dexcom_region_host(NULL), "share2.dexcom.com");
	ck_assert_str_eq(nsc_dexcom_region_host("ous"), "shareous1.dexcom.com");
	ck_assert_str_eq(nsc_dexcom_region_host("JP"), "share.dexcom.jp");
	ck_assert_str_eq(nsc_dexcom_region_app_id("us"), "d89443d2-327c-4a6f-89e5-496bbb0317db");
	ck_assert_str_eq(nsc_dexcom_region_app_id("ous"), "d89443d2-327c-4a6f-89e5-496bbb0317db");
	ck_assert_str_eq(nsc_dexcom_region_app_id("jp"), "d8665ade-9673-4e27-9ff6-92db4ce13d13");
	ck_assert_ptr_null(nsc_dexcom_region_host("eu"));
	ck_assert_ptr_eq(nsc_source_driver_for(nsc_source_by_name("dexcomshare")), &nsc_source_dexcomshare);
}
END_TEST

/* ---- a recording output ------------------------------------------------- */

struct rec_output {
	struct json_object *docs; /* stored entries, in write order */
	struct json_object *ids;
	struct nsc_last_known lk;
	unsigned writes;
};
static struct rec_output *rec_last;

static nsc_rc rec_open(const struct nsc_config *cfg, struct nsc_log *log, void **ctx, struct nsc_error *err)
{
	(void)cfg;
	(void)log;
	struct rec_output *o = calloc(1, sizeof(*o));
	if (!o || !(o->docs = json_object_new_array()) || !(o->ids = json_object_new_object())) {
		if (o)
			json_object_put(o->docs);
		free(o);
		return nsc_error_set(err, NSC_ERR_NOMEM, "oom");
	}
	rec_last = o;
	*ctx = o;
	return NSC_OK;
}

static void rec_close(void *ctx)
{
	struct rec_output *o = ctx;
	if (rec_last == o)
		rec_last = NULL;
	json_object_put(o->docs);
	json_object_put(o->ids);
	free(o);
}

static nsc_rc rec_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	(void)err;
	*out = ((struct rec_output *)ctx)->lk;
	return NSC_OK;
}

static nsc_rc rec_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res, struct nsc_error *err)
{
	struct rec_output *o = ctx;
	o->writes++;
	for (size_t i = 0; i < nsc_batch_count(b, NSC_COLL_ENTRIES); i++) {
		struct json_object *doc = nsc_batch_get(b, NSC_COLL_ENTRIES, i), *id;
		int64_t t = 0;
		if (!json_object_object_get_ex(doc, "identifier", &id))
			return nsc_error_set(err, NSC_ERR_INTERNAL, "document without identifier");
		if (json_object_object_get_ex(o->ids, json_object_get_string(id), NULL)) {
			res->duplicates[NSC_COLL_ENTRIES]++;
			continue;
		}
		json_object_object_add(o->ids, json_object_get_string(id), NULL);
		json_object_array_add(o->docs, json_object_get(doc));
		res->stored[NSC_COLL_ENTRIES]++;
		if (nsc_doc_time_ms(doc, &t) == NSC_OK && t > o->lk.ms[NSC_COLL_ENTRIES])
			o->lk.ms[NSC_COLL_ENTRIES] = t;
	}
	return NSC_OK;
}

static const struct nsc_output_driver rec_output_driver = {
	.name = "record", .open = rec_open, .close = rec_close,
	.last_known = rec_last_known, .write = rec_write,
};

static size_t stored(void)
{
	return rec_last ? json_object_array_length(rec_last->docs) : 0;
}

/* ---- simulator-backed fixture ------------------------------------------- */

struct dx {
	struct harness h;
	struct tsrv *srv;
	struct tsdx *sim;
	struct nsc_config cfg;
	struct nsc_bridge *b;
};

struct dx_opts {
	enum nsc_log_level level; /* 0: info */
	const char *password;     /* in the bridge's config; NULL: the right one */
	const char *region;       /* NULL: us */
	const char *timeout_s;    /* CONNECT_HTTP_TIMEOUT; NULL: 5 */
	bool japan;               /* simulator expects the Japan app id */
	int lock_after;           /* simulator's lockout threshold; 0: its default */
};

static int64_t virtual_now(void *ctx)
{
	/* Read from the server's threads; the loop does not advance it while a request runs. */
	return ((struct harness *)ctx)->fc.wall;
}

static void dx_bridge(struct dx *t, const struct dx_opts *o)
{
	struct nsc_config_kv kv;
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_config_kv_init(&kv, NULL, NULL);
	ck_assert_int_eq(nsc_config_kv_set(&kv, "CONNECT_SOURCE", "dexcomshare"), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&kv, "CONNECT_SHARE_ACCOUNT_NAME", USER), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&kv, "CONNECT_SHARE_PASSWORD", o->password ? o->password : PASS), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&kv, "CONNECT_SHARE_REGION", o->region ? o->region : "us"), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&kv, "CONNECT_SHARE_SERVER", tsrv_url(t->srv)), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&kv, "CONNECT_HTTP_TIMEOUT", o->timeout_s ? o->timeout_s : "5"), NSC_OK);
	nsc_config_init(&t->cfg);
	nsc_rc rc = nsc_config_load(&t->cfg, nsc_config_kv_lookup, &kv, &err);
	ck_assert_msg(rc == NSC_OK, "config: %s", err.msg);
	nsc_config_kv_free(&kv);
	ck_assert_int_eq(nsc_config_register_secrets(&t->cfg, t->h.log), NSC_OK);

	struct nsc_bridge_options bo = { .once = false, .rng_seed = 7 };
	rc = nsc_bridge_new_with(t->h.loop, &t->cfg, t->h.log, &bo, &nsc_source_dexcomshare, &rec_output_driver,
				 &t->b, &err);
	ck_assert_msg(rc == NSC_OK, "bridge: %s", err.msg);
	ck_assert_int_eq(nsc_bridge_start(t->b), NSC_OK);
}

static void dx_unbridge(struct dx *t)
{
	nsc_bridge_free(t->b);
	t->b = NULL;
	nsc_config_free(&t->cfg);
}

static void dx_setup(struct dx *t, const struct dx_opts *o)
{
	static const struct tsdx_account acc = { USER, PASS };
	memset(t, 0, sizeof(*t));
	harness_setup(&t->h, o->level ? o->level : NSC_LOG_INFO);
	t->srv = tsrv_start(0);
	ck_assert_ptr_nonnull(t->srv);
	struct tsdx_config sc = {
		.accounts = &acc, .naccounts = 1, .seed = 42, .japan = o->japan,
		.lock_after = o->lock_after, .lock_duration_ms = 2 * HOUR,
		.now_ms = virtual_now, .now_ctx = &t->h,
	};
	t->sim = tsdx_attach(t->srv, &sc);
	ck_assert_ptr_nonnull(t->sim);
	dx_bridge(t, o);
}

static void dx_teardown(struct dx *t)
{
	if (t->b)
		dx_unbridge(t);
	tsrv_stop(t->srv);
	tsdx_free(t->sim);
	harness_teardown(&t->h);
}

/* Every stored entry is the simulator's reading of its slot, exactly. */
static void assert_stored_exact(struct dx *t)
{
	struct json_object *docs = rec_last->docs;
	for (size_t i = 0; i < json_object_array_length(docs); i++) {
		struct json_object *d = json_object_array_get_idx(docs, i);
		int64_t date = member_int(d, "date"), t_ms;
		int64_t slot = tsdx_slot_at(t->sim, date);
		ck_assert_msg(slot != INT64_MIN, "date %" PRId64 " is off the grid", date);
		int mgdl, trend;
		char iso[64];
		tsdx_reading(t->sim, slot, &t_ms, &mgdl, &trend);
		iso_of(date, iso);
		assert_entry(d, mgdl, t_ms, iso, trend, directions[trend]);
	}
}

static uint64_t frames_done(const struct nsc_bridge_stats *st)
{
	return st->frames_ok + st->frames_failed + st->frames_rejected + st->payloads_dropped;
}

/* Lets virtual time pass in 1 s steps until n frames have ended (at most limit_ms). */
static void run_frames(struct dx *t, uint64_t n, int64_t limit_ms)
{
	for (int64_t ran = 0; ran < limit_ms && frames_done(nsc_bridge_stats(t->b)) < n; ran += SEC)
		harness_run_for(&t->h, SEC);
	ck_assert_uint_eq(frames_done(nsc_bridge_stats(t->b)), n);
}

/* How many recorded requests to path got `status`. */
static size_t count_status(struct tsrv *srv, const char *path, int status)
{
	size_t n = 0;
	const struct tsrv_request *r;
	for (size_t i = 0; (r = tsrv_find(srv, NULL, path, i)) != NULL; i++)
		if (r->status == status)
			n++;
	return n;
}

/* ---- simulator-backed tests --------------------------------------------- */

START_TEST(clean_run_stores_exact_readings)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	harness_run_for(&t.h, HOUR);

	/* A full day at the cold start (all the service keeps), then one per 5 minutes. */
	ck_assert_uint_eq(stored(), 288 + 12);
	assert_stored_exact(&t);
	struct tsdx_counters c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.auth_calls, 1);
	ck_assert_uint_eq(c.login_calls, 1);
	ck_assert_uint_eq(c.data_calls, 13);
	ck_assert_uint_eq(c.failed_logins, 0);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_eq(st->frames_ok, 13);
	ck_assert_uint_eq(st->records_skipped, 0);
	/* The newest reading is the one at 10:55:13.817, the hour's last. */
	ck_assert_int_eq(st->newest_entry_ms, HARNESS_START_MS + 55 * MIN + TSDX_DEFAULT_OFFSET_MS);

	/* What went on the wire. */
	const struct tsrv_request *auth = tsrv_find(t.srv, "POST", TSDX_PATH_AUTH, 0);
	ck_assert_ptr_nonnull(auth);
	ck_assert_str_eq(tsrv_header(auth, "Content-Type"), "application/json");
	ck_assert_str_eq(tsrv_header(auth, "Accept"), "application/json");
	ck_assert_str_eq(tsrv_header(auth, "User-Agent"), "nsconnect/" PACKAGE_VERSION);
	struct json_object *body = json_tokener_parse(auth->body);
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(member_str(body, "accountName"), USER);
	ck_assert_str_eq(member_str(body, "password"), PASS);
	ck_assert_str_eq(member_str(body, "applicationId"), TSDX_APP_ID);
	json_object_put(body);
	char account[TSDX_ID_BUF], session[TSDX_ID_BUF];
	tsdx_account_id(t.sim, USER, account);
	tsdx_last_session(t.sim, session);
	const struct tsrv_request *login = tsrv_find(t.srv, "POST", TSDX_PATH_LOGIN, 0);
	body = json_tokener_parse(login->body);
	ck_assert_str_eq(member_str(body, "accountId"), account);
	ck_assert_str_eq(member_str(body, "applicationId"), TSDX_APP_ID);
	json_object_put(body);
	const struct tsrv_request *second = tsrv_find(t.srv, "POST", TSDX_PATH_DATA, 1);
	ck_assert_str_eq(tsrv_arg(second, "sessionId"), session);
	/* The second poll asks for the ~5.5 minutes since the newest reading. */
	ck_assert_str_eq(tsrv_arg(second, "minutes"), "6");
	ck_assert_str_eq(tsrv_arg(second, "maxCount"), "3");
	ck_assert_str_eq(second->body, "{}");
	ck_assert_uint_eq(count_status(t.srv, TSDX_PATH_DATA, 200), 13);
	dx_teardown(&t);
}
END_TEST

START_TEST(cold_start_request_is_clamped)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o); /* 48 h lookback by default */
	harness_run_for(&t.h, 10 * SEC);
	const struct tsrv_request *r = tsrv_find(t.srv, "POST", TSDX_PATH_DATA, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(tsrv_arg(r, "minutes"), "1440");
	ck_assert_str_eq(tsrv_arg(r, "maxCount"), "288");
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(stored(), 288);
	dx_teardown(&t);
}
END_TEST

START_TEST(wrong_password_for_a_day_is_safe_then_fixed)
{
	struct dx t;
	struct dx_opts o = { .password = "wrong-pass" };
	dx_setup(&t, &o);
	harness_run_for(&t.h, 29 * MIN);
	ck_assert_uint_eq(tsdx_counters(t.sim).auth_calls, 1);
	harness_run_for(&t.h, 24 * HOUR - 29 * MIN);

	struct tsdx_counters c = tsdx_counters(t.sim);
	ck_assert_uint_ge(c.auth_calls, 5);
	ck_assert_uint_le(c.auth_calls, 8);
	ck_assert_uint_eq(c.failed_logins, c.auth_calls);
	ck_assert_uint_eq(c.login_calls, 0); /* step 2 never runs without an account id */
	ck_assert_uint_eq(c.data_calls, 0);
	ck_assert_uint_eq(c.locked_answers, 0);
	ck_assert_int_eq(harness_count_lines(&t.h, MSG_WRONG), 1);
	ck_assert_int_eq(harness_count_lines(&t.h, "CONNECT_SHARE_REGION"), 1);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st->last_error, MSG_WRONG));
	ck_assert_int_ge(st->next_frame_in_ms, 30 * MIN);
	ck_assert_uint_eq(stored(), 0);

	/* The user fixes the password and restarts: data flows at once. */
	dx_unbridge(&t);
	struct dx_opts fixed = { 0 };
	dx_bridge(&t, &fixed);
	harness_run_for(&t.h, 10 * SEC);
	ck_assert_uint_eq(stored(), 288);
	assert_stored_exact(&t);
	ck_assert_uint_eq(tsdx_counters(t.sim).auth_calls, c.auth_calls + 1);
	ck_assert_uint_eq(tsdx_counters(t.sim).login_calls, 1);
	dx_teardown(&t);
}
END_TEST

static void session_killed(const char *dead_code)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	tsdx_set_dead_session_code(t.sim, dead_code);
	harness_run_for(&t.h, 30 * MIN);
	size_t before = stored();
	ck_assert_uint_eq(before, 288 + 6);
	tsdx_kill_sessions(t.sim);
	harness_run_for(&t.h, 5 * MIN);

	/* The next cycle met the dead session, logged in again (step 2 only) and stored. */
	struct tsdx_counters c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.auth_calls, 1);
	ck_assert_uint_eq(c.login_calls, 2);
	ck_assert_uint_eq(count_status(t.srv, TSDX_PATH_DATA, 500), 1);
	ck_assert_uint_eq(stored(), before + 1);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_eq(st->frames_failed, 0);
	const struct tsrv_request *dead = NULL, *r;
	for (size_t i = 0; (r = tsrv_find(t.srv, "POST", TSDX_PATH_DATA, i)) != NULL; i++)
		if (r->status == 500)
			dead = r;
	ck_assert_ptr_nonnull(dead);
	/* The request after the fault carries the new session. */
	char session[TSDX_ID_BUF];
	tsdx_last_session(t.sim, session);
	size_t n = tsrv_count(t.srv, "POST", TSDX_PATH_DATA);
	ck_assert_str_eq(tsrv_arg(tsrv_find(t.srv, "POST", TSDX_PATH_DATA, n - 1), "sessionId"), session);
	ck_assert_str_ne(tsrv_arg(dead, "sessionId"), session);
	assert_stored_exact(&t);
	dx_teardown(&t);
}

START_TEST(session_killed_early_session_not_valid)
{
	session_killed("SessionNotValid");
}
END_TEST

START_TEST(session_killed_early_session_id_not_found)
{
	session_killed("SessionIdNotFound");
}
END_TEST

START_TEST(session_refreshed_before_it_expires)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	harness_run_for(&t.h, 25 * HOUR);
	struct tsdx_counters c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.auth_calls, 1);  /* the account id is stable */
	ck_assert_uint_eq(c.login_calls, 2); /* refreshed at 23 h 50 min */
	ck_assert_uint_eq(count_status(t.srv, TSDX_PATH_DATA, 500), 0);
	ck_assert_uint_eq(stored(), 288 + 25 * 12);
	dx_teardown(&t);
}
END_TEST

START_TEST(password_changed_redoes_step_one)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	harness_run_for(&t.h, 10 * MIN);
	tsdx_set_password(t.sim, USER, "changed-in-the-app");
	tsdx_kill_sessions(t.sim);
	harness_run_for(&t.h, 5 * MIN);
	struct tsdx_counters c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.auth_calls, 1);
	ck_assert_uint_eq(c.login_calls, 2); /* step 2 with the cached id was refused */
	ck_assert_uint_eq(c.failed_logins, 1);
	ck_assert_int_eq(nsc_bridge_stats(t.b)->last_rc, NSC_ERR_REJECTED);
	/* The next attempt, 30 minutes on, starts again at step 1. */
	harness_run_for(&t.h, 40 * MIN);
	c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.auth_calls, 2);
	ck_assert_uint_eq(c.login_calls, 2);
	dx_teardown(&t);
}
END_TEST

START_TEST(zero_session_id_is_an_outage)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	tsdx_script_zero_session(t.sim, 1);
	run_frames(&t, 1, 5 * MIN);
	/* Retried within the frame (step 2 only), then data. */
	struct tsdx_counters c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.auth_calls, 1);
	ck_assert_uint_eq(c.login_calls, 2);
	ck_assert_uint_eq(stored(), 288);
	const struct tsrv_request *r = tsrv_find(t.srv, "POST", TSDX_PATH_DATA, 0);
	ck_assert_str_ne(tsrv_arg(r, "sessionId"), TSDX_ZERO_ID);
	ck_assert_int_eq(nsc_bridge_stats(t.b)->last_rc, NSC_OK);
	ck_assert_int_eq(harness_count_lines(&t.h, "all-zero"), 1);
	dx_teardown(&t);

	/* A lasting outage fails the frame as temporary, never as a session. */
	dx_setup(&t, &o);
	tsdx_script_zero_session(t.sim, 1000);
	run_frames(&t, 1, 5 * MIN);
	c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.login_calls, 3);
	ck_assert_uint_eq(c.data_calls, 0);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(st->last_error, "all-zero"));
	dx_teardown(&t);
}
END_TEST

START_TEST(locked_account_is_reported)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	dx_unbridge(&t); /* before it ran: start over with the account locked */
	tsdx_lock(t.sim, USER, 2 * HOUR);
	tsrv_clear_requests(t.srv);
	struct tsdx_counters before = tsdx_counters(t.sim);
	dx_bridge(&t, &o);
	harness_run_for(&t.h, 10 * MIN);
	struct tsdx_counters c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.auth_calls - before.auth_calls, 1);
	ck_assert_uint_eq(c.locked_answers - before.locked_answers, 1);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st->last_error, "locked the account after too many failed logins"));
	ck_assert_int_ge(st->next_frame_in_ms, 30 * MIN);
	ck_assert_int_eq(harness_count_lines(&t.h, "locked the account"), 1);
	dx_teardown(&t);
}
END_TEST

static void rate_limited(const char *retry_after, int64_t expect_ms)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	struct tsdx_answer a = { .status = 429, .body = "<html>…</html>", .content_type = "text/html",
				 .retry_after = retry_after };
	tsdx_script(t.sim, TSDX_DATA, &a, 1);
	harness_run_for(&t.h, 10 * SEC);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(st->last_error, "slow down"));
	ck_assert_int_ge(st->next_frame_in_ms, expect_ms);
	/* No second try inside the frame. */
	ck_assert_uint_eq(tsdx_counters(t.sim).data_calls, 1);
	/* Nothing before the hold-off is over ... */
	harness_run_for(&t.h, expect_ms - 10 * SEC - 1);
	ck_assert_uint_eq(tsdx_counters(t.sim).data_calls, 1);
	/* ... and data soon after. */
	harness_run_for(&t.h, 2 * MIN);
	ck_assert_uint_ge(tsdx_counters(t.sim).data_calls, 2);
	ck_assert_uint_ge(stored(), 288);
	ck_assert_int_eq(nsc_bridge_stats(t.b)->last_rc, NSC_OK);
	dx_teardown(&t);
}

START_TEST(rate_limited_honours_retry_after)
{
	rate_limited("120", 120 * SEC);
}
END_TEST

START_TEST(rate_limited_without_retry_after_waits_a_minute)
{
	rate_limited(NULL, 60 * SEC);
}
END_TEST

START_TEST(server_errors_are_retried)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	struct tsrv_fault f = { .status = 503, .body = "<html>503 Service Unavailable</html>", .times = 3 };
	ck_assert_int_eq(tsrv_fault_add(t.srv, "POST", TSDX_PATH_DATA, &f), 0);
	run_frames(&t, 1, 5 * MIN);
	/* One attempt and two retries in the frame, then it ends as temporary. */
	ck_assert_uint_eq(tsrv_count(t.srv, "POST", TSDX_PATH_DATA), 3);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_ERR_RETRY);
	ck_assert_uint_eq(st->frames_failed, 1);
	ck_assert_ptr_nonnull(strstr(st->last_error, "HTTP 503"));
	ck_assert_uint_eq(stored(), 0);
	/* The session survived: the next frame reads without logging in again. */
	harness_run_for(&t.h, 30 * MIN);
	ck_assert_uint_ge(stored(), 288);
	ck_assert_uint_eq(tsdx_counters(t.sim).login_calls, 1);
	dx_teardown(&t);
}
END_TEST

START_TEST(no_answer_times_out)
{
	struct dx t;
	struct dx_opts o = { .timeout_s = "1" };
	dx_setup(&t, &o);
	struct tsrv_fault f = { .hang = true, .times = 1 };
	ck_assert_int_eq(tsrv_fault_add(t.srv, "POST", TSDX_PATH_DATA, &f), 0);
	run_frames(&t, 1, 5 * MIN);
	ck_assert_uint_eq(tsrv_count(t.srv, "POST", TSDX_PATH_DATA), 2);
	ck_assert_uint_eq(stored(), 288);
	ck_assert_int_eq(nsc_bridge_stats(t.b)->last_rc, NSC_OK);
	ck_assert_int_ge(harness_count_lines(&t.h, "did not answer in time"), 1);
	dx_teardown(&t);
}
END_TEST

START_TEST(truncated_answer_is_retried)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	struct tsrv_fault f = { .truncate = true, .times = 1 };
	ck_assert_int_eq(tsrv_fault_add(t.srv, "POST", TSDX_PATH_DATA, &f), 0);
	run_frames(&t, 1, 5 * MIN);
	ck_assert_uint_eq(tsdx_counters(t.sim).data_calls, 2);
	ck_assert_uint_eq(stored(), 288);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_eq(st->payloads_dropped, 0);
	dx_teardown(&t);
}
END_TEST

START_TEST(malformed_json_is_dropped_and_the_bridge_goes_on)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	struct tsrv_fault f = { .malformed = true, .times = 1 };
	ck_assert_int_eq(tsrv_fault_add(t.srv, "POST", TSDX_PATH_DATA, &f), 0);
	harness_run_for(&t.h, 10 * SEC);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_ERR_DROP);
	ck_assert_uint_eq(st->payloads_dropped, 1);
	ck_assert_uint_eq(stored(), 0);
	ck_assert_int_eq(harness_count_lines(&t.h, "event=payload_dropped"), 1);
	ck_assert_int_ge(harness_count_lines(&t.h, "Dexcom Share sent readings that are not valid JSON"), 1);
	harness_run_for(&t.h, 10 * MIN);
	ck_assert_uint_ge(stored(), 288);
	ck_assert_int_eq(nsc_bridge_stats(t.b)->last_rc, NSC_OK);
	ck_assert_uint_eq(tsdx_counters(t.sim).login_calls, 1);
	dx_teardown(&t);
}
END_TEST

START_TEST(web_page_instead_of_data_is_retried)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	struct tsdx_answer a = { .status = 200, .body = "<!DOCTYPE html><html>Just a moment...</html>",
				 .content_type = "text/html; charset=UTF-8" };
	tsdx_script(t.sim, TSDX_DATA, &a, 1);
	run_frames(&t, 1, 5 * MIN);
	ck_assert_uint_eq(tsdx_counters(t.sim).data_calls, 2);
	ck_assert_uint_eq(stored(), 288);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_uint_eq(st->payloads_dropped, 0);
	ck_assert_int_eq(harness_count_lines(&t.h, "web page"), 1);
	dx_teardown(&t);
}
END_TEST

START_TEST(empty_list_is_fine)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	tsdx_set_empty(t.sim, true);
	harness_run_for(&t.h, 10 * SEC);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_OK);
	ck_assert_uint_eq(st->frames_ok, 1);
	ck_assert_uint_eq(stored(), 0);
	tsdx_set_empty(t.sim, false);
	harness_run_for(&t.h, 10 * MIN);
	ck_assert_uint_ge(stored(), 288);
	assert_stored_exact(&t);
	dx_teardown(&t);
}
END_TEST

START_TEST(legacy_answers_are_understood)
{
	struct dx t;
	struct dx_opts o = { 0 };
	dx_setup(&t, &o);
	tsdx_set_legacy(t.sim, true);
	harness_run_for(&t.h, 30 * MIN);
	ck_assert_uint_eq(stored(), 288 + 6);
	assert_stored_exact(&t);
	ck_assert_uint_eq(nsc_bridge_stats(t.b)->records_skipped, 0);
	dx_teardown(&t);
}
END_TEST

START_TEST(japan_uses_its_application_id)
{
	struct dx t;
	struct dx_opts o = { .region = "jp", .japan = true };
	dx_setup(&t, &o);
	harness_run_for(&t.h, 10 * SEC);
	ck_assert_uint_eq(stored(), 288);
	for (int i = 0; i < 2; i++) {
		const struct tsrv_request *r = tsrv_find(t.srv, "POST", i ? TSDX_PATH_LOGIN : TSDX_PATH_AUTH, 0);
		struct json_object *body = json_tokener_parse(r->body);
		ck_assert_str_eq(member_str(body, "applicationId"), TSDX_APP_ID_JP);
		json_object_put(body);
	}
	dx_teardown(&t);

	/* A US setting against the Japanese service looks like a wrong password. */
	struct dx_opts us = { .japan = true };
	dx_setup(&t, &us);
	harness_run_for(&t.h, 10 * SEC);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st->last_error, "CONNECT_SHARE_REGION"));
	ck_assert_uint_eq(tsdx_counters(t.sim).failed_logins, 1);
	dx_teardown(&t);
}
END_TEST

START_TEST(secrets_never_logged)
{
	struct dx t;
	struct dx_opts o = { .level = NSC_LOG_TRACE };
	dx_setup(&t, &o);
	harness_run_for(&t.h, 12 * MIN);
	char first_session[TSDX_ID_BUF];
	tsdx_last_session(t.sim, first_session);
	tsdx_kill_sessions(t.sim);
	harness_run_for(&t.h, 10 * MIN);
	char account[TSDX_ID_BUF], session[TSDX_ID_BUF];
	tsdx_account_id(t.sim, USER, account);
	tsdx_last_session(t.sim, session);
	ck_assert_str_ne(first_session, session);
	ck_assert_uint_eq(tsdx_counters(t.sim).login_calls, 2);
	ck_assert_ptr_nonnull(t.h.captured);
	ck_assert_ptr_null(strstr(t.h.captured, PASS));
	ck_assert_ptr_null(strstr(t.h.captured, account));
	ck_assert_ptr_null(strstr(t.h.captured, first_session));
	ck_assert_ptr_null(strstr(t.h.captured, session));
	/* The data URL is traced, with the session id redacted. */
	ck_assert_int_ge(harness_count_lines(&t.h, "sessionId=" NSC_REDACTED), 3);
	dx_teardown(&t);
}
END_TEST

START_TEST(lock_after_failures_is_told_apart)
{
	struct dx t;
	struct dx_opts o = { .password = "wrong-pass", .lock_after = 1 };
	dx_setup(&t, &o);
	run_frames(&t, 1, MIN);
	const struct nsc_bridge_stats *st = nsc_bridge_stats(t.b);
	ck_assert_ptr_nonnull(strstr(st->last_error, MSG_WRONG));
	/* The simulator locked the account at that failure; the next attempt is told so. */
	run_frames(&t, 2, 2 * HOUR);
	st = nsc_bridge_stats(t.b);
	ck_assert_int_eq(st->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st->last_error, "locked the account"));
	struct tsdx_counters c = tsdx_counters(t.sim);
	ck_assert_uint_eq(c.auth_calls, 2);
	ck_assert_uint_eq(c.failed_logins, 1);
	ck_assert_uint_eq(c.locked_answers, 1);
	/* Each plain message reaches the log once. */
	ck_assert_int_eq(harness_count_lines(&t.h, MSG_WRONG), 1);
	ck_assert_int_eq(harness_count_lines(&t.h, "Dexcom locked the account after too many failed logins"), 1);
	dx_teardown(&t);
}
END_TEST

static void *stop_soon(void *arg)
{
	usleep(300 * 1000);
	nsc_loop_stop(arg);
	return NULL;
}

START_TEST(stop_during_a_hung_request)
{
	struct dx t;
	struct dx_opts o = { .timeout_s = "30" };
	dx_setup(&t, &o);
	struct tsrv_fault f = { .hang = true };
	ck_assert_int_eq(tsrv_fault_add(t.srv, "POST", TSDX_PATH_AUTH, &f), 0);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, stop_soon, t.h.loop), 0);
	/* The login hangs; virtual time stands still until the other thread stops the loop. */
	ck_assert_int_eq(nsc_loop_run(t.h.loop), NSC_OK);
	pthread_join(th, NULL);
	ck_assert_uint_eq(tsrv_count(t.srv, "POST", TSDX_PATH_AUTH), 1);
	ck_assert_uint_eq(frames_done(nsc_bridge_stats(t.b)), 0);
	/* Freeing the bridge cancels the transfer; no step completes afterwards. */
	dx_unbridge(&t);
	harness_run_for(&t.h, MIN);
	dx_teardown(&t);
}
END_TEST

static Suite *dexcom_suite(void)
{
	Suite *s = suite_create("dexcom");
	TCase *pure = tcase_create("pure");
	tcase_add_test(pure, transform_fixture);
	tcase_add_test(pure, transform_legacy_fixture);
	tcase_add_test(pure, transform_skips_and_window);
	tcase_add_test(pure, transform_drops_what_is_no_list);
	tcase_add_test(pure, date_forms);
	tcase_add_test(pure, fault_classification);
	tcase_add_test(pure, login_answers);
	tcase_add_test(pure, request_sizing);
	tcase_add_test(pure, regions);
	suite_add_tcase(s, pure);

	TCase *sim = tcase_create("simulator");
	tcase_set_timeout(sim, 60);
	tcase_add_test(sim, clean_run_stores_exact_readings);
	tcase_add_test(sim, cold_start_request_is_clamped);
	tcase_add_test(sim, wrong_password_for_a_day_is_safe_then_fixed);
	tcase_add_test(sim, session_killed_early_session_not_valid);
	tcase_add_test(sim, session_killed_early_session_id_not_found);
	tcase_add_test(sim, session_refreshed_before_it_expires);
	tcase_add_test(sim, password_changed_redoes_step_one);
	tcase_add_test(sim, zero_session_id_is_an_outage);
	tcase_add_test(sim, locked_account_is_reported);
	tcase_add_test(sim, rate_limited_honours_retry_after);
	tcase_add_test(sim, rate_limited_without_retry_after_waits_a_minute);
	tcase_add_test(sim, server_errors_are_retried);
	tcase_add_test(sim, no_answer_times_out);
	tcase_add_test(sim, truncated_answer_is_retried);
	tcase_add_test(sim, malformed_json_is_dropped_and_the_bridge_goes_on);
	tcase_add_test(sim, web_page_instead_of_data_is_retried);
	tcase_add_test(sim, empty_list_is_fine);
	tcase_add_test(sim, legacy_answers_are_understood);
	tcase_add_test(sim, japan_uses_its_application_id);
	tcase_add_test(sim, secrets_never_logged);
	tcase_add_test(sim, lock_after_failures_is_told_apart);
	tcase_add_test(sim, stop_during_a_hung_request);
	suite_add_tcase(s, sim);
	return s;
}

NSC_CHECK_MAIN(dexcom_suite)
