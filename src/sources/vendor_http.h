/* SPDX-License-Identifier: MIT */
/*
 * One asynchronous HTTP request of a source driver, on the engine's loop
 * (never blocking it): build the request, start it, and get the whole
 * answer in a callback on the loop thread. A driver embeds one
 * `struct nsc_vendor_call` per request it may have in flight (steps run one
 * at a time, so one is usually enough) and aborts it from its `cancel`.
 *
 * Redirects are not followed: a vendor's redirect means the configured
 * server is wrong, and following it could carry credentials elsewhere.
 * The body is capped (NSC_VENDOR_MAX_BODY); a longer answer fails as a
 * transport error. Nothing here logs a header or a body.
 *
 * Transport failures map to NSC_ERR_RETRY through nsc_vendor_transport_rc(),
 * with plain words ("cannot reach share2.dexcom.com: timed out after 30 s").
 */
#ifndef NSC_SRC_SOURCES_VENDOR_HTTP_H
#define NSC_SRC_SOURCES_VENDOR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "engine/loop.h"
#include "error.h"

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

struct nsc_vendor_response {
	CURLcode transport;         /* CURLE_OK when an HTTP answer arrived in full */
	char transport_error[CURL_ERROR_SIZE];
	long status;                /* HTTP status, 0 without an answer */
	char *body;                 /* NUL-terminated, may be empty; owned by the call */
	size_t body_len;
	int64_t retry_after_ms;     /* from Retry-After (seconds form), -1 when absent */
	char content_type[96];      /* "" when absent */
	double elapsed_s;
};

struct nsc_vendor_call;
/* Runs on the loop when the request ended; resp is valid only during the call. */
typedef void (*nsc_vendor_done_fn)(void *arg, struct nsc_vendor_response *resp);

struct nsc_vendor_call {
	struct nsc_loop_transfer transfer; /* first: the loop hands it back */
	struct nsc_loop *loop;
	struct curl_slist *headers;
	char *request_body;
	struct nsc_vendor_response resp;
	size_t body_cap;
	bool overflow;
	bool running;
	nsc_vendor_done_fn done;
	void *arg;
};

void nsc_vendor_call_init(struct nsc_vendor_call *c, struct nsc_loop *loop);
/* Aborts a running request (without calling done) and frees everything. */
void nsc_vendor_call_fini(struct nsc_vendor_call *c);

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
 * saying, for `who` (e.g. "Dexcom Share"), what went wrong on the way.
 */
nsc_rc nsc_vendor_transport_rc(const struct nsc_vendor_response *resp, const char *who,
			       struct nsc_error *err);

/* Copies the start of the body for a message: printable ASCII only, at most size-1 bytes. */
void nsc_vendor_body_excerpt(const struct nsc_vendor_response *resp, char *buf, size_t size);

#endif
