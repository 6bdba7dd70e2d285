/* SPDX-License-Identifier: MIT */
/*
 * A small blocking HTTP client over one libcurl easy handle: one request
 * at a time, keep-alive across requests (the handle keeps its connection
 * cache), connect and total timeouts, a cap on the response size, no
 * redirects followed (a redirect is reported, so credentials never travel
 * to another host). For the REST outputs, which run on a writer thread.
 * Each request is set up by transfer.h, which client_multi.h (several
 * requests at once) shares.
 *
 * The host must have called curl_global_init() before the first client is
 * made (the CLI does; tests do it in their main).
 *
 * Ownership & concurrency: a client belongs to one thread at a time.
 */
#ifndef NSC_HTTP_CLIENT_H
#define NSC_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define NSC_HTTP_CONNECT_TIMEOUT_MS 10000L
#define NSC_HTTP_TIMEOUT_MS 30000L
#define NSC_HTTP_MAX_RESPONSE (32u * 1024u * 1024u)
#define NSC_HTTP_TRANSPORT_MSG_MAX 256
#define NSC_HTTP_CONTENT_TYPE_MAX 96
#define NSC_HTTP_MAX_SET_COOKIES 16

struct nsc_http_client;

/* What came back. `transport` is a CURLcode (0 when an HTTP answer arrived). */
struct nsc_http_response {
	int transport;
	char transport_msg[NSC_HTTP_TRANSPORT_MSG_MAX]; /* curl's words for a transport failure */
	long status;                                    /* HTTP status, 0 when none */
	char *body;                                     /* NUL-terminated, never NULL after a call */
	size_t body_len;
	bool too_large;                                 /* body went past the cap; transfer aborted */
	long elapsed_ms;                                /* how long the transfer took */
	int64_t retry_after_ms;                         /* Retry-After (seconds form), -1 when absent */
	char content_type[NSC_HTTP_CONTENT_TYPE_MAX];   /* "" when absent */
	/* Every Set-Cookie value, in order (at most NSC_HTTP_MAX_SET_COOKIES); wiped when freed. */
	char *set_cookie[NSC_HTTP_MAX_SET_COOKIES];
	size_t set_cookie_count;
};

struct nsc_http_client *nsc_http_client_new(void); /* NULL on allocation failure */
void nsc_http_client_free(struct nsc_http_client *c);
/* Values <= 0 keep the current setting. */
void nsc_http_client_set_timeouts(struct nsc_http_client *c, long connect_ms, long total_ms);

/*
 * Performs one request. `headers` is NULL or a NULL-terminated list of
 * "Name: value" lines; a non-NULL body is sent as application/json.
 * Returns NSC_OK when the request ran, whatever the outcome (see resp), or
 * NSC_ERR_NOMEM / NSC_ERR_INTERNAL when it could not be set up. The caller
 * frees resp with nsc_http_response_free() in every case.
 */
nsc_rc nsc_http_request(struct nsc_http_client *c, const char *method, const char *url,
			const char *const *headers, const char *body, size_t body_len,
			struct nsc_http_response *resp, struct nsc_error *err);
void nsc_http_response_free(struct nsc_http_response *resp);

/* Percent-encodes s for a URL path segment or query value (malloc'd, NULL on failure); c may be NULL. */
char *nsc_http_escape(struct nsc_http_client *c, const char *s);

#endif
