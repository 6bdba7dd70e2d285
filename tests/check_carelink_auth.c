/* SPDX-License-Identifier: MIT */
/*
 * CareLink's Auth0 + PKCE sign-in, the pure parts: discovery and SSO
 * configuration on the fixtures of reference/vendors.md §8.5, the RFC 7636
 * appendix B example, the authorize URL and token request byte for byte,
 * the code in every shape a user may paste, the token answer as the token
 * file, and the CONNECT_CARELINK_SERVER rewrite.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "nsc_check.h"
#include "secret.h"
#include "sources/carelink/carelink_auth.h"

#define DISCOVERY                                                                                  \
	"{\"supportedCountries\":[{\"GB\":{\"region\":\"EU\"}},{\"US\":{\"region\":\"US\"}}],"     \
	"\"CP\":[{\"region\":\"EU\",\"UseSSOConfiguration\":\"Auth0SSOConfiguration\","            \
	"\"Auth0SSOConfiguration\":\"https://clcloud.minimed.eu/connect/carepartner/v13/sso/"      \
	"auth0.json\",\"baseUrlCareLink\":\"https://carelink.minimed.eu/patient\","                \
	"\"baseUrlCumulus\":\"https://clcloud.minimed.eu/connect/carepartner/v13\"}]}"

#define SSO_CONFIG                                                                                 \
	"{\"server\":{\"hostname\":\"carelink-login.minimed.eu\",\"port\":443,\"prefix\":\"\"},"  \
	"\"client\":{\"client_id\":\"CLIENTID\",\"scope\":\"openid profile offline_access\","      \
	"\"audience\":\"https://api.example/\",\"redirect_uri\":\"com.medtronic.carelink://"       \
	"callback\"},\"system_endpoints\":{\"authorization_endpoint_path\":\"/authorize\","        \
	"\"token_endpoint_path\":\"/oauth/token\"}}"

static void fixture_sso(struct nsc_cl_sso *sso)
{
	struct nsc_error err;
	nsc_cl_sso_init(sso);
	ck_assert_int_eq(nsc_cl_sso_parse(SSO_CONFIG, strlen(SSO_CONFIG), sso, &err), NSC_OK);
}

/* ---- discovery ---------------------------------------------------------- */

START_TEST(discovery_urls)
{
	struct nsc_error err;
	char *u = NULL;
	ck_assert_int_eq(nsc_cl_discovery_url("eu", &u, &err), NSC_OK);
	ck_assert_str_eq(u, "https://clcloud.minimed.eu/connect/carepartner/v13/discover/android/3.6");
	free(u);
	ck_assert_int_eq(nsc_cl_discovery_url("US", &u, &err), NSC_OK);
	ck_assert_str_eq(u, "https://clcloud.minimed.com/connect/carepartner/v13/discover/android/3.6");
	free(u);
	ck_assert_int_eq(nsc_cl_discovery_url("asia", &u, &err), NSC_ERR_CONFIG);
	ck_assert_ptr_null(u);
	ck_assert_ptr_nonnull(strstr(err.msg, "CONNECT_CARELINK_REGION"));
}
END_TEST

START_TEST(discovery_fixture_eu)
{
	struct nsc_error err;
	char *u = NULL;
	ck_assert_int_eq(nsc_cl_sso_config_url(DISCOVERY, strlen(DISCOVERY), "eu", &u, &err), NSC_OK);
	ck_assert_str_eq(u, "https://clcloud.minimed.eu/connect/carepartner/v13/sso/auth0.json");
	free(u);
}
END_TEST

START_TEST(discovery_no_region)
{
	struct nsc_error err;
	char *u = NULL;
	ck_assert_int_eq(nsc_cl_sso_config_url(DISCOVERY, strlen(DISCOVERY), "us", &u, &err),
			 NSC_ERR_DROP);
	ck_assert_ptr_null(u);
	ck_assert_str_eq(err.msg, "CareLink's discovery answer has no CP entry for region us");
	ck_assert_int_eq(nsc_cl_sso_config_url("[1]", 3, "eu", &u, &err), NSC_ERR_DROP);
	ck_assert_int_eq(nsc_cl_sso_config_url("{\"CP\":", 6, "eu", &u, &err), NSC_ERR_DROP);
	ck_assert_ptr_null(u);
}
END_TEST

/* UseSSOConfiguration names the member to read; without it Auth0SSOConfiguration is read. */
START_TEST(discovery_use_sso_configuration)
{
	static const char named[] =
		"{\"CP\":[{\"region\":\"EU\",\"Auth0SSOConfiguration\":\"https://a.example/eu\"},"
		"{\"region\":\"US\",\"UseSSOConfiguration\":\"Other\",\"Other\":\"https://b.example/us\","
		"\"Auth0SSOConfiguration\":\"https://a.example/us\"}]}";
	static const char bad[] =
		"{\"CP\":[{\"region\":\"US\",\"UseSSOConfiguration\":\"Other\",\"Other\":\"ftp://x\"}]}";
	struct nsc_error err;
	char *u = NULL;
	ck_assert_int_eq(nsc_cl_sso_config_url(named, strlen(named), "us", &u, &err), NSC_OK);
	ck_assert_str_eq(u, "https://b.example/us");
	free(u);
	ck_assert_int_eq(nsc_cl_sso_config_url(named, strlen(named), "EU", &u, &err), NSC_OK);
	ck_assert_str_eq(u, "https://a.example/eu");
	free(u);
	ck_assert_int_eq(nsc_cl_sso_config_url(bad, strlen(bad), "us", &u, &err), NSC_ERR_DROP);
	ck_assert_str_eq(err.msg, "CareLink's discovery answer has no URL in Other for region us");
}
END_TEST

/* ---- SSO configuration --------------------------------------------------- */

START_TEST(sso_fixture)
{
	struct nsc_cl_sso sso;
	fixture_sso(&sso);
	ck_assert_str_eq(sso.base, "https://carelink-login.minimed.eu");
	ck_assert_str_eq(sso.authorize_url, "https://carelink-login.minimed.eu/authorize");
	ck_assert_str_eq(sso.token_url, "https://carelink-login.minimed.eu/oauth/token");
	ck_assert_str_eq(sso.client_id, "CLIENTID");
	ck_assert_str_eq(sso.scope, "openid profile offline_access");
	ck_assert_str_eq(sso.audience, "https://api.example/");
	ck_assert_str_eq(sso.redirect_uri, "com.medtronic.carelink://callback");
	nsc_cl_sso_fini(&sso);
	ck_assert_ptr_null(sso.base);
}
END_TEST

/* A port other than 443 is kept, as a number or digits; a prefix loses its trailing '/'. */
START_TEST(sso_port_and_prefix)
{
	static const char *const bodies[][2] = {
		{ "{\"server\":{\"hostname\":\"h.example\",\"port\":8443,\"prefix\":\"/mmcl/\"},",
		  "https://h.example:8443/mmcl/oauth/token" },
		{ "{\"server\":{\"hostname\":\"h.example\",\"port\":\"444\",\"prefix\":\"auth\"},",
		  "https://h.example:444/auth/oauth/token" },
		{ "{\"server\":{\"hostname\":\"h.example\"},", "https://h.example/oauth/token" },
	};
	static const char rest[] =
		"\"client\":{\"client_id\":\"c\",\"scope\":\"s\",\"redirect_uri\":\"r://x\"},"
		"\"system_endpoints\":{\"authorization_endpoint_path\":\"/authorize\","
		"\"token_endpoint_path\":\"oauth/token\"}}";
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char body[512];
		struct nsc_cl_sso sso;
		struct nsc_error err;
		snprintf(body, sizeof(body), "%s%s", bodies[i][0], rest);
		nsc_cl_sso_init(&sso);
		ck_assert_int_eq(nsc_cl_sso_parse(body, strlen(body), &sso, &err), NSC_OK);
		ck_assert_str_eq(sso.token_url, bodies[i][1]);
		ck_assert_str_eq(sso.audience, "");
		nsc_cl_sso_fini(&sso);
	}
}
END_TEST

START_TEST(sso_missing_members)
{
	static const char *const cases[][2] = {
		{ "{\"client\":{}}", "CareLink's sign-in configuration has no server.hostname" },
		{ "{\"server\":{\"hostname\":\"h\"},\"client\":{\"client_id\":\"c\",\"scope\":\"s\","
		  "\"redirect_uri\":\"r\"},\"system_endpoints\":{\"authorization_endpoint_path\":\"/a\"}}",
		  "CareLink's sign-in configuration has no system_endpoints.token_endpoint_path" },
		{ "{\"server\":{\"hostname\":\"h\",\"port\":70000},\"client\":{\"client_id\":\"c\","
		  "\"scope\":\"s\",\"redirect_uri\":\"r\"},\"system_endpoints\":{"
		  "\"authorization_endpoint_path\":\"/a\",\"token_endpoint_path\":\"/t\"}}",
		  "CareLink's sign-in configuration has an unusable server.port" },
		{ "{\"server\":{\"hostname\":\"h/evil\"},\"client\":{\"client_id\":\"c\","
		  "\"scope\":\"s\",\"redirect_uri\":\"r\"},\"system_endpoints\":{"
		  "\"authorization_endpoint_path\":\"/a\",\"token_endpoint_path\":\"/t\"}}",
		  "CareLink's sign-in configuration has an unusable server.hostname" },
		{ "not json", "CareLink's sign-in configuration is not a JSON object" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_cl_sso sso;
		struct nsc_error err;
		nsc_cl_sso_init(&sso);
		ck_assert_int_eq(nsc_cl_sso_parse(cases[i][0], strlen(cases[i][0]), &sso, &err),
				 NSC_ERR_DROP);
		ck_assert_str_eq(err.msg, cases[i][1]);
		ck_assert_ptr_null(sso.base);
		ck_assert_ptr_null(sso.client_id);
	}
}
END_TEST

/* ---- PKCE ---------------------------------------------------------------- */

/* RFC 7636 appendix B: its 32 octets, their verifier and its S256 challenge (checked with openssl). */
START_TEST(pkce_rfc7636_appendix_b)
{
	static const unsigned char octets[32] = { 116, 24,  223, 180, 151, 153, 224, 37,
						  79,  250, 96,  125, 216, 173, 187, 186,
						  22,  212, 37,  77,  105, 214, 191, 240,
						  91,  88,  5,   88,  83,  132, 141, 121 };
	struct nsc_error err;
	char challenge[NSC_CL_CHALLENGE_SIZE];
	char *verifier = NULL;
	ck_assert_int_eq(nsc_cl_base64url(octets, sizeof(octets), &verifier, &err), NSC_OK);
	ck_assert_str_eq(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	ck_assert_int_eq(nsc_cl_pkce_challenge(verifier, challenge, &err), NSC_OK);
	ck_assert_str_eq(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	free(verifier);
}
END_TEST

START_TEST(pkce_base64url_lengths)
{
	static const unsigned char b[] = { 0xfb, 0xff, 0xbf };
	static const char *const want[] = { "", "-w", "-_8", "-_-_" };
	struct nsc_error err;
	for (size_t n = 0; n <= 3; n++) {
		char *t = NULL;
		ck_assert_int_eq(nsc_cl_base64url(b, n, &t, &err), NSC_OK);
		ck_assert_str_eq(t, want[n]);
		free(t);
	}
}
END_TEST

START_TEST(pkce_random_texts)
{
	struct nsc_error err;
	char *v = NULL, *w = NULL, *s = NULL;
	char challenge[NSC_CL_CHALLENGE_SIZE];
	ck_assert_int_eq(nsc_cl_random_text(NSC_CL_VERIFIER_BYTES, &v, &err), NSC_OK);
	ck_assert_int_eq(nsc_cl_random_text(NSC_CL_VERIFIER_BYTES, &w, &err), NSC_OK);
	ck_assert_int_eq(nsc_cl_random_text(NSC_CL_STATE_BYTES, &s, &err), NSC_OK);
	ck_assert_uint_eq(strlen(v), 64);
	ck_assert_uint_eq(strlen(s), 22);
	ck_assert_str_ne(v, w);
	ck_assert_uint_eq(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 64);
	ck_assert_int_eq(nsc_cl_pkce_challenge(v, challenge, &err), NSC_OK);
	ck_assert_uint_eq(strlen(challenge), 43);
	nsc_secret_free(v);
	nsc_secret_free(w);
	free(s);
	ck_assert_int_eq(nsc_cl_random_text(0, &v, &err), NSC_ERR_INTERNAL);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(pkce_verifier_form)
{
	struct nsc_error err;
	char challenge[NSC_CL_CHALLENGE_SIZE];
	char long_one[130];
	memset(long_one, 'a', 129);
	long_one[129] = '\0';
	ck_assert_int_eq(nsc_cl_pkce_challenge("short", challenge, &err), NSC_ERR_PARSE);
	ck_assert_str_eq(err.msg, "a PKCE verifier has 43 to 128 characters, not 5");
	ck_assert_int_eq(nsc_cl_pkce_challenge(long_one, challenge, &err), NSC_ERR_PARSE);
	long_one[128] = '\0';
	ck_assert_int_eq(nsc_cl_pkce_challenge(long_one, challenge, &err), NSC_OK);
	long_one[5] = '+';
	ck_assert_int_eq(nsc_cl_pkce_challenge(long_one, challenge, &err), NSC_ERR_PARSE);
	ck_assert_str_eq(err.msg, "a PKCE verifier has only A-Z a-z 0-9 - . _ ~");
	ck_assert_str_eq(challenge, "");
}
END_TEST

/* ---- authorize URL and token request ---------------------------------------- */

START_TEST(percent_encode)
{
	char *e = nsc_cl_percent_encode("a Z-._~/:?&=+%\xc3\xa9");
	ck_assert_str_eq(e, "a%20Z-._~%2F%3A%3F%26%3D%2B%25%C3%A9");
	free(e);
}
END_TEST

START_TEST(authorize_url_fixture)
{
	struct nsc_cl_sso sso;
	struct nsc_error err;
	char *u = NULL;
	fixture_sso(&sso);
	ck_assert_int_eq(nsc_cl_authorize_url(&sso, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
					      "st-1", &u, &err),
			 NSC_OK);
	ck_assert_str_eq(u, "https://carelink-login.minimed.eu/authorize?client_id=CLIENTID"
			    "&response_type=code&scope=openid%20profile%20offline_access"
			    "&audience=https%3A%2F%2Fapi.example%2F"
			    "&redirect_uri=com.medtronic.carelink%3A%2F%2Fcallback"
			    "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
			    "&code_challenge_method=S256&state=st-1");
	free(u);
	/* Without an audience the parameter is left out. */
	sso.audience[0] = '\0';
	ck_assert_int_eq(nsc_cl_authorize_url(&sso, "C", "S", &u, &err), NSC_OK);
	ck_assert_str_eq(u, "https://carelink-login.minimed.eu/authorize?client_id=CLIENTID"
			    "&response_type=code&scope=openid%20profile%20offline_access"
			    "&redirect_uri=com.medtronic.carelink%3A%2F%2Fcallback"
			    "&code_challenge=C&code_challenge_method=S256&state=S");
	free(u);
	nsc_cl_sso_fini(&sso);
}
END_TEST

START_TEST(token_request_body)
{
	struct nsc_cl_sso sso;
	struct nsc_error err;
	char *b = NULL;
	fixture_sso(&sso);
	ck_assert_int_eq(nsc_cl_token_request_body(&sso, "co/de+1",
						   "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
						   &b, &err),
			 NSC_OK);
	ck_assert_str_eq(b, "grant_type=authorization_code&client_id=CLIENTID&code=co%2Fde%2B1"
			    "&redirect_uri=com.medtronic.carelink%3A%2F%2Fcallback"
			    "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	nsc_secret_free(b);
	nsc_cl_sso_fini(&sso);
}
END_TEST

/* ---- the pasted line ------------------------------------------------------ */

static void assert_code(const char *line, const char *want)
{
	struct nsc_error err;
	char *code = NULL;
	nsc_error_clear(&err);
	ck_assert_msg(nsc_cl_extract_code(line, "st-1", &code, &err) == NSC_OK, "%s: %s", line,
		      err.msg);
	ck_assert_str_eq(code, want);
	nsc_secret_free(code);
}

START_TEST(code_from_redirect_url)
{
	assert_code("com.medtronic.carelink://callback?code=AbC-123_x&state=st-1", "AbC-123_x");
	assert_code("  com.medtronic.carelink://callback?state=st-1&code=AbC\r\n", "AbC");
	assert_code("com.medtronic.carelink://callback?code=AbC&state=st-1#_", "AbC");
	assert_code("code=AbC&state=st-1\n", "AbC");
}
END_TEST

START_TEST(code_bare)
{
	assert_code("AbC-123_x.~\n", "AbC-123_x.~");
	assert_code("\tAbC\t", "AbC");
}
END_TEST

START_TEST(code_percent_encoded)
{
	assert_code("com.medtronic.carelink://callback?code=a%2Fb%2bc&state=st%2D1", "a/b+c");
}
END_TEST

START_TEST(code_wrong_state)
{
	static const char *const lines[] = {
		"com.medtronic.carelink://callback?code=AbC&state=other",
		"com.medtronic.carelink://callback?code=AbC",
	};
	for (size_t i = 0; i < 2; i++) {
		struct nsc_error err;
		char *code = NULL;
		ck_assert_int_eq(nsc_cl_extract_code(lines[i], "st-1", &code, &err), NSC_ERR_REJECTED);
		ck_assert_ptr_null(code);
		ck_assert_ptr_nonnull(strstr(err.msg, i == 0 ? "does not match" : "is missing"));
		ck_assert_ptr_nonnull(strstr(err.msg, "nothing was written"));
		ck_assert_ptr_null(strstr(err.msg, "AbC"));
	}
}
END_TEST

START_TEST(code_refused_or_missing)
{
	static const struct {
		const char *line;
		nsc_rc rc;
		const char *says;
	} cases[] = {
		{ "com.medtronic.carelink://callback?error=access_denied&state=st-1", NSC_ERR_REJECTED,
		  "refused (access_denied)" },
		{ "com.medtronic.carelink://callback?error=%3Cb%3E&state=st-1", NSC_ERR_REJECTED,
		  "refused (no reason given)" },
		{ "com.medtronic.carelink://callback?state=st-1", NSC_ERR_PARSE, "no usable code=" },
		{ "com.medtronic.carelink://callback?code=&state=st-1", NSC_ERR_PARSE, "no usable code=" },
		{ "com.medtronic.carelink://callback?code=a%2&state=st-1", NSC_ERR_PARSE, "no usable code=" },
		{ "com.medtronic.carelink://callback?code=a%00b&state=st-1", NSC_ERR_PARSE, "no usable code=" },
		{ "   \n", NSC_ERR_PARSE, "nothing was pasted" },
		{ "", NSC_ERR_PARSE, "nothing was pasted" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_error err;
		char *code = NULL;
		ck_assert_int_eq(nsc_cl_extract_code(cases[i].line, "st-1", &code, &err), cases[i].rc);
		ck_assert_ptr_null(code);
		ck_assert_msg(strstr(err.msg, cases[i].says) != NULL, "case %zu: %s", i, err.msg);
	}
}
END_TEST

/* ---- the token answer ----------------------------------------------------- */

START_TEST(token_file_from_answer)
{
	static const char answer[] =
		"{\"access_token\":\"AT-1\",\"refresh_token\":\"RT-1\",\"expires_in\":3600,"
		"\"token_type\":\"Bearer\",\"scope\":\"openid offline_access\"}";
	struct nsc_cl_sso sso;
	struct nsc_error err;
	char *text = NULL;
	fixture_sso(&sso);
	ck_assert_int_eq(nsc_cl_token_file_text(200, answer, strlen(answer), &sso, &text, &err), NSC_OK);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	struct json_object *f = nsc_json_parse(text, strlen(text));
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(json_object_object_length(f), 6);
	ck_assert_str_eq(nsc_json_get_string(f, "access_token"), "AT-1");
	ck_assert_str_eq(nsc_json_get_string(f, "refresh_token"), "RT-1");
	ck_assert_str_eq(nsc_json_get_string(f, "client_id"), "CLIENTID");
	ck_assert_str_eq(nsc_json_get_string(f, "token_url"),
			 "https://carelink-login.minimed.eu/oauth/token");
	ck_assert_str_eq(nsc_json_get_string(f, "audience"), "https://api.example/");
	ck_assert_str_eq(nsc_json_get_string(f, "scope"), "openid offline_access");
	json_object_put(f);
	nsc_secret_free(text);

	/* Without a granted scope, the one asked for. */
	static const char bare[] = "{\"access_token\":\"AT-1\",\"refresh_token\":\"RT-1\"}";
	ck_assert_int_eq(nsc_cl_token_file_text(200, bare, strlen(bare), &sso, &text, &err), NSC_OK);
	f = nsc_json_parse(text, strlen(text));
	ck_assert_str_eq(nsc_json_get_string(f, "scope"), "openid profile offline_access");
	json_object_put(f);
	nsc_secret_free(text);
	nsc_cl_sso_fini(&sso);
}
END_TEST

START_TEST(token_answer_errors)
{
	static const struct {
		long status;
		const char *body;
		nsc_rc rc;
		const char *says;
	} cases[] = {
		{ 403, "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid authorization code SECRET\"}",
		  NSC_ERR_REJECTED, "CareLink refused the sign-in code (HTTP 403, invalid_grant); a code "
				    "works only once and for a few minutes: run nightscout-connect "
				    "carelink-login again and paste the new address at once" },
		{ 400, "<html>SECRET</html>", NSC_ERR_REJECTED, "(HTTP 400);" },
		{ 401, "{\"error\":\"SECRET token\"}", NSC_ERR_REJECTED, "(HTTP 401);" },
		{ 503, "", NSC_ERR_RETRY, "not answering now (HTTP 503)" },
		{ 429, "{}", NSC_ERR_RETRY, "(HTTP 429)" },
		{ 200, "{\"access_token\":\"SECRET\"}", NSC_ERR_DROP, "no access_token and refresh_token" },
		{ 200, "{\"access_token\":\"SECRET\",\"refresh_token\":\"\"}", NSC_ERR_DROP, "no access_token" },
		{ 200, "SECRET", NSC_ERR_DROP, "no access_token" },
	};
	struct nsc_cl_sso sso;
	fixture_sso(&sso);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_error err;
		char *text = NULL;
		ck_assert_int_eq(nsc_cl_token_file_text(cases[i].status, cases[i].body,
							 strlen(cases[i].body), &sso, &text, &err),
				 cases[i].rc);
		ck_assert_ptr_null(text);
		ck_assert_msg(strstr(err.msg, cases[i].says) != NULL, "case %zu: %s", i, err.msg);
		ck_assert_msg(strstr(err.msg, "SECRET") == NULL, "case %zu quotes: %s", i, err.msg);
	}
	nsc_cl_sso_fini(&sso);
}
END_TEST

/* ---- CONNECT_CARELINK_SERVER ------------------------------------------------- */

START_TEST(rewrite_host)
{
	static const char *const cases[][3] = {
		{ "https://clcloud.minimed.eu/connect/x?a=1", "http://127.0.0.1:8080",
		  "http://127.0.0.1:8080/connect/x?a=1" },
		{ "https://carelink-login.minimed.com:443/oauth/token", "http://127.0.0.1:8080/",
		  "http://127.0.0.1:8080/oauth/token" },
		{ "https://CARELINK.MINIMED.EU", "http://sim:1/base", "http://sim:1/base" },
		{ "https://minimed.eu/p", "http://sim", "http://sim/p" },
		{ "https://evilminimed.eu/p", "http://sim", "https://evilminimed.eu/p" },
		{ "https://minimed.eu.example/p", "http://sim", "https://minimed.eu.example/p" },
		{ "https://other.example/p", "http://sim", "https://other.example/p" },
		{ "https://clcloud.minimed.eu/p", "", "https://clcloud.minimed.eu/p" },
		{ "https://clcloud.minimed.eu/p", NULL, "https://clcloud.minimed.eu/p" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsc_error err;
		char *out = NULL;
		ck_assert_int_eq(nsc_cl_rewrite_host(cases[i][0], cases[i][1], &out, &err), NSC_OK);
		ck_assert_msg(!strcmp(out, cases[i][2]), "case %zu: %s", i, out);
		free(out);
	}
}
END_TEST

static Suite *carelink_auth_suite(void)
{
	Suite *s = suite_create("carelink_auth");
	TCase *t = tcase_create("pure");

	tcase_add_test(t, discovery_urls);
	tcase_add_test(t, discovery_fixture_eu);
	tcase_add_test(t, discovery_no_region);
	tcase_add_test(t, discovery_use_sso_configuration);
	tcase_add_test(t, sso_fixture);
	tcase_add_test(t, sso_port_and_prefix);
	tcase_add_test(t, sso_missing_members);
	tcase_add_test(t, pkce_rfc7636_appendix_b);
	tcase_add_test(t, pkce_base64url_lengths);
	tcase_add_test(t, pkce_random_texts);
	tcase_add_test(t, pkce_verifier_form);
	tcase_add_test(t, percent_encode);
	tcase_add_test(t, authorize_url_fixture);
	tcase_add_test(t, token_request_body);
	tcase_add_test(t, code_from_redirect_url);
	tcase_add_test(t, code_bare);
	tcase_add_test(t, code_percent_encoded);
	tcase_add_test(t, code_wrong_state);
	tcase_add_test(t, code_refused_or_missing);
	tcase_add_test(t, token_file_from_answer);
	tcase_add_test(t, token_answer_errors);
	tcase_add_test(t, rewrite_host);
	suite_add_tcase(s, t);
	return s;
}

NSC_CHECK_MAIN(carelink_auth_suite)
