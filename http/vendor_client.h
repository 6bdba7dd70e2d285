/* SPDX-License-Identifier: MIT */
/*
 * One asynchronous HTTP request of a source driver, on the engine's loop
 * (never blocking it): build the request, start it, and get the whole
 * answer in a callback on the loop thread. A driver holds one call per
 * request it may have in flight (steps run one at a time, so one is
 * usually enough) and aborts it from its `cancel`.
 *
 * Each request is set up by transfer.h, like the REST clients' (http and
 * https only, redirects not followed: a vendor's redirect means the
 * configured server is wrong, and following it could carry credentials
 * elsewhere). The answer is the same struct nsc_http_response, body
 * capped at NSC_VENDOR_MAX_BODY (longer fails as a transport error), with
 * Retry-After, Content-Type and every Set-Cookie. Transport failures read
 * through nsc_vendor_transport_rc(). Nothing here logs a header or a body.
 *
 * This header does not include curl: drivers never see it.
 *
 * Ownership & concurrency: a call belongs to the loop thread. Request
 * headers and body are copied at start (and wiped when released); the
 * response passed to `done` is valid only during the callback.
 */
#ifndef NSC_HTTP_VENDOR_CLIENT_H
#define NSC_HTTP_VENDOR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "http/client.h"

struct nsc_loop;

#define NSC_VENDOR_MAX_BODY (16u * 1024u * 1024u)
#define NSC_VENDOR_MAX_HEADERS 16
#define NSC_VENDOR_TIMEOUT_MS 30000   /* whole request, unless the request says otherwise */
#define NSC_VENDOR_CONNECT_TIMEOUT_MS 10000

struct nsc_vendor_request {
	const char *method;         /* "GET" or "POST" */
	const char *url;            /* full URL with query (the caller escapes it) */
	const char *headers[NSC_VENDOR_MAX_HEADERS]; /* "Name: value", NULL-terminated */
	const char *body;           /* POST body or NULL (sent as empty) */
	size_t body_len;
	long timeout_ms;            /* 0: NSC_VENDOR_TIMEOUT_MS */
};

/* Runs on the loop when the request ended; resp is valid only during the call. */
typedef void (*nsc_vendor_done_fn)(void *arg, struct nsc_http_response *resp);

struct nsc_vendor_call;

/* NULL when out of memory. */
struct nsc_vendor_call *nsc_vendor_call_new(struct nsc_loop *loop);
/* Aborts a running request (without calling done) and frees everything; NULL is harmless. */
void nsc_vendor_call_free(struct nsc_vendor_call *c);

/*
 * Starts the request; `done` runs later on the loop, exactly once, unless
 * nsc_vendor_call_cancel() comes first. NSC_ERR_STATE if one is running.
 */
nsc_rc nsc_vendor_call_start(struct nsc_vendor_call *c, const struct nsc_vendor_request *rq,
			     nsc_vendor_done_fn done, void *arg, struct nsc_error *err);
/* Aborts a running request without calling done; harmless when idle. */
void nsc_vendor_call_cancel(struct nsc_vendor_call *c);
bool nsc_vendor_call_running(const struct nsc_vendor_call *c);

/*
 * NSC_OK when an HTTP answer arrived; otherwise NSC_ERR_RETRY with err
 * saying, for `who` (e.g. "Dexcom Share"), what went wrong on the way
 * (transport.h's words, the same the REST outputs use).
 */
nsc_rc nsc_vendor_transport_rc(const struct nsc_http_response *resp, const char *who,
			       struct nsc_error *err);

/* Copies the start of the body for a message: printable ASCII only, at most size-1 bytes. */
void nsc_vendor_body_excerpt(const struct nsc_http_response *resp, char *buf, size_t size);

/* s escaped for a URL path or query (malloc'd, caller frees); NULL when out of memory. */
char *nsc_vendor_escape(const char *s);

#endif
