/* SPDX-License-Identifier: MIT */
/*
 * The CareLink simulator (tests/server/carelink.h) over real HTTP with
 * libcurl, no driver code: discovery and SSO configuration, the Auth0 PKCE
 * flow, refresh rotation and revocation, access-token expiry, the session
 * calls, the display message in both shapes, the Guardian GETs, scripted
 * failures. The simulator runs on a virtual clock the tests move.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "curl_reply.h"
#include "nsc_check.h"
#include "server/carelink.h"
#include "server/iso_time.h"
#include "server/server.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define T0 1745082000000LL /* 2025-04-19T17:00:00.000Z */
/* The challenge by `printf %s <verifier> | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d =` */
#define FIXED_VERIFIER "dBjftJeZ4CVP-mJ92IXDgRnpoEMuWXjKCTuXo_1mNBQ"
#define FIXED_CHALLENGE "XlEcP614xMuKAe6mcdoc7zjkE0JWYAvAvTnH8UMmw-0"
#define LEGACY_QUERY "?cpSerialNumber=NONE&msgType=last24hours&requestTime=1745082000000"

/* ---- fixture: server, simulator, virtual clock ------------------------------ */

static _Atomic int64_t clock_ms;
static struct tsrv *srv;
static struct tcl *cl;

static int64_t virtual_now(void *ctx)
{
	(void)ctx;
	return atomic_load(&clock_ms);
}

static struct tcl_config base_config(void)
{
	struct tcl_config c = { .seed = 7, .now_ms = virtual_now };
	return c;
}

static void start(const struct tcl_config *cfg)
{
	atomic_store(&clock_ms, T0);
	srv = tsrv_start(0);
	ck_assert_ptr_nonnull(srv);
	cl = tcl_attach(srv, cfg);
	ck_assert_ptr_nonnull(cl);
}

static void start_default(void)
{
	struct tcl_config cfg = base_config();
	start(&cfg);
}

static void stop(void)
{
	tsrv_stop(srv);
	tcl_free(cl);
	srv = NULL;
	cl = NULL;
}

/* ---- HTTP ------------------------------------------------------------------- */

/* One request; body NULL means GET; form true posts form-urlencoded, else JSON. Caller frees r->body. */
static void http(const char *path, const char *body, bool form, const char *bearer, struct curl_reply *r)
{
	char url[1024], auth[2048];
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	snprintf(url, sizeof(url), "%s%s", tsrv_url(srv), path);
	h = curl_slist_append(h, "Accept: application/json");
	if (body)
		h = curl_slist_append(h, form ? "Content-Type: application/x-www-form-urlencoded"
					      : "Content-Type: application/json");
	if (bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		h = curl_slist_append(h, auth);
	}
	ck_assert_ptr_nonnull(h);
	curl_reply_perform(c, h, url, body, r);
	curl_slist_free_all(h);
}

/* The request's parsed answer, asserting its status. */
static struct json_object *call(const char *path, const char *body, bool form, const char *bearer, long status)
{
	struct curl_reply r;
	http(path, body, form, bearer, &r);
	ck_assert_msg(r.status == status, "%s: %ld %s", path, r.status, r.body);
	struct json_object *o = json_tokener_parse(r.body);
	ck_assert_msg(o != NULL, "%s: not JSON: %s", path, r.body);
	free(r.body);
	return o;
}

/* Asserts the answer is status with body {}. */
static void expect_empty(const char *path, const char *body, const char *bearer, long status)
{
	struct curl_reply r;
	http(path, body, false, bearer, &r);
	ck_assert_msg(r.status == status, "%s: %ld %s", path, r.status, r.body);
	ck_assert_str_eq(r.body, "{}");
	free(r.body);
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s", key, json_object_to_json_string(o));
	return v;
}

static bool has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);
	ck_assert_msg(json_object_is_type(v, json_type_string), "%s not a string", key);
	return json_object_get_string(v);
}

static int64_t num(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);
	ck_assert_msg(json_object_is_type(v, json_type_int), "%s not an integer", key);
	return json_object_get_int64(v);
}

static struct json_object *at(struct json_object *arr, size_t i)
{
	ck_assert(json_object_is_type(arr, json_type_array));
	ck_assert_uint_lt(i, json_object_array_length(arr));
	return json_object_array_get_idx(arr, i);
}

static int64_t iso(const char *s, int *off)
{
	long long ms = 0;
	ck_assert_msg(tsns_parse_iso(s, &ms, off), "not ISO: %s", s);
	return ms;
}

/* ---- tokens ------------------------------------------------------------------ */

static char token_buf[4096];

/* The access token of a fresh token file (also sets refresh_out when given). */
static const char *fresh_access(char *refresh_out, size_t size)
{
	char json[8192];
	ck_assert_int_gt(tcl_token_file_json(cl, json, sizeof(json)), 0);
	struct json_object *o = json_tokener_parse(json);
	ck_assert_ptr_nonnull(o);
	snprintf(token_buf, sizeof(token_buf), "%s", str(o, "access_token"));
	if (refresh_out)
		snprintf(refresh_out, size, "%s", str(o, "refresh_token"));
	json_object_put(o);
	return token_buf;
}

static void b64url_decode(const char *in, char *out, size_t size)
{
	char std[1024];
	size_t n = strlen(in);
	ck_assert_uint_lt(n + 4, sizeof(std));
	for (size_t i = 0; i < n; i++)
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (n % 4)
		std[n++] = '=';
	std[n] = '\0';
	ck_assert_uint_ge(size, n / 4 * 3 + 1);
	int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)std, (int)n);
	ck_assert_int_ge(len, 0);
	out[len] = '\0';
}

/* The JWT's payload, parsed. */
static struct json_object *jwt_payload(const char *jwt)
{
	char part[1024], text[1024];
	const char *dot = strchr(jwt, '.');
	ck_assert_ptr_nonnull(dot);
	size_t n = strcspn(dot + 1, ".");
	ck_assert_msg(dot[1 + n] == '.', "three parts");
	snprintf(part, sizeof(part), "%.*s", (int)n, dot + 1);
	b64url_decode(part, text, sizeof(text));
	struct json_object *o = json_tokener_parse(text);
	ck_assert_msg(o != NULL, "payload not JSON: %s", text);
	return o;
}

/* The S256 challenge of a verifier, by EVP and standard base64 (not the simulator's code). */
static void challenge_of(const char *verifier, char out[64])
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[128];
	unsigned int n = 0;
	ck_assert_int_eq(EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL), 1);
	int len = EVP_EncodeBlock(b64, md, (int)n);
	while (len > 0 && b64[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	out[len] = '\0';
}

static char *esc(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	ck_assert_ptr_nonnull(e);
	return e;
}

/* An authorize URL; `drop` names a parameter to leave out, `bad` one to send wrong ("x"; state empty). */
static void authorize_url(const char *challenge, const char *drop, const char *bad, char *out, size_t size)
{
	const char *names[] = { "client_id", "response_type", "scope", "audience", "redirect_uri",
				"code_challenge", "code_challenge_method", "state" };
	const char *values[] = { TCL_CLIENT_ID, "code", TCL_SCOPE, TCL_AUDIENCE, TCL_REDIRECT_URI,
				 challenge, "S256", "st/1 2" };
	size_t o = (size_t)snprintf(out, size, "https://carelink-login.minimed.eu/authorize");
	char sep = '?';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (drop && strcmp(drop, names[i]) == 0)
			continue;
		bool wrong = bad && strcmp(bad, names[i]) == 0;
		char *v = esc(wrong ? (strcmp(bad, "state") == 0 ? "" : "x") : values[i]);
		o += (size_t)snprintf(out + o, size - o, "%c%s=%s", sep, names[i], v);
		curl_free(v);
		sep = '&';
	}
	ck_assert_uint_lt(o, size);
}

/* The code in a redirect URL (asserting its form and the state). */
static void code_of(const char *redirect, char *out, size_t size)
{
	const char *prefix = TCL_REDIRECT_URI "?code=";
	ck_assert_msg(strncmp(redirect, prefix, strlen(prefix)) == 0, "redirect %s", redirect);
	const char *code = redirect + strlen(prefix);
	size_t n = strcspn(code, "&");
	ck_assert_str_eq(code + n, "&state=st%2F1%202");
	snprintf(out, size, "%.*s", (int)n, code);
}

/* A code from tcl_browser_login for this challenge. */
static void login_code(const char *challenge, char *code, size_t size)
{
	char url[2048];
	authorize_url(challenge, NULL, NULL, url, sizeof(url));
	char *redirect = tcl_browser_login(cl, url);
	ck_assert_ptr_nonnull(redirect);
	code_of(redirect, code, size);
	free(redirect);
}

static struct json_object *exchange(const char *code, const char *redirect, const char *verifier, long status)
{
	char body[2048];
	char *c = esc(code), *r = esc(redirect), *v = esc(verifier);
	snprintf(body, sizeof(body), "grant_type=authorization_code&client_id=%s&code=%s&redirect_uri=%s&code_verifier=%s",
		 TCL_CLIENT_ID, c, r, v);
	curl_free(c);
	curl_free(r);
	curl_free(v);
	return call(TCL_TOKEN_PATH, body, true, NULL, status);
}

static struct json_object *refresh(const char *client, const char *token, long status)
{
	char body[1024];
	snprintf(body, sizeof(body), "grant_type=refresh_token&client_id=%s&refresh_token=%s", client, token);
	return call(TCL_TOKEN_PATH, body, true, NULL, status);
}

static void expect_oauth_error(struct json_object *o, const char *error)
{
	ck_assert_str_eq(str(o, "error"), error);
	json_object_put(o);
}

/* ---- data helpers ------------------------------------------------------------- */

static struct json_object *display(const char *bearer, const char *user, const char *role, const char *patient,
				   long status)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"role\":\"%s\",\"patientId\":\"%s\"}", user, role,
		 patient);
	return call(TCL_DISPLAY_PATH, body, false, bearer, status);
}

/* The 2025 patientData of the default care partner's patient. */
static struct json_object *display_2025(const char *bearer)
{
	struct json_object *doc = display(bearer, TCL_CARER, "carepartner", TCL_PATIENT, 200);
	ck_assert(json_object_is_type(member(doc, "metadata"), json_type_object));
	struct json_object *pd = json_object_get(member(doc, "patientData"));
	json_object_put(doc);
	return pd;
}

static double text_number(struct json_object *v)
{
	ck_assert_msg(json_object_is_type(v, json_type_string), "not a string: %s", json_object_to_json_string(v));
	char *end;
	double d = strtod(json_object_get_string(v), &end);
	ck_assert(*end == '\0');
	return d;
}

static double number(struct json_object *v)
{
	ck_assert(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int));
	return json_object_get_double(v);
}

/* Expected and served markers agree: values, index, time (2025: pump-local; legacy: real offset). */
static void check_markers(struct json_object *served, bool legacy, int offset_min, size_t at_least)
{
	struct json_object *want;
	size_t n = tcl_markers(cl, &want);
	ck_assert_uint_ge(n, at_least);
	ck_assert_uint_eq(json_object_array_length(served), n);
	static const char *const amounts[] = { "amount", "deliveredFastAmount", "programmedFastAmount",
					       "deliveredExtendedAmount", "value", "bolusAmount" };
	for (size_t i = 0; i < n; i++) {
		struct json_object *w = at(want, i), *s = at(served, i);
		int64_t t = num(w, "trueUtcMs");
		ck_assert_str_eq(str(s, "type"), str(w, "type"));
		ck_assert_int_eq(num(s, "index"), num(w, "index"));
		ck_assert_int_eq(num(w, "index"), ((t % (24 * HOUR)) / (5 * MIN)));
		int off = 9999;
		if (legacy) {
			ck_assert_int_eq(iso(str(s, "dateTime"), &off), t);
			ck_assert_int_eq(off, offset_min);
		} else {
			ck_assert_int_eq(iso(str(s, "timestamp"), &off), t + offset_min * MIN);
			ck_assert_int_eq(off, 0);
		}
		struct json_object *values = legacy ? s : member(member(s, "data"), "dataValues");
		for (size_t k = 0; k < sizeof(amounts) / sizeof(amounts[0]); k++) {
			struct json_object *wv;
			if (!json_object_object_get_ex(w, amounts[k], &wv))
				continue;
			struct json_object *sv = member(values, amounts[k]);
			double got = legacy ? number(sv) : text_number(sv);
			ck_assert_double_eq_tol(got, json_object_get_double(wv), 1e-9);
		}
	}
	json_object_put(want);
}

/* Expected and served SGs agree; returns the number of sg 0 points. */
static size_t check_sgs(struct json_object *served, bool legacy, int offset_min)
{
	struct json_object *want;
	size_t n = tcl_sgs(cl, &want), zeros = 0;
	ck_assert_uint_eq(n, 288);
	ck_assert_uint_eq(json_object_array_length(served), n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *w = at(want, i), *s = at(served, i);
		int64_t t = num(w, "trueUtcMs");
		int off = 9999;
		ck_assert_int_eq(num(s, "sg"), num(w, "sg"));
		ck_assert_str_eq(str(s, "kind"), "SG");
		if (legacy) {
			ck_assert_int_eq(iso(str(s, "datetime"), &off), t);
			ck_assert_int_eq(off, offset_min);
		} else {
			const char *ts = str(s, "timestamp");
			ck_assert_msg(strlen(ts) == 19, "no zone, whole seconds: %s", ts);
			ck_assert_int_eq(iso(ts, &off), t + offset_min * MIN);
		}
		if (i > 0)
			ck_assert_int_eq(t - num(at(want, i - 1), "trueUtcMs"), 5 * MIN);
		if (num(s, "sg") == 0) {
			zeros++;
			ck_assert_str_eq(str(s, "sensorState"), "WARM_UP");
		} else {
			ck_assert_int_ge(num(s, "sg"), 40);
			ck_assert_int_le(num(s, "sg"), 400);
		}
	}
	json_object_put(want);
	return zeros;
}

static bool known_trend(const char *t)
{
	static const char *const trends[] = { "NONE", "UP", "UP_DOUBLE", "UP_TRIPLE",
					      "DOWN", "DOWN_DOUBLE", "DOWN_TRIPLE" };
	for (size_t i = 0; i < sizeof(trends) / sizeof(trends[0]); i++)
		if (strcmp(t, trends[i]) == 0)
			return true;
	return false;
}

/* ---- login ------------------------------------------------------------------- */

START_TEST(discovery_and_sso_config)
{
	start_default();
	struct json_object *d = call(TCL_DISCOVERY_PATH, NULL, false, NULL, 200);
	struct json_object *gb = member(at(member(d, "supportedCountries"), 0), "GB");
	ck_assert_str_eq(str(gb, "region"), "EU");
	ck_assert_str_eq(str(member(at(member(d, "supportedCountries"), 1), "US"), "region"), "US");
	struct json_object *eu = at(member(d, "CP"), 0);
	ck_assert_str_eq(str(eu, "region"), "EU");
	ck_assert_str_eq(str(eu, "UseSSOConfiguration"), "Auth0SSOConfiguration");
	ck_assert_str_eq(str(eu, "Auth0SSOConfiguration"),
			 "https://clcloud.minimed.eu/connect/carepartner/v13/sso/auth0.json");
	ck_assert_str_eq(str(eu, "baseUrlCareLink"), "https://carelink.minimed.eu/patient");
	ck_assert_str_eq(str(eu, "baseUrlCumulus"), "https://clcloud.minimed.eu/connect/carepartner/v13");
	struct json_object *us = at(member(d, "CP"), 1);
	ck_assert_str_eq(str(us, "region"), "US");
	ck_assert_str_eq(str(us, "baseUrlCumulus"), "https://clcloud.minimed.com/connect/carepartner/v13");
	json_object_put(d);

	struct json_object *s = call(TCL_SSO_PATH, NULL, false, NULL, 200);
	ck_assert_str_eq(str(member(s, "server"), "hostname"), "carelink-login.minimed.eu");
	ck_assert_int_eq(num(member(s, "server"), "port"), 443);
	ck_assert_str_eq(str(member(s, "server"), "prefix"), "");
	struct json_object *client = member(s, "client");
	ck_assert_str_eq(str(client, "client_id"), TCL_CLIENT_ID);
	ck_assert_str_eq(str(client, "scope"), TCL_SCOPE);
	ck_assert_str_eq(str(client, "audience"), TCL_AUDIENCE);
	ck_assert_str_eq(str(client, "redirect_uri"), TCL_REDIRECT_URI);
	ck_assert_str_eq(str(member(s, "system_endpoints"), "authorization_endpoint_path"), "/authorize");
	ck_assert_str_eq(str(member(s, "system_endpoints"), "token_endpoint_path"), "/oauth/token");
	json_object_put(s);
	stop();
}
END_TEST

START_TEST(pkce_flow_issues_tokens)
{
	char code[128], challenge[64], verifier[64];
	start_default();
	/* The simulator's S256 agrees with the openssl tool's. */
	login_code(FIXED_CHALLENGE, code, sizeof(code));
	struct json_object *t = exchange(code, TCL_REDIRECT_URI, FIXED_VERIFIER, 200);
	ck_assert_str_eq(str(t, "token_type"), "Bearer");
	ck_assert_str_eq(str(t, "scope"), TCL_SCOPE);
	ck_assert_int_eq(num(t, "expires_in"), 3600);
	ck_assert_str_eq(str(t, "refresh_token"), (tcl_last_refresh_token(cl, verifier, sizeof(verifier)), verifier));
	ck_assert(strncmp(str(t, "refresh_token"), "RT-", 3) == 0);
	struct json_object *p = jwt_payload(str(t, "access_token"));
	ck_assert_int_eq(num(p, "iat"), T0 / SEC);
	ck_assert_int_eq(num(p, "exp"), T0 / SEC + 3600);
	ck_assert_str_eq(str(p, "aud"), TCL_AUDIENCE);
	ck_assert_str_eq(str(p, "sub"), TCL_CARER);
	json_object_put(p);
	json_object_put(call("/patient/users/me", NULL, false, str(t, "access_token"), 200));
	json_object_put(t);
	ck_assert_uint_eq(tcl_code_exchanges(cl), 1);
	/* A code serves once. */
	expect_oauth_error(exchange(code, TCL_REDIRECT_URI, FIXED_VERIFIER, 403), "invalid_grant");
	ck_assert_uint_eq(tcl_code_exchanges(cl), 1);

	/* A verifier of our own, its challenge computed here. */
	snprintf(verifier, sizeof(verifier), "%s", "Zm9vYmFyLXZlcmlmaWVyLTAxMjM0NTY3ODlhYmNkZWZnaGk");
	challenge_of(verifier, challenge);
	login_code(challenge, code, sizeof(code));
	json_object_put(exchange(code, TCL_REDIRECT_URI, verifier, 200));
	ck_assert_uint_eq(tcl_code_exchanges(cl), 2);
	stop();
}
END_TEST

START_TEST(pkce_refuses_wrong_verifier_redirect_and_client)
{
	char code[128], body[1024];
	start_default();
	login_code(FIXED_CHALLENGE, code, sizeof(code));
	expect_oauth_error(exchange(code, TCL_REDIRECT_URI, FIXED_VERIFIER "x", 403), "invalid_grant");
	expect_oauth_error(exchange(code, "com.other://callback", FIXED_VERIFIER, 403), "invalid_grant");
	expect_oauth_error(exchange("AC-unknown", TCL_REDIRECT_URI, FIXED_VERIFIER, 403), "invalid_grant");
	snprintf(body, sizeof(body), "grant_type=authorization_code&client_id=OTHER&code=%s&redirect_uri=x&code_verifier=y",
		 code);
	expect_oauth_error(call(TCL_TOKEN_PATH, body, true, NULL, 401), "access_denied");
	expect_oauth_error(call(TCL_TOKEN_PATH, "grant_type=password&client_id=" TCL_CLIENT_ID, true, NULL, 400),
			   "unsupported_grant_type");
	expect_oauth_error(call(TCL_TOKEN_PATH, "client_id=" TCL_CLIENT_ID, true, NULL, 400), "invalid_request");
	ck_assert_uint_eq(tcl_code_exchanges(cl), 0);
	/* Those failures did not use the code up. */
	json_object_put(exchange(code, TCL_REDIRECT_URI, FIXED_VERIFIER, 200));
	ck_assert_uint_eq(tcl_code_exchanges(cl), 1);
	stop();
}
END_TEST

START_TEST(browser_login_checks_the_url)
{
	static const char *const params[] = { "client_id", "response_type", "scope", "audience", "redirect_uri",
					      "code_challenge", "code_challenge_method", "state" };
	char url[2048];
	start_default();
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		authorize_url(FIXED_CHALLENGE, params[i], NULL, url, sizeof(url));
		ck_assert_msg(tcl_browser_login(cl, url) == NULL, "without %s", params[i]);
		authorize_url(FIXED_CHALLENGE, NULL, params[i], url, sizeof(url));
		ck_assert_msg(tcl_browser_login(cl, url) == NULL, "bad %s", params[i]);
	}
	authorize_url(FIXED_CHALLENGE, NULL, NULL, url, sizeof(url));
	char *ok = tcl_browser_login(cl, url);
	ck_assert_ptr_nonnull(ok);
	free(ok);
	char *q = strchr(url, '?');
	char other[2100];
	snprintf(other, sizeof(other), "https://carelink-login.minimed.eu/login%s", q);
	ck_assert_ptr_null(tcl_browser_login(cl, other));
	/* Over HTTP the same query is a 302 to the app's redirect URI. */
	struct curl_reply r;
	snprintf(other, sizeof(other), "/authorize%s", q);
	http(other, NULL, false, NULL, &r);
	ck_assert_int_eq(r.status, 302);
	char code[128];
	code_of(r.location, code, sizeof(code));
	free(r.body);
	json_object_put(exchange(code, TCL_REDIRECT_URI, FIXED_VERIFIER, 200));
	stop();
}
END_TEST

START_TEST(refresh_rotates_and_refuses_the_old_token)
{
	char rt1[128], rt2[128];
	start_default();
	fresh_access(rt1, sizeof(rt1));
	struct json_object *t = refresh(TCL_CLIENT_ID, rt1, 200);
	snprintf(rt2, sizeof(rt2), "%s", str(t, "refresh_token"));
	ck_assert_str_ne(rt1, rt2);
	char last[128];
	tcl_last_refresh_token(cl, last, sizeof(last));
	ck_assert_str_eq(last, rt2);
	json_object_put(call("/patient/users/me", NULL, false, str(t, "access_token"), 200));
	json_object_put(t);
	expect_oauth_error(refresh(TCL_CLIENT_ID, rt1, 403), "invalid_grant");
	expect_oauth_error(refresh("OTHER", rt2, 401), "access_denied");
	json_object_put(refresh(TCL_CLIENT_ID, rt2, 200));
	ck_assert_uint_eq(tcl_refreshes(cl), 2);
	ck_assert_uint_eq(tcl_code_exchanges(cl), 0);
	stop();
}
END_TEST

START_TEST(keep_refresh_returns_no_new_token)
{
	char rt[128];
	struct tcl_config cfg = base_config();
	cfg.keep_refresh = true;
	start(&cfg);
	fresh_access(rt, sizeof(rt));
	for (int i = 0; i < 2; i++) {
		struct json_object *t = refresh(TCL_CLIENT_ID, rt, 200);
		ck_assert(!has(t, "refresh_token"));
		ck_assert(has(t, "access_token"));
		json_object_put(t);
	}
	ck_assert_uint_eq(tcl_refreshes(cl), 2);
	stop();
}
END_TEST

START_TEST(revoke_refuses_every_refresh_token)
{
	char a[128], b[128];
	start_default();
	fresh_access(a, sizeof(a));
	fresh_access(b, sizeof(b));
	tcl_revoke_refresh(cl);
	struct json_object *e = refresh(TCL_CLIENT_ID, a, 403);
	ck_assert_str_eq(str(e, "error_description"), "Unknown or invalid refresh token.");
	expect_oauth_error(e, "invalid_grant");
	expect_oauth_error(refresh(TCL_CLIENT_ID, b, 403), "invalid_grant");
	ck_assert_uint_eq(tcl_refreshes(cl), 0);
	stop();
}
END_TEST

START_TEST(access_tokens_expire_and_invalidate)
{
	char rt[128], access[4096];
	struct tcl_config cfg = base_config();
	cfg.access_lifetime_s = 600;
	start(&cfg);
	snprintf(access, sizeof(access), "%s", fresh_access(rt, sizeof(rt)));
	struct json_object *p = jwt_payload(access);
	ck_assert_int_eq(num(p, "exp") - num(p, "iat"), 600);
	json_object_put(p);
	expect_empty("/patient/users/me", NULL, NULL, 401);
	expect_empty("/patient/users/me", NULL, "not-a-token", 401);
	atomic_store(&clock_ms, T0 + 599 * SEC);
	json_object_put(call("/patient/users/me", NULL, false, access, 200));
	atomic_store(&clock_ms, T0 + 600 * SEC);
	expect_empty("/patient/users/me", NULL, access, 401);
	struct json_object *t = refresh(TCL_CLIENT_ID, rt, 200);
	snprintf(access, sizeof(access), "%s", str(t, "access_token"));
	json_object_put(t);
	json_object_put(call("/patient/users/me", NULL, false, access, 200));
	tcl_invalidate_access(cl);
	expect_empty("/patient/users/me", NULL, access, 401);
	expect_empty(TCL_DISPLAY_PATH, "{}", access, 401);
	/* A later token works again. */
	json_object_put(call("/patient/users/me", NULL, false, fresh_access(NULL, 0), 200));
	stop();
}
END_TEST

/* ---- session calls ------------------------------------------------------------- */

START_TEST(users_me_for_both_roles)
{
	start_default();
	struct json_object *me = call("/patient/users/me", NULL, false, fresh_access(NULL, 0), 200);
	ck_assert_str_eq(str(me, "id"), "u-1");
	ck_assert_str_eq(str(me, "username"), TCL_CARER);
	ck_assert_str_eq(str(me, "firstName"), "Ann");
	ck_assert_str_eq(str(me, "lastName"), "Doe");
	ck_assert_str_eq(str(me, "country"), "GB");
	ck_assert_str_eq(str(me, "language"), "en");
	ck_assert_str_eq(str(me, "role"), "CARE_PARTNER_OUS");
	ck_assert(!json_object_get_boolean(member(me, "mfaRequired")));
	json_object_put(me);
	stop();

	struct tcl_config cfg = base_config();
	cfg.patient_account = true;
	cfg.country = "DE";
	start(&cfg);
	const char *access = fresh_access(NULL, 0);
	me = call("/patient/users/me", NULL, false, access, 200);
	ck_assert_str_eq(str(me, "username"), TCL_PATIENT);
	ck_assert_str_eq(str(me, "role"), "PATIENT_OUS");
	ck_assert_str_eq(str(me, "country"), "DE");
	json_object_put(me);
	expect_empty("/patient/m2m/links/patients", NULL, access, 403);
	stop();
}
END_TEST

START_TEST(linked_patients_are_listed)
{
	struct tcl_config cfg = base_config();
	cfg.patients[0] = "kid1";
	cfg.patients[1] = "kid2";
	start(&cfg);
	struct json_object *l = call("/patient/m2m/links/patients", NULL, false, fresh_access(NULL, 0), 200);
	ck_assert_uint_eq(json_object_array_length(l), 2);
	ck_assert_str_eq(str(at(l, 0), "username"), "kid1");
	ck_assert_str_eq(str(at(l, 0), "firstName"), "Bob");
	ck_assert_str_eq(str(at(l, 1), "username"), "kid2");
	ck_assert_str_eq(str(at(l, 1), "lastName"), "Doe");
	json_object_put(l);
	stop();
	start_default();
	l = call("/patient/m2m/links/patients", NULL, false, fresh_access(NULL, 0), 200);
	ck_assert_uint_eq(json_object_array_length(l), 1);
	ck_assert_str_eq(str(at(l, 0), "username"), TCL_PATIENT);
	json_object_put(l);
	stop();
}
END_TEST

START_TEST(country_settings_and_monitor_data)
{
	start_default();
	const char *access = fresh_access(NULL, 0);
	struct json_object *s = call("/patient/countries/settings?countryCode=gb&language=en", NULL, false, access, 200);
	ck_assert_str_eq(str(s, "blePereodicDataEndpoint"),
			 "https://clcloud.minimed.eu/connect/carepartner/v11/display/message");
	json_object_put(s);
	expect_empty("/patient/countries/settings?countryCode=US&language=en", NULL, access, 400);
	expect_empty("/patient/countries/settings?language=en", NULL, access, 400);
	expect_empty("/patient/countries/settings?countryCode=GB", NULL, NULL, 401);
	struct json_object *m = call("/patient/monitor/data", NULL, false, access, 200);
	ck_assert_str_eq(str(m, "deviceFamily"), "NGP_BLE");
	json_object_put(m);
	stop();
	struct tcl_config cfg = base_config();
	cfg.device_family = "SIMPLERA";
	start(&cfg);
	m = call("/patient/monitor/data", NULL, false, fresh_access(NULL, 0), 200);
	ck_assert_str_eq(str(m, "deviceFamily"), "SIMPLERA");
	json_object_put(m);
	stop();
}
END_TEST

/* ---- the display message ----------------------------------------------------------- */

START_TEST(display_message_2025_shape)
{
	start_default();
	struct json_object *pd = display_2025(fresh_access(NULL, 0));
	ck_assert_str_eq(str(pd, "medicalDeviceFamily"), "NGP");
	ck_assert_int_eq(num(pd, "currentServerTime"), T0);
	ck_assert_int_eq(num(pd, "lastMedicalDeviceDataUpdateServerTime"), T0 - MIN);
	ck_assert_int_eq(num(pd, "lastConduitUpdateServerDateTime"), T0 - MIN);
	int off = 9999;
	ck_assert_str_eq(str(pd, "lastConduitDateTime"), "2025-04-19T17:59:00");
	ck_assert_int_eq(iso(str(pd, "lastConduitDateTime"), &off), T0 - MIN + 60 * MIN);
	ck_assert_str_eq(str(pd, "clientTimeZoneName"), "Europe/London");
	ck_assert_int_ge(num(pd, "pumpBatteryLevelPercent"), 0);
	ck_assert_int_le(num(pd, "pumpBatteryLevelPercent"), 100);
	ck_assert(!has(pd, "medicalDeviceBatteryLevelPercent"));
	ck_assert(!has(pd, "sMedicalDeviceTime"));
	static const char *const keys[] = { "conduitBatteryLevel", "reservoirRemainingUnits", "sensorState",
					    "calibStatus", "timeToNextCalibHours", "conduitInRange",
					    "conduitMedicalDeviceInRange", "conduitSensorInRange", "bgUnits" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(has(pd, keys[i]), "no %s", keys[i]);
	ck_assert_str_eq(str(pd, "bgUnits"), "MGDL");
	ck_assert_int_eq(iso(str(member(pd, "activeInsulin"), "datetime"), &off), T0 - MIN + HOUR);
	ck_assert_int_eq(num(member(pd, "lastAlarm"), "code"), 102);
	ck_assert_str_eq(str(member(pd, "lastAlarm"), "type"), "ALARM");

	struct json_object *sgs = member(pd, "sgs");
	ck_assert_uint_gt(check_sgs(sgs, false, 60), 1);
	struct json_object *last = at(sgs, json_object_array_length(sgs) - 1);
	ck_assert_int_eq(num(member(pd, "lastSG"), "sg"), num(last, "sg"));
	ck_assert_str_eq(str(member(pd, "lastSG"), "timestamp"), str(last, "timestamp"));
	ck_assert_str_eq(str(last, "timestamp"), "2025-04-19T17:55:00");
	ck_assert(known_trend(str(pd, "lastSGTrend")));

	struct json_object *markers = member(pd, "markers");
	check_markers(markers, false, 60, 30);
	/* Every MEAL has an INSULIN at the same index and time right after it. */
	size_t meals = 0;
	for (size_t i = 0; i < json_object_array_length(markers); i++) {
		struct json_object *m = at(markers, i);
		if (strcmp(str(m, "type"), "MEAL") != 0)
			continue;
		struct json_object *b = at(markers, i + 1);
		ck_assert_str_eq(str(b, "type"), "INSULIN");
		ck_assert_int_eq(num(b, "index"), num(m, "index"));
		ck_assert_str_eq(str(b, "timestamp"), str(m, "timestamp"));
		ck_assert(json_object_get_boolean(member(member(member(b, "data"), "dataValues"), "completed")));
		meals++;
	}
	ck_assert_uint_ge(meals, 2);
	json_object_put(pd);
	stop();
}
END_TEST

/* Whether a marker list holds `type` (with `key` = text when key is given). */
static bool holds(struct json_object *markers, const char *type, const char *key, const char *text)
{
	for (size_t i = 0; i < json_object_array_length(markers); i++) {
		struct json_object *m = at(markers, i), *v;
		if (strcmp(str(m, "type"), type) != 0)
			continue;
		if (!key || (json_object_object_get_ex(m, key, &v) && strcmp(json_object_get_string(v), text) == 0))
			return true;
	}
	return false;
}

START_TEST(display_message_legacy_shape_at_0530)
{
	struct tcl_config cfg = base_config();
	cfg.legacy_shape = true;
	cfg.offset_min = 330;
	start(&cfg);
	struct json_object *doc = display(fresh_access(NULL, 0), TCL_CARER, "carepartner", TCL_PATIENT, 200);
	ck_assert(!has(doc, "patientData"));
	ck_assert_str_eq(str(doc, "medicalDeviceFamily"), "NGP");
	ck_assert_str_eq(str(doc, "sMedicalDeviceTime"), "Apr 19, 2025 22:29:00");
	int off = 0;
	ck_assert_str_eq(str(doc, "lastConduitDateTime"), "2025-04-19T22:29:00.000+05:30");
	ck_assert_int_eq(iso(str(doc, "lastConduitDateTime"), &off), T0 - MIN);
	ck_assert_int_eq(off, 330);
	ck_assert(has(doc, "medicalDeviceBatteryLevelPercent"));
	ck_assert(!has(doc, "pumpBatteryLevelPercent"));
	ck_assert(!has(doc, "clientTimeZoneName"));
	ck_assert_int_eq(num(doc, "currentServerTime"), T0);
	ck_assert(json_object_is_type(member(doc, "reservoirRemainingUnits"), json_type_double));
	struct json_object *sgs = member(doc, "sgs");
	ck_assert_uint_gt(check_sgs(sgs, true, 330), 1);
	ck_assert_str_eq(str(at(sgs, 287), "datetime"), "2025-04-19T22:25:00.000+05:30");
	ck_assert_int_eq(num(at(sgs, 0), "version"), 1);
	struct json_object *markers = member(doc, "markers");
	check_markers(markers, true, 330, 30);
	ck_assert(holds(markers, "INSULIN", "bolusType", "FAST"));
	ck_assert(holds(markers, "BG_READING", NULL, NULL));
	ck_assert(holds(markers, "CALIBRATION", NULL, NULL));
	ck_assert(holds(markers, "AUTO_BASAL_DELIVERY", NULL, NULL));
	ck_assert(holds(markers, "INSULIN", "activationType", "MANUAL"));
	json_object_put(doc);
	stop();
}
END_TEST

START_TEST(display_message_2025_shape_at_0530)
{
	struct tcl_config cfg = base_config();
	cfg.offset_min = 330;
	cfg.tz_name = "Asia/Kolkata";
	start(&cfg);
	struct json_object *pd = display_2025(fresh_access(NULL, 0));
	ck_assert_str_eq(str(pd, "lastConduitDateTime"), "2025-04-19T22:29:00");
	ck_assert_str_eq(str(pd, "clientTimeZoneName"), "Asia/Kolkata");
	check_sgs(member(pd, "sgs"), false, 330);
	ck_assert_str_eq(str(member(pd, "lastSG"), "timestamp"), "2025-04-19T22:25:00");
	check_markers(member(pd, "markers"), false, 330, 30);
	json_object_put(pd);
	stop();
}
END_TEST

START_TEST(dual_boluses_come_every_other_day)
{
	struct tcl_config cfg = base_config();
	cfg.access_lifetime_s = 3 * 24 * 3600;
	start(&cfg);
	const char *access = fresh_access(NULL, 0);
	bool dual = false;
	for (int day = 0; day < 2 && !dual; day++) {
		atomic_store(&clock_ms, T0 + day * 24 * HOUR + 4 * HOUR);
		struct json_object *pd = display_2025(access);
		struct json_object *markers = member(pd, "markers");
		for (size_t i = 0; i < json_object_array_length(markers); i++) {
			struct json_object *v = member(member(at(markers, i), "data"), "dataValues"), *t;
			if (json_object_object_get_ex(v, "bolusType", &t) && strcmp(json_object_get_string(t), "DUAL") == 0) {
				ck_assert_double_gt(text_number(member(v, "deliveredExtendedAmount")), 0);
				dual = true;
			}
		}
		json_object_put(pd);
	}
	ck_assert(dual);
	stop();
}
END_TEST

START_TEST(display_message_checks_the_body)
{
	start_default();
	const char *access = fresh_access(NULL, 0);
	expect_empty(TCL_DISPLAY_PATH, "{\"username\":\"carer1\",\"role\":\"patient\",\"patientId\":\"patient1\"}",
		     access, 400);
	expect_empty(TCL_DISPLAY_PATH, "{\"username\":\"carer1\",\"role\":\"carepartner\",\"patientId\":\"x\"}",
		     access, 400);
	expect_empty(TCL_DISPLAY_PATH, "{\"username\":\"x\",\"role\":\"carepartner\",\"patientId\":\"patient1\"}",
		     access, 400);
	expect_empty(TCL_DISPLAY_PATH, "not json", access, 400);
	expect_empty("/connect/carepartner/v5/display/message",
		     "{\"username\":\"carer1\",\"role\":\"carepartner\",\"patientId\":\"patient1\"}", access, 404);
	expect_empty("/patient/nothing", NULL, access, 404);
	expect_empty(TCL_DISPLAY_PATH, NULL, access, 404); /* GET */
	stop();

	struct tcl_config cfg = base_config();
	cfg.patient_account = true;
	start(&cfg);
	access = fresh_access(NULL, 0);
	json_object_put(display(access, TCL_PATIENT, "patient", TCL_PATIENT, 200));
	expect_empty(TCL_DISPLAY_PATH,
		     "{\"username\":\"patient1\",\"role\":\"carepartner\",\"patientId\":\"patient1\"}", access, 400);
	stop();
}
END_TEST

START_TEST(stale_upload_and_pump_on_utc)
{
	struct tcl_config cfg = base_config();
	cfg.stale_ms = 30 * MIN;
	cfg.offset_given = true; /* offset 0: the pump on UTC */
	start(&cfg);
	struct json_object *pd = display_2025(fresh_access(NULL, 0));
	ck_assert_int_eq(num(pd, "currentServerTime"), T0);
	ck_assert_int_eq(num(pd, "lastMedicalDeviceDataUpdateServerTime"), T0 - 30 * MIN);
	ck_assert_str_eq(str(pd, "lastConduitDateTime"), "2025-04-19T16:30:00");
	struct json_object *sgs = member(pd, "sgs");
	check_sgs(sgs, false, 0);
	ck_assert_str_eq(str(at(sgs, 287), "timestamp"), "2025-04-19T16:30:00");
	ck_assert_str_eq(str(at(sgs, 0), "timestamp"), "2025-04-18T16:35:00");
	json_object_put(pd);
	stop();
}
END_TEST

START_TEST(other_patients_have_other_data)
{
	struct tcl_config cfg = base_config();
	cfg.patients[0] = "kid1";
	cfg.patients[1] = "kid2";
	start(&cfg);
	const char *access = fresh_access(NULL, 0);
	struct json_object *a = display(access, TCL_CARER, "carepartner", "kid1", 200);
	struct json_object *b = display(access, TCL_CARER, "carepartner", "kid2", 200);
	struct json_object *want;
	tcl_patient_sgs(cl, "kid2", &want);
	struct json_object *sa = member(member(a, "patientData"), "sgs"), *sb = member(member(b, "patientData"), "sgs");
	size_t differ = 0;
	for (size_t i = 0; i < 288; i++) {
		differ += num(at(sa, i), "sg") != num(at(sb, i), "sg");
		ck_assert_int_eq(num(at(sb, i), "sg"), num(at(want, i), "sg"));
	}
	ck_assert_uint_gt(differ, 200);
	json_object_put(want);
	ck_assert_uint_eq(tcl_patient_sgs(cl, "nobody", &want), 0);
	json_object_put(want);
	json_object_put(a);
	json_object_put(b);
	stop();
}
END_TEST

/* ---- Guardian ------------------------------------------------------------------- */

static void check_guardian(struct json_object *doc)
{
	ck_assert_str_eq(str(doc, "medicalDeviceFamily"), "GUARDIAN");
	ck_assert(!has(doc, "reservoirRemainingUnits"));
	ck_assert(!has(doc, "activeInsulin"));
	ck_assert(!has(doc, "pumpBatteryLevelPercent"));
	ck_assert(has(doc, "medicalDeviceBatteryLevelPercent"));
	ck_assert(has(doc, "sMedicalDeviceTime"));
	check_sgs(member(doc, "sgs"), true, 60);
	struct json_object *markers = member(doc, "markers");
	check_markers(markers, true, 60, 3);
	for (size_t i = 0; i < json_object_array_length(markers); i++) {
		const char *t = str(at(markers, i), "type");
		ck_assert_msg(strcmp(t, "BG_READING") == 0 || strcmp(t, "CALIBRATION") == 0, "marker %s", t);
	}
}

START_TEST(guardian_legacy_gets)
{
	struct tcl_config cfg = base_config();
	cfg.device_family = "GUARDIAN";
	cfg.patient_account = true;
	start(&cfg);
	const char *access = fresh_access(NULL, 0);
	struct json_object *doc = call("/patient/connect/data" LEGACY_QUERY, NULL, false, access, 200);
	check_guardian(doc);
	json_object_put(doc);
	expect_empty("/patient/connect/data?cpSerialNumber=NONE&msgType=last24hours", NULL, access, 400);
	expect_empty("/patient/connect/data?cpSerialNumber=X&msgType=last24hours&requestTime=1", NULL, access, 400);
	expect_empty("/patient/m2m/connect/data/gc/patients/patient1" LEGACY_QUERY, NULL, access, 403);
	expect_empty("/patient/connect/data" LEGACY_QUERY, NULL, NULL, 401);
	stop();

	cfg.patient_account = false;
	start(&cfg);
	access = fresh_access(NULL, 0);
	doc = call("/patient/m2m/connect/data/gc/patients/patient1" LEGACY_QUERY, NULL, false, access, 200);
	check_guardian(doc);
	json_object_put(doc);
	expect_empty("/patient/m2m/connect/data/gc/patients/nobody" LEGACY_QUERY, NULL, access, 403);
	expect_empty("/patient/connect/data" LEGACY_QUERY, NULL, access, 403);
	/* The BLE endpoint has nothing for a Guardian: a stub. */
	struct json_object *stub = display(access, TCL_CARER, "carepartner", TCL_PATIENT, 200);
	ck_assert_uint_eq(json_object_object_length(stub), 0);
	json_object_put(stub);
	stop();
}
END_TEST

/* ---- scripting ------------------------------------------------------------------- */

START_TEST(fail_next_answers_the_status)
{
	start_default();
	const char *access = fresh_access(NULL, 0);
	tcl_fail_next(cl, "/patient/users/me", 500, 2);
	expect_empty("/patient/users/me", NULL, access, 500);
	expect_empty("/patient/users/me", NULL, access, 500);
	json_object_put(call("/patient/users/me", NULL, false, access, 200));
	tcl_fail_next(cl, "/connect/carepartner/", 429, 1);
	struct curl_reply r;
	http(TCL_DISCOVERY_PATH, NULL, false, NULL, &r);
	ck_assert_int_eq(r.status, 429);
	ck_assert_str_eq(r.retry_after, "25");
	free(r.body);
	json_object_put(call(TCL_DISCOVERY_PATH, NULL, false, NULL, 200));
	tcl_fail_next(cl, TCL_DISPLAY_PATH, 401, 1);
	expect_empty(TCL_DISPLAY_PATH, "{}", access, 401);
	tcl_fail_next(cl, TCL_TOKEN_PATH, 403, 5);
	tcl_fail_next(cl, TCL_TOKEN_PATH, 403, 0); /* withdrawn */
	char rt[128];
	fresh_access(rt, sizeof(rt));
	json_object_put(refresh(TCL_CLIENT_ID, rt, 200));
	stop();
}
END_TEST

START_TEST(same_seed_same_data)
{
	struct json_object *first, *second;
	start_default();
	tcl_sgs(cl, &first);
	stop();
	start_default();
	tcl_sgs(cl, &second);
	ck_assert(json_object_equal(first, second));
	stop();
	json_object_put(first);
	json_object_put(second);
}
END_TEST

static Suite *carelink_suite(void)
{
	Suite *s = suite_create("test_carelink");
	TCase *t = tcase_create("simulator");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, discovery_and_sso_config);
	tcase_add_test(t, pkce_flow_issues_tokens);
	tcase_add_test(t, pkce_refuses_wrong_verifier_redirect_and_client);
	tcase_add_test(t, browser_login_checks_the_url);
	tcase_add_test(t, refresh_rotates_and_refuses_the_old_token);
	tcase_add_test(t, keep_refresh_returns_no_new_token);
	tcase_add_test(t, revoke_refuses_every_refresh_token);
	tcase_add_test(t, access_tokens_expire_and_invalidate);
	tcase_add_test(t, users_me_for_both_roles);
	tcase_add_test(t, linked_patients_are_listed);
	tcase_add_test(t, country_settings_and_monitor_data);
	tcase_add_test(t, display_message_2025_shape);
	tcase_add_test(t, display_message_legacy_shape_at_0530);
	tcase_add_test(t, display_message_2025_shape_at_0530);
	tcase_add_test(t, dual_boluses_come_every_other_day);
	tcase_add_test(t, display_message_checks_the_body);
	tcase_add_test(t, stale_upload_and_pump_on_utc);
	tcase_add_test(t, other_patients_have_other_data);
	tcase_add_test(t, guardian_legacy_gets);
	tcase_add_test(t, fail_next_answers_the_status);
	tcase_add_test(t, same_seed_same_data);
	suite_add_tcase(s, t);
	return s;
}

NSC_CHECK_MAIN(carelink_suite)
