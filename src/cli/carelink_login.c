/* SPDX-License-Identifier: MIT */
/* nightscout-connect carelink-login (see carelink_login.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "atomic_file.h"
#include "cli/carelink_login.h"
#include "cli/usage.h"
#include "http/client.h"
#include "secret.h"
#include "sources/carelink/carelink_auth.h"

#define PREFIX "nightscout-connect: "

/* What one run holds; secrets wiped in login_fini(). */
struct login {
	const char *region;    /* "eu" or "us" */
	char *server;          /* CONNECT_CARELINK_SERVER normalised, NULL when unset */
	const char *token_file;
	struct nsc_http_client *http;
	struct nsc_cl_sso sso;
	char *verifier, *state, *code;
	char challenge[NSC_CL_CHALLENGE_SIZE];
};

static void login_fini(struct login *l)
{
	free(l->server);
	nsc_http_client_free(l->http);
	nsc_cl_sso_fini(&l->sso);
	nsc_secret_free(l->verifier);
	nsc_secret_free(l->state);
	nsc_secret_free(l->code);
}

static const char *setting(nsc_config_lookup_fn lookup, void *ctx, const char *name)
{
	const char *v = lookup(ctx, name);

	return v && *v ? v : NULL;
}

/* Region, server and token file from --region and the settings. */
static nsc_rc read_settings(struct login *l, const struct nsc_cli_carelink_args *a,
			    nsc_config_lookup_fn lookup, void *ctx, struct nsc_error *err)
{
	const char *region = a->region ? a->region : setting(lookup, ctx, "CONNECT_CARELINK_REGION");
	const char *server = setting(lookup, ctx, "CONNECT_CARELINK_SERVER");
	const struct nsc_setting *row = nsc_setting_by_name("CONNECT_CARELINK_TOKEN_FILE");

	if (!region || !strcasecmp(region, "eu"))
		l->region = "eu";
	else if (!strcasecmp(region, "us"))
		l->region = "us";
	else
		return nsc_error_set(err, NSC_ERR_CONFIG, "%s=\"%s\" is not valid; expected eu or us",
				     a->region ? "--region" : "CONNECT_CARELINK_REGION", region);
	if (server) {
		nsc_rc rc = nsc_config_normalize_url("CONNECT_CARELINK_SERVER", server, &l->server, err);
		if (rc != NSC_OK)
			return rc;
	}
	l->token_file = setting(lookup, ctx, "CONNECT_CARELINK_TOKEN_FILE");
	if (!l->token_file)
		l->token_file = row && row->default_text ? row->default_text : "./carelink-logindata.json";
	return NSC_OK;
}

/*
 * One request to url (rewritten for CONNECT_CARELINK_SERVER); NSC_OK when
 * an HTTP answer came back (any status), NSC_ERR_RETRY when none did.
 */
static nsc_rc request(struct login *l, const char *method, const char *url, const char *form,
		      struct nsc_http_response *resp, struct nsc_error *err)
{
	static const char *const form_headers[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL
	};
	char *target = NULL;
	nsc_rc rc = nsc_cl_rewrite_host(url, l->server, &target, err);

	if (rc != NSC_OK)
		return rc;
	rc = nsc_http_request(l->http, method, target, form ? form_headers : NULL, form,
			      form ? strlen(form) : 0, resp, err);
	if (rc == NSC_OK && resp->status == 0)
		rc = nsc_error_set(err, NSC_ERR_RETRY, "cannot reach %s: %s", target,
				   resp->transport_msg[0] ? resp->transport_msg : "no answer");
	else if (rc == NSC_OK && resp->too_large)
		rc = nsc_error_set(err, NSC_ERR_DROP, "the answer of %s is too large", target);
	free(target);
	return rc;
}

/* GET url, which must answer 200; what says what it is in messages. */
static nsc_rc get_document(struct login *l, const char *url, const char *what,
			   struct nsc_http_response *resp, struct nsc_error *err)
{
	nsc_rc rc = request(l, "GET", url, NULL, resp, err);

	if (rc != NSC_OK || resp->status == 200)
		return rc;
	return nsc_error_set(err,
			     resp->status == 429 || resp->status >= 500 ? NSC_ERR_RETRY : NSC_ERR_DROP,
			     "CareLink's %s (%s) answered HTTP %ld", what, url, resp->status);
}

/* Steps 1 and 2: the discovery document, then the region's sign-in configuration. */
static nsc_rc discover(struct login *l, struct nsc_error *err)
{
	struct nsc_http_response resp = { 0 };
	char *discovery = NULL, *sso_url = NULL;
	nsc_rc rc = nsc_cl_discovery_url(l->region, &discovery, err);

	if (rc == NSC_OK)
		rc = get_document(l, discovery, "discovery document", &resp, err);
	if (rc == NSC_OK)
		rc = nsc_cl_sso_config_url(resp.body, resp.body_len, l->region, &sso_url, err);
	nsc_http_response_free(&resp);
	if (rc == NSC_OK)
		rc = get_document(l, sso_url, "sign-in configuration", &resp, err);
	if (rc == NSC_OK)
		rc = nsc_cl_sso_parse(resp.body, resp.body_len, &l->sso, err);
	nsc_http_response_free(&resp);
	free(discovery);
	free(sso_url);
	return rc;
}

/* Step 3: PKCE, the address to open, and the line the user pastes. */
static nsc_rc ask_for_code(struct login *l, FILE *in, FILE *out, struct nsc_error *err)
{
	char *url = NULL, *line = NULL;
	size_t cap = 0;
	ssize_t n;
	nsc_rc rc = nsc_cl_random_text(NSC_CL_VERIFIER_BYTES, &l->verifier, err);

	if (rc == NSC_OK)
		rc = nsc_cl_random_text(NSC_CL_STATE_BYTES, &l->state, err);
	if (rc == NSC_OK)
		rc = nsc_cl_pkce_challenge(l->verifier, l->challenge, err);
	if (rc == NSC_OK)
		rc = nsc_cl_authorize_url(&l->sso, l->challenge, l->state, &url, err);
	if (rc != NSC_OK)
		return rc;
	fprintf(out,
		"1. Open this address in a web browser and sign in to CareLink (%s):\n"
		"\n%s\n\n"
		"2. After the sign-in the browser tries to open an address that starts with\n"
		"   %s?code=... and fails (\"cannot open\", or nothing happens).\n"
		"   Copy that address: from the address bar, or in the developer tools\n"
		"   (F12), Network tab, the last request's Location.\n"
		"3. Paste it here and press Enter (the code alone works too; it is valid\n"
		"   for a few minutes only):\n",
		l->region, url, l->sso.redirect_uri);
	fflush(out);
	free(url);
	errno = 0;
	n = getline(&line, &cap, in);
	if (n < 0 && errno == ENOMEM)
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
	else if (n < 0)
		rc = nsc_error_set(err, NSC_ERR_PARSE,
				   "nothing was pasted; run nightscout-connect carelink-login again");
	else
		rc = nsc_cl_extract_code(line, l->state, &l->code, err);
	if (line)
		nsc_secret_wipe(line, cap);
	free(line);
	return rc;
}

/* Steps 4 and 5: the code for tokens, then the token file. */
static nsc_rc exchange_and_write(struct login *l, FILE *out, struct nsc_error *err)
{
	struct nsc_http_response resp = { 0 };
	char *form = NULL, *text = NULL;
	const char *step = NULL;
	nsc_rc rc = nsc_cl_token_request_body(&l->sso, l->code, l->verifier, &form, err);

	if (rc == NSC_OK)
		rc = request(l, "POST", l->sso.token_url, form, &resp, err);
	nsc_secret_free(form);
	if (rc == NSC_OK)
		rc = nsc_cl_token_file_text(resp.status, resp.body, resp.body_len, &l->sso, &text, err);
	nsc_http_response_free(&resp);
	if (rc == NSC_OK && nsc_atomic_file_write(l->token_file, text, strlen(text), &step) != 0)
		rc = nsc_error_set(err, errno == ENOMEM ? NSC_ERR_NOMEM : NSC_ERR_CONFIG,
				   "cannot %s CONNECT_CARELINK_TOKEN_FILE %s: %s",
				   step ? step : "write", l->token_file, strerror(errno));
	nsc_secret_free(text);
	if (rc != NSC_OK)
		return rc;
	fprintf(out,
		"\nSigned in. The tokens are in %s (readable by you only).\n"
		"Now run the bridge with:\n"
		"  CONNECT_SOURCE=minimedcarelink\n"
		"  CONNECT_CARELINK_TOKEN_FILE=%s\n"
		"It refreshes the tokens by itself; run carelink-login again only if it says\n"
		"the sign-in was refused.\n",
		l->token_file, l->token_file);
	return NSC_OK;
}

static int exit_status(nsc_rc rc)
{
	switch (rc) {
	case NSC_OK:
		return NSC_EXIT_OK;
	case NSC_ERR_CONFIG:
		return NSC_EXIT_USAGE;
	case NSC_ERR_RETRY:
		return NSC_EXIT_TEMPFAIL;
	case NSC_ERR_REJECTED:
	case NSC_ERR_PARSE:
		return NSC_EXIT_REJECTED;
	case NSC_ERR_DROP:
		return NSC_EXIT_DROPPED;
	default:
		return NSC_EXIT_INTERNAL;
	}
}

int nsc_cli_carelink_login(const struct nsc_cli_carelink_args *a, nsc_config_lookup_fn lookup,
			   void *ctx, FILE *in, FILE *out, FILE *err_out)
{
	struct login l;
	struct nsc_error err;
	nsc_rc rc;

	memset(&l, 0, sizeof(l));
	nsc_cl_sso_init(&l.sso);
	nsc_error_clear(&err);
	rc = read_settings(&l, a, lookup, ctx, &err);
	if (rc == NSC_OK && !(l.http = nsc_http_client_new()))
		rc = nsc_error_set(&err, NSC_ERR_NOMEM, "out of memory");
	if (rc == NSC_OK)
		rc = discover(&l, &err);
	if (rc == NSC_OK)
		rc = ask_for_code(&l, in, out, &err);
	if (rc == NSC_OK)
		rc = exchange_and_write(&l, out, &err);
	if (rc != NSC_OK)
		fprintf(err_out, PREFIX "%s\n", err.msg[0] ? err.msg : nsc_strerror(rc));
	login_fini(&l);
	return exit_status(rc);
}
