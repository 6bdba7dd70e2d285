/* SPDX-License-Identifier: MIT */
/*
 * Glooko: the pure parts on the fixtures of reference/vendors.md §8.4
 * (hosts, the sign-in and data answers, feed pages, clinical times across
 * both DST changes in Europe/Berlin and America/New_York, the transform),
 * and the driver through the real engine against the Glooko simulator on
 * the test server.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/bridge.h"
#include "harness.h"
#include "jsonutil.h"
#include "keep_output.h"
#include "nsc_check.h"
#include "server/glooko.h"
#include "server/server.h"
#include "sources/glooko/glooko.h"
#include "sources/registry.h"
#include "timeutil.h"
#include "tzone.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

static int64_t iso_ms(const char *iso)
{
	int64_t ms;
	ck_assert_int_eq(nsc_time_parse_iso(iso, &ms, NULL), NSC_OK);
	return ms;
}

static struct nsc_tz *zone(const char *name)
{
	struct nsc_tz *tz = NULL;
	struct nsc_error err;
	setenv("TZDIR", "/usr/share/zoneinfo", 1);
	ck_assert_msg(nsc_tz_load(name, &tz, &err) == NSC_OK, "%s: %s", name, err.msg);
	return tz;
}

/* ---- hosts ----------------------------------------------------------------- */

START_TEST(hosts_for_every_env)
{
	static const char *const cases[][3] = {
		{ "default", "https://api.glooko.com", "https://my.glooko.com" },
		{ "us", "https://api.glooko.com", "https://my.glooko.com" },
		{ "eu", "https://eu.api.glooko.com", "https://eu.my.glooko.com" },
		{ "de-fr", "https://de-fr.api.glooko.com", "https://de-fr.my.glooko.com" },
		{ "ca", "https://ca.api.glooko.com", "https://ca.my.glooko.com" },
		{ "development", "https://api.glooko.work", "https://my.glooko.work" },
		{ "production", "https://externalapi.glooko.com", "https://my.glooko.com" },
	};
	struct nsc_glooko_hosts h;
	struct nsc_error err;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(nsc_glooko_hosts_for(cases[i][0], NULL, &h, &err), NSC_OK);
		ck_assert_str_eq(h.api, cases[i][1]);
		ck_assert_str_eq(h.origin, cases[i][2]);
	}
	ck_assert_int_eq(nsc_glooko_hosts_for(NULL, NULL, &h, &err), NSC_OK);
	ck_assert_str_eq(h.api, "https://api.glooko.com");
	/* The server replaces the API host; the origin stays the environment's. */
	ck_assert_int_eq(nsc_glooko_hosts_for("eu", "http://127.0.0.1:8080/", &h, &err), NSC_OK);
	ck_assert_str_eq(h.api, "http://127.0.0.1:8080");
	ck_assert_str_eq(h.origin, "https://eu.my.glooko.com");
	ck_assert_int_eq(nsc_glooko_hosts_for("mars", NULL, &h, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_GLOOKO_ENV"));
}
END_TEST

/* ---- answers ---------------------------------------------------------------- */

static struct nsc_http_response answer(long status, const char *body, const char *cookie)
{
	struct nsc_http_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.body = (char *)body;
	r.body_len = strlen(body);
	r.retry_after_ms = -1;
	if (cookie) {
		r.set_cookie[0] = (char *)"other=1; path=/";
		r.set_cookie[1] = (char *)cookie;
		r.set_cookie_count = 2;
	}
	return r;
}

START_TEST(sign_in_answers_are_classified)
{
	struct nsc_vendor_verdict v;
	char code[NSC_GLOOKO_CODE_MAX];
	size_t at = 9;
	struct nsc_http_response r = answer(200, "{\"userLogin\":{\"email\":\"alice@example.com\",\"glookoCode\":"
						 "\"orange-waywood-8651\"}}",
					    "_logbook-web_session=abc123; path=/; HttpOnly; SameSite=Lax");
	ck_assert_int_eq(nsc_glooko_sign_in_answer(&r, false, &at, code, &v), NSC_GLOOKO_SIGNED_IN);
	ck_assert_uint_eq(at, 1);
	ck_assert_str_eq(code, "orange-waywood-8651");

	r = answer(401, "{\"success\":false,\"message\":\"Invalid email or password.\"}", NULL);
	ck_assert_int_eq(nsc_glooko_sign_in_answer(&r, false, &at, code, &v), NSC_GLOOKO_SIGN_IN_FAILED);
	ck_assert_int_eq(v.rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(v.msg, "CONNECT_GLOOKO_EMAIL and CONNECT_GLOOKO_PASSWORD"));

	r = answer(422, "{}", NULL);
	ck_assert_int_eq(nsc_glooko_sign_in_answer(&r, false, &at, code, &v), NSC_GLOOKO_TRY_V3);
	ck_assert_int_eq(nsc_glooko_sign_in_answer(&r, true, &at, code, &v), NSC_GLOOKO_SIGN_IN_FAILED);
	ck_assert_int_eq(v.rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(v.msg, "CONNECT_GLOOKO_ENV"));

	/* Two-factor: credentials accepted, no session, a word about a code. */
	r = answer(200, "{\"userLogin\":{\"email\":\"alice@example.com\"},\"twoFactorRequired\":true,"
			"\"message\":\"A verification code was sent to your e-mail.\"}", NULL);
	ck_assert_int_eq(nsc_glooko_sign_in_answer(&r, false, &at, code, &v), NSC_GLOOKO_SIGN_IN_FAILED);
	ck_assert_int_eq(v.rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(v.msg, "second sign-in factor"));
	ck_assert_ptr_nonnull(strstr(v.msg, "follower"));

	/* Accepted but without what a session needs: a temporary failure, not a rejection. */
	r = answer(200, "{\"userLogin\":{\"email\":\"alice@example.com\"}}",
		   "_logbook-web_session=abc123; path=/");
	ck_assert_int_eq(nsc_glooko_sign_in_answer(&r, false, &at, code, &v), NSC_GLOOKO_SIGN_IN_FAILED);
	ck_assert_int_eq(v.rc, NSC_ERR_RETRY);

	r = answer(503, "busy", NULL);
	ck_assert_int_eq(nsc_glooko_sign_in_answer(&r, false, &at, code, &v), NSC_GLOOKO_SIGN_IN_FAILED);
	ck_assert_int_eq(v.rc, NSC_ERR_RETRY);
	r = answer(429, "{\"error\":\"Too many requests\"}", NULL);
	r.retry_after_ms = 60000;
	ck_assert_int_eq(nsc_glooko_sign_in_answer(&r, false, &at, code, &v), NSC_GLOOKO_SIGN_IN_FAILED);
	ck_assert_int_eq(v.rc, NSC_ERR_RETRY);
	ck_assert_int_eq(v.hold_off_ms, 60000);
}
END_TEST

START_TEST(data_answers_are_classified)
{
	struct nsc_vendor_verdict v;
	bool unavailable;
	struct nsc_http_response r = answer(401, "{\"error\":\"You need to sign in or sign up before continuing.\"}", NULL);
	nsc_glooko_data_verdict(&r, &unavailable, &v);
	ck_assert(!unavailable);
	ck_assert_int_eq(v.rc, NSC_ERR_AUTH);
	r = answer(403, "{\"error\":\"data_cant_view\"}", NULL);
	nsc_glooko_data_verdict(&r, &unavailable, &v);
	ck_assert_int_eq(v.rc, NSC_ERR_AUTH);
	r = answer(404, "{}", NULL);
	nsc_glooko_data_verdict(&r, &unavailable, &v);
	ck_assert(unavailable);
	ck_assert_int_eq(v.rc, NSC_OK);
	r = answer(422, "{}", NULL);
	nsc_glooko_data_verdict(&r, &unavailable, &v);
	ck_assert(unavailable);
	r = answer(500, "oops", NULL);
	nsc_glooko_data_verdict(&r, &unavailable, &v);
	ck_assert(!unavailable);
	ck_assert_int_eq(v.rc, NSC_ERR_RETRY);
	r = answer(200, "{\"readings\":[]}", NULL);
	nsc_glooko_data_verdict(&r, &unavailable, &v);
	ck_assert_int_eq(v.rc, NSC_OK);
}
END_TEST

/* ---- pages -------------------------------------------------------------------- */

START_TEST(pages_and_cursors)
{
	const char *first = "{\"normalBoluses\":[{\"guid\":\"b1\"},{\"guid\":\"b2\"}],"
			    "\"lastUpdatedAt\":\"2025-04-19T10:05:00.000Z\",\"lastGuid\":\"b2\",\"lastPage\":false}";
	struct json_object *recs;
	size_t n;
	bool last;
	char cursor[160];
	struct nsc_error err;
	ck_assert_int_eq(nsc_glooko_page_read(first, strlen(first), NSC_GLOOKO_BOLUS, &recs, &n, &last, cursor,
					      sizeof(cursor), &err),
			 NSC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert(!last);
	ck_assert_str_eq(cursor, "2025-04-19T10:05:00.000Z|b2");
	json_object_put(recs);
	int64_t at;
	char guid[64];
	ck_assert(nsc_glooko_cursor_split(cursor, &at, guid, sizeof(guid)));
	ck_assert_int_eq(at, iso_ms("2025-04-19T10:05:00.000Z"));
	ck_assert_str_eq(guid, "b2");
	ck_assert(!nsc_glooko_cursor_split("no-bar", &at, guid, sizeof(guid)));

	const char *lastp = "{\"normalBoluses\":[],\"lastPage\":true}";
	ck_assert_int_eq(nsc_glooko_page_read(lastp, strlen(lastp), NSC_GLOOKO_BOLUS, &recs, &n, &last, cursor,
					      sizeof(cursor), &err),
			 NSC_OK);
	ck_assert(last && n == 0 && cursor[0] == '\0');
	json_object_put(recs);
	static const char *const bad[] = {
		"[]", "{\"readings\":[]}", "{\"normalBoluses\":{}}",
		"{\"normalBoluses\":[],\"lastPage\":false}", /* not the last, and no cursor to go on */
		"<html>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(nsc_glooko_page_read(bad[i], strlen(bad[i]), NSC_GLOOKO_BOLUS, &recs, &n, &last, cursor,
						      sizeof(cursor), &err),
				 NSC_ERR_DROP);

	char *url = nsc_glooko_page_url("https://api.glooko.com", NSC_GLOOKO_BOLUS, "orange-waywood-8651",
					iso_ms("2025-04-17T00:00:00.000Z"), NULL, 0, 0);
	ck_assert_str_eq(url, "https://api.glooko.com/api/v2/pumps/normal_boluses?patient=orange-waywood-8651"
			      "&lastUpdatedAt=2025-04-17T00:00:00.000Z&lastGuid=00000000-0000-0000-0000-000000000000"
			      "&limit=500&sendSoftDeleted=true");
	free(url);
	url = nsc_glooko_page_url("https://api.glooko.com", NSC_GLOOKO_CGM, "p", 0, "g1",
				  iso_ms("2025-04-19T00:00:00.000Z"), iso_ms("2025-04-19T14:00:00.000Z"));
	ck_assert_ptr_nonnull(strstr(url, "/api/v2/cgm/readings?patient=p&startDate=2025-04-19T00:00:00.000Z"
					  "&endDate=2025-04-19T14:00:00.000Z&lastUpdatedAt=1970-01-01T00:00:00.000Z&lastGuid=g1"));
	free(url);
}
END_TEST

/* ---- clinical times ----------------------------------------------------------- */

/* wall (Glooko's fake UTC), update time (or NULL), kind -> the instant. */
static int64_t clinical(const struct nsc_tz *tz, struct nsc_glooko_fold_memo *m, const char *wall,
			const char *updated, int *offset)
{
	int64_t utc;
	int off;
	ck_assert(nsc_glooko_clinical_time(wall, updated ? iso_ms(updated) : 0, tz, NSC_GLOOKO_CGM, m, &utc, &off));
	if (offset)
		*offset = off;
	return utc;
}

START_TEST(berlin_times_across_both_changes)
{
	struct nsc_tz *tz = zone("Europe/Berlin");
	struct nsc_glooko_fold_memo m;
	memset(&m, 0, sizeof(m));
	int off;
	/* Winter, summer: an hour apart in offset. */
	ck_assert_int_eq(clinical(tz, &m, "2025-01-15T12:00:00.000Z", NULL, &off), iso_ms("2025-01-15T11:00:00.000Z"));
	ck_assert_int_eq(off, 60);
	ck_assert_int_eq(clinical(tz, &m, "2025-07-15T12:00:00.000Z", NULL, &off), iso_ms("2025-07-15T10:00:00.000Z"));
	ck_assert_int_eq(off, 120);
	/* Spring: 01:55 is winter time, 03:00 summer time; 02:30 never happened (read with the offset before). */
	ck_assert_int_eq(clinical(tz, &m, "2025-03-30T01:55:00.000Z", NULL, NULL), iso_ms("2025-03-30T00:55:00.000Z"));
	ck_assert_int_eq(clinical(tz, &m, "2025-03-30T03:00:00.000Z", NULL, NULL), iso_ms("2025-03-30T01:00:00.000Z"));
	ck_assert_int_eq(clinical(tz, &m, "2025-03-30T02:30:00.000Z", NULL, NULL), iso_ms("2025-03-30T01:30:00.000Z"));
	/* Autumn: 02:30 happens twice. Synced promptly, the update time tells which. */
	ck_assert_int_eq(clinical(tz, &m, "2025-10-26T02:30:00.000Z", "2025-10-26T00:31:00.000Z", &off),
			 iso_ms("2025-10-26T00:30:00.000Z"));
	ck_assert_int_eq(off, 120);
	ck_assert_int_eq(clinical(tz, &m, "2025-10-26T02:30:00.000Z", "2025-10-26T01:31:00.000Z", &off),
			 iso_ms("2025-10-26T01:30:00.000Z"));
	ck_assert_int_eq(off, 60);
	/* Synced late: the first met is the earlier, the next of the same kind the later. */
	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(clinical(tz, &m, "2025-10-26T02:10:00.000Z", "2025-10-27T09:00:00.000Z", NULL),
			 iso_ms("2025-10-26T00:10:00.000Z"));
	ck_assert_int_eq(clinical(tz, &m, "2025-10-26T02:10:00.000Z", "2025-10-27T09:00:00.000Z", NULL),
			 iso_ms("2025-10-26T01:10:00.000Z"));
	/* After the change, winter time again. */
	ck_assert_int_eq(clinical(tz, &m, "2025-10-26T03:00:00.000Z", NULL, NULL), iso_ms("2025-10-26T02:00:00.000Z"));
	/* An explicit offset is a real one. */
	ck_assert_int_eq(clinical(tz, &m, "2025-07-15T12:00:00.000+05:00", NULL, &off), iso_ms("2025-07-15T07:00:00.000Z"));
	nsc_tz_free(tz);
}
END_TEST

START_TEST(new_york_times_across_both_changes)
{
	struct nsc_tz *tz = zone("America/New_York");
	struct nsc_glooko_fold_memo m;
	memset(&m, 0, sizeof(m));
	int off;
	ck_assert_int_eq(clinical(tz, &m, "2025-03-09T01:59:00.000Z", NULL, &off), iso_ms("2025-03-09T06:59:00.000Z"));
	ck_assert_int_eq(off, -300);
	ck_assert_int_eq(clinical(tz, &m, "2025-03-09T03:00:00.000Z", NULL, &off), iso_ms("2025-03-09T07:00:00.000Z"));
	ck_assert_int_eq(off, -240);
	ck_assert_int_eq(clinical(tz, &m, "2025-11-02T01:30:00.000Z", "2025-11-02T05:31:00.000Z", NULL),
			 iso_ms("2025-11-02T05:30:00.000Z"));
	ck_assert_int_eq(clinical(tz, &m, "2025-11-02T01:30:00.000Z", "2025-11-02T06:31:00.000Z", &off),
			 iso_ms("2025-11-02T06:30:00.000Z"));
	ck_assert_int_eq(off, -300);
	nsc_tz_free(tz);
}
END_TEST

/* ---- the transform ------------------------------------------------------------ */

#define FIXTURE_PAYLOAD                                                                                         \
	"{\"boluses\":[[{\"guid\":\"b1\",\"pumpTimestamp\":\"2025-04-19T12:00:00.000Z\","                          \
	"\"pumpTimestampUtcOffset\":\"+00:00\",\"insulinDelivered\":4.5,\"carbsInput\":45,\"insulinOnBoard\":5.1,"   \
	"\"softDeleted\":false,\"updatedAt\":\"2025-04-19T10:05:00.000Z\"},"                                        \
	"{\"guid\":\"b2\",\"pumpTimestamp\":\"2025-04-19T13:00:00.000Z\",\"insulinDelivered\":1.2,\"carbsInput\":0,"  \
	"\"insulinOnBoard\":3.0,\"updatedAt\":\"2025-04-19T11:05:00.000Z\"},"                                       \
	"{\"guid\":\"b3\",\"pumpTimestamp\":\"2025-04-19T14:00:00.000Z\",\"insulinDelivered\":3,\"carbsInput\":0,"    \
	"\"foodGuid\":\"f1\",\"updatedAt\":\"2025-04-19T12:05:00.000Z\"},"                                          \
	"{\"guid\":\"b4\",\"pumpTimestamp\":\"2025-04-19T15:00:00.000Z\",\"insulinDelivered\":2,\"softDeleted\":true}]]," \
	"\"basals\":[[{\"guid\":\"s1\",\"pumpTimestamp\":\"2025-04-19T12:07:30.000Z\",\"startTime\":43650,"          \
	"\"duration\":4582,\"rate\":0.85,\"segmentId\":null,\"softDeleted\":false,"                                  \
	"\"updatedAt\":\"2025-04-19T10:24:50.380Z\"}]],"                                                            \
	"\"suspends\":[[{\"guid\":\"u1\",\"pumpTimestamp\":\"2025-04-19T16:00:00.000Z\",\"duration\":1800}]],"        \
	"\"extended\":[[{\"guid\":\"x1\",\"pumpTimestamp\":\"2025-04-19T18:00:00.000Z\",\"insulinDelivered\":1,"      \
	"\"extendedInsulin\":3,\"duration\":7200}]],"                                                               \
	"\"cgm\":[[{\"guid\":\"r1\",\"timestamp\":\"2025-04-19T12:05:00.000Z\",\"value\":11200,\"trend\":\"FLAT\","     \
	"\"softDeleted\":false},{\"guid\":\"r2\",\"timestamp\":\"2025-04-19T12:10:00.000Z\",\"value\":11650,"         \
	"\"calculated\":true},{\"guid\":\"r3\",\"timestamp\":\"2025-04-19T12:15:00.000Z\",\"value\":\"high\"}]],"     \
	"\"meter\":[[{\"guid\":\"m1\",\"timestamp\":\"2025-04-19T07:00:00.000Z\",\"value\":9800}]],"                  \
	"\"foods\":[[{\"guid\":\"f1\",\"timestamp\":\"2025-04-19T14:00:00.000Z\",\"carbs\":30},"                     \
	"{\"guid\":\"f2\",\"timestamp\":\"2025-04-19T17:00:00.000Z\",\"carbs\":15}]],"                               \
	"\"events\":[[{\"guid\":\"e1\",\"timestamp\":\"2025-04-19T08:00:00.000Z\",\"type\":\"site_change\"},"          \
	"{\"guid\":\"e2\",\"timestamp\":\"2025-04-19T08:05:00.000Z\",\"type\":\"reservoir_change\"},"                \
	"{\"guid\":\"e3\",\"timestamp\":\"2025-04-19T09:00:00.000Z\",\"type\":\"cgm_sensor_start\"}]],"               \
	"\"alarms\":[[{\"guid\":\"a1\",\"timestamp\":\"2025-04-19T03:00:00.000Z\",\"type\":\"low_glucose\","           \
	"\"message\":\"Low glucose\"}]]}"

/* The treatment made of the Glooko record with this wall-clock time (created_at is in UTC). */
static struct json_object *treatment_at(struct nsc_batch *b, const char *created_at)
{
	for (size_t i = 0; i < nsc_batch_count(b, NSC_COLL_TREATMENTS); i++) {
		struct json_object *d = nsc_batch_get(b, NSC_COLL_TREATMENTS, i);
		if (strcmp(nsc_json_get_string(d, "created_at"), created_at) == 0)
			return d;
	}
	ck_abort_msg("no treatment at %s", created_at);
	return NULL;
}

static double num(struct json_object *d, const char *k)
{
	double v;
	ck_assert_msg(nsc_json_get_number(d, k, &v), "%s missing", k);
	return v;
}

static void transform_fixture(const struct nsc_tz *tz, struct nsc_batch *b, size_t *skipped)
{
	struct nsc_error err;
	nsc_batch_init(b);
	ck_assert_int_eq(nsc_glooko_transform(FIXTURE_PAYLOAD, strlen(FIXTURE_PAYLOAD), tz, b, skipped, &err), NSC_OK);
}

START_TEST(fixture_becomes_the_expected_documents)
{
	struct nsc_tz *tz = NULL;
	ck_assert_int_eq(nsc_tz_fixed(2 * 3600, &tz), NSC_OK);
	struct nsc_batch b;
	size_t skipped;
	transform_fixture(tz, &b, &skipped);
	ck_assert_uint_eq(skipped, 1); /* the reading "high" */
	/* CGM: mg/dL x 100 -> 112, at 12:05 local = 10:05Z; the calculated point is not a reading. */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 1);
	struct json_object *e = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0);
	ck_assert_int_eq((int64_t)num(e, "sgv"), 112);
	ck_assert_int_eq((int64_t)num(e, "date"), iso_ms("2025-04-19T10:05:00.000Z"));
	ck_assert_str_eq(nsc_json_get_string(e, "direction"), "Flat");
	ck_assert_int_eq((int64_t)num(e, "utcOffset"), 120);
	ck_assert_ptr_nonnull(nsc_json_get_string(e, "identifier"));

	struct json_object *t = treatment_at(&b, "2025-04-19T10:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Meal Bolus");
	ck_assert(num(t, "insulin") == 4.5 && num(t, "carbs") == 45);
	t = treatment_at(&b, "2025-04-19T11:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Correction Bolus");
	ck_assert(num(t, "insulin") == 1.2);
	ck_assert(!json_object_object_get_ex(t, "carbs", NULL));
	/* A bolus that names its food takes the food's carbs; that food is not stored alone. */
	t = treatment_at(&b, "2025-04-19T12:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Meal Bolus");
	ck_assert(num(t, "insulin") == 3 && num(t, "carbs") == 30);
	t = treatment_at(&b, "2025-04-19T15:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Carb Correction");
	ck_assert(num(t, "carbs") == 15);
	t = treatment_at(&b, "2025-04-19T10:07:30.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Temp Basal");
	ck_assert(num(t, "rate") == 0.85 && num(t, "absolute") == 0.85);
	ck_assert_double_eq_tol(num(t, "duration"), 4582.0 / 60.0, 1e-9);
	t = treatment_at(&b, "2025-04-19T14:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Temp Basal");
	ck_assert(num(t, "absolute") == 0 && num(t, "duration") == 30);
	t = treatment_at(&b, "2025-04-19T16:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Combo Bolus");
	ck_assert(num(t, "insulin") == 1 && num(t, "enteredinsulin") == 4 && num(t, "duration") == 120);
	ck_assert(num(t, "relative") == 1.5 && num(t, "splitNow") == 25 && num(t, "splitExt") == 75);
	t = treatment_at(&b, "2025-04-19T05:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "BG Check");
	ck_assert(num(t, "glucose") == 98);
	ck_assert_str_eq(nsc_json_get_string(t, "glucoseType"), "Finger");
	ck_assert_str_eq(nsc_json_get_string(treatment_at(&b, "2025-04-19T06:00:00.000Z"), "eventType"), "Site Change");
	ck_assert_str_eq(nsc_json_get_string(treatment_at(&b, "2025-04-19T06:05:00.000Z"), "eventType"), "Insulin Change");
	ck_assert_str_eq(nsc_json_get_string(treatment_at(&b, "2025-04-19T07:00:00.000Z"), "eventType"), "Sensor Start");
	t = treatment_at(&b, "2025-04-19T01:00:00.000Z");
	ck_assert_str_eq(nsc_json_get_string(t, "eventType"), "Note");
	ck_assert_ptr_nonnull(strstr(nsc_json_get_string(t, "notes"), "Low glucose"));
	/* 4 boluses (one deleted), basal, suspend, extended, meter, unlinked food, 3 events, alarm. */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_TREATMENTS), 3 + 1 + 1 + 1 + 1 + 1 + 3 + 1);
	/* The newest bolus's insulin on board is the pump's status then. */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_DEVICESTATUS), 1);
	struct json_object *ds = nsc_batch_get(&b, NSC_COLL_DEVICESTATUS, 0), *pump, *iob;
	ck_assert(json_object_object_get_ex(ds, "pump", &pump) && json_object_object_get_ex(pump, "iob", &iob));
	ck_assert(num(iob, "iob") == 3.0);
	ck_assert_str_eq(nsc_json_get_string(ds, "created_at"), "2025-04-19T11:00:00.000Z");
	nsc_batch_clear(&b);
	nsc_tz_free(tz);
}
END_TEST

START_TEST(identifiers_survive_a_zone_fix)
{
	struct nsc_tz *fixed = NULL, *berlin = zone("Europe/Berlin");
	ck_assert_int_eq(nsc_tz_fixed(3600, &fixed), NSC_OK);
	struct nsc_batch a, b;
	size_t skipped;
	transform_fixture(fixed, &a, &skipped);
	transform_fixture(berlin, &b, &skipped);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		ck_assert_uint_eq(nsc_batch_count(&a, c), nsc_batch_count(&b, c));
		for (size_t i = 0; i < nsc_batch_count(&a, c); i++) {
			struct json_object *x = nsc_batch_get(&a, c, i), *y = nsc_batch_get(&b, c, i);
			ck_assert_str_eq(nsc_json_get_string(x, "identifier"), nsc_json_get_string(y, "identifier"));
		}
	}
	/* The times moved by the hour the fix corrects (April: Berlin is +2). */
	int64_t ta, tb;
	ck_assert_int_eq(nsc_doc_time_ms(nsc_batch_get(&a, NSC_COLL_ENTRIES, 0), &ta), NSC_OK);
	ck_assert_int_eq(nsc_doc_time_ms(nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), &tb), NSC_OK);
	ck_assert_int_eq(ta - tb, HOUR);
	nsc_batch_clear(&a);
	nsc_batch_clear(&b);
	nsc_tz_free(fixed);
	nsc_tz_free(berlin);
}
END_TEST

START_TEST(unusable_payloads_are_dropped)
{
	static const char *const bad[] = { "", "[]", "{\"cgm\":{}}", "{\"cgm\":[{}]}", "not json" };
	struct nsc_tz *tz = NULL;
	ck_assert_int_eq(nsc_tz_fixed(0, &tz), NSC_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nsc_batch b;
		size_t skipped;
		struct nsc_error err;
		nsc_batch_init(&b);
		ck_assert_int_eq(nsc_glooko_transform(bad[i], strlen(bad[i]), tz, &b, &skipped, &err), NSC_ERR_DROP);
		nsc_batch_clear(&b);
	}
	nsc_tz_free(tz);
}
END_TEST


/* ---- the driver against the Glooko simulator ---------------------------------- */

/* Europe/Berlin's changes of 2025, by hand (not from the zone files the driver reads). */
static const struct tglk_transition berlin_2025[] = {
	{ 0, 3600 },
	{ 1743296400000LL, 7200 }, /* 2025-03-30T01:00:00Z */
	{ 1761440400000LL, 3600 }, /* 2025-10-26T01:00:00Z */
};

struct env {
	struct harness h;
	struct tsrv *srv;
	struct tglk *sim;
	struct nsc_config cfg;
	struct nsc_bridge *b;
};

static int64_t env_now(void *ctx)
{
	return nsc_loop_wall_ms(((struct env *)ctx)->h.loop);
}

/* A simulator in Berlin's zone on a virtual clock starting at `start`, a bridge configured for it. */
static void env_setup(struct env *e, struct tglk_config *sc, const char *start)
{
	memset(e, 0, sizeof(*e));
	harness_setup_at(&e->h, NSC_LOG_INFO, iso_ms(start));
	e->srv = tsrv_start(0);
	ck_assert_ptr_nonnull(e->srv);
	sc->seed = sc->seed ? sc->seed : 7;
	if (sc->zone_count == 0) {
		memcpy(sc->zone, berlin_2025, sizeof(berlin_2025));
		sc->zone_count = sizeof(berlin_2025) / sizeof(berlin_2025[0]);
	}
	if (sc->sync_delay_ms == 0)
		sc->sync_delay_ms = MIN;
	sc->now_ms = env_now;
	sc->now_ctx = e;
	e->sim = tglk_attach(e->srv, sc);
	ck_assert_ptr_nonnull(e->sim);
	setenv("TZDIR", "/usr/share/zoneinfo", 1);
	nsc_config_init(&e->cfg);
	e->cfg.source = nsc_source_by_name("glooko");
	e->cfg.lookback_ms = 30 * HOUR;
	e->cfg.http_timeout_ms = 2 * SEC;
	e->cfg.glooko_email = strdup(TGLK_DEFAULT_USER);
	e->cfg.glooko_password = strdup(TGLK_DEFAULT_PASSWORD);
	e->cfg.glooko_server = strdup(tsrv_url(e->srv));
	e->cfg.glooko_timezone = strdup("Europe/Berlin");
	ck_assert_ptr_nonnull(e->cfg.glooko_server);
}

static void env_start(struct env *e)
{
	struct nsc_bridge_options o = { .rng_seed = 11 };
	struct nsc_error err;
	ck_assert_int_eq(nsc_config_register_secrets(&e->cfg, e->h.log), NSC_OK);
	ck_assert_msg(nsc_bridge_new_with(e->h.loop, &e->cfg, e->h.log, &o, &nsc_source_glooko, &keep_output_driver,
					  &e->b, &err) == NSC_OK,
		      "%s", err.msg);
	ck_assert_int_eq(nsc_bridge_start(e->b), NSC_OK);
}

static void env_teardown(struct env *e)
{
	nsc_bridge_free(e->b);
	tsrv_stop(e->srv);
	tglk_free(e->sim);
	nsc_config_free(&e->cfg);
	harness_teardown(&e->h);
}

static const struct nsc_bridge_stats *st(struct env *e)
{
	return nsc_bridge_stats(e->b);
}

/* The simulator's records of a kind that had reached Glooko by `t` (real UTC): what a poll then could read. */
static size_t synced_by(struct env *e, const char *kind, int64_t t, struct json_object **out)
{
	struct json_object *all = NULL, *some = json_object_new_array();
	size_t n = tglk_records(e->sim, kind, &all);
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(all, i);
		if (iso_ms(nsc_json_get_string(r, "updatedAt")) <= t)
			json_object_array_add(some, json_object_get(r));
	}
	json_object_put(all);
	size_t got = json_object_array_length(some);
	if (out)
		*out = some;
	else
		json_object_put(some);
	return got;
}

/* The kept entry at this instant, NULL when none. */
static struct json_object *entry_at(int64_t t)
{
	for (size_t i = 0; i < kept_count(NSC_COLL_ENTRIES); i++) {
		struct json_object *d = json_object_array_get_idx(kept->docs[NSC_COLL_ENTRIES], i);
		int64_t dt;
		if (nsc_doc_time_ms(d, &dt) == NSC_OK && dt == t)
			return d;
	}
	return NULL;
}

START_TEST(readings_at_their_true_instants_across_the_autumn_change)
{
	struct env e;
	struct tglk_config sc = { .history_start_ms = iso_ms("2025-10-25T12:00:00.000Z") };
	env_setup(&e, &sc, "2025-10-26T04:00:00.000Z");
	env_start(&e);
	harness_run_for(&e.h, MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	struct json_object *recs = NULL;
	size_t n = synced_by(&e, "readings", st(&e)->last_success_ms, &recs);
	ck_assert_uint_gt(n, 150); /* 16 hours at 5 minutes, but the reading still syncing */
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), n);
	size_t repeated = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(recs, i);
		int64_t truth;
		ck_assert(nsc_json_get_int64(r, "trueUtcMs", &truth));
		struct json_object *d = entry_at(truth);
		ck_assert_msg(d != NULL, "no entry at the true instant of %s", nsc_json_get_string(r, "timestamp"));
		ck_assert_int_eq((int64_t)num(d, "sgv"), (int64_t)(num(r, "value") / 100 + 0.5));
		const char *wall = nsc_json_get_string(r, "timestamp");
		if (strncmp(wall, "2025-10-26T02:", 14) == 0)
			repeated++;
	}
	/* The hour that happened twice holds two readings every 5 minutes, an hour apart. */
	ck_assert_uint_eq(repeated, 24);
	json_object_put(recs);
	/* A later poll stores only what is new. */
	size_t before = kept_count(NSC_COLL_ENTRIES);
	harness_run_for(&e.h, 30 * MIN);
	ck_assert_uint_ge(kept_count(NSC_COLL_ENTRIES), before + 5);
	ck_assert_uint_le(kept_count(NSC_COLL_ENTRIES), before + 7);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->payloads_dropped + st(&e)->frames_rejected, 0);
	ck_assert_int_eq(harness_count_lines(&e.h, TGLK_DEFAULT_PASSWORD), 0);
	env_teardown(&e);
}
END_TEST

/* America/New_York's changes of 2025, by hand. */
static const struct tglk_transition new_york_2025[] = {
	{ 0, -5 * 3600 },
	{ 1741503600000LL, -4 * 3600 }, /* 2025-03-09T07:00:00Z */
	{ 1762063200000LL, -5 * 3600 }, /* 2025-11-02T06:00:00Z */
};

/* Every reading the simulator had synced by the last poll is an entry at its true instant, with its value. */
static void assert_every_reading_at_its_instant(struct env *e)
{
	struct json_object *recs = NULL;
	size_t n = synced_by(e, "readings", st(e)->last_success_ms, &recs);
	ck_assert_uint_gt(n, 100);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(recs, i);
		int64_t truth;
		ck_assert(nsc_json_get_int64(r, "trueUtcMs", &truth));
		struct json_object *d = entry_at(truth);
		ck_assert_msg(d != NULL, "no entry at the true instant of %s", nsc_json_get_string(r, "timestamp"));
		ck_assert_int_eq((int64_t)num(d, "sgv"), (int64_t)(num(r, "value") / 100 + 0.5));
	}
	json_object_put(recs);
}

START_TEST(readings_at_their_true_instants_across_the_spring_change)
{
	struct env e;
	struct tglk_config sc = { .history_start_ms = iso_ms("2025-03-29T18:00:00.000Z") };
	env_setup(&e, &sc, "2025-03-30T06:00:00.000Z");
	env_start(&e);
	harness_run_for(&e.h, MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	assert_every_reading_at_its_instant(&e);
	/* Readings keep their 5-minute spacing through the skipped hour: none lands an hour off. */
	ck_assert_ptr_nonnull(entry_at(iso_ms("2025-03-30T00:55:00.000Z")));
	ck_assert_ptr_nonnull(entry_at(iso_ms("2025-03-30T01:00:00.000Z")));
	ck_assert_ptr_nonnull(entry_at(iso_ms("2025-03-30T01:05:00.000Z")));
	env_teardown(&e);
}
END_TEST

START_TEST(new_york_readings_across_both_changes)
{
	struct env e;
	struct tglk_config sc = { .history_start_ms = iso_ms("2025-11-01T22:00:00.000Z"),
				  .zone_count = sizeof(new_york_2025) / sizeof(new_york_2025[0]) };
	memcpy(sc.zone, new_york_2025, sizeof(new_york_2025));
	env_setup(&e, &sc, "2025-11-02T09:00:00.000Z");
	free(e.cfg.glooko_timezone);
	e.cfg.glooko_timezone = strdup("America/New_York");
	env_start(&e);
	harness_run_for(&e.h, MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	assert_every_reading_at_its_instant(&e);
	env_teardown(&e);
	/* And March's change, forward. */
	struct tglk_config spring = { .history_start_ms = iso_ms("2025-03-08T22:00:00.000Z"),
				      .zone_count = sizeof(new_york_2025) / sizeof(new_york_2025[0]) };
	memcpy(spring.zone, new_york_2025, sizeof(new_york_2025));
	env_setup(&e, &spring, "2025-03-09T12:00:00.000Z");
	free(e.cfg.glooko_timezone);
	e.cfg.glooko_timezone = strdup("America/New_York");
	env_start(&e);
	harness_run_for(&e.h, MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	assert_every_reading_at_its_instant(&e);
	env_teardown(&e);
}
END_TEST

START_TEST(treatments_with_their_event_types_and_no_duplicate)
{
	struct env e;
	struct tglk_config sc = { .history_start_ms = iso_ms("2025-03-28T00:00:00.000Z"), .sync_delay_ms = 3 * HOUR };
	env_setup(&e, &sc, "2025-03-31T00:00:00.000Z");
	e.cfg.lookback_ms = 80 * HOUR;
	env_start(&e);
	harness_run_for(&e.h, MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	struct json_object *boluses = NULL;
	size_t nb = tglk_records(e.sim, "normalBoluses", &boluses);
	ck_assert_uint_gt(nb, 5);
	for (size_t i = 0; i < nb; i++) {
		struct json_object *r = json_object_array_get_idx(boluses, i);
		int64_t truth;
		ck_assert(nsc_json_get_int64(r, "trueUtcMs", &truth));
		char iso[NSC_ISO_BUF];
		ck_assert_int_eq(nsc_time_format_iso(truth, iso, sizeof(iso)), NSC_OK);
		struct json_object *t = NULL;
		for (size_t j = 0; j < kept_count(NSC_COLL_TREATMENTS) && !t; j++) {
			struct json_object *d = json_object_array_get_idx(kept->docs[NSC_COLL_TREATMENTS], j);
			const char *type = nsc_json_get_string(d, "eventType");
			if (strcmp(nsc_json_get_string(d, "created_at"), iso) == 0 && strstr(type, "Bolus"))
				t = d;
		}
		ck_assert_msg(t != NULL, "no bolus at %s", iso);
		ck_assert(num(t, "insulin") == num(r, "insulinDelivered"));
	}
	json_object_put(boluses);
	/* Pump events fill Nightscout's cannula, insulin and sensor ages; alarms are notes. */
	static const char *const expected[] = { "Site Change", "Insulin Change", "Temp Basal", "Carb Correction", NULL };
	for (size_t k = 0; expected[k]; k++) {
		bool found = false;
		for (size_t j = 0; j < kept_count(NSC_COLL_TREATMENTS) && !found; j++)
			found = strcmp(nsc_json_get_string(json_object_array_get_idx(kept->docs[NSC_COLL_TREATMENTS], j),
							   "eventType"),
				       expected[k]) == 0;
		ck_assert_msg(found, "no %s", expected[k]);
	}
	for (size_t j = 0; j < kept_count(NSC_COLL_TREATMENTS); j++)
		ck_assert_str_ne(nsc_json_get_string(json_object_array_get_idx(kept->docs[NSC_COLL_TREATMENTS], j),
						     "eventType"),
				 "Announcement");
	ck_assert_uint_ge(kept_count(NSC_COLL_DEVICESTATUS), 1);
	/* Polls re-read the last hour (and late syncs): nothing is stored twice. */
	size_t before = kept_count(NSC_COLL_TREATMENTS);
	harness_run_for(&e.h, 2 * HOUR);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->frames_rejected, 0);
	ck_assert_uint_ge(kept_count(NSC_COLL_TREATMENTS), before);
	ck_assert_uint_gt(st(&e)->duplicates[NSC_COLL_TREATMENTS], 0);
	env_teardown(&e);
}
END_TEST

/* A bolus treatment stored at this instant. */
static bool bolus_stored_at(int64_t t)
{
	char iso[NSC_ISO_BUF];
	ck_assert_int_eq(nsc_time_format_iso(t, iso, sizeof(iso)), NSC_OK);
	for (size_t j = 0; j < kept_count(NSC_COLL_TREATMENTS); j++) {
		struct json_object *d = json_object_array_get_idx(kept->docs[NSC_COLL_TREATMENTS], j);
		if (strcmp(nsc_json_get_string(d, "created_at"), iso) == 0 && strstr(nsc_json_get_string(d, "eventType"), "Bolus"))
			return true;
	}
	return false;
}

START_TEST(a_deleted_record_is_not_stored_and_an_edit_arrives)
{
	struct env e;
	struct tglk_config sc = { .history_start_ms = iso_ms("2025-06-01T00:00:00.000Z") };
	env_setup(&e, &sc, "2025-06-02T12:00:00.000Z");
	struct json_object *boluses = NULL;
	size_t nb = tglk_records(e.sim, "normalBoluses", &boluses);
	ck_assert_uint_ge(nb, 3);
	struct json_object *gone = json_object_array_get_idx(boluses, nb - 2), *kept_one = json_object_array_get_idx(boluses, nb - 3);
	int64_t gone_at, kept_at_ms;
	ck_assert(nsc_json_get_int64(gone, "trueUtcMs", &gone_at) && nsc_json_get_int64(kept_one, "trueUtcMs", &kept_at_ms));
	char edited_guid[64];
	snprintf(edited_guid, sizeof(edited_guid), "%s", nsc_json_get_string(json_object_array_get_idx(boluses, nb - 1), "guid"));
	tglk_soft_delete(e.sim, nsc_json_get_string(gone, "guid"));
	json_object_put(boluses);
	env_start(&e);
	harness_run_for(&e.h, MIN);
	ck_assert(bolus_stored_at(kept_at_ms));
	ck_assert(!bolus_stored_at(gone_at)); /* deleted at Glooko: not stored */
	tglk_edit_bolus(e.sim, edited_guid, 9.25);
	harness_run_for(&e.h, 10 * MIN);
	bool saw_edit = false;
	json_object_object_foreach(kept->latest, key, doc)
	{
		double insulin;
		if (strncmp(key, "1/", 2) == 0 && nsc_json_get_number(doc, "insulin", &insulin) && insulin == 9.25)
			saw_edit = true;
	}
	ck_assert_msg(saw_edit, "the edited bolus was not handed to the output again");
	ck_assert(!bolus_stored_at(gone_at));
	env_teardown(&e);
}
END_TEST

START_TEST(wrong_password_is_rejected_once)
{
	struct env e;
	struct tglk_config sc = { 0 };
	env_setup(&e, &sc, "2025-06-02T12:00:00.000Z");
	free(e.cfg.glooko_password);
	e.cfg.glooko_password = strdup("wrong-pass");
	env_start(&e);
	harness_run_for(&e.h, 20 * MIN);
	ck_assert_uint_eq(st(&e)->frames_rejected, 1);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "CONNECT_GLOOKO_PASSWORD"));
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/api/v2/users/sign_in"), 1);
	ck_assert_int_eq(harness_count_lines(&e.h, "wrong-pass"), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(two_factor_account_is_told_what_to_do)
{
	struct env e;
	struct tglk_config sc = { .two_factor = true };
	env_setup(&e, &sc, "2025-06-02T12:00:00.000Z");
	env_start(&e);
	harness_run_for(&e.h, 5 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "second sign-in factor"));
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(v2_refused_as_unprocessable_signs_in_through_v3)
{
	struct env e;
	struct tglk_config sc = { .v2_unprocessable = true, .history_start_ms = iso_ms("2025-06-02T06:00:00.000Z") };
	env_setup(&e, &sc, "2025-06-02T12:00:00.000Z");
	env_start(&e);
	harness_run_for(&e.h, MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/api/v3/users/sign_in"), 1);
	ck_assert_uint_gt(kept_count(NSC_COLL_ENTRIES), 50);
	/* It remembers: the next sign-in goes to v3 directly. */
	tglk_expire_sessions(e.sim);
	harness_run_for(&e.h, 10 * MIN);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/api/v2/users/sign_in"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/api/v3/users/sign_in"), 2);
	env_teardown(&e);
}
END_TEST

START_TEST(expired_cookie_signs_in_once_and_goes_on)
{
	struct env e;
	struct tglk_config sc = { .history_start_ms = iso_ms("2025-06-02T06:00:00.000Z") };
	env_setup(&e, &sc, "2025-06-02T12:00:00.000Z");
	env_start(&e);
	harness_run_for(&e.h, MIN);
	size_t before = kept_count(NSC_COLL_ENTRIES);
	tglk_expire_sessions(e.sim);
	harness_run_for(&e.h, 6 * MIN);
	ck_assert_uint_eq(tglk_sign_ins(e.sim), 2);
	ck_assert_uint_gt(kept_count(NSC_COLL_ENTRIES), before);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->frames_rejected, 0);
	/* The cookie went only in Cookie headers, never in a log line. */
	ck_assert_int_eq(harness_count_lines(&e.h, "_logbook-web_session="), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(server_errors_are_retried_and_nothing_is_lost)
{
	struct env e;
	struct tglk_config sc = { .history_start_ms = iso_ms("2025-06-02T06:00:00.000Z") };
	env_setup(&e, &sc, "2025-06-02T12:00:00.000Z");
	tglk_fail_next(e.sim, "/api/v2/cgm/readings", 500, 2);
	env_start(&e);
	harness_run_for(&e.h, 10 * MIN);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_ge(st(&e)->frames_ok, 2);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), synced_by(&e, "readings", st(&e)->last_success_ms, NULL));
	env_teardown(&e);
}
END_TEST

START_TEST(many_pages_lose_nothing)
{
	struct env e;
	/* Three days of readings: 864 records, two pages of 500 for the first poll. */
	struct tglk_config sc = { .history_start_ms = iso_ms("2025-05-30T12:00:00.000Z") };
	env_setup(&e, &sc, "2025-06-02T12:00:00.000Z");
	e.cfg.lookback_ms = 80 * HOUR;
	env_start(&e);
	harness_run_for(&e.h, MIN);
	size_t n = synced_by(&e, "readings", st(&e)->last_success_ms, NULL);
	ck_assert_uint_gt(n, 800);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), n);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v2/cgm/readings"), 2);
	env_teardown(&e);
}
END_TEST

static Suite *glooko_suite(void)
{
	Suite *s = suite_create("glooko");
	TCase *pure = tcase_create("pure");
	tcase_add_test(pure, hosts_for_every_env);
	tcase_add_test(pure, sign_in_answers_are_classified);
	tcase_add_test(pure, data_answers_are_classified);
	tcase_add_test(pure, pages_and_cursors);
	tcase_add_test(pure, berlin_times_across_both_changes);
	tcase_add_test(pure, new_york_times_across_both_changes);
	tcase_add_test(pure, fixture_becomes_the_expected_documents);
	tcase_add_test(pure, identifiers_survive_a_zone_fix);
	tcase_add_test(pure, unusable_payloads_are_dropped);
	suite_add_tcase(s, pure);
	TCase *simulator = tcase_create("simulator");
	tcase_set_timeout(simulator, 60);
	tcase_add_test(simulator, readings_at_their_true_instants_across_the_autumn_change);
	tcase_add_test(simulator, readings_at_their_true_instants_across_the_spring_change);
	tcase_add_test(simulator, new_york_readings_across_both_changes);
	tcase_add_test(simulator, treatments_with_their_event_types_and_no_duplicate);
	tcase_add_test(simulator, a_deleted_record_is_not_stored_and_an_edit_arrives);
	tcase_add_test(simulator, wrong_password_is_rejected_once);
	tcase_add_test(simulator, two_factor_account_is_told_what_to_do);
	tcase_add_test(simulator, v2_refused_as_unprocessable_signs_in_through_v3);
	tcase_add_test(simulator, expired_cookie_signs_in_once_and_goes_on);
	tcase_add_test(simulator, server_errors_are_retried_and_nothing_is_lost);
	tcase_add_test(simulator, many_pages_lose_nothing);
	suite_add_tcase(s, simulator);
	return s;
}

NSC_CHECK_MAIN(glooko_suite)
