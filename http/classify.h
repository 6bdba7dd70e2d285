/* SPDX-License-Identifier: MIT */
/*
 * What an HTTP outcome means for a Nightscout REST call, as an nsc_rc the
 * engine (or the spool) acts on, with a message in plain words:
 *
 *   transport failure (timeout, refused, reset, TLS, cut-off body) -> RETRY
 *   2xx -> OK;  3xx -> RETRY (a redirect is not followed: fix the URL)
 *   5xx, 408, 429, 404 and other unexpected answers -> RETRY
 *   400, 413, 422 and other 4xx -> DROP with the server's message
 *   401/403: v1 -> RETRY ("Nightscout refused CONNECT_API_SECRET / ...");
 *            v3 -> AUTH (the caller refreshes its JWT once, then gives up
 *            with RETRY, see rest_v3.c)
 *
 * RETRY keeps the data spooled; DROP sets the batch aside.
 */
#ifndef NSC_HTTP_CLASSIFY_H
#define NSC_HTTP_CLASSIFY_H

#include <stddef.h>

#include "error.h"
#include "http/client.h"

enum nsc_rest_api {
	NSC_REST_V1,
	NSC_REST_V3,
};

/*
 * `what` names the call for the message ("POST /api/v1/entries.json"); it
 * must not contain credentials.
 */
nsc_rc nsc_http_classify(enum nsc_rest_api api, const char *what,
			 const struct nsc_http_response *resp, struct nsc_error *err);

/*
 * The server's own words from an error body: `message` (plus `description`)
 * of a JSON body, else the start of the text with control characters
 * replaced; "" when the body is empty.
 */
void nsc_http_server_message(const struct nsc_http_response *resp, char *buf, size_t size);

#endif
