/* SPDX-License-Identifier: MIT */
/* CareLink's hosts, the URLs a token may go to, and its session answers (see carelink.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonutil.h"
#include "sources/carelink/carelink.h"
#include "sources/kit/vendor.h"

nsc_rc nsc_carelink_hosts_for(const char *region, const char *server, struct nsc_carelink_hosts *out,
			      struct nsc_error *err)
{
	memset(out, 0, sizeof(*out));
	const char *r = region && *region ? region : "eu";
	if (strcasecmp(r, "eu") != 0 && strcasecmp(r, "us") != 0)
		return nsc_error_set(err, NSC_ERR_CONFIG, "CONNECT_CARELINK_REGION '%s' is not eu or us", r);
	snprintf(out->tld, sizeof(out->tld), "%s", strcasecmp(r, "us") == 0 ? "com" : "eu");
	if (server && *server) {
		size_t n = strlen(server);
		while (n > 0 && server[n - 1] == '/')
			n--;
		if (n >= sizeof(out->carelink))
			return nsc_error_set(err, NSC_ERR_CONFIG, "CONNECT_CARELINK_SERVER is too long");
		memcpy(out->carelink, server, n);
		memcpy(out->cloud, server, n);
		out->server = true;
		return NSC_OK;
	}
	snprintf(out->carelink, sizeof(out->carelink), "https://carelink.minimed.%s", out->tld);
	snprintf(out->cloud, sizeof(out->cloud), "https://clcloud.minimed.%s", out->tld);
	return NSC_OK;
}

/* The scheme+host[:port] of url into buf, and where its path starts; false when it has none. */
static bool split_origin(const char *url, char *buf, size_t size, const char **path)
{
	const char *p = strstr(url, "://");
	if (p == NULL)
		return false;
	const char *end = p + 3;
	end += strcspn(end, "/?#");
	if ((size_t)(end - url) >= size || end == p + 3)
		return false;
	memcpy(buf, url, (size_t)(end - url));
	buf[end - url] = '\0';
	*path = end;
	return true;
}

/* A host of CareLink's in the region: carelink.minimed.<tld> or clcloud.minimed.<tld>. */
static bool carelink_origin(const char *origin, const char *tld)
{
	char a[64], b[64];
	snprintf(a, sizeof(a), "https://carelink.minimed.%s", tld);
	snprintf(b, sizeof(b), "https://clcloud.minimed.%s", tld);
	return strcasecmp(origin, a) == 0 || strcasecmp(origin, b) == 0;
}

nsc_rc nsc_carelink_vendor_url(const struct nsc_carelink_hosts *h, const char *url, char **out,
			       struct nsc_error *err)
{
	char origin[NSC_CARELINK_URL_MAX];
	const char *path;
	*out = NULL;
	if (url == NULL || !split_origin(url, origin, sizeof(origin), &path))
		return nsc_error_set(err, NSC_ERR_DROP, "CareLink handed back a data address that is not a URL");
	bool ours = carelink_origin(origin, h->tld);
	bool the_server = h->server && strcasecmp(origin, h->carelink) == 0;
	if (!ours && !the_server)
		return nsc_error_set(err, NSC_ERR_DROP,
				     "CareLink handed back a data address on %s, which is not a CareLink host of the "
				     "region%s: the token is not sent there",
				     origin, h->server ? " nor CONNECT_CARELINK_SERVER" : "");
	*out = nsc_vendor_printf("%s%s", h->server ? h->carelink : origin, path);
	return *out ? NSC_OK : nsc_error_set(err, NSC_ERR_NOMEM, "CareLink: out of memory");
}

char *nsc_carelink_login_url(const struct nsc_carelink_hosts *h, const char *token_url)
{
	char origin[NSC_CARELINK_URL_MAX];
	const char *path;
	if (token_url == NULL)
		return NULL;
	if (h->server && split_origin(token_url, origin, sizeof(origin), &path)) {
		size_t n = strlen(origin);
		bool medtronic = (n > 11 && strcasecmp(origin + n - 11, ".minimed.eu") == 0) ||
				 (n > 12 && strcasecmp(origin + n - 12, ".minimed.com") == 0);
		if (medtronic)
			return nsc_vendor_printf("%s%s", h->carelink, path);
	}
	return strdup(token_url);
}

void nsc_carelink_refresh_verdict(const struct nsc_http_response *resp, struct nsc_vendor_verdict *v)
{
	nsc_vendor_verdict_ok(v);
	if (resp->status == 200)
		return;
	if (resp->status == 400 || resp->status == 401 || resp->status == 403) {
		nsc_vendor_verdict_set(v, NSC_ERR_REJECTED,
				       "CareLink refused to renew the login in CONNECT_CARELINK_TOKEN_FILE (HTTP %ld): "
				       "run `nightscout-connect carelink-login` again to sign in in a browser",
				       resp->status);
		return;
	}
	nsc_vendor_status_verdict(&nsc_carelink_words, NSC_VENDOR_PHASE_LOGIN, resp->status, resp->retry_after_ms, v);
}

void nsc_carelink_call_verdict(const struct nsc_http_response *resp, struct nsc_vendor_verdict *v)
{
	nsc_vendor_verdict_ok(v);
	switch (resp->status) {
	case 200:
		return;
	case 401:
	case 403:
		nsc_vendor_verdict_set(v, NSC_ERR_AUTH, "CareLink refused the access token (HTTP %ld); renewing it",
				       resp->status);
		return;
	case 400:
	case 404:
	case 410:
	case 422:
		nsc_vendor_verdict_set(v, NSC_ERR_DROP,
				       "CareLink does not serve this request (HTTP %ld): its API may have changed",
				       resp->status);
		return;
	default:
		nsc_vendor_status_verdict(&nsc_carelink_words, NSC_VENDOR_PHASE_DATA, resp->status, resp->retry_after_ms,
					  v);
	}
}

static struct json_object *parse(const char *body, size_t len, json_type want, const char *what,
				 struct nsc_error *err)
{
	struct json_object *o = body ? nsc_json_parse(body, len) : NULL;
	if (!json_object_is_type(o, want)) {
		json_object_put(o);
		nsc_error_set(err, NSC_ERR_DROP, "CareLink sent %s that nsconnect cannot read", what);
		return NULL;
	}
	return o;
}

nsc_rc nsc_carelink_me_read(const char *body, size_t len, struct nsc_carelink_me *out, struct nsc_error *err)
{
	memset(out, 0, sizeof(*out));
	struct json_object *o = parse(body, len, json_type_object, "an account (users/me)", err);
	if (o == NULL)
		return NSC_ERR_DROP;
	const char *user = nsc_json_get_string(o, "username"), *role = nsc_json_get_string(o, "role"),
		   *country = nsc_json_get_string(o, "country");
	nsc_rc rc = NSC_OK;
	if (user == NULL || *user == '\0' || strlen(user) >= sizeof(out->username) || role == NULL)
		rc = nsc_error_set(err, NSC_ERR_DROP, "CareLink sent an account without its user name or role");
	else {
		snprintf(out->username, sizeof(out->username), "%s", user);
		out->care_partner = strncasecmp(role, "CARE_PARTNER", 12) == 0;
		if (country && strlen(country) < sizeof(out->country)) {
			for (size_t i = 0; country[i]; i++)
				out->country[i] = (char)tolower((unsigned char)country[i]);
		}
	}
	json_object_put(o);
	return rc;
}

nsc_rc nsc_carelink_pick_patient(const char *body, size_t len, const char *configured,
				 char out[NSC_CARELINK_NAME_MAX], struct nsc_error *err)
{
	out[0] = '\0';
	struct json_object *o = parse(body, len, json_type_array, "the linked patients", err);
	if (o == NULL)
		return NSC_ERR_DROP;
	char names[NSC_ERROR_MSG_MAX / 2] = "";
	size_t n = json_object_array_length(o), usable = 0;
	const char *only = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *u = nsc_json_get_string(json_object_array_get_idx(o, i), "username");
		if (u == NULL || *u == '\0' || strlen(u) >= NSC_CARELINK_NAME_MAX)
			continue;
		usable++;
		only = u;
		if (configured && strcmp(configured, u) == 0) {
			snprintf(out, NSC_CARELINK_NAME_MAX, "%s", u);
			json_object_put(o);
			return NSC_OK;
		}
		size_t at = strlen(names);
		snprintf(names + at, sizeof(names) - at, "%s%s", at ? ", " : "", u);
	}
	nsc_rc rc;
	if (usable == 0)
		rc = nsc_error_set(err, NSC_ERR_REJECTED,
				   "This CareLink care-partner account follows no patient: link one in the CareLink "
				   "app, or use the patient's own login");
	else if (configured && *configured)
		rc = nsc_error_set(err, NSC_ERR_REJECTED,
				   "CONNECT_CARELINK_PATIENT_USERNAME '%s' is not linked to this account; linked: %s",
				   configured, names);
	else if (usable > 1)
		rc = nsc_error_set(err, NSC_ERR_REJECTED,
				   "This CareLink account follows several patients (%s): set "
				   "CONNECT_CARELINK_PATIENT_USERNAME to the one to read",
				   names);
	else {
		snprintf(out, NSC_CARELINK_NAME_MAX, "%s", only);
		rc = NSC_OK;
	}
	json_object_put(o);
	return rc;
}

nsc_rc nsc_carelink_ble_endpoint(const char *body, size_t len, char **out, struct nsc_error *err)
{
	*out = NULL;
	struct json_object *o = parse(body, len, json_type_object, "the country settings", err);
	if (o == NULL)
		return NSC_ERR_DROP;
	const char *url = nsc_json_get_string(o, "blePereodicDataEndpoint"); /* CareLink's spelling */
	bool named = url != NULL && *url != '\0';
	*out = named ? strdup(url) : NULL;
	json_object_put(o); /* url is gone with it */
	if (!named)
		return nsc_error_set(err, NSC_ERR_DROP, "CareLink's country settings name no data endpoint");
	return *out ? NSC_OK : nsc_error_set(err, NSC_ERR_NOMEM, "CareLink: out of memory");
}

nsc_rc nsc_carelink_family(const char *body, size_t len, char family[NSC_CARELINK_NAME_MAX], bool *ble,
			   struct nsc_error *err)
{
	family[0] = '\0';
	*ble = false;
	struct json_object *o = parse(body, len, json_type_object, "the monitor data", err);
	if (o == NULL)
		return NSC_ERR_DROP;
	const char *f = nsc_json_get_string(o, "deviceFamily");
	nsc_rc rc = NSC_OK;
	if (f == NULL || *f == '\0' || strlen(f) >= NSC_CARELINK_NAME_MAX) {
		rc = nsc_error_set(err, NSC_ERR_DROP, "CareLink's monitor data names no device family");
	} else {
		snprintf(family, NSC_CARELINK_NAME_MAX, "%s", f);
		*ble = strcasestr(f, "BLE") != NULL || strcasestr(f, "SIMPLERA") != NULL || strcasestr(f, "MINIMED") != NULL;
	}
	json_object_put(o);
	return rc;
}

char *nsc_carelink_ble_body(const char *username, bool care_partner, const char *patient)
{
	struct json_object *o = json_object_new_object();
	char *text = NULL;
	if (o && nsc_json_add_string(o, "username", username) == 0 &&
	    nsc_json_add_string(o, "role", care_partner ? "carepartner" : "patient") == 0 &&
	    nsc_json_add_string(o, "patientId", patient) == 0) {
		const char *t = json_object_to_json_string_ext(o, NSC_JSON_WIRE);
		text = t ? strdup(t) : NULL;
	}
	json_object_put(o);
	return text;
}
