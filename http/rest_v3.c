/* SPDX-License-Identifier: MIT */
/*
 * The Nightscout REST API v3 backend (reference/nightscout.md §5): each
 * document is POSTed to /api/v3/<collection> with `Authorization: Bearer
 * <JWT>` (jwt.h), carrying `app` ("nsconnect" unless the document names
 * one), `date` (epoch ms: the entry's date, else created_at), `utcOffset`
 * and the batch's `identifier`. 201 means stored; 200 with
 * isDeduplication means Nightscout already held it. A 400 "Field X cannot
 * be modified" also means it is already held (a document written earlier
 * without the same `app`, e.g. through v1), so it counts as a duplicate.
 *
 * Failures: a 401 gets one new JWT per call, then RETRY with a message
 * about the token; a 403 is a missing permission, named in an error log,
 * and RETRY (the data stays spooled until the operator fixes the role);
 * any other 400 sets the document aside (DROP, after the rest of the batch
 * went); network trouble and 5xx stop the call with RETRY.
 *
 * last_known uses v3 search: the newest few by `date` (entries) or
 * `created_at` (the rest, which v1 writers store without `date`).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "http/jwt.h"
#include "http/rest.h"
#include "http/rest_output.h"

#define V3_APP "nsconnect"

struct v3_ctx {
	struct nsc_rest rest; /* first: nsc_rest_tune() casts the context */
	char *access_token;
	struct nsc_jwt jwt;
};

/* Per write/last_known call: a 401 earns one new JWT. */
struct v3_call_state {
	bool refreshed;
};

static nsc_rc v3_open(const struct nsc_config *cfg, struct nsc_log *log, void **out,
		      struct nsc_error *err)
{
	struct v3_ctx *x;
	nsc_rc rc;

	*out = NULL;
	if (!cfg->nightscout_token || !cfg->nightscout_token[0])
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_NIGHTSCOUT_TOKEN is not set; it is required when "
				     "CONNECT_OUTPUT=rest3 (API v3 does not accept "
				     "CONNECT_API_SECRET); expected a Nightscout access token");
	x = calloc(1, sizeof(*x));
	if (!x)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the rest3 output");
	rc = nsc_rest_init(&x->rest, NSC_REST_V3, cfg, log, err);
	if (rc != NSC_OK) {
		free(x);
		return rc;
	}
	x->access_token = strdup(cfg->nightscout_token);
	if (!x->access_token) {
		nsc_rest_cleanup(&x->rest);
		free(x);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the rest3 output");
	}
	nsc_info(log, NSC_REST_COMP, "event=open api=v3 endpoint=%s auth=jwt", x->rest.base);
	*out = x;
	return NSC_OK;
}

static void v3_close(void *ctx)
{
	struct v3_ctx *x = ctx;

	if (!x)
		return;
	nsc_jwt_clear(&x->jwt, x->rest.log);
	if (x->access_token) {
		explicit_bzero(x->access_token, strlen(x->access_token));
		free(x->access_token);
	}
	nsc_rest_cleanup(&x->rest);
	free(x);
}

static nsc_rc ensure_jwt(struct v3_ctx *x, struct nsc_error *err)
{
	if (nsc_jwt_usable(&x->jwt))
		return NSC_OK;
	return nsc_jwt_fetch(&x->rest, x->access_token, &x->jwt, err);
}

/* A 401 after a fresh JWT, or a 403: the operator must act; the data waits. */
static nsc_rc auth_gave_up(struct v3_ctx *x, const char *what,
			   const struct nsc_http_response *resp, struct nsc_error *err)
{
	char said[256], perm[96];
	const char *p;
	nsc_rc rc;

	nsc_http_server_message(resp, said, sizeof(said));
	if (resp->status == 403) {
		p = strstr(said, "api:");
		snprintf(perm, sizeof(perm), "%.*s", p ? (int)strcspn(p, " ,;)") : 0, p ? p : "");
		rc = nsc_error_set(err, NSC_ERR_RETRY,
				   "Nightscout refused %s: 403 %s; give the subject of "
				   "CONNECT_NIGHTSCOUT_TOKEN a role with the permission %s (Admin "
				   "Tools, Roles; it needs api:<collection>:create and :update for "
				   "every collection it writes); the data stays spooled",
				   what, said[0] ? said : "no message",
				   perm[0] ? perm : "the server names");
		nsc_err(x->rest.log, NSC_REST_COMP,
			"event=permission_missing api=v3 permission=%s msg=\"%s\"",
			perm[0] ? perm : "unknown", err->msg);
		return rc;
	}
	rc = nsc_error_set(err, NSC_ERR_RETRY,
			   "Nightscout refused CONNECT_NIGHTSCOUT_TOKEN: %s answered %ld %s even "
			   "with a new JWT; check the token and its subject's roles on the site "
			   "(Admin Tools); the data stays spooled",
			   what, resp->status, said[0] ? said : "no message");
	nsc_err(x->rest.log, NSC_REST_COMP, "event=auth_refused api=v3 status=%ld msg=\"%s\"",
		resp->status, err->msg);
	return rc;
}

/*
 * One v3 request with the JWT; after a 401 it gets a new JWT once per call
 * and tries again. Returns the classified code; resp holds the answer
 * (the caller frees it in every case).
 */
static nsc_rc v3_call(struct v3_ctx *x, struct v3_call_state *st, const char *what,
		      const char *method, const char *path, const char *query, const char *body,
		      size_t len, struct nsc_http_response *resp, struct nsc_error *err)
{
	for (;;) {
		const char *headers[] = { x->jwt.header, NULL };
		nsc_rc rc;

		rc = nsc_rest_call(&x->rest, what, method, path, query, headers, body, len, resp, err);
		if (rc != NSC_OK)
			return rc;
		rc = nsc_http_classify(NSC_REST_V3, what, resp, err);
		if (rc != NSC_ERR_AUTH)
			return rc;
		if (resp->status != 401 || st->refreshed)
			return auth_gave_up(x, what, resp, err);
		st->refreshed = true;
		nsc_info(x->rest.log, NSC_REST_COMP,
			 "event=jwt_refused msg=\"Nightscout no longer accepts the JWT; getting a new "
			 "one\"");
		nsc_http_response_free(resp);
		rc = nsc_jwt_fetch(&x->rest, x->access_token, &x->jwt, err);
		if (rc != NSC_OK)
			return rc;
	}
}

static nsc_rc set_field(struct json_object *doc, const char *key, struct json_object *v)
{
	if (!v)
		return NSC_ERR_NOMEM;
	if (json_object_object_add(doc, key, v) != 0) {
		json_object_put(v);
		return NSC_ERR_NOMEM;
	}
	return NSC_OK;
}

/* The v3 body of a batch document: app, date and utcOffset added where missing. */
static nsc_rc make_body(struct json_object *doc, struct nsc_strbuf *out, struct nsc_error *err)
{
	struct json_object *copy = NULL, *v = NULL;
	const char *app, *text;
	int64_t t, have;
	size_t len = 0;
	nsc_rc rc = NSC_OK;

	if (nsc_doc_time_ms(doc, &t) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_DROP,
				     "a document has neither a numeric `date` nor a `created_at` time");
	if (json_object_deep_copy(doc, &copy, NULL) != 0 || !copy)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory copying a document");
	if (!nsc_json_get_int64(copy, "date", &have))
		rc = set_field(copy, "date", json_object_new_int64(t));
	if (rc == NSC_OK && (!json_object_object_get_ex(copy, "utcOffset", &v) || !v))
		rc = set_field(copy, "utcOffset", json_object_new_int(0));
	app = nsc_json_get_string(copy, "app");
	if (rc == NSC_OK && (!app || !app[0]))
		rc = set_field(copy, "app", json_object_new_string(V3_APP));
	text = rc == NSC_OK ? json_object_to_json_string_length(copy, NSC_JSON_WIRE, &len) : NULL;
	out->len = 0;
	if (!text || nsc_strbuf_append(out, text, len) != NSC_OK)
		rc = NSC_ERR_NOMEM;
	json_object_put(copy);
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "out of memory preparing a document");
	return NSC_OK;
}

/* 201 -> stored, 200 -> already held. Anything unreadable -> RETRY. */
static nsc_rc count_answer(const char *what, const struct nsc_http_response *resp, bool *stored,
			   struct nsc_error *err)
{
	struct json_object *answer = nsc_json_parse(resp->body, resp->body_len);
	int64_t status = resp->status;

	if (!json_object_is_type(answer, json_type_object)) {
		json_object_put(answer);
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "Nightscout answered %s without its JSON result (a proxy page "
				     "or a cut-off answer?); will retry",
				     what);
	}
	nsc_json_get_int64(answer, "status", &status);
	*stored = status != 200;
	json_object_put(answer);
	return NSC_OK;
}

static nsc_rc v3_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
		       struct nsc_error *err)
{
	struct v3_ctx *x = ctx;
	struct v3_call_state st = { false };
	struct nsc_error first_drop = { 0 }, local;
	struct nsc_strbuf body = { 0 };
	size_t refused[NSC_COLL_COUNT] = { 0 };
	nsc_rc rc;

	if (!err)
		err = &local;
	memset(res, 0, sizeof(*res));
	rc = ensure_jwt(x, err);
	for (int c = 0; c < NSC_COLL_COUNT && rc == NSC_OK; c++) {
		char path[64], what[160];
		size_t n = nsc_batch_count(b, (enum nsc_collection)c);

		snprintf(path, sizeof(path), "/api/v3/%s", nsc_collection_name((enum nsc_collection)c));
		snprintf(what, sizeof(what), "POST %s", path);
		for (size_t i = 0; i < n && rc == NSC_OK; i++) {
			struct nsc_http_response resp = { 0 };
			char said[256];
			bool stored = false;

			rc = make_body(nsc_batch_get(b, (enum nsc_collection)c, i), &body, err);
			if (rc == NSC_OK)
				rc = v3_call(x, &st, what, "POST", path, NULL, body.p, body.len, &resp,
					     err);
			if (rc == NSC_OK) {
				rc = count_answer(what, &resp, &stored, err);
				if (rc == NSC_OK && stored)
					res->stored[c]++;
				else if (rc == NSC_OK)
					res->duplicates[c]++;
			} else if (nsc_rc_verdict(rc) == NSC_VERDICT_DROP) {
				nsc_http_server_message(&resp, said, sizeof(said));
				if (strstr(said, "cannot be modified")) {
					/* Held already, written without the same app/fields. */
					nsc_dbg(x->rest.log, NSC_REST_COMP,
						"event=duplicate_kept collection=%s msg=\"%s\"",
						nsc_collection_name((enum nsc_collection)c), said);
					res->duplicates[c]++;
				} else {
					refused[c]++;
					if (first_drop.code == NSC_OK)
						first_drop = *err;
				}
				rc = NSC_OK;
			}
			nsc_http_response_free(&resp);
		}
	}
	nsc_strbuf_free(&body);
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		if (refused[c])
			nsc_err(x->rest.log, NSC_REST_COMP,
				"event=documents_refused api=v3 collection=%s count=%zu msg=\"%s\"",
				nsc_collection_name((enum nsc_collection)c), refused[c],
				first_drop.msg);
	}
	if (rc != NSC_OK)
		return rc;
	if (first_drop.code != NSC_OK) {
		*err = first_drop;
		return first_drop.code;
	}
	nsc_error_clear(err);
	return NSC_OK;
}

/* The newest few by `date` (entries) or `created_at` (the rest). */
static void v3_page_url(enum nsc_collection c, char *path, size_t path_size, char *query,
			size_t query_size)
{
	const char *field = c == NSC_COLL_ENTRIES ? "date" : "created_at";

	snprintf(path, path_size, "/api/v3/%s", nsc_collection_name(c));
	snprintf(query, query_size, "sort$desc=%s&limit=%d&fields=%s", field,
		 NSC_REST_LAST_KNOWN_PAGE, field);
}

/* One last_known call: the backend and its JWT refresh state. */
struct v3_reading {
	struct v3_ctx *x;
	struct v3_call_state st;
};

static nsc_rc v3_get(void *ctx, const char *what, const char *path, const char *query,
		     struct nsc_http_response *resp, struct nsc_error *err)
{
	struct v3_reading *r = ctx;

	return v3_call(r->x, &r->st, what, "GET", path, query, NULL, 0, resp, err);
}

/* v3 wraps the documents as {"status":200,"result":[...]}; a bare array also counts. */
static struct json_object *v3_page(struct json_object *answer)
{
	struct json_object *page = NULL;

	if (json_object_is_type(answer, json_type_array))
		page = answer;
	else if (json_object_is_type(answer, json_type_object))
		json_object_object_get_ex(answer, "result", &page);
	return page;
}

static const struct nsc_rest_page_reader v3_reader = {
	.url = v3_page_url,
	.get = v3_get,
	.page = v3_page,
	.no_page = "without a result list",
};

static nsc_rc v3_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	struct v3_reading r = { ctx, { false } };
	struct nsc_error local;
	nsc_rc rc;

	if (!err)
		err = &local;
	rc = ensure_jwt(r.x, err);
	if (rc != NSC_OK)
		return rc;
	return nsc_rest_last_known(&r, &v3_reader, out, err);
}

const struct nsc_output_driver nsc_rest_v3_backend = {
	.name = "rest3",
	.open = v3_open,
	.close = v3_close,
	.last_known = v3_last_known,
	.write = v3_write,
};
