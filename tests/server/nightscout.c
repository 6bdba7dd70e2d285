/* SPDX-License-Identifier: MIT */
/*
 * The in-memory Nightscout of the test server (see nightscout.h): API v1
 * writes and reads, the v2 JWT exchange, API v3 create and search. Written
 * from reference/nightscout.md, independent of the client code under test
 * (own ISO parsing, own SHA-1 call).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "iso_time.h"
#include "nightscout.h"
#include "ns_find.h"

#define NCOLL 4
#define V3_MIN_DATE 946684800000LL
#define V3_DEFAULT_LIMIT 10
#define V3_MAX_LIMIT 1000

static const char *const coll_names[NCOLL] = { "entries", "treatments", "devicestatus", "profile" };
/* v1 list order (§4.6) and default count. */
static const char *const v1_sort_key[NCOLL] = { "date", "created_at", "created_at", "startDate" };
static const int v1_default_count[NCOLL] = { 10, 100, 10, 10 };
/* query.js dateField of each v1 list (profile: /api/v1/profiles). */
static const char *const v1_date_field[NCOLL] = { "date", "created_at", "created_at", "startDate" };

enum { C_ENTRIES, C_TREATMENTS, C_DEVICESTATUS, C_PROFILE };

struct jwt {
	char *token;
	long long exp_s;
	bool revoked;
};

struct tsns {
	struct tsrv *srv;
	char v1_route[128];
	char v2_route[160];
	char v3_route[128];
	bool has_secret;
	char secret_hash[TSNS_SHA1_HEX_BUF];
	char *access_token;
	char *subject;

	pthread_mutex_t lock;
	struct json_object *store[NCOLL];
	struct jwt *jwts;
	size_t njwts;
	int jwt_lifetime_s;
	char **denied;
	size_t ndenied;
	bool reverse;
	unsigned long long oid_counter;
	int latency_ms; /* every answer waits this long, outside the lock */
	/* Requests being answered now and the most at once: [NCOLL] for all, else per collection. */
	size_t in_flight[NCOLL + 1];
	size_t max_in_flight[NCOLL + 1];
	char **posting;       /* identifiers of the v3 POSTs being answered now */
	size_t nposting;
	size_t id_overlaps;   /* v3 POSTs that came while one with their identifier was answered */
	bool v3_off;          /* an old site: every /api/v3 path answers 404 */
	long long stamp_ms;   /* "now" for srvModified/srvCreated; 0: the real clock */
	/* Soft deletes applied right after the next v1 read of their collection is answered. */
	struct { int c; char *id; } *on_read;
	size_t non_read;
};

enum who { WHO_NONE, WHO_ADMIN, WHO_TOKEN, WHO_BAD };

/* ---- helpers ------------------------------------------------------------ */

#define oom() tsrv_oom("tsns")
#define xstrdup(s) tsrv_xstrdup("tsns", (s))

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* The server's "now" for srvModified and srvCreated (scriptable, tsns_set_now_ms). */
static long long stamp_locked(const struct tsns *ns)
{
	return ns->stamp_ms > 0 ? ns->stamp_ms : now_ms();
}

void tsns_sha1_hex(const char *text, char out[TSNS_SHA1_HEX_BUF])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(text, strlen(text), md, &n, EVP_sha1(), NULL) != 1 || n != 20) {
		fprintf(stderr, "tsns: SHA-1 failed\n");
		abort();
	}
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[40] = '\0';
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool get_num(struct json_object *o, const char *key, long long *out)
{
	struct json_object *v = get(o, key);

	if (json_object_is_type(v, json_type_int)) {
		*out = (long long)json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		*out = (long long)json_object_get_double(v);
		return true;
	}
	return false;
}

static void set(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(o, key, v) != 0)
		oom();
}

static void set_str(struct json_object *o, const char *key, const char *s)
{
	set(o, key, json_object_new_string(s));
}

static struct json_object *copy(struct json_object *o)
{
	struct json_object *c = NULL;

	if (json_object_deep_copy(o, &c, NULL) != 0 || !c)
		oom();
	return c;
}

static void new_oid_locked(struct tsns *ns, char out[25])
{
	snprintf(out, 25, "%08llx%016llx", (unsigned long long)(now_ms() / 1000) & 0xffffffffULL,
		 ++ns->oid_counter);
}

static int coll_index(const char *name, size_t len)
{
	for (int i = 0; i < NCOLL; i++)
		if (strlen(coll_names[i]) == len && strncmp(coll_names[i], name, len) == 0)
			return i;
	return -1;
}

/* Mongo-like order: missing < numbers < strings < other. */
static int value_rank(struct json_object *v)
{
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return 1;
	if (json_object_is_type(v, json_type_string))
		return 2;
	return 3;
}

static int compare_field(struct json_object *a, struct json_object *b, const char *key)
{
	struct json_object *va = get(a, key), *vb = get(b, key);
	int ra = value_rank(va), rb = value_rank(vb);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra == 1) {
		double x = json_object_get_double(va), y = json_object_get_double(vb);
		return x < y ? -1 : x > y ? 1 : 0;
	}
	if (ra == 2)
		return strcmp(json_object_get_string(va), json_object_get_string(vb));
	return 0;
}

/*
 * A page of the collection: the documents matching f (all when f is NULL),
 * sorted by key (descending unless asc), at most limit documents, reversed
 * when the server is scripted to. Returns a new array of deep copies.
 */
static struct json_object *page_locked(struct tsns *ns, int c, const struct tsns_find *f,
				       const char *key, bool asc, long limit)
{
	struct json_object *arr = ns->store[c];
	size_t n = json_object_array_length(arr), kept = 0;
	struct json_object **v = calloc(n ? n : 1, sizeof(*v));
	struct json_object *out = json_object_new_array();

	if (!v || !out)
		oom();
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(arr, i);
		size_t j = kept++;

		if (f && !tsns_find_match(f, d)) {
			kept--;
			continue;
		}
		/* Insertion sort keeps insertion order among equals. */
		while (j > 0) {
			int cmp = compare_field(v[j - 1], d, key);
			if (asc ? cmp <= 0 : cmp >= 0)
				break;
			v[j] = v[j - 1];
			j--;
		}
		v[j] = d;
	}
	if (limit < 0 || (size_t)limit > kept)
		limit = (long)kept;
	for (long i = 0; i < limit; i++) {
		long at = ns->reverse ? limit - 1 - i : i;
		json_object_array_add(out, copy(v[at]));
	}
	free(v);
	return out;
}

/* ---- credentials ------------------------------------------------------------ */

static bool jwt_valid_locked(struct tsns *ns, const char *token)
{
	long long now_s = now_ms() / 1000;

	for (size_t i = 0; i < ns->njwts; i++)
		if (strcmp(ns->jwts[i].token, token) == 0)
			return !ns->jwts[i].revoked && now_s < ns->jwts[i].exp_s;
	return false;
}

static const char *bearer(const struct tsrv_request *req)
{
	const char *h = tsrv_header(req, "Authorization");

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	return h + 7;
}

static enum who v1_auth_locked(struct tsns *ns, const struct tsrv_request *req)
{
	const char *secret = tsrv_arg(req, "secret");
	const char *token = tsrv_arg(req, "token");
	const char *jwt = bearer(req);

	if (!secret)
		secret = tsrv_header(req, "api-secret");
	if (secret) {
		if (ns->has_secret && strcasecmp(secret, ns->secret_hash) == 0)
			return WHO_ADMIN;
		if (ns->access_token && strcmp(secret, ns->access_token) == 0)
			return WHO_TOKEN;
		return WHO_BAD;
	}
	if (jwt)
		return jwt_valid_locked(ns, jwt) ? WHO_TOKEN : WHO_BAD;
	if (token) {
		if ((ns->access_token && strcmp(token, ns->access_token) == 0) ||
		    jwt_valid_locked(ns, token))
			return WHO_TOKEN;
		return WHO_BAD;
	}
	return WHO_NONE;
}

static bool permitted_locked(struct tsns *ns, enum who w, const char *perm)
{
	switch (w) {
	case WHO_ADMIN:
		return true;
	case WHO_TOKEN:
		for (size_t i = 0; i < ns->ndenied; i++)
			if (strcmp(ns->denied[i], perm) == 0)
				return false;
		return true;
	case WHO_NONE: {
		size_t n = strlen(perm);
		return n > 5 && strcmp(perm + n - 5, ":read") == 0; /* default role: readable */
	}
	case WHO_BAD:
		break;
	}
	return false;
}

static void v1_unauthorized(struct tsrv_response *resp)
{
	static const char body[] =
		"{\"status\":401,\"message\":\"Unauthorized\",\"description\":\"Invalid/Missing\"}";

	tsrv_respond(resp, 401, NULL, body, strlen(body));
}

static bool v3_modify_locked(struct tsns *ns, int c, const char *id, struct json_object *patch,
			     bool delete);

/* ---- API v1 ---------------------------------------------------------------------- */

/* §2.1: sysTime/dateString/utcOffset, $set upsert on {sysTime, type}. */
static struct json_object *v1_store_entry_locked(struct tsns *ns, struct json_object *in)
{
	struct json_object *d = copy(in), *arr = ns->store[C_ENTRIES];
	const char *ds = get_str(d, "dateString");
	long long t = now_ms(), date;
	int off = 0;
	char iso[TSNS_ISO_BUF], oid[25];

	if (ds && tsns_parse_iso(ds, &t, &off)) {
		tsns_format_iso(t, iso);
		set_str(d, "dateString", iso);
	} else if (get_num(d, "date", &date)) {
		t = date;
		tsns_format_iso(t, iso);
	} else {
		tsns_format_iso(t, iso);
	}
	set_str(d, "sysTime", iso);
	set(d, "utcOffset", json_object_new_int(off));

	const char *type = get_str(d, "type");
	for (size_t i = 0; type && i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		const char *st = get_str(e, "sysTime"), *et = get_str(e, "type");

		if (st && et && strcmp(st, iso) == 0 && strcmp(et, type) == 0) {
			json_object_object_foreach(d, k, v)
				set(e, k, copy(v));
			return d; /* updated: no _id in the answer (15.0.7) */
		}
	}
	new_oid_locked(ns, oid);
	set_str(d, "_id", oid);
	json_object_array_add(arr, copy(d));
	return d;
}

/* created_at normalised to UTC ISO (now when missing or invalid), utcOffset set. */
static void normalise_created_at(struct json_object *d)
{
	const char *ca = get_str(d, "created_at");
	long long t = now_ms();
	int off = 0;
	char iso[TSNS_ISO_BUF];

	if (!ca || !tsns_parse_iso(ca, &t, &off)) {
		t = now_ms();
		off = 0;
	}
	tsns_format_iso(t, iso);
	set_str(d, "created_at", iso);
	set(d, "utcOffset", json_object_new_int(off));
}

static bool same_string_field(struct json_object *a, struct json_object *b, const char *key)
{
	const char *x = get_str(a, key), *y = get_str(b, key);

	if (!x || !y)
		return x == y && get(a, key) == NULL && get(b, key) == NULL;
	return strcmp(x, y) == 0;
}

/* §2.2: replace on identifier, else {created_at, eventType}. */
static struct json_object *v1_store_treatment_locked(struct tsns *ns, struct json_object *in)
{
	struct json_object *d = copy(in), *arr = ns->store[C_TREATMENTS];
	const char *id;
	char oid[25];

	normalise_created_at(d);
	json_object_object_del(d, "_id");
	id = get_str(d, "identifier");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		bool match;

		if (id) {
			const char *eid = get_str(e, "identifier");
			match = eid && strcmp(eid, id) == 0;
		} else {
			match = same_string_field(d, e, "created_at") &&
				same_string_field(d, e, "eventType");
		}
		if (match) {
			const char *keep = get_str(e, "_id");

			set_str(d, "_id", keep ? keep : "");
			json_object_array_put_idx(arr, i, copy(d));
			return d;
		}
	}
	new_oid_locked(ns, oid);
	set_str(d, "_id", oid);
	json_object_array_add(arr, copy(d));
	return d;
}

static struct json_object *v1_insert_locked(struct tsns *ns, int c, struct json_object *in)
{
	struct json_object *d = copy(in);
	char oid[25];

	if (c == C_DEVICESTATUS) {
		normalise_created_at(d);
	} else if (!get(d, "created_at")) {
		char iso[TSNS_ISO_BUF];

		tsns_format_iso(now_ms(), iso);
		set_str(d, "created_at", iso);
	}
	new_oid_locked(ns, oid);
	set_str(d, "_id", oid);
	json_object_array_add(ns->store[c], copy(d));
	return d;
}

static void v1_post_locked(struct tsns *ns, int c, const struct tsrv_request *req,
			   struct tsrv_response *resp)
{
	struct json_object *body = json_tokener_parse(req->body), *docs, *out;

	if (!body || (!json_object_is_type(body, json_type_array) &&
		      !json_object_is_type(body, json_type_object))) {
		json_object_put(body);
		tsrv_respond_error(resp, 400, "Bad Request");
		return;
	}
	if (json_object_is_type(body, json_type_object)) {
		docs = json_object_new_array();
		if (!docs)
			oom();
		json_object_array_add(docs, body);
	} else {
		docs = body;
	}
	out = json_object_new_array();
	if (!out)
		oom();
	for (size_t i = 0; i < json_object_array_length(docs); i++) {
		struct json_object *in = json_object_array_get_idx(docs, i), *stored;

		if (!json_object_is_type(in, json_type_object))
			continue;
		switch (c) {
		case C_ENTRIES:
			stored = v1_store_entry_locked(ns, in);
			break;
		case C_TREATMENTS:
			stored = v1_store_treatment_locked(ns, in);
			break;
		default:
			stored = v1_insert_locked(ns, c, in);
			break;
		}
		json_object_array_add(out, stored);
	}
	tsrv_respond_json(resp, 200, out);
	json_object_put(out);
	json_object_put(docs);
}

/* The deletions scripted to race a v1 read of c (tsns_delete_on_read) happen now. */
static void apply_on_read_locked(struct tsns *ns, int c)
{
	for (size_t i = 0; i < ns->non_read;) {
		if (ns->on_read[i].c != c) {
			i++;
			continue;
		}
		(void)v3_modify_locked(ns, c, ns->on_read[i].id, NULL, true);
		free(ns->on_read[i].id);
		ns->on_read[i] = ns->on_read[--ns->non_read];
	}
}

/*
 * A v1 list: newest first, `count` of them. The find[] filters apply
 * (ns_find.h) unless the route ignores them, as Nightscout's
 * /api/v1/profile does (only /api/v1/profiles reads them).
 */
static void v1_get_locked(struct tsns *ns, int c, bool with_find, const struct tsrv_request *req,
			  struct tsrv_response *resp)
{
	const char *count = tsrv_arg(req, "count");
	long n = count ? strtol(count, NULL, 10) : v1_default_count[c];
	struct tsns_find *f = NULL;
	struct json_object *out;
	char problem[160];

	if (with_find) {
		f = tsns_find_parse(req, v1_date_field[c], c == C_ENTRIES, now_ms(), problem,
				    sizeof(problem));
		if (!f && problem[0]) {
			tsrv_respond_error(resp, 400, problem);
			return;
		}
	}
	out = page_locked(ns, c, f, v1_sort_key[c], false, n < 0 ? 0 : n);
	tsrv_respond_json(resp, 200, out);
	json_object_put(out);
	tsns_find_free(f);
	apply_on_read_locked(ns, c);
}

/* "<col>" or "<col>.json" after the v1 route; "profiles" is the queryable profile list. */
static int v1_collection(const char *name, bool *plural)
{
	size_t len = strcspn(name, "./");
	int c = coll_index(name, len);

	*plural = false;
	if (c < 0 && len == strlen("profiles") && strncmp(name, "profiles", len) == 0) {
		c = C_PROFILE;
		*plural = true;
	}
	if (c < 0 || (name[len] != '\0' && strcmp(name + len, ".json") != 0))
		return -1;
	return c;
}

static void v1_serve(struct tsns *ns, const struct tsrv_request *req, struct tsrv_response *resp)
{
	bool plural;
	int c = v1_collection(req->path + strlen(ns->v1_route), &plural);
	char perm[64];
	enum who w;

	if (c < 0 || (plural && strcmp(req->method, "GET") != 0)) {
		tsrv_respond_error(resp, 404, "Not Found");
		return;
	}
	pthread_mutex_lock(&ns->lock);
	w = v1_auth_locked(ns, req);
	snprintf(perm, sizeof(perm), "api:%s:read", coll_names[c]);
	if (w == WHO_BAD || !permitted_locked(ns, w, perm)) {
		v1_unauthorized(resp);
	} else if (strcmp(req->method, "GET") == 0) {
		v1_get_locked(ns, c, c != C_PROFILE || plural, req, resp);
	} else if (strcmp(req->method, "POST") == 0) {
		snprintf(perm, sizeof(perm), "api:%s:create", coll_names[c]);
		if (!permitted_locked(ns, w, perm))
			v1_unauthorized(resp);
		else
			v1_post_locked(ns, c, req, resp);
	} else {
		tsrv_respond_error(resp, 405, "Method Not Allowed");
	}
	pthread_mutex_unlock(&ns->lock);
}

/* ---- /api/v2/authorization/request/<token> ------------------------------------------ */

/* What the token's roles grant, as Nightscout lists them: all, or each permission left after a deny. */
static struct json_object *permission_groups_locked(struct tsns *ns)
{
	static const char *const cols[] = { "entries", "treatments", "devicestatus", "profile", "food", "status" };
	static const char *const ops[] = { "create", "read", "update", "delete" };
	if (ns->ndenied == 0)
		return json_tokener_parse("[[\"api:*:*\"]]");
	struct json_object *group = json_object_new_array(), *groups = json_object_new_array();
	if (!group || !groups)
		oom();
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
			char perm[64];
			snprintf(perm, sizeof(perm), "api:%s:%s", cols[c], ops[k]);
			if (permitted_locked(ns, WHO_TOKEN, perm) && json_object_array_add(group, json_object_new_string(perm)) != 0)
				oom();
		}
	if (json_object_array_add(groups, group) != 0)
		oom();
	return groups;
}

static char *b64url(const char *in)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(in), o = 0;
	char *out = malloc(n * 4 / 3 + 4);

	if (!out)
		oom();
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (unsigned char)in[i + 1] << 8;
		if (left > 2)
			v |= (unsigned char)in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		if (left > 1)
			out[o++] = tbl[(v >> 6) & 63];
		if (left > 2)
			out[o++] = tbl[v & 63];
	}
	out[o] = '\0';
	return out;
}

static void v2_serve(struct tsns *ns, const struct tsrv_request *req, struct tsrv_response *resp)
{
	const char *token = req->path + strlen(ns->v2_route);
	char payload[128], sig[TSNS_SHA1_HEX_BUF], *jwt, *p64;
	long long iat = now_ms() / 1000, exp;
	struct json_object *o;
	size_t n;

	if (strcmp(req->method, "GET") != 0) {
		tsrv_respond_error(resp, 405, "Method Not Allowed");
		return;
	}
	pthread_mutex_lock(&ns->lock);
	if (!ns->access_token || strcmp(token, ns->access_token) != 0) {
		pthread_mutex_unlock(&ns->lock);
		v1_unauthorized(resp);
		return;
	}
	exp = iat + ns->jwt_lifetime_s;
	snprintf(payload, sizeof(payload), "{\"n\":%zu,\"iat\":%lld,\"exp\":%lld}", ns->njwts + 1,
		 iat, exp);
	tsns_sha1_hex(payload, sig);
	p64 = b64url(payload);
	n = strlen(p64) + strlen(sig) + 64;
	jwt = malloc(n);
	if (!jwt)
		oom();
	snprintf(jwt, n, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.%s.%s", p64, sig);
	free(p64);
	ns->jwts = realloc(ns->jwts, (ns->njwts + 1) * sizeof(*ns->jwts));
	if (!ns->jwts)
		oom();
	ns->jwts[ns->njwts].token = jwt;
	ns->jwts[ns->njwts].exp_s = exp;
	ns->jwts[ns->njwts].revoked = false;
	ns->njwts++;

	o = json_object_new_object();
	if (!o)
		oom();
	set_str(o, "token", jwt);
	set_str(o, "sub", ns->subject);
	set(o, "permissionGroups", permission_groups_locked(ns));
	set(o, "iat", json_object_new_int64(iat));
	set(o, "exp", json_object_new_int64(exp));
	pthread_mutex_unlock(&ns->lock);
	tsrv_respond_json(resp, 200, o);
	json_object_put(o);
}

/* ---- API v3 ---------------------------------------------------------------------------- */

static const char *const v3_immutable[] = { "date", "utcOffset", "eventType", "device", "app" };

/* §5.4 fallback dedup fields per collection. */
static const char *const v3_fallback[NCOLL][2] = {
	{ "date", "type" },
	{ "created_at", "eventType" },
	{ "created_at", "device" },
	{ "created_at", NULL },
};

static bool fields_equal(struct json_object *a, struct json_object *b, const char *key)
{
	struct json_object *x = get(a, key), *y = get(b, key);

	return x && y && json_object_equal(x, y);
}

static long find_v3_match_locked(struct tsns *ns, int c, struct json_object *doc, const char *id)
{
	struct json_object *arr = ns->store[c];

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		const char *eid = get_str(e, "identifier");

		if (eid && strcmp(eid, id) == 0)
			return (long)i;
		if (!eid) {
			const char *oid = get_str(e, "_id");
			bool fb = true;

			if (oid && strcmp(oid, id) == 0)
				return (long)i;
			for (int f = 0; f < 2 && v3_fallback[c][f]; f++)
				fb = fb && fields_equal(doc, e, v3_fallback[c][f]);
			if (fb)
				return (long)i;
		}
	}
	return -1;
}

static void v3_post_locked(struct tsns *ns, int c, enum who w, const struct tsrv_request *req,
			   struct tsrv_response *resp)
{
	struct json_object *doc = json_tokener_parse(req->body), *out, *v;
	char perm[64], msg[128], iso[TSNS_ISO_BUF], oid[25], location[160];
	long long date, off, now = stamp_locked(ns);
	const char *id, *app;
	long at;

	if (!json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		tsrv_respond_error(resp, 400, "Bad or missing request body");
		return;
	}
	snprintf(perm, sizeof(perm), "api:%s:create", coll_names[c]);
	if (!permitted_locked(ns, w, perm)) {
		snprintf(msg, sizeof(msg), "Missing permission %s", perm);
		tsrv_respond_error(resp, 403, msg);
		goto out;
	}
	if (!get_num(doc, "date", &date) || date <= V3_MIN_DATE) {
		tsrv_respond_error(resp, 400, "Bad or missing date field");
		goto out;
	}
	if (!get_num(doc, "utcOffset", &off) || off < -1440 || off > 1440) {
		tsrv_respond_error(resp, 400, "Bad or missing utcOffset field");
		goto out;
	}
	app = get_str(doc, "app");
	if (!app || !*app) {
		tsrv_respond_error(resp, 400, "Bad or missing app field");
		goto out;
	}
	id = get_str(doc, "identifier");
	if (!id || !*id) {
		tsrv_respond_error(resp, 400, "Bad or missing identifier field");
		goto out;
	}
	if (!get(doc, "created_at")) {
		tsns_format_iso(date, iso);
		set_str(doc, "created_at", iso);
	}

	at = find_v3_match_locked(ns, c, doc, id);
	out = json_object_new_object();
	if (!out)
		oom();
	if (at >= 0) {
		struct json_object *e = json_object_array_get_idx(ns->store[c], (size_t)at);
		const char *old_id = get_str(e, "identifier");

		snprintf(perm, sizeof(perm), "api:%s:update", coll_names[c]);
		if (!permitted_locked(ns, w, perm)) {
			json_object_put(out);
			snprintf(msg, sizeof(msg), "Missing permission %s", perm);
			tsrv_respond_error(resp, 403, msg);
			goto out;
		}
		for (size_t f = 0; f < sizeof(v3_immutable) / sizeof(v3_immutable[0]); f++) {
			if (get(doc, v3_immutable[f]) && !fields_equal(doc, e, v3_immutable[f])) {
				json_object_put(out);
				snprintf(msg, sizeof(msg), "Field %s cannot be modified by the client",
					 v3_immutable[f]);
				tsrv_respond_error(resp, 400, msg);
				goto out;
			}
		}
		if (!old_id)
			old_id = get_str(e, "_id");
		if (old_id && strcmp(old_id, id) != 0)
			set_str(out, "deduplicatedIdentifier", old_id);
		v = get(e, "_id");
		if (v)
			set(doc, "_id", copy(v));
		v = get(e, "srvCreated");
		set(doc, "srvCreated", v ? copy(v) : json_object_new_int64(now));
		set(doc, "srvModified", json_object_new_int64(now));
		set_str(doc, "subject", ns->subject);
		json_object_array_put_idx(ns->store[c], (size_t)at, copy(doc));
		set(out, "status", json_object_new_int(200));
		set_str(out, "identifier", id);
		set(out, "lastModified", json_object_new_int64(now));
		set(out, "isDeduplication", json_object_new_boolean(1));
		tsrv_respond_json(resp, 200, out);
	} else {
		new_oid_locked(ns, oid);
		set_str(doc, "_id", oid);
		set(doc, "srvCreated", json_object_new_int64(now));
		set(doc, "srvModified", json_object_new_int64(now));
		set_str(doc, "subject", ns->subject);
		json_object_array_add(ns->store[c], copy(doc));
		set(out, "status", json_object_new_int(201));
		set_str(out, "identifier", id);
		set(out, "lastModified", json_object_new_int64(now));
		tsrv_respond_json(resp, 201, out);
		snprintf(location, sizeof(location), "/api/v3/%s/%s", coll_names[c], id);
		tsrv_respond_header(resp, "Location", location);
	}
	json_object_put(out);
out:
	json_object_put(doc);
}

/* A copy of d with only the comma-separated `fields` ("_all" or NULL: all of them). */
static struct json_object *project(struct json_object *d, const char *fields)
{
	struct json_object *keep;

	if (!fields || strcmp(fields, "_all") == 0)
		return copy(d);
	keep = json_object_new_object();
	if (!keep)
		oom();
	for (const char *p = fields; *p;) {
		size_t n = strcspn(p, ",");
		char key[64];

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (get(d, key))
			set(keep, key, copy(get(d, key)));
		p += n;
		if (*p == ',')
			p++;
	}
	return keep;
}

static void v3_search_locked(struct tsns *ns, int c, enum who w, const struct tsrv_request *req,
			     struct tsrv_response *resp)
{
	const char *asc = tsrv_arg(req, "sort"), *desc = tsrv_arg(req, "sort$desc");
	const char *limit_s = tsrv_arg(req, "limit"), *fields = tsrv_arg(req, "fields");
	long limit = limit_s ? strtol(limit_s, NULL, 10) : V3_DEFAULT_LIMIT;
	struct json_object *page, *result, *out;
	char perm[64], msg[96];

	snprintf(perm, sizeof(perm), "api:%s:read", coll_names[c]);
	if (!permitted_locked(ns, w, perm)) {
		snprintf(msg, sizeof(msg), "Missing permission %s", perm);
		tsrv_respond_error(resp, 403, msg);
		return;
	}
	if (limit <= 0 || limit > V3_MAX_LIMIT) {
		tsrv_respond_error(resp, 400, "Parameter limit out of tolerance");
		return;
	}
	page = page_locked(ns, c, NULL, desc ? desc : asc ? asc : "date", desc == NULL && asc != NULL,
			   -1);
	result = json_object_new_array();
	if (!result)
		oom();
	for (size_t i = 0; i < json_object_array_length(page) &&
			   json_object_array_length(result) < (size_t)limit;
	     i++) {
		struct json_object *d = json_object_array_get_idx(page, i), *valid = get(d, "isValid");

		if (valid && json_object_is_type(valid, json_type_boolean) &&
		    !json_object_get_boolean(valid))
			continue;
		d = copy(d);
		if (!get(d, "identifier") && get(d, "_id"))
			set(d, "identifier", copy(get(d, "_id")));
		json_object_object_del(d, "_id");
		json_object_array_add(result, project(d, fields));
		json_object_put(d);
	}
	json_object_put(page);
	out = json_object_new_object();
	if (!out)
		oom();
	set(out, "status", json_object_new_int(200));
	set(out, "result", result);
	tsrv_respond_json(resp, 200, out);
	json_object_put(out);
}

/* The stored document v3 addresses by identifier (its `identifier`, else its `_id`), -1 for none. */
static long v3_find_locked(struct tsns *ns, int c, const char *id)
{
	struct json_object *arr = ns->store[c];

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		const char *eid = get_str(e, "identifier");

		if (!eid)
			eid = get_str(e, "_id");
		if (eid && strcmp(eid, id) == 0)
			return (long)i;
	}
	return -1;
}

/* §5.6 PATCH/DELETE: fields set (or isValid:false), srvModified = now. False when absent. */
static bool v3_modify_locked(struct tsns *ns, int c, const char *id, struct json_object *patch,
			     bool delete)
{
	long at = v3_find_locked(ns, c, id);
	struct json_object *e;

	if (at < 0)
		return false;
	e = json_object_array_get_idx(ns->store[c], (size_t)at);
	if (patch) {
		json_object_object_foreach(patch, k, v)
			set(e, k, copy(v));
	}
	if (delete)
		set(e, "isValid", json_object_new_boolean(0));
	set(e, "srvModified", json_object_new_int64(stamp_locked(ns)));
	set_str(e, "modifiedBy", ns->subject);
	return true;
}

/* GET /version (public): {status, result: {version, apiVersion, srvDate, storage}}. */
static void v3_version(struct tsns *ns, struct tsrv_response *resp)
{
	struct json_object *out = json_object_new_object(), *r = json_object_new_object();
	struct json_object *storage = json_object_new_object();

	if (!out || !r || !storage)
		oom();
	set_str(r, "version", "15.0.7");
	set_str(r, "apiVersion", "3.0.3-alpha");
	set(r, "srvDate", json_object_new_int64(stamp_locked(ns)));
	set_str(storage, "storage", "mongodb");
	set_str(storage, "version", "4.4.29");
	set(r, "storage", storage);
	set(out, "status", json_object_new_int(200));
	set(out, "result", r);
	tsrv_respond_json(resp, 200, out);
	json_object_put(out);
}

/* The read permission of a v3 read (403 naming it when missing); true when granted. */
static bool v3_may_read_locked(struct tsns *ns, int c, enum who w, struct tsrv_response *resp)
{
	char perm[64], msg[96];

	snprintf(perm, sizeof(perm), "api:%s:read", coll_names[c]);
	if (permitted_locked(ns, w, perm))
		return true;
	snprintf(msg, sizeof(msg), "Missing permission %s", perm);
	tsrv_respond_error(resp, 403, msg);
	return false;
}

/* parseLimit: absent = API3_MAX_LIMIT, else 1..API3_MAX_LIMIT (400 otherwise); -1 when refused. */
static long v3_limit(const struct tsrv_request *req, long fallback, struct tsrv_response *resp)
{
	const char *s = tsrv_arg(req, "limit");
	char *end = NULL;
	long limit = s ? strtol(s, &end, 10) : fallback;

	if ((s && (end == s || *end != '\0')) || limit <= 0 || limit > V3_MAX_LIMIT) {
		tsrv_respond_error(resp, 400, "Parameter limit out of tolerance");
		return -1;
	}
	return limit;
}

/*
 * §5.6 history: documents whose stored srvModified is above `after` (or at
 * least it, for the Last-Modified header form), soft-deleted ones too,
 * srvModified ascending (insertion order among equals), at most limit.
 * Documents written through v1 have no srvModified and never match.
 */
static void v3_history_locked(struct tsns *ns, int c, enum who w, const char *param,
			      const struct tsrv_request *req, struct tsrv_response *resp)
{
	struct json_object *arr = ns->store[c], *result, *out;
	long long after, max = 0;
	long limit;
	size_t n = json_object_array_length(arr), kept = 0;
	struct json_object **v;
	char *end = NULL;
	bool inclusive = false;

	if (!v3_may_read_locked(ns, c, w, resp))
		return;
	if (param) {
		after = strtoll(param, &end, 10);
		if (end == param || *end != '\0') {
			tsrv_respond_error(resp, 400, "Bad or missing Last-Modified header/parameter");
			return;
		}
	} else {
		const char *h = tsrv_header(req, "Last-Modified");
		struct tm tm;
		char *tail;

		memset(&tm, 0, sizeof(tm));
		tail = h ? strptime(h, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
		if (!tail || *tail != '\0') {
			tsrv_respond_error(resp, 400, "Bad or missing Last-Modified header/parameter");
			return;
		}
		after = (long long)timegm(&tm) * 1000LL; /* whole seconds: the header's floor */
		inclusive = true;
	}
	if ((limit = v3_limit(req, V3_MAX_LIMIT, resp)) < 0)
		return;
	v = calloc(n ? n : 1, sizeof(*v));
	result = json_object_new_array();
	if (!v || !result)
		oom();
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(arr, i), *m = get(d, "srvModified");
		size_t j = kept;

		if (!m || value_rank(m) != 1)
			continue;
		if (inclusive ? json_object_get_int64(m) < after : json_object_get_int64(m) <= after)
			continue;
		kept++;
		while (j > 0 && compare_field(v[j - 1], d, "srvModified") > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = d;
	}
	for (size_t i = 0; i < kept && i < (size_t)limit; i++) {
		struct json_object *d = copy(v[i]);
		long long m = json_object_get_int64(get(d, "srvModified"));

		if (m > max)
			max = m;
		if (!get(d, "identifier") && get(d, "_id"))
			set(d, "identifier", copy(get(d, "_id")));
		json_object_object_del(d, "_id");
		json_object_array_add(result, d);
	}
	free(v);
	out = json_object_new_object();
	if (!out)
		oom();
	set(out, "status", json_object_new_int(200));
	set(out, "result", result);
	tsrv_respond_json(resp, 200, out);
	json_object_put(out);
	if (max > 0) {
		char etag[40], date[40];
		time_t secs = (time_t)(max / 1000);
		struct tm tm;

		snprintf(etag, sizeof(etag), "W/\"%lld\"", max);
		tsrv_respond_header(resp, "ETag", etag);
		if (gmtime_r(&secs, &tm) && strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
			tsrv_respond_header(resp, "Last-Modified", date);
	}
}

static void v3_serve(struct tsns *ns, const struct tsrv_request *req, struct tsrv_response *resp)
{
	const char *name = req->path + strlen(ns->v3_route);
	size_t len = strcspn(name, "/");
	int c = coll_index(name, len);
	const char *rest = name + len, *jwt = bearer(req), *param = NULL;
	bool history = false;
	enum who w;

	pthread_mutex_lock(&ns->lock);
	if (ns->v3_off) {
		pthread_mutex_unlock(&ns->lock);
		tsrv_respond_error(resp, 404, "Not Found");
		return;
	}
	pthread_mutex_unlock(&ns->lock);
	if (strcmp(name, "version") == 0 && strcmp(req->method, "GET") == 0) {
		pthread_mutex_lock(&ns->lock);
		v3_version(ns, resp);
		pthread_mutex_unlock(&ns->lock);
		return;
	}
	if (c >= 0 && strncmp(rest, "/history", 8) == 0 && (rest[8] == '\0' || rest[8] == '/')) {
		history = true;
		param = rest[8] == '/' && rest[9] != '\0' ? rest + 9 : NULL;
		if (rest[8] == '/' && (rest[9] == '\0' || strchr(rest + 9, '/'))) {
			tsrv_respond_error(resp, 404, "Not Found");
			return;
		}
	}
	if (c < 0 || (rest[0] != '\0' && !history)) {
		tsrv_respond_error(resp, 404, "Not Found");
		return;
	}
	pthread_mutex_lock(&ns->lock);
	w = jwt && jwt_valid_locked(ns, jwt) ? WHO_TOKEN : WHO_BAD;
	if (w == WHO_BAD)
		tsrv_respond_error(resp, 401, "Missing or bad access token or JWT");
	else if (history && strcmp(req->method, "GET") == 0)
		v3_history_locked(ns, c, w, param, req, resp);
	else if (history)
		tsrv_respond_error(resp, 405, "Method Not Allowed");
	else if (strcmp(req->method, "POST") == 0)
		v3_post_locked(ns, c, w, req, resp);
	else if (strcmp(req->method, "GET") == 0)
		v3_search_locked(ns, c, w, req, resp);
	else
		tsrv_respond_error(resp, 405, "Method Not Allowed");
	pthread_mutex_unlock(&ns->lock);
}

/* ---- every request: latency and concurrency ---------------------------------------------- */

/* The collection a v1 or v3 request is about, NCOLL for none. */
static int request_collection(const struct tsns *ns, const struct tsrv_request *req)
{
	const char *name = NULL;
	bool plural;
	int c;

	if (strncmp(req->path, ns->v1_route, strlen(ns->v1_route)) == 0)
		name = req->path + strlen(ns->v1_route);
	else if (strncmp(req->path, ns->v3_route, strlen(ns->v3_route)) == 0)
		name = req->path + strlen(ns->v3_route);
	c = name ? v1_collection(name, &plural) : -1;
	return c < 0 ? NCOLL : c;
}

static void count_in(struct tsns *ns, int slot)
{
	if (++ns->in_flight[slot] > ns->max_in_flight[slot])
		ns->max_in_flight[slot] = ns->in_flight[slot];
}

/* The identifier a v3 POST carries (malloc'd), NULL for other requests. */
static char *posted_identifier(const struct tsns *ns, const struct tsrv_request *req)
{
	struct json_object *body;
	const char *id;
	char *out = NULL;

	if (strcmp(req->method, "POST") != 0 ||
	    strncmp(req->path, ns->v3_route, strlen(ns->v3_route)) != 0)
		return NULL;
	body = json_tokener_parse(req->body);
	id = get_str(body, "identifier");
	if (id)
		out = xstrdup(id);
	json_object_put(body);
	return out;
}

/* Counts id among the POSTs being answered (an overlap if it is there already). */
static void posting_add_locked(struct tsns *ns, char *id)
{
	char **v;

	for (size_t i = 0; i < ns->nposting; i++)
		if (strcmp(ns->posting[i], id) == 0) {
			ns->id_overlaps++;
			break;
		}
	v = realloc(ns->posting, (ns->nposting + 1) * sizeof(*v));
	if (!v)
		oom();
	ns->posting = v;
	ns->posting[ns->nposting++] = id;
}

static void posting_remove_locked(struct tsns *ns, const char *id)
{
	for (size_t i = 0; i < ns->nposting; i++)
		if (ns->posting[i] == id) {
			ns->posting[i] = ns->posting[--ns->nposting];
			return;
		}
}

/* Answers through serve after the scripted latency, counting the requests in flight. */
static void timed(struct tsns *ns, void (*serve)(struct tsns *, const struct tsrv_request *,
						 struct tsrv_response *),
		  const struct tsrv_request *req, struct tsrv_response *resp)
{
	int c = request_collection(ns, req);
	char *id = posted_identifier(ns, req);
	struct timespec wait;
	int latency;

	pthread_mutex_lock(&ns->lock);
	count_in(ns, NCOLL);
	if (c < NCOLL)
		count_in(ns, c);
	if (id)
		posting_add_locked(ns, id);
	latency = ns->latency_ms;
	pthread_mutex_unlock(&ns->lock);
	if (latency > 0) {
		wait.tv_sec = latency / 1000;
		wait.tv_nsec = (long)(latency % 1000) * 1000000L;
		while (nanosleep(&wait, &wait) != 0)
			;
	}
	serve(ns, req, resp);
	pthread_mutex_lock(&ns->lock);
	ns->in_flight[NCOLL]--;
	if (c < NCOLL)
		ns->in_flight[c]--;
	if (id)
		posting_remove_locked(ns, id);
	pthread_mutex_unlock(&ns->lock);
	free(id);
}

static void v1_handler(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	timed(arg, v1_serve, req, resp);
}

static void v2_request_handler(void *arg, const struct tsrv_request *req,
			       struct tsrv_response *resp)
{
	timed(arg, v2_serve, req, resp);
}

static void v3_handler(void *arg, const struct tsrv_request *req, struct tsrv_response *resp)
{
	timed(arg, v3_serve, req, resp);
}

/* ---- lifecycle and scripting --------------------------------------------------------------- */

struct tsns *tsns_attach(struct tsrv *srv, const struct tsns_config *cfg)
{
	struct tsns *ns = calloc(1, sizeof(*ns));
	const char *prefix = cfg->prefix ? cfg->prefix : "";

	if (!ns)
		return NULL;
	ns->srv = srv;
	pthread_mutex_init(&ns->lock, NULL);
	ns->jwt_lifetime_s = TSNS_JWT_LIFETIME_S;
	for (int i = 0; i < NCOLL; i++) {
		ns->store[i] = json_object_new_array();
		if (!ns->store[i])
			oom();
	}
	if (cfg->api_secret) {
		ns->has_secret = true;
		tsns_sha1_hex(cfg->api_secret, ns->secret_hash);
	}
	ns->access_token = cfg->access_token ? xstrdup(cfg->access_token) : NULL;
	ns->subject = xstrdup(cfg->subject ? cfg->subject : "nsconnect-writer");
	snprintf(ns->v1_route, sizeof(ns->v1_route), "%s/api/v1/", prefix);
	snprintf(ns->v2_route, sizeof(ns->v2_route), "%s/api/v2/authorization/request/", prefix);
	snprintf(ns->v3_route, sizeof(ns->v3_route), "%s/api/v3/", prefix);
	if (tsrv_route(srv, NULL, ns->v1_route, v1_handler, ns) != 0 ||
	    tsrv_route(srv, NULL, ns->v2_route, v2_request_handler, ns) != 0 ||
	    tsrv_route(srv, NULL, ns->v3_route, v3_handler, ns) != 0) {
		tsns_free(ns);
		return NULL;
	}
	return ns;
}

void tsns_free(struct tsns *ns)
{
	if (!ns)
		return;
	for (int i = 0; i < NCOLL; i++)
		json_object_put(ns->store[i]);
	for (size_t i = 0; i < ns->njwts; i++)
		free(ns->jwts[i].token);
	free(ns->jwts);
	for (size_t i = 0; i < ns->ndenied; i++)
		free(ns->denied[i]);
	free(ns->denied);
	free(ns->posting);
	for (size_t i = 0; i < ns->non_read; i++)
		free(ns->on_read[i].id);
	free(ns->on_read);
	free(ns->access_token);
	free(ns->subject);
	pthread_mutex_destroy(&ns->lock);
	free(ns);
}

size_t tsns_count(struct tsns *ns, const char *col)
{
	int c = coll_index(col, strlen(col));
	size_t n;

	if (c < 0)
		return 0;
	pthread_mutex_lock(&ns->lock);
	n = json_object_array_length(ns->store[c]);
	pthread_mutex_unlock(&ns->lock);
	return n;
}

struct json_object *tsns_docs(struct tsns *ns, const char *col)
{
	int c = coll_index(col, strlen(col));
	struct json_object *out;

	if (c < 0)
		return json_object_new_array();
	pthread_mutex_lock(&ns->lock);
	out = copy(ns->store[c]);
	pthread_mutex_unlock(&ns->lock);
	return out;
}

void tsns_insert(struct tsns *ns, const char *col, struct json_object *doc)
{
	int c = coll_index(col, strlen(col));
	char oid[25];

	if (c < 0) {
		json_object_put(doc);
		return;
	}
	pthread_mutex_lock(&ns->lock);
	if (!get(doc, "_id")) {
		new_oid_locked(ns, oid);
		set_str(doc, "_id", oid);
	}
	json_object_array_add(ns->store[c], doc);
	pthread_mutex_unlock(&ns->lock);
}

void tsns_revoke_jwts(struct tsns *ns)
{
	pthread_mutex_lock(&ns->lock);
	for (size_t i = 0; i < ns->njwts; i++)
		ns->jwts[i].revoked = true;
	pthread_mutex_unlock(&ns->lock);
}

void tsns_set_jwt_lifetime(struct tsns *ns, int seconds)
{
	pthread_mutex_lock(&ns->lock);
	ns->jwt_lifetime_s = seconds;
	pthread_mutex_unlock(&ns->lock);
}

size_t tsns_jwts_issued(struct tsns *ns)
{
	size_t n;

	pthread_mutex_lock(&ns->lock);
	n = ns->njwts;
	pthread_mutex_unlock(&ns->lock);
	return n;
}

void tsns_last_jwt(struct tsns *ns, char *buf, size_t size)
{
	pthread_mutex_lock(&ns->lock);
	snprintf(buf, size, "%s", ns->njwts ? ns->jwts[ns->njwts - 1].token : "");
	pthread_mutex_unlock(&ns->lock);
}

void tsns_deny(struct tsns *ns, const char *permission)
{
	pthread_mutex_lock(&ns->lock);
	ns->denied = realloc(ns->denied, (ns->ndenied + 1) * sizeof(*ns->denied));
	if (!ns->denied)
		oom();
	ns->denied[ns->ndenied++] = xstrdup(permission);
	pthread_mutex_unlock(&ns->lock);
}

void tsns_reverse_reads(struct tsns *ns, bool on)
{
	pthread_mutex_lock(&ns->lock);
	ns->reverse = on;
	pthread_mutex_unlock(&ns->lock);
}

void tsns_set_latency_ms(struct tsns *ns, int ms)
{
	pthread_mutex_lock(&ns->lock);
	ns->latency_ms = ms > 0 ? ms : 0;
	pthread_mutex_unlock(&ns->lock);
}

size_t tsns_max_in_flight(struct tsns *ns, const char *col)
{
	int c = col ? coll_index(col, strlen(col)) : NCOLL;
	size_t n;

	if (c < 0)
		return 0;
	pthread_mutex_lock(&ns->lock);
	n = ns->max_in_flight[c];
	pthread_mutex_unlock(&ns->lock);
	return n;
}

size_t tsns_identifier_overlaps(struct tsns *ns)
{
	size_t n;

	pthread_mutex_lock(&ns->lock);
	n = ns->id_overlaps;
	pthread_mutex_unlock(&ns->lock);
	return n;
}

void tsns_insert_v3(struct tsns *ns, const char *col, struct json_object *doc, long long srv_ms)
{
	int c = coll_index(col, strlen(col));
	char oid[25];

	if (c < 0) {
		json_object_put(doc);
		return;
	}
	pthread_mutex_lock(&ns->lock);
	if (srv_ms <= 0)
		srv_ms = stamp_locked(ns);
	new_oid_locked(ns, oid);
	if (!get(doc, "_id"))
		set_str(doc, "_id", oid);
	if (!get(doc, "identifier"))
		set_str(doc, "identifier", oid);
	set(doc, "srvCreated", json_object_new_int64(srv_ms));
	set(doc, "srvModified", json_object_new_int64(srv_ms));
	if (!get(doc, "subject"))
		set_str(doc, "subject", ns->subject);
	json_object_array_add(ns->store[c], doc);
	pthread_mutex_unlock(&ns->lock);
}

/* PATCH or DELETE of the document col/identifier; false when absent. */
static bool modify(struct tsns *ns, const char *col, const char *identifier, struct json_object *patch,
		   bool delete)
{
	int c = coll_index(col, strlen(col));
	bool found;

	if (c < 0)
		return false;
	pthread_mutex_lock(&ns->lock);
	found = v3_modify_locked(ns, c, identifier, patch, delete);
	pthread_mutex_unlock(&ns->lock);
	return found;
}

bool tsns_delete(struct tsns *ns, const char *col, const char *identifier)
{
	return modify(ns, col, identifier, NULL, true);
}

bool tsns_update(struct tsns *ns, const char *col, const char *identifier, struct json_object *patch)
{
	bool found = modify(ns, col, identifier, patch, false);

	json_object_put(patch);
	return found;
}

void tsns_delete_on_read(struct tsns *ns, const char *col, const char *identifier)
{
	int c = coll_index(col, strlen(col));
	void *v;

	if (c < 0)
		return;
	pthread_mutex_lock(&ns->lock);
	v = realloc(ns->on_read, (ns->non_read + 1) * sizeof(*ns->on_read));
	if (!v)
		oom();
	ns->on_read = v;
	ns->on_read[ns->non_read].c = c;
	ns->on_read[ns->non_read].id = xstrdup(identifier);
	ns->non_read++;
	pthread_mutex_unlock(&ns->lock);
}

void tsns_set_v3(struct tsns *ns, bool on)
{
	pthread_mutex_lock(&ns->lock);
	ns->v3_off = !on;
	pthread_mutex_unlock(&ns->lock);
}

void tsns_set_now_ms(struct tsns *ns, long long ms)
{
	pthread_mutex_lock(&ns->lock);
	ns->stamp_ms = ms > 0 ? ms : 0;
	pthread_mutex_unlock(&ns->lock);
}
