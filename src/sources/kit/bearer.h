/* SPDX-License-Identifier: MIT */
/*
 * A bearer token a driver sends as "Authorization: Bearer ..." and the
 * refresh token that renews it (CareLink's Auth0 login, a Nightscout
 * JWT): when to renew, the OAuth refresh request's form body, and reading
 * the OAuth token answer {access_token, refresh_token?, expires_in?}.
 *
 * Expiry is wall-clock epoch ms: the answer's expires_in counted from the
 * caller's now (no clock skew with the server), else the access token's
 * own JWT exp claim, else unknown (an opaque token: a data call's 401
 * says when it is gone). Time is always passed in by the caller.
 *
 * A vendor may rotate the refresh token (Auth0 does): take_answer says so
 * through *rotated, so the driver can save the new one at once (a lost
 * rotated token means the user must log in again by hand). An answer
 * without refresh_token keeps the one held.
 *
 * Both tokens sit in secret slots (redacted while held, wiped when
 * replaced); the header and body built here are secrets too, freed with
 * nsc_secret_free. No error message ever carries a token.
 *
 * Ownership & concurrency: the bearer owns its tokens and belongs to the
 * thread of the driver that embeds it; `log` is borrowed and outlives it.
 * Call nsc_bearer_clear() before dropping one.
 */
#ifndef NSC_SRC_SOURCES_KIT_BEARER_H
#define NSC_SRC_SOURCES_KIT_BEARER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "log.h"
#include "sources/kit/secret_slot.h"

struct nsc_bearer {
	struct nsc_secret_slot access;
	struct nsc_secret_slot refresh;
	int64_t expires_wall_ms; /* when the access token stops working; 0 when not known */
};

void nsc_bearer_init(struct nsc_bearer *b, struct nsc_log *log);
/* Forgets (and wipes) both tokens. */
void nsc_bearer_clear(struct nsc_bearer *b);

/*
 * Holds copies of access and refresh (a token saved earlier); NULL or ""
 * leaves that token as it is. Expiry comes from the access token's exp
 * when it is a JWT, else becomes unknown. NSC_ERR_NOMEM: as take_answer.
 */
nsc_rc nsc_bearer_set(struct nsc_bearer *b, const char *access, const char *refresh);

/* The access token expires `seconds` after now_wall_ms (<= 0: now). */
void nsc_bearer_expires_in(struct nsc_bearer *b, int64_t now_wall_ms, int64_t seconds);

/*
 * True when there is no access token, or it expires within margin_ms of
 * now_wall_ms. An access token of unknown expiry never needs refreshing.
 */
bool nsc_bearer_needs_refresh(const struct nsc_bearer *b, int64_t now_wall_ms, int64_t margin_ms);

/* "Authorization: Bearer <access>" into *out (free with nsc_secret_free); NSC_ERR_STATE without one. */
nsc_rc nsc_bearer_header(const struct nsc_bearer *b, char **out);

/*
 * The form body "grant_type=refresh_token&refresh_token=...&client_id=..."
 * (values escaped; client_id NULL leaves it out) into *out and its length
 * into *len (free with nsc_secret_free). NSC_ERR_STATE without a refresh
 * token, NSC_ERR_NOMEM.
 */
nsc_rc nsc_bearer_refresh_body(const struct nsc_bearer *b, const char *client_id, char **out, size_t *len);

/*
 * Reads an OAuth token answer (json[0, len)). NSC_ERR_PARSE, with err
 * saying what was wrong and the bearer unchanged, when it is not a JSON
 * object or has no access_token string. *rotated (may be NULL) says
 * whether it brought a refresh token other than the one held.
 * NSC_ERR_NOMEM: the new refresh token is taken first, so at worst the
 * old access token stays with its own expiry beside the new refresh token.
 */
nsc_rc nsc_bearer_take_answer(struct nsc_bearer *b, const char *json, size_t len, int64_t now_wall_ms,
			      bool *rotated, struct nsc_error *err);

#endif
