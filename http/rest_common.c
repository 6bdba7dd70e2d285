/* SPDX-License-Identifier: MIT */
/* Shared plumbing of the Nightscout REST backends (see rest.h). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "http/rest.h"
#include "secret.h"

static nsc_rc buf_add(struct nsc_strbuf *b, const char *s)
{
	return nsc_strbuf_append(b, s, strlen(s));
}

/* ---- setup -------------------------------------------------------------------- */

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

nsc_rc nsc_rest_init(struct nsc_rest *r, enum nsc_rest_api api, const struct nsc_config *cfg,
		     struct nsc_log *log, struct nsc_error *err)
{
	size_t n;
	nsc_rc rc;

	memset(r, 0, sizeof(*r));
	r->log = log;
	r->api = api;
	r->max_post_bytes = NSC_REST_V1_MAX_POST;
	if (!cfg->nightscout_endpoint || !cfg->nightscout_endpoint[0])
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_NIGHTSCOUT_ENDPOINT is not set; the rest and rest3 "
				     "outputs need the Nightscout site's base URL, e.g. "
				     "https://my-site.example.com");
	r->base = strdup(cfg->nightscout_endpoint);
	if (!r->base)
		goto nomem;
	n = strlen(r->base);
	while (n > 0 && r->base[n - 1] == '/')
		r->base[--n] = '\0';
	r->http = nsc_http_client_new();
	if (!r->http)
		goto nomem;

	if (api == NSC_REST_V3) {
		r->multi = nsc_http_multi_new(cfg->rest_concurrency);
		if (!r->multi)
			goto nomem;
		return NSC_OK;
	}
	if (cfg->api_secret && cfg->api_secret[0]) {
		rc = nsc_http_sha1_hex(cfg->api_secret, r->secret_hash, err);
		if (rc != NSC_OK) {
			nsc_rest_cleanup(r);
			return rc;
		}
		/* The hash opens the site as well as the secret does. */
		if (nsc_log_add_secret(log, r->secret_hash) != NSC_OK)
			goto nomem;
		r->secret_header = concat("api-secret: ", r->secret_hash);
		if (!r->secret_header)
			goto nomem;
	} else if (cfg->nightscout_token && cfg->nightscout_token[0]) {
		char *esc = nsc_http_escape(r->http, cfg->nightscout_token);

		if (!esc)
			goto nomem;
		r->token_query = concat("token=", esc);
		nsc_secret_wipe(esc, strlen(esc));
		free(esc);
		if (!r->token_query)
			goto nomem;
	} else {
		nsc_rest_cleanup(r);
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_API_SECRET is not set; it or CONNECT_NIGHTSCOUT_TOKEN "
				     "is required when CONNECT_OUTPUT=rest");
	}
	return NSC_OK;
nomem:
	nsc_rest_cleanup(r);
	return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory setting up the REST output");
}

void nsc_rest_cleanup(struct nsc_rest *r)
{
	if (r->secret_hash[0]) {
		nsc_log_remove_secret(r->log, r->secret_hash);
		nsc_secret_wipe(r->secret_hash, sizeof(r->secret_hash));
	}
	nsc_secret_free(r->secret_header);
	nsc_secret_free(r->token_query);
	nsc_http_client_free(r->http);
	nsc_http_multi_free(r->multi);
	free(r->base);
	memset(r, 0, sizeof(*r));
}

void nsc_rest_set_progress(void *backend_ctx, void (*fn)(void *arg), void *arg)
{
	struct nsc_rest *r = backend_ctx;
	r->progress = fn;
	r->progress_arg = arg;
}

void nsc_rest_progress(struct nsc_rest *r)
{
	if (r->progress)
		r->progress(r->progress_arg);
}

void nsc_rest_tune(void *backend_ctx, const struct nsc_rest_tuning *t)
{
	/* Both backend contexts start with their struct nsc_rest. */
	struct nsc_rest *r = backend_ctx;

	nsc_http_client_set_timeouts(r->http, t->connect_timeout_ms, t->timeout_ms);
	if (r->multi)
		nsc_http_multi_set_timeouts(r->multi, t->connect_timeout_ms, t->timeout_ms);
	if (t->max_post_bytes > 0)
		r->max_post_bytes = t->max_post_bytes;
}

/* ---- requests --------------------------------------------------------------------- */

nsc_rc nsc_rest_url(const struct nsc_rest *r, const char *what, const char *path,
		    const char *query, struct nsc_strbuf *url, struct nsc_error *err)
{
	nsc_rc rc = buf_add(url, r->base);

	if (rc == NSC_OK)
		rc = buf_add(url, path);
	if (rc == NSC_OK && query && query[0]) {
		rc = buf_add(url, "?");
		if (rc == NSC_OK)
			rc = buf_add(url, query);
	}
	if (rc == NSC_OK && r->api == NSC_REST_V1 && r->token_query) {
		rc = buf_add(url, query && query[0] ? "&" : "?");
		if (rc == NSC_OK)
			rc = buf_add(url, r->token_query);
	}
	if (rc != NSC_OK)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory building the URL for %s",
				     what);
	return NSC_OK;
}

void nsc_rest_log_http(const struct nsc_rest *r, const char *what,
		       const struct nsc_http_response *resp, size_t bytes_out)
{
	nsc_dbg(r->log, NSC_REST_COMP, "event=http call=\"%s\" status=%ld curl=%d bytes_out=%zu "
		"bytes_in=%zu ms=%ld",
		what, resp->status, resp->transport, bytes_out, resp->body_len, resp->elapsed_ms);
}

static void wipe_url(struct nsc_strbuf *url)
{
	if (url->p)
		nsc_secret_wipe(url->p, url->len);
	nsc_strbuf_free(url);
}

nsc_rc nsc_rest_call(struct nsc_rest *r, const char *what, const char *method, const char *path,
		     const char *query, const char *const *headers, const char *body,
		     size_t body_len, struct nsc_http_response *resp, struct nsc_error *err)
{
	struct nsc_strbuf url = { 0 };
	const char *all[8];
	size_t n = 0;
	nsc_rc rc;

	memset(resp, 0, sizeof(*resp));
	rc = nsc_rest_url(r, what, path, query, &url, err);
	if (rc != NSC_OK) {
		wipe_url(&url);
		return rc;
	}

	if (r->api == NSC_REST_V1 && r->secret_header)
		all[n++] = r->secret_header;
	for (size_t i = 0; headers && headers[i]; i++) {
		if (n + 1 >= sizeof(all) / sizeof(all[0])) {
			wipe_url(&url);
			return nsc_error_set(err, NSC_ERR_INTERNAL, "too many headers for %s", what);
		}
		all[n++] = headers[i];
	}
	all[n] = NULL;

	rc = nsc_http_request(r->http, method, url.p, all, body, body_len, resp, err);
	/* The URL may carry the token: wipe it. */
	wipe_url(&url);
	if (rc != NSC_OK)
		return rc;
	nsc_rest_log_http(r, what, resp, body ? body_len : 0);
	return NSC_OK;
}

int64_t nsc_rest_newest(struct json_object *docs)
{
	int64_t newest = 0;
	size_t n = json_object_is_type(docs, json_type_array) ? json_object_array_length(docs) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(docs, i);
		int64_t t;

		if (json_object_is_type(d, json_type_object) && nsc_doc_time_ms(d, &t) == NSC_OK &&
		    t > newest)
			newest = t;
	}
	return newest;
}

/* ---- last known --------------------------------------------------------------- */

nsc_rc nsc_rest_last_known(void *ctx, const struct nsc_rest_page_reader *rd,
			   struct nsc_last_known *out, struct nsc_error *err)
{
	struct nsc_last_known lk = { { 0 } };
	struct nsc_error local;

	if (!err)
		err = &local;
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		struct nsc_http_response resp = { 0 };
		struct json_object *answer, *page;
		char path[64], query[96], what[192];
		nsc_rc rc;

		rd->url((enum nsc_collection)c, path, sizeof(path), query, sizeof(query));
		snprintf(what, sizeof(what), "GET %s?%s", path, query);
		rc = rd->get(ctx, what, path, query, &resp, err);
		if (rc != NSC_OK) {
			nsc_http_response_free(&resp);
			return rc;
		}
		answer = nsc_json_parse(resp.body, resp.body_len);
		nsc_http_response_free(&resp);
		page = rd->page(answer);
		if (!json_object_is_type(page, json_type_array)) {
			json_object_put(answer);
			return nsc_error_set(err, NSC_ERR_RETRY, "Nightscout answered %s %s; will retry",
					     what, rd->no_page);
		}
		lk.ms[c] = nsc_rest_newest(page);
		json_object_put(answer);
	}
	*out = lk;
	nsc_error_clear(err);
	return NSC_OK;
}
