/* SPDX-License-Identifier: MIT */
/* The exp claim of a JWT (see jwt_claims.h). */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "secret.h"
#include "sources/kit/json_secret.h"
#include "sources/kit/jwt_claims.h"
#include "timeutil.h"

/* exp beyond this (about the year 33658) is not a time a server means. */
#define EXP_MAX_S 1e12

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes s[0, n) into out (room for n * 3 / 4 bytes); false when it is not base64url. */
static bool b64url_decode(const char *s, size_t n, unsigned char *out, size_t *out_len)
{
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return false;
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value(s[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*out_len = o;
	return true;
}

nsc_rc nsc_jwt_claim_exp_ms(const char *jwt, int64_t *exp_ms)
{
	const char *dot1 = jwt ? strchr(jwt, '.') : NULL;
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL || dot1 == jwt)
		return NSC_ERR_PARSE;
	const char *mid = dot1 + 1;
	size_t n = (size_t)(dot2 - mid);
	if (n == 0 || n > NSC_JWT_CLAIMS_MAX)
		return NSC_ERR_PARSE;
	unsigned char *buf = malloc(n * 3 / 4 + 1);
	if (buf == NULL)
		return NSC_ERR_NOMEM;
	size_t len = 0;
	nsc_rc rc = NSC_ERR_PARSE;
	if (b64url_decode(mid, n, buf, &len)) {
		struct json_object *claims = nsc_json_parse((const char *)buf, len);
		double exp;
		if (claims != NULL && json_object_is_type(claims, json_type_object) &&
		    nsc_json_get_number(claims, "exp", &exp) && exp > 0 && exp < EXP_MAX_S) {
			*exp_ms = (int64_t)(exp * (double)NSC_MS_PER_SECOND);
			rc = NSC_OK;
		}
		/* Claims name the account (sub, email): not a credential, still not left behind. */
		nsc_json_secret_put(claims);
	}
	nsc_secret_wipe(buf, n * 3 / 4 + 1);
	free(buf);
	return rc;
}
