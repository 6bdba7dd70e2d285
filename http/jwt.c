/* SPDX-License-Identifier: MIT */
/* Exchanging the Nightscout access token for an API v3 JWT (see jwt.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonutil.h"
#include "http/jwt.h"
#include "secret.h"

#define REQUEST_PATH "/api/v2/authorization/request/"
#define REQUEST_WHAT "GET " REQUEST_PATH "<CONNECT_NIGHTSCOUT_TOKEN>"

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool nsc_jwt_usable(const struct nsc_jwt *j)
{
	return j->token && clock_ms(CLOCK_MONOTONIC) + NSC_JWT_REFRESH_MARGIN_MS < j->expires_mono_ms;
}

void nsc_jwt_clear(struct nsc_jwt *j, struct nsc_log *log)
{
	if (j->token)
		nsc_log_remove_secret(log, j->token);
	nsc_secret_free(j->token);
	nsc_secret_free(j->header);
	memset(j, 0, sizeof(*j));
}

/* Asks for the JWT; on success *answer holds the parsed JSON object. */
static nsc_rc request_jwt(struct nsc_rest *r, const char *access_token,
			  struct json_object **answer, struct nsc_error *err)
{
	struct nsc_http_response resp;
	struct nsc_strbuf path = { 0 };
	char said[256];
	char *esc;
	nsc_rc rc;

	*answer = NULL;
	esc = nsc_http_escape(r->http, access_token);
	if (!esc)
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory exchanging the token");
	rc = nsc_strbuf_append(&path, REQUEST_PATH, strlen(REQUEST_PATH));
	if (rc == NSC_OK)
		rc = nsc_strbuf_append(&path, esc, strlen(esc));
	nsc_secret_wipe(esc, strlen(esc));
	free(esc);
	if (rc != NSC_OK) {
		nsc_strbuf_free(&path);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory exchanging the token");
	}
	rc = nsc_rest_call(r, REQUEST_WHAT, "GET", path.p, NULL, NULL, NULL, 0, &resp, err);
	nsc_secret_wipe(path.p, path.len);
	nsc_strbuf_free(&path);
	if (rc != NSC_OK) {
		nsc_http_response_free(&resp);
		return rc;
	}
	if (resp.transport == 0 && (resp.status == 401 || resp.status == 403)) {
		nsc_http_server_message(&resp, said, sizeof(said));
		rc = nsc_error_set(err, NSC_ERR_RETRY,
				   "Nightscout refused CONNECT_NIGHTSCOUT_TOKEN: %ld %s; check that "
				   "it is the access token of a subject on this site (Admin Tools, "
				   "Subjects) and that the site's API_SECRET has not changed since "
				   "it was made; the data stays spooled",
				   resp.status, said[0] ? said : "no message");
		nsc_err(r->log, NSC_REST_COMP, "event=token_refused api=v3 status=%ld msg=\"%s\"",
			resp.status, err ? err->msg : "");
		nsc_http_response_free(&resp);
		return rc;
	}
	rc = nsc_http_classify(NSC_REST_V1, REQUEST_WHAT, &resp, err);
	if (rc != NSC_OK && nsc_rc_verdict(rc) == NSC_VERDICT_DROP) {
		/* Whatever the exchange says, the documents are not at fault: keep them. */
		rc = NSC_ERR_RETRY;
		if (err)
			err->code = rc;
	}
	if (rc == NSC_OK) {
		*answer = nsc_json_parse(resp.body, resp.body_len);
		if (!json_object_is_type(*answer, json_type_object)) {
			json_object_put(*answer);
			*answer = NULL;
			rc = nsc_error_set(err, NSC_ERR_RETRY,
					   "Nightscout answered %s with something that is not JSON; "
					   "will retry",
					   REQUEST_WHAT);
		}
	}
	nsc_http_response_free(&resp);
	return rc;
}

nsc_rc nsc_jwt_fetch(struct nsc_rest *r, const char *access_token, struct nsc_jwt *j,
		     struct nsc_error *err)
{
	struct json_object *answer;
	const char *token, *sub;
	int64_t exp, iat, lifetime_ms;
	char *tok_copy, *header;
	size_t hlen;
	nsc_rc rc;

	rc = request_jwt(r, access_token, &answer, err);
	if (rc != NSC_OK)
		return rc;
	token = nsc_json_get_string(answer, "token");
	if (!token || !token[0] || !nsc_json_get_int64(answer, "exp", &exp)) {
		json_object_put(answer);
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "Nightscout's answer to %s has no `token` and `exp`; is this a "
				     "Nightscout 14 or newer? will retry",
				     REQUEST_WHAT);
	}
	if (nsc_json_get_int64(answer, "iat", &iat) && iat <= exp)
		lifetime_ms = (exp - iat) * 1000;
	else
		lifetime_ms = exp * 1000 - clock_ms(CLOCK_REALTIME);
	if (lifetime_ms < 0)
		lifetime_ms = 0;

	hlen = strlen("Authorization: Bearer ") + strlen(token) + 1;
	tok_copy = strdup(token);
	header = malloc(hlen);
	if (!tok_copy || !header || nsc_log_add_secret(r->log, token) != NSC_OK) {
		nsc_secret_free(tok_copy);
		free(header);
		json_object_put(answer);
		return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory storing the JWT");
	}
	snprintf(header, hlen, "Authorization: Bearer %s", token);
	sub = nsc_json_get_string(answer, "sub");
	nsc_info(r->log, NSC_REST_COMP, "event=jwt_obtained subject=\"%s\" valid_s=%lld",
		 sub ? sub : "", (long long)(lifetime_ms / 1000));
	json_object_put(answer);

	/* The logger does not count registrations: keep a JWT the server handed out again. */
	if (j->token && strcmp(j->token, tok_copy) == 0) {
		nsc_secret_free(j->token);
		nsc_secret_free(j->header);
		memset(j, 0, sizeof(*j));
	} else {
		nsc_jwt_clear(j, r->log);
	}
	j->token = tok_copy;
	j->header = header;
	j->expires_mono_ms = clock_ms(CLOCK_MONOTONIC) + lifetime_ms;
	return NSC_OK;
}
