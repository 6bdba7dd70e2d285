/* SPDX-License-Identifier: MIT */
/*
 * The Nightscout REST outputs against the in-process test server
 * (tests/server/): credentials on the wire (SHA-1 of the API secret, the
 * token, the JWT and its renewal), all four collections stored, no
 * duplicates when a batch is written twice, how server failures turn into
 * verdicts and messages, last-known whatever order the server answers in,
 * and the HTTP status classification table.
 */
#include "config.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "batch.h"
#include "http/auth.h"
#include "http/classify.h"
#include "http/client.h"
#include "http/rest.h"
#include "http/rest_output.h"
#include "log.h"
#include "log_capture.h"
#include "nsc_check.h"
#include "test_docs.h"
#include "nsc_config.h"
#include "outputs/spooled.h"
#include "server/nightscout.h"
#include "server/server.h"
#include "timeutil.h"

#define T0 INT64_C(1710085200000) /* 2024-03-10T15:40:00.000Z */
#define MIN NSC_MS_PER_MINUTE
#define HOUR NSC_MS_PER_HOUR

#define SECRET "correct-horse-battery-staple"
/* printf '%s' correct-horse-battery-staple | sha1sum */
#define SECRET_SHA1 "dd606cd49bbbd06b4c2606fc2449f8fb87975786"
#define TOKEN "nsconnect-0123456789abcdef"

static const char *const colls[NSC_COLL_COUNT] = { "entries", "treatments", "devicestatus",
						   "profile" };

/* ---- fixtures ------------------------------------------------------------ */

struct env {
	struct tsrv *srv;
	struct tsns *ns;
	struct nsc_config cfg;
	struct nsc_log *log;
	struct log_capture out;
	const struct nsc_output_driver *drv;
	void *ctx;
};

struct env_opts {
	const char *server_secret; /* NULL: none */
	const char *server_token;  /* NULL: none */
	const char *prefix;        /* server and endpoint path prefix */
	const char *api_secret;    /* client settings */
	const char *token;
};

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	return d;
}

/* Server and configuration; the backend is opened by env_open. */
static void env_init(struct env *e, const struct env_opts *o)
{
	struct tsns_config nc = { .prefix = o->prefix, .api_secret = o->server_secret,
				  .access_token = o->server_token };
	char url[128];

	memset(e, 0, sizeof(*e));
	e->srv = tsrv_start(0);
	ck_assert_ptr_nonnull(e->srv);
	e->ns = tsns_attach(e->srv, &nc);
	ck_assert_ptr_nonnull(e->ns);
	nsc_config_init(&e->cfg);
	snprintf(url, sizeof(url), "%s%s", tsrv_url(e->srv), o->prefix ? o->prefix : "");
	e->cfg.nightscout_endpoint = xstrdup(url);
	if (o->api_secret)
		e->cfg.api_secret = xstrdup(o->api_secret);
	if (o->token)
		e->cfg.nightscout_token = xstrdup(o->token);
	e->log = nsc_log_new(NSC_LOG_DEBUG);
	ck_assert_ptr_nonnull(e->log);
	nsc_log_set_sink(e->log, log_capture_sink, &e->out);
}

static void env_open(struct env *e, const struct nsc_output_driver *drv)
{
	struct nsc_error err = { 0 };
	struct nsc_rest_tuning t = { .connect_timeout_ms = 2000, .timeout_ms = 1500 };
	nsc_rc rc;

	e->drv = drv;
	rc = drv->open(&e->cfg, e->log, &e->ctx, &err);
	ck_assert_msg(rc == NSC_OK, "open: %s: %s", nsc_rc_name(rc), err.msg);
	ck_assert_ptr_nonnull(e->ctx);
	nsc_rest_tune(e->ctx, &t);
}

static void env_start(struct env *e, const struct env_opts *o, const struct nsc_output_driver *drv)
{
	env_init(e, o);
	env_open(e, drv);
}

/* As env_start, with `concurrency` rest3 requests at once. */
static void env_start_k(struct env *e, const struct env_opts *o,
			const struct nsc_output_driver *drv, unsigned concurrency)
{
	env_init(e, o);
	e->cfg.rest_concurrency = concurrency;
	env_open(e, drv);
}

static void env_close_backend(struct env *e)
{
	if (e->ctx)
		e->drv->close(e->ctx);
	e->ctx = NULL;
}

static void env_stop(struct env *e)
{
	env_close_backend(e);
	if (getenv("NSC_TEST_SHOW_LOG") && e->out.text)
		fputs(e->out.text, stderr);
	tsrv_stop(e->srv);
	tsns_free(e->ns);
	nsc_config_free(&e->cfg);
	nsc_log_free(e->log);
	free(e->out.text);
}

static bool logged(const struct env *e, const char *needle)
{
	return e->out.text && strstr(e->out.text, needle);
}

static const struct env_opts V1_SECRET = { .server_secret = SECRET, .server_token = TOKEN,
					   .api_secret = SECRET };
static const struct env_opts V1_TOKEN = { .server_secret = SECRET, .server_token = TOKEN,
					  .token = TOKEN };
static const struct env_opts V3 = { .server_secret = SECRET, .server_token = TOKEN,
				    .token = TOKEN };

static struct json_object *timed(int64_t t, const char *field)
{
	char iso[NSC_ISO_BUF];
	struct json_object *d = json_object_new_object();

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(nsc_time_format_iso(t, iso, sizeof(iso)), NSC_OK);
	json_object_object_add(d, field, json_object_new_string(iso));
	return d;
}

static struct json_object *treatment(int64_t t, const char *event_type, double insulin)
{
	struct json_object *d = timed(t, "created_at");

	json_object_object_add(d, "eventType", json_object_new_string(event_type));
	json_object_object_add(d, "insulin", json_object_new_double(insulin));
	json_object_object_add(d, "enteredBy", json_object_new_string("test"));
	return d;
}

static struct json_object *devicestatus(int64_t t)
{
	struct json_object *d = timed(t, "created_at");

	json_object_object_add(d, "device", json_object_new_string("test/pump"));
	json_object_object_add(d, "pump", json_tokener_parse("{\"reservoir\":120.5}"));
	return d;
}

static struct json_object *profile(int64_t created, int64_t start)
{
	char iso[NSC_ISO_BUF];
	struct json_object *d = timed(created, "created_at");

	ck_assert_int_eq(nsc_time_format_iso(start, iso, sizeof(iso)), NSC_OK);
	json_object_object_add(d, "startDate", json_object_new_string(iso));
	json_object_object_add(d, "defaultProfile", json_object_new_string("Default"));
	json_object_object_add(d, "store", json_tokener_parse("{\"Default\":{\"dia\":4}}"));
	return d;
}

static void add(struct nsc_batch *b, enum nsc_collection c, struct json_object *d)
{
	struct nsc_error err = { 0 };

	ck_assert_msg(nsc_batch_add(b, c, d, &err) == NSC_OK, "batch add: %s", err.msg);
}

/* 3 entries (newest T0), 2 treatments, 1 devicestatus, 1 profile; `shift` moves them all. */
static void make_batch(struct nsc_batch *b, int64_t shift)
{
	nsc_batch_init(b);
	add(b, NSC_COLL_ENTRIES, test_entry(T0 - 10 * MIN + shift, 100));
	add(b, NSC_COLL_ENTRIES, test_entry(T0 + shift, 110));
	add(b, NSC_COLL_ENTRIES, test_entry(T0 - 5 * MIN + shift, 105));
	add(b, NSC_COLL_TREATMENTS, treatment(T0 - 60 * MIN + shift, "Meal Bolus", 4.5));
	add(b, NSC_COLL_TREATMENTS, treatment(T0 - 20 * MIN + shift, "Correction Bolus", 1.5));
	add(b, NSC_COLL_DEVICESTATUS, devicestatus(T0 - 2 * MIN + shift));
	add(b, NSC_COLL_PROFILE, profile(T0 - 3 * HOUR + shift, T0 - 24 * HOUR + shift));
}

static nsc_rc write_batch(struct env *e, const struct nsc_batch *b, struct nsc_write_result *res,
			  struct nsc_error *err)
{
	memset(err, 0, sizeof(*err));
	return e->drv->write(e->ctx, b, res, err);
}

static void write_ok(struct env *e, const struct nsc_batch *b, struct nsc_write_result *res)
{
	struct nsc_error err;
	nsc_rc rc = write_batch(e, b, res, &err);

	ck_assert_msg(rc == NSC_OK, "write: %s: %s", nsc_rc_name(rc), err.msg);
}

static size_t count_status(struct tsrv *s, int status)
{
	size_t n = 0;

	for (size_t i = 0; i < tsrv_request_count(s); i++)
		if (tsrv_request_at(s, i)->status == status)
			n++;
	return n;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void assert_counts(struct tsns *ns, size_t e, size_t t, size_t d, size_t p)
{
	ck_assert_uint_eq(tsns_count(ns, "entries"), e);
	ck_assert_uint_eq(tsns_count(ns, "treatments"), t);
	ck_assert_uint_eq(tsns_count(ns, "devicestatus"), d);
	ck_assert_uint_eq(tsns_count(ns, "profile"), p);
}

/* ---- classification -------------------------------------------------------- */

#define V1_401 "{\"status\":401,\"message\":\"Unauthorized\",\"description\":\"Invalid/Missing\"}"

START_TEST(test_classify_table)
{
	static const struct {
		enum nsc_rest_api api;
		int transport;
		long status;
		const char *body;
		bool too_large;
		nsc_rc want;
		const char *msg_has;
	} rows[] = {
		{ NSC_REST_V1, CURLE_OK, 200, "[]", false, NSC_OK, NULL },
		{ NSC_REST_V3, CURLE_OK, 201, "{\"status\":201}", false, NSC_OK, NULL },
		{ NSC_REST_V1, CURLE_OPERATION_TIMEDOUT, 0, "", false, NSC_ERR_RETRY, "in time" },
		{ NSC_REST_V3, CURLE_COULDNT_CONNECT, 0, "", false, NSC_ERR_RETRY, "cannot reach" },
		{ NSC_REST_V1, CURLE_COULDNT_RESOLVE_HOST, 0, "", false, NSC_ERR_RETRY,
		  "CONNECT_NIGHTSCOUT_ENDPOINT" },
		{ NSC_REST_V1, CURLE_RECV_ERROR, 0, "", false, NSC_ERR_RETRY, "will retry" },
		/* A 200 whose body was cut off is not a success. */
		{ NSC_REST_V1, CURLE_PARTIAL_FILE, 200, "[{\"a\"", false, NSC_ERR_RETRY, NULL },
		{ NSC_REST_V1, CURLE_GOT_NOTHING, 0, "", false, NSC_ERR_RETRY, NULL },
		{ NSC_REST_V1, CURLE_PEER_FAILED_VERIFICATION, 0, "", false, NSC_ERR_RETRY, "TLS" },
		{ NSC_REST_V1, CURLE_WRITE_ERROR, 200, "", true, NSC_ERR_RETRY, "larger than" },
		{ NSC_REST_V1, CURLE_OK, 500, "{\"status\":500,\"message\":\"Mongo Error\"}", false,
		  NSC_ERR_RETRY, "Mongo Error" },
		{ NSC_REST_V3, CURLE_OK, 500, "{\"status\":500,\"message\":\"Database error\"}",
		  false, NSC_ERR_RETRY, "Database error" },
		{ NSC_REST_V1, CURLE_OK, 502, "<html><body>Bad Gateway</body></html>", false,
		  NSC_ERR_RETRY, "HTML page" },
		{ NSC_REST_V1, CURLE_OK, 503, "", false, NSC_ERR_RETRY, "503" },
		{ NSC_REST_V3, CURLE_OK, 504, "", false, NSC_ERR_RETRY, "504" },
		{ NSC_REST_V1, CURLE_OK, 429, "Too Many Requests", false, NSC_ERR_RETRY,
		  "Too Many Requests" },
		{ NSC_REST_V3, CURLE_OK, 429, "", false, NSC_ERR_RETRY, "429" },
		{ NSC_REST_V1, CURLE_OK, 408, "", false, NSC_ERR_RETRY, "408" },
		{ NSC_REST_V1, CURLE_OK, 401, V1_401, false, NSC_ERR_RETRY,
		  "Nightscout refused CONNECT_API_SECRET / CONNECT_NIGHTSCOUT_TOKEN: 401 "
		  "Unauthorized (Invalid/Missing)" },
		{ NSC_REST_V1, CURLE_OK, 403, "", false, NSC_ERR_RETRY,
		  "Nightscout refused CONNECT_API_SECRET / CONNECT_NIGHTSCOUT_TOKEN: 403" },
		{ NSC_REST_V3, CURLE_OK, 401,
		  "{\"status\":401,\"message\":\"Missing or bad access token or JWT\"}", false,
		  NSC_ERR_AUTH, "Missing or bad access token or JWT" },
		{ NSC_REST_V3, CURLE_OK, 403,
		  "{\"status\":403,\"message\":\"Missing permission api:entries:create\"}", false,
		  NSC_ERR_AUTH, "api:entries:create" },
		{ NSC_REST_V1, CURLE_OK, 400, "{\"status\":400,\"message\":\"Invalid _id format\"}",
		  false, NSC_ERR_DROP, "Invalid _id format" },
		{ NSC_REST_V3, CURLE_OK, 400, "{\"status\":400,\"message\":\"Bad or missing app field\"}",
		  false, NSC_ERR_DROP, "Bad or missing app field" },
		{ NSC_REST_V3, CURLE_OK, 422, "{\"status\":422,\"message\":\"Trying to modify "
		  "read-only document\"}", false, NSC_ERR_DROP, "read-only document" },
		{ NSC_REST_V1, CURLE_OK, 422, "", false, NSC_ERR_DROP, "422" },
		{ NSC_REST_V1, CURLE_OK, 413, "request entity too large", false, NSC_ERR_DROP,
		  "too large" },
		{ NSC_REST_V1, CURLE_OK, 404, "Cannot POST /api/v1/entries.json", false,
		  NSC_ERR_RETRY, "CONNECT_NIGHTSCOUT_ENDPOINT" },
		{ NSC_REST_V1, CURLE_OK, 307, "", false, NSC_ERR_RETRY, "redirect" },
		{ NSC_REST_V1, CURLE_OK, 0, "", false, NSC_ERR_RETRY, NULL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nsc_http_response r = { 0 };
		struct nsc_error err = { 0 };
		nsc_rc rc;

		r.transport = rows[i].transport;
		r.status = rows[i].status;
		r.body = (char *)rows[i].body;
		r.body_len = strlen(rows[i].body);
		r.too_large = rows[i].too_large;
		snprintf(r.transport_msg, sizeof(r.transport_msg), "%s",
			 rows[i].transport ? curl_easy_strerror((CURLcode)rows[i].transport) : "");
		rc = nsc_http_classify(rows[i].api, "POST /api/v1/entries.json", &r, &err);
		ck_assert_msg(rc == rows[i].want, "row %zu: got %s want %s (%s)", i, nsc_rc_name(rc),
			      nsc_rc_name(rows[i].want), err.msg);
		ck_assert_int_eq(err.code, rc);
		if (rows[i].msg_has)
			ck_assert_msg(strstr(err.msg, rows[i].msg_has) != NULL,
				      "row %zu: \"%s\" lacks \"%s\"", i, err.msg, rows[i].msg_has);
		if (rc != NSC_OK)
			ck_assert_msg(strstr(err.msg, "POST /api/v1/entries.json") != NULL,
				      "row %zu: message does not name the call: %s", i, err.msg);
	}
}
END_TEST

START_TEST(test_sha1_hex)
{
	char hex[NSC_SHA1_HEX_BUF];
	struct nsc_error err = { 0 };

	ck_assert_int_eq(nsc_http_sha1_hex("abc", hex, &err), NSC_OK);
	ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	ck_assert_int_eq(nsc_http_sha1_hex(SECRET, hex, &err), NSC_OK);
	ck_assert_str_eq(hex, SECRET_SHA1);
}
END_TEST

/* ---- the test server itself ----------------------------------------------------- */

static long raw_post(const char *url, const char *header, const char *body, char **answer)
{
	struct nsc_http_client *c = nsc_http_client_new();
	struct nsc_http_response r;
	struct nsc_error err = { 0 };
	const char *headers[] = { header, NULL };
	long status;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(nsc_http_request(c, "POST", url, headers, body, strlen(body), &r, &err),
			 NSC_OK);
	ck_assert_int_eq(r.transport, 0);
	status = r.status;
	if (answer)
		*answer = xstrdup(r.body);
	nsc_http_response_free(&r);
	nsc_http_client_free(c);
	return status;
}

START_TEST(test_server_refuses_plain_secret)
{
	struct env e;
	char url[160];
	const char *doc = "[{\"type\":\"sgv\",\"sgv\":99,\"date\":1710085200000}]";

	env_init(&e, &V1_SECRET);
	snprintf(url, sizeof(url), "%s/api/v1/entries.json", tsrv_url(e.srv));
	ck_assert_int_eq(raw_post(url, "api-secret: " SECRET, doc, NULL), 401);
	ck_assert_int_eq(raw_post(url, NULL, doc, NULL), 401);
	ck_assert_uint_eq(tsns_count(e.ns, "entries"), 0);
	ck_assert_int_eq(raw_post(url, "api-secret: " SECRET_SHA1, doc, NULL), 200);
	ck_assert_uint_eq(tsns_count(e.ns, "entries"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/api/v1/entries"), 3);
	ck_assert_str_eq(tsrv_header(tsrv_find(e.srv, "POST", NULL, 2), "api-secret"), SECRET_SHA1);
	env_stop(&e);
}
END_TEST

/* ---- API v1 -------------------------------------------------------------------------- */

/* The spool's waiter hears of each part of a write that got in. */
static void count_part(void *arg)
{
	(*(unsigned *)arg)++;
}

START_TEST(test_v1_secret_writes_all_collections)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	unsigned parts = 0;

	env_start(&e, &V1_SECRET, &nsc_rest_v1_backend);
	e.drv->set_progress(e.ctx, count_part, &parts);
	make_batch(&b, 0);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(parts, NSC_COLL_COUNT); /* one POST per collection */
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 3);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 2);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 1);
	ck_assert_uint_eq(res.stored[NSC_COLL_PROFILE], 1);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 0);
	assert_counts(e.ns, 3, 2, 1, 1);

	/* One POST per collection, a JSON array of the batch's documents. */
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		char path[64];
		const struct tsrv_request *r;
		struct json_object *body;

		snprintf(path, sizeof(path), "/api/v1/%s.json", colls[c]);
		ck_assert_uint_eq(tsrv_count(e.srv, "POST", path), 1);
		r = tsrv_find(e.srv, "POST", path, 0);
		ck_assert_str_eq(r->path, path);
		ck_assert_ptr_nonnull(strstr(tsrv_header(r, "Content-Type"), "application/json"));
		body = json_tokener_parse(r->body);
		ck_assert(json_object_is_type(body, json_type_array));
		ck_assert_uint_eq(json_object_array_length(body), nsc_batch_count(&b, c));
		for (size_t i = 0; i < nsc_batch_count(&b, c); i++) {
			struct json_object *id = NULL, *want = NULL;

			json_object_object_get_ex(json_object_array_get_idx(body, i), "identifier", &id);
			json_object_object_get_ex(nsc_batch_get(&b, c, i), "identifier", &want);
			ck_assert_str_eq(json_object_get_string(id), json_object_get_string(want));
		}
		json_object_put(body);
	}
	/* Before devicestatus and profile, one question each: which does Nightscout hold? */
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v1/devicestatus.json"), 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v1/profiles.json"), 1);
	/* Every request carries the SHA-1 hex, and the plain secret appears nowhere. */
	ck_assert_uint_eq(tsrv_request_count(e.srv), 6);
	for (size_t i = 0; i < tsrv_request_count(e.srv); i++) {
		const struct tsrv_request *r = tsrv_request_at(e.srv, i);

		ck_assert_str_eq(tsrv_header(r, "api-secret"), SECRET_SHA1);
		ck_assert_ptr_null(tsrv_arg(r, "token"));
		ck_assert_ptr_null(tsrv_header(r, "Authorization"));
	}
	ck_assert(!tsrv_seen_anywhere(e.srv, SECRET));
	/* Neither the secret nor its hash reaches the log. */
	ck_assert(!logged(&e, SECRET));
	ck_assert(!logged(&e, SECRET_SHA1));
	ck_assert(logged(&e, "event=open api=v1"));
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v1_same_batch_twice_no_duplicates)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;

	env_start(&e, &V1_SECRET, &nsc_rest_v1_backend);
	make_batch(&b, 0);
	write_ok(&e, &b, &res);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(tsns_count(e.ns, "entries"), 3);
	ck_assert_uint_eq(tsns_count(e.ns, "treatments"), 2);
	/* Nightscout answers `_id` only for inserted entries: the second time none are new. */
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 0);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 3);

	/* A batch overlapping the first adds only what is new. */
	struct nsc_batch b2;
	nsc_batch_init(&b2);
	add(&b2, NSC_COLL_ENTRIES, test_entry(T0, 110));
	add(&b2, NSC_COLL_ENTRIES, test_entry(T0 + 5 * MIN, 115));
	add(&b2, NSC_COLL_TREATMENTS, treatment(T0 - 20 * MIN, "Correction Bolus", 1.5));
	write_ok(&e, &b2, &res);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 1);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 1);
	ck_assert_uint_eq(tsns_count(e.ns, "entries"), 4);
	ck_assert_uint_eq(tsns_count(e.ns, "treatments"), 2);
	nsc_batch_clear(&b);
	nsc_batch_clear(&b2);
	env_stop(&e);
}
END_TEST

START_TEST(test_v1_token_in_query)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };

	env_start(&e, &V1_TOKEN, &nsc_rest_v1_backend);
	make_batch(&b, 0);
	write_ok(&e, &b, &res);
	assert_counts(e.ns, 3, 2, 1, 1);
	ck_assert_int_eq(e.drv->last_known(e.ctx, &lk, &err), NSC_OK);
	ck_assert_uint_eq(tsrv_request_count(e.srv), 4 + 2 + 4); /* POSTs, lookups, reads */
	for (size_t i = 0; i < tsrv_request_count(e.srv); i++) {
		const struct tsrv_request *r = tsrv_request_at(e.srv, i);

		ck_assert_str_eq(tsrv_arg(r, "token"), TOKEN);
		ck_assert_ptr_null(tsrv_header(r, "api-secret"));
	}
	ck_assert(!tsrv_seen_anywhere(e.srv, SECRET));
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v1_refused_secret_retries_with_message)
{
	struct env e;
	struct env_opts o = V1_SECRET;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err;
	nsc_rc rc;

	o.server_secret = "a-different-secret";
	env_start(&e, &o, &nsc_rest_v1_backend);
	make_batch(&b, 0);
	rc = write_batch(&e, &b, &res, &err);
	ck_assert_int_eq(nsc_rc_verdict(rc), NSC_VERDICT_RETRY);
	ck_assert_msg(strncmp(err.msg,
			      "Nightscout refused CONNECT_API_SECRET / CONNECT_NIGHTSCOUT_TOKEN: ",
			      66) == 0,
		      "%s", err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, "Invalid/Missing"));
	ck_assert(logged(&e, "level=error"));
	ck_assert(logged(&e, "event=auth_refused"));
	/* It stops at the first refusal: the data stays spooled for later. */
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", NULL), 1);
	assert_counts(e.ns, 0, 0, 0, 0);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v1_bad_request_drops_with_message)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err;
	struct tsrv_fault f = { .status = 400,
				.body = "{\"status\":400,\"message\":\"insulin is not a number\"}",
				.times = 1 };
	nsc_rc rc;

	env_start(&e, &V1_SECRET, &nsc_rest_v1_backend);
	tsrv_fault_add(e.srv, "POST", "/api/v1/treatments", &f);
	make_batch(&b, 0);
	rc = write_batch(&e, &b, &res, &err);
	ck_assert_int_eq(nsc_rc_verdict(rc), NSC_VERDICT_DROP);
	ck_assert_int_eq(err.code, rc);
	ck_assert_ptr_nonnull(strstr(err.msg, "insulin is not a number"));
	ck_assert(logged(&e, "event=documents_refused"));
	/* The other collections still went. */
	assert_counts(e.ns, 3, 0, 1, 1);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 1);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v1_large_collection_split)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_rest_tuning t = { .max_post_bytes = 1200 };
	size_t posts;

	env_start(&e, &V1_SECRET, &nsc_rest_v1_backend);
	nsc_rest_tune(e.ctx, &t);
	nsc_batch_init(&b);
	for (int i = 0; i < 20; i++)
		add(&b, NSC_COLL_ENTRIES, test_entry(T0 - i * 5 * MIN, 100 + i));
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 20);
	ck_assert_uint_eq(tsns_count(e.ns, "entries"), 20);
	posts = tsrv_count(e.srv, "POST", "/api/v1/entries.json");
	ck_assert_uint_gt(posts, 2);
	for (size_t i = 0; i < posts; i++) {
		const struct tsrv_request *r = tsrv_find(e.srv, "POST", "/api/v1/entries.json", i);
		struct json_object *body = json_tokener_parse(r->body);

		ck_assert_uint_le(r->body_len, 1200);
		ck_assert(json_object_is_type(body, json_type_array));
		json_object_put(body);
	}
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

/* Writes b expecting a RETRY verdict; returns how long the call took. */
static int64_t write_expect_retry(struct env *e, const struct nsc_batch *b, const char *msg_has)
{
	struct nsc_write_result res;
	struct nsc_error err;
	int64_t t0 = mono_ms();
	nsc_rc rc = write_batch(e, b, &res, &err);

	ck_assert_msg(nsc_rc_verdict(rc) == NSC_VERDICT_RETRY, "got %s: %s", nsc_rc_name(rc),
		      err.msg);
	if (msg_has)
		ck_assert_msg(strstr(err.msg, msg_has) != NULL, "\"%s\" lacks \"%s\"", err.msg,
			      msg_has);
	return mono_ms() - t0;
}

START_TEST(test_v1_server_failures_retry)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct tsrv_fault unavailable = { .status = 503, .times = 1 };
	struct tsrv_fault cut = { .truncate = true, .times = 1 };
	struct tsrv_fault broken = { .malformed = true, .times = 1 };
	struct tsrv_fault hang = { .hang = true, .times = 1 };
	struct tsrv_fault slow = { .delay_ms = 300, .times = 1 };

	env_start(&e, &V1_SECRET, &nsc_rest_v1_backend);
	make_batch(&b, 0);

	tsrv_fault_add(e.srv, "POST", "/api/v1/entries", &unavailable);
	write_expect_retry(&e, &b, "503");
	tsrv_fault_add(e.srv, "POST", "/api/v1/treatments", &cut);
	write_expect_retry(&e, &b, NULL);
	tsrv_fault_add(e.srv, "POST", "/api/v1/devicestatus", &broken);
	write_expect_retry(&e, &b, "JSON array");
	tsrv_fault_add(e.srv, "POST", "/api/v1/profile", &hang);
	ck_assert_int_lt(write_expect_retry(&e, &b, "in time"), 4000);

	/* A slow answer within the timeout is fine; the replays left no duplicates. */
	tsrv_fault_add(e.srv, "POST", "/api/v1/entries", &slow);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(tsns_count(e.ns, "entries"), 3);
	ck_assert_uint_eq(tsns_count(e.ns, "treatments"), 2);
	ck_assert_uint_ge(tsns_count(e.ns, "profile"), 1);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

/* Every identifier of the collection once: no more documents than distinct identifiers, and `want` of them. */
static void assert_once_each(struct tsns *ns, const char *col, size_t want)
{
	struct json_object *docs = tsns_docs(ns, col), *seen = json_object_new_object();
	size_t n = json_object_array_length(docs);

	ck_assert_ptr_nonnull(seen);
	for (size_t i = 0; i < n; i++) {
		struct json_object *id = NULL;

		ck_assert(json_object_object_get_ex(json_object_array_get_idx(docs, i), "identifier",
						    &id));
		ck_assert_msg(!json_object_object_get_ex(seen, json_object_get_string(id), NULL),
			      "%s holds %s twice", col, json_object_get_string(id));
		json_object_object_add(seen, json_object_get_string(id), NULL);
	}
	ck_assert_uint_eq(n, want);
	json_object_put(seen);
	json_object_put(docs);
}

/* `nds` devicestatus and `np` profiles, minutes apart, starting `shift` after T0 - 3 days. */
static void add_status_and_profiles(struct nsc_batch *b, int nds, int np, int64_t shift)
{
	int64_t t = T0 - 72 * HOUR + shift;

	for (int i = 0; i < nds; i++)
		add(b, NSC_COLL_DEVICESTATUS, devicestatus(t + i * MIN));
	for (int i = 0; i < np; i++)
		add(b, NSC_COLL_PROFILE, profile(t + i * MIN, T0 - 24 * HOUR * (i + 1)));
}

START_TEST(test_v1_devicestatus_and_profile_replayed_once)
{
	struct env e;
	struct nsc_batch b, b2;
	struct nsc_write_result res;
	struct nsc_rest_tuning t = { .max_post_bytes = 700 };
	struct tsrv_fault mid = { .status = 500, .after = 2, .times = 1 };
	struct tsrv_fault last = { .status = 503, .times = 1 };

	env_start(&e, &V1_SECRET, &nsc_rest_v1_backend);
	nsc_rest_tune(e.ctx, &t); /* devicestatus goes in several POSTs */
	make_batch(&b, 0);
	add_status_and_profiles(&b, 24, 3, 0);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 25);
	ck_assert_uint_eq(res.stored[NSC_COLL_PROFILE], 4);
	assert_once_each(e.ns, "devicestatus", 25);
	assert_once_each(e.ns, "profile", 4);

	/* The same batch again, as the spool replays it: Nightscout already holds every one. */
	write_ok(&e, &b, &res);
	assert_once_each(e.ns, "devicestatus", 25);
	assert_once_each(e.ns, "profile", 4);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 0);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_DEVICESTATUS], 25);
	ck_assert_uint_eq(res.stored[NSC_COLL_PROFILE], 0);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_PROFILE], 4);

	/* New documents, failing part-way: within devicestatus, then at profile. */
	nsc_batch_init(&b2);
	add_status_and_profiles(&b2, 12, 2, 30 * MIN);
	tsrv_fault_add(e.srv, "POST", "/api/v1/devicestatus", &mid);
	write_expect_retry(&e, &b2, "500");
	ck_assert_uint_gt(tsns_count(e.ns, "devicestatus"), 25);
	ck_assert_uint_lt(tsns_count(e.ns, "devicestatus"), 37);
	tsrv_fault_add(e.srv, "POST", "/api/v1/profile", &last);
	write_expect_retry(&e, &b2, "503");
	assert_once_each(e.ns, "devicestatus", 37);
	write_ok(&e, &b2, &res);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 0);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_DEVICESTATUS], 12);
	ck_assert_uint_eq(res.stored[NSC_COLL_PROFILE], 2);
	assert_once_each(e.ns, "devicestatus", 37);
	assert_once_each(e.ns, "profile", 6);

	/* The lookups name at most 20 identifiers each, and bound the dates. */
	ck_assert_uint_gt(tsrv_count(e.srv, "GET", "/api/v1/devicestatus.json"), 2);
	for (size_t i = 0; i < tsrv_request_count(e.srv); i++) {
		const struct tsrv_request *r = tsrv_request_at(e.srv, i);
		size_t ids = 0;

		if (strcmp(r->method, "GET") != 0)
			continue;
		for (size_t k = 0; k < r->nargs; k++)
			if (strcmp(r->args[k].name, "find[identifier][$in][]") == 0)
				ids++;
		ck_assert_uint_ge(ids, 1);
		ck_assert_uint_le(ids, 20);
		ck_assert_ptr_nonnull(tsrv_arg(r, "count"));
	}
	nsc_batch_clear(&b);
	nsc_batch_clear(&b2);
	env_stop(&e);
}
END_TEST

START_TEST(test_v1_unreachable_retries)
{
	struct env e;
	struct nsc_batch b;
	struct tsrv *gone;
	char url[64];

	/* A port that was just free: nothing listens there any more. */
	gone = tsrv_start(0);
	ck_assert_ptr_nonnull(gone);
	snprintf(url, sizeof(url), "%s", tsrv_url(gone));
	tsrv_stop(gone);
	env_init(&e, &V1_SECRET);
	free(e.cfg.nightscout_endpoint);
	e.cfg.nightscout_endpoint = xstrdup(url);
	env_open(&e, &nsc_rest_v1_backend);
	make_batch(&b, 0);
	write_expect_retry(&e, &b, "cannot reach");
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

static void seed(struct tsns *ns, const char *col, struct json_object *doc)
{
	tsns_insert(ns, col, doc);
}

/* Documents stored out of time order; profile startDate order differs from created_at. */
static void seed_mixed(struct tsns *ns, bool with_v3_dates)
{
	struct json_object *d;

	seed(ns, "entries", test_entry(T0 - 10 * MIN, 100));
	seed(ns, "entries", test_entry(T0 - 1 * MIN, 120));
	seed(ns, "entries", test_entry(T0 - 5 * MIN, 105));
	seed(ns, "treatments", treatment(T0 - 30 * MIN, "Meal Bolus", 3));
	seed(ns, "treatments", treatment(T0 - 15 * MIN, "Correction Bolus", 1));
	d = treatment(T0 - 45 * MIN, "Temp Basal", 0);
	if (with_v3_dates)
		json_object_object_add(d, "date", json_object_new_int64(T0 - 45 * MIN));
	seed(ns, "treatments", d);
	seed(ns, "devicestatus", devicestatus(T0 - 8 * MIN));
	seed(ns, "devicestatus", devicestatus(T0 - 3 * MIN));
	/* Newest startDate first would give the profile created 3 h before T0. */
	seed(ns, "profile", profile(T0 - 1 * HOUR, T0 - 48 * HOUR));
	seed(ns, "profile", profile(T0 - 3 * HOUR, T0 - 24 * HOUR));
}

static void assert_mixed_last_known(const struct nsc_last_known *lk)
{
	ck_assert_int_eq(lk->ms[NSC_COLL_ENTRIES], T0 - 1 * MIN);
	ck_assert_int_eq(lk->ms[NSC_COLL_TREATMENTS], T0 - 15 * MIN);
	ck_assert_int_eq(lk->ms[NSC_COLL_DEVICESTATUS], T0 - 3 * MIN);
	ck_assert_int_eq(lk->ms[NSC_COLL_PROFILE], T0 - 1 * HOUR);
}

START_TEST(test_v1_last_known_any_order)
{
	struct env e;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };

	env_start(&e, &V1_SECRET, &nsc_rest_v1_backend);
	memset(&lk, 0xff, sizeof(lk));
	ck_assert_int_eq(e.drv->last_known(e.ctx, &lk, &err), NSC_OK);
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		ck_assert_int_eq(lk.ms[c], 0);

	seed_mixed(e.ns, false);
	ck_assert_int_eq(e.drv->last_known(e.ctx, &lk, &err), NSC_OK);
	assert_mixed_last_known(&lk);
	tsns_reverse_reads(e.ns, true);
	memset(&lk, 0, sizeof(lk));
	ck_assert_int_eq(e.drv->last_known(e.ctx, &lk, &err), NSC_OK);
	assert_mixed_last_known(&lk);

	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		char path[64];
		const struct tsrv_request *r;

		snprintf(path, sizeof(path), "/api/v1/%s.json", colls[c]);
		r = tsrv_find(e.srv, "GET", path, 0);
		ck_assert_ptr_nonnull(r);
		ck_assert_ptr_nonnull(tsrv_arg(r, "count"));
		ck_assert_int_ge(atoi(tsrv_arg(r, "count")), 1);
		ck_assert_str_eq(tsrv_header(r, "api-secret"), SECRET_SHA1);
	}

	/* A failing read is a RETRY, not "nothing known". */
	struct tsrv_fault down = { .status = 502, .times = 1 };
	tsrv_fault_add(e.srv, "GET", "/api/v1/treatments", &down);
	ck_assert_int_eq(nsc_rc_verdict(e.drv->last_known(e.ctx, &lk, &err)), NSC_VERDICT_RETRY);
	env_stop(&e);
}
END_TEST

START_TEST(test_v1_endpoint_with_path_prefix)
{
	struct env e;
	struct env_opts o = V1_SECRET;
	struct nsc_batch b;
	struct nsc_write_result res;

	o.prefix = "/ns";
	env_start(&e, &o, &nsc_rest_v1_backend);
	make_batch(&b, 0);
	write_ok(&e, &b, &res);
	assert_counts(e.ns, 3, 2, 1, 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/ns/api/v1/"), 4);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/ns/api/v1/"), 2);
	ck_assert_uint_eq(tsrv_count(e.srv, NULL, NULL), 6);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_open_refuses_missing_settings)
{
	struct nsc_config cfg;
	struct nsc_error err = { 0 };
	struct nsc_log *log = nsc_log_new(NSC_LOG_ERROR);
	void *ctx = NULL;

	ck_assert_ptr_nonnull(log);
	nsc_config_init(&cfg);
	ck_assert_int_eq(nsc_rest_v1_backend.open(&cfg, log, &ctx, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_NIGHTSCOUT_ENDPOINT"));
	cfg.nightscout_endpoint = xstrdup("http://127.0.0.1:9");
	ck_assert_int_eq(nsc_rest_v1_backend.open(&cfg, log, &ctx, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_API_SECRET"));
	cfg.api_secret = xstrdup(SECRET);
	ck_assert_int_eq(nsc_rest_v3_backend.open(&cfg, log, &ctx, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_NIGHTSCOUT_TOKEN"));
	ck_assert_ptr_null(ctx);
	nsc_config_free(&cfg);
	nsc_log_free(log);
}
END_TEST

/* ---- API v3 ------------------------------------------------------------------------------- */

/* The POST of the document with identifier id (in whatever order they arrived); NULL if none. */
static const struct tsrv_request *v3_post_of(struct env *e, const char *path, const char *id)
{
	const struct tsrv_request *r;

	for (size_t i = 0; (r = tsrv_find(e->srv, "POST", path, i)) != NULL; i++) {
		struct json_object *body = json_tokener_parse(r->body), *v = NULL;
		bool same = json_object_object_get_ex(body, "identifier", &v) &&
			    strcmp(json_object_get_string(v), id) == 0;

		json_object_put(body);
		if (same)
			return r;
	}
	return NULL;
}

static void assert_v3_bodies(struct env *e, const struct nsc_batch *b)
{
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		char path[64];

		snprintf(path, sizeof(path), "/api/v3/%s", colls[c]);
		ck_assert_uint_ge(tsrv_count(e->srv, "POST", path), nsc_batch_count(b, c));
		for (size_t i = 0; i < nsc_batch_count(b, c); i++) {
			struct json_object *body, *want_id = NULL, *v = NULL;
			const struct tsrv_request *r;
			int64_t t;

			json_object_object_get_ex(nsc_batch_get(b, c, i), "identifier", &want_id);
			r = v3_post_of(e, path, json_object_get_string(want_id));
			ck_assert_ptr_nonnull(r);
			body = json_tokener_parse(r->body);
			ck_assert(json_object_is_type(body, json_type_object));
			ck_assert(json_object_object_get_ex(body, "app", &v));
			ck_assert_str_eq(json_object_get_string(v), "nsconnect");
			ck_assert(json_object_object_get_ex(body, "utcOffset", &v));
			ck_assert(json_object_is_type(v, json_type_int));
			ck_assert(json_object_object_get_ex(body, "date", &v));
			ck_assert(json_object_is_type(v, json_type_int));
			ck_assert_int_eq(nsc_doc_time_ms(nsc_batch_get(b, c, i), &t), NSC_OK);
			ck_assert_int_eq(json_object_get_int64(v), t);
			json_object_put(body);
		}
	}
}

/* Concurrency settings the v3 tests run with: today's one at a time, and the default. */
static const unsigned v3_concurrency[] = { 1, 4 };
#define V3_RUNS (sizeof(v3_concurrency) / sizeof(v3_concurrency[0]))

START_TEST(test_v3_jwt_obtained_once_and_reused)
{
	unsigned k = v3_concurrency[_i];
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };
	char jwt[512], bearer[600];

	env_start_k(&e, &V3, &nsc_rest_v3_backend, k);
	make_batch(&b, 0);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 3);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 2);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 1);
	ck_assert_uint_eq(res.stored[NSC_COLL_PROFILE], 1);
	assert_counts(e.ns, 3, 2, 1, 1);
	assert_v3_bodies(&e, &b);

	/* The same batch again: every answer is a deduplication, counted as such. */
	write_ok(&e, &b, &res);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		ck_assert_uint_eq(res.stored[c], 0);
		ck_assert_uint_eq(res.duplicates[c], nsc_batch_count(&b, c));
	}
	assert_counts(e.ns, 3, 2, 1, 1);
	ck_assert_int_eq(e.drv->last_known(e.ctx, &lk, &err), NSC_OK);
	ck_assert_int_eq(lk.ms[NSC_COLL_ENTRIES], T0);

	/* One exchange, and that JWT on every v3 call; no v1 credential anywhere. */
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/authorization/request/"), 1);
	ck_assert_str_eq(tsrv_find(e.srv, "GET", "/api/v2/authorization/request/", 0)->path,
			 "/api/v2/authorization/request/" TOKEN);
	ck_assert_uint_eq(tsns_jwts_issued(e.ns), 1);
	tsns_last_jwt(e.ns, jwt, sizeof(jwt));
	snprintf(bearer, sizeof(bearer), "Bearer %s", jwt);
	ck_assert_uint_eq(tsrv_count(e.srv, NULL, "/api/v3/"), 14 + 4);
	for (size_t i = 0; i < tsrv_count(e.srv, NULL, "/api/v3/"); i++) {
		const struct tsrv_request *r = tsrv_find(e.srv, NULL, "/api/v3/", i);

		ck_assert_str_eq(tsrv_header(r, "Authorization"), bearer);
		ck_assert_ptr_null(tsrv_header(r, "api-secret"));
		ck_assert_ptr_null(tsrv_arg(r, "token"));
	}
	ck_assert_uint_eq(count_status(e.srv, 401), 0);
	/*
	 * Keep-alive: 19 requests over one connection for the exchange and the
	 * reads, and at most one per request in flight for the 14 POSTs.
	 */
	ck_assert_uint_eq(tsrv_request_count(e.srv), 19);
	ck_assert_uint_ge(tsrv_connections(e.srv), 2);
	ck_assert_uint_le(tsrv_connections(e.srv), 1 + k);
	ck_assert(!tsrv_seen_anywhere(e.srv, SECRET));
	ck_assert(!logged(&e, jwt));
	ck_assert(logged(&e, "event=jwt_obtained"));
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_revoked_jwt_refreshed_once)
{
	unsigned k = v3_concurrency[_i];
	struct env e;
	struct nsc_batch b, b2;
	struct nsc_write_result res;

	env_start_k(&e, &V3, &nsc_rest_v3_backend, k);
	make_batch(&b, 0);
	make_batch(&b2, 30 * MIN);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/authorization/request/"), 1);

	/*
	 * Every request in flight meets the revoked JWT; they all come back
	 * before one new JWT is fetched, and then those documents go again.
	 */
	tsns_revoke_jwts(e.ns);
	write_ok(&e, &b2, &res);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 3);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 2);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 1);
	ck_assert_uint_eq(res.stored[NSC_COLL_PROFILE], 1);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/authorization/request/"), 2);
	ck_assert_uint_eq(count_status(e.srv, 401), k);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/api/v3/"), 7 + 7 + k);
	assert_counts(e.ns, 6, 4, 2, 2);
	ck_assert(logged(&e, "event=jwt_refused"));
	nsc_batch_clear(&b);
	nsc_batch_clear(&b2);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_short_lived_jwt_renewed_before_use)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;

	env_start(&e, &V3, &nsc_rest_v3_backend);
	tsns_set_jwt_lifetime(e.ns, 5 * 60); /* less than the 10-minute margin */
	make_batch(&b, 0);
	write_ok(&e, &b, &res);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/authorization/request/"), 2);
	ck_assert_uint_eq(count_status(e.srv, 401), 0);

	/* A JWT with hours left is kept. */
	tsns_set_jwt_lifetime(e.ns, 2 * 3600);
	write_ok(&e, &b, &res);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/authorization/request/"), 3);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_persistent_401_gives_up_after_one_refresh)
{
	unsigned k = v3_concurrency[_i];
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err;
	struct tsrv_fault f = {
		.status = 401,
		.body = "{\"status\":401,\"message\":\"Missing or bad access token or JWT\"}",
	};
	nsc_rc rc;

	env_start_k(&e, &V3, &nsc_rest_v3_backend, k);
	tsrv_fault_add(e.srv, "POST", "/api/v3/", &f);
	make_batch(&b, 0);
	rc = write_batch(&e, &b, &res, &err);
	ck_assert_int_eq(rc, NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_NIGHTSCOUT_TOKEN"));
	ck_assert_ptr_nonnull(strstr(err.msg, "Missing or bad access token or JWT"));
	/* One new JWT; the first k documents tried with each. */
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/authorization/request/"), 2);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/api/v3/"), 2 * k);
	ck_assert(logged(&e, "level=error"));
	ck_assert(logged(&e, "event=auth_refused"));
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_unknown_token_retries_with_message)
{
	struct env e;
	struct env_opts o = V3;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err;
	struct nsc_last_known lk;
	nsc_rc rc;

	o.server_token = "someone-fedcba9876543210";
	env_start(&e, &o, &nsc_rest_v3_backend);
	make_batch(&b, 0);
	rc = write_batch(&e, &b, &res, &err);
	ck_assert_int_eq(rc, NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(err.msg, "Nightscout refused CONNECT_NIGHTSCOUT_TOKEN"));
	ck_assert(logged(&e, "event=token_refused"));
	ck_assert_uint_eq(tsrv_count(e.srv, NULL, "/api/v3/"), 0);
	ck_assert_int_eq(nsc_rc_verdict(e.drv->last_known(e.ctx, &lk, &err)), NSC_VERDICT_RETRY);
	assert_counts(e.ns, 0, 0, 0, 0);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_missing_permission_retries_naming_it)
{
	unsigned k = v3_concurrency[_i];
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err;
	nsc_rc rc;

	env_start_k(&e, &V3, &nsc_rest_v3_backend, k);
	tsns_deny(e.ns, "api:treatments:create");
	make_batch(&b, 0);
	rc = write_batch(&e, &b, &res, &err);
	ck_assert_int_eq(rc, NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(err.msg, "api:treatments:create"));
	ck_assert(logged(&e, "event=permission_missing api=v3 permission=api:treatments:create"));
	ck_assert(logged(&e, "level=error"));
	/* A 403 is not an expired JWT: no new exchange. The call stopped there. */
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/authorization/request/"), 1);
	ck_assert_uint_eq(tsns_count(e.ns, "entries"), 3);
	ck_assert_uint_eq(tsns_count(e.ns, "treatments"), 0);
	/* One at a time nothing follows the refusal; with more, what was already on its way lands. */
	ck_assert_uint_le(tsns_count(e.ns, "devicestatus"), k > 1);
	ck_assert_uint_le(tsns_count(e.ns, "profile"), k > 1);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], tsns_count(e.ns, "devicestatus"));

	/* Dedup needs the update permission too. */
	struct env e2;
	env_start_k(&e2, &V3, &nsc_rest_v3_backend, k);
	write_ok(&e2, &b, &res);
	tsns_deny(e2.ns, "api:entries:update");
	rc = write_batch(&e2, &b, &res, &err);
	ck_assert_int_eq(rc, NSC_ERR_RETRY);
	ck_assert_ptr_nonnull(strstr(err.msg, "api:entries:update"));
	env_stop(&e2);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_bad_request_drops_with_message)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct nsc_error err;
	struct tsrv_fault f = {
		.status = 400,
		.body = "{\"status\":400,\"message\":\"Bad or missing eventType field\"}",
		.times = 1,
	};
	nsc_rc rc;

	env_start(&e, &V3, &nsc_rest_v3_backend);
	tsrv_fault_add(e.srv, "POST", "/api/v3/treatments", &f);
	make_batch(&b, 0);
	rc = write_batch(&e, &b, &res, &err);
	ck_assert_int_eq(nsc_rc_verdict(rc), NSC_VERDICT_DROP);
	ck_assert_ptr_nonnull(strstr(err.msg, "Bad or missing eventType field"));
	ck_assert(logged(&e, "event=documents_refused api=v3 collection=treatments count=1"));
	/* Everything else of the batch was stored. */
	assert_counts(e.ns, 3, 1, 1, 1);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 1);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_after_v1_counts_duplicates)
{
	struct env e;
	struct env_opts o = V3;
	struct nsc_batch b;
	struct nsc_write_result res;

	/* One server, written through v1 first (stored without `app`), then through v3. */
	o.api_secret = SECRET;
	env_start(&e, &o, &nsc_rest_v1_backend);
	make_batch(&b, 0);
	write_ok(&e, &b, &res);
	assert_counts(e.ns, 3, 2, 1, 1);
	env_close_backend(&e);

	env_open(&e, &nsc_rest_v3_backend);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 3);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_TREATMENTS], 2);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 0);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 0);
	ck_assert_uint_eq(tsns_count(e.ns, "entries"), 3);
	ck_assert_uint_eq(tsns_count(e.ns, "treatments"), 2);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_server_failures_retry)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;
	struct tsrv_fault fail = { .status = 500,
				   .body = "{\"status\":500,\"message\":\"Database error\"}",
				   .times = 1 };
	struct tsrv_fault hang = { .hang = true, .times = 1 };
	struct tsrv_fault broken = { .malformed = true, .times = 1 };
	struct tsrv_fault cut = { .truncate = true, .times = 1 };

	env_start(&e, &V3, &nsc_rest_v3_backend);
	make_batch(&b, 0);
	tsrv_fault_add(e.srv, "POST", "/api/v3/entries", &fail);
	write_expect_retry(&e, &b, "Database error");
	tsrv_fault_add(e.srv, "POST", "/api/v3/treatments", &hang);
	ck_assert_int_lt(write_expect_retry(&e, &b, "in time"), 4000);
	tsrv_fault_add(e.srv, "POST", "/api/v3/devicestatus", &broken);
	write_expect_retry(&e, &b, NULL);
	tsrv_fault_add(e.srv, "GET", "/api/v2/authorization/request/", &cut);
	tsns_revoke_jwts(e.ns);
	write_expect_retry(&e, &b, NULL);

	write_ok(&e, &b, &res);
	assert_counts(e.ns, 3, 2, 1, 1);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

/* A larger batch: `ne` entries 5 minutes apart, then `nt` treatments, 2 devicestatus, 3 profiles. */
static void make_big_batch(struct nsc_batch *b, int ne, int nt)
{
	nsc_batch_init(b);
	for (int i = 0; i < ne; i++)
		add(b, NSC_COLL_ENTRIES, test_entry(T0 - i * 5 * MIN, 100 + i % 50));
	for (int i = 0; i < nt; i++)
		add(b, NSC_COLL_TREATMENTS, treatment(T0 - i * 40 * MIN, "Correction Bolus", 0.5));
	add_status_and_profiles(b, 2, 3, 0);
}

static size_t total(const size_t v[NSC_COLL_COUNT])
{
	size_t n = 0;

	for (int c = 0; c < NSC_COLL_COUNT; c++)
		n += v[c];
	return n;
}

/* Profile POSTs arrived in batch order. */
static void assert_profiles_in_order(struct env *e, const struct nsc_batch *b)
{
	for (size_t i = 0; i < nsc_batch_count(b, NSC_COLL_PROFILE); i++) {
		const struct tsrv_request *r = tsrv_find(e->srv, "POST", "/api/v3/profile", i);
		struct json_object *body, *got = NULL, *want = NULL;

		ck_assert_ptr_nonnull(r);
		body = json_tokener_parse(r->body);
		json_object_object_get_ex(body, "identifier", &got);
		json_object_object_get_ex(nsc_batch_get(b, NSC_COLL_PROFILE, i), "identifier", &want);
		ck_assert_str_eq(json_object_get_string(got), json_object_get_string(want));
		json_object_put(body);
	}
}

/*
 * With a remote-like latency, concurrency 4 keeps several POSTs in flight
 * at once (the server counts them; no clock is asserted), profiles still
 * one at a time in order, and every document is stored once. Concurrency 1
 * never overlaps.
 */
START_TEST(test_v3_concurrent_posts_overlap)
{
	unsigned k = v3_concurrency[_i];
	int ne = k > 1 ? 24 : 5;
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;

	unsigned parts = 0;

	env_start_k(&e, &V3, &nsc_rest_v3_backend, k);
	e.drv->set_progress(e.ctx, count_part, &parts);
	tsns_set_latency_ms(e.ns, 100);
	make_big_batch(&b, ne, 4);
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(parts, nsc_batch_total(&b)); /* every document answered is progress */
	if (k > 1)
		ck_assert_uint_ge(tsns_max_in_flight(e.ns, NULL), 3);
	else
		ck_assert_uint_eq(tsns_max_in_flight(e.ns, NULL), 1);
	ck_assert_uint_le(tsns_max_in_flight(e.ns, NULL), k);
	ck_assert_uint_eq(tsns_max_in_flight(e.ns, "profile"), 1);
	assert_profiles_in_order(&e, &b);
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], (size_t)ne);
	ck_assert_uint_eq(res.stored[NSC_COLL_TREATMENTS], 4);
	ck_assert_uint_eq(res.stored[NSC_COLL_DEVICESTATUS], 2);
	ck_assert_uint_eq(res.stored[NSC_COLL_PROFILE], 3);
	ck_assert_uint_eq(total(res.duplicates), 0);
	assert_once_each(e.ns, "entries", (size_t)ne);
	assert_once_each(e.ns, "treatments", 4);
	assert_once_each(e.ns, "devicestatus", 2);
	assert_once_each(e.ns, "profile", 3);
	ck_assert_uint_eq(tsrv_count(e.srv, "POST", "/api/v3/"), nsc_batch_total(&b));
	ck_assert_uint_le(tsrv_connections(e.srv), 1 + k);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

/*
 * A 5xx part-way: RETRY, the counts say exactly what the server stored,
 * and the replay adds the rest without a duplicate.
 */
START_TEST(test_v3_failure_midway_replay_no_duplicates)
{
	unsigned k = v3_concurrency[_i];
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result first, again;
	struct nsc_error err;
	struct tsrv_fault fail = { .status = 502, .after = 10, .times = 1 };
	nsc_rc rc;

	env_start_k(&e, &V3, &nsc_rest_v3_backend, k);
	tsns_set_latency_ms(e.ns, 10);
	make_big_batch(&b, 40, 7);
	tsrv_fault_add(e.srv, "POST", "/api/v3/entries", &fail);
	rc = write_batch(&e, &b, &first, &err);
	ck_assert_msg(rc == NSC_ERR_RETRY, "got %s: %s", nsc_rc_name(rc), err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, "502"));
	/* Nothing new starts after the failure; what was in flight is counted. */
	ck_assert_uint_ge(total(first.stored), 10);
	ck_assert_uint_le(total(first.stored), 10 + k - 1);
	ck_assert_uint_eq(total(first.stored),
			  tsns_count(e.ns, "entries") + tsns_count(e.ns, "treatments") +
				  tsns_count(e.ns, "devicestatus") + tsns_count(e.ns, "profile"));
	ck_assert_uint_eq(total(first.duplicates), 0);

	write_ok(&e, &b, &again);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		ck_assert_uint_eq(again.stored[c] + again.duplicates[c], nsc_batch_count(&b, c));
		ck_assert_uint_eq(first.stored[c] + again.stored[c], nsc_batch_count(&b, c));
	}
	assert_once_each(e.ns, "entries", 40);
	assert_once_each(e.ns, "treatments", 7);
	assert_once_each(e.ns, "devicestatus", 2);
	assert_once_each(e.ns, "profile", 3);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

/* Two documents with one identifier never overlap: the second is a deduplication, not a second copy. */
START_TEST(test_v3_same_identifier_twice_in_a_batch)
{
	struct env e;
	struct nsc_batch b;
	struct nsc_write_result res;

	env_start_k(&e, &V3, &nsc_rest_v3_backend, 4);
	tsns_set_latency_ms(e.ns, 50);
	nsc_batch_init(&b);
	for (int i = 0; i < 4; i++)
		add(&b, NSC_COLL_ENTRIES, test_entry(T0, 120));
	add(&b, NSC_COLL_ENTRIES, test_entry(T0 - 5 * MIN, 118));
	write_ok(&e, &b, &res);
	ck_assert_uint_eq(tsns_identifier_overlaps(e.ns), 0);
	ck_assert_uint_ge(tsns_max_in_flight(e.ns, NULL), 2); /* the other entry went alongside */
	ck_assert_uint_eq(res.stored[NSC_COLL_ENTRIES], 2);
	ck_assert_uint_eq(res.duplicates[NSC_COLL_ENTRIES], 3);
	assert_once_each(e.ns, "entries", 2);
	nsc_batch_clear(&b);
	env_stop(&e);
}
END_TEST

START_TEST(test_v3_last_known_any_order)
{
	struct env e;
	struct nsc_last_known lk;
	struct nsc_error err = { 0 };

	env_start(&e, &V3, &nsc_rest_v3_backend);
	ck_assert_int_eq(e.drv->last_known(e.ctx, &lk, &err), NSC_OK);
	for (int c = 0; c < NSC_COLL_COUNT; c++)
		ck_assert_int_eq(lk.ms[c], 0);
	seed_mixed(e.ns, true);
	tsns_reverse_reads(e.ns, true);
	ck_assert_int_eq(e.drv->last_known(e.ctx, &lk, &err), NSC_OK);
	assert_mixed_last_known(&lk);
	tsns_reverse_reads(e.ns, false);
	memset(&lk, 0, sizeof(lk));
	ck_assert_int_eq(e.drv->last_known(e.ctx, &lk, &err), NSC_OK);
	assert_mixed_last_known(&lk);

	const struct tsrv_request *r = tsrv_find(e.srv, "GET", "/api/v3/entries", 0);
	ck_assert_str_eq(tsrv_arg(r, "sort$desc"), "date");
	ck_assert_ptr_nonnull(tsrv_arg(r, "limit"));
	ck_assert_ptr_nonnull(tsrv_arg(r, "fields"));
	r = tsrv_find(e.srv, "GET", "/api/v3/treatments", 0);
	ck_assert_str_eq(tsrv_arg(r, "sort$desc"), "created_at");
	ck_assert_uint_eq(tsrv_count(e.srv, "GET", "/api/v2/authorization/request/"), 1);
	env_stop(&e);
}
END_TEST

/* ---- through the spool ------------------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

START_TEST(test_spooled_drivers_deliver)
{
	const struct nsc_output_driver *drivers[] = { nsc_output_driver_for(NSC_OUTPUT_REST),
						       nsc_output_driver_for(NSC_OUTPUT_REST3) };

	ck_assert_str_eq(drivers[0]->name, "rest");
	ck_assert_str_eq(drivers[1]->name, "rest3");
	for (size_t i = 0; i < 2; i++) {
		struct env e;
		struct nsc_batch b;
		struct nsc_write_result res;
		struct nsc_error err = { 0 };
		char dir[] = "/tmp/nsc-rest-XXXXXX";
		void *ctx = NULL;
		nsc_rc rc;

		env_init(&e, i == 0 ? &V1_SECRET : &V3);
		ck_assert_ptr_nonnull(mkdtemp(dir));
		e.cfg.spool_dir = xstrdup(dir);
		rc = nsc_output_open(drivers[i], &e.cfg, e.log, &ctx, &err);
		ck_assert_msg(rc == NSC_OK, "%s", err.msg);
		make_batch(&b, 0);
		ck_assert_int_eq(drivers[i]->write(ctx, &b, &res, &err), NSC_OK);
		ck_assert_int_eq(nsc_spooled_wait_empty(ctx, 10000), NSC_OK);
		assert_counts(e.ns, 3, 2, 1, 1);
		drivers[i]->close(ctx);
		nsc_batch_clear(&b);
		env_stop(&e);
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
}
END_TEST

static Suite *rest_suite(void)
{
	Suite *s = suite_create("rest");
	TCase *tc = tcase_create("rest");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_classify_table);
	tcase_add_test(tc, test_sha1_hex);
	tcase_add_test(tc, test_server_refuses_plain_secret);
	tcase_add_test(tc, test_open_refuses_missing_settings);
	tcase_add_test(tc, test_v1_secret_writes_all_collections);
	tcase_add_test(tc, test_v1_same_batch_twice_no_duplicates);
	tcase_add_test(tc, test_v1_devicestatus_and_profile_replayed_once);
	tcase_add_test(tc, test_v1_token_in_query);
	tcase_add_test(tc, test_v1_refused_secret_retries_with_message);
	tcase_add_test(tc, test_v1_bad_request_drops_with_message);
	tcase_add_test(tc, test_v1_large_collection_split);
	tcase_add_test(tc, test_v1_server_failures_retry);
	tcase_add_test(tc, test_v1_unreachable_retries);
	tcase_add_test(tc, test_v1_last_known_any_order);
	tcase_add_test(tc, test_v1_endpoint_with_path_prefix);
	tcase_add_loop_test(tc, test_v3_jwt_obtained_once_and_reused, 0, V3_RUNS);
	tcase_add_loop_test(tc, test_v3_revoked_jwt_refreshed_once, 0, V3_RUNS);
	tcase_add_test(tc, test_v3_short_lived_jwt_renewed_before_use);
	tcase_add_loop_test(tc, test_v3_persistent_401_gives_up_after_one_refresh, 0, V3_RUNS);
	tcase_add_test(tc, test_v3_unknown_token_retries_with_message);
	tcase_add_loop_test(tc, test_v3_missing_permission_retries_naming_it, 0, V3_RUNS);
	tcase_add_test(tc, test_v3_bad_request_drops_with_message);
	tcase_add_test(tc, test_v3_after_v1_counts_duplicates);
	tcase_add_test(tc, test_v3_server_failures_retry);
	tcase_add_loop_test(tc, test_v3_concurrent_posts_overlap, 0, V3_RUNS);
	tcase_add_loop_test(tc, test_v3_failure_midway_replay_no_duplicates, 0, V3_RUNS);
	tcase_add_test(tc, test_v3_same_identifier_twice_in_a_batch);
	tcase_add_test(tc, test_v3_last_known_any_order);
	tcase_add_test(tc, test_spooled_drivers_deliver);
	suite_add_tcase(s, tc);
	return s;
}

NSC_CHECK_MAIN(rest_suite)
