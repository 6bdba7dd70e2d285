/* SPDX-License-Identifier: MIT */
/* A bearer token and its refresh token (see bearer.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http/vendor_client.h"
#include "jsonutil.h"
#include "secret.h"
#include "sources/kit/bearer.h"
#include "sources/kit/json_secret.h"
#include "sources/kit/jwt_claims.h"
#include "timeutil.h"

#define HEADER_PREFIX "Authorization: Bearer "
#define BODY_GRANT "grant_type=refresh_token&refresh_token="
#define BODY_CLIENT "&client_id="

void nsc_bearer_init(struct nsc_bearer *b, struct nsc_log *log)
{
	nsc_secret_slot_init(&b->access, log);
	nsc_secret_slot_init(&b->refresh, log);
	b->expires_wall_ms = 0;
}

void nsc_bearer_clear(struct nsc_bearer *b)
{
	nsc_secret_slot_forget(&b->access);
	nsc_secret_slot_forget(&b->refresh);
	b->expires_wall_ms = 0;
}

static int64_t jwt_expiry(const char *access)
{
	int64_t exp = 0;
	return nsc_jwt_claim_exp_ms(access, &exp) == NSC_OK ? exp : 0;
}

/* Refresh first: of the two, a rotated refresh token is the one that cannot be had again. */
static nsc_rc hold(struct nsc_bearer *b, const char *access, const char *refresh, int64_t expires,
		   bool *refresh_taken)
{
	*refresh_taken = false;
	if (refresh != NULL && refresh[0] != '\0') {
		if (nsc_secret_slot_keep(&b->refresh, refresh) != NSC_OK)
			return NSC_ERR_NOMEM;
		*refresh_taken = true;
	}
	if (access == NULL || access[0] == '\0')
		return NSC_OK;
	if (nsc_secret_slot_keep(&b->access, access) != NSC_OK)
		return NSC_ERR_NOMEM;
	b->expires_wall_ms = expires;
	return NSC_OK;
}

nsc_rc nsc_bearer_set(struct nsc_bearer *b, const char *access, const char *refresh)
{
	bool taken;
	return hold(b, access, refresh, access != NULL ? jwt_expiry(access) : 0, &taken);
}

static int64_t after(int64_t now_wall_ms, int64_t seconds)
{
	if (seconds <= 0)
		return now_wall_ms;
	if (seconds > (INT64_MAX - (now_wall_ms > 0 ? now_wall_ms : 0)) / NSC_MS_PER_SECOND)
		return INT64_MAX;
	return now_wall_ms + seconds * NSC_MS_PER_SECOND;
}

void nsc_bearer_expires_in(struct nsc_bearer *b, int64_t now_wall_ms, int64_t seconds)
{
	b->expires_wall_ms = after(now_wall_ms, seconds);
}

bool nsc_bearer_needs_refresh(const struct nsc_bearer *b, int64_t now_wall_ms, int64_t margin_ms)
{
	if (!nsc_secret_slot_held(&b->access))
		return true;
	if (b->expires_wall_ms == 0)
		return false;
	if (margin_ms < 0)
		margin_ms = 0;
	return now_wall_ms >= b->expires_wall_ms - margin_ms;
}

/* prefix + value in one allocation of the exact size (a growing buffer would leave copies). */
static char *joined(const char *prefix, const char *value)
{
	size_t pl = strlen(prefix), vl = strlen(value);
	char *s = malloc(pl + vl + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, prefix, pl);
	memcpy(s + pl, value, vl + 1);
	return s;
}

nsc_rc nsc_bearer_header(const struct nsc_bearer *b, char **out)
{
	*out = NULL;
	if (!nsc_secret_slot_held(&b->access))
		return NSC_ERR_STATE;
	*out = joined(HEADER_PREFIX, nsc_secret_slot_get(&b->access));
	return *out ? NSC_OK : NSC_ERR_NOMEM;
}

/* Copies s (with its NUL) to p; returns where the NUL went. */
static char *append(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n + 1);
	return p + n;
}

nsc_rc nsc_bearer_refresh_body(const struct nsc_bearer *b, const char *client_id, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!nsc_secret_slot_held(&b->refresh))
		return NSC_ERR_STATE;
	char *tok = nsc_vendor_escape(nsc_secret_slot_get(&b->refresh));
	char *cid = client_id != NULL ? nsc_vendor_escape(client_id) : NULL;
	nsc_rc rc = NSC_ERR_NOMEM;
	if (tok != NULL && (client_id == NULL || cid != NULL)) {
		size_t n = strlen(BODY_GRANT) + strlen(tok) + (cid ? strlen(BODY_CLIENT) + strlen(cid) : 0);
		char *body = malloc(n + 1);
		if (body != NULL) {
			char *p = append(body, BODY_GRANT);
			p = append(p, tok);
			if (cid != NULL)
				append(append(p, BODY_CLIENT), cid);
			*out = body;
			*len = n;
			rc = NSC_OK;
		}
	}
	nsc_secret_free(tok);
	free(cid);
	return rc;
}

/* The parts of a token answer that has an access token. */
static nsc_rc take(struct nsc_bearer *b, struct json_object *o, const char *access, int64_t now_wall_ms,
		   bool *rotated, struct nsc_error *err)
{
	const char *refresh = nsc_json_get_string(o, "refresh_token");
	const char *held = nsc_secret_slot_get(&b->refresh);
	bool turned = refresh != NULL && refresh[0] != '\0' && (held == NULL || strcmp(held, refresh) != 0);
	int64_t seconds = 0;
	double d;
	if (nsc_json_get_number(o, "expires_in", &d) && d >= 1 && d < 1e12)
		seconds = (int64_t)d;
	int64_t expires = seconds > 0 ? after(now_wall_ms, seconds) : jwt_expiry(access);
	bool taken;
	nsc_rc rc = hold(b, access, refresh, expires, &taken);
	if (rotated != NULL)
		*rotated = turned && taken;
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "out of memory keeping the new tokens");
	return NSC_OK;
}

nsc_rc nsc_bearer_take_answer(struct nsc_bearer *b, const char *json, size_t len, int64_t now_wall_ms,
			      bool *rotated, struct nsc_error *err)
{
	char why[128];
	if (rotated != NULL)
		*rotated = false;
	struct json_object *o = nsc_json_parse_why(json, len, why, sizeof(why));
	if (o == NULL)
		return nsc_error_set(err, NSC_ERR_PARSE, "the token answer is not JSON (%s)", why);
	nsc_rc rc;
	const char *access = NULL;
	if (!json_object_is_type(o, json_type_object))
		rc = nsc_error_set(err, NSC_ERR_PARSE, "the token answer is not a JSON object");
	else if ((access = nsc_json_get_string(o, "access_token")) == NULL || access[0] == '\0')
		rc = nsc_error_set(err, NSC_ERR_PARSE, "the token answer has no access_token");
	else
		rc = take(b, o, access, now_wall_ms, rotated, err);
	nsc_json_secret_put(o);
	return rc;
}
