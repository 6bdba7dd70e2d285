/* SPDX-License-Identifier: MIT */
/*
 * Several HTTP requests at once, for a caller that waits for their answers
 * (the REST v3 output on the spool's writer thread): a libcurl multi
 * handle with a fixed number of slots, one easy handle per slot, reused
 * request after request. Connections stay open in the multi handle's
 * connection cache, which every slot shares, so a steady stream of
 * requests runs over at most `slots` kept-alive connections (one, when the
 * server speaks HTTP/2). Each request follows the same policy as the
 * blocking client (client.h, transfer.h): http and https only, no
 * redirects followed, connect and total timeouts, a cap on the answer.
 *
 *   start() a request in a free slot with a tag of the caller's;
 *   next() waits until one of the requests in flight ends and hands back
 *   its tag and answer, in the order they end.
 *
 * Ownership & concurrency: the multi client belongs to one thread at a
 * time. It copies what it is given (URL, headers, body); answers handed
 * out by next() belong to the caller.
 */
#ifndef NSC_HTTP_CLIENT_MULTI_H
#define NSC_HTTP_CLIENT_MULTI_H

#include <stddef.h>

#include "error.h"
#include "http/client.h"

#define NSC_HTTP_MULTI_MAX_SLOTS 16u

struct nsc_http_multi;

/* slots in 1..NSC_HTTP_MULTI_MAX_SLOTS (clamped). NULL on allocation failure. */
struct nsc_http_multi *nsc_http_multi_new(unsigned slots);
/* Aborts anything in flight, then frees. */
void nsc_http_multi_free(struct nsc_http_multi *m);
/* For requests started from now on; values <= 0 keep the current setting. */
void nsc_http_multi_set_timeouts(struct nsc_http_multi *m, long connect_ms, long total_ms);

unsigned nsc_http_multi_slots(const struct nsc_http_multi *m);
unsigned nsc_http_multi_in_flight(const struct nsc_http_multi *m);

/*
 * Starts a request in a free slot: `headers` is NULL or a NULL-terminated
 * list of "Name: value" lines; a non-NULL body is sent as
 * application/json. All are copied. `tag` comes back from next(). Returns
 * NSC_ERR_STATE when every slot is busy, NSC_ERR_NOMEM or NSC_ERR_INTERNAL
 * when the request cannot be set up (nothing started then).
 */
nsc_rc nsc_http_multi_start(struct nsc_http_multi *m, const char *method, const char *url,
			    const char *const *headers, const char *body, size_t body_len,
			    void *tag, struct nsc_error *err);

/*
 * Runs the transfers until one of them ends, then moves its answer into
 * resp (as nsc_http_request() fills it: NSC_OK whatever the outcome) and
 * its tag into *tag; the caller frees resp with nsc_http_response_free().
 * NSC_ERR_STATE when nothing is in flight. When libcurl itself fails
 * (NSC_ERR_NOMEM, NSC_ERR_INTERNAL) every request in flight is aborted
 * and resp is left empty.
 */
nsc_rc nsc_http_multi_next(struct nsc_http_multi *m, void **tag, struct nsc_http_response *resp,
			   struct nsc_error *err);

/* Drops every request in flight, without answers; the slots become free. */
void nsc_http_multi_abort(struct nsc_http_multi *m);

#endif
