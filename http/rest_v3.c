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
 * went); network trouble and 5xx stop the call with RETRY. The write
 * itself, several POSTs at once, is rest_v3_write.c.
 *
 * last_known uses v3 search: the newest few by `date` (entries) or
 * `created_at` (the rest, which v1 writers store without `date`).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/rest_output.h"
#include "http/rest_v3.h"
#include "secret.h"

/* Per last_known call: a 401 earns one new JWT (the write keeps its own, rest_v3_write.c). */
struct v3_call_state {
	bool refreshed;
};

static nsc_rc v3_open(const struct nsc_config *cfg, struct nsc_log *log, void **out,
		      struct nsc_error *err)
{
	struct nsc_rest_v3 *x;
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
	nsc_info(log, NSC_REST_COMP, "event=open api=v3 endpoint=%s auth=jwt concurrency=%u",
		 x->rest.base, nsc_http_multi_slots(x->rest.multi));
	*out = x;
	return NSC_OK;
}

static void v3_close(void *ctx)
{
	struct nsc_rest_v3 *x = ctx;

	if (!x)
		return;
	nsc_jwt_clear(&x->jwt, x->rest.log);
	nsc_secret_free(x->access_token);
	nsc_rest_cleanup(&x->rest);
	free(x);
}

nsc_rc nsc_rest_v3_ensure_jwt(struct nsc_rest_v3 *x, struct nsc_error *err)
{
	if (nsc_jwt_usable(&x->jwt))
		return NSC_OK;
	return nsc_jwt_fetch(&x->rest, x->access_token, &x->jwt, err);
}

nsc_rc nsc_rest_v3_renew_jwt(struct nsc_rest_v3 *x, struct nsc_error *err)
{
	nsc_info(x->rest.log, NSC_REST_COMP,
		 "event=jwt_refused msg=\"Nightscout no longer accepts the JWT; getting a new one\"");
	return nsc_jwt_fetch(&x->rest, x->access_token, &x->jwt, err);
}

/* The operator must act; the data waits. */
nsc_rc nsc_rest_v3_auth_gave_up(struct nsc_rest_v3 *x, const char *what,
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
static nsc_rc v3_call(struct nsc_rest_v3 *x, struct v3_call_state *st, const char *what,
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
			return nsc_rest_v3_auth_gave_up(x, what, resp, err);
		st->refreshed = true;
		nsc_http_response_free(resp);
		rc = nsc_rest_v3_renew_jwt(x, err);
		if (rc != NSC_OK)
			return rc;
	}
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
	struct nsc_rest_v3 *x;
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
	rc = nsc_rest_v3_ensure_jwt(r.x, err);
	if (rc != NSC_OK)
		return rc;
	return nsc_rest_last_known(&r, &v3_reader, out, err);
}

const struct nsc_output_driver nsc_rest_v3_backend = {
	.name = "rest3",
	.open = v3_open,
	.close = v3_close,
	.last_known = v3_last_known,
	.write = nsc_rest_v3_write,
	.set_progress = nsc_rest_set_progress,
	.diagnose = nsc_rest_v3_diagnose,
};
