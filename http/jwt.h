/* SPDX-License-Identifier: MIT */
/*
 * The JWT that API v3 needs (reference/nightscout.md §5.2, §6.3): obtained
 * by exchanging the access token CONNECT_NIGHTSCOUT_TOKEN at
 * /api/v2/authorization/request/<token>, sent as `Authorization: Bearer`.
 * Its lifetime (exp - iat, 8 h on current servers) is counted on the
 * monotonic clock from the moment it arrived, so clock skew between us and
 * the server does not matter. Each JWT is registered with the logger as a
 * secret and forgotten when replaced.
 *
 * Ownership & concurrency: belongs to one backend context, one thread.
 */
#ifndef NSC_HTTP_JWT_H
#define NSC_HTTP_JWT_H

#include <stdbool.h>
#include <stdint.h>

#include "http/rest.h"

/* A JWT with less than this left is replaced before use. */
#define NSC_JWT_REFRESH_MARGIN_MS (10 * 60 * 1000)

struct nsc_jwt {
	char *token;             /* NULL until the first exchange */
	char *header;            /* "Authorization: Bearer <token>" */
	int64_t expires_mono_ms; /* CLOCK_MONOTONIC ms */
};

/* True when there is a JWT with more than the margin left. */
bool nsc_jwt_usable(const struct nsc_jwt *j);

/*
 * Exchanges access_token for a new JWT and replaces j's. On failure j keeps
 * what it had and the code says what to do: RETRY for every server or
 * network problem, including a refused token (logged at error level with
 * what to check; data stays spooled).
 */
nsc_rc nsc_jwt_fetch(struct nsc_rest *r, const char *access_token, struct nsc_jwt *j,
		     struct nsc_error *err);

void nsc_jwt_clear(struct nsc_jwt *j, struct nsc_log *log);

#endif
