/* SPDX-License-Identifier: MIT */
/*
 * Nightscout as a source: the pure protocol (endpoint, collections,
 * requests, answers, transform), then the driver through the engine
 * against the test Nightscout (tests/server/nightscout.h) on the virtual
 * clock: a mirror of all four collections with every field equal, a
 * second run that stores nothing, page edges that lose nothing, the API
 * secret's hash on the wire, a token without read permission.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bridge.h"
#include "harness.h"
#include "keep_output.h"
#include "http/auth.h"
#include "jsonutil.h"
#include "nsc_check.h"
#include "server/nightscout.h"
#include "server/server.h"
#include "sources/nightscout/nightscout.h"
#include "sources/registry.h"
#include "timeutil.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define TOKEN "mirror-0123456789abcdef"
#define SECRET "source-site-api-secret"

/* ---- pure ------------------------------------------------------------------ */

START_TEST(endpoint_split)
{
	char *base, *token;
	struct nsc_error err;
	ck_assert_int_eq(nsc_ns_split_endpoint("https://Old.example/ns/?x=1&token=abc-123&y", &base, &token, &err),
			 NSC_OK);
	ck_assert_str_eq(base, "https://Old.example/ns");
	ck_assert_str_eq(token, "abc-123");
	free(base);
	free(token);
	ck_assert_int_eq(nsc_ns_split_endpoint("http://127.0.0.1:1337", &base, &token, &err), NSC_OK);
	ck_assert_str_eq(base, "http://127.0.0.1:1337");
	ck_assert_ptr_null(token);
	free(base);
	ck_assert_int_eq(nsc_ns_split_endpoint("", &base, &token, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_SOURCE_ENDPOINT"));
}
END_TEST

START_TEST(same_site)
{
	ck_assert(nsc_ns_same_site("https://A.example/ns", "https://a.example/ns/"));
	ck_assert(nsc_ns_same_site("https://a.example", "HTTPS://a.example/?token=x"));
	ck_assert(!nsc_ns_same_site("https://a.example/ns", "https://a.example/other"));
	ck_assert(!nsc_ns_same_site("https://a.example", "https://b.example"));
	ck_assert(!nsc_ns_same_site("https://a.example", "https://a.example:8443"));
	ck_assert(!nsc_ns_same_site("https://a.example", NULL));
}
END_TEST

START_TEST(collections_setting)
{
	unsigned m;
	struct nsc_error err;
	ck_assert_int_eq(nsc_ns_parse_collections(NULL, &m, &err), NSC_OK);
	ck_assert_uint_eq(m, 0xfu);
	ck_assert_int_eq(nsc_ns_parse_collections("entries, profiles", &m, &err), NSC_OK);
	ck_assert_uint_eq(m, (1u << NSC_COLL_ENTRIES) | (1u << NSC_COLL_PROFILE));
	ck_assert_int_eq(nsc_ns_parse_collections("Treatments", &m, &err), NSC_OK);
	ck_assert_uint_eq(m, 1u << NSC_COLL_TREATMENTS);
	ck_assert_int_eq(nsc_ns_parse_collections("entries,food", &m, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_SOURCE_COLLECTIONS"));
	ck_assert_ptr_nonnull(strstr(err.msg, "\"food\""));
	ck_assert_int_eq(nsc_ns_parse_collections(" , ", &m, &err), NSC_ERR_CONFIG);
}
END_TEST

START_TEST(page_urls)
{
	char *u = nsc_ns_v1_url("https://s.example", NSC_COLL_ENTRIES, 1000, 2000, 500);
	ck_assert_str_eq(u, "https://s.example/api/v1/entries.json?count=500&find%5Bdate%5D%5B%24gt%5D=1000"
			    "&find%5Bdate%5D%5B%24lte%5D=2000");
	free(u);
	u = nsc_ns_v1_url("https://s.example", NSC_COLL_TREATMENTS, 1704103200000LL, 0, 10);
	ck_assert_str_eq(u, "https://s.example/api/v1/treatments.json?count=10"
			    "&find%5Bcreated_at%5D%5B%24gt%5D=2024-01-01T10:00:00.000Z");
	free(u);
	u = nsc_ns_v1_url("https://s.example", NSC_COLL_PROFILE, 1000, 2000, 10);
	ck_assert_str_eq(u, "https://s.example/api/v1/profile.json?count=10");
	free(u);
	u = nsc_ns_jwt_url("https://s.example", "tok en");
	ck_assert_str_eq(u, "https://s.example/api/v2/authorization/request/tok%20en");
	free(u);
}
END_TEST

START_TEST(jwt_answers)
{
	const char *ok = "{\"token\":\"eyJ.x.y\",\"sub\":\"r\",\"iat\":1745000000,\"exp\":1745028800}";
	char *jwt;
	int64_t life;
	ck_assert_int_eq(nsc_ns_jwt_answer(ok, strlen(ok), &jwt, &life), NSC_OK);
	ck_assert_str_eq(jwt, "eyJ.x.y");
	ck_assert_int_eq(life, 8 * 3600);
	free(jwt);
	ck_assert_int_eq(nsc_ns_jwt_answer("{\"sub\":\"r\"}", 11, &jwt, &life), NSC_ERR_PARSE);
	ck_assert_ptr_null(jwt);
	ck_assert_int_eq(nsc_ns_jwt_answer("<html>", 6, &jwt, &life), NSC_ERR_PARSE);
}
END_TEST

static nsc_rc verdict_of(enum nsc_ns_call call, long status, enum nsc_ns_credential cred, char *msg)
{
	struct nsc_http_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.retry_after_ms = -1;
	struct nsc_vendor_verdict v;
	nsc_ns_answer_verdict(call, &r, NSC_COLL_ENTRIES, cred, &v);
	strcpy(msg, v.msg);
	return v.rc;
}

START_TEST(answers_classified)
{
	char m[NSC_ERROR_MSG_MAX];
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_EXCHANGE, 200, NSC_NS_CRED_TOKEN, m), NSC_OK);
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_EXCHANGE, 401, NSC_NS_CRED_TOKEN, m), NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(m, "CONNECT_SOURCE_ENDPOINT"));
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_READ, 403, NSC_NS_CRED_TOKEN, m), NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(m, "\"readable\" role"));
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_READ, 401, NSC_NS_CRED_TOKEN, m), NSC_ERR_AUTH);
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_READ, 401, NSC_NS_CRED_NEW_TOKEN, m), NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(m, "\"readable\" role"));
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_READ, 401, NSC_NS_CRED_SECRET, m), NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(m, "CONNECT_SOURCE_API_SECRET"));
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_READ, 401, NSC_NS_CRED_NONE, m), NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(m, "?token="));
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_READ, 503, NSC_NS_CRED_TOKEN, m), NSC_ERR_RETRY);
	ck_assert_int_eq(verdict_of(NSC_NS_CALL_READ, 404, NSC_NS_CRED_TOKEN, m), NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(m, "CONNECT_SOURCE_ENDPOINT"));
}
END_TEST

START_TEST(transform_copies_once)
{
	/* Two pages overlapping at their edge, a deleted document, one the batch refuses. */
	const char *payload =
		"{\"entries\":[[{\"_id\":\"a1\",\"type\":\"sgv\",\"sgv\":120,\"date\":1704103500000,"
		"\"dateString\":\"2024-01-01T10:05:00.000Z\",\"device\":\"xDrip\",\"srvModified\":5},"
		"{\"_id\":\"a2\",\"type\":\"sgv\",\"sgv\":118,\"date\":1704103200000,"
		"\"dateString\":\"2024-01-01T10:00:00.000Z\",\"device\":\"xDrip\"}],"
		"[{\"_id\":\"a2\",\"type\":\"sgv\",\"sgv\":118,\"date\":1704103200000,"
		"\"dateString\":\"2024-01-01T10:00:00.000Z\",\"device\":\"xDrip\"},"
		"{\"_id\":\"a3\",\"type\":\"sgv\",\"sgv\":99,\"date\":1704102900000,\"isValid\":false},"
		"{\"_id\":\"a4\",\"type\":\"sgv\",\"sgv\":101}]],"
		"\"treatments\":[[{\"_id\":\"t1\",\"identifier\":\"keep-me\",\"eventType\":\"Note\","
		"\"created_at\":\"2024-01-01T09:00:00.000Z\",\"enteredBy\":\"mum\",\"app\":\"AAPS\","
		"\"srvCreated\":1}]]}";
	struct nsc_batch b;
	struct nsc_error err;
	size_t skipped = 9;
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_ns_transform(payload, strlen(payload), &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 1); /* a4 has no date */
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 2);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_TREATMENTS), 1);
	struct json_object *e = nsc_batch_get(&b, NSC_COLL_ENTRIES, 0), *v;
	ck_assert(!json_object_object_get_ex(e, "_id", NULL));
	ck_assert(!json_object_object_get_ex(e, "srvModified", NULL));
	ck_assert(json_object_object_get_ex(e, "identifier", NULL));
	ck_assert(json_object_object_get_ex(e, "device", &v));
	ck_assert_str_eq(json_object_get_string(v), "xDrip");
	struct json_object *t = nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0);
	ck_assert(json_object_object_get_ex(t, "identifier", &v));
	ck_assert_str_eq(json_object_get_string(v), "keep-me");
	ck_assert(json_object_object_get_ex(t, "app", &v));
	ck_assert_str_eq(json_object_get_string(v), "AAPS");
	ck_assert(json_object_object_get_ex(t, "enteredBy", &v));
	ck_assert(!json_object_object_get_ex(t, "srvCreated", NULL));
	nsc_batch_clear(&b);

	static const char *const bad[] = { "", "[]", "{\"entries\":{}}", "{\"entries\":[{}]}", "nope" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nsc_batch_init(&b);
		ck_assert_int_eq(nsc_ns_transform(bad[i], strlen(bad[i]), &b, &skipped, &err), NSC_ERR_DROP);
		nsc_batch_clear(&b);
	}
}
END_TEST

START_TEST(v3_urls)
{
	char *u = nsc_ns_version_url("https://s.example/ns");
	ck_assert_str_eq(u, "https://s.example/ns/api/v3/version");
	free(u);
	u = nsc_ns_history_url("https://s.example", NSC_COLL_TREATMENTS, 1704103200000LL, 500);
	ck_assert_str_eq(u, "https://s.example/api/v3/treatments/history/1704103200000?limit=500");
	free(u);
	/* More than API3_MAX_LIMIT is a 400 at the source: capped. */
	u = nsc_ns_history_url("https://s.example", NSC_COLL_ENTRIES, 5, 5000);
	ck_assert_str_eq(u, "https://s.example/api/v3/entries/history/5?limit=1000");
	free(u);
	ck_assert_str_eq(nsc_ns_history_part(NSC_COLL_DEVICESTATUS), "devicestatus.history");
	ck_assert_str_ne(nsc_ns_history_part(NSC_COLL_ENTRIES), nsc_collection_name(NSC_COLL_ENTRIES));
}
END_TEST

static bool version_says(long status, const char *body)
{
	struct nsc_http_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.body = (char *)body;
	r.body_len = strlen(body);
	return nsc_ns_version_answer(&r);
}

START_TEST(version_answers)
{
	ck_assert(version_says(200, "{\"status\":200,\"result\":{\"version\":\"15.0.7\",\"apiVersion\":\"3.0.3-alpha\"}}"));
	ck_assert(!version_says(404, "{\"status\":404,\"result\":{}}"));
	ck_assert(!version_says(200, "<html>Cannot GET /api/v3/version</html>"));
	ck_assert(!version_says(200, "{\"status\":200}"));
	ck_assert(!version_says(200, "{\"status\":200,\"result\":[]}"));
	ck_assert(!version_says(401, "{\"status\":401,\"message\":\"Unauthorized\"}"));
}
END_TEST

START_TEST(history_pages)
{
	const char *body = "{\"status\":200,\"result\":[{\"identifier\":\"a\",\"srvModified\":7},"
			   "{\"identifier\":\"b\",\"srvModified\":9,\"isValid\":false},{\"identifier\":\"c\"}]}";
	struct json_object *page;
	size_t n;
	int64_t newest, next;
	struct nsc_error err;
	bool stuck;
	ck_assert_int_eq(nsc_ns_history_read(body, strlen(body), NSC_COLL_ENTRIES, &page, &n, &newest, &err), NSC_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(newest, 9);
	ck_assert(json_object_is_type(page, json_type_array));
	json_object_put(page);
	static const char *const bad[] = { "[]", "{\"status\":200}", "{\"status\":200,\"result\":{}}", "x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(nsc_ns_history_read(bad[i], strlen(bad[i]), NSC_COLL_ENTRIES, &page, &n, &newest, &err),
				 NSC_ERR_DROP);
		ck_assert_ptr_null(page);
	}
	/* A short page is the last. */
	ck_assert(!nsc_ns_history_next(100, 2, 3, 105, &next, &stuck));
	ck_assert(!stuck);
	/* A full one goes on just below its newest change: those sharing it are read again. */
	ck_assert(nsc_ns_history_next(100, 3, 3, 105, &next, &stuck));
	ck_assert_int_eq(next, 104);
	ck_assert(!stuck);
	/* A full page all at after + 1 cannot move on: said, not looped. */
	ck_assert(!nsc_ns_history_next(100, 3, 3, 101, &next, &stuck));
	ck_assert(stuck);
}
END_TEST

/* The treatment of the batch with this identifier (by source key), NULL when none. */
static struct json_object *batch_treatment(struct nsc_batch *b, const char *field, const char *value)
{
	for (size_t i = 0; i < nsc_batch_count(b, NSC_COLL_TREATMENTS); i++) {
		struct json_object *d = nsc_batch_get(b, NSC_COLL_TREATMENTS, i);
		const char *v = nsc_json_get_string(d, field);
		if (v != NULL && strcmp(v, value) == 0)
			return d;
	}
	return NULL;
}

START_TEST(history_merges_into_result)
{
	/*
	 * v1 read: a, b valid, c written through v1 (no identifier), d deleted.
	 * History: a edited, b deleted after the v1 read, c patched through v3
	 * (reported with its _id as identifier), e edited twice (the newer
	 * wins), f deleted.
	 */
	const char *payload =
		"{\"treatments\":[[{\"_id\":\"x1\",\"identifier\":\"a\",\"eventType\":\"Note\",\"notes\":\"old\","
		"\"created_at\":\"2024-01-01T09:00:00.000Z\"},"
		"{\"_id\":\"x2\",\"identifier\":\"b\",\"eventType\":\"Note\",\"notes\":\"b\","
		"\"created_at\":\"2024-01-01T09:01:00.000Z\"},"
		"{\"_id\":\"65a1b2c3d4e5f60718293a4b\",\"eventType\":\"Note\",\"notes\":\"c-old\","
		"\"created_at\":\"2024-01-01T09:02:00.000Z\"},"
		"{\"_id\":\"x4\",\"identifier\":\"d\",\"eventType\":\"Note\",\"isValid\":false,"
		"\"created_at\":\"2024-01-01T09:03:00.000Z\"}]],"
		"\"treatments.history\":[[{\"identifier\":\"a\",\"eventType\":\"Note\",\"notes\":\"new\","
		"\"created_at\":\"2024-01-01T09:00:00.000Z\",\"srvModified\":10},"
		"{\"identifier\":\"b\",\"eventType\":\"Note\",\"isValid\":false,"
		"\"created_at\":\"2024-01-01T09:01:00.000Z\",\"srvModified\":11},"
		"{\"identifier\":\"e\",\"eventType\":\"Note\",\"notes\":\"e1\","
		"\"created_at\":\"2023-12-01T09:00:00.000Z\",\"srvModified\":12}],"
		"[{\"identifier\":\"65a1b2c3d4e5f60718293a4b\",\"eventType\":\"Note\",\"notes\":\"c-new\","
		"\"created_at\":\"2024-01-01T09:02:00.000Z\",\"srvModified\":13},"
		"{\"identifier\":\"e\",\"eventType\":\"Note\",\"notes\":\"e2\","
		"\"created_at\":\"2023-12-01T09:00:00.000Z\",\"srvModified\":14},"
		"{\"identifier\":\"f\",\"eventType\":\"Note\",\"isValid\":false,"
		"\"created_at\":\"2023-12-02T09:00:00.000Z\",\"srvModified\":15}]]}";
	struct nsc_batch b;
	struct nsc_error err;
	size_t skipped = 9;
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_ns_transform(payload, strlen(payload), &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_TREATMENTS), 3); /* a, c, e */
	struct json_object *a = batch_treatment(&b, "identifier", "a");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(nsc_json_get_string(a, "notes"), "new");
	ck_assert_ptr_null(batch_treatment(&b, "identifier", "b"));
	ck_assert_ptr_null(batch_treatment(&b, "identifier", "d"));
	ck_assert_ptr_null(batch_treatment(&b, "identifier", "f"));
	struct json_object *e = batch_treatment(&b, "identifier", "e");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(nsc_json_get_string(e, "notes"), "e2");
	ck_assert(!json_object_object_get_ex(e, "srvModified", NULL));
	struct json_object *c = batch_treatment(&b, "notes", "c-new");
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(batch_treatment(&b, "notes", "c-old"));
	/* The v1 document patched through v3 keeps the identity its v1 copy gets. */
	const char *c_id = nsc_json_get_string(c, "identifier");
	ck_assert_ptr_nonnull(c_id);
	ck_assert_str_ne(c_id, "65a1b2c3d4e5f60718293a4b");
	char c_identity[64];
	snprintf(c_identity, sizeof(c_identity), "%s", c_id);
	nsc_batch_clear(&b);
	const char *v1_only = "{\"treatments\":[[{\"_id\":\"65a1b2c3d4e5f60718293a4b\",\"eventType\":\"Note\","
			      "\"notes\":\"c-old\",\"created_at\":\"2024-01-01T09:02:00.000Z\"}]]}";
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_ns_transform(v1_only, strlen(v1_only), &b, &skipped, &err), NSC_OK);
	ck_assert_str_eq(nsc_json_get_string(nsc_batch_get(&b, NSC_COLL_TREATMENTS, 0), "identifier"), c_identity);
	nsc_batch_clear(&b);

	/* History alone (nothing in the v1 window), and a history part of the wrong shape. */
	const char *only = "{\"entries.history\":[[{\"identifier\":\"z\",\"type\":\"sgv\",\"sgv\":99,"
			   "\"date\":1704103200000,\"dateString\":\"2024-01-01T10:00:00.000Z\",\"srvModified\":3}]]}";
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_ns_transform(only, strlen(only), &b, &skipped, &err), NSC_OK);
	ck_assert_uint_eq(nsc_batch_count(&b, NSC_COLL_ENTRIES), 1);
	nsc_batch_clear(&b);
	const char *bad = "{\"entries.history\":{}}";
	nsc_batch_init(&b);
	ck_assert_int_eq(nsc_ns_transform(bad, strlen(bad), &b, &skipped, &err), NSC_ERR_DROP);
	nsc_batch_clear(&b);
}
END_TEST

/* ---- the driver against the test Nightscout ------------------------------------ */

struct env {
	struct harness h;
	struct tsrv *srv;
	struct tsns *ns;
	struct nsc_config cfg;
	struct nsc_bridge *b;
	struct nsc_backfill *backfill; /* set before env_start for a backfill run */
	int finished;
};

static void env_finished(void *arg, struct nsc_bridge *b)
{
	(void)b;
	((struct env *)arg)->finished++;
}

static void seed_entry(struct env *e, int64_t t, int sgv)
{
	char iso[NSC_ISO_BUF];
	ck_assert_int_eq(nsc_time_format_iso(t, iso, sizeof(iso)), NSC_OK);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "type", json_object_new_string("sgv"));
	json_object_object_add(d, "sgv", json_object_new_int(sgv));
	json_object_object_add(d, "date", json_object_new_int64(t));
	json_object_object_add(d, "dateString", json_object_new_string(iso));
	json_object_object_add(d, "direction", json_object_new_string("FortyFiveUp"));
	json_object_object_add(d, "trend", json_object_new_int(3));
	json_object_object_add(d, "device", json_object_new_string("xDrip-DexcomG7"));
	json_object_object_add(d, "noise", json_object_new_int(1));
	tsns_insert(e->ns, "entries", d);
}

static void seed_treatment(struct env *e, int64_t t, const char *type, double insulin)
{
	char iso[NSC_ISO_BUF];
	ck_assert_int_eq(nsc_time_format_iso(t, iso, sizeof(iso)), NSC_OK);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "eventType", json_object_new_string(type));
	json_object_object_add(d, "created_at", json_object_new_string(iso));
	json_object_object_add(d, "insulin", json_object_new_double(insulin));
	json_object_object_add(d, "enteredBy", json_object_new_string("loop://iPhone"));
	tsns_insert(e->ns, "treatments", d);
}

static void env_setup(struct env *e, const struct tsns_config *nc)
{
	memset(e, 0, sizeof(*e));
	harness_setup(&e->h, NSC_LOG_INFO);
	e->srv = tsrv_start(0);
	ck_assert_ptr_nonnull(e->srv);
	e->ns = tsns_attach(e->srv, nc);
	ck_assert_ptr_nonnull(e->ns);
}

/* vars: NULL-terminated name, value pairs over CONNECT_SOURCE=nightscout. */
static nsc_rc env_start(struct env *e, const char *const *vars, struct nsc_error *err)
{
	struct nsc_config_kv kv;
	nsc_config_kv_init(&kv, NULL, NULL);
	ck_assert_int_eq(nsc_config_kv_set(&kv, "CONNECT_SOURCE", "nightscout"), NSC_OK);
	ck_assert_int_eq(nsc_config_kv_set(&kv, "CONNECT_HTTP_TIMEOUT", "5"), NSC_OK);
	for (size_t i = 0; vars[i] != NULL; i += 2)
		ck_assert_int_eq(nsc_config_kv_set(&kv, vars[i], vars[i + 1]), NSC_OK);
	nsc_config_init(&e->cfg);
	nsc_rc rc = nsc_config_load(&e->cfg, nsc_config_kv_lookup, &kv, err);
	nsc_config_kv_free(&kv);
	ck_assert_msg(rc == NSC_OK, "config: %s", err->msg);
	ck_assert_int_eq(nsc_config_register_secrets(&e->cfg, e->h.log), NSC_OK);
	struct nsc_bridge_options bo = {
		.once = false, .rng_seed = 3, .backfill = e->backfill, .finished = env_finished, .finished_arg = e,
	};
	rc = nsc_bridge_new_with(e->h.loop, &e->cfg, e->h.log, &bo, &nsc_source_nightscout, &keep_output_driver,
				 &e->b, err);
	if (rc == NSC_OK)
		ck_assert_int_eq(nsc_bridge_start(e->b), NSC_OK);
	return rc;
}

static void env_teardown(struct env *e)
{
	nsc_bridge_free(e->b);
	tsrv_stop(e->srv);
	tsns_free(e->ns);
	nsc_config_free(&e->cfg);
	harness_teardown(&e->h);
}

static const struct nsc_bridge_stats *st(struct env *e)
{
	return nsc_bridge_stats(e->b);
}

static char *endpoint_with_token(struct env *e, const char *token)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s/?token=%s", tsrv_url(e->srv), token);
	return buf;
}

/* Every field the source holds, but its own server fields, arrived unchanged. */
static void assert_same_fields(struct json_object *src, struct json_object *got)
{
	json_object_object_foreach(src, key, val)
	{
		struct json_object *g;
		if (strcmp(key, "_id") == 0 || strcmp(key, "srvModified") == 0 || strcmp(key, "srvCreated") == 0) {
			ck_assert_msg(!json_object_object_get_ex(got, key, NULL), "%s copied", key);
			continue;
		}
		ck_assert_msg(json_object_object_get_ex(got, key, &g), "%s missing", key);
		ck_assert_msg(json_object_equal(val, g), "%s: %s != %s", key, json_object_to_json_string(val),
			      json_object_to_json_string(g));
	}
}

/* The stored copy of the source document with this time, by collection. */
static struct json_object *kept_at(enum nsc_collection c, int64_t t)
{
	for (size_t i = 0; i < kept_count(c); i++) {
		struct json_object *d = json_object_array_get_idx(kept->docs[c], i);
		int64_t dt;
		if (nsc_ns_doc_time(d, c, &dt) && dt == t)
			return d;
	}
	return NULL;
}

START_TEST(mirror_of_all_four_collections)
{
	struct env e;
	struct tsns_config nc = { .access_token = TOKEN, .subject = "mirror-reader" };
	env_setup(&e, &nc);
	/* Two days of 1-minute readings (several pages of 1000), treatments, status, profiles. */
	int64_t now = HARNESS_START_MS;
	for (int64_t t = now - 47 * HOUR; t <= now; t += MIN)
		seed_entry(&e, t, (int)(80 + (t / MIN) % 120));
	seed_entry(&e, now - 72 * HOUR, 200); /* older than the lookback: not copied */
	for (int i = 0; i < 40; i++)
		seed_treatment(&e, now - i * HOUR - 7 * SEC, i % 2 ? "Correction Bolus" : "Meal Bolus", 0.5 + i);
	struct json_object *ds = json_object_new_object();
	json_object_object_add(ds, "device", json_object_new_string("loop://iPhone"));
	json_object_object_add(ds, "created_at", json_object_new_string("2024-01-01T09:55:00.000Z"));
	tsns_insert(e.ns, "devicestatus", ds);
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "defaultProfile", json_object_new_string("Default"));
	json_object_object_add(p, "startDate", json_object_new_string("2023-12-01T00:00:00.000Z"));
	json_object_object_add(p, "created_at", json_object_new_string("2023-12-01T00:00:00.000Z"));
	tsns_insert(e.ns, "profile", p);

	struct nsc_error err;
	const char *vars[] = { "CONNECT_SOURCE_ENDPOINT", endpoint_with_token(&e, TOKEN), NULL };
	ck_assert_int_eq(env_start(&e, vars, &err), NSC_OK);
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 47 * 60 + 1);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 40);
	ck_assert_uint_eq(kept_count(NSC_COLL_DEVICESTATUS), 1);
	ck_assert_uint_eq(kept_count(NSC_COLL_PROFILE), 1);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v1/entries"), 3);

	/* Field by field, every source document in the window arrived as it was. */
	struct json_object *src = tsns_docs(e.ns, "entries");
	for (size_t i = 0; i < json_object_array_length(src); i++) {
		struct json_object *d = json_object_array_get_idx(src, i);
		int64_t t;
		ck_assert(nsc_ns_doc_time(d, NSC_COLL_ENTRIES, &t));
		struct json_object *got = kept_at(NSC_COLL_ENTRIES, t);
		if (t < now - 48 * HOUR) {
			ck_assert_ptr_null(got);
			continue;
		}
		ck_assert_ptr_nonnull(got);
		assert_same_fields(d, got);
	}
	json_object_put(src);
	src = tsns_docs(e.ns, "treatments");
	for (size_t i = 0; i < json_object_array_length(src); i++) {
		struct json_object *d = json_object_array_get_idx(src, i);
		int64_t t;
		ck_assert(nsc_ns_doc_time(d, NSC_COLL_TREATMENTS, &t));
		assert_same_fields(d, kept_at(NSC_COLL_TREATMENTS, t));
	}
	json_object_put(src);

	/* The reads went with the JWT, never the access token itself. */
	const struct tsrv_request *r = tsrv_find(e.srv, "GET", "/api/v1/entries", 0);
	ck_assert_ptr_nonnull(tsrv_header(r, "Authorization"));
	ck_assert_ptr_null(tsrv_arg(r, "token"));
	ck_assert_uint_eq(tsns_jwts_issued(e.ns), 1);

	/* Later polls store what is new, and nothing twice. */
	size_t before = kept_count(NSC_COLL_ENTRIES);
	seed_entry(&e, now + 3 * MIN, 150);
	harness_run_for(&e.h, 10 * MIN);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), before + 1);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 40);
	ck_assert_uint_eq(kept_count(NSC_COLL_PROFILE), 1);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->payloads_dropped + st(&e)->frames_rejected, 0);
	ck_assert_int_eq(harness_count_lines(&e.h, TOKEN), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(backfill_of_three_months_copies_everything_once)
{
	struct env e;
	struct tsns_config nc = { .api_secret = "backfill-secret-0123" };
	env_setup(&e, &nc);
	/* 90 days of 5-minute readings, treatments every 6 h, a pump status an hour, two profiles. */
	int64_t now = HARNESS_START_MS;
	size_t entries = 0, treatments = 0, statuses = 0;
	for (int64_t t = now - 90 * DAY; t <= now; t += 5 * MIN, entries++)
		seed_entry(&e, t, (int)(70 + (t / MIN) % 150));
	for (int64_t t = now - 90 * DAY + 7 * SEC; t <= now; t += 6 * HOUR, treatments++)
		seed_treatment(&e, t, "Meal Bolus", 2.5);
	for (int64_t t = now - 90 * DAY + 30 * SEC; t <= now; t += HOUR, statuses++) {
		char iso[NSC_ISO_BUF];
		ck_assert_int_eq(nsc_time_format_iso(t, iso, sizeof(iso)), NSC_OK);
		struct json_object *ds = json_object_new_object();
		json_object_object_add(ds, "device", json_object_new_string("openaps://rig"));
		json_object_object_add(ds, "created_at", json_object_new_string(iso));
		tsns_insert(e.ns, "devicestatus", ds);
	}
	for (int i = 0; i < 2; i++) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "defaultProfile", json_object_new_string(i ? "Summer" : "Default"));
		json_object_object_add(p, "startDate", json_object_new_string(i ? "2023-06-01T00:00:00.000Z" : "2023-01-01T00:00:00.000Z"));
		json_object_object_add(p, "created_at", json_object_new_string(i ? "2023-06-01T00:00:00.000Z" : "2023-01-01T00:00:00.000Z"));
		tsns_insert(e.ns, "profile", p);
	}
	struct nsc_backfill plan;
	struct nsc_error err;
	ck_assert_int_eq(nsc_backfill_plan(&plan, &nsc_source_nightscout.history, now - 91 * DAY, 0, now, &err), NSC_OK);
	e.backfill = &plan;
	const char *vars[] = { "CONNECT_SOURCE_ENDPOINT", tsrv_url(e.srv), "CONNECT_SOURCE_API_SECRET",
			       "backfill-secret-0123", "CONNECT_LOOKBACK_HOURS", "2", NULL };
	ck_assert_int_eq(env_start(&e, vars, &err), NSC_OK);
	harness_run_for(&e.h, 30 * MIN);
	ck_assert_int_eq(e.finished, 1);
	ck_assert_uint_eq(plan.pages_done, 13); /* 91 days, a week a page */
	ck_assert_int_eq(plan.reached_ms, plan.end_ms);
	/* Far past the 2-hour lookback, every document of the three months, once. */
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), entries);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), treatments);
	ck_assert_uint_eq(kept_count(NSC_COLL_DEVICESTATUS), statuses);
	ck_assert_uint_eq(kept_count(NSC_COLL_PROFILE), 2);
	ck_assert_uint_eq(st(&e)->stored[NSC_COLL_ENTRIES], entries);
	/* A read a page at least, and one per 1000 entries: no page was cut short. */
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v1/entries"), 13 + entries / 1000);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->payloads_dropped + st(&e)->frames_rejected, 0);
	env_teardown(&e);
}
END_TEST

START_TEST(page_edges_lose_nothing)
{
	struct env e;
	struct tsns_config nc = { 0 };
	env_setup(&e, &nc);
	/* Pages of 3, and two readings share each page's boundary time. */
	int64_t t0 = HARNESS_START_MS - HOUR;
	int n = 0;
	for (int k = 0; k < 6; k++) {
		seed_entry(&e, t0 + k * MIN, 100 + n++);
		if (k % 2 == 0) {
			struct json_object *twin = json_object_new_object();
			json_object_object_add(twin, "type", json_object_new_string("mbg"));
			json_object_object_add(twin, "mbg", json_object_new_int(111));
			json_object_object_add(twin, "date", json_object_new_int64(t0 + k * MIN));
			json_object_object_add(twin, "device", json_object_new_string("meter"));
			tsns_insert(e.ns, "entries", twin);
			n++;
		}
	}
	struct nsc_error err;
	char url[128];
	snprintf(url, sizeof(url), "%s", tsrv_url(e.srv));
	const char *vars[] = { "CONNECT_SOURCE_ENDPOINT", url, "CONNECT_SOURCE_MAX_COUNT", "3",
			       "CONNECT_SOURCE_COLLECTIONS", "entries", NULL };
	ck_assert_int_eq(env_start(&e, vars, &err), NSC_OK);
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), (size_t)n);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v1/entries"), 4);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v1/treatments"), 0);
	env_teardown(&e);

	/* More documents at one instant than a page holds: said plainly, nothing half-stored. */
	env_setup(&e, &nc);
	for (int i = 0; i < 4; i++) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "type", json_object_new_string("sgv"));
		json_object_object_add(d, "sgv", json_object_new_int(100 + i));
		json_object_object_add(d, "date", json_object_new_int64(t0));
		json_object_object_add(d, "device", json_object_new_string(i % 2 ? "a" : "b"));
		tsns_insert(e.ns, "entries", d);
	}
	snprintf(url, sizeof(url), "%s", tsrv_url(e.srv));
	ck_assert_int_eq(env_start(&e, vars, &err), NSC_OK);
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_DROP);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "CONNECT_SOURCE_MAX_COUNT"));
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(api_secret_sent_as_its_hash)
{
	struct env e;
	struct tsns_config nc = { .api_secret = SECRET };
	env_setup(&e, &nc);
	seed_entry(&e, HARNESS_START_MS - 10 * MIN, 140);
	struct nsc_error err;
	const char *vars[] = { "CONNECT_SOURCE_ENDPOINT", tsrv_url(e.srv), "CONNECT_SOURCE_API_SECRET", SECRET,
			       NULL };
	ck_assert_int_eq(env_start(&e, vars, &err), NSC_OK);
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 1);
	char hex[TSNS_SHA1_HEX_BUF];
	tsns_sha1_hex(SECRET, hex);
	ck_assert_str_eq(tsrv_header(tsrv_find(e.srv, "GET", "/api/v1/entries", 0), "api-secret"), hex);
	ck_assert(!tsrv_seen_anywhere(e.srv, SECRET));
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/"), 0);
	/* v3 takes only a JWT: with the secret alone it is never asked. */
	ck_assert_uint_eq(tsrv_request_count(e.srv) - tsrv_count(e.srv, NULL, "/api/v1/"), 0);
	harness_run_for(&e.h, 6 * MIN);
	ck_assert_uint_eq(tsrv_count(e.srv, NULL, "/api/v3/"), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(token_without_read_permission_is_told_once)
{
	struct env e;
	struct tsns_config nc = { .access_token = TOKEN };
	env_setup(&e, &nc);
	tsns_deny(e.ns, "api:entries:read");
	seed_entry(&e, HARNESS_START_MS - 10 * MIN, 140);
	struct nsc_error err;
	const char *vars[] = { "CONNECT_SOURCE_ENDPOINT", endpoint_with_token(&e, TOKEN), NULL };
	ck_assert_int_eq(env_start(&e, vars, &err), NSC_OK);
	harness_run_for(&e.h, 3 * HOUR);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_REJECTED);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "\"readable\" role"));
	ck_assert_int_eq(harness_count_lines(&e.h, "readable"), 1);
	ck_assert_uint_le(tsrv_count(e.srv, "GET", "/api/v1/entries"), 6);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(same_site_as_the_target_is_refused)
{
	struct env e;
	struct tsns_config nc = { 0 };
	env_setup(&e, &nc);
	struct nsc_error err;
	char target[160];
	snprintf(target, sizeof(target), "%s/", tsrv_url(e.srv));
	const char *vars[] = { "CONNECT_SOURCE_ENDPOINT", endpoint_with_token(&e, TOKEN), "CONNECT_OUTPUT", "rest",
			       "CONNECT_NIGHTSCOUT_ENDPOINT", target, "CONNECT_API_SECRET", SECRET, NULL };
	ck_assert_int_eq(env_start(&e, vars, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_SOURCE_ENDPOINT"));
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_NIGHTSCOUT_ENDPOINT"));
	ck_assert_uint_eq(tsrv_request_count(e.srv), 0);
	env_teardown(&e);
}
END_TEST

/* A treatment as a v3 uploader stores it, srvModified = srv_ms. */
static void seed_v3_treatment(struct env *e, const char *id, int64_t t, double insulin, int64_t srv_ms)
{
	char iso[NSC_ISO_BUF];
	ck_assert_int_eq(nsc_time_format_iso(t, iso, sizeof(iso)), NSC_OK);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "identifier", json_object_new_string(id));
	json_object_object_add(d, "eventType", json_object_new_string("Correction Bolus"));
	json_object_object_add(d, "created_at", json_object_new_string(iso));
	json_object_object_add(d, "date", json_object_new_int64(t));
	json_object_object_add(d, "utcOffset", json_object_new_int(0));
	json_object_object_add(d, "app", json_object_new_string("AAPS"));
	json_object_object_add(d, "device", json_object_new_string("pump"));
	json_object_object_add(d, "insulin", json_object_new_double(insulin));
	tsns_insert_v3(e->ns, "treatments", d, srv_ms);
}

static void start_with_token(struct env *e, const char *collections, const char *max_count)
{
	struct nsc_error err;
	const char *vars[] = { "CONNECT_SOURCE_ENDPOINT", endpoint_with_token(e, TOKEN), "CONNECT_SOURCE_COLLECTIONS",
			       collections, "CONNECT_SOURCE_MAX_COUNT", max_count, NULL };
	ck_assert_int_eq(env_start(e, vars, &err), NSC_OK);
}

START_TEST(v3_history_read_besides_v1)
{
	struct env e;
	struct tsns_config nc = { .access_token = TOKEN };
	env_setup(&e, &nc);
	int64_t now = HARNESS_START_MS;
	tsns_set_now_ms(e.ns, now);
	seed_entry(&e, now - 10 * MIN, 140); /* through v1: no srvModified, only the v1 read has it */
	seed_v3_treatment(&e, "t-v3", now - 20 * MIN, 1.5, now - 19 * MIN);
	start_with_token(&e, "entries,treatments", "1000");
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 1);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/version"), 1);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v1/entries"), 1);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v1/treatments"), 1);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v3/entries/history/"), 1);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v3/treatments/history/"), 1);
	const struct tsrv_request *r = tsrv_find(e.srv, "GET", "/api/v3/treatments/history/", 0);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(tsrv_header(r, "Authorization"));
	/* The first history starts where the v1 read does: the lookback, nothing stored yet. */
	char path[128];
	snprintf(path, sizeof(path), "/api/v3/treatments/history/%lld", (long long)(now - 48 * HOUR));
	ck_assert_str_eq(r->path, path);

	/* The next poll: no second version call, history goes on from the newest change seen. */
	harness_run_for(&e.h, 6 * MIN);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/version"), 1);
	size_t n = tsrv_count(e.srv, "GET", "/api/v3/treatments/history/");
	ck_assert_uint_ge(n, 2);
	r = tsrv_find(e.srv, "GET", "/api/v3/treatments/history/", n - 1);
	snprintf(path, sizeof(path), "/api/v3/treatments/history/%lld", (long long)(now - 19 * MIN - 1));
	ck_assert_str_eq(r->path, path);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->payloads_dropped + st(&e)->frames_rejected, 0);
	ck_assert_int_eq(harness_count_lines(&e.h, TOKEN), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(site_without_v3_stays_on_v1)
{
	struct env e;
	struct tsns_config nc = { .access_token = TOKEN };
	env_setup(&e, &nc);
	tsns_set_v3(e.ns, false);
	int64_t now = HARNESS_START_MS;
	seed_entry(&e, now - 10 * MIN, 140);
	seed_treatment(&e, now - 30 * MIN, "Meal Bolus", 2);
	start_with_token(&e, "entries,treatments", "1000");
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 1);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/version"), 1);
	ck_assert_int_eq(tsrv_find(e.srv, "GET", "/api/v3/version", 0)->status, 404);
	seed_entry(&e, now + 2 * MIN, 150);
	harness_run_for(&e.h, 11 * MIN);
	ck_assert_uint_eq(kept_count(NSC_COLL_ENTRIES), 2);
	/* Asked once for the session; no history ever; nothing said above debug. */
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/version"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/"), 1);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v1/entries"), 3);
	ck_assert_int_eq(harness_count_lines(&e.h, "v3"), 0);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->payloads_dropped + st(&e)->frames_rejected, 0);
	env_teardown(&e);
}
END_TEST

START_TEST(deleted_at_source_never_stored_again)
{
	struct env e;
	struct tsns_config nc = { .access_token = TOKEN };
	env_setup(&e, &nc);
	int64_t now = HARNESS_START_MS;
	tsns_set_now_ms(e.ns, now - 5 * MIN);
	seed_v3_treatment(&e, "kept-then-deleted", now - 40 * MIN, 1, 0);
	seed_v3_treatment(&e, "deleted-before", now - 30 * MIN, 2, 0);
	ck_assert(tsns_delete(e.ns, "treatments", "deleted-before"));
	ck_assert(!tsns_delete(e.ns, "treatments", "no-such"));
	start_with_token(&e, "treatments", "1000");
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_int_eq(kept_offers(NSC_COLL_TREATMENTS, "kept-then-deleted"), 1);
	ck_assert_int_eq(kept_offers(NSC_COLL_TREATMENTS, "deleted-before"), 0);

	/*
	 * Deleted at the source after the mirror (the output keeps its copy:
	 * removing it there is out of scope), and one new treatment deleted
	 * while the bridge reads: the v1 page has it valid, the history says
	 * deleted.
	 */
	tsns_set_now_ms(e.ns, now + MIN);
	ck_assert(tsns_delete(e.ns, "treatments", "kept-then-deleted"));
	seed_v3_treatment(&e, "deleted-while-read", now - 10 * MIN, 3, 0);
	tsns_delete_on_read(e.ns, "treatments", "deleted-while-read");
	harness_run_for(&e.h, 6 * MIN);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v1/treatments"), 2);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v3/treatments/history/"), 2);
	ck_assert_int_eq(kept_offers(NSC_COLL_TREATMENTS, "kept-then-deleted"), 1);
	ck_assert_int_eq(kept_offers(NSC_COLL_TREATMENTS, "deleted-before"), 0);
	ck_assert_int_eq(kept_offers(NSC_COLL_TREATMENTS, "deleted-while-read"), 0);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->payloads_dropped + st(&e)->frames_rejected, 0);
	env_teardown(&e);
}
END_TEST

/* A v3 site with a bolus 10 h old (outside the v1 window later) and one 5 min old, both copied. */
static void start_with_two_boluses(struct env *e, int64_t now)
{
	struct tsns_config nc = { .access_token = TOKEN };
	env_setup(e, &nc);
	seed_v3_treatment(e, "old-bolus", now - 10 * HOUR, 1.0, now - 10 * HOUR);
	seed_v3_treatment(e, "new-bolus", now - 5 * MIN, 2.0, now - 5 * MIN);
	start_with_token(e, "treatments", "1000");
	harness_run_for(&e->h, 30 * SEC);
	ck_assert_int_eq(st(e)->last_rc, NSC_OK);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 2);
}

START_TEST(old_treatment_edited_arrives_through_history)
{
	struct env e;
	int64_t now = HARNESS_START_MS;
	start_with_two_boluses(&e, now);
	double v = 0;

	/* Edited now: far behind the v1 window (last-known less an hour). */
	tsns_set_now_ms(e.ns, now + MIN);
	struct json_object *patch = json_object_new_object();
	json_object_object_add(patch, "insulin", json_object_new_double(4.5));
	ck_assert(tsns_update(e.ns, "treatments", "old-bolus", patch));
	harness_run_for(&e.h, 6 * MIN);
	struct json_object *got = kept_latest(NSC_COLL_TREATMENTS, "old-bolus");
	ck_assert_ptr_nonnull(got);
	ck_assert(nsc_json_get_number(got, "insulin", &v));
	ck_assert_double_eq(v, 4.5);
	ck_assert(!json_object_object_get_ex(got, "srvModified", NULL));
	ck_assert_int_eq(kept_offers(NSC_COLL_TREATMENTS, "old-bolus"), 2);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->payloads_dropped + st(&e)->frames_rejected, 0);
	env_teardown(&e);
}
END_TEST

START_TEST(edit_read_while_the_output_is_down_arrives_after)
{
	/* The history bookmark moves when the output took what was read, not at the fetch. */
	struct env e;
	int64_t now = HARNESS_START_MS;
	start_with_two_boluses(&e, now);

	/* Two edits: the old bolus's comes only through history, the later one is newest. */
	tsns_set_now_ms(e.ns, now + MIN);
	struct json_object *patch = json_object_new_object();
	json_object_object_add(patch, "insulin", json_object_new_double(3.0));
	ck_assert(tsns_update(e.ns, "treatments", "old-bolus", patch));
	tsns_set_now_ms(e.ns, now + 2 * MIN);
	patch = json_object_new_object();
	json_object_object_add(patch, "insulin", json_object_new_double(2.5));
	ck_assert(tsns_update(e.ns, "treatments", "new-bolus", patch));
	/* Every write of the next frame fails: it reads the edit and cannot store it. */
	kept->fail_writes = 100;
	uint64_t failed = st(&e)->frames_failed;
	for (int i = 0; i < 20 * 60 && st(&e)->frames_failed == failed; i++)
		harness_run_for(&e.h, SEC);
	ck_assert_uint_eq(st(&e)->frames_failed, failed + 1);
	ck_assert_int_eq(kept_offers(NSC_COLL_TREATMENTS, "old-bolus"), 1);
	/* The output is back: the next frame reads the edit again and stores it. */
	kept->fail_writes = 0;
	uint64_t good = st(&e)->frames_ok;
	for (int i = 0; i < 20 * 60 && st(&e)->frames_ok == good; i++)
		harness_run_for(&e.h, SEC);
	ck_assert_uint_gt(st(&e)->frames_ok, good);
	struct json_object *got = kept_latest(NSC_COLL_TREATMENTS, "old-bolus");
	double v = 0;
	ck_assert_ptr_nonnull(got);
	ck_assert(nsc_json_get_number(got, "insulin", &v));
	ck_assert_double_eq(v, 3.0);
	env_teardown(&e);
}
END_TEST

START_TEST(history_page_edges_lose_nothing)
{
	struct env e;
	struct tsns_config nc = { .access_token = TOKEN };
	env_setup(&e, &nc);
	int64_t now = HARNESS_START_MS, s = now - HOUR;
	/*
	 * Nine treatments from long ago (out of the v1 window), edited lately
	 * in pairs sharing srvModified: pages of 3 split every pair.
	 */
	static const int bump[] = { 0, 0, 1, 1, 2, 2, 3, 3, 4 };
	char id[32];
	for (int i = 0; i < 9; i++) {
		snprintf(id, sizeof(id), "edited-%d", i);
		seed_v3_treatment(&e, id, now - 100 * HOUR - i * MIN, 1 + i, s + bump[i]);
	}
	start_with_token(&e, "treatments", "3");
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 9);
	for (int i = 0; i < 9; i++) {
		snprintf(id, sizeof(id), "edited-%d", i);
		ck_assert_int_eq(kept_offers(NSC_COLL_TREATMENTS, id), 1);
	}
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/treatments/history/"), 5);
	ck_assert_str_eq(tsrv_arg(tsrv_find(e.srv, "GET", "/api/v3/treatments/history/", 0), "limit"), "3");
	env_teardown(&e);

	/* More changes in one millisecond than a page holds: said plainly, nothing half-stored. */
	env_setup(&e, &nc);
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "same-ms-%d", i);
		seed_v3_treatment(&e, id, now - 100 * HOUR - i * MIN, 1, s);
	}
	start_with_token(&e, "treatments", "3");
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_ERR_DROP);
	ck_assert_ptr_nonnull(strstr(st(&e)->last_error, "CONNECT_SOURCE_MAX_COUNT"));
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 0);
	env_teardown(&e);
}
END_TEST

START_TEST(history_404_falls_back_to_v1)
{
	struct env e;
	struct tsns_config nc = { .access_token = TOKEN };
	env_setup(&e, &nc);
	int64_t now = HARNESS_START_MS;
	seed_v3_treatment(&e, "t", now - 20 * MIN, 1, now - 20 * MIN);
	start_with_token(&e, "entries,treatments", "1000");
	harness_run_for(&e.h, 30 * SEC);
	ck_assert_int_eq(st(&e)->last_rc, NSC_OK);
	ck_assert_uint_eq(kept_count(NSC_COLL_TREATMENTS), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/treatments/history/"), 1);
	/* The version said v3, then history goes away (a proxy in front of a partial site). */
	tsns_set_v3(e.ns, false);
	harness_run_for(&e.h, 11 * MIN);
	/* The second poll's history 404 ended v3 for the session; the third asked nothing of it. */
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/entries/history/"), 2);
	ck_assert_int_eq(tsrv_find(e.srv, "GET", "/api/v3/entries/history/", 1)->status, 404);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/treatments/history/"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v3/version"), 1);
	ck_assert_uint_ge(tsrv_count(e.srv, "GET", "/api/v1/treatments"), 3);
	ck_assert_uint_eq(st(&e)->frames_failed + st(&e)->payloads_dropped + st(&e)->frames_rejected, 0);
	env_teardown(&e);
}
END_TEST

static Suite *ns_source_suite(void)
{
	Suite *s = suite_create("nightscout_source");
	TCase *pure = tcase_create("pure");
	tcase_add_test(pure, endpoint_split);
	tcase_add_test(pure, same_site);
	tcase_add_test(pure, collections_setting);
	tcase_add_test(pure, page_urls);
	tcase_add_test(pure, jwt_answers);
	tcase_add_test(pure, answers_classified);
	tcase_add_test(pure, transform_copies_once);
	tcase_add_test(pure, v3_urls);
	tcase_add_test(pure, version_answers);
	tcase_add_test(pure, history_pages);
	tcase_add_test(pure, history_merges_into_result);
	suite_add_tcase(s, pure);
	TCase *sim = tcase_create("simulator");
	tcase_set_timeout(sim, 120);
	tcase_add_test(sim, mirror_of_all_four_collections);
	tcase_add_test(sim, page_edges_lose_nothing);
	tcase_add_test(sim, api_secret_sent_as_its_hash);
	tcase_add_test(sim, token_without_read_permission_is_told_once);
	tcase_add_test(sim, same_site_as_the_target_is_refused);
	tcase_add_test(sim, v3_history_read_besides_v1);
	tcase_add_test(sim, site_without_v3_stays_on_v1);
	tcase_add_test(sim, deleted_at_source_never_stored_again);
	tcase_add_test(sim, old_treatment_edited_arrives_through_history);
	tcase_add_test(sim, edit_read_while_the_output_is_down_arrives_after);
	tcase_add_test(sim, history_page_edges_lose_nothing);
	tcase_add_test(sim, history_404_falls_back_to_v1);
	tcase_add_test(sim, backfill_of_three_months_copies_everything_once);
	suite_add_tcase(s, sim);
	return s;
}

NSC_CHECK_MAIN(ns_source_suite)
