/* SPDX-License-Identifier: MIT */
/*
 * The one claim a driver needs from a JWT it is handed (a CareLink Auth0
 * access token, a Nightscout JWT): `exp`, when the token stops being
 * accepted. The middle segment is base64url-decoded (padding optional)
 * and read as a JSON object; the signature is not checked, because the
 * server that issued the token is the one that checks it, and we only
 * use exp to renew in time.
 *
 * Ownership & concurrency: pure; the decoded claims are wiped before
 * they are freed.
 */
#ifndef NSC_SRC_SOURCES_KIT_JWT_CLAIMS_H
#define NSC_SRC_SOURCES_KIT_JWT_CLAIMS_H

#include <stdint.h>

#include "error.h"

#define NSC_JWT_CLAIMS_MAX (16 * 1024) /* bytes of the encoded middle segment */

/*
 * The exp claim of jwt in epoch ms. NSC_ERR_PARSE when jwt is not three
 * dot-separated segments, the middle one is not base64url of a JSON object,
 * or exp is missing, not a number or not a plausible time; NSC_ERR_NOMEM.
 */
nsc_rc nsc_jwt_claim_exp_ms(const char *jwt, int64_t *exp_ms);

#endif
