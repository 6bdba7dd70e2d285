/* SPDX-License-Identifier: MIT */
/*
 * What the Nightscout REST backends (rest_v1.c, rest_v3.c) share: the
 * endpoint, the HTTP clients (the blocking one, and for v3 the one that
 * runs several requests at once), v1 credentials, URL building, one
 * request with logging, reading the newest document time out of a page,
 * and the last_known loop over the collections.
 *
 * Ownership & concurrency: a struct nsc_rest belongs to one backend
 * context, used by one thread at a time (the spool's writer thread after
 * open).
 */
#ifndef NSC_HTTP_REST_H
#define NSC_HTTP_REST_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "batch.h"
#include "http/auth.h"
#include "http/classify.h"
#include "http/client.h"
#include "http/client_multi.h"
#include "log.h"
#include "nsc_config.h"
#include "output.h"
#include "strbuf.h"

#define NSC_REST_COMP "rest"
/* v1 POST bodies are split beyond this (Nightscout takes 1 MB for devicestatus/profile). */
#define NSC_REST_V1_MAX_POST (512u * 1024u)
/* Documents read back per collection for last-known; the newest of them counts. */
#define NSC_REST_LAST_KNOWN_PAGE 10

struct nsc_rest {
	struct nsc_log *log;
	struct nsc_http_client *http;
	struct nsc_http_multi *multi;           /* v3: a write's POSTs, CONNECT_REST_CONCURRENCY at once */
	enum nsc_rest_api api;
	char *base;                             /* endpoint, no trailing slash */
	char secret_hash[NSC_SHA1_HEX_BUF];     /* v1: SHA-1 hex of CONNECT_API_SECRET, or "" */
	char *secret_header;                    /* v1: "api-secret: <hash>", or NULL */
	char *token_query;                      /* v1 without secret: "token=<escaped>", or NULL */
	size_t max_post_bytes;
	void (*progress)(void *arg);            /* told after each part of a write that got in */
	void *progress_arg;
};

/* The backends' set_progress op (both keep a struct nsc_rest first in their context). */
void nsc_rest_set_progress(void *backend_ctx, void (*fn)(void *arg), void *arg);
/* A part of a write got in (a POST answered): tells whoever waits. */
void nsc_rest_progress(struct nsc_rest *r);

/*
 * Test hook: a backend context (from nsc_rest_v1_backend.open or
 * nsc_rest_v3_backend.open) takes shorter timeouts (for both of its HTTP
 * clients) or a smaller v1 POST size. Zero fields keep the current value.
 */
struct nsc_rest_tuning {
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_post_bytes;
};
void nsc_rest_tune(void *backend_ctx, const struct nsc_rest_tuning *t);

/*
 * Sets up r for cfg: checks the endpoint, makes the client (for v3 also
 * the multi client with cfg->rest_concurrency slots), and for v1 hashes
 * the API secret (registered with the logger) or prepares the token query.
 * NSC_ERR_CONFIG names the missing setting.
 */
nsc_rc nsc_rest_init(struct nsc_rest *r, enum nsc_rest_api api, const struct nsc_config *cfg,
		     struct nsc_log *log, struct nsc_error *err);
void nsc_rest_cleanup(struct nsc_rest *r);

/*
 * One request to base + path [+ "?" query], with v1 credentials added for
 * v1 and `headers` (NULL-terminated, may be NULL) for the rest. Logs the
 * call at debug level as `what` (which must hold no credential). Returns
 * NSC_OK when the request ran (resp says how it went); the caller frees
 * resp in every case.
 */
nsc_rc nsc_rest_call(struct nsc_rest *r, const char *what, const char *method, const char *path,
		     const char *query, const char *const *headers, const char *body,
		     size_t body_len, struct nsc_http_response *resp, struct nsc_error *err);

/*
 * The URL of base + path [+ "?" query], with the v1 token query added for
 * v1. The caller wipes (it may hold the token) and frees it in every case.
 */
nsc_rc nsc_rest_url(const struct nsc_rest *r, const char *what, const char *path,
		    const char *query, struct nsc_strbuf *url, struct nsc_error *err);

/* Logs one finished request at debug level (`what` holds no credential). */
void nsc_rest_log_http(const struct nsc_rest *r, const char *what,
		       const struct nsc_http_response *resp, size_t bytes_out);

/* Newest document time (ms) of a JSON array of documents; 0 when none has a time. */
int64_t nsc_rest_newest(struct json_object *docs);

/* How one backend reads back the newest page of documents of a collection. */
struct nsc_rest_page_reader {
	/* Fills path and query (no "?") of the request for collection c. */
	void (*url)(enum nsc_collection c, char *path, size_t path_size, char *query,
		    size_t query_size);
	/*
	 * Runs the GET for the backend context and classifies it (logging any
	 * refusal the backend logs). Returns the classified code; resp holds the
	 * answer and the caller frees it in every case.
	 */
	nsc_rc (*get)(void *ctx, const char *what, const char *path, const char *query,
		      struct nsc_http_response *resp, struct nsc_error *err);
	/* The JSON array of documents inside a parsed answer (owned by it), or NULL. */
	struct json_object *(*page)(struct json_object *answer);
	/* What an answer without it lacks, after "Nightscout answered GET <path>?<query> ". */
	const char *no_page;
};

/*
 * last_known for a REST backend: per collection, one GET through `rd`, and
 * the newest time in the page it returns (0 when none). An answer without a
 * page is NSC_ERR_RETRY; any other failure returns the classified code with
 * err set. err may be NULL.
 */
nsc_rc nsc_rest_last_known(void *ctx, const struct nsc_rest_page_reader *rd,
			   struct nsc_last_known *out, struct nsc_error *err);


#endif
