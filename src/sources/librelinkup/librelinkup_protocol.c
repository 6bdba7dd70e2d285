/* SPDX-License-Identifier: MIT */
/* LibreLinkUp's pure parts: hosts, timestamps, arrows, account-id, answers, transform. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "jsonutil.h"
#include "sources/kit/documents.h"
#include "sources/librelinkup/librelinkup.h"
#include "timeutil.h"

#define REGION_MAX 15

/* ---- hosts --------------------------------------------------------------- */

static bool region_valid(const char *r)
{
	size_t n = r ? strlen(r) : 0;
	if (n == 0 || n > REGION_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)r[i]))
			return false;
	return true;
}

static nsc_rc put(char *buf, size_t size, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(buf, size, fmt, a, b);
	return n < 0 || (size_t)n >= size ? NSC_ERR_RANGE : NSC_OK;
}

nsc_rc nsc_linkup_region_host(const char *region, char *buf, size_t size)
{
	char lower[REGION_MAX + 1];
	if (!region_valid(region))
		return NSC_ERR_PARSE;
	size_t n = strlen(region);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)region[i]);
	if (strcmp(lower, "cn") == 0)
		return put(buf, size, "%s%s", "https://api-cn.myfreestyle.cn", "");
	if (strcmp(lower, "ru") == 0)
		return put(buf, size, "%s%s", "https://api.libreview.ru", "");
	return put(buf, size, "https://api-%s%s.libreview.io", lower, "");
}

static bool host_ends_with(const char *host, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	if (len == n - 1 && strncasecmp(host, suffix + 1, len) == 0)
		return true; /* the bare domain, suffix without its leading dot */
	return len > n && strncasecmp(host + len - n, suffix, n) == 0;
}

bool nsc_linkup_is_abbott_url(const char *url)
{
	if (url == NULL)
		return false;
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	const char *at = NULL;
	size_t len = strcspn(p, "/?#");
	for (size_t i = 0; i < len; i++)
		if (p[i] == '@')
			at = p + i;
	if (at) {
		len -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	size_t host_len = strcspn(p, ":/?#");
	if (host_len > len)
		host_len = len;
	return host_ends_with(p, host_len, ".libreview.io") || host_ends_with(p, host_len, ".libreview.ru") ||
	       host_ends_with(p, host_len, ".myfreestyle.cn");
}

nsc_rc nsc_linkup_base_url(const char *region, const char *server, char *buf, size_t size)
{
	if (server && *server)
		return put(buf, size, "%s%s", server, "");
	return nsc_linkup_region_host(region && *region ? region : NSC_LINKUP_DEFAULT_REGION, buf, size);
}

nsc_rc nsc_linkup_redirect_url(const char *region, const char *server, char *buf, size_t size)
{
	if (!region_valid(region))
		return NSC_ERR_PARSE;
	if (server == NULL || *server == '\0' || nsc_linkup_is_abbott_url(server))
		return nsc_linkup_region_host(region, buf, size);
	char lower[REGION_MAX + 1];
	size_t n = strlen(region);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)region[i]);
	return put(buf, size, "%s/region/%s", server, lower);
}

/* ---- fields -------------------------------------------------------------- */

/* Reads 1..max digits; advances *p. */
static bool read_num(const char **p, int max_digits, int *out)
{
	int v = 0, n = 0;
	while (n < max_digits && isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (n == 0 || isdigit((unsigned char)**p))
		return false;
	*out = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

nsc_rc nsc_linkup_parse_timestamp(const char *text, int64_t *epoch_ms)
{
	const char *p = text;
	int a, b, y, h, mi, s;
	if (p == NULL)
		return NSC_ERR_PARSE;
	while (*p == ' ')
		p++;
	if (!read_num(&p, 2, &a) || *p++ != '/' || !read_num(&p, 2, &b) || *p++ != '/' ||
	    !read_num(&p, 4, &y) || *p != ' ')
		return NSC_ERR_PARSE;
	while (*p == ' ')
		p++;
	if (!read_num(&p, 2, &h) || *p++ != ':' || !read_num(&p, 2, &mi) || *p++ != ':' ||
	    !read_num(&p, 2, &s))
		return NSC_ERR_PARSE;
	while (*p == ' ')
		p++;
	int month, day;
	if (*p != '\0') {
		/* 12-hour US form: M/D/YYYY h:mm:ss AM|PM. */
		bool pm;
		if (strncasecmp(p, "AM", 2) == 0)
			pm = false;
		else if (strncasecmp(p, "PM", 2) == 0)
			pm = true;
		else
			return NSC_ERR_PARSE;
		p += 2;
		while (*p == ' ')
			p++;
		if (*p != '\0' || h < 1 || h > 12)
			return NSC_ERR_PARSE;
		h = h % 12 + (pm ? 12 : 0);
		month = a;
		day = b;
	} else {
		/* 24-hour form: d/M/yyyy, unless only M/D makes sense. */
		day = a;
		month = b;
		if (month > 12 && day <= 12) {
			day = b;
			month = a;
		}
		if (h > 23)
			return NSC_ERR_PARSE;
	}
	if (y < 1970 || y > 9999 || month < 1 || month > 12 || day < 1 || day > days_in_month(y, month) ||
	    mi > 59 || s > 59)
		return NSC_ERR_PARSE;
	int64_t days = nsc_days_from_civil(y, (unsigned)month, (unsigned)day);
	*epoch_ms = ((days * 24 + h) * 60 + mi) * 60000LL + s * 1000LL;
	return NSC_OK;
}

enum nsc_trend nsc_linkup_trend(int64_t arrow)
{
	switch (arrow) {
	case 1:
		return NSC_TREND_SINGLE_DOWN;
	case 2:
		return NSC_TREND_FORTY_FIVE_DOWN;
	case 3:
		return NSC_TREND_FLAT;
	case 4:
		return NSC_TREND_FORTY_FIVE_UP;
	case 5:
		return NSC_TREND_SINGLE_UP;
	default:
		return NSC_TREND_NOT_COMPUTABLE;
	}
}

nsc_rc nsc_linkup_account_id(const char *user_id, char out[NSC_LINKUP_ACCOUNT_ID_BUF])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	out[0] = '\0';
	if (user_id == NULL || *user_id == '\0')
		return NSC_ERR_PARSE;
	if (EVP_Digest(user_id, strlen(user_id), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return NSC_ERR_INTERNAL;
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return NSC_OK;
}

/* ---- answers ------------------------------------------------------------- */

void nsc_linkup_answer_free(struct nsc_linkup_answer *a)
{
	if (a == NULL)
		return;
	free(a->token);
	a->token = NULL;
	json_object_put(a->root);
	a->root = NULL;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static struct json_object *member(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v;
	if (o == NULL || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

/* Copies a ticket's token and expiry ({"token","expires",...}); false on NOMEM. */
static bool take_ticket(struct json_object *ticket, struct nsc_linkup_answer *out)
{
	const char *tok = nsc_json_get_string(ticket, "token");
	if (ticket == NULL || tok == NULL || *tok == '\0')
		return true;
	out->token = strdup(tok);
	if (out->token == NULL)
		return false;
	if (!nsc_json_get_int64(ticket, "expires", &out->expires_s))
		out->expires_s = 0;
	return true;
}

static bool looks_like_json(const char *content_type, const char *body, size_t len)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i < len && (body[i] == '{' || body[i] == '['))
		return true;
	return content_type && strstr(content_type, "json") != NULL && i < len && body[i] != '<';
}

/* The kinds any answer can have by its HTTP status and body alone. */
static void classify_common(long http_status, const char *content_type, const char *body, size_t len,
			    struct json_object *root, struct nsc_linkup_answer *out)
{
	const char *message = nsc_json_get_string(root, "message");
	struct json_object *data = member(root, "data", json_type_object);

	if (message && strcmp(message, "RequiredHeaderMissing") == 0) {
		out->kind = NSC_LINKUP_HEADER_MISSING;
	} else if (out->body_status == 920) {
		out->kind = NSC_LINKUP_VERSION;
		copy_str(out->min_version, sizeof(out->min_version), nsc_json_get_string(data, "minimumVersion"));
	} else if (http_status == 401) {
		out->kind = NSC_LINKUP_UNAUTHORIZED;
	} else if (http_status == 430 || (http_status == 403 && !looks_like_json(content_type, body, len))) {
		out->kind = NSC_LINKUP_BLOCKED;
	} else if (http_status == 429) {
		out->kind = NSC_LINKUP_RATE_LIMITED;
	} else if (http_status >= 500 && http_status <= 599) {
		out->kind = NSC_LINKUP_SERVER_ERROR;
	} else if (http_status < 200 || http_status > 299) {
		out->kind = NSC_LINKUP_UNEXPECTED;
	} else if (root == NULL || !json_object_is_type(root, json_type_object)) {
		out->kind = NSC_LINKUP_MALFORMED;
	} else {
		out->kind = NSC_LINKUP_UNEXPECTED; /* the caller refines a 2xx object */
	}
}

static void answer_init(struct nsc_linkup_answer *out, long http_status)
{
	memset(out, 0, sizeof(*out));
	out->http_status = http_status;
	out->body_status = -1;
}

static struct json_object *parse_body(const char *body, size_t len, struct nsc_linkup_answer *out)
{
	struct json_object *root = body && len ? nsc_json_parse(body, len) : NULL;
	if (root && !nsc_json_get_int64(root, "status", &out->body_status))
		out->body_status = -1;
	return root;
}

nsc_rc nsc_linkup_classify_login(long http_status, const char *content_type, const char *body,
				 size_t len, struct nsc_linkup_answer *out)
{
	answer_init(out, http_status);
	struct json_object *root = parse_body(body, len, out);
	struct json_object *data = member(root, "data", json_type_object);

	/* The lock answer comes in a 200 body; accept it under a 429 too. */
	struct json_object *lock = member(data, "data", json_type_object);
	const char *lock_msg = nsc_json_get_string(data, "message");
	if (out->body_status == 429 || (lock_msg && strcmp(lock_msg, "locked") == 0)) {
		out->kind = NSC_LINKUP_LOCKED;
		if (!nsc_json_get_int64(lock, "lockout", &out->lockout_s) || out->lockout_s <= 0)
			out->lockout_s = NSC_LINKUP_DEFAULT_LOCKOUT_S;
		json_object_put(root);
		return NSC_OK;
	}
	classify_common(http_status, content_type, body, len, root, out);
	if (out->kind != NSC_LINKUP_UNEXPECTED || http_status < 200 || http_status > 299) {
		json_object_put(root);
		return NSC_OK;
	}

	bool redirect = false;
	switch (out->body_status) {
	case 0: {
		if (nsc_json_get_bool(data, "redirect", &redirect) && redirect) {
			const char *region = nsc_json_get_string(data, "region");
			out->kind = region && *region ? NSC_LINKUP_REDIRECT : NSC_LINKUP_MALFORMED;
			copy_str(out->region, sizeof(out->region), region);
			break;
		}
		struct json_object *user = member(data, "user", json_type_object);
		struct json_object *ticket = member(data, "authTicket", json_type_object);
		const char *uid = nsc_json_get_string(user, "id");
		const char *tok = nsc_json_get_string(ticket, "token");
		if (uid == NULL || *uid == '\0' || strlen(uid) >= sizeof(out->user_id) || tok == NULL ||
		    *tok == '\0') {
			out->kind = NSC_LINKUP_MALFORMED;
			break;
		}
		copy_str(out->user_id, sizeof(out->user_id), uid);
		if (!take_ticket(ticket, out)) {
			json_object_put(root);
			return NSC_ERR_NOMEM;
		}
		out->kind = NSC_LINKUP_OK;
		break;
	}
	case 2:
		out->kind = NSC_LINKUP_BAD_CREDENTIALS;
		break;
	case 4: {
		struct json_object *step = member(data, "step", json_type_object);
		const char *type = nsc_json_get_string(step, "type");
		out->kind = NSC_LINKUP_USER_ACTION;
		copy_str(out->step, sizeof(out->step), type ? type : "unknown");
		break;
	}
	case -1:
		out->kind = NSC_LINKUP_MALFORMED;
		break;
	default:
		out->kind = NSC_LINKUP_UNEXPECTED;
		break;
	}
	json_object_put(root);
	return NSC_OK;
}

nsc_rc nsc_linkup_classify_data(long http_status, const char *content_type, const char *body,
				size_t len, struct nsc_linkup_answer *out)
{
	answer_init(out, http_status);
	struct json_object *root = parse_body(body, len, out);
	classify_common(http_status, content_type, body, len, root, out);
	if (out->kind != NSC_LINKUP_UNEXPECTED || http_status < 200 || http_status > 299) {
		json_object_put(root);
		return NSC_OK;
	}
	/* Roll the ticket whatever the body says: the server issued it. */
	if (!take_ticket(member(root, "ticket", json_type_object), out)) {
		json_object_put(root);
		return NSC_ERR_NOMEM;
	}
	if (out->body_status == 0 || out->body_status == -1) {
		if (member(root, "data", json_type_object) || member(root, "data", json_type_array)) {
			out->kind = NSC_LINKUP_OK;
			out->root = root;
			return NSC_OK;
		}
		out->kind = NSC_LINKUP_MALFORMED;
	} else if (out->body_status == 4) {
		const char *m = nsc_json_get_string(member(root, "error", json_type_object), "message");
		out->kind = m && strcmp(m, "couldNotLoadPatient") == 0 ? NSC_LINKUP_PATIENT_UNKNOWN
								       : NSC_LINKUP_UNEXPECTED;
	}
	json_object_put(root);
	return NSC_OK;
}

static const char *call_name(enum nsc_linkup_call call)
{
	switch (call) {
	case NSC_LINKUP_CALL_LOGIN:
		return "login";
	case NSC_LINKUP_CALL_CONNECTIONS:
		return "connection list";
	case NSC_LINKUP_CALL_GRAPH:
		return "glucose data";
	}
	return "request";
}

/* A verdict with a hold-off (nsc_vendor_verdict_set clears it). */
static nsc_rc hold(struct nsc_vendor_verdict *out, int64_t hold_off_ms)
{
	out->hold_off_ms = hold_off_ms;
	return out->rc;
}

nsc_rc nsc_linkup_verdict(const struct nsc_linkup_answer *a, enum nsc_linkup_call call,
			  int64_t retry_after_ms, const char *version, struct nsc_vendor_verdict *out)
{
	const char *v = version && *version ? version : NSC_LINKUP_DEFAULT_VERSION;
	switch (a->kind) {
	case NSC_LINKUP_OK:
	case NSC_LINKUP_REDIRECT:
		return nsc_vendor_verdict_set(out, NSC_ERR_INTERNAL, "LibreLinkUp %s: not a failure", call_name(call));
	case NSC_LINKUP_BAD_CREDENTIALS:
		return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
			   "LibreLinkUp rejected the e-mail or password; check CONNECT_LINK_UP_USERNAME and "
			   "CONNECT_LINK_UP_PASSWORD");
	case NSC_LINKUP_USER_ACTION:
		if (strcmp(a->step, "tou") == 0)
			return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
				   "LibreLinkUp has new terms of use: open the LibreLinkUp app, log in with this "
				   "account and accept them");
		if (strcmp(a->step, "pp") == 0)
			return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
				   "LibreLinkUp has a new privacy policy: open the LibreLinkUp app, log in with "
				   "this account and accept it");
		if (strcmp(a->step, "verifyEmail") == 0)
			return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
				   "LibreLinkUp wants the account's e-mail address verified: open the LibreLinkUp "
				   "app (or the e-mail it sent) and verify it");
		return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
			   "LibreLinkUp asks for an action in the app (step \"%s\"): open the LibreLinkUp app, "
			   "log in with this account and follow its instructions",
			   a->step);
	case NSC_LINKUP_LOCKED:
		nsc_vendor_verdict_set(out, NSC_ERR_RETRY,
			   "LibreLinkUp locked the account for %" PRId64 " s after too many failed logins; "
			   "nsconnect waits until the lock is over",
			   a->lockout_s);
		return hold(out, a->lockout_s * 1000 + NSC_LINKUP_LOCK_MARGIN_MS);
	case NSC_LINKUP_VERSION:
		if (a->min_version[0])
			return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
				   "LibreLinkUp wants app version %s or newer (nsconnect sent %s): set "
				   "CONNECT_LINK_UP_VERSION",
				   a->min_version, v);
		return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
			   "LibreLinkUp refused app version %s: set CONNECT_LINK_UP_VERSION to the current "
			   "LibreLinkUp app version",
			   v);
	case NSC_LINKUP_HEADER_MISSING:
		return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
			   "LibreLinkUp says a required header is missing (RequiredHeaderMissing), which means "
			   "its API changed: try a newer CONNECT_LINK_UP_VERSION (now %s) or a newer nsconnect",
			   v);
	case NSC_LINKUP_UNAUTHORIZED:
		if (call == NSC_LINKUP_CALL_LOGIN)
			return nsc_vendor_verdict_set(out, NSC_ERR_RETRY, "LibreLinkUp refused the login request (HTTP 401)");
		return nsc_vendor_verdict_set(out, NSC_ERR_AUTH, "LibreLinkUp no longer accepts the session (HTTP 401)");
	case NSC_LINKUP_PATIENT_UNKNOWN:
		return nsc_vendor_verdict_set(out, NSC_ERR_REJECTED,
			   "LibreLinkUp cannot load the patient's data (couldNotLoadPatient): check "
			   "CONNECT_LINK_UP_PATIENT_ID and that the patient still shares with this account");
	case NSC_LINKUP_BLOCKED:
		nsc_vendor_verdict_set(out, NSC_ERR_RETRY,
			   "LibreLinkUp's gateway refused the %s (HTTP %ld, a temporary block of this "
			   "address); nsconnect waits 30 minutes",
			   call_name(call), a->http_status);
		return hold(out, NSC_LINKUP_BLOCK_HOLD_MS);
	case NSC_LINKUP_RATE_LIMITED: {
		int64_t wait_ms = retry_after_ms > 0 ? retry_after_ms : NSC_LINKUP_RATE_HOLD_MS;
		nsc_vendor_verdict_set(out, NSC_ERR_RETRY,
			   "LibreLinkUp asks to slow down (HTTP 429); nsconnect waits %" PRId64 " s",
			   wait_ms / 1000);
		return hold(out, wait_ms);
	}
	case NSC_LINKUP_SERVER_ERROR:
		return nsc_vendor_verdict_set(out, NSC_ERR_RETRY, "LibreLinkUp answered the %s with HTTP %ld (a server problem)",
			   call_name(call), a->http_status);
	case NSC_LINKUP_MALFORMED:
		return nsc_vendor_verdict_set(out, call == NSC_LINKUP_CALL_GRAPH ? NSC_ERR_DROP : NSC_ERR_RETRY,
			   "LibreLinkUp answered the %s with something nsconnect cannot read (HTTP %ld)",
			   call_name(call), a->http_status);
	case NSC_LINKUP_UNEXPECTED:
		break;
	}
	return nsc_vendor_verdict_set(out, NSC_ERR_RETRY,
		   "LibreLinkUp answered the %s with HTTP %ld and status %" PRId64 ", which nsconnect does not know",
		   call_name(call), a->http_status, a->body_status);
}

/* ---- transform ----------------------------------------------------------- */

struct reading {
	int64_t t;
	int64_t sgv;
	bool has_arrow;
	int64_t arrow;
};

/* A measurement object -> reading; false when malformed. */
static bool read_point(struct json_object *m, bool want_arrow, struct reading *r)
{
	double v;
	const char *ts = nsc_json_get_string(m, "FactoryTimestamp");
	memset(r, 0, sizeof(*r));
	if (ts == NULL || nsc_linkup_parse_timestamp(ts, &r->t) != NSC_OK)
		return false;
	if (!nsc_json_get_number(m, "ValueInMgPerDl", &v) || v < 1.0 || v > 1000.0)
		return false;
	r->sgv = (int64_t)lround(v);
	if (want_arrow)
		r->has_arrow = nsc_json_get_int64(m, "TrendArrow", &r->arrow);
	return true;
}

static nsc_rc add_entry(const struct reading *r, bool current, struct nsc_batch *out, size_t *skipped,
			struct nsc_error *err)
{
	/* Only the current reading has an arrow; graph points carry no trend at all. */
	struct nsc_sgv_reading e = {
		.sgv = r->sgv, .date_ms = r->t, .has_trend = current, .device = NSC_LINKUP_DEVICE,
		.trend = current ? nsc_linkup_trend(r->has_arrow ? r->arrow : 0) : NSC_TREND_NONE,
	};
	struct json_object *doc;
	nsc_rc rc = nsc_sgv_entry_new(&e, &doc);
	if (rc == NSC_ERR_PARSE) {
		(*skipped)++;
		return NSC_OK;
	}
	if (rc != NSC_OK)
		return nsc_error_set(err, rc, "LibreLinkUp: out of memory building an entry");
	return nsc_kit_batch_add(out, NSC_COLL_ENTRIES, doc, skipped, NULL, NULL, "LibreLinkUp", err);
}

nsc_rc nsc_linkup_transform_graph(const char *body, size_t len, int64_t from_ms,
				  struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	*skipped = 0;
	if (body == NULL || len == 0)
		return nsc_error_set(err, NSC_ERR_DROP, "LibreLinkUp graph answer is empty");
	struct json_object *root = nsc_json_parse(body, len);
	if (root == NULL)
		return nsc_error_set(err, NSC_ERR_DROP, "LibreLinkUp graph answer is not valid JSON (%zu bytes)", len);
	struct json_object *data = member(root, "data", json_type_object);
	if (data == NULL) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP,
				     "LibreLinkUp graph answer has the wrong shape: no \"data\" object");
	}
	struct json_object *graph = member(data, "graphData", json_type_array);
	struct json_object *cur_obj =
		member(member(data, "connection", json_type_object), "glucoseMeasurement", json_type_object);
	struct reading cur;
	bool has_cur = false;
	nsc_rc rc = NSC_OK;

	if (cur_obj) {
		has_cur = read_point(cur_obj, true, &cur);
		if (!has_cur)
			(*skipped)++;
	}
	size_t n = graph ? json_object_array_length(graph) : 0;
	for (size_t i = 0; i < n && rc == NSC_OK; i++) {
		struct reading r;
		struct json_object *p = json_object_array_get_idx(graph, i);
		if (!json_object_is_type(p, json_type_object) || !read_point(p, false, &r)) {
			(*skipped)++;
			continue;
		}
		if (r.t <= from_ms || (has_cur && r.t == cur.t))
			continue; /* old, or the current reading again (emitted below with its arrow) */
		rc = add_entry(&r, false, out, skipped, err);
	}
	if (rc == NSC_OK && has_cur && cur.t > from_ms)
		rc = add_entry(&cur, true, out, skipped, err);
	json_object_put(root);
	return rc;
}
