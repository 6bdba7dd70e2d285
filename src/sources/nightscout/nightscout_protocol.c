/* SPDX-License-Identifier: MIT */
/* The Nightscout source's wire protocol, pure (nightscout.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/vendor_client.h"
#include "jsonutil.h"
#include "secret.h"
#include "sources/kit/json_secret.h"
#include "sources/kit/vendor.h"
#include "sources/kit/documents.h"
#include "sources/nightscout/nightscout.h"
#include "timeutil.h"

#define WHO "the Nightscout source"
#define ENDPOINT "CONNECT_SOURCE_ENDPOINT"
#define COLLECTIONS "CONNECT_SOURCE_COLLECTIONS"

/* A read refused for lack of a permission, or a token refused outright, is the user's to fix. */
static const struct nsc_vendor_status_rule rules[] = {
	{ 403, NSC_VENDOR_PHASE_DATA, NSC_ERR_REJECTED, 0,
	  "%s refused to let the token read (HTTP %ld): give its subject the \"readable\" role in the "
	  "source site's Admin Tools, or use a token of a subject that has it" },
	{ 0, NSC_VENDOR_PHASE_DATA, NSC_OK, 0, NULL },
};

const struct nsc_vendor_words nsc_ns_words = {
	.who = "The Nightscout source",
	.server_setting = ENDPOINT,
	.rate_hold_off_ms = 60 * 1000,
	.rules = rules,
};

/* ---- endpoint and settings ------------------------------------------------ */

nsc_rc nsc_ns_split_endpoint(const char *endpoint, char **base, char **token, struct nsc_error *err)
{
	*base = NULL;
	*token = NULL;
	if (endpoint == NULL || endpoint[0] == '\0')
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     ENDPOINT " is not set; it is required when CONNECT_SOURCE=nightscout");
	size_t base_len = strcspn(endpoint, "?#");
	while (base_len > 0 && endpoint[base_len - 1] == '/')
		base_len--;
	if (base_len == 0)
		return nsc_error_set(err, NSC_ERR_CONFIG, ENDPOINT " has no site address before its query");
	*base = strndup(endpoint, base_len);
	if (*base == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "Nightscout source: out of memory");
	const char *q = endpoint[base_len] == '?' ? endpoint + base_len + 1 : strchr(endpoint + base_len, '?');
	for (const char *p = q ? q : ""; p && *p; ) {
		size_t n = strcspn(p, "&#");
		if (n > 6 && strncmp(p, "token=", 6) == 0) {
			*token = strndup(p + 6, n - 6);
			if (*token == NULL) {
				free(*base);
				*base = NULL;
				return nsc_error_set(err, NSC_ERR_NOMEM, "Nightscout source: out of memory");
			}
			break;
		}
		if (p[n] != '&')
			break;
		p += n + 1;
	}
	return NSC_OK;
}

/* Length of a site's base URL: up to its query, without trailing slashes. */
static size_t site_len(const char *s)
{
	size_t n = strcspn(s, "?#");
	while (n > 0 && s[n - 1] == '/')
		n--;
	return n;
}

bool nsc_ns_same_site(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	size_t n = site_len(a);
	if (site_len(b) != n)
		return false;
	/* Scheme and host compare in any case, the path as written. */
	const char *sep = strstr(a, "://");
	size_t host_end = sep ? (size_t)(sep - a) + 3 + strcspn(sep + 3, "/?#") : 0;
	if (host_end > n)
		host_end = n;
	return strncasecmp(a, b, host_end) == 0 && strncmp(a + host_end, b + host_end, n - host_end) == 0;
}

static int collection_named(const char *name, size_t n)
{
	for (int c = 0; c < NSC_COLL_COUNT; c++) {
		const char *known = nsc_collection_name((enum nsc_collection)c);
		if (strlen(known) == n && strncasecmp(known, name, n) == 0)
			return c;
	}
	if (n == strlen("profiles") && strncasecmp(name, "profiles", n) == 0)
		return NSC_COLL_PROFILE; /* nightscout-connect's spelling */
	return -1;
}

nsc_rc nsc_ns_parse_collections(const char *text, unsigned *mask, struct nsc_error *err)
{
	*mask = 0;
	if (text == NULL || text[0] == '\0')
		text = NSC_NS_DEFAULT_COLLECTIONS;
	for (const char *p = text; *p != '\0';) {
		p += strspn(p, " ,");
		size_t n = strcspn(p, " ,");
		if (n == 0)
			break;
		int c = collection_named(p, n);
		if (c < 0)
			return nsc_error_set(err, NSC_ERR_CONFIG,
					     COLLECTIONS " names \"%.*s\", which is not a collection; expected a "
					     "comma-separated list of entries, treatments, devicestatus and profile",
					     (int)(n > 40 ? 40 : n), p);
		*mask |= 1u << c;
		p += n;
	}
	if (*mask == 0)
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     COLLECTIONS " names no collection; expected a comma-separated list of "
				     "entries, treatments, devicestatus and profile");
	return NSC_OK;
}

/* ---- requests ------------------------------------------------------------- */

/* The find[] bound on the collection's time field, percent-encoded as Nightscout's qs reads it. */
static int time_bound(char *buf, size_t size, enum nsc_collection c, const char *op, int64_t ms)
{
	char iso[NSC_ISO_BUF];
	if (c == NSC_COLL_ENTRIES)
		return snprintf(buf, size, "&find%%5Bdate%%5D%%5B%%24%s%%5D=%lld", op, (long long)ms);
	if (nsc_time_format_iso(ms, iso, sizeof(iso)) != NSC_OK)
		return -1;
	return snprintf(buf, size, "&find%%5Bcreated_at%%5D%%5B%%24%s%%5D=%s", op, iso);
}

char *nsc_ns_v1_url(const char *base, enum nsc_collection c, int64_t after_ms, int64_t upto_ms,
		    unsigned count)
{
	char lower[96] = "", upper[96] = "";
	if (c != NSC_COLL_PROFILE) {
		if (after_ms > 0 && time_bound(lower, sizeof(lower), c, "gt", after_ms) < 0)
			return NULL;
		if (upto_ms > 0 && time_bound(upper, sizeof(upper), c, "lte", upto_ms) < 0)
			return NULL;
	}
	return nsc_vendor_printf("%s/api/v1/%s.json?count=%u%s%s", base, nsc_collection_name(c), count,
				 lower, upper);
}

char *nsc_ns_version_url(const char *base)
{
	return nsc_vendor_printf("%s/api/v3/version", base);
}

char *nsc_ns_history_url(const char *base, enum nsc_collection c, int64_t after_ms, unsigned limit)
{
	if (limit == 0 || limit > NSC_NS_V3_MAX_LIMIT)
		limit = NSC_NS_V3_MAX_LIMIT; /* more is a 400 (parseLimit) */
	return nsc_vendor_printf("%s/api/v3/%s/history/%lld?limit=%u", base, nsc_collection_name(c),
				 (long long)(after_ms > 0 ? after_ms : 0), limit);
}

const char *nsc_ns_history_part(enum nsc_collection c)
{
	static const char *const parts[NSC_COLL_COUNT] = {
		[NSC_COLL_ENTRIES] = "entries.history",
		[NSC_COLL_TREATMENTS] = "treatments.history",
		[NSC_COLL_DEVICESTATUS] = "devicestatus.history",
		[NSC_COLL_PROFILE] = "profile.history",
	};
	return (unsigned)c < NSC_COLL_COUNT ? parts[c] : NULL;
}

char *nsc_ns_jwt_url(const char *base, const char *token)
{
	char *escaped = nsc_vendor_escape(token);
	if (escaped == NULL)
		return NULL;
	char *url = nsc_vendor_printf("%s/api/v2/authorization/request/%s", base, escaped);
	nsc_secret_wipe(escaped, strlen(escaped));
	free(escaped);
	return url;
}

/* ---- answers -------------------------------------------------------------- */

nsc_rc nsc_ns_jwt_answer(const char *body, size_t len, char **jwt, int64_t *lifetime_s)
{
	*jwt = NULL;
	*lifetime_s = 0;
	struct json_object *root = nsc_json_parse(body, len);
	const char *token = root ? nsc_json_get_string(root, "token") : NULL;
	if (token == NULL || token[0] == '\0') {
		json_object_put(root);
		return NSC_ERR_PARSE;
	}
	int64_t iat, exp;
	if (nsc_json_get_int64(root, "iat", &iat) && nsc_json_get_int64(root, "exp", &exp) && exp > iat)
		*lifetime_s = exp - iat;
	*jwt = strdup(token);
	/* The parsed copy of the JWT goes with the tree; wipe it first. */
	struct json_object *t;
	if (json_object_object_get_ex(root, "token", &t))
		nsc_json_secret_wipe(t);
	json_object_put(root);
	return *jwt ? NSC_OK : NSC_ERR_NOMEM;
}

void nsc_ns_answer_verdict(enum nsc_ns_call call, const struct nsc_http_response *resp,
			   enum nsc_collection c, enum nsc_ns_credential cred, struct nsc_vendor_verdict *v)
{
	long s = resp->status;
	if (call == NSC_NS_CALL_EXCHANGE && (s == 401 || s == 403)) {
		nsc_vendor_verdict_set(v, NSC_ERR_REJECTED,
				       "The Nightscout source refused the access token in " ENDPOINT
				       " (HTTP %ld): check the token= part against the subject's token in the "
				       "source site's Admin Tools",
				       s);
		return;
	}
	/* A JWT that expired is a 401 too, and costs one exchange; without a token it is final. */
	if (call == NSC_NS_CALL_READ && s == 401 && cred == NSC_NS_CRED_SECRET) {
		nsc_vendor_verdict_set(v, NSC_ERR_REJECTED,
				       "The Nightscout source refused CONNECT_SOURCE_API_SECRET reading %s (HTTP "
				       "401): check it against the source site's API_SECRET",
				       nsc_collection_name(c));
		return;
	}
	if (call == NSC_NS_CALL_READ && s == 401 && cred == NSC_NS_CRED_NEW_TOKEN) {
		nsc_vendor_verdict_set(v, NSC_ERR_REJECTED,
				       "The Nightscout source refused to let the token read %s (HTTP 401 with a "
				       "fresh JWT): give its subject the \"readable\" role in the source site's Admin "
				       "Tools, or use a token of a subject that has it",
				       nsc_collection_name(c));
		return;
	}
	if (call == NSC_NS_CALL_READ && s == 401 && cred == NSC_NS_CRED_NONE) {
		nsc_vendor_verdict_set(v, NSC_ERR_REJECTED,
				       "The Nightscout source is not readable without credentials (%s: HTTP 401): "
				       "add ?token= with a reader's access token to " ENDPOINT
				       ", or set CONNECT_SOURCE_API_SECRET",
				       nsc_collection_name(c));
		return;
	}
	nsc_vendor_status_verdict(&nsc_ns_words, call == NSC_NS_CALL_EXCHANGE ? NSC_VENDOR_PHASE_LOGIN
									   : NSC_VENDOR_PHASE_DATA,
				  s, resp->retry_after_ms, v);
}

bool nsc_ns_version_answer(const struct nsc_http_response *resp)
{
	if (resp == NULL || resp->status != 200)
		return false;
	struct json_object *root = nsc_json_parse(resp->body, resp->body_len), *result;
	bool ok = root != NULL && json_object_is_type(root, json_type_object) &&
		  json_object_object_get_ex(root, "result", &result) && json_object_is_type(result, json_type_object);
	json_object_put(root);
	return ok;
}

nsc_rc nsc_ns_history_read(const char *body, size_t len, enum nsc_collection c, struct json_object **page,
			   size_t *n, int64_t *newest_ms, struct nsc_error *err)
{
	*page = NULL;
	*n = 0;
	*newest_ms = 0;
	struct json_object *root = nsc_json_parse(body, len), *result;
	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "result", &result) || !json_object_is_type(result, json_type_array)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP,
				     "The Nightscout source sent a history of %s that is not {status, result: [...]}",
				     nsc_collection_name(c));
	}
	*n = json_object_array_length(result);
	for (size_t i = 0; i < *n; i++) {
		int64_t m;
		struct json_object *d = json_object_array_get_idx(result, i);
		if (json_object_is_type(d, json_type_object) && nsc_json_get_int64(d, "srvModified", &m) &&
		    m > *newest_ms)
			*newest_ms = m;
	}
	*page = json_object_get(result);
	json_object_put(root);
	return NSC_OK;
}

bool nsc_ns_history_next(int64_t after_ms, size_t n, unsigned limit, int64_t newest_ms, int64_t *next_after,
			 bool *stuck)
{
	*next_after = after_ms;
	*stuck = false;
	if (n < limit)
		return false;
	/*
	 * A full page: every document below its newest srvModified came whole
	 * (ascending order), those at it perhaps not. The next page from
	 * newest - 1 (gt) starts with them again.
	 */
	if (newest_ms - 1 <= after_ms) {
		*stuck = true;
		return false;
	}
	*next_after = newest_ms - 1;
	return true;
}

bool nsc_ns_doc_time(struct json_object *doc, enum nsc_collection c, int64_t *ms)
{
	if (c == NSC_COLL_ENTRIES)
		return nsc_json_get_int64(doc, "date", ms);
	const char *iso = nsc_json_get_string(doc, "created_at");
	int offset;
	return iso != NULL && nsc_time_parse_iso(iso, ms, &offset) == NSC_OK;
}

nsc_rc nsc_ns_page_read(const char *body, size_t len, enum nsc_collection c, struct json_object **page,
			size_t *n, int64_t *oldest_ms, struct nsc_error *err)
{
	*page = NULL;
	*n = 0;
	*oldest_ms = 0;
	struct json_object *root = nsc_json_parse(body, len);
	if (root == NULL || !json_object_is_type(root, json_type_array)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP, "The Nightscout source sent %s that are not a JSON list",
				     nsc_collection_name(c));
	}
	*n = json_object_array_length(root);
	for (size_t i = 0; i < *n; i++) {
		int64_t t;
		struct json_object *d = json_object_array_get_idx(root, i);
		if (json_object_is_type(d, json_type_object) && nsc_ns_doc_time(d, c, &t) && t > 0 &&
		    (*oldest_ms == 0 || t < *oldest_ms))
			*oldest_ms = t;
	}
	*page = root;
	return NSC_OK;
}

/* ---- transform ------------------------------------------------------------ */

/* What Nightscout's storage adds on its own and a copy must not carry. */
static const char *const server_fields[] = { "_id", "srvModified", "srvCreated" };

/* The key that says two page copies are one document: its identifier, else its _id. */
static const char *doc_key(struct json_object *doc)
{
	const char *k = nsc_json_get_string(doc, "identifier");
	return k != NULL && k[0] != '\0' ? k : nsc_json_get_string(doc, "_id");
}

static nsc_rc copy_doc(struct json_object *src, struct json_object **out)
{
	*out = NULL;
	if (json_object_deep_copy(src, out, NULL) != 0 || *out == NULL)
		return NSC_ERR_NOMEM;
	for (size_t i = 0; i < sizeof(server_fields) / sizeof(server_fields[0]); i++)
		json_object_object_del(*out, server_fields[i]);
	return NSC_OK;
}

/* Pages must be a list of lists. */
static nsc_rc check_pages(struct json_object *pages, enum nsc_collection c, struct nsc_error *err)
{
	if (!json_object_is_type(pages, json_type_array))
		return nsc_error_set(err, NSC_ERR_DROP, "Nightscout source payload: %s is not a list of pages",
				     nsc_collection_name(c));
	for (size_t p = 0; p < json_object_array_length(pages); p++)
		if (!json_object_is_type(json_object_array_get_idx(pages, p), json_type_array))
			return nsc_error_set(err, NSC_ERR_DROP,
					     "Nightscout source payload: a page of %s is not a list",
					     nsc_collection_name(c));
	return NSC_OK;
}

static bool is_deleted(struct json_object *doc)
{
	bool valid = true;
	return nsc_json_get_bool(doc, "isValid", &valid) && !valid;
}

/* An identifier that is an ObjectId's hex: v3 naming a v1-written document by its _id (§5.5). */
static bool is_object_id(const char *s)
{
	return s != NULL && strlen(s) == 24 && strspn(s, "0123456789abcdefABCDEF") == 24;
}

static nsc_rc add_copy(struct json_object *src, enum nsc_collection c, bool from_history, struct nsc_batch *out,
		       size_t *skipped, struct nsc_error *err)
{
	struct json_object *doc;
	if (copy_doc(src, &doc) != NSC_OK)
		return nsc_error_set(err, NSC_ERR_NOMEM, "Nightscout source: out of memory");
	if (from_history && is_object_id(nsc_json_get_string(doc, "identifier")))
		json_object_object_del(doc, "identifier"); /* the identity the v1 copy gets */
	return nsc_kit_batch_add(out, c, doc, skipped, NULL, NULL, "Nightscout source", err);
}

/* History pages -> {key: newest version} (pages are srvModified ascending: the last one wins). */
static nsc_rc index_history(struct json_object *pages, enum nsc_collection c, struct json_object *hist,
			    size_t *skipped, struct nsc_error *err)
{
	nsc_rc rc = check_pages(pages, c, err);
	for (size_t p = 0; rc == NSC_OK && p < json_object_array_length(pages); p++) {
		struct json_object *page = json_object_array_get_idx(pages, p);
		for (size_t i = 0; i < json_object_array_length(page); i++) {
			struct json_object *src = json_object_array_get_idx(page, i);
			const char *key = json_object_is_type(src, json_type_object) ? doc_key(src) : NULL;
			if (key == NULL) {
				(*skipped)++;
				continue;
			}
			if (json_object_object_add(hist, key, json_object_get(src)) != 0) {
				json_object_put(src);
				return nsc_error_set(err, NSC_ERR_NOMEM, "Nightscout source: out of memory");
			}
		}
	}
	return rc;
}

/* One collection's v1 pages into the batch, leaving to the history what it holds. */
static nsc_rc take_pages(struct json_object *pages, enum nsc_collection c, struct json_object *hist,
			 struct json_object *seen, struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	nsc_rc rc = check_pages(pages, c, err);
	for (size_t p = 0; rc == NSC_OK && p < json_object_array_length(pages); p++) {
		struct json_object *page = json_object_array_get_idx(pages, p);
		for (size_t i = 0; rc == NSC_OK && i < json_object_array_length(page); i++) {
			struct json_object *src = json_object_array_get_idx(page, i);
			if (!json_object_is_type(src, json_type_object)) {
				(*skipped)++;
				continue;
			}
			if (is_deleted(src))
				continue; /* deleted at the source: not to be re-created */
			const char *key = doc_key(src);
			if (key != NULL && json_object_object_get_ex(hist, key, NULL))
				continue; /* the history has it newer, or deleted */
			if (key != NULL && json_object_object_get_ex(seen, key, NULL))
				continue; /* the same document on both sides of a page edge */
			if (key != NULL && json_object_object_add(seen, key, NULL) != 0)
				return nsc_error_set(err, NSC_ERR_NOMEM, "Nightscout source: out of memory");
			rc = add_copy(src, c, false, out, skipped, err);
		}
	}
	return rc;
}

/* The history's valid documents into the batch, each once. */
static nsc_rc take_history(struct json_object *hist, enum nsc_collection c, struct nsc_batch *out,
			   size_t *skipped, struct nsc_error *err)
{
	json_object_object_foreach(hist, key, src)
	{
		(void)key;
		if (is_deleted(src))
			continue;
		nsc_rc rc = add_copy(src, c, true, out, skipped, err);
		if (rc != NSC_OK)
			return rc;
	}
	return NSC_OK;
}

/* Collection c of the payload: its history indexed first, then the v1 pages, then the history. */
static nsc_rc take_collection(struct json_object *root, enum nsc_collection c, struct nsc_batch *out,
			      size_t *skipped, struct nsc_error *err)
{
	struct json_object *pages = NULL, *hpages = NULL;
	bool has_v1 = json_object_object_get_ex(root, nsc_collection_name(c), &pages);
	bool has_history = json_object_object_get_ex(root, nsc_ns_history_part(c), &hpages);
	if (!has_v1 && !has_history)
		return NSC_OK;
	struct json_object *hist = json_object_new_object(), *seen = json_object_new_object();
	nsc_rc rc = hist != NULL && seen != NULL ? NSC_OK
						 : nsc_error_set(err, NSC_ERR_NOMEM, "Nightscout source: out of memory");
	if (rc == NSC_OK && has_history)
		rc = index_history(hpages, c, hist, skipped, err);
	if (rc == NSC_OK && has_v1)
		rc = take_pages(pages, c, hist, seen, out, skipped, err);
	if (rc == NSC_OK)
		rc = take_history(hist, c, out, skipped, err);
	json_object_put(hist);
	json_object_put(seen);
	return rc;
}

nsc_rc nsc_ns_transform(const char *payload, size_t len, struct nsc_batch *out, size_t *skipped,
			struct nsc_error *err)
{
	*skipped = 0;
	struct json_object *root = payload ? nsc_json_parse(payload, len) : NULL;
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP, "Nightscout source payload is not a JSON object");
	}
	nsc_rc rc = NSC_OK;
	for (int c = 0; c < NSC_COLL_COUNT && rc == NSC_OK; c++)
		rc = take_collection(root, (enum nsc_collection)c, out, skipped, err);
	json_object_put(root);
	return rc;
}
