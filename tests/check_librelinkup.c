/* SPDX-License-Identifier: MIT */
/*
 * LibreLinkUp: the pure parts on the fixtures of reference/vendors.md §8.2,
 * and the driver through the real engine against the simulator on the test
 * server (virtual clock shared with the simulator).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/bridge.h"
#include "harness.h"
#include "nsc_check.h"
#include "output.h"
#include "server/librelinkup.h"
#include "server/server.h"
#include "sources/registry.h"
#include "sources/librelinkup/librelinkup.h"
#include "timeutil.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define CADENCE (5 * MIN)
#define FIXTURE_ACCOUNT_ID "e5b55d90f76df8cf4da894b3b96362ea18c180bd7ca9db55e118a14f74503e83"

/* ---- fixtures (§8.2) ------------------------------------------------------ */

#define GRAPH_OK                                                                                            \
	"{\"status\":0,\"data\":{\"connection\":{\"patientId\":\"7ad66b40-ba9b-401e-9845-4f49f998cf16\","      \
	"\"glucoseMeasurement\":{\"FactoryTimestamp\":\"12/30/2022 4:47:40 PM\",\"Timestamp\":\"12/30/2022 "  \
	"5:47:40 PM\",\"type\":1,\"ValueInMgPerDl\":115,\"TrendArrow\":3,\"MeasurementColor\":1,"              \
	"\"GlucoseUnits\":1,\"Value\":115,\"isHigh\":false,\"isLow\":false}},\"activeSensors\":[],"            \
	"\"graphData\":[{\"FactoryTimestamp\":\"12/30/2022 4:40:40 PM\",\"Timestamp\":\"12/30/2022 5:40:40 "  \
	"PM\",\"type\":0,\"ValueInMgPerDl\":118,\"MeasurementColor\":1,\"GlucoseUnits\":1,\"Value\":118,"      \
	"\"isHigh\":false,\"isLow\":false},{\"FactoryTimestamp\":\"12/30/2022 4:45:40 PM\",\"Timestamp\":"     \
	"\"12/30/2022 5:45:40 PM\",\"type\":0,\"ValueInMgPerDl\":116,\"MeasurementColor\":1,"                  \
	"\"GlucoseUnits\":1,\"Value\":116,\"isHigh\":false,\"isLow\":false}]},\"ticket\":{\"token\":"          \
	"\"jwt-C-token\",\"expires\":1767225720,\"duration\":15552000000}}"

#define LOGIN_OK                                                                                           \
	"{\"status\":0,\"data\":{\"user\":{\"id\":\"7ad66b40-ba9b-401e-9845-4f49f998cf16\",\"firstName\":"    \
	"\"John\",\"lastName\":\"Doe\",\"email\":\"alice@example.com\",\"country\":\"DE\",\"uom\":\"1\"},"    \
	"\"messages\":{\"unread\":0},\"notifications\":{\"unresolved\":0},\"authTicket\":{\"token\":"          \
	"\"jwt-A-token\",\"expires\":1767225600,\"duration\":15552000000},\"invitations\":null,"              \
	"\"trustedDeviceToken\":\"\"}}"

#define LOCKED_BODY                                                                                        \
	"{\"status\":429,\"data\":{\"code\":60,\"data\":{\"failures\":3,\"interval\":60,\"lockout\":300},"    \
	"\"message\":\"locked\"}}"

static const char *const direction_of_arrow[] = { "", "SingleDown", "FortyFiveDown", "Flat", "FortyFiveUp",
						  "SingleUp" };
static const int trend_of_arrow[] = { 0, 6, 5, 4, 3, 2 };

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static int64_t num(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : -1;
}

static bool has(struct json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

/* ---- pure parts --------------------------------------------------------- */

START_TEST(graph_fixture_gives_the_expected_entries)
{
	struct nsc_batch b;
	struct nsc_error err;
	size_t skipped = 99;
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_linkup_transform_graph(GRAPH_OK, strlen(GRAPH_OK), 0, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 3);
	struct json_object *e0 = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	struct json_object *e1 = nsc_batch_get(&b, NSC_COLL_ENTRIES, 1);
	struct json_object *e2 = nsc_batch_get(&b, NSC_COLL_ENTRIES, 2);
	ck_assert_int_eq(num(e0, "date"), 1672418440000LL);
	ck_assert_str_eq(str(e0, "dateString"), "2022-12-30T16:40:40.000Z");
	ck_assert_int_eq(num(e0, "sgv"), 118);
	ck_assert(!has(e0, "direction") && !has(e0, "trend"));
	ck_assert_int_eq(num(e1, "date"), 1672418740000LL);
	ck_assert_str_eq(str(e1, "dateString"), "2022-12-30T16:45:40.000Z");
	ck_assert_int_eq(num(e1, "sgv"), 116);
	ck_assert(!has(e1, "direction") && !has(e1, "trend"));
	ck_assert_int_eq(num(e2, "date"), 1672418860000LL);
	ck_assert_str_eq(str(e2, "dateString"), "2022-12-30T16:47:40.000Z");
	ck_assert_int_eq(num(e2, "sgv"), 115);
	ck_assert_str_eq(str(e2, "direction"), "Flat");
	ck_assert_int_eq(num(e2, "trend"), 4);
	for (int i = 0; i < 3; i++) {
		struct json_object *e = nsc_batch_get(&b, NSC_COLL_ENTRIES, (size_t)i);
		ck_assert_str_eq(str(e, "type"), "sgv");
		ck_assert_str_eq(str(e, "device"), "nsconnect-librelinkup");
	}
	nsc_batch_clear(&b);

	/* Only what is newer than the window's start. */
	ck_assert_int_eq(nsc_linkup_transform_graph(GRAPH_OK, strlen(GRAPH_OK), 1672418740000LL, &b, &skipped, &err),
			 NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 1);
	ck_assert_int_eq(num(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "sgv"), 115);
	nsc_batch_clear(&b);
}
END_TEST

/*
 * History that LibreLinkUp adds late, behind a current reading already
 * stored: the driver's transform looks an hour behind the newest stored
 * entry (within the lookback), so those points are not lost.
 */
START_TEST(late_history_behind_the_newest_entry_is_kept)
{
	struct nsc_config cfg;
	nsc_config_init(&cfg);
	cfg.source = nsc_source_by_name("linkup");
	cfg.lookback_ms = 48 * 3600 * 1000LL;
	cfg.http_timeout_ms = 2000;
	cfg.linkup_username = strdup(TLLU_DEFAULT_USER);
	cfg.linkup_password = strdup(TLLU_DEFAULT_PASSWORD);
	cfg.linkup_region = strdup("EU");
	ck_assert(cfg.linkup_username && cfg.linkup_password && cfg.linkup_region);
	struct nsc_loop *loop;
	ck_assert_int_eq(nsc_loop_new(NULL, &loop), NSC_OK);
	struct nsc_log *log = nsc_log_new(NSC_LOG_ERROR);
	ck_assert_ptr_nonnull(log);
	struct nsc_source_env env = { .config = &cfg, .log = log, .loop = loop };
	void *ctx;
	struct nsc_error err;
	ck_assert_int_eq(nsc_source_linkup.create(&env, &ctx, &err), NSC_OK);

	/* The newest stored entry is the 16:47:40 current reading; 16:40:40 and 16:45:40 came late. */
	struct nsc_payload in = { .data = (char *)GRAPH_OK, .len = strlen(GRAPH_OK) };
	struct nsc_fetch_window w = {
		.from_ms = 1672418860000LL, .to_ms = 1672418860000LL + 60000, .interval_ms = 300000,
	};
	struct nsc_batch b;
	nsc_batch_init(&b);
	size_t skipped = 0;
	ck_assert_int_eq(nsc_source_linkup.transform(ctx, &in, &w, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 3);
	ck_assert_int_eq(num(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "sgv"), 118);
	nsc_batch_clear(&b);

	/* More than an hour behind is not looked at again. */
	w.from_ms = 1672418440000LL + NSC_LINKUP_HISTORY_RECHECK_MS; /* 16:40:40 + 1 h */
	w.to_ms = w.from_ms + 60000;
	ck_assert_int_eq(nsc_source_linkup.transform(ctx, &in, &w, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 2);
	nsc_batch_clear(&b);

	/* Nor anything before the lookback: 3 minutes back from 16:48:10 leaves 16:45:40 and 16:47:40. */
	cfg.lookback_ms = 3 * 60000;
	w.from_ms = 1672418860000LL; /* 16:47:40 */
	w.to_ms = 1672418860000LL + 30000;
	ck_assert_int_eq(nsc_source_linkup.transform(ctx, &in, &w, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 2);
	ck_assert_int_eq(num(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), "sgv"), 116);
	nsc_batch_clear(&b);

	nsc_source_linkup.destroy(ctx);
	nsc_log_free(log);
	nsc_loop_free(loop);
	nsc_config_free(&cfg);
}
END_TEST

START_TEST(current_reading_in_the_graph_is_emitted_once)
{
	const char *body =
		"{\"status\":0,\"data\":{\"connection\":{\"glucoseMeasurement\":{\"FactoryTimestamp\":\"12/30/2022 "
		"4:45:40 PM\",\"ValueInMgPerDl\":117,\"TrendArrow\":5}},\"graphData\":[{\"FactoryTimestamp\":"
		"\"12/30/2022 4:40:40 PM\",\"ValueInMgPerDl\":118},{\"FactoryTimestamp\":\"12/30/2022 4:45:40 PM\","
		"\"ValueInMgPerDl\":116},{\"FactoryTimestamp\":\"bad\",\"ValueInMgPerDl\":1},"
		"{\"FactoryTimestamp\":\"12/30/2022 4:50:40 PM\"},7]}}";
	struct nsc_batch b;
	struct nsc_error err;
	size_t skipped = 0;
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_linkup_transform_graph(body, strlen(body), 0, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 3); /* bad time, no value, not an object */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 2);
	struct json_object *cur = nsc_batch_get(&b, NSC_COLL_ENTRIES, 1);
	ck_assert_int_eq(num(cur, "date"), 1672418740000LL);
	ck_assert_int_eq(num(cur, "sgv"), 117); /* the current reading wins, with its arrow */
	ck_assert_str_eq(str(cur, "direction"), "SingleUp");
	ck_assert_int_eq(num(cur, "trend"), 2);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(unusable_payloads_are_dropped)
{
	const char *bad[] = { "", "{\"status\":0,\"data\":{\"graphData\":[", "[]", "{\"status\":0}",
			      "{\"status\":0,\"data\":[]}", "<html>" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nsc_batch b;
		struct nsc_error err;
		size_t skipped = 0;
		nsc_batch_init(&b);
		ck_assert_int_eq(nsc_linkup_transform_graph(bad[i], strlen(bad[i]), 0, &b, &skipped, &err),
				 NSC_ERR_DROP);
		ck_assert_uint_eq(nsc_batch_total(&b), 0);
		nsc_batch_clear(&b);
	}
	/* No data at all is fine: nothing to store. */
	const char *none = "{\"status\":0,\"data\":{\"connection\":{},\"graphData\":[]}}";
	struct nsc_batch b;
	struct nsc_error err;
	size_t skipped = 0;
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_linkup_transform_graph(none, strlen(none), 0, &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(nsc_batch_total(&b), 0);
	nsc_batch_clear(&b);
}
END_TEST

START_TEST(factory_timestamp_is_utc)
{
	/* A zone with DST must not matter: nothing here reads local time. */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	int64_t t, a, b2;
	ck_assert_int_eq(nsc_linkup_parse_timestamp("12/30/2022 4:47:40 PM", &t), NSC_OK);
	ck_assert_int_eq(t, 1672418860000LL);
	/* The night Berlin springs forward: 01:30 and 02:30 UTC are exactly one hour apart. */
	ck_assert_int_eq(nsc_linkup_parse_timestamp("3/26/2023 1:30:00 AM", &a), NSC_OK);
	ck_assert_int_eq(nsc_linkup_parse_timestamp("3/26/2023 2:30:00 AM", &b2), NSC_OK);
	ck_assert_int_eq(a, 1679794200000LL);
	ck_assert_int_eq(b2 - a, 3600000LL);
	ck_assert_int_eq(nsc_linkup_parse_timestamp("12/30/2022 12:05:00 AM", &t), NSC_OK);
	ck_assert_int_eq(t, 1672358700000LL);
	ck_assert_int_eq(nsc_linkup_parse_timestamp("12/30/2022 12:05:00 PM", &t), NSC_OK);
	ck_assert_int_eq(t, 1672358700000LL + 12 * HOUR);
	ck_assert_int_eq(nsc_linkup_parse_timestamp("2/29/2024 11:59:59 pm", &t), NSC_OK);
	ck_assert_int_eq(t, 1709251199000LL);
	/* 24-hour forms: d/M/yyyy, or M/D when only that reads. */
	ck_assert_int_eq(nsc_linkup_parse_timestamp("30/12/2022 16:47:40", &t), NSC_OK);
	ck_assert_int_eq(t, 1672418860000LL);
	ck_assert_int_eq(nsc_linkup_parse_timestamp("12/30/2022 16:47:40", &t), NSC_OK);
	ck_assert_int_eq(t, 1672418860000LL);
	const char *bad[] = { "", "garbage", "13/30/2022 4:47:40 PM", "2/30/2023 1:00:00 AM",
			      "12/30/2022 13:00:00 PM", "12/30/2022 0:00:00 AM", "12/30/2022 4:47 PM",
			      "12/30/2022 4:47:40 XM", "12/30/2022 24:00:00", "12/30/22 4:47:40 PM",
			      "12/30/2022 4:47:40 PM x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(nsc_linkup_parse_timestamp(bad[i], &t) == NSC_ERR_PARSE, "accepted \"%s\"", bad[i]);
	unsetenv("TZ");
	tzset();
}
END_TEST

START_TEST(trend_arrows_and_account_id)
{
	ck_assert_int_eq(nsc_linkup_trend(1), NSC_TREND_SINGLE_DOWN);
	ck_assert_int_eq(nsc_linkup_trend(2), NSC_TREND_FORTY_FIVE_DOWN);
	ck_assert_int_eq(nsc_linkup_trend(3), NSC_TREND_FLAT);
	ck_assert_int_eq(nsc_linkup_trend(4), NSC_TREND_FORTY_FIVE_UP);
	ck_assert_int_eq(nsc_linkup_trend(5), NSC_TREND_SINGLE_UP);
	ck_assert_int_eq(nsc_linkup_trend(0), NSC_TREND_NOT_COMPUTABLE);
	ck_assert_int_eq(nsc_linkup_trend(6), NSC_TREND_NOT_COMPUTABLE);
	ck_assert_int_eq(nsc_linkup_trend(-1), NSC_TREND_NOT_COMPUTABLE);
	char id[NSC_LINKUP_ACCOUNT_ID_BUF];
	ck_assert_int_eq(nsc_linkup_account_id("7ad66b40-ba9b-401e-9845-4f49f998cf16", id), NSC_OK);
	ck_assert_str_eq(id, FIXTURE_ACCOUNT_ID);
	ck_assert_int_eq(nsc_linkup_account_id("", id), NSC_ERR_PARSE);
}
END_TEST

START_TEST(hosts_for_every_region)
{
	static const char *const regions[][2] = {
		{ "AE", "https://api-ae.libreview.io" },   { "AP", "https://api-ap.libreview.io" },
		{ "AU", "https://api-au.libreview.io" },   { "CA", "https://api-ca.libreview.io" },
		{ "CN", "https://api-cn.myfreestyle.cn" }, { "DE", "https://api-de.libreview.io" },
		{ "EU", "https://api-eu.libreview.io" },   { "EU2", "https://api-eu2.libreview.io" },
		{ "FR", "https://api-fr.libreview.io" },   { "JP", "https://api-jp.libreview.io" },
		{ "LA", "https://api-la.libreview.io" },   { "RU", "https://api.libreview.ru" },
		{ "US", "https://api-us.libreview.io" },
	};
	char buf[NSC_LINKUP_URL_MAX];
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		ck_assert_int_eq(nsc_linkup_base_url(regions[i][0], NULL, buf, sizeof(buf)), NSC_OK);
		ck_assert_str_eq(buf, regions[i][1]);
	}
	ck_assert_int_eq(nsc_linkup_base_url(NULL, NULL, buf, sizeof(buf)), NSC_OK);
	ck_assert_str_eq(buf, "https://api-eu.libreview.io");
	ck_assert_int_eq(nsc_linkup_base_url("US", "http://127.0.0.1:9", buf, sizeof(buf)), NSC_OK);
	ck_assert_str_eq(buf, "http://127.0.0.1:9");
	/* Redirects: real regional hosts, unless a custom server stands for all of them. */
	ck_assert_int_eq(nsc_linkup_redirect_url("eu2", NULL, buf, sizeof(buf)), NSC_OK);
	ck_assert_str_eq(buf, "https://api-eu2.libreview.io");
	ck_assert_int_eq(nsc_linkup_redirect_url("ru", NULL, buf, sizeof(buf)), NSC_OK);
	ck_assert_str_eq(buf, "https://api.libreview.ru");
	ck_assert_int_eq(nsc_linkup_redirect_url("us", "https://api.libreview.io", buf, sizeof(buf)), NSC_OK);
	ck_assert_str_eq(buf, "https://api-us.libreview.io");
	ck_assert_int_eq(nsc_linkup_redirect_url("EU2", "http://127.0.0.1:8080", buf, sizeof(buf)), NSC_OK);
	ck_assert_str_eq(buf, "http://127.0.0.1:8080/region/eu2");
	ck_assert_int_eq(nsc_linkup_redirect_url("eu/../x", NULL, buf, sizeof(buf)), NSC_ERR_PARSE);
	ck_assert_int_eq(nsc_linkup_redirect_url("", NULL, buf, sizeof(buf)), NSC_ERR_PARSE);
	ck_assert(nsc_linkup_is_abbott_url("https://api-eu.libreview.io"));
	ck_assert(nsc_linkup_is_abbott_url("https://libreview.io:443/x"));
	ck_assert(!nsc_linkup_is_abbott_url("https://libreview.io.example.com"));
	ck_assert(!nsc_linkup_is_abbott_url("https://evillibreview.io"));
	ck_assert(!nsc_linkup_is_abbott_url("https://api-eu.libreview.io@evil.example"));
	ck_assert(!nsc_linkup_is_abbott_url("http://127.0.0.1:8080"));
}
END_TEST

/* The verdict's parts where the tests look at them. */
static nsc_rc verdict_parts(const struct nsc_linkup_answer *a, enum nsc_linkup_call call, int64_t retry_after,
			    char *msg, size_t size, int64_t *hold)
{
	struct nsc_vendor_verdict v;
	nsc_rc rc = nsc_linkup_verdict(a, call, retry_after, "4.16.0", &v);
	ck_assert_int_eq(rc, v.rc);
	snprintf(msg, size, "%s", v.msg);
	*hold = v.hold_off_ms;
	return rc;
}

/* classify + verdict for a login answer */
static nsc_rc login_verdict(long http, const char *ctype, const char *body, int64_t retry_after, char *msg,
			    size_t size, int64_t *hold, enum nsc_linkup_kind *kind)
{
	struct nsc_linkup_answer a;
	ck_assert_int_eq(nsc_linkup_classify_login(http, ctype, body, strlen(body), &a), NSC_OK);
	*kind = a.kind;
	nsc_rc rc = NSC_OK;
	if (a.kind != NSC_LINKUP_OK && a.kind != NSC_LINKUP_REDIRECT)
		rc = verdict_parts(&a, NSC_LINKUP_CALL_LOGIN, retry_after, msg, size, hold);
	nsc_linkup_answer_free(&a);
	return rc;
}

START_TEST(login_answers_are_classified)
{
	struct nsc_linkup_answer a;
	char msg[NSC_ERROR_MSG_MAX];
	int64_t hold = -1;
	enum nsc_linkup_kind k;

	ck_assert_int_eq(nsc_linkup_classify_login(200, "application/json", LOGIN_OK, strlen(LOGIN_OK), &a), NSC_OK);
	ck_assert_int_eq(a.kind, NSC_LINKUP_OK);
	ck_assert_str_eq(a.token, "jwt-A-token");
	ck_assert_int_eq(a.expires_s, 1767225600LL);
	ck_assert_str_eq(a.user_id, "7ad66b40-ba9b-401e-9845-4f49f998cf16");
	nsc_linkup_answer_free(&a);

	const char *redirect = "{\"status\":0,\"data\":{\"redirect\":true,\"region\":\"eu\"}}";
	ck_assert_int_eq(nsc_linkup_classify_login(200, NULL, redirect, strlen(redirect), &a), NSC_OK);
	ck_assert_int_eq(a.kind, NSC_LINKUP_REDIRECT);
	ck_assert_str_eq(a.region, "eu");
	nsc_linkup_answer_free(&a);

	ck_assert_int_eq(login_verdict(200, NULL, "{\"status\":2,\"error\":{\"message\":\"notAuthenticated\"}}", -1,
				       msg, sizeof(msg), &hold, &k),
			 NSC_ERR_REJECTED);
	ck_assert_int_eq(k, NSC_LINKUP_BAD_CREDENTIALS);
	ck_assert_ptr_nonnull(strstr(msg, "CONNECT_LINK_UP_PASSWORD"));
	ck_assert_int_eq(hold, 0);

	const char *steps[][2] = { { "tou", "terms of use" }, { "pp", "privacy policy" },
				   { "verifyEmail", "verif" } };
	for (int i = 0; i < 3; i++) {
		char body[256];
		snprintf(body, sizeof(body),
			 "{\"status\":4,\"data\":{\"step\":{\"type\":\"%s\",\"componentName\":\"AcceptDocument\"},"
			 "\"authTicket\":{\"token\":\"step\",\"expires\":1,\"duration\":3600000}}}",
			 steps[i][0]);
		ck_assert_int_eq(login_verdict(200, NULL, body, -1, msg, sizeof(msg), &hold, &k), NSC_ERR_REJECTED);
		ck_assert_int_eq(k, NSC_LINKUP_USER_ACTION);
		ck_assert_ptr_nonnull(strstr(msg, steps[i][1]));
		ck_assert_ptr_nonnull(strstr(msg, "LibreLinkUp app"));
	}

	ck_assert_int_eq(login_verdict(200, NULL, LOCKED_BODY, -1, msg, sizeof(msg), &hold, &k), NSC_ERR_RETRY);
	ck_assert_int_eq(k, NSC_LINKUP_LOCKED);
	ck_assert_int_eq(hold, 305000);

	ck_assert_int_eq(login_verdict(403, NULL, "{\"data\":{\"minimumVersion\":\"4.16.0\"},\"status\":920}", -1, msg,
				       sizeof(msg), &hold, &k),
			 NSC_ERR_REJECTED);
	ck_assert_int_eq(k, NSC_LINKUP_VERSION);
	ck_assert_ptr_nonnull(strstr(msg, "4.16.0 or newer"));
	ck_assert_ptr_nonnull(strstr(msg, "CONNECT_LINK_UP_VERSION"));

	ck_assert_int_eq(login_verdict(430, NULL, "", -1, msg, sizeof(msg), &hold, &k), NSC_ERR_RETRY);
	ck_assert_int_eq(k, NSC_LINKUP_BLOCKED);
	ck_assert_int_eq(hold, 30 * MIN);
	ck_assert_int_eq(login_verdict(403, "text/html", "<!DOCTYPE html><title>Attention Required! | Cloudflare</title>",
				       -1, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_RETRY);
	ck_assert_int_eq(k, NSC_LINKUP_BLOCKED);
	ck_assert_int_eq(hold, 30 * MIN);
	ck_assert_int_eq(login_verdict(502, "text/html", "<html>bad gateway</html>", -1, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_RETRY);
	ck_assert_int_eq(k, NSC_LINKUP_SERVER_ERROR);
	ck_assert_int_eq(hold, 0);
	ck_assert_int_eq(login_verdict(200, NULL, "{\"status\":0,\"data\":{}}", -1, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_RETRY);
	ck_assert_int_eq(k, NSC_LINKUP_MALFORMED);
	ck_assert_int_eq(login_verdict(200, NULL, "{\"status\":0,\"da", -1, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_RETRY);
	ck_assert_int_eq(k, NSC_LINKUP_MALFORMED);
}
END_TEST

static nsc_rc data_verdict(long http, const char *ctype, const char *body, int64_t retry_after,
			   enum nsc_linkup_call call, char *msg, size_t size, int64_t *hold,
			   enum nsc_linkup_kind *kind)
{
	struct nsc_linkup_answer a;
	ck_assert_int_eq(nsc_linkup_classify_data(http, ctype, body, strlen(body), &a), NSC_OK);
	*kind = a.kind;
	nsc_rc rc = a.kind == NSC_LINKUP_OK ? NSC_OK : verdict_parts(&a, call, retry_after, msg, size, hold);
	nsc_linkup_answer_free(&a);
	return rc;
}

START_TEST(data_answers_are_classified)
{
	struct nsc_linkup_answer a;
	char msg[NSC_ERROR_MSG_MAX];
	int64_t hold = -1;
	enum nsc_linkup_kind k;
	const enum nsc_linkup_call G = NSC_LINKUP_CALL_GRAPH;

	ck_assert_int_eq(nsc_linkup_classify_data(200, NULL, GRAPH_OK, strlen(GRAPH_OK), &a), NSC_OK);
	ck_assert_int_eq(a.kind, NSC_LINKUP_OK);
	ck_assert_str_eq(a.token, "jwt-C-token");
	ck_assert_int_eq(a.expires_s, 1767225720LL);
	ck_assert_ptr_nonnull(a.root);
	nsc_linkup_answer_free(&a);

	ck_assert_int_eq(data_verdict(401, NULL, "{\"message\":\"Unauthorized\"}", -1, G, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_AUTH);
	ck_assert_int_eq(data_verdict(403, NULL, "{\"message\":\"RequiredHeaderMissing\"}", -1, G, msg, sizeof(msg),
				      &hold, &k),
			 NSC_ERR_REJECTED);
	ck_assert_int_eq(k, NSC_LINKUP_HEADER_MISSING);
	ck_assert_ptr_nonnull(strstr(msg, "CONNECT_LINK_UP_VERSION"));
	ck_assert_int_eq(data_verdict(403, NULL, "{\"data\":{\"minimumVersion\":\"4.16.0\"},\"status\":920}", -1,
				      NSC_LINKUP_CALL_CONNECTIONS, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(msg, "LibreLinkUp wants app version 4.16.0 or newer"));
	ck_assert_int_eq(data_verdict(429, NULL, "{\"status\":429,\"message\":\"Too Many Requests\"}", 120000, G, msg,
				      sizeof(msg), &hold, &k),
			 NSC_ERR_RETRY);
	ck_assert_int_eq(k, NSC_LINKUP_RATE_LIMITED);
	ck_assert_int_eq(hold, 120000);
	ck_assert_int_eq(data_verdict(429, NULL, "", -1, G, msg, sizeof(msg), &hold, &k), NSC_ERR_RETRY);
	ck_assert_int_eq(hold, 60000);
	ck_assert_int_eq(data_verdict(503, NULL, "", -1, G, msg, sizeof(msg), &hold, &k), NSC_ERR_RETRY);
	ck_assert_int_eq(hold, 0);
	ck_assert_int_eq(data_verdict(403, "text/html", "<!DOCTYPE html>", -1, G, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_RETRY);
	ck_assert_int_eq(hold, 30 * MIN);
	ck_assert_int_eq(data_verdict(200, NULL, "{\"status\":4,\"error\":{\"message\":\"couldNotLoadPatient\"}}", -1,
				      G, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_REJECTED);
	ck_assert_int_eq(k, NSC_LINKUP_PATIENT_UNKNOWN);
	ck_assert_int_eq(data_verdict(200, NULL, "{\"status\":0,\"dat", -1, G, msg, sizeof(msg), &hold, &k),
			 NSC_ERR_DROP);
	ck_assert_int_eq(data_verdict(200, NULL, "{\"status\":0,\"dat", -1, NSC_LINKUP_CALL_CONNECTIONS, msg,
				      sizeof(msg), &hold, &k),
			 NSC_ERR_RETRY);
}
END_TEST

/* ---- a recording output ---------------------------------------------------- */

struct rec {
	struct json_object *docs; /* entries as stored, in write order */
	struct json_object *ids;
	struct nsc_last_known lk;
};
static struct rec *rec_last;

static nsc_rc rec_open(const struct nsc_config *cfg, struct nsc_log *log, void **ctx, struct nsc_error *err)
{
	struct rec *r = calloc(1, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	r->docs = json_object_new_array();
	r->ids = json_object_new_object();
	rec_last = r;
	*ctx = r;
	return NSC_OK;
}

static void rec_close(void *ctx)
{
	struct rec *r = ctx;
	if (rec_last == r)
		rec_last = NULL;
	json_object_put(r->docs);
	json_object_put(r->ids);
	free(r);
}

static nsc_rc rec_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	*out = ((struct rec *)ctx)->lk;
	return NSC_OK;
}

static nsc_rc rec_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res, struct nsc_error *err)
{
	struct rec *r = ctx;
	for (size_t i = 0; i < nsc_batch_count(b, NSC_COLL_ENTRIES); i++) {
		struct json_object *doc = nsc_batch_get(b, NSC_COLL_ENTRIES, i);
		const char *id = str(doc, "identifier");
		ck_assert_ptr_nonnull(id);
		if (json_object_object_get_ex(r->ids, id, NULL)) {
			res->duplicates[NSC_COLL_ENTRIES]++;
			continue;
		}
		json_object_object_add(r->ids, id, NULL);
		json_object_array_add(r->docs, json_object_get(doc));
		res->stored[NSC_COLL_ENTRIES]++;
		int64_t t = num(doc, "date");
		if (t > r->lk.ms[NSC_COLL_ENTRIES])
			r->lk.ms[NSC_COLL_ENTRIES] = t;
	}
	return NSC_OK;
}

static const struct nsc_output_driver rec_output = {
	.name = "record", .open = rec_open, .close = rec_close, .last_known = rec_last_known, .write = rec_write,
};

static size_t rec_count(void)
{
	return rec_last ? json_object_array_length(rec_last->docs) : 0;
}

static struct json_object *rec_at(size_t i)
{
	return json_object_array_get_idx(rec_last->docs, i);
}

static struct json_object *rec_find(int64_t date)
{
	for (size_t i = 0; i < rec_count(); i++)
		if (num(rec_at(i), "date") == date)
			return rec_at(i);
	return NULL;
}

/* ---- the simulator environment --------------------------------------------- */

struct env {
	struct harness h;
	struct tsrv *srv;
	struct tllu *sim;
	struct nsc_config cfg;
	struct nsc_bridge *b;
};

static int64_t env_now(void *ctx)
{
	struct env *e = ctx;
	return nsc_loop_wall_ms(e->h.loop);
}

static void env_setup(struct env *e, struct tllu_config *sc, enum nsc_log_level level)
{
	memset(e, 0, sizeof(*e));
	harness_setup(&e->h, level);
	e->srv = tsrv_start(0);
	ck_assert_ptr_nonnull(e->srv);
	sc->seed = sc->seed ? sc->seed : 42;
	sc->owner_offset_min = sc->owner_offset_min ? sc->owner_offset_min : 60;
	sc->now_ms = env_now;
	sc->now_ctx = e;
	e->sim = tllu_attach(e->srv, sc);
	ck_assert_ptr_nonnull(e->sim);
	nsc_config_init(&e->cfg);
	e->cfg.source = nsc_source_by_name("linkup");
	e->cfg.lookback_ms = 48 * HOUR;
	e->cfg.http_timeout_ms = 2 * SEC;
	e->cfg.linkup_username = strdup(TLLU_DEFAULT_USER);
	e->cfg.linkup_password = strdup(TLLU_DEFAULT_PASSWORD);
	e->cfg.linkup_region = strdup("EU");
	e->cfg.linkup_server = strdup(tsrv_url(e->srv));
	ck_assert_ptr_nonnull(e->cfg.linkup_server);
}

static void env_set(char **field, const char *value)
{
	free(*field);
	*field = value ? strdup(value) : NULL;
}

static void env_start(struct env *e)
{
	struct nsc_bridge_options o = { .once = false, .rng_seed = 17 };
	struct nsc_error err;
	ck_assert_int_eq(nsc_config_register_secrets(&e->cfg, e->h.log), NSC_OK);
	ck_assert_int_eq(nsc_bridge_new_with(e->h.loop, &e->cfg, e->h.log, &o, &nsc_source_linkup, &rec_output, &e->b,
					     &err),
			 NSC_OK);
	ck_assert_int_eq(nsc_bridge_start(e->b), NSC_OK);
}

/* A restart: a new bridge (and output) on the same loop and simulator. */
static void env_restart(struct env *e)
{
	nsc_bridge_free(e->b);
	e->b = NULL;
	env_start(e);
}

static void env_teardown(struct env *e)
{
	nsc_bridge_free(e->b);
	tsrv_stop(e->srv);
	tllu_free(e->sim);
	nsc_config_free(&e->cfg);
	harness_teardown(&e->h);
}

static const struct nsc_bridge_stats *st(struct env *e)
{
	return nsc_bridge_stats(e->b);
}

static uint64_t frames(struct env *e)
{
	const struct nsc_bridge_stats *s = st(e);
	return s->frames_ok + s->frames_failed + s->frames_rejected + s->payloads_dropped;
}

/* Lets virtual time pass in 1 s steps until `n` frames ended (at most max_ms). */
static void run_frames(struct env *e, uint64_t n, int64_t max_ms)
{
	for (int64_t t = 0; t < max_ms && frames(e) < n; t += SEC)
		harness_run_for(&e->h, SEC);
	ck_assert_uint_ge(frames(e), n);
}

static struct tllu_counters counters(struct env *e)
{
	struct tllu_counters c;
	tllu_counters(e->sim, &c);
	return c;
}

/* Every stored entry matches the simulator's curve; only current readings carry an arrow. */
static void check_entries_match(struct env *e, size_t patient)
{
	for (size_t i = 0; i < rec_count(); i++) {
		struct json_object *d = rec_at(i);
		int64_t t = num(d, "date");
		int mgdl, arrow;
		ck_assert_int_eq((t - TLLU_OFFSET_MS) % (CADENCE / 5), 0);
		tllu_reading_at(e->sim, patient, t, &mgdl, &arrow);
		ck_assert_int_eq(num(d, "sgv"), mgdl);
		ck_assert_str_eq(str(d, "device"), "nsconnect-librelinkup");
		ck_assert_str_eq(str(d, "type"), "sgv");
		if (has(d, "direction")) {
			ck_assert_str_eq(str(d, "direction"), direction_of_arrow[arrow]);
			ck_assert_int_eq(num(d, "trend"), trend_of_arrow[arrow]);
		}
		for (size_t j = 0; j < i; j++)
			ck_assert_int_ne(num(rec_at(j), "date"), t);
	}
}

START_TEST(clean_run_stores_exact_readings)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	/* Start one minute after a cadence slot: the current reading is also the newest graph point. */
	harness_run_for(&e.h, MIN);
	int64_t t0 = nsc_loop_wall_ms(e.h.loop);
	int64_t cur0 = tllu_current_time(e.sim, t0);
	ck_assert_int_eq(cur0, HARNESS_START_MS + TLLU_OFFSET_MS);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	/* 144 graph points, the newest of them being the current reading: stored once, with its arrow. */
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS);
	int64_t oldest = cur0 - (TLLU_GRAPH_POINTS - 1) * CADENCE;
	for (size_t i = 0; i < rec_count(); i++) {
		struct json_object *d = rec_at(i);
		ck_assert_int_eq(num(d, "date"), oldest + (int64_t)i * CADENCE);
		ck_assert_int_eq(has(d, "direction"), num(d, "date") == cur0);
	}
	int mgdl, arrow;
	tllu_reading_at(e.sim, 0, cur0, &mgdl, &arrow);
	struct json_object *cur = rec_find(cur0);
	ck_assert_int_eq(num(cur, "sgv"), mgdl);
	ck_assert_str_eq(str(cur, "direction"), direction_of_arrow[arrow]);
	char iso[NSC_ISO_BUF];
	ck_assert_int_eq(nsc_time_format_iso(cur0, iso, sizeof(iso)), NSC_OK);
	ck_assert_str_eq(str(cur, "dateString"), "2024-01-01T10:00:13.000Z");

	/* An hour of polling: one new reading per cycle, always the current one with its arrow. */
	harness_run_for(&e.h, HOUR);
	struct tllu_counters c = counters(&e);
	ck_assert_uint_eq(c.logins, 1);
	ck_assert_uint_eq(c.unauthorized, 0);
	ck_assert_uint_eq(c.graph_calls, 13);
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS + 12);
	check_entries_match(&e, 0);
	for (size_t i = TLLU_GRAPH_POINTS; i < rec_count(); i++) {
		ck_assert(has(rec_at(i), "direction"));
		ck_assert_int_eq(num(rec_at(i), "date"), cur0 + (int64_t)(i - TLLU_GRAPH_POINTS + 1) * CADENCE);
	}
	/* Each of the 12 polls looked an hour back again for late history: 12 points already held. */
	ck_assert_uint_eq(st(&e)->duplicates[NSC_COLL_ENTRIES],
			  12 * (NSC_LINKUP_HISTORY_RECHECK_MS / CADENCE));
	ck_assert_uint_eq(st(&e)->frames_failed, 0);

	/* Headers: product, version 4.16.0 by default, account-id, the rolled token. */
	const struct tsrv_request *login = tsrv_find(e.srv, "POST", "/llu/auth/login", 0);
	ck_assert_ptr_nonnull(login);
	ck_assert_str_eq(tsrv_header(login, "product"), "llu.android");
	ck_assert_str_eq(tsrv_header(login, "version"), "4.16.0");
	ck_assert_str_eq(tsrv_header(login, "Content-Type"), "application/json");
	ck_assert_str_eq(tsrv_header(login, "Accept"), "application/json");
	ck_assert_str_eq(tsrv_header(login, "cache-control"), "no-cache");
	ck_assert_str_eq(tsrv_header(login, "User-Agent"), "nsconnect/" PACKAGE_VERSION);
	ck_assert_ptr_null(tsrv_header(login, "Authorization"));
	ck_assert_ptr_nonnull(strstr(login->body, "\"email\":\"alice@example.com\""));
	const char *prev_auth = NULL;
	size_t ndata = tsrv_count(e.srv, "GET", "/llu/connections");
	ck_assert_uint_eq(ndata, 14);
	for (size_t i = 0; i < ndata; i++) {
		const struct tsrv_request *r = tsrv_find(e.srv, "GET", "/llu/connections", i);
		ck_assert_str_eq(tsrv_header(r, "account-id"), FIXTURE_ACCOUNT_ID);
		ck_assert_str_eq(tsrv_header(r, "product"), "llu.android");
		ck_assert_str_eq(tsrv_header(r, "version"), "4.16.0");
		ck_assert_int_eq(r->status, 200);
		const char *auth = tsrv_header(r, "Authorization");
		ck_assert_ptr_nonnull(auth);
		ck_assert(strncmp(auth, "Bearer eyJ", 10) == 0);
		if (prev_auth)
			ck_assert_str_ne(auth, prev_auth); /* every call uses the newest ticket */
		prev_auth = auth;
	}
	ck_assert_str_eq(tsrv_find(e.srv, "GET", "/llu/connections", 0)->path, "/llu/connections");
	ck_assert_str_eq(tsrv_find(e.srv, "GET", "/llu/connections", 1)->path,
			 "/llu/connections/" TLLU_DEFAULT_USER_ID "/graph");
	env_teardown(&e);
}
END_TEST

START_TEST(current_reading_between_slots)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_start(&e); /* 10:00:00: current 09:59:13, graph up to 09:55:13 */
	run_frames(&e, 1, 10 * SEC);
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS + 1);
	int64_t cur = HARNESS_START_MS - MIN + TLLU_OFFSET_MS;
	struct json_object *last = rec_at(rec_count() - 1);
	ck_assert_int_eq(num(last, "date"), cur);
	ck_assert(has(last, "direction"));
	ck_assert(!has(rec_at(rec_count() - 2), "direction"));
	ck_assert_int_eq(num(rec_at(rec_count() - 2), "date"), cur - 4 * MIN);
	/* Next cycle: the graph point at 10:00:13 and the current 10:04:13. */
	harness_run_for(&e.h, 6 * MIN);
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS + 3);
	ck_assert_int_eq(num(rec_at(TLLU_GRAPH_POINTS + 1), "date"), HARNESS_START_MS + TLLU_OFFSET_MS);
	ck_assert(!has(rec_at(TLLU_GRAPH_POINTS + 1), "direction"));
	ck_assert_int_eq(num(rec_at(TLLU_GRAPH_POINTS + 2), "date"), HARNESS_START_MS + 4 * MIN + TLLU_OFFSET_MS);
	check_entries_match(&e, 0);
	env_teardown(&e);
}
END_TEST

START_TEST(redirect_is_followed_and_remembered)
{
	struct env e;
	struct tllu_config sc = { .region = "eu2" };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS + 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/llu/auth/login"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/region/eu2/llu/auth/login"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/region/eu2/llu/connections"), 2);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/llu/connections"), 0);
	ck_assert_int_eq(harness_count_lines(&e.h, "event=region_redirect"), 1);

	/* The session dies; the next login goes straight to the region. */
	tllu_kill_sessions(e.sim);
	harness_run_for(&e.h, 6 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	struct tllu_counters c = counters(&e);
	ck_assert_uint_eq(c.redirects, 1);
	ck_assert_uint_eq(c.logins_ok, 2);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/llu/auth/login"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/region/eu2/llu/auth/login"), 2);
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS + 3);
	ck_assert_int_eq(harness_count_lines(&e.h, "event=region_redirect"), 1);
	env_teardown(&e);
}
END_TEST

START_TEST(wrong_password_for_a_day_is_safe)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_set(&e.cfg.linkup_password, "wrong-pass");
	env_start(&e);
	harness_run_for(&e.h, 24 * HOUR);
	struct tllu_counters c = counters(&e);
	int64_t times[64];
	size_t n = tllu_login_times(e.sim, times, 64);
	ck_assert_uint_eq(n, c.logins);
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_le(n, 8);
	ck_assert_uint_eq(c.failed_logins, n);
	ck_assert_uint_eq(c.locked_answers, 0);
	ck_assert_uint_eq(c.data_calls, 0);
	ck_assert_int_eq(times[0], HARNESS_START_MS);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_ge(times[i] - times[i - 1], 30 * MIN);
	for (size_t i = 2; i < n; i++)
		ck_assert_int_gt(times[i] - times[i - 2], 60 * SEC);
	ck_assert_int_eq(harness_count_lines(&e.h, "rejected the e-mail or password"), 1);
	ck_assert_int_eq(harness_count_lines(&e.h, "level=error"), 1);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "CONNECT_LINK_UP_PASSWORD"));
	ck_assert_int_eq(harness_count_lines(&e.h, "wrong-pass"), 0);

	/* Fixed and restarted: data flows at once. */
	env_set(&e.cfg.linkup_password, TLLU_DEFAULT_PASSWORD);
	env_restart(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS + 1);
	check_entries_match(&e, 0);
	env_teardown(&e);
}
END_TEST

START_TEST(locked_account_waits_out_the_lock)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	tllu_lock(e.sim, TLLU_LOCKOUT_S);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_RETRY);
	ck_assert_int_ge(st(&e)->next_frame_in_ms, 305 * SEC);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "locked"));
	ck_assert_uint_eq(counters(&e).logins, 1);
	harness_run_for(&e.h, 20 * MIN);
	int64_t times[16];
	size_t n = tllu_login_times(e.sim, times, 16);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_ge(times[1] - times[0], 300 * SEC);
	ck_assert_uint_eq(counters(&e).locked_answers, 1);
	ck_assert_uint_ge(rec_count(), TLLU_GRAPH_POINTS);
	ck_assert_uint_eq(st(&e)->frames_failed, 1);
	env_teardown(&e);
}
END_TEST

START_TEST(new_terms_ask_the_user)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	tllu_set_terms(e.sim, "tou");
	env_start(&e);
	harness_run_for(&e.h, 3 * HOUR);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "open the LibreLinkUp app"));
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "terms of use"));
	ck_assert_int_eq(harness_count_lines(&e.h, "new terms of use"), 1);
	struct tllu_counters c = counters(&e);
	ck_assert_uint_le(c.logins, 3); /* 0, 30 min, 1.5 h */
	ck_assert_uint_eq(c.data_calls, 0);
	/* Accepted in the app: the next attempt succeeds. */
	tllu_set_terms(e.sim, NULL);
	harness_run_for(&e.h, 3 * HOUR);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_ge(rec_count(), TLLU_GRAPH_POINTS);
	env_teardown(&e);
}
END_TEST

START_TEST(outdated_version_names_the_setting)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_set(&e.cfg.linkup_version, "4.7.0");
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "4.16.0 or newer"));
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "CONNECT_LINK_UP_VERSION"));
	ck_assert_int_ge(st(&e)->next_frame_in_ms, 30 * MIN);
	ck_assert_str_eq(tsrv_header(tsrv_find(e.srv, "POST", "/llu/auth/login", 0), "version"), "4.7.0");
	ck_assert_uint_eq(rec_count(), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(version_and_product_follow_the_config)
{
	struct env e;
	struct tllu_config sc = { .min_version = "4.17.0" };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_set(&e.cfg.linkup_version, "4.17.1");
	env_set(&e.cfg.linkup_product, "llu.ios");
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	for (size_t i = 0; i < tsrv_request_count(e.srv); i++) {
		const struct tsrv_request *r = tsrv_request_at(e.srv, i);
		ck_assert_str_eq(tsrv_header(r, "version"), "4.17.1");
		ck_assert_str_eq(tsrv_header(r, "product"), "llu.ios");
	}
	ck_assert_uint_eq(tsrv_request_count(e.srv), 3);
	env_teardown(&e);
}
END_TEST

#define PATIENT_A "11111111-aaaa-4aaa-8aaa-111111111111"
#define PATIENT_B "22222222-bbbb-4bbb-8bbb-222222222222"
#define PATIENT_C "33333333-cccc-4ccc-8ccc-333333333333"

START_TEST(several_patients_first_one_with_a_warning)
{
	struct env e;
	struct tllu_config sc = { .patients = { PATIENT_A, PATIENT_B, PATIENT_C } };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/llu/connections/" PATIENT_A "/graph"), 1);
	check_entries_match(&e, 0);
	ck_assert_int_eq(harness_count_lines(&e.h, "event=several_patients"), 1);
	ck_assert_int_eq(harness_count_lines(&e.h, PATIENT_A ", " PATIENT_B ", " PATIENT_C), 1);
	ck_assert_int_eq(harness_count_lines(&e.h, "CONNECT_LINK_UP_PATIENT_ID"), 1);
	/* doctor's words: everyone the account follows, the one read, and how to choose another. */
	char what[400];
	nsc_source_linkup.describe_selection(nsc_bridge_session(e.b)->source, what, sizeof(what));
	ck_assert_str_eq(what, "the account follows 3 people (" PATIENT_A ", " PATIENT_B ", " PATIENT_C
			       "); reading patient " PATIENT_A " (the first: set CONNECT_LINK_UP_PATIENT_ID to choose)");
	/* Logging in again does not repeat the warning. */
	tllu_kill_sessions(e.sim);
	harness_run_for(&e.h, 6 * MIN);
	ck_assert_uint_eq(counters(&e).logins_ok, 2);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_int_eq(harness_count_lines(&e.h, "event=several_patients"), 1);
	env_teardown(&e);
}
END_TEST

START_TEST(patient_chosen_by_id)
{
	struct env e;
	struct tllu_config sc = { .patients = { PATIENT_A, PATIENT_B, PATIENT_C } };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_set(&e.cfg.linkup_patient_id, PATIENT_B);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/llu/connections/" PATIENT_B "/graph"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/llu/connections/" PATIENT_A), 0);
	check_entries_match(&e, 1);
	ck_assert_int_eq(harness_count_lines(&e.h, "event=several_patients"), 0);
	char what[400];
	nsc_source_linkup.describe_selection(nsc_bridge_session(e.b)->source, what, sizeof(what));
	ck_assert_str_eq(what, "the account follows 3 people (" PATIENT_A ", " PATIENT_B ", " PATIENT_C
			       "); reading patient " PATIENT_B);
	env_teardown(&e);
}
END_TEST

START_TEST(unknown_patient_id_lists_the_ids)
{
	struct env e;
	struct tllu_config sc = { .patients = { PATIENT_A, PATIENT_B } };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_set(&e.cfg.linkup_patient_id, PATIENT_C);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	const char *m = st(&e)->last_error;
	ck_assert_ptr_nonnull(strstr(m, "CONNECT_LINK_UP_PATIENT_ID"));
	ck_assert_ptr_nonnull(strstr(m, PATIENT_A));
	ck_assert_ptr_nonnull(strstr(m, PATIENT_B));
	ck_assert_uint_eq(counters(&e).graph_calls, 0);
	ck_assert_int_ge(st(&e)->next_frame_in_ms, 30 * MIN);
	env_teardown(&e);
}
END_TEST

START_TEST(nobody_followed_says_so)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	tllu_set_empty(e.sim, true);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_str_eq(st(&e)->last_error,
			 "this LibreLinkUp account follows nobody yet: accept the invitation in the LibreLinkUp app");
	env_teardown(&e);
}
END_TEST

START_TEST(killed_session_logs_in_again_in_the_same_cycle)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	size_t before = rec_count();
	tllu_kill_sessions(e.sim);
	run_frames(&e, 2, 10 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(st(&e)->frames_ok, 2);
	ck_assert_uint_eq(st(&e)->frames_failed, 0);
	struct tllu_counters c = counters(&e);
	ck_assert_uint_eq(c.logins, 2);
	ck_assert_uint_eq(c.unauthorized, 1);
	ck_assert_uint_eq(rec_count(), before + 2); /* the 10:00:13 graph point and the current 10:04:13 */
	check_entries_match(&e, 0);
	env_teardown(&e);
}
END_TEST

START_TEST(expired_ticket_is_never_sent)
{
	struct env e;
	struct tllu_config sc = { .token_lifetime_ms = 4 * MIN };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_start(&e);
	harness_run_for(&e.h, 30 * MIN);
	struct tllu_counters c = counters(&e);
	ck_assert_uint_eq(c.unauthorized, 0);
	ck_assert_uint_ge(c.logins, 6); /* each cycle finds its ticket expired and logs in again */
	ck_assert_uint_eq(c.logins, c.graph_calls);
	ck_assert_uint_eq(st(&e)->frames_failed, 0);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	env_teardown(&e);
}
END_TEST

START_TEST(rate_limit_honours_retry_after)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	tllu_script(e.sim, TLLU_DATA, 429, NULL, "{\"status\":429,\"message\":\"Too Many Requests\"}", 120, 1);
	unsigned calls = counters(&e).data_calls;
	run_frames(&e, 2, 10 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_RETRY);
	ck_assert_int_ge(st(&e)->next_frame_in_ms, 120 * SEC);
	ck_assert_uint_eq(counters(&e).data_calls, calls + 1); /* no retry inside the frame */
	run_frames(&e, 3, 10 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(counters(&e).logins, 1);
	env_teardown(&e);
}
END_TEST

START_TEST(cloudflare_block_waits_half_an_hour)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	tllu_script(e.sim, TLLU_LOGIN, 403, "text/html",
		    "<!DOCTYPE html><title>Attention Required! | Cloudflare</title>", 0, 1);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_RETRY);
	ck_assert_int_ge(st(&e)->next_frame_in_ms, 30 * MIN);
	harness_run_for(&e.h, 29 * MIN);
	ck_assert_uint_eq(counters(&e).logins, 1);
	harness_run_for(&e.h, 10 * MIN);
	ck_assert_uint_eq(counters(&e).logins, 2);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	env_teardown(&e);
}
END_TEST

START_TEST(server_errors_are_retried_in_the_frame)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	tllu_script(e.sim, TLLU_DATA, 503, NULL, "{\"message\":\"Service Unavailable\"}", 0, 1);
	env_start(&e);
	run_frames(&e, 1, 5 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(st(&e)->frames_failed, 0);
	/* The retry came about 30 s later, when the current reading (10:00:13) is also in the graph. */
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS);
	ck_assert_int_eq(num(rec_at(rec_count() - 1), "date"), HARNESS_START_MS + TLLU_OFFSET_MS);
	check_entries_match(&e, 0);
	ck_assert_uint_eq(counters(&e).logins, 2); /* the connections call failed: the frame logs in again */
	env_teardown(&e);
}
END_TEST

START_TEST(hang_times_out_and_retries)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	e.cfg.http_timeout_ms = 1 * SEC;
	struct tsrv_fault f = { .hang = true, .times = 1 };
	ck_assert_int_eq(tsrv_fault_add(e.srv, "GET", "/llu/connections/", &f), 0);
	env_start(&e);
	run_frames(&e, 1, 5 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(rec_count(), TLLU_GRAPH_POINTS);
	ck_assert_int_eq(num(rec_at(rec_count() - 1), "date"), HARNESS_START_MS + TLLU_OFFSET_MS);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/llu/connections/"), 2);
	ck_assert_uint_eq(counters(&e).logins, 1);
	ck_assert_int_ge(harness_count_lines(&e.h, "did not answer in time"), 1);
	env_teardown(&e);
}
END_TEST

START_TEST(broken_bodies_do_not_stop_the_bridge)
{
	struct env e;
	struct tllu_config sc = { 0 };
	env_setup(&e, &sc, NSC_LOG_INFO);
	struct tsrv_fault bad = { .malformed = true, .times = 1 };
	ck_assert_int_eq(tsrv_fault_add(e.srv, "GET", "/llu/connections/", &bad), 0);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_DROP);
	ck_assert_uint_eq(st(&e)->payloads_dropped, 1);
	ck_assert_uint_eq(rec_count(), 0);
	/* A body cut short: a transport failure, retried within the frame. */
	struct tsrv_fault cut = { .truncate = true, .times = 1 };
	ck_assert_int_eq(tsrv_fault_add(e.srv, "GET", "/llu/connections/", &cut), 0);
	run_frames(&e, 2, 10 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_ge(rec_count(), TLLU_GRAPH_POINTS);
	/* An empty graph is a success with nothing new. */
	tllu_script(e.sim, TLLU_DATA, 200, NULL,
		    "{\"status\":0,\"data\":{\"connection\":{},\"activeSensors\":[],\"graphData\":[]}}", 0, 1);
	size_t n = rec_count();
	run_frames(&e, 3, 10 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(rec_count(), n);
	run_frames(&e, 4, 10 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_gt(rec_count(), n);
	env_teardown(&e);
}
END_TEST

START_TEST(secrets_never_reach_the_log)
{
	struct env e;
	struct tllu_config sc = { .region = "eu2" };
	env_setup(&e, &sc, NSC_LOG_TRACE);
	env_start(&e);
	run_frames(&e, 1, 10 * SEC);
	tllu_kill_sessions(e.sim);
	harness_run_for(&e.h, 20 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_ptr_nonnull(e.h.captured);
	ck_assert_ptr_null(strstr(e.h.captured, TLLU_DEFAULT_PASSWORD));
	ck_assert_ptr_null(strstr(e.h.captured, FIXTURE_ACCOUNT_ID));
	ck_assert_ptr_null(strstr(e.h.captured, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
	size_t checked = 0;
	for (size_t i = 0; i < tsrv_request_count(e.srv); i++) {
		const char *auth = tsrv_header(tsrv_request_at(e.srv, i), "Authorization");
		if (!auth)
			continue;
		ck_assert_ptr_null(strstr(e.h.captured, auth + 7));
		checked++;
	}
	ck_assert_uint_ge(checked, 4);
	char last[160];
	tllu_last_token(e.sim, last, sizeof(last));
	ck_assert_ptr_null(strstr(e.h.captured, last));
	ck_assert_int_ge(harness_count_lines(&e.h, "level=trace"), 1);
	env_teardown(&e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("librelinkup");
	TCase *pure = tcase_create("pure");
	tcase_add_test(pure, graph_fixture_gives_the_expected_entries);
	tcase_add_test(pure, current_reading_in_the_graph_is_emitted_once);
	tcase_add_test(pure, unusable_payloads_are_dropped);
	tcase_add_test(pure, factory_timestamp_is_utc);
	tcase_add_test(pure, trend_arrows_and_account_id);
	tcase_add_test(pure, hosts_for_every_region);
	tcase_add_test(pure, login_answers_are_classified);
	tcase_add_test(pure, data_answers_are_classified);
	suite_add_tcase(s, pure);

	TCase *sim = tcase_create("simulator");
	tcase_set_timeout(sim, 60);
	tcase_add_test(sim, clean_run_stores_exact_readings);
	tcase_add_test(sim, late_history_behind_the_newest_entry_is_kept);
	tcase_add_test(sim, current_reading_between_slots);
	tcase_add_test(sim, redirect_is_followed_and_remembered);
	tcase_add_test(sim, wrong_password_for_a_day_is_safe);
	tcase_add_test(sim, locked_account_waits_out_the_lock);
	tcase_add_test(sim, new_terms_ask_the_user);
	tcase_add_test(sim, outdated_version_names_the_setting);
	tcase_add_test(sim, version_and_product_follow_the_config);
	tcase_add_test(sim, several_patients_first_one_with_a_warning);
	tcase_add_test(sim, patient_chosen_by_id);
	tcase_add_test(sim, unknown_patient_id_lists_the_ids);
	tcase_add_test(sim, nobody_followed_says_so);
	tcase_add_test(sim, killed_session_logs_in_again_in_the_same_cycle);
	tcase_add_test(sim, expired_ticket_is_never_sent);
	tcase_add_test(sim, rate_limit_honours_retry_after);
	tcase_add_test(sim, cloudflare_block_waits_half_an_hour);
	tcase_add_test(sim, server_errors_are_retried_in_the_frame);
	tcase_add_test(sim, hang_times_out_and_retries);
	tcase_add_test(sim, broken_bodies_do_not_stop_the_bridge);
	tcase_add_test(sim, secrets_never_reach_the_log);
	suite_add_tcase(s, sim);
	return s;
}

NSC_CHECK_MAIN(suite)
