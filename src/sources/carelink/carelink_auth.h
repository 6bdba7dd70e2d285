/* SPDX-License-Identifier: MIT */
/*
 * CareLink's Auth0 sign-in with PKCE (reference/vendors.md §6.2 method C),
 * the pure parts that `nightscout-connect carelink-login` strings together:
 * the discovery document's SSO configuration URL for a region, the SSO
 * configuration (base URL, endpoints, client), the PKCE verifier and
 * challenge (RFC 7636, S256), the authorize URL, the code (and state) in
 * the line the user pastes, the token request body, the token answer as
 * the token file's JSON (sources/kit/token_file.h reads it), and the host
 * rewrite CONNECT_CARELINK_SERVER asks for.
 *
 * Secrets: the verifier, the code, the request body and the token file
 * text are secrets; free them with nsc_secret_free(). No message here
 * ever quotes a code, a verifier or a token.
 *
 * Ownership & concurrency: pure functions; results are malloc'd and the
 * caller's. nsc_cl_random_text() reads OpenSSL's generator, which is
 * thread-safe.
 */
#ifndef NSC_SRC_SOURCES_CARELINK_CARELINK_AUTH_H
#define NSC_SRC_SOURCES_CARELINK_CARELINK_AUTH_H

#include <stddef.h>

#include "error.h"

/* The discovery document the CarePartner app 3.6 reads (the one that selects Auth0). */
#define NSC_CL_DISCOVERY_PATH "/connect/carepartner/v13/discover/android/3.6"

/* Random bytes behind a verifier (64 characters) and a state (22 characters). */
#define NSC_CL_VERIFIER_BYTES 48
#define NSC_CL_STATE_BYTES 16
/* base64url of a SHA-256, without padding, plus its NUL. */
#define NSC_CL_CHALLENGE_SIZE 44

/* "https://clcloud.minimed.eu" + NSC_CL_DISCOVERY_PATH for "eu", ".com" for "us" (any case). */
nsc_rc nsc_cl_discovery_url(const char *region, char **out, struct nsc_error *err);

/*
 * From a discovery answer (§6.2 C.1), the SSO configuration URL of the
 * CP[] entry whose region is `region` ("eu"/"us", any case): the member
 * UseSSOConfiguration names, else Auth0SSOConfiguration. NSC_ERR_DROP when
 * the answer is not JSON, has no entry for the region or no http(s) URL.
 */
nsc_rc nsc_cl_sso_config_url(const char *body, size_t len, const char *region, char **out,
			     struct nsc_error *err);

/* What an SSO configuration answer (§6.2 C.2) says; every string owned, NULL when unset. */
struct nsc_cl_sso {
	char *base;          /* https://hostname[:port unless 443]prefix, no trailing '/' */
	char *authorize_url; /* base + authorization_endpoint_path */
	char *token_url;     /* base + token_endpoint_path */
	char *client_id;
	char *scope;
	char *audience;      /* "" when the answer has none */
	char *redirect_uri;
};

void nsc_cl_sso_init(struct nsc_cl_sso *sso);
void nsc_cl_sso_fini(struct nsc_cl_sso *sso); /* sso reusable after init */

/*
 * Fills sso (emptied first) from an SSO configuration answer. hostname,
 * client_id, scope, redirect_uri and both endpoint paths are required;
 * port (a number or digits, default 443) and prefix are optional.
 * NSC_ERR_DROP naming what is missing; sso stays empty on failure.
 */
nsc_rc nsc_cl_sso_parse(const char *body, size_t len, struct nsc_cl_sso *sso,
			struct nsc_error *err);

/* base64url of n bytes, without padding (malloc'd); NSC_ERR_NOMEM. */
nsc_rc nsc_cl_base64url(const unsigned char *bytes, size_t n, char **out, struct nsc_error *err);

/* base64url of `bytes` bytes from OpenSSL's RAND_bytes: a verifier or a state. */
nsc_rc nsc_cl_random_text(size_t bytes, char **out, struct nsc_error *err);

/*
 * The S256 challenge of verifier, written into out (43 characters and a
 * NUL). NSC_ERR_PARSE when verifier is not 43 to 128 unreserved characters.
 */
nsc_rc nsc_cl_pkce_challenge(const char *verifier, char out[NSC_CL_CHALLENGE_SIZE],
			     struct nsc_error *err);

/* s percent-encoded for a query value or a form field: all but A-Z a-z 0-9 - . _ ~ as %XX. NULL on ENOMEM. */
char *nsc_cl_percent_encode(const char *s);

/*
 * sso->authorize_url?client_id=..&response_type=code&scope=..&audience=..
 * &redirect_uri=..&code_challenge=..&code_challenge_method=S256&state=..,
 * every value percent-encoded (audience left out when empty).
 */
nsc_rc nsc_cl_authorize_url(const struct nsc_cl_sso *sso, const char *challenge,
			    const char *state, char **out, struct nsc_error *err);

/*
 * The code in what the user pasted (surrounding white space ignored):
 * the redirect address (com.medtronic.carelink://callback?code=..&state=..,
 * or its query alone), or the bare code. From an address, its state must
 * equal `state` and its values are percent-decoded. NSC_ERR_REJECTED when
 * the address has another state or none, or carries error= instead of a
 * code (the sign-in was refused); NSC_ERR_PARSE when there is no code.
 * *code is a secret.
 */
nsc_rc nsc_cl_extract_code(const char *line, const char *state, char **code,
			   struct nsc_error *err);

/*
 * grant_type=authorization_code&client_id=..&code=..&redirect_uri=..
 * &code_verifier=.. (form-urlencoded; a secret).
 */
nsc_rc nsc_cl_token_request_body(const struct nsc_cl_sso *sso, const char *code,
				 const char *verifier, char **out, struct nsc_error *err);

/*
 * The token endpoint's answer (HTTP status, body) as the token file's text:
 * {"access_token","refresh_token","client_id","token_url","audience","scope"}
 * (scope as granted when the answer says, else as asked), a newline at
 * the end. Refusals (4xx) are NSC_ERR_REJECTED saying to sign in again
 * (a code works once, for a few minutes); 5xx and 429 NSC_ERR_RETRY; a
 * 200 without both tokens NSC_ERR_DROP. *out is a secret.
 */
nsc_rc nsc_cl_token_file_text(long status, const char *body, size_t len,
			      const struct nsc_cl_sso *sso, char **out, struct nsc_error *err);

/*
 * url with its scheme and authority replaced by `server` (a base URL such
 * as http://127.0.0.1:8080, path kept before url's) when url's host is
 * minimed.eu, minimed.com or under one (clcloud., carelink.,
 * carelink-login.); any other url, or a NULL/empty server, is copied as is.
 */
nsc_rc nsc_cl_rewrite_host(const char *url, const char *server, char **out,
			   struct nsc_error *err);

#endif
