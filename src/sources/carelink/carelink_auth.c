/* SPDX-License-Identifier: MIT */
/* CareLink's Auth0 sign-in with PKCE: the pure parts (see carelink_auth.h). */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "jsonutil.h"
#include "secret.h"
#include "sources/carelink/carelink_auth.h"
#include "sources/kit/json_secret.h"
#include "strbuf.h"

#define VERIFIER_MIN 43
#define VERIFIER_MAX 128
#define LINE_MAX_LEN 8192

static nsc_rc nomem(struct nsc_error *err)
{
	return nsc_error_set(err, NSC_ERR_NOMEM, "out of memory");
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* Appends every string of the NULL-terminated list; the text on success, NULL (nothing held) on ENOMEM. */
static char *concat(const char *const *parts)
{
	struct nsc_strbuf b = { 0 };

	for (size_t i = 0; parts[i]; i++) {
		if (nsc_strbuf_append(&b, parts[i], strlen(parts[i])) != NSC_OK) {
			if (b.p)
				nsc_secret_wipe(b.p, b.len);
			nsc_strbuf_free(&b);
			return NULL;
		}
	}
	return b.p ? b.p : dup_str("");
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* ---- discovery ---------------------------------------------------------- */

nsc_rc nsc_cl_discovery_url(const char *region, char **out, struct nsc_error *err)
{
	const char *tld;

	*out = NULL;
	if (region && !strcasecmp(region, "eu"))
		tld = "eu";
	else if (region && !strcasecmp(region, "us"))
		tld = "com";
	else
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_CARELINK_REGION=\"%s\" is not valid; expected eu or us",
				     region ? region : "");
	const char *parts[] = { "https://clcloud.minimed.", tld, NSC_CL_DISCOVERY_PATH, NULL };
	*out = concat(parts);
	return *out ? NSC_OK : nomem(err);
}

static bool http_url(const char *s)
{
	return s && (!strncmp(s, "https://", 8) || !strncmp(s, "http://", 7)) &&
	       strlen(s) > 8;
}

/* The CP[] entry of region, NULL when none. */
static struct json_object *region_entry(struct json_object *doc, const char *region)
{
	struct json_object *cp = NULL;

	if (!json_object_object_get_ex(doc, "CP", &cp) || !json_object_is_type(cp, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(cp); i++) {
		struct json_object *e = json_object_array_get_idx(cp, i);
		const char *r = json_object_is_type(e, json_type_object)
					? nsc_json_get_string(e, "region")
					: NULL;
		if (r && !strcasecmp(r, region))
			return e;
	}
	return NULL;
}

nsc_rc nsc_cl_sso_config_url(const char *body, size_t len, const char *region, char **out,
			     struct nsc_error *err)
{
	struct json_object *doc = nsc_json_parse(body, len);
	struct json_object *e;
	const char *key, *url;
	nsc_rc rc;

	*out = NULL;
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		rc = nsc_error_set(err, NSC_ERR_DROP, "CareLink's discovery answer is not a JSON object");
		goto out;
	}
	e = region_entry(doc, region);
	if (!e) {
		rc = nsc_error_set(err, NSC_ERR_DROP,
				   "CareLink's discovery answer has no CP entry for region %s", region);
		goto out;
	}
	key = nsc_json_get_string(e, "UseSSOConfiguration");
	if (!key || !*key)
		key = "Auth0SSOConfiguration";
	url = nsc_json_get_string(e, key);
	if (!http_url(url)) {
		rc = nsc_error_set(err, NSC_ERR_DROP,
				   "CareLink's discovery answer has no URL in %s for region %s", key,
				   region);
		goto out;
	}
	*out = dup_str(url);
	rc = *out ? NSC_OK : nomem(err);
out:
	json_object_put(doc);
	return rc;
}

/* ---- SSO configuration --------------------------------------------------- */

void nsc_cl_sso_init(struct nsc_cl_sso *sso)
{
	memset(sso, 0, sizeof(*sso));
}

void nsc_cl_sso_fini(struct nsc_cl_sso *sso)
{
	free(sso->base);
	free(sso->authorize_url);
	free(sso->token_url);
	free(sso->client_id);
	free(sso->scope);
	free(sso->audience);
	free(sso->redirect_uri);
	nsc_cl_sso_init(sso);
}

/* obj[section][key] as a non-empty string; NULL otherwise. */
static const char *member(struct json_object *doc, const char *section, const char *key)
{
	struct json_object *sec = NULL;
	const char *v;

	if (!json_object_object_get_ex(doc, section, &sec) ||
	    !json_object_is_type(sec, json_type_object))
		return NULL;
	v = nsc_json_get_string(sec, key);
	return v && *v ? v : NULL;
}

/* server.port: a number or digits from 1 to 65535; 443 when absent. -1 when unusable. */
static long port_of(struct json_object *doc)
{
	struct json_object *server = NULL, *p = NULL;
	int64_t n;
	char *end;

	if (!json_object_object_get_ex(doc, "server", &server) ||
	    !json_object_object_get_ex(server, "port", &p) || json_object_is_type(p, json_type_null))
		return 443;
	if (json_object_is_type(p, json_type_string)) {
		const char *s = json_object_get_string(p);
		if (!*s)
			return 443;
		long v = strtol(s, &end, 10);
		return (*end == '\0' && isdigit((unsigned char)*s) && v >= 1 && v <= 65535) ? v : -1;
	}
	if (!nsc_json_get_int64(server, "port", &n) || n < 1 || n > 65535)
		return -1;
	return (long)n;
}

/* base + path, a '/' put between when path has none. */
static char *join_path(const char *base, const char *path)
{
	const char *parts[] = { base, path[0] == '/' ? "" : "/", path, NULL };

	return concat(parts);
}

/* https://hostname[:port]prefix, prefix without its trailing '/'. */
static char *make_base(const char *host, long port, const char *prefix)
{
	char port_text[16] = "";
	size_t plen = strlen(prefix);

	if (port != 443)
		snprintf(port_text, sizeof(port_text), ":%ld", port);
	while (plen > 0 && prefix[plen - 1] == '/')
		plen--;
	char *p = malloc(plen + 2);
	if (!p)
		return NULL;
	size_t at = 0;
	if (plen > 0 && prefix[0] != '/')
		p[at++] = '/';
	memcpy(p + at, prefix, plen);
	p[at + plen] = '\0';
	const char *parts[] = { "https://", host, port_text, p, NULL };
	char *base = concat(parts);
	free(p);
	return base;
}

static bool valid_host(const char *h)
{
	for (const char *c = h; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
			return false;
	return true;
}

nsc_rc nsc_cl_sso_parse(const char *body, size_t len, struct nsc_cl_sso *sso,
			struct nsc_error *err)
{
	static const struct {
		const char *section, *key;
	} required[] = {
		{ "server", "hostname" },
		{ "client", "client_id" },
		{ "client", "scope" },
		{ "client", "redirect_uri" },
		{ "system_endpoints", "authorization_endpoint_path" },
		{ "system_endpoints", "token_endpoint_path" },
	};
	struct json_object *doc = nsc_json_parse(body, len);
	struct nsc_cl_sso got;
	const char *prefix, *audience;
	long port;
	nsc_rc rc = NSC_OK;

	nsc_cl_sso_fini(sso);
	nsc_cl_sso_init(&got);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		rc = nsc_error_set(err, NSC_ERR_DROP,
				   "CareLink's sign-in configuration is not a JSON object");
		goto out;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!member(doc, required[i].section, required[i].key)) {
			rc = nsc_error_set(err, NSC_ERR_DROP,
					   "CareLink's sign-in configuration has no %s.%s",
					   required[i].section, required[i].key);
			goto out;
		}
	}
	port = port_of(doc);
	if (port < 0 || !valid_host(member(doc, "server", "hostname"))) {
		rc = nsc_error_set(err, NSC_ERR_DROP,
				   "CareLink's sign-in configuration has an unusable server.%s",
				   port < 0 ? "port" : "hostname");
		goto out;
	}
	prefix = member(doc, "server", "prefix");
	audience = member(doc, "client", "audience");
	got.base = make_base(member(doc, "server", "hostname"), port, prefix ? prefix : "");
	if (got.base) {
		got.authorize_url = join_path(
			got.base, member(doc, "system_endpoints", "authorization_endpoint_path"));
		got.token_url =
			join_path(got.base, member(doc, "system_endpoints", "token_endpoint_path"));
	}
	got.client_id = dup_str(member(doc, "client", "client_id"));
	got.scope = dup_str(member(doc, "client", "scope"));
	got.audience = dup_str(audience ? audience : "");
	got.redirect_uri = dup_str(member(doc, "client", "redirect_uri"));
	if (!got.base || !got.authorize_url || !got.token_url || !got.client_id || !got.scope ||
	    !got.audience || !got.redirect_uri) {
		rc = nomem(err);
		goto out;
	}
	*sso = got;
	nsc_cl_sso_init(&got);
out:
	nsc_cl_sso_fini(&got);
	json_object_put(doc);
	return rc;
}

/* ---- PKCE ----------------------------------------------------------------- */

nsc_rc nsc_cl_base64url(const unsigned char *bytes, size_t n, char **out, struct nsc_error *err)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *p;
	size_t at = 0;

	*out = NULL;
	if (n > (SIZE_MAX - 4) / 4 * 3)
		return nomem(err);
	p = malloc(n / 3 * 4 + 5);
	if (!p)
		return nomem(err);
	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)bytes[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (unsigned long)bytes[i + 1] << 8;
		if (left > 2)
			v |= bytes[i + 2];
		p[at++] = abc[(v >> 18) & 63];
		p[at++] = abc[(v >> 12) & 63];
		if (left > 1)
			p[at++] = abc[(v >> 6) & 63];
		if (left > 2)
			p[at++] = abc[v & 63];
	}
	p[at] = '\0';
	*out = p;
	return NSC_OK;
}

nsc_rc nsc_cl_random_text(size_t bytes, char **out, struct nsc_error *err)
{
	unsigned char buf[VERIFIER_MAX];
	nsc_rc rc;

	*out = NULL;
	if (bytes == 0 || bytes > sizeof(buf))
		return nsc_error_set(err, NSC_ERR_INTERNAL, "random text of %zu bytes asked for",
				     bytes);
	if (RAND_bytes(buf, (int)bytes) != 1)
		return nsc_error_set(err, NSC_ERR_INTERNAL,
				     "OpenSSL's random number generator failed");
	rc = nsc_cl_base64url(buf, bytes, out, err);
	nsc_secret_wipe(buf, sizeof(buf));
	return rc;
}

nsc_rc nsc_cl_pkce_challenge(const char *verifier, char out[NSC_CL_CHALLENGE_SIZE],
			     struct nsc_error *err)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	size_t n = verifier ? strlen(verifier) : 0;
	char *text = NULL;
	nsc_rc rc;

	out[0] = '\0';
	if (n < VERIFIER_MIN || n > VERIFIER_MAX)
		return nsc_error_set(err, NSC_ERR_PARSE,
				     "a PKCE verifier has 43 to 128 characters, not %zu", n);
	for (size_t i = 0; i < n; i++)
		if (!unreserved((unsigned char)verifier[i]))
			return nsc_error_set(err, NSC_ERR_PARSE,
					     "a PKCE verifier has only A-Z a-z 0-9 - . _ ~");
	SHA256((const unsigned char *)verifier, n, digest);
	rc = nsc_cl_base64url(digest, sizeof(digest), &text, err);
	if (rc == NSC_OK) {
		memcpy(out, text, NSC_CL_CHALLENGE_SIZE - 1);
		out[NSC_CL_CHALLENGE_SIZE - 1] = '\0';
	}
	free(text);
	return rc;
}

/* ---- URLs and forms ------------------------------------------------------- */

char *nsc_cl_percent_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *p, *at;

	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	p = malloc(n * 3 + 1);
	if (!p)
		return NULL;
	at = p;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (unreserved(*c)) {
			*at++ = (char)*c;
		} else {
			*at++ = '%';
			*at++ = hex[*c >> 4];
			*at++ = hex[*c & 15];
		}
	}
	*at = '\0';
	return p;
}

/* name=value pairs, values percent-encoded, joined by '&' after `head`; a secret. */
static nsc_rc encode_pairs(const char *head, const char *const *pairs, char **out,
			   struct nsc_error *err)
{
	struct nsc_strbuf b = { 0 };
	nsc_rc rc = nsc_strbuf_append(&b, head, strlen(head));

	*out = NULL;
	for (size_t i = 0; rc == NSC_OK && pairs[i]; i += 2) {
		char *v = nsc_cl_percent_encode(pairs[i + 1]);
		if (!v) {
			rc = NSC_ERR_NOMEM;
			break;
		}
		if (i > 0)
			rc = nsc_strbuf_append(&b, "&", 1);
		if (rc == NSC_OK)
			rc = nsc_strbuf_append(&b, pairs[i], strlen(pairs[i]));
		if (rc == NSC_OK)
			rc = nsc_strbuf_append(&b, "=", 1);
		if (rc == NSC_OK)
			rc = nsc_strbuf_append(&b, v, strlen(v));
		nsc_secret_free(v);
	}
	if (rc != NSC_OK) {
		if (b.p)
			nsc_secret_wipe(b.p, b.len);
		nsc_strbuf_free(&b);
		return nomem(err);
	}
	*out = b.p;
	return NSC_OK;
}

nsc_rc nsc_cl_authorize_url(const struct nsc_cl_sso *sso, const char *challenge,
			    const char *state, char **out, struct nsc_error *err)
{
	const char *pairs[19];
	size_t k = 0;

#define PAIR(name_, value_) (pairs[k++] = (name_), pairs[k++] = (value_))
	PAIR("client_id", sso->client_id);
	PAIR("response_type", "code");
	PAIR("scope", sso->scope);
	if (sso->audience && *sso->audience)
		PAIR("audience", sso->audience);
	PAIR("redirect_uri", sso->redirect_uri);
	PAIR("code_challenge", challenge);
	PAIR("code_challenge_method", "S256");
	PAIR("state", state);
#undef PAIR
	pairs[k] = NULL;
	char *head;
	nsc_rc rc;

	*out = NULL;
	head = concat((const char *const[]){ sso->authorize_url, "?", NULL });
	if (!head)
		return nomem(err);
	rc = encode_pairs(head, pairs, out, err);
	free(head);
	return rc;
}

nsc_rc nsc_cl_token_request_body(const struct nsc_cl_sso *sso, const char *code,
				 const char *verifier, char **out, struct nsc_error *err)
{
	const char *pairs[] = {
		"grant_type", "authorization_code",
		"client_id", sso->client_id,
		"code", code,
		"redirect_uri", sso->redirect_uri,
		"code_verifier", verifier,
		NULL, NULL,
	};

	return encode_pairs("", pairs, out, err);
}

/* ---- the pasted line ------------------------------------------------------ */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* s[0, n) percent-decoded (malloc'd; a secret); NULL on ENOMEM or a broken %XX or NUL. */
static char *percent_decode_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	size_t at = 0;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			p[at++] = s[i];
			continue;
		}
		int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
		int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			nsc_secret_wipe(p, at);
			free(p);
			return NULL;
		}
		p[at++] = (char)(hi * 16 + lo);
		i += 2;
	}
	p[at] = '\0';
	return p;
}

/* The value of `name` in query q[0, n), percent-decoded; *found false when absent. NSC_ERR_PARSE when broken. */
static nsc_rc query_value(const char *q, size_t n, const char *name, char **out, bool *found)
{
	size_t nlen = strlen(name);
	const char *end = q + n;

	*out = NULL;
	*found = false;
	for (const char *p = q; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
			*found = true;
			*out = percent_decode_n(p + nlen + 1, (size_t)(stop - p - nlen - 1));
			return *out ? NSC_OK : NSC_ERR_PARSE;
		}
		if ((size_t)(stop - p) == nlen && !strncmp(p, name, nlen)) {
			*found = true;
			*out = dup_str("");
			return *out ? NSC_OK : NSC_ERR_NOMEM;
		}
		p = amp ? amp + 1 : end;
	}
	return NSC_OK;
}

/* A bare code: only characters an address would not need to encode. */
static bool bare_code(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!unreserved((unsigned char)s[i]))
			return false;
	return true;
}

/* Why an address with error= was refused, its error value when it is a plain word. */
static nsc_rc refused(const char *q, size_t n, struct nsc_error *err)
{
	char *why = NULL;
	bool found;
	bool plain;

	if (query_value(q, n, "error", &why, &found) != NSC_OK || !found) {
		free(why);
		return NSC_ERR_NOT_FOUND;
	}
	plain = *why && strlen(why) < 64;
	for (const char *c = why; plain && *c; c++)
		plain = islower((unsigned char)*c) || *c == '_';
	nsc_error_set(err, NSC_ERR_REJECTED,
		      "the sign-in was refused (%s), so the address carries no code; run "
		      "nightscout-connect carelink-login again",
		      plain ? why : "no reason given");
	free(why);
	return NSC_ERR_REJECTED;
}

/* Code and state from the query q[0, n) of a pasted address. */
static nsc_rc code_from_query(const char *q, size_t n, const char *state, char **code,
			      struct nsc_error *err)
{
	char *got_state = NULL;
	bool found;
	nsc_rc rc;

	if (refused(q, n, err) == NSC_ERR_REJECTED)
		return NSC_ERR_REJECTED;
	rc = query_value(q, n, "code", code, &found);
	if (rc == NSC_ERR_NOMEM)
		return nomem(err);
	if (rc != NSC_OK || !found || !**code) {
		nsc_secret_free(*code);
		*code = NULL;
		return nsc_error_set(err, NSC_ERR_PARSE,
				     "the pasted address has no usable code=; copy the whole address "
				     "the browser could not open (it starts with the redirect address)");
	}
	rc = query_value(q, n, "state", &got_state, &found);
	if (rc == NSC_ERR_NOMEM) {
		rc = nomem(err);
	} else if (rc != NSC_OK || !found || !state || strcmp(got_state, state) != 0) {
		rc = nsc_error_set(err, NSC_ERR_REJECTED,
				   "the pasted address belongs to another sign-in (its state %s); "
				   "nothing was written: run nightscout-connect carelink-login again "
				   "and paste the address of that sign-in",
				   found ? "does not match" : "is missing");
	}
	free(got_state);
	if (rc != NSC_OK) {
		nsc_secret_free(*code);
		*code = NULL;
	}
	return rc;
}

nsc_rc nsc_cl_extract_code(const char *line, const char *state, char **code,
			   struct nsc_error *err)
{
	const char *s = line ? line : "";
	size_t n;
	const char *q, *hash;

	*code = NULL;
	while (isspace((unsigned char)*s))
		s++;
	n = strnlen(s, LINE_MAX_LEN + 1);
	if (n > LINE_MAX_LEN)
		return nsc_error_set(err, NSC_ERR_PARSE, "the pasted line is too long");
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return nsc_error_set(err, NSC_ERR_PARSE,
				     "nothing was pasted; paste the address the browser could not "
				     "open, or its code");
	if (bare_code(s, n)) {
		*code = malloc(n + 1);
		if (!*code)
			return nomem(err);
		memcpy(*code, s, n);
		(*code)[n] = '\0';
		return NSC_OK;
	}
	q = memchr(s, '?', n);
	q = q ? q + 1 : s; /* the query alone: code=..&state=.. */
	hash = memchr(q, '#', (size_t)(s + n - q));
	return code_from_query(q, (size_t)((hash ? hash : s + n) - q), state, code, err);
}

/* ---- the token answer ----------------------------------------------------- */

/* The refusal in a token endpoint's error answer, when it is a plain word (invalid_grant). */
static const char *oauth_error(struct json_object *doc)
{
	const char *e = doc ? nsc_json_get_string(doc, "error") : NULL;

	if (!e || !*e || strlen(e) > 40)
		return NULL;
	for (const char *c = e; *c; c++)
		if (!islower((unsigned char)*c) && *c != '_')
			return NULL;
	return e;
}

static nsc_rc answer_error(long status, struct json_object *doc, struct nsc_error *err)
{
	const char *e = oauth_error(doc);

	if (status == 429 || status >= 500 || status == 0)
		return nsc_error_set(err, NSC_ERR_RETRY,
				     "CareLink's sign-in server is not answering now (HTTP %ld); "
				     "run nightscout-connect carelink-login again in a few minutes",
				     status);
	return nsc_error_set(err, NSC_ERR_REJECTED,
			     "CareLink refused the sign-in code (HTTP %ld%s%s); a code works only "
			     "once and for a few minutes: run nightscout-connect carelink-login "
			     "again and paste the new address at once",
			     status, e ? ", " : "", e ? e : "");
}

/* obj[key] as a non-empty string, NULL otherwise. */
static const char *nonempty(struct json_object *obj, const char *key)
{
	const char *v = nsc_json_get_string(obj, key);

	return v && *v ? v : NULL;
}

/* The file's object; NULL on ENOMEM. */
static struct json_object *file_object(struct json_object *answer, const struct nsc_cl_sso *sso)
{
	struct json_object *f = json_object_new_object();
	const char *scope = nonempty(answer, "scope");

	if (!f)
		return NULL;
	if (nsc_json_add_string(f, "access_token", nonempty(answer, "access_token")) != 0 ||
	    nsc_json_add_string(f, "refresh_token", nonempty(answer, "refresh_token")) != 0 ||
	    nsc_json_add_string(f, "client_id", sso->client_id) != 0 ||
	    nsc_json_add_string(f, "token_url", sso->token_url) != 0 ||
	    nsc_json_add_string(f, "audience", sso->audience ? sso->audience : "") != 0 ||
	    nsc_json_add_string(f, "scope", scope ? scope : sso->scope) != 0) {
		nsc_json_secret_put(f);
		return NULL;
	}
	return f;
}

nsc_rc nsc_cl_token_file_text(long status, const char *body, size_t len,
			      const struct nsc_cl_sso *sso, char **out, struct nsc_error *err)
{
	struct json_object *doc = nsc_json_parse(body ? body : "", body ? len : 0);
	struct json_object *f = NULL;
	const char *text;
	size_t n = 0;
	nsc_rc rc = NSC_OK;

	*out = NULL;
	if (status != 200) {
		rc = answer_error(status, doc, err);
		goto out;
	}
	if (!doc || !json_object_is_type(doc, json_type_object) ||
	    !nonempty(doc, "access_token") || !nonempty(doc, "refresh_token")) {
		rc = nsc_error_set(err, NSC_ERR_DROP,
				   "CareLink's token answer has no access_token and refresh_token; "
				   "run nightscout-connect carelink-login again");
		goto out;
	}
	f = file_object(doc, sso);
	text = f ? json_object_to_json_string_length(f, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE,
						     &n)
		 : NULL;
	if (!text || !(*out = malloc(n + 2))) {
		rc = nomem(err);
	} else {
		memcpy(*out, text, n);
		(*out)[n] = '\n';
		(*out)[n + 1] = '\0';
	}
	if (text)
		nsc_secret_wipe((void *)(uintptr_t)text, n);
out:
	nsc_json_secret_put(f);
	nsc_json_secret_put(doc);
	return rc;
}

/* ---- CONNECT_CARELINK_SERVER -------------------------------------------------- */

/* host[0, n) is minimed.eu, minimed.com or a name under one. */
static bool minimed_host(const char *host, size_t n)
{
	static const char *const domains[] = { "minimed.eu", "minimed.com" };

	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		size_t d = strlen(domains[i]);
		if (n < d || strncasecmp(host + n - d, domains[i], d) != 0)
			continue;
		if (n == d || host[n - d - 1] == '.')
			return true;
	}
	return false;
}

nsc_rc nsc_cl_rewrite_host(const char *url, const char *server, char **out,
			   struct nsc_error *err)
{
	const char *auth = strstr(url, "://");
	const char *rest, *host_end;
	size_t slen;

	*out = NULL;
	if (server && *server && auth) {
		auth += 3;
		rest = auth + strcspn(auth, "/?#");
		host_end = memchr(auth, ':', (size_t)(rest - auth));
		if (!host_end)
			host_end = rest;
		if (minimed_host(auth, (size_t)(host_end - auth))) {
			slen = strlen(server);
			while (slen > 0 && server[slen - 1] == '/')
				slen--;
			*out = malloc(slen + strlen(rest) + 1);
			if (!*out)
				return nomem(err);
			memcpy(*out, server, slen);
			strcpy(*out + slen, rest);
			return NSC_OK;
		}
	}
	*out = dup_str(url);
	return *out ? NSC_OK : nomem(err);
}
