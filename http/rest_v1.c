/* SPDX-License-Identifier: MIT */
/*
 * The Nightscout REST API v1 backend (reference/nightscout.md §4): every
 * collection of a batch is POSTed as a JSON array to
 * /api/v1/<collection>.json (split only when the body would pass
 * NSC_REST_V1_MAX_POST), authenticated by the `api-secret` header (SHA-1
 * hex of CONNECT_API_SECRET) or, without a secret, `?token=` with
 * CONNECT_NIGHTSCOUT_TOKEN. Nightscout itself dedups entries on
 * {sysTime, type} and treatments on identifier / {created_at, eventType};
 * devicestatus and profile are plain inserts on its side, so before those
 * are posted Nightscout is asked which of their identifiers it already
 * holds (rest_v1_held.c), and only the others go; the held ones count as
 * duplicates.
 *
 * Counts: v1 answers with the stored documents, and only for entries does
 * it tell new from updated (an `_id` only on inserted ones, §2.1); the
 * other collections count every accepted document as stored.
 *
 * last_known reads a page of the newest documents of each collection and
 * takes the newest time in it, whatever order the server returns. v1 reads
 * only look 4 days back unless asked otherwise (§2.6): older data reads as
 * "nothing yet", and the source then fetches its usual lookback.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "http/rest_output.h"
#include "http/rest_v1.h"

struct v1_ctx {
	struct nsc_rest rest; /* first: nsc_rest_tune() casts the context */
};

static nsc_rc v1_open(const struct nsc_config *cfg, struct nsc_log *log, void **out,
		      struct nsc_error *err)
{
	struct v1_ctx *x = calloc(1, sizeof(*x));
	nsc_rc rc;

	*out = NULL;
	if (!x)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory opening the rest output");
	rc = nsc_rest_init(&x->rest, NSC_REST_V1, cfg, log, err);
	if (rc != NSC_OK) {
		free(x);
		return rc;
	}
	nsc_info(log, NSC_REST_COMP, "event=open api=v1 endpoint=%s auth=%s", x->rest.base,
		 x->rest.secret_header ? "api-secret" : "token");
	*out = x;
	return NSC_OK;
}

static void v1_close(void *ctx)
{
	struct v1_ctx *x = ctx;

	if (!x)
		return;
	nsc_rest_cleanup(&x->rest);
	free(x);
}

/*
 * POSTs one JSON array of `ndocs` documents and counts what Nightscout
 * stored. Any failure returns its classified code with err set.
 */
static nsc_rc post_chunk(struct v1_ctx *x, enum nsc_collection c, const char *body, size_t len,
			 size_t ndocs, struct nsc_write_result *res, struct nsc_error *err)
{
	char path[64], what[160];
	struct json_object *answer;
	size_t inserted = 0, n;
	nsc_rc rc;

	snprintf(path, sizeof(path), "/api/v1/%s.json", nsc_collection_name(c));
	snprintf(what, sizeof(what), "POST %s", path);
	rc = nsc_rest_v1_call_docs(&x->rest, what, "POST", path, NULL, body, len,
				   "without the JSON array of stored documents (a proxy page or a "
				   "cut-off answer?)",
				   &answer, err);
	if (rc != NSC_OK)
		return rc;
	n = json_object_array_length(answer);
	if (c == NSC_COLL_ENTRIES && n == ndocs) {
		for (size_t i = 0; i < n; i++) {
			struct json_object *v = NULL;

			if (json_object_object_get_ex(json_object_array_get_idx(answer, i), "_id", &v))
				inserted++;
		}
		res->stored[c] += inserted;
		res->duplicates[c] += ndocs - inserted;
	} else {
		res->stored[c] += ndocs;
	}
	json_object_put(answer);
	return NSC_OK;
}

/*
 * Writes one collection in as few POSTs as the size limit allows, leaving
 * out the documents Nightscout already holds where it would not dedup
 * them itself.
 */
static nsc_rc write_collection(struct v1_ctx *x, const struct nsc_batch *b, enum nsc_collection c,
			       struct nsc_write_result *res, struct nsc_error *first_drop,
			       struct nsc_error *err)
{
	size_t n = nsc_batch_count(b, c), i = 0, nheld = 0;
	struct nsc_strbuf body = { 0 };
	bool *held = NULL;
	nsc_rc rc = NSC_OK;

	if (n > 0 && !nsc_rest_v1_dedups(c)) {
		held = calloc(n, sizeof(*held));
		if (!held)
			return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory checking the %s documents",
					     nsc_collection_name(c));
		rc = nsc_rest_v1_find_held(&x->rest, b, c, held, &nheld, err);
		if (rc != NSC_OK) {
			free(held);
			return rc;
		}
		res->duplicates[c] += nheld;
	}
	while (i < n) {
		size_t ndocs = 0, next = i;

		body.len = 0;
		rc = nsc_strbuf_append(&body, "[", 1);
		while (rc == NSC_OK && next < n) {
			size_t len = 0;
			const char *doc;

			if (held && held[next]) {
				next++;
				continue;
			}
			doc = json_object_to_json_string_length(nsc_batch_get(b, c, next),
								NSC_JSON_WIRE, &len);
			if (!doc) {
				rc = NSC_ERR_NOMEM;
				break;
			}
			/* Keep at least one document per POST; stop before passing the limit. */
			if (ndocs > 0 && body.len + len + 2 > x->rest.max_post_bytes)
				break;
			if (ndocs > 0)
				rc = nsc_strbuf_append(&body, ",", 1);
			if (rc == NSC_OK)
				rc = nsc_strbuf_append(&body, doc, len);
			ndocs++;
			next++;
		}
		if (rc == NSC_OK)
			rc = nsc_strbuf_append(&body, "]", 1);
		if (rc != NSC_OK) {
			rc = nsc_error_set(err, rc, "out of memory building the %s request body",
					   nsc_collection_name(c));
			break;
		}
		if (ndocs == 0)
			break; /* the rest is held already */

		rc = post_chunk(x, c, body.p, body.len, ndocs, res, err);
		if (rc == NSC_OK || nsc_rc_verdict(rc) == NSC_VERDICT_DROP)
			nsc_rest_progress(&x->rest); /* answered: this part is through */
		if (rc != NSC_OK && nsc_rc_verdict(rc) == NSC_VERDICT_DROP) {
			nsc_err(x->rest.log, NSC_REST_COMP,
				"event=documents_refused api=v1 collection=%s count=%zu msg=\"%s\"",
				nsc_collection_name(c), ndocs, err->msg);
			if (first_drop->code == NSC_OK)
				*first_drop = *err;
			rc = NSC_OK; /* the other documents still go */
		} else if (rc != NSC_OK) {
			break;
		}
		i = next;
	}
	nsc_strbuf_free(&body);
	free(held);
	return rc;
}

static nsc_rc v1_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
		       struct nsc_error *err)
{
	struct v1_ctx *x = ctx;
	struct nsc_error first_drop = { 0 }, local;

	if (!err)
		err = &local;
	memset(res, 0, sizeof(*res));
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		nsc_rc rc = write_collection(x, b, (enum nsc_collection)c, res, &first_drop, err);

		if (rc != NSC_OK)
			return rc;
	}
	if (first_drop.code != NSC_OK) {
		*err = first_drop;
		return first_drop.code;
	}
	nsc_error_clear(err);
	return NSC_OK;
}

static void v1_page_url(enum nsc_collection c, char *path, size_t path_size, char *query,
			size_t query_size)
{
	snprintf(path, path_size, "/api/v1/%s.json", nsc_collection_name(c));
	snprintf(query, query_size, "count=%d", NSC_REST_LAST_KNOWN_PAGE);
}

static nsc_rc v1_get(void *ctx, const char *what, const char *path, const char *query,
		     struct nsc_http_response *resp, struct nsc_error *err)
{
	struct v1_ctx *x = ctx;

	return nsc_rest_v1_call(&x->rest, what, "GET", path, query, NULL, 0, resp, err);
}

/* v1 answers with the array of documents itself. */
static struct json_object *v1_page(struct json_object *answer)
{
	return json_object_is_type(answer, json_type_array) ? answer : NULL;
}

static const struct nsc_rest_page_reader v1_reader = {
	.url = v1_page_url,
	.get = v1_get,
	.page = v1_page,
	.no_page = "with something that is not a JSON array of documents",
};

static nsc_rc v1_last_known(void *ctx, struct nsc_last_known *out, struct nsc_error *err)
{
	return nsc_rest_last_known(ctx, &v1_reader, out, err);
}

const struct nsc_output_driver nsc_rest_v1_backend = {
	.name = "rest",
	.open = v1_open,
	.close = v1_close,
	.last_known = v1_last_known,
	.write = v1_write,
	.set_progress = nsc_rest_set_progress,
	.diagnose = nsc_rest_v1_diagnose,
};
