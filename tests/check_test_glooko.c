/* SPDX-License-Identifier: MIT */
/*
 * The Glooko simulator (tests/server/glooko.h) over real HTTP with libcurl,
 * no driver code: sign-in variants, session and patient checks, the update
 * cursor, late sync, fake-UTC times across a DST change, scripting.
 * The simulator runs on a virtual clock the tests move.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "curl_reply.h"
#include "nsc_check.h"
#include "server/glooko.h"
#include "server/iso_time.h"
#include "server/server.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 1745064000000LL /* 2025-04-19T12:00:00.000Z */
#define ORIGIN "https://my.glooko.com"
#define SIGN_IN_V2 "/api/v2/users/sign_in"
#define SIGN_IN_V3 "/api/v3/users/sign_in"
#define CGM "/api/v2/cgm/readings"
#define BOLUSES "/api/v2/pumps/normal_boluses"
#define GOOD_BODY                                                                                       \
	"{\"userLogin\":{\"email\":\"alice@example.com\",\"password\":\"correct-pass\"},"                  \
	"\"deviceInformation\":{\"applicationType\":\"logbook\",\"os\":\"android\",\"osVersion\":\"33\"," \
	"\"deviceModel\":\"Pixel 8 Pro\",\"applicationVersion\":\"6.1.3\"}}"

/* ---- fixture: server, simulator, virtual clock ------------------------------ */

static _Atomic int64_t clock_ms;
static struct tsrv *srv;
static struct tglk *glk;

static int64_t virtual_now(void *ctx)
{
	(void)ctx;
	return atomic_load(&clock_ms);
}

static struct tglk_config base_config(void)
{
	struct tglk_config c = { .seed = 42, .cgm_sync_delay_ms = -1, .now_ms = virtual_now };
	return c;
}

static void start(const struct tglk_config *cfg, int64_t now)
{
	atomic_store(&clock_ms, now);
	srv = tsrv_start(0);
	ck_assert_ptr_nonnull(srv);
	glk = tglk_attach(srv, cfg);
	ck_assert_ptr_nonnull(glk);
}

static void stop(void)
{
	tsrv_stop(srv);
	tglk_free(glk);
	srv = NULL;
	glk = NULL;
}

/* The default account (seed 42, 14 days to T0, UTC, no delay). */
static void start_default(void)
{
	struct tglk_config cfg = base_config();
	start(&cfg, T0);
}

/* ---- HTTP ------------------------------------------------------------------- */

/* One request; body NULL means GET. The caller frees r->body. */
static void http(const char *path, const char *body, const char *cookie, struct curl_reply *r)
{
	char url[1024], cookie_header[256];
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	snprintf(url, sizeof(url), "%s%s", tsrv_url(srv), path);
	h = curl_slist_append(h, "Accept: application/json, text/plain, */*");
	h = curl_slist_append(h, "Origin: " ORIGIN);
	h = curl_slist_append(h, "Referer: " ORIGIN "/");
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (cookie) {
		snprintf(cookie_header, sizeof(cookie_header), "Cookie: %s", cookie);
		h = curl_slist_append(h, cookie_header);
	}
	ck_assert_ptr_nonnull(h);
	curl_reply_perform(c, h, url, body, r);
	curl_slist_free_all(h);
}

static struct json_object *parse(const struct curl_reply *r)
{
	struct json_object *o = json_tokener_parse(r->body);
	ck_assert_msg(o != NULL, "not JSON: %s", r->body);
	return o;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	return v;
}

static int64_t iso_ms(const char *s)
{
	long long ms = 0;
	ck_assert_msg(s && tsns_parse_iso(s, &ms, NULL), "not ISO: %s", s ? s : "(null)");
	return ms;
}

/*
 * One request that must answer `status` and no cookie; with key, the body's
 * string member key must be text; without, the whole body (text NULL: any).
 */
static void expect(const char *target, const char *body, const char *cookie, long status, const char *key,
		   const char *text)
{
	struct curl_reply r;
	http(target, body, cookie, &r);
	ck_assert_msg(r.status == status, "%s: %ld %s", target, r.status, r.body);
	ck_assert_str_eq(r.set_cookie, "");
	if (key) {
		struct json_object *o = parse(&r);
		ck_assert_str_eq(str(o, key), text);
		json_object_put(o);
	} else if (text) {
		ck_assert_str_eq(r.body, text);
	}
	free(r.body);
}

/* Signs in on `path` with GOOD_BODY; returns "name=value" of the cookie (static buffer). */
static const char *sign_in(const char *path)
{
	static char cookie[256];
	struct curl_reply r;
	http(path, GOOD_BODY, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	free(r.body);
	ck_assert_msg(r.set_cookie[0], "no Set-Cookie");
	snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(r.set_cookie, ";"), r.set_cookie);
	return cookie;
}

/* GET path?patient=<code>&<query>; returns the parsed body, asserting the status. */
static struct json_object *get(const char *path, const char *query, const char *cookie, long status)
{
	char target[1024];
	struct curl_reply r;
	snprintf(target, sizeof(target), "%s?patient=%s%s%s", path, TGLK_DEFAULT_CODE, query[0] ? "&" : "",
		 query);
	http(target, NULL, cookie, &r);
	ck_assert_msg(r.status == status, "%s: %ld %s", target, r.status, r.body);
	struct json_object *o = parse(&r);
	free(r.body);
	return o;
}

/* The expected records of a kind, guid -> trueUtcMs by lookup. */
static int64_t true_ms_of(struct json_object *expected, const char *guid)
{
	for (size_t i = 0; i < json_object_array_length(expected); i++) {
		struct json_object *e = json_object_array_get_idx(expected, i);
		if (strcmp(str(e, "guid"), guid) == 0)
			return json_object_get_int64(member(e, "trueUtcMs"));
	}
	ck_abort_msg("guid %s not expected", guid);
	return 0;
}

struct walk {
	struct json_object *records; /* all pages' records, in order */
	size_t pages;
	char cursor_at[64], cursor_guid[64];
};

/* Follows the cursor from (at, guid) until lastPage; each page no more than page_max. */
static void walk(const char *path, const char *property, const char *extra, const char *cookie,
		 const char *at, const char *guid, size_t page_max, struct walk *w)
{
	memset(w, 0, sizeof(*w));
	w->records = json_object_new_array();
	ck_assert_ptr_nonnull(w->records);
	snprintf(w->cursor_at, sizeof(w->cursor_at), "%s", at);
	snprintf(w->cursor_guid, sizeof(w->cursor_guid), "%s", guid);
	for (bool last = false; !last;) {
		char q[512];
		snprintf(q, sizeof(q), "lastUpdatedAt=%s&lastGuid=%s%s", w->cursor_at, w->cursor_guid, extra);
		struct json_object *page = get(path, q, cookie, 200);
		struct json_object *arr = member(page, property);
		size_t n = json_object_array_length(arr);
		ck_assert_uint_le(n, page_max);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(w->records, json_object_get(json_object_array_get_idx(arr, i)));
		last = json_object_get_boolean(member(page, "lastPage"));
		ck_assert_msg(last || n > 0, "an empty page that is not the last");
		if (n > 0) {
			struct json_object *tail = json_object_array_get_idx(arr, n - 1);
			ck_assert_str_eq(str(page, "lastUpdatedAt"), str(tail, "updatedAt"));
			ck_assert_str_eq(str(page, "lastGuid"), str(tail, "guid"));
		}
		snprintf(w->cursor_at, sizeof(w->cursor_at), "%s", str(page, "lastUpdatedAt"));
		snprintf(w->cursor_guid, sizeof(w->cursor_guid), "%s", str(page, "lastGuid"));
		json_object_put(page);
		w->pages++;
		ck_assert_uint_lt(w->pages, 10000);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every guid of the walk once, and the same set as the expected records. */
static void assert_each_once(struct json_object *got, struct json_object *expected)
{
	size_t n = json_object_array_length(got);
	ck_assert_uint_eq(n, json_object_array_length(expected));
	const char **guids = calloc(n ? n : 1, sizeof(*guids));
	ck_assert_ptr_nonnull(guids);
	for (size_t i = 0; i < n; i++)
		guids[i] = str(json_object_array_get_idx(got, i), "guid");
	qsort(guids, n, sizeof(*guids), cmp_str);
	for (size_t i = 1; i < n; i++)
		ck_assert_str_ne(guids[i - 1], guids[i]);
	for (size_t i = 0; i < n; i++)
		true_ms_of(expected, guids[i]);
	free(guids);
}

/* ---- sign-in ------------------------------------------------------------------ */

START_TEST(sign_in_v2_sets_the_session_cookie)
{
	start_default();
	struct curl_reply r;
	http(SIGN_IN_V2, GOOD_BODY, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strncmp(r.set_cookie, TGLK_COOKIE "=", strlen(TGLK_COOKIE) + 1) == 0, "%s",
		      r.set_cookie);
	ck_assert_ptr_nonnull(strstr(r.set_cookie, "; path=/"));
	ck_assert_ptr_nonnull(strstr(r.set_cookie, "; HttpOnly"));
	ck_assert_ptr_nonnull(strstr(r.set_cookie, "; SameSite=Lax"));
	size_t value_len = strcspn(r.set_cookie, ";") - strlen(TGLK_COOKIE) - 1;
	ck_assert_uint_ge(value_len, 16);
	struct json_object *o = parse(&r), *u = member(o, "userLogin");
	ck_assert_str_eq(str(u, "email"), TGLK_DEFAULT_USER);
	ck_assert_str_eq(str(u, "glookoCode"), TGLK_DEFAULT_CODE);
	json_object_put(o);
	free(r.body);
	ck_assert_uint_eq(tglk_sign_ins(glk), 1);
	/* The request log keeps the browser headers for driver tests. */
	const struct tsrv_request *req = tsrv_find(srv, "POST", SIGN_IN_V2, 0);
	ck_assert_ptr_nonnull(req);
	ck_assert_str_eq(tsrv_header(req, "Origin"), ORIGIN);
	ck_assert_str_eq(tsrv_header(req, "Referer"), ORIGIN "/");
	/* Two sign-ins, two different cookies. */
	char first[256];
	snprintf(first, sizeof(first), "%s", sign_in(SIGN_IN_V2));
	ck_assert_str_ne(first, sign_in(SIGN_IN_V2));
	stop();
}
END_TEST

START_TEST(sign_in_rejects_bad_credentials_and_bodies)
{
	start_default();
	static const char *const bad[] = {
		"{\"userLogin\":{\"email\":\"alice@example.com\",\"password\":\"wrong\"},"
		"\"deviceInformation\":{\"applicationType\":\"logbook\"}}",
		"{\"userLogin\":{\"email\":\"bob@example.com\",\"password\":\"correct-pass\"},"
		"\"deviceInformation\":{\"applicationType\":\"logbook\"}}",
	};
	for (size_t i = 0; i < 2; i++)
		expect(SIGN_IN_V2, bad[i], NULL, 401, NULL,
		       "{\"success\":false,\"message\":\"Invalid email or password.\"}");
	static const char *const unprocessable[] = {
		"{\"userLogin\":{\"email\":\"alice@example.com\",\"password\":\"correct-pass\"}}",
		"{\"userLogin\":{\"email\":\"alice@example.com\",\"password\":\"correct-pass\"},"
		"\"deviceInformation\":{\"deviceModel\":\"iPhone\"}}",
		"not json",
	};
	for (size_t i = 0; i < 3; i++)
		expect(SIGN_IN_V2, unprocessable[i], NULL, 422, NULL, NULL);
	/* The e-mail is case-insensitive. */
	struct curl_reply r;
	http(SIGN_IN_V3,
	     "{\"userLogin\":{\"email\":\"Alice@Example.com\",\"password\":\"correct-pass\"},"
	     "\"deviceInformation\":{\"applicationType\":\"logbook\"}}",
	     NULL, &r);
	ck_assert_int_eq(r.status, 200);
	free(r.body);
	ck_assert_uint_eq(tglk_sign_ins(glk), 1);
	stop();
}
END_TEST

START_TEST(v2_unprocessable_leaves_v3)
{
	struct tglk_config cfg = base_config();
	cfg.v2_unprocessable = true;
	start(&cfg, T0);
	expect(SIGN_IN_V2, GOOD_BODY, NULL, 422, NULL, "{}");
	const char *cookie = sign_in(SIGN_IN_V3);
	struct json_object *page = get(CGM, "limit=1", cookie, 200);
	json_object_put(page);
	ck_assert_uint_eq(tglk_sign_ins(glk), 1);
	stop();
}
END_TEST

START_TEST(two_factor_gives_no_cookie)
{
	struct tglk_config cfg = base_config();
	cfg.two_factor = true;
	start(&cfg, T0);
	const char *paths[] = { SIGN_IN_V2, SIGN_IN_V3 };
	for (size_t i = 0; i < 2; i++) {
		struct curl_reply r;
		http(paths[i], GOOD_BODY, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(r.set_cookie, "");
		struct json_object *o = parse(&r);
		ck_assert(json_object_get_boolean(member(o, "twoFactorRequired")));
		ck_assert_str_eq(str(member(o, "userLogin"), "email"), TGLK_DEFAULT_USER);
		ck_assert_ptr_null(str(member(o, "userLogin"), "glookoCode"));
		json_object_put(o);
		free(r.body);
	}
	ck_assert_uint_eq(tglk_sign_ins(glk), 0);
	stop();
}
END_TEST

/* ---- sessions and patient ----------------------------------------------------- */

static void assert_needs_sign_in(const char *cookie)
{
	expect(BOLUSES "?patient=" TGLK_DEFAULT_CODE, NULL, cookie, 401, "error",
	       "You need to sign in or sign up before continuing.");
}

START_TEST(data_needs_a_live_cookie)
{
	start_default();
	assert_needs_sign_in(NULL);
	assert_needs_sign_in(TGLK_COOKIE "=stale");
	char cookie[300];
	snprintf(cookie, sizeof(cookie), "other=1; %s; theme=dark", sign_in(SIGN_IN_V2));
	json_object_put(get(BOLUSES, "", cookie, 200));
	tglk_expire_sessions(glk);
	assert_needs_sign_in(cookie);
	/* A new sign-in works again. */
	json_object_put(get(BOLUSES, "", sign_in(SIGN_IN_V2), 200));
	stop();
}
END_TEST

START_TEST(another_patient_is_forbidden)
{
	start_default();
	const char *cookie = sign_in(SIGN_IN_V2);
	const char *targets[] = { BOLUSES "?patient=old-code-0000", BOLUSES, BOLUSES "?limit=5" };
	for (size_t i = 0; i < 3; i++)
		expect(targets[i], NULL, cookie, 403, "error", "data_cant_view");
	expect("/api/v3/graph/data?patient=" TGLK_DEFAULT_CODE, NULL, cookie, 404, NULL, "{}");
	expect(CGM "?patient=" TGLK_DEFAULT_CODE, "{}", cookie, 404, NULL, "{}"); /* POST */
	stop();
}
END_TEST

/* ---- paging ------------------------------------------------------------------------ */

START_TEST(paging_returns_every_record_once)
{
	start_default();
	const char *cookie = sign_in(SIGN_IN_V2);
	struct json_object *expected;
	size_t n = tglk_records(glk, "readings", &expected);
	ck_assert_uint_ge(n, 14 * 288 - 1);
	ck_assert_uint_le(n, 14 * 288 + 1);

	/* A limit above the maximum is clamped. */
	struct json_object *page = get(CGM, "limit=1000", cookie, 200);
	ck_assert_uint_eq(json_object_array_length(member(page, "readings")), TGLK_MAX_LIMIT);
	ck_assert(!json_object_get_boolean(member(page, "lastPage")));
	json_object_put(page);
	/* No limit: 100. */
	page = get(CGM, "", cookie, 200);
	ck_assert_uint_eq(json_object_array_length(member(page, "readings")), TGLK_DEFAULT_LIMIT);
	json_object_put(page);

	struct walk w;
	walk(CGM, "readings", "&limit=500", cookie, TGLK_EPOCH_ISO, TGLK_ZERO_GUID, TGLK_MAX_LIMIT, &w);
	ck_assert_uint_eq(w.pages, (n + TGLK_MAX_LIMIT - 1) / TGLK_MAX_LIMIT);
	assert_each_once(w.records, expected);
	/* Ordered by updatedAt. */
	for (size_t i = 1; i < n; i++)
		ck_assert_int_le(iso_ms(str(json_object_array_get_idx(w.records, i - 1), "updatedAt")),
				 iso_ms(str(json_object_array_get_idx(w.records, i), "updatedAt")));
	/* At the end the cursor stays put and the page is empty and last. */
	char q[256];
	snprintf(q, sizeof(q), "lastUpdatedAt=%s&lastGuid=%s", w.cursor_at, w.cursor_guid);
	page = get(CGM, q, cookie, 200);
	ck_assert_uint_eq(json_object_array_length(member(page, "readings")), 0);
	ck_assert(json_object_get_boolean(member(page, "lastPage")));
	ck_assert_str_eq(str(page, "lastUpdatedAt"), w.cursor_at);
	ck_assert_str_eq(str(page, "lastGuid"), w.cursor_guid);
	json_object_put(page);
	json_object_put(w.records);
	json_object_put(expected);

	/* Small pages of another kind. */
	n = tglk_records(glk, "normalBoluses", &expected);
	ck_assert_uint_ge(n, 14 * 5 - 1);
	walk(BOLUSES, "normalBoluses", "&limit=7", cookie, TGLK_EPOCH_ISO, TGLK_ZERO_GUID, 7, &w);
	assert_each_once(w.records, expected);
	json_object_put(w.records);
	json_object_put(expected);
	stop();
}
END_TEST

START_TEST(records_appear_once_they_have_synced)
{
	struct tglk_config cfg = base_config();
	cfg.sync_delay_ms = 3 * HOUR;
	cfg.history_start_ms = T0 - DAY;
	start(&cfg, T0);
	const char *cookie = sign_in(SIGN_IN_V2);
	struct json_object *expected;
	tglk_records(glk, "readings", &expected);
	struct walk w;
	walk(CGM, "readings", "&limit=500", cookie, TGLK_EPOCH_ISO, TGLK_ZERO_GUID, TGLK_MAX_LIMIT, &w);
	assert_each_once(w.records, expected);
	size_t n = json_object_array_length(w.records);
	ck_assert_uint_eq(n, 21 * 12 + 1); /* T0-24h .. T0-3h every 5 min */
	for (size_t i = 0; i < n; i++) {
		struct json_object *rec = json_object_array_get_idx(w.records, i);
		int64_t t = true_ms_of(expected, str(rec, "guid"));
		ck_assert_int_eq(iso_ms(str(rec, "updatedAt")), t + 3 * HOUR);
		ck_assert_int_le(t, T0 - 3 * HOUR);
	}
	json_object_put(w.records);
	json_object_put(expected);

	/* Three hours on, the cursor brings exactly the readings that synced meanwhile. */
	atomic_store(&clock_ms, T0 + 3 * HOUR);
	char at[64], guid[64];
	snprintf(at, sizeof(at), "%s", w.cursor_at);
	snprintf(guid, sizeof(guid), "%s", w.cursor_guid);
	tglk_records(glk, "readings", &expected);
	walk(CGM, "readings", "&limit=10", cookie, at, guid, 10, &w);
	ck_assert_uint_eq(json_object_array_length(w.records), 36);
	for (size_t i = 0; i < 36; i++) {
		int64_t t = true_ms_of(expected, str(json_object_array_get_idx(w.records, i), "guid"));
		ck_assert_int_gt(t, T0 - 3 * HOUR);
		ck_assert_int_le(t, T0);
	}
	json_object_put(w.records);
	json_object_put(expected);

	/* A separate CGM delay. */
	stop();
	cfg.cgm_sync_delay_ms = 10 * MIN;
	start(&cfg, T0);
	cookie = sign_in(SIGN_IN_V2);
	walk(CGM, "readings", "&limit=500", cookie, TGLK_EPOCH_ISO, TGLK_ZERO_GUID, TGLK_MAX_LIMIT, &w);
	ck_assert_uint_eq(json_object_array_length(w.records), 24 * 12 - 2 + 1);
	json_object_put(w.records);
	stop();
}
END_TEST

/* ---- clinical times ------------------------------------------------------------------ */

#define FALL_2025 1761440400000LL   /* 2025-10-26T01:00:00Z, CEST -> CET */
#define SPRING_2025 1743296400000LL /* 2025-03-30T01:00:00Z, CET -> CEST */

static struct tglk_config berlin(void)
{
	struct tglk_config cfg = base_config();
	cfg.zone[0] = (struct tglk_transition){ 1729990800000LL, 3600 }; /* 2024-10-27T01:00Z */
	cfg.zone[1] = (struct tglk_transition){ SPRING_2025, 7200 };
	cfg.zone[2] = (struct tglk_transition){ FALL_2025, 3600 };
	cfg.zone_count = 3;
	cfg.history_start_ms = FALL_2025 - 5 * HOUR;
	return cfg;
}

START_TEST(autumn_repeats_an_hour_of_timestamps)
{
	struct tglk_config cfg = berlin();
	start(&cfg, FALL_2025 + 5 * HOUR);
	const char *cookie = sign_in(SIGN_IN_V2);
	struct json_object *expected;
	tglk_records(glk, "readings", &expected);
	struct json_object *page =
		get(CGM, "startDate=2025-10-26T02:30:00.000Z&endDate=2025-10-26T02:30:00.000Z&limit=500", cookie,
		    200);
	struct json_object *arr = member(page, "readings");
	ck_assert_uint_eq(json_object_array_length(arr), 2);
	struct json_object *a = json_object_array_get_idx(arr, 0), *b = json_object_array_get_idx(arr, 1);
	ck_assert_str_eq(str(a, "timestamp"), "2025-10-26T02:30:00.000Z");
	ck_assert_str_eq(str(b, "timestamp"), "2025-10-26T02:30:00.000Z");
	int64_t ta = true_ms_of(expected, str(a, "guid")), tb = true_ms_of(expected, str(b, "guid"));
	ck_assert_int_eq(ta < tb ? tb - ta : ta - tb, HOUR);
	ck_assert_int_eq(ta < tb ? ta : tb, FALL_2025 - 30 * MIN);
	json_object_put(page);

	/* Every record's timestamp is its true instant plus the offset in force then. */
	for (size_t i = 0; i < json_object_array_length(expected); i++) {
		struct json_object *e = json_object_array_get_idx(expected, i);
		int64_t t = json_object_get_int64(member(e, "trueUtcMs"));
		ck_assert_int_eq(iso_ms(str(e, "timestamp")), t + (t < FALL_2025 ? 2 : 1) * HOUR);
	}
	json_object_put(expected);
	stop();
}
END_TEST

START_TEST(dates_filter_by_clinical_time)
{
	struct tglk_config cfg = berlin();
	start(&cfg, FALL_2025 + 5 * HOUR);
	const char *cookie = sign_in(SIGN_IN_V2);
	/* Local 04:00..05:00 is 03:00..04:00 UTC: 13 readings, both ends in. */
	struct json_object *page =
		get(CGM, "startDate=2025-10-26T04:00:00.000Z&endDate=2025-10-26T05:00:00.000Z&limit=500", cookie,
		    200);
	struct json_object *arr = member(page, "readings");
	ck_assert_uint_eq(json_object_array_length(arr), 13);
	for (size_t i = 0; i < 13; i++) {
		int64_t c = iso_ms(str(json_object_array_get_idx(arr, i), "timestamp"));
		ck_assert_int_ge(c, iso_ms("2025-10-26T04:00:00.000Z"));
		ck_assert_int_le(c, iso_ms("2025-10-26T05:00:00.000Z"));
	}
	json_object_put(page);
	/* startDate alone. */
	page = get(CGM, "startDate=2025-10-26T05:30:00.000Z&limit=500", cookie, 200);
	ck_assert_uint_eq(json_object_array_length(member(page, "readings")), 19); /* 04:30..06:00 UTC */
	json_object_put(page);
	/* Pump records filter on pumpTimestamp the same way. */
	page = get("/api/v2/pumps/scheduled_basals", "startDate=2025-10-26T00:00:00.000Z", cookie, 200);
	arr = member(page, "scheduledBasals");
	/* The segments at 00:00 UTC (02:00 CEST) and 04:00 UTC (05:00 CET). */
	ck_assert_uint_eq(json_object_array_length(arr), 2);
	struct json_object *seg = json_object_array_get_idx(arr, 0);
	ck_assert_str_eq(str(seg, "pumpTimestamp"), "2025-10-26T02:00:00.000Z");
	ck_assert_str_eq(str(seg, "pumpTimestampUtcOffset"), "+00:00");
	ck_assert_int_eq(json_object_get_int(member(seg, "startTime")), 7200);
	ck_assert_str_eq(str(json_object_array_get_idx(arr, 1), "pumpTimestamp"), "2025-10-26T05:00:00.000Z");
	ck_assert_int_eq(json_object_get_int(member(seg, "duration")), 4 * 3600);
	json_object_put(page);
	/* A date that does not parse. */
	json_object_put(get(CGM, "startDate=yesterday", cookie, 400));
	stop();
}
END_TEST

/* ---- values ---------------------------------------------------------------------------- */

static bool is_trend(struct json_object *v)
{
	static const char *const names[] = { "DOUBLE_UP", "SINGLE_UP", "FORTY_FIVE_UP", "FLAT",
					     "FORTY_FIVE_DOWN", "SINGLE_DOWN", "DOUBLE_DOWN" };
	if (v == NULL)
		return true;
	for (size_t i = 0; i < 7; i++)
		if (strcmp(json_object_get_string(v), names[i]) == 0)
			return true;
	return false;
}

static void assert_hundredfold(struct json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		ck_assert(json_object_is_type(member(r, "value"), json_type_int));
		int64_t v = json_object_get_int64(member(r, "value"));
		ck_assert_int_eq(v % 100, 0);
		ck_assert_int_ge(v, 4000);
		ck_assert_int_le(v, 40000);
		ck_assert(!json_object_get_boolean(member(r, "softDeleted")));
		ck_assert_ptr_nonnull(str(r, "pumpGuid"));
	}
}

START_TEST(values_are_mgdl_times_100)
{
	start_default();
	const char *cookie = sign_in(SIGN_IN_V2);
	struct json_object *page = get(CGM, "limit=500", cookie, 200);
	struct json_object *arr = member(page, "readings");
	assert_hundredfold(arr);
	int64_t lo = 40000, hi = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		int64_t v = json_object_get_int64(member(r, "value"));
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		ck_assert(is_trend(member(r, "trend")));
		ck_assert(!json_object_get_boolean(member(r, "calculated")));
	}
	ck_assert_int_gt(hi - lo, 5000); /* the curve moves */
	json_object_put(page);
	page = get("/api/v2/readings", "limit=500", cookie, 200);
	ck_assert_uint_ge(json_object_array_length(member(page, "readings")), 13);
	assert_hundredfold(member(page, "readings"));
	json_object_put(page);
	stop();
}
END_TEST

START_TEST(boluses_link_their_foods)
{
	start_default();
	struct json_object *boluses, *foods;
	size_t nb = tglk_records(glk, "normalBoluses", &boluses);
	size_t nf = tglk_records(glk, "foods", &foods);
	ck_assert_uint_ge(nf, 14 * 4 - 2);
	size_t linked = 0, corrections = 0;
	for (size_t i = 0; i < nb; i++) {
		struct json_object *b = json_object_array_get_idx(boluses, i), *link;
		if (json_object_get_double(member(b, "carbsInput")) == 0)
			corrections++;
		if (!json_object_object_get_ex(b, "foodGuid", &link))
			continue;
		linked++;
		int64_t t = true_ms_of(foods, json_object_get_string(link));
		ck_assert_int_eq(t, json_object_get_int64(member(b, "trueUtcMs")));
	}
	ck_assert_uint_ge(linked, 27);
	ck_assert_uint_ge(corrections, 27);
	json_object_put(boluses);
	json_object_put(foods);
	/* The other kinds exist at their rates. */
	static const struct {
		const char *kind;
		size_t min, max;
	} rates[] = {
		{ "extendedBoluses", 6, 8 }, { "scheduledBasals", 69, 71 }, { "temporaryBasals", 13, 15 },
		{ "suspendBasals", 4, 5 },   { "meterReadings", 13, 15 },   { "events", 9, 12 },
		{ "alarms", 6, 8 },
	};
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct json_object *all;
		size_t n = tglk_records(glk, rates[i].kind, &all);
		ck_assert_msg(n >= rates[i].min && n <= rates[i].max, "%s: %zu", rates[i].kind, n);
		json_object_put(all);
	}
	struct json_object *none;
	ck_assert_uint_eq(tglk_records(glk, "egvs", &none), 0);
	json_object_put(none);
	stop();
}
END_TEST

START_TEST(same_seed_same_records)
{
	struct tglk_config cfg = base_config();
	start(&cfg, T0);
	struct json_object *first, *second;
	tglk_records(glk, "alarms", &first);
	stop();
	cfg.history_start_ms = T0 - 20 * DAY;
	start(&cfg, T0 + HOUR);
	tglk_records(glk, "alarms", &second);
	ck_assert_uint_gt(json_object_array_length(second), json_object_array_length(first));
	for (size_t i = 0; i < json_object_array_length(first); i++) {
		const char *g = str(json_object_array_get_idx(first, i), "guid");
		ck_assert_int_eq(true_ms_of(second, g), true_ms_of(first, g));
	}
	json_object_put(first);
	json_object_put(second);
	stop();
}
END_TEST

/* ---- scripting ------------------------------------------------------------------------ */

START_TEST(fail_next_answers_the_status)
{
	start_default();
	const char *cookie = sign_in(SIGN_IN_V2);
	tglk_fail_next(glk, "/api/v2/pumps/", 429, 2);
	for (int i = 0; i < 2; i++) {
		struct curl_reply r;
		http(BOLUSES "?patient=" TGLK_DEFAULT_CODE, NULL, cookie, &r);
		ck_assert_int_eq(r.status, 429);
		ck_assert_str_eq(r.retry_after, "60");
		free(r.body);
	}
	json_object_put(get(CGM, "", cookie, 200)); /* another prefix is untouched */
	json_object_put(get(BOLUSES, "", cookie, 200));

	tglk_fail_next(glk, CGM, 403, 1);
	struct json_object *o = get(CGM, "", cookie, 403);
	ck_assert_str_eq(str(o, "error"), "data_cant_view");
	json_object_put(o);

	tglk_fail_next(glk, SIGN_IN_V2, 500, 1);
	expect(SIGN_IN_V2, GOOD_BODY, NULL, 500, "error", "Internal Server Error");
	sign_in(SIGN_IN_V2);

	tglk_fail_next(glk, CGM, 503, 5);
	tglk_fail_next(glk, CGM, 0, 0); /* cancelled */
	json_object_put(get(CGM, "", cookie, 200));
	stop();
}
END_TEST

START_TEST(edits_and_soft_deletes_come_after_the_cursor)
{
	struct tglk_config cfg = base_config();
	cfg.history_start_ms = T0 - 3 * DAY;
	start(&cfg, T0);
	const char *cookie = sign_in(SIGN_IN_V2);
	struct walk w;
	walk(BOLUSES, "normalBoluses", "&limit=500", cookie, TGLK_EPOCH_ISO, TGLK_ZERO_GUID, 500, &w);
	size_t n = json_object_array_length(w.records);
	ck_assert_uint_ge(n, 10);
	char edited[64], deleted[64], at[64], guid[64];
	snprintf(edited, sizeof(edited), "%s", str(json_object_array_get_idx(w.records, 2), "guid"));
	snprintf(deleted, sizeof(deleted), "%s", str(json_object_array_get_idx(w.records, 5), "guid"));
	snprintf(at, sizeof(at), "%s", w.cursor_at);
	snprintf(guid, sizeof(guid), "%s", w.cursor_guid);
	json_object_put(w.records);

	atomic_store(&clock_ms, T0 + SEC);
	tglk_edit_bolus(glk, edited, 9.5);
	tglk_soft_delete(glk, deleted);
	tglk_edit_bolus(glk, "no-such-guid", 1.0);

	/* Both reappear after the cursor, with updatedAt now; one a page (equal updatedAt, by guid). */
	walk(BOLUSES, "normalBoluses", "&limit=1", cookie, at, guid, 1, &w);
	ck_assert_uint_eq(json_object_array_length(w.records), 2);
	bool saw_edit = false, saw_delete = false;
	for (size_t i = 0; i < 2; i++) {
		struct json_object *r = json_object_array_get_idx(w.records, i);
		ck_assert_int_eq(iso_ms(str(r, "updatedAt")), T0 + SEC);
		if (strcmp(str(r, "guid"), edited) == 0) {
			saw_edit = true;
			ck_assert(json_object_get_double(member(r, "insulinDelivered")) == 9.5);
			ck_assert(!json_object_get_boolean(member(r, "softDeleted")));
		} else {
			saw_delete = strcmp(str(r, "guid"), deleted) == 0;
			ck_assert(json_object_get_boolean(member(r, "softDeleted")));
		}
	}
	ck_assert(saw_edit && saw_delete);
	json_object_put(w.records);

	/* sendSoftDeleted=false leaves the deleted one out, from the start too. */
	walk(BOLUSES, "normalBoluses", "&limit=500&sendSoftDeleted=false", cookie, at, guid, 500, &w);
	ck_assert_uint_eq(json_object_array_length(w.records), 1);
	ck_assert_str_eq(str(json_object_array_get_idx(w.records, 0), "guid"), edited);
	json_object_put(w.records);
	walk(BOLUSES, "normalBoluses", "&limit=500&sendSoftDeleted=false", cookie, TGLK_EPOCH_ISO,
	     TGLK_ZERO_GUID, 500, &w);
	ck_assert_uint_eq(json_object_array_length(w.records), n - 1);
	json_object_put(w.records);

	/* The expected values show the change too. */
	struct json_object *expected;
	tglk_records(glk, "normalBoluses", &expected);
	ck_assert_uint_eq(json_object_array_length(expected), n);
	json_object_put(expected);
	stop();
}
END_TEST

static Suite *glooko_suite(void)
{
	Suite *s = suite_create("test_glooko");
	TCase *t = tcase_create("simulator");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, sign_in_v2_sets_the_session_cookie);
	tcase_add_test(t, sign_in_rejects_bad_credentials_and_bodies);
	tcase_add_test(t, v2_unprocessable_leaves_v3);
	tcase_add_test(t, two_factor_gives_no_cookie);
	tcase_add_test(t, data_needs_a_live_cookie);
	tcase_add_test(t, another_patient_is_forbidden);
	tcase_add_test(t, paging_returns_every_record_once);
	tcase_add_test(t, records_appear_once_they_have_synced);
	tcase_add_test(t, autumn_repeats_an_hour_of_timestamps);
	tcase_add_test(t, dates_filter_by_clinical_time);
	tcase_add_test(t, values_are_mgdl_times_100);
	tcase_add_test(t, boluses_link_their_foods);
	tcase_add_test(t, same_seed_same_records);
	tcase_add_test(t, fail_next_answers_the_status);
	tcase_add_test(t, edits_and_soft_deletes_come_after_the_cursor);
	suite_add_tcase(s, t);
	return s;
}

NSC_CHECK_MAIN(glooko_suite)
