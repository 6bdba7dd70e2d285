/* SPDX-License-Identifier: MIT */
/*
 * Inside the REST v3 backend: its context and the JWT handling that its
 * two halves share, rest_v3.c (open, close, JWT, last_known, the driver)
 * and rest_v3_write.c (the batch upload, several POSTs at once).
 *
 * Ownership & concurrency: a context belongs to one thread at a time (the
 * spool's writer thread after open).
 */
#ifndef NSC_HTTP_REST_V3_H
#define NSC_HTTP_REST_V3_H

#include "http/jwt.h"
#include "http/rest.h"

struct nsc_rest_v3 {
	struct nsc_rest rest; /* first: nsc_rest_tune() casts the context */
	char *access_token;
	struct nsc_jwt jwt;
};

/* A JWT with time left, exchanged for the access token when there is none. */
nsc_rc nsc_rest_v3_ensure_jwt(struct nsc_rest_v3 *x, struct nsc_error *err);

/* After a 401: says so in the log, then exchanges the access token for a new JWT. */
nsc_rc nsc_rest_v3_renew_jwt(struct nsc_rest_v3 *x, struct nsc_error *err);

/*
 * A 401 after a fresh JWT, or a 403: logs at error level what the operator
 * must fix and returns NSC_ERR_RETRY with err saying it (the data waits).
 */
nsc_rc nsc_rest_v3_auth_gave_up(struct nsc_rest_v3 *x, const char *what,
				const struct nsc_http_response *resp, struct nsc_error *err);

/* The backend's write(): see rest_v3_write.c. */
nsc_rc nsc_rest_v3_write(void *ctx, const struct nsc_batch *b, struct nsc_write_result *res,
			 struct nsc_error *err);

#endif
