/* SPDX-License-Identifier: MIT */
/* Glooko's wire protocol: hosts, sign-in, answers, feed pages, clinical times (see glooko.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/vendor_client.h"
#include "jsonutil.h"
#include "secret.h"
#include "sources/glooko/glooko.h"
#include "sources/kit/vendor.h"
#include "timeutil.h"

/* ---- hosts ------------------------------------------------------------------ */

static const struct {
	const char *env, *api, *origin;
} envs[] = {
	{ "default", "https://api.glooko.com", "https://my.glooko.com" },
	{ "us", "https://api.glooko.com", "https://my.glooko.com" },
	{ "eu", "https://eu.api.glooko.com", "https://eu.my.glooko.com" },
	{ "de-fr", "https://de-fr.api.glooko.com", "https://de-fr.my.glooko.com" },
	{ "ca", "https://ca.api.glooko.com", "https://ca.my.glooko.com" },
	{ "development", "https://api.glooko.work", "https://my.glooko.work" },
	{ "production", "https://externalapi.glooko.com", "https://my.glooko.com" },
};

nsc_rc nsc_glooko_hosts_for(const char *env, const char *server, struct nsc_glooko_hosts *out,
			    struct nsc_error *err)
{
	const char *name = env && *env ? env : "default";
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		if (strcasecmp(envs[i].env, name) != 0)
			continue;
		const char *api = server && *server ? server : envs[i].api;
		size_t n = strlen(api);
		while (n > 0 && api[n - 1] == '/')
			n--;
		if (n >= sizeof(out->api))
			return nsc_error_set(err, NSC_ERR_CONFIG, "CONNECT_GLOOKO_SERVER is too long");
		memcpy(out->api, api, n);
		out->api[n] = '\0';
		snprintf(out->origin, sizeof(out->origin), "%s", envs[i].origin);
		return NSC_OK;
	}
	return nsc_error_set(err, NSC_ERR_CONFIG,
			     "CONNECT_GLOOKO_ENV '%s' is not one of default, us, eu, de-fr, ca, development, production",
			     name);
}

/* ---- feeds ------------------------------------------------------------------ */

static const struct nsc_glooko_feed feeds[NSC_GLOOKO_KIND_COUNT] = {
	[NSC_GLOOKO_CGM] = { "/api/v2/cgm/readings", "readings", "cgm", "timestamp", NSC_COLL_ENTRIES },
	[NSC_GLOOKO_METER] = { "/api/v2/readings", "readings", "meter", "timestamp", NSC_COLL_TREATMENTS },
	[NSC_GLOOKO_BOLUS] = { "/api/v2/pumps/normal_boluses", "normalBoluses", "boluses", "pumpTimestamp",
			       NSC_COLL_TREATMENTS },
	[NSC_GLOOKO_EXTENDED] = { "/api/v2/pumps/extended_boluses", "extendedBoluses", "extended", "pumpTimestamp",
				  NSC_COLL_TREATMENTS },
	[NSC_GLOOKO_BASAL] = { "/api/v2/pumps/scheduled_basals", "scheduledBasals", "basals", "pumpTimestamp",
			       NSC_COLL_TREATMENTS },
	[NSC_GLOOKO_TEMP_BASAL] = { "/api/v2/pumps/temporary_basals", "temporaryBasals", "temp_basals",
				    "pumpTimestamp", NSC_COLL_TREATMENTS },
	[NSC_GLOOKO_SUSPEND] = { "/api/v2/pumps/suspend_basals", "suspendBasals", "suspends", "pumpTimestamp",
				 NSC_COLL_TREATMENTS },
	[NSC_GLOOKO_FOOD] = { "/api/v2/foods", "foods", "foods", "timestamp", NSC_COLL_TREATMENTS },
	[NSC_GLOOKO_EVENT] = { "/api/v2/pumps/events", "events", "events", "timestamp", NSC_COLL_TREATMENTS },
	[NSC_GLOOKO_ALARM] = { "/api/v2/pumps/alarms", "alarms", "alarms", "timestamp", NSC_COLL_TREATMENTS },
};

const struct nsc_glooko_feed *nsc_glooko_feed(enum nsc_glooko_kind k)
{
	return (unsigned)k < NSC_GLOOKO_KIND_COUNT ? &feeds[k] : NULL;
}

/* ---- sign-in ---------------------------------------------------------------- */

char *nsc_glooko_sign_in_body(const char *email, const char *password)
{
	struct json_object *root = json_object_new_object(), *login = json_object_new_object(),
			   *dev = json_object_new_object();
	bool ok = root && login && dev && nsc_json_add_string(login, "email", email ? email : "") == 0 &&
		  nsc_json_add_string(login, "password", password ? password : "") == 0 &&
		  nsc_json_add_string(dev, "applicationType", "logbook") == 0 &&
		  nsc_json_add_string(dev, "os", "android") == 0 && nsc_json_add_string(dev, "osVersion", "33") == 0 &&
		  nsc_json_add_string(dev, "device", "Google Pixel 8 Pro") == 0 &&
		  nsc_json_add_string(dev, "deviceManufacturer", "Google") == 0 &&
		  nsc_json_add_string(dev, "deviceModel", "Pixel 8 Pro") == 0 &&
		  nsc_json_add_string(dev, "serialNumber", "HIDDEN") == 0 &&
		  nsc_json_add_bool(dev, "clinicalResearch", false) == 0 &&
		  nsc_json_add_string(dev, "deviceId", "HIDDEN") == 0 &&
		  nsc_json_add_string(dev, "applicationVersion", "6.1.3") == 0 &&
		  nsc_json_add_string(dev, "buildNumber", "0") == 0 &&
		  nsc_json_add_string(dev, "gitHash", "g4fbed2011b") == 0;
	if (ok) {
		ok = nsc_json_add_child(root, "userLogin", login) == 0;
		login = NULL;
		ok = ok && nsc_json_add_child(root, "deviceInformation", dev) == 0;
		dev = NULL;
	}
	const char *text = ok ? json_object_to_json_string_ext(root, NSC_JSON_WIRE) : NULL;
	char *copy = text ? strdup(text) : NULL;
	/* The serialised password lives in json-c's buffer too: wipe it before it is freed. */
	if (text)
		nsc_secret_wipe((char *)text, strlen(text));
	json_object_put(login);
	json_object_put(dev);
	json_object_put(root);
	return copy;
}

/* The body names a second factor (the shape is not documented: any of its words). */
static bool mentions_two_factor(const char *body)
{
	static const char *const words[] = { "twoFactor", "two_factor", "two-factor", "mfa", "otp",
					     "verification code", NULL };
	for (size_t i = 0; words[i]; i++)
		if (strcasestr(body, words[i]) != NULL)
			return true;
	return false;
}

/* The Set-Cookie value that holds the session, or -1. */
static long session_cookie(const struct nsc_http_response *resp)
{
	size_t n = strlen(NSC_GLOOKO_COOKIE);
	for (size_t i = 0; i < resp->set_cookie_count; i++) {
		const char *c = resp->set_cookie[i];
		while (c && (*c == ' ' || *c == '\t'))
			c++;
		if (c && strncmp(c, NSC_GLOOKO_COOKIE, n) == 0 && c[n] == '=' && c[n + 1] != '\0' && c[n + 1] != ';')
			return (long)i;
	}
	return -1;
}

static nsc_rc rejected(struct nsc_vendor_verdict *v, const char *why)
{
	return nsc_vendor_verdict_set(v, NSC_ERR_REJECTED, "%s", why);
}

enum nsc_glooko_sign_in nsc_glooko_sign_in_answer(const struct nsc_http_response *resp, bool v3,
						  size_t *cookie_at, char code[NSC_GLOOKO_CODE_MAX],
						  struct nsc_vendor_verdict *v)
{
	nsc_vendor_verdict_ok(v);
	code[0] = '\0';
	const char *body = resp->body ? resp->body : "";
	if (resp->status == 200 || resp->status == 201) {
		long at = session_cookie(resp);
		struct json_object *o = nsc_json_parse(body, resp->body_len), *login = NULL;
		const char *patient = NULL;
		if (json_object_object_get_ex(o, "userLogin", &login))
			patient = nsc_json_get_string(login, "glookoCode");
		if (at >= 0 && patient && *patient && strlen(patient) < NSC_GLOOKO_CODE_MAX) {
			snprintf(code, NSC_GLOOKO_CODE_MAX, "%s", patient);
			*cookie_at = (size_t)at;
			json_object_put(o);
			return NSC_GLOOKO_SIGNED_IN;
		}
		json_object_put(o);
		if (at < 0 && mentions_two_factor(body)) {
			rejected(v, "Glooko asks this account for a second sign-in factor (a code), which nsconnect "
				    "cannot answer: use a Glooko account without two-factor sign-in, for example a "
				    "follower account the patient invites, in CONNECT_GLOOKO_EMAIL and "
				    "CONNECT_GLOOKO_PASSWORD");
			return NSC_GLOOKO_SIGN_IN_FAILED;
		}
		nsc_vendor_verdict_set(v, NSC_ERR_RETRY,
				       "Glooko accepted the sign-in but sent no %s",
				       at < 0 ? "session cookie" : "patient code (glookoCode)");
		return NSC_GLOOKO_SIGN_IN_FAILED;
	}
	if (resp->status == 401 || resp->status == 403) {
		if (mentions_two_factor(body)) {
			rejected(v, "Glooko asks this account for a second sign-in factor (a code), which nsconnect "
				    "cannot answer: use a Glooko account without two-factor sign-in, for example a "
				    "follower account the patient invites");
			return NSC_GLOOKO_SIGN_IN_FAILED;
		}
		rejected(v, "Glooko rejected the sign-in: check CONNECT_GLOOKO_EMAIL and CONNECT_GLOOKO_PASSWORD");
		return NSC_GLOOKO_SIGN_IN_FAILED;
	}
	if (resp->status == 422) {
		if (!v3)
			return NSC_GLOOKO_TRY_V3;
		/* Both sign-ins refused as unprocessable: the account lives on another regional host. */
		rejected(v, "Glooko refused the sign-in on this server (422): the account may belong to "
			    "another region; check CONNECT_GLOOKO_ENV (us, eu, de-fr, ca) or CONNECT_GLOOKO_SERVER");
		return NSC_GLOOKO_SIGN_IN_FAILED;
	}
	nsc_vendor_status_verdict(&nsc_glooko_words, NSC_VENDOR_PHASE_LOGIN, resp->status, resp->retry_after_ms, v);
	return NSC_GLOOKO_SIGN_IN_FAILED;
}

/* ---- data answers ------------------------------------------------------------ */

void nsc_glooko_data_verdict(const struct nsc_http_response *resp, bool *unavailable,
			     struct nsc_vendor_verdict *v)
{
	*unavailable = false;
	nsc_vendor_verdict_ok(v);
	if (resp->status == 404 || resp->status == 422) {
		*unavailable = true;
		return;
	}
	if (resp->status == 403 && resp->body && strstr(resp->body, "data_cant_view")) {
		nsc_vendor_verdict_set(v, NSC_ERR_AUTH, "Glooko no longer shows this patient's data to the "
							"session (the patient code changed); signing in again");
		return;
	}
	nsc_vendor_status_verdict(&nsc_glooko_words, NSC_VENDOR_PHASE_DATA, resp->status, resp->retry_after_ms, v);
}

/* ---- feed pages -------------------------------------------------------------- */

#define ZERO_GUID "00000000-0000-0000-0000-000000000000"

char *nsc_glooko_page_url(const char *api, enum nsc_glooko_kind k, const char *patient, int64_t updated_after_ms,
			  const char *last_guid, int64_t local_from_ms, int64_t local_to_ms)
{
	const struct nsc_glooko_feed *f = nsc_glooko_feed(k);
	char after[NSC_ISO_BUF], from[NSC_ISO_BUF], to[NSC_ISO_BUF];
	if (f == NULL || nsc_time_format_iso(updated_after_ms > 0 ? updated_after_ms : 0, after, sizeof(after)) != NSC_OK)
		return NULL;
	char *p = nsc_vendor_escape(patient ? patient : "");
	char *g = nsc_vendor_escape(last_guid && *last_guid ? last_guid : ZERO_GUID);
	char *url = NULL;
	if (p && g) {
		if (local_from_ms < local_to_ms && nsc_time_format_iso(local_from_ms, from, sizeof(from)) == NSC_OK &&
		    nsc_time_format_iso(local_to_ms, to, sizeof(to)) == NSC_OK)
			url = nsc_vendor_printf("%s%s?patient=%s&startDate=%s&endDate=%s&lastUpdatedAt=%s&lastGuid=%s"
						"&limit=%d&sendSoftDeleted=true",
						api, f->path, p, from, to, after, g, NSC_GLOOKO_PAGE_LIMIT);
		else
			url = nsc_vendor_printf("%s%s?patient=%s&lastUpdatedAt=%s&lastGuid=%s&limit=%d&sendSoftDeleted=true",
						api, f->path, p, after, g, NSC_GLOOKO_PAGE_LIMIT);
	}
	free(p);
	free(g);
	return url;
}

nsc_rc nsc_glooko_page_read(const char *body, size_t len, enum nsc_glooko_kind k, struct json_object **records,
			    size_t *n, bool *last, char *cursor, size_t cursor_size, struct nsc_error *err)
{
	const struct nsc_glooko_feed *f = nsc_glooko_feed(k);
	*records = NULL;
	*n = 0;
	*last = true;
	cursor[0] = '\0';
	char why[128];
	struct json_object *o = nsc_json_parse_why(body, len, why, sizeof(why)), *arr = NULL;
	if (!f || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, f->property, &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(o);
		return nsc_error_set(err, NSC_ERR_DROP, "Glooko sent a %s page without its %s list%s%s", f ? f->part : "?",
				     f ? f->property : "?", why[0] ? ": " : "", why);
	}
	bool is_last = true;
	/* No lastPage: one page (an older answer shape); a page's cursor is needed to go on. */
	if (!nsc_json_get_bool(o, "lastPage", &is_last))
		is_last = true;
	const char *at = nsc_json_get_string(o, "lastUpdatedAt"), *guid = nsc_json_get_string(o, "lastGuid");
	if (!is_last && (!at || !guid || (size_t)snprintf(cursor, cursor_size, "%s|%s", at, guid) >= cursor_size)) {
		json_object_put(o);
		cursor[0] = '\0';
		return nsc_error_set(err, NSC_ERR_DROP, "Glooko sent a %s page that is not the last without its cursor",
				     f->part);
	}
	*records = json_object_get(arr);
	*n = json_object_array_length(arr);
	*last = is_last;
	json_object_put(o);
	return NSC_OK;
}

bool nsc_glooko_cursor_split(const char *cursor, int64_t *updated_ms, char *guid, size_t guid_size)
{
	const char *bar = cursor ? strchr(cursor, '|') : NULL;
	char iso[64];
	if (bar == NULL || (size_t)(bar - cursor) >= sizeof(iso) || strlen(bar + 1) >= guid_size)
		return false;
	memcpy(iso, cursor, (size_t)(bar - cursor));
	iso[bar - cursor] = '\0';
	if (nsc_time_parse_iso(iso, updated_ms, NULL) != NSC_OK)
		return false;
	snprintf(guid, guid_size, "%s", bar + 1);
	return true;
}

/* ---- clinical times ----------------------------------------------------------- */

/* Whether this kind met this repeated wall-clock time before in the transform (then remember it). */
static bool met_before(struct nsc_glooko_fold_memo *m, enum nsc_glooko_kind kind, int64_t local_ms)
{
	for (size_t i = 0; i < m->count; i++)
		if (m->local_ms[i] == local_ms && m->kind[i] == (unsigned char)kind)
			return true;
	if (m->count < sizeof(m->local_ms) / sizeof(m->local_ms[0])) {
		m->local_ms[m->count] = local_ms;
		m->kind[m->count++] = (unsigned char)kind;
	}
	return false;
}

bool nsc_glooko_clinical_time(const char *text, int64_t updated_ms, const struct nsc_tz *tz,
			      enum nsc_glooko_kind kind, struct nsc_glooko_fold_memo *seen, int64_t *utc_ms,
			      int *offset_min)
{
	int64_t wall;
	int stated = 0;
	if (text == NULL || nsc_time_parse_iso(text, &wall, &stated) != NSC_OK)
		return false;
	/* An explicit offset other than Z is a real one: the instant is what it says. */
	if (stated != 0 || strpbrk(text + 10, "+-") != NULL) {
		*utc_ms = wall;
		*offset_min = stated;
		return true;
	}
	int32_t off_s;
	int64_t earlier;
	enum nsc_tz_kind k = nsc_tz_local_to_utc(tz, wall, NSC_TZ_EARLIER, &earlier, &off_s);
	*utc_ms = earlier;
	if (k == NSC_TZ_AMBIGUOUS) {
		int64_t later;
		int32_t later_off;
		(void)nsc_tz_local_to_utc(tz, wall, NSC_TZ_LATER, &later, &later_off);
		bool take_later;
		if (updated_ms > 0 && updated_ms < later) {
			take_later = false; /* updated before the later instant happened */
			(void)met_before(seen, kind, wall);
		} else if (updated_ms > 0 && updated_ms - later < NSC_MS_PER_HOUR) {
			take_later = true; /* synced promptly after the later instant */
		} else {
			take_later = met_before(seen, kind, wall);
		}
		if (take_later) {
			*utc_ms = later;
			off_s = later_off;
		}
	}
	*offset_min = (int)(off_s / 60);
	return true;
}
