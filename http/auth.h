/* SPDX-License-Identifier: MIT */
/*
 * Nightscout API secret handling: the `api-secret` header carries the
 * lower-case hex SHA-1 of API_SECRET, never the secret itself
 * (reference/nightscout.md §4.2). The hash is as good as the secret for
 * API v1, so callers register it with the logger as a secret too.
 */
#ifndef NSC_HTTP_AUTH_H
#define NSC_HTTP_AUTH_H

#include "error.h"

#define NSC_SHA1_HEX_LEN 40
#define NSC_SHA1_HEX_BUF (NSC_SHA1_HEX_LEN + 1)

/* Lower-case hex SHA-1 of `secret` (libcrypto EVP). */
nsc_rc nsc_http_sha1_hex(const char *secret, char out[NSC_SHA1_HEX_BUF], struct nsc_error *err);

#endif
