/* SPDX-License-Identifier: MIT */
/*
 * One HTTP transfer on a libcurl easy handle, as both REST clients make it
 * (the blocking one, client.h, and the one with several requests at once,
 * client_multi.h): the policy every request follows (http and https only,
 * no redirects followed, connect and total timeouts, TCP keep-alive, our
 * User-Agent, any content encoding), the header list (JSON accepted, JSON
 * sent when there is a body, no `Expect: 100-continue`), and the sink that
 * collects the answer up to a size cap.
 *
 * Set up with nsc_http_transfer_setup(), run the easy handle (perform, or
 * through a multi handle), then nsc_http_transfer_finish() with the
 * result. Between the two the transfer must not move: the easy handle
 * points into it.
 *
 * Ownership & concurrency: a transfer and its easy handle belong to one
 * thread at a time; the response it fills belongs to the caller.
 */
#ifndef NSC_HTTP_TRANSFER_H
#define NSC_HTTP_TRANSFER_H

#include <stddef.h>

#include <curl/curl.h>

#include "error.h"
#include "http/client.h"

/* The longest Retry-After honoured: a week. */
#define NSC_HTTP_MAX_RETRY_AFTER_S (7 * 24 * 3600)

/* Limits a client applies to each of its requests. */
struct nsc_http_limits {
	long connect_ms;
	long total_ms;
	size_t max_response; /* answers larger than this abort (resp->too_large) */
};

/* Sets the defaults of client.h: NSC_HTTP_CONNECT_TIMEOUT_MS, NSC_HTTP_TIMEOUT_MS, NSC_HTTP_MAX_RESPONSE. */
void nsc_http_limits_init(struct nsc_http_limits *l);
/* Values <= 0 keep the current setting. */
void nsc_http_limits_set_timeouts(struct nsc_http_limits *l, long connect_ms, long total_ms);

struct nsc_http_transfer {
	struct nsc_http_response *resp;
	struct curl_slist *headers;
	size_t cap;  /* bytes allocated for resp->body */
	size_t max;  /* the cap on resp->body_len */
	char errbuf[CURL_ERROR_SIZE];
};

/*
 * Resets `easy` (its connection cache stays) and sets it up for one
 * request: `headers` is NULL or a NULL-terminated list of "Name: value"
 * lines (copied); a non-NULL body is sent as application/json and must
 * stay valid until finish. resp is cleared and given an empty body. On
 * failure (NSC_ERR_NOMEM, NSC_ERR_INTERNAL) nothing is left set up; the
 * caller frees resp with nsc_http_response_free() in every case.
 */
nsc_rc nsc_http_transfer_setup(struct nsc_http_transfer *t, CURL *easy,
			       const struct nsc_http_limits *lim, const char *method,
			       const char *url, const char *const *headers, const char *body,
			       size_t body_len, struct nsc_http_response *resp,
			       struct nsc_error *err);

/*
 * After the transfer ended with `rc`: records the status, the time taken
 * and, for a transport failure, curl's words in resp; releases the header
 * list and leaves `easy` without pointers into t.
 */
void nsc_http_transfer_finish(struct nsc_http_transfer *t, CURL *easy, CURLcode rc);

#endif
