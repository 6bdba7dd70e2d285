/* SPDX-License-Identifier: MIT */
/* Dexcom Share, the pure part: dates, answer classification, request sizing, transform. */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonutil.h"
#include "sources/dexcom/dexcom.h"
#include "sources/kit/documents.h"
#include "timeutil.h"
#include "trend.h"

#define DEFAULT_INTERVAL_MS (5 * NSC_MS_PER_MINUTE)
#define MAX_DATE_DIGITS 15 /* epoch ms up to year 33000: no overflow */
#define CODE_BUF 64

#define MSG_REJECTED                                                                          \
	"Dexcom Share rejected the user name or password (a wrong region looks the same): check " \
	"CONNECT_SHARE_ACCOUNT_NAME and CONNECT_SHARE_PASSWORD, and check CONNECT_SHARE_REGION "   \
	"(us, ous or jp) matches where the Dexcom account was made"
#define MSG_LOCKED                                                                             \
	"Dexcom locked the account after too many failed logins: it unlocks after a while; "      \
	"meanwhile check CONNECT_SHARE_ACCOUNT_NAME and CONNECT_SHARE_PASSWORD (and that they "    \
	"work in the Dexcom app)"

struct region {
	const char *name;
	const char *host;
	const char *app_id;
};

static const struct region regions[] = {
	{ "us", "share2.dexcom.com", NSC_DEXCOM_APP_ID },
	{ "ous", "shareous1.dexcom.com", NSC_DEXCOM_APP_ID },
	{ "jp", "share.dexcom.jp", NSC_DEXCOM_APP_ID_JP },
};

static const struct region *region_find(const char *name)
{
	if (name == NULL || name[0] == '\0')
		name = "us";
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
		if (strcasecmp(name, regions[i].name) == 0)
			return &regions[i];
	return NULL;
}

const char *nsc_dexcom_region_host(const char *region)
{
	const struct region *r = region_find(region);
	return r ? r->host : NULL;
}

const char *nsc_dexcom_region_app_id(const char *region)
{
	const struct region *r = region_find(region);
	return r ? r->app_id : NULL;
}

/* ---- dates and ids ---------------------------------------------------- */

nsc_rc nsc_dexcom_parse_date(const char *text, int64_t *ms, int *offset_min)
{
	const char *p = text;
	bool slashed = false;
	int64_t v = 0;
	int digits = 0, off = 0;

	if (p == NULL)
		return NSC_ERR_PARSE;
	if (*p == '/') {
		slashed = true;
		p++;
	}
	if (strncmp(p, "Date(", 5) != 0)
		return NSC_ERR_PARSE;
	for (p += 5; isdigit((unsigned char)*p); p++) {
		if (++digits > MAX_DATE_DIGITS)
			return NSC_ERR_PARSE;
		v = v * 10 + (*p - '0');
	}
	if (digits == 0 || v <= 0)
		return NSC_ERR_PARSE;
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		for (int i = 1; i <= 4; i++)
			if (!isdigit((unsigned char)p[i]))
				return NSC_ERR_PARSE;
		int hh = (p[1] - '0') * 10 + (p[2] - '0');
		int mm = (p[3] - '0') * 10 + (p[4] - '0');
		if (hh > 14 || mm > 59)
			return NSC_ERR_PARSE;
		off = sign * (hh * 60 + mm);
		p += 5;
	}
	if (*p++ != ')')
		return NSC_ERR_PARSE;
	if (slashed && *p++ != '/')
		return NSC_ERR_PARSE;
	if (*p != '\0')
		return NSC_ERR_PARSE;
	*ms = v;
	if (offset_min)
		*offset_min = off;
	return NSC_OK;
}

int nsc_dexcom_is_uuid(const char *text)
{
	if (text == NULL || strlen(text) != NSC_DEXCOM_UUID_LEN)
		return 0;
	for (int i = 0; i < NSC_DEXCOM_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? text[i] != '-' : !isxdigit((unsigned char)text[i]))
			return 0;
	}
	return 1;
}

/* ---- classification --------------------------------------------------- */

static bool looks_like_html(const char *content_type, const char *body, size_t len)
{
	if (content_type && strstr(content_type, "html"))
		return true;
	size_t i = 0;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	return i < len && body[i] == '<';
}

static bool first_char_is(const char *body, size_t len, char c)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	return i < len && body[i] == c;
}

/* A JSON object with a string "Code": a Share fault, whatever the status. */
static bool is_fault_body(const char *body, size_t len)
{
	if (!first_char_is(body, len, '{'))
		return false;
	struct json_object *o = nsc_json_parse(body, len);
	bool fault = o && json_object_is_type(o, json_type_object) && nsc_json_get_string(o, "Code");
	json_object_put(o);
	return fault;
}

/* Copies Share's Code, keeping only [A-Za-z0-9_] so it is safe in a message. */
static void copy_code(char out[CODE_BUF], const char *code)
{
	size_t n = 0;
	for (; code && *code && n + 1 < CODE_BUF; code++)
		if (isalnum((unsigned char)*code) || *code == '_')
			out[n++] = *code;
	out[n] = '\0';
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

static nsc_rc login_fault(const char *code, const char *text, char *msg, size_t size)
{
	if (strncmp(code, "SSO_AuthenticateMaxAttemptsExce", 31) == 0) {
		snprintf(msg, size, "%s", MSG_LOCKED);
		return NSC_ERR_REJECTED;
	}
	if (strcmp(code, "AccountPasswordInvalid") == 0 || strncmp(code, "SSO_Authenticate", 16) == 0 ||
	    (strcmp(code, "SSO_InternalError") == 0 && contains_ci(text, "Cannot Authenticate"))) {
		snprintf(msg, size, "%s", MSG_REJECTED);
		return NSC_ERR_REJECTED;
	}
	if (strcmp(code, "InvalidArgument") == 0) {
		const char *setting = "CONNECT_SHARE_ACCOUNT_NAME and CONNECT_SHARE_PASSWORD";
		if (contains_ci(text, "accountName"))
			setting = "CONNECT_SHARE_ACCOUNT_NAME";
		else if (contains_ci(text, "password"))
			setting = "CONNECT_SHARE_PASSWORD";
		else if (contains_ci(text, "applicationId"))
			setting = "CONNECT_SHARE_REGION";
		snprintf(msg, size, "Dexcom Share refused the login as malformed (InvalidArgument): check %s",
			 setting);
		return NSC_ERR_REJECTED;
	}
	snprintf(msg, size, "Dexcom Share login failed with %s; will try again", code);
	return NSC_ERR_RETRY;
}

static nsc_rc data_fault(const char *code, char *msg, size_t size)
{
	if (strcmp(code, "SessionIdNotFound") == 0 || strcmp(code, "SessionNotValid") == 0 ||
	    strcmp(code, "AccountPasswordInvalid") == 0 || strncmp(code, "SSO_", 4) == 0) {
		snprintf(msg, size, "Dexcom Share no longer accepts the session (%s); logging in again", code);
		return NSC_ERR_AUTH;
	}
	snprintf(msg, size, "Dexcom Share could not read the glucose values (%s); will try again", code);
	return NSC_ERR_RETRY;
}

nsc_rc nsc_dexcom_classify_fault(enum nsc_dexcom_call call, long status, const char *body,
				 size_t len, char *msg, size_t size)
{
	char code[CODE_BUF] = "";
	nsc_rc rc;

	if (body == NULL)
		len = 0;
	if (len > 0 && first_char_is(body, len, '{')) {
		struct json_object *o = nsc_json_parse(body, len);
		if (o && json_object_is_type(o, json_type_object)) {
			copy_code(code, nsc_json_get_string(o, "Code"));
			if (code[0] != '\0') {
				const char *text = nsc_json_get_string(o, "Message");
				rc = call == NSC_DEXCOM_CALL_LOGIN ? login_fault(code, text, msg, size)
								   : data_fault(code, msg, size);
				json_object_put(o);
				return rc;
			}
		}
		json_object_put(o);
	}
	if (status != 429 && status != 401 && len > 0 && looks_like_html(NULL, body, len)) {
		snprintf(msg, size,
			 "Dexcom Share answered with a web page (HTTP %ld) instead of data, likely from its "
			 "Cloudflare front; will try again",
			 status);
		return NSC_ERR_RETRY;
	}
	/* The status alone; none of the kit's defaults ever rejects a Share login. */
	struct nsc_vendor_verdict v;
	rc = nsc_vendor_status_verdict(&nsc_dexcom_words, call == NSC_DEXCOM_CALL_LOGIN ? NSC_VENDOR_PHASE_LOGIN
										   : NSC_VENDOR_PHASE_DATA,
				       status, -1, &v);
	if (rc == NSC_OK) /* a 2xx that is still a fault (checked by the callers) */
		rc = nsc_vendor_verdict_set(&v, NSC_ERR_RETRY,
					    "Dexcom Share answered HTTP %ld unexpectedly; will try again", status);
	snprintf(msg, size, "%s", v.msg);
	return rc;
}

nsc_rc nsc_dexcom_login_answer(long status, const char *content_type, const char *body, size_t len,
			       char id[NSC_DEXCOM_UUID_BUF], char *msg, size_t size)
{
	id[0] = '\0';
	if (body == NULL)
		len = 0;
	if (status != 200)
		return nsc_dexcom_classify_fault(NSC_DEXCOM_CALL_LOGIN, status, body, len, msg, size);
	if (len > 0 && looks_like_html(content_type, body, len))
		return nsc_dexcom_classify_fault(NSC_DEXCOM_CALL_LOGIN, status, body, len, msg, size);
	if (len > 0 && first_char_is(body, len, '{'))
		return nsc_dexcom_classify_fault(NSC_DEXCOM_CALL_LOGIN, status, body, len, msg, size);

	struct json_object *o = len > 0 ? nsc_json_parse(body, len) : NULL;
	const char *s = o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
	nsc_rc rc;
	if (s && nsc_dexcom_is_uuid(s) && strcmp(s, NSC_DEXCOM_ZERO_UUID) != 0) {
		memcpy(id, s, NSC_DEXCOM_UUID_BUF);
		msg[0] = '\0';
		rc = NSC_OK;
	} else if (s && strcmp(s, NSC_DEXCOM_ZERO_UUID) == 0) {
		snprintf(msg, size,
			 "Dexcom Share returned an all-zero id, which it does during outages; will try again");
		rc = NSC_ERR_RETRY;
	} else {
		snprintf(msg, size, "Dexcom Share answered the login with something other than an id; "
				    "will try again");
		rc = NSC_ERR_RETRY;
	}
	json_object_put(o);
	return rc;
}

nsc_rc nsc_dexcom_data_answer(long status, const char *content_type, const char *body, size_t len,
			      char *msg, size_t size)
{
	if (body == NULL)
		len = 0;
	if (status != 200 || (len > 0 && (looks_like_html(content_type, body, len) ||
					  is_fault_body(body, len))))
		return nsc_dexcom_classify_fault(NSC_DEXCOM_CALL_DATA, status, body, len, msg, size);
	/* Anything else is for the transform to judge (broken JSON is dropped there). */
	msg[0] = '\0';
	return NSC_OK;
}

const struct nsc_vendor_words nsc_dexcom_words = {
	.who = "Dexcom Share",
	.server_setting = "CONNECT_SHARE_SERVER",
	.rate_hold_off_ms = NSC_DEXCOM_DEFAULT_HOLD_OFF_MS,
	.rules = NULL,
};

char *nsc_dexcom_login_body(const char *id_key, const char *id, const char *password, const char *app_id)
{
	struct json_object *o = json_object_new_object();
	char *text = NULL;
	if (o && nsc_json_add_string(o, id_key, id) == 0 && nsc_json_add_string(o, "password", password) == 0 &&
	    nsc_json_add_string(o, "applicationId", app_id) == 0) {
		const char *s = json_object_to_json_string_ext(o, NSC_JSON_WIRE);
		text = s ? strdup(s) : NULL;
	}
	json_object_put(o);
	return text;
}

void nsc_dexcom_answer_verdict(enum nsc_dexcom_call call, const struct nsc_http_response *resp,
			       char id[NSC_DEXCOM_UUID_BUF], struct nsc_vendor_verdict *v)
{
	char none[NSC_DEXCOM_UUID_BUF];
	v->hold_off_ms = 0;
	if (call == NSC_DEXCOM_CALL_LOGIN)
		v->rc = nsc_dexcom_login_answer(resp->status, resp->content_type, resp->body, resp->body_len,
						id ? id : none, v->msg, sizeof(v->msg));
	else
		v->rc = nsc_dexcom_data_answer(resp->status, resp->content_type, resp->body, resp->body_len,
					       v->msg, sizeof(v->msg));
	if (v->rc != NSC_OK && resp->status == 429)
		v->hold_off_ms = resp->retry_after_ms > 0 ? resp->retry_after_ms : NSC_DEXCOM_DEFAULT_HOLD_OFF_MS;
}

/* ---- request sizing ---------------------------------------------------- */

static int64_t ceil_div(int64_t a, int64_t b)
{
	return a <= 0 ? 0 : (a + b - 1) / b;
}

static int clamp_int(int64_t v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

void nsc_dexcom_request_size(const struct nsc_fetch_window *w, int *minutes, int *max_count)
{
	int64_t gap = w->to_ms - w->from_ms;
	int64_t interval = w->interval_ms > 0 ? w->interval_ms : DEFAULT_INTERVAL_MS;
	if (gap < 0)
		gap = 0;
	/* Clamp first: ceil_div of a huge gap stays far below INT64_MAX anyway. */
	*minutes = clamp_int(ceil_div(gap, NSC_MS_PER_MINUTE), 1, NSC_DEXCOM_MAX_MINUTES);
	*max_count = clamp_int(ceil_div(gap, interval) + 1, 1, NSC_DEXCOM_MAX_COUNT);
}

/* ---- transform ------------------------------------------------------------ */

/* The reading's instant: WT, else ST, else DT. */
static bool record_date(struct json_object *rec, int64_t *ms)
{
	static const char *const keys[] = { "WT", "ST", "DT" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (nsc_dexcom_parse_date(nsc_json_get_string(rec, keys[i]), ms, NULL) == NSC_OK)
			return true;
	return false;
}

/* Trend as a number (legacy) or a name; anything unknown is NONE (vendors.md §2.5). */
static enum nsc_trend record_trend(struct json_object *rec)
{
	struct json_object *v;
	enum nsc_trend t = NSC_TREND_NONE;
	int64_t n;

	if (!json_object_object_get_ex(rec, "Trend", &v))
		return NSC_TREND_NONE;
	if (json_object_is_type(v, json_type_string)) {
		if (!nsc_trend_parse(json_object_get_string(v), &t))
			t = NSC_TREND_NONE;
		return t;
	}
	if (nsc_json_get_int64(rec, "Trend", &n) && n >= 0 && n < NSC_TREND_COUNT)
		return (enum nsc_trend)n;
	return NSC_TREND_NONE;
}

/* One record -> entry; NSC_ERR_PARSE when malformed, *doc NULL when outside the window. */
static nsc_rc record_entry(struct json_object *rec, const struct nsc_fetch_window *w,
			   struct json_object **doc_out)
{
	struct nsc_sgv_reading r = { .has_trend = true, .device = NSC_DEXCOM_DEVICE };
	char iso[NSC_ISO_BUF];

	*doc_out = NULL;
	if (!json_object_is_type(rec, json_type_object) || !record_date(rec, &r.date_ms) ||
	    !nsc_json_get_int64(rec, "Value", &r.sgv) || r.sgv < NSC_DEXCOM_MIN_MGDL ||
	    r.sgv > NSC_DEXCOM_MAX_MGDL)
		return NSC_ERR_PARSE;
	if (nsc_time_format_iso(r.date_ms, iso, sizeof(iso)) != NSC_OK)
		return NSC_ERR_PARSE; /* malformed even when outside the window */
	if (w && (r.date_ms <= w->from_ms || r.date_ms > w->to_ms + NSC_DEXCOM_FUTURE_TOLERANCE_MS))
		return NSC_OK;
	r.trend = record_trend(rec);
	return nsc_sgv_entry_new(&r, doc_out);
}

nsc_rc nsc_dexcom_transform(const char *data, size_t len, const struct nsc_fetch_window *w,
			    struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	*skipped = 0;
	if (data == NULL || len == 0)
		return nsc_error_set(err, NSC_ERR_DROP, "Dexcom Share sent an empty answer instead of readings");
	struct json_object *root = nsc_json_parse(data, len);
	if (root == NULL)
		return nsc_error_set(err, NSC_ERR_DROP, "Dexcom Share sent readings that are not valid JSON");
	if (!json_object_is_type(root, json_type_array)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP, "Dexcom Share sent something other than a list of readings");
	}

	size_t n = json_object_array_length(root);
	nsc_rc rc = NSC_OK;
	for (size_t i = 0; i < n && rc == NSC_OK; i++) {
		struct json_object *doc = NULL;
		nsc_rc r = record_entry(json_object_array_get_idx(root, i), w, &doc);
		if (r == NSC_ERR_NOMEM) {
			rc = nsc_error_set(err, r, "Dexcom Share: out of memory building entries");
		} else if (r != NSC_OK) {
			(*skipped)++;
		} else if (doc != NULL) {
			rc = nsc_kit_batch_add(out, NSC_COLL_ENTRIES, doc, skipped, NULL, NULL, "Dexcom Share",
					       err);
		}
	}
	json_object_put(root);
	return rc;
}
