/* SPDX-License-Identifier: MIT */
/* The CareLink source driver: token renewal, the session calls and the data call, on the kit (see carelink.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"
#include "sources/carelink/carelink.h"
#include "sources/kit/bearer.h"
#include "sources/kit/token_file.h"
#include "sources/kit/vendor.h"
#include "timeutil.h"

#define COMP "carelink"

enum step {
	STEP_NONE,
	STEP_RENEW,   /* the access token from the refresh token */
	STEP_SESSION, /* users/me, linked patients, device family, country settings */
	STEP_FETCH,
};

const struct nsc_vendor_words nsc_carelink_words = {
	.who = "CareLink",
	.server_setting = "CONNECT_CARELINK_SERVER",
	.rate_hold_off_ms = 30 * NSC_MS_PER_SECOND,
};

NSC_VENDOR_PROFILE(profile, COMP, &nsc_carelink_words, "renew", "session", "fetch");

/* Where the session step is. */
enum session_call {
	CALL_ME,
	CALL_PATIENTS,
	CALL_MONITOR,
	CALL_COUNTRY,
};

struct cl_ctx {
	struct nsc_vendor_base base; /* first: the kit's standard ops cast to it */
	struct nsc_carelink_hosts hosts;
	struct nsc_token_file file;
	struct nsc_bearer tokens;
	bool force_renew;        /* a 401 said the access token is gone whatever its exp says */
	bool expiring;           /* the fetch asked for a new session only because the token nears exp */
	/* The session, cached until it is dropped. */
	bool session_ready;
	enum session_call call;
	struct nsc_carelink_me me;
	char patient[NSC_CARELINK_NAME_MAX];
	char family[NSC_CARELINK_NAME_MAX];
	bool ble;
	char *ble_url;           /* the checked (and rewritten) BLE endpoint */
	bool stale;              /* the last data answer was stale (told once) */
};

/* ---- lifecycle ------------------------------------------------------------ */

static void forget_session(struct cl_ctx *c)
{
	c->session_ready = false;
	c->patient[0] = c->family[0] = '\0';
	free(c->ble_url);
	c->ble_url = NULL;
}

static void cl_free(struct cl_ctx *c)
{
	nsc_vendor_base_fini(&c->base);
	forget_session(c);
	nsc_bearer_clear(&c->tokens);
	nsc_token_file_fini(&c->file);
	free(c);
}

/* The token file's token_url names the region when it is a CareLink one. */
static const char *region_of(const struct cl_ctx *c, const char *configured)
{
	const char *u = c->file.token_url;
	if (u && strstr(u, ".minimed.com"))
		return "us";
	if (u && strstr(u, ".minimed.eu"))
		return "eu";
	return configured;
}

static nsc_rc cl_create(const struct nsc_source_env *env, void **out, struct nsc_error *err)
{
	if (env == NULL || env->config == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "carelink: created without configuration");
	struct cl_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "carelink: out of memory");
	nsc_token_file_init(&c->file);
	nsc_bearer_init(&c->tokens, env->log);
	nsc_rc rc = nsc_vendor_base_init(&c->base, &profile, env, err);
	if (rc != NSC_OK) {
		nsc_token_file_fini(&c->file);
		free(c);
		return rc;
	}
	const struct nsc_config *cfg = env->config;
	const char *path = cfg->carelink_token_file && *cfg->carelink_token_file ? cfg->carelink_token_file
										  : "./carelink-logindata.json";
	rc = nsc_token_file_load(&c->file, path, &c->tokens, err);
	if (rc == NSC_OK)
		rc = nsc_carelink_hosts_for(region_of(c, cfg->carelink_region), cfg->carelink_server, &c->hosts, err);
	if (rc != NSC_OK) {
		cl_free(c);
		return rc;
	}
	nsc_dbg(env->log, COMP, "event=create carelink=%s cloud=%s", c->hosts.carelink, c->hosts.cloud);
	*out = c;
	return NSC_OK;
}

static void cl_describe_selection(void *vctx, char *buf, size_t size)
{
	const struct cl_ctx *c = vctx;
	if (!c->session_ready)
		snprintf(buf, size, "no session yet");
	else if (c->me.care_partner)
		snprintf(buf, size, "care-partner account %s, reading linked patient %s (%s pump, %s data)%s",
			 c->me.username, c->patient, c->family[0] ? c->family : "unknown", c->ble ? "BLE" : "legacy",
			 c->base.cfg->carelink_patient_username && *c->base.cfg->carelink_patient_username
				 ? ""
				 : ": the only patient it follows (CONNECT_CARELINK_PATIENT_USERNAME chooses among several)");
	else
		snprintf(buf, size, "patient account %s, reading its own data (%s pump, %s data)", c->me.username,
			 c->family[0] ? c->family : "unknown", c->ble ? "BLE" : "legacy");
}

static size_t cl_servers(void *vctx, const char **urls, size_t max)
{
	const struct cl_ctx *c = vctx;
	size_t n = 0;
	if (n < max)
		urls[n++] = c->hosts.carelink;
	if (n < max && strcmp(c->hosts.cloud, c->hosts.carelink) != 0)
		urls[n++] = c->hosts.cloud;
	return n;
}

static void cl_destroy(void *vctx)
{
	if (vctx != NULL)
		cl_free(vctx);
}

/* CareLink dropped the session: renew the access token and ask the session calls again. */
static void cl_drop_session(void *vctx)
{
	struct cl_ctx *c = vctx;
	c->force_renew = true;
	/* A token near its exp is renewed; who the account is and what it reads stay as they were. */
	if (!c->expiring)
		forget_session(c);
	c->expiring = false;
}

/* ---- requests ------------------------------------------------------------- */

/* Sends a request; every call but the renewal carries the access token. */
static void send(struct cl_ctx *c, const char *method, char *url, const char *content_type, const char *body,
		 size_t body_len, nsc_vendor_answer_fn answered)
{
	char *auth = NULL;
	if (url == NULL) {
		nsc_vendor_finish(&c->base, NSC_ERR_NOMEM, "CareLink: out of memory building a request");
		return;
	}
	if (c->base.step != STEP_RENEW && (nsc_bearer_header(&c->tokens, &auth) != NSC_OK || auth == NULL)) {
		free(url);
		nsc_vendor_finish(&c->base, NSC_ERR_AUTH, "CareLink: no access token; renewing it");
		return;
	}
	struct nsc_vendor_request rq = { .method = method, .url = url, .body = body, .body_len = body_len };
	size_t k = 0;
	rq.headers[k++] = "Accept: application/json";
	rq.headers[k++] = "User-Agent: nsconnect/" PACKAGE_VERSION;
	if (content_type)
		rq.headers[k++] = content_type;
	if (auth)
		rq.headers[k++] = auth;
	rq.headers[k] = NULL;
	nsc_vendor_send(&c->base, &rq, answered);
	nsc_secret_free(auth);
	free(url);
}

/* ---- renewal ---------------------------------------------------------------- */

static void renew_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct cl_ctx *c = (struct cl_ctx *)b;
	struct nsc_vendor_verdict v;
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_carelink_refresh_verdict(resp, &v);
	if (v.rc != NSC_OK) {
		nsc_dbg(b->log, COMP, "event=renew_failed status=%ld rc=%s", resp->status, nsc_rc_name(v.rc));
		nsc_vendor_finish_verdict(b, &v);
		return;
	}
	bool rotated = false;
	nsc_rc rc = nsc_bearer_take_answer(&c->tokens, resp->body, resp->body_len, nsc_vendor_wall_ms(b), &rotated, &err);
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, rc == NSC_ERR_NOMEM ? rc : NSC_ERR_RETRY, err.msg);
		return;
	}
	/* A rotated refresh token lives only here until it is on disk: write it before anything else. */
	if (rotated || c->force_renew) {
		rc = nsc_token_file_save(&c->file, &c->tokens, &err);
		if (rc != NSC_OK) {
			nsc_vendor_finish(b, rc, err.msg);
			return;
		}
	}
	c->force_renew = false;
	nsc_dbg(b->log, COMP, "event=renewed rotated=%s", rotated ? "yes" : "no");
	nsc_vendor_finish(b, NSC_OK, NULL);
}

static void cl_authenticate(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct cl_ctx *c = vctx;
	if (!c->force_renew &&
	    !nsc_bearer_needs_refresh(&c->tokens, nsc_vendor_wall_ms(&c->base), NSC_CARELINK_REFRESH_MARGIN_MS)) {
		done(arg, NSC_OK, NULL);
		return;
	}
	nsc_vendor_begin(&c->base, STEP_RENEW, done, arg, NULL);
	char *body = NULL;
	size_t len = 0;
	if (nsc_bearer_refresh_body(&c->tokens, c->file.client_id, &body, &len) != NSC_OK) {
		nsc_vendor_finish(&c->base, NSC_ERR_REJECTED,
				  "CONNECT_CARELINK_TOKEN_FILE holds no refresh token: run `nightscout-connect "
				  "carelink-login` again");
		return;
	}
	/* The user's own file names the token endpoint; a proxy or test server stands in for Medtronic's. */
	char *url = nsc_carelink_login_url(&c->hosts, c->file.token_url);
	send(c, "POST", url, "Content-Type: application/x-www-form-urlencoded", body, len, renew_answered);
	nsc_secret_free(body);
}

/* ---- the session ------------------------------------------------------------ */

static void session_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp);

static void session_call(struct cl_ctx *c)
{
	char *url = NULL;
	switch (c->call) {
	case CALL_ME:
		url = nsc_vendor_printf("%s/patient/users/me", c->hosts.carelink);
		break;
	case CALL_PATIENTS:
		url = nsc_vendor_printf("%s/patient/m2m/links/patients", c->hosts.carelink);
		break;
	case CALL_MONITOR:
		url = nsc_vendor_printf("%s/patient/monitor/data", c->hosts.carelink);
		break;
	case CALL_COUNTRY: {
		const char *cc = c->base.cfg->carelink_country_code && *c->base.cfg->carelink_country_code
					 ? c->base.cfg->carelink_country_code
					 : c->me.country;
		char *q = nsc_vendor_escape(cc && *cc ? cc : "gb");
		url = q ? nsc_vendor_printf("%s/patient/countries/settings?countryCode=%s&language=en", c->hosts.carelink, q)
			: NULL;
		free(q);
		break;
	}
	}
	send(c, "GET", url, NULL, NULL, 0, session_answered);
}

static void session_done(struct cl_ctx *c)
{
	c->session_ready = true;
	nsc_info(c->base.log, COMP, "event=session_ready role=%s family=%s read=%s", c->me.care_partner ? "care_partner" : "patient",
		 c->family, c->ble ? "ble" : "legacy");
	nsc_vendor_finish(&c->base, NSC_OK, NULL);
}

static void session_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct cl_ctx *c = (struct cl_ctx *)b;
	struct nsc_vendor_verdict v;
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_carelink_call_verdict(resp, &v);
	if (v.rc != NSC_OK) {
		nsc_dbg(b->log, COMP, "event=session_call_failed call=%d status=%ld", (int)c->call, resp->status);
		nsc_vendor_finish_verdict(b, &v);
		return;
	}
	nsc_rc rc = NSC_OK;
	switch (c->call) {
	case CALL_ME:
		rc = nsc_carelink_me_read(resp->body, resp->body_len, &c->me, &err);
		if (rc == NSC_OK && !c->me.care_partner)
			snprintf(c->patient, sizeof(c->patient), "%s", c->me.username);
		c->call = c->me.care_partner ? CALL_PATIENTS : CALL_MONITOR;
		break;
	case CALL_PATIENTS:
		rc = nsc_carelink_pick_patient(resp->body, resp->body_len, c->base.cfg->carelink_patient_username, c->patient,
					       &err);
		c->call = CALL_MONITOR;
		break;
	case CALL_MONITOR:
		rc = nsc_carelink_family(resp->body, resp->body_len, c->family, &c->ble, &err);
		if (rc == NSC_OK && !c->ble) {
			session_done(c);
			return;
		}
		c->call = CALL_COUNTRY;
		break;
	case CALL_COUNTRY: {
		char *raw = NULL;
		rc = nsc_carelink_ble_endpoint(resp->body, resp->body_len, &raw, &err);
		if (rc == NSC_OK)
			rc = nsc_carelink_vendor_url(&c->hosts, raw, &c->ble_url, &err);
		free(raw);
		if (rc == NSC_OK) {
			session_done(c);
			return;
		}
		break;
	}
	}
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, rc, err.msg);
		return;
	}
	session_call(c);
}

static void cl_authorize(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct cl_ctx *c = vctx;
	if (c->session_ready) {
		done(arg, NSC_OK, NULL);
		return;
	}
	nsc_vendor_begin(&c->base, STEP_SESSION, done, arg, NULL);
	c->call = CALL_ME;
	session_call(c);
}

/* ---- data ------------------------------------------------------------------- */

static void data_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct nsc_vendor_verdict v;
	nsc_carelink_call_verdict(resp, &v);
	if (v.rc != NSC_OK) {
		nsc_dbg(b->log, COMP, "event=data_failed status=%ld rc=%s", resp->status, nsc_rc_name(v.rc));
		nsc_vendor_finish_verdict(b, &v);
		return;
	}
	nsc_vendor_finish_with_body(b, resp);
}

static void cl_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out, nsc_step_done_fn done,
		     void *arg)
{
	struct cl_ctx *c = vctx;
	(void)w;
	if (!c->session_ready) {
		done(arg, NSC_ERR_AUTH, "CareLink: the session is not set up; starting it again");
		return;
	}
	/* The engine renews sessions on a 401; a token about to expire is renewed before it is refused. */
	if (nsc_bearer_needs_refresh(&c->tokens, nsc_vendor_wall_ms(&c->base), NSC_CARELINK_REFRESH_MARGIN_MS)) {
		c->expiring = true;
		done(arg, NSC_ERR_AUTH, "CareLink's access token is about to expire; renewing it");
		return;
	}
	nsc_vendor_begin(&c->base, STEP_FETCH, done, arg, out);
	if (c->ble) {
		char *body = nsc_carelink_ble_body(c->me.username, c->me.care_partner, c->patient);
		char *url = c->ble_url ? strdup(c->ble_url) : NULL;
		if (body == NULL) {
			free(url);
			nsc_vendor_finish(&c->base, NSC_ERR_NOMEM, "CareLink: out of memory");
			return;
		}
		send(c, "POST", url, "Content-Type: application/json", body, strlen(body), data_answered);
		free(body);
		return;
	}
	int64_t now = nsc_vendor_wall_ms(&c->base);
	char *who = nsc_vendor_escape(c->patient);
	char *url = NULL;
	if (who && c->me.care_partner)
		url = nsc_vendor_printf("%s/patient/m2m/connect/data/gc/patients/%s?cpSerialNumber=NONE&msgType=last24hours"
					"&requestTime=%" PRId64,
					c->hosts.carelink, who, now);
	else if (who)
		url = nsc_vendor_printf("%s/patient/connect/data?cpSerialNumber=NONE&msgType=last24hours&requestTime=%" PRId64,
					c->hosts.carelink, now);
	free(who);
	send(c, "GET", url, NULL, NULL, 0, data_answered);
}

static nsc_rc cl_transform(void *vctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			   struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct cl_ctx *c = vctx;
	(void)w;
	struct nsc_carelink_view view;
	nsc_rc rc = nsc_carelink_transform(in ? in->data : NULL, in ? in->len : 0, c->family, out, skipped, &view, err);
	if (rc != NSC_OK)
		return rc;
	/* Stale data is told once when it starts and once when uploads come back. */
	if (view.stale && !c->stale)
		nsc_warn(c->base.log, COMP,
			 "event=stale_upload age_min=%lld msg=\"CareLink's newest data from the pump is %lld minutes old: "
			 "the phone or the pump stopped uploading (app closed, Bluetooth off, out of range)\"",
			 (long long)((nsc_vendor_wall_ms(&c->base) - view.upload_ms) / 60000),
			 (long long)((nsc_vendor_wall_ms(&c->base) - view.upload_ms) / 60000));
	else if (!view.stale && c->stale)
		nsc_info(c->base.log, COMP, "event=upload_resumed msg=\"CareLink receives data from the pump again\"");
	c->stale = view.stale;
	nsc_vendor_log_transform(&c->base, out, *skipped);
	return NSC_OK;
}

const struct nsc_source_driver nsc_source_carelink = {
	.name = "minimedcarelink",
	.display_name = "Medtronic CareLink",
	/* The phone uploads a minute or two after each 5-minute SG; the access token renews itself. */
	.timing = NSC_VENDOR_TIMING(0, 0, 90 * NSC_MS_PER_SECOND, 18 * NSC_MS_PER_SECOND),
	/* The data answer holds the last 24 hours and nothing older. */
	.history = { .kept_ms = 24 * NSC_MS_PER_HOUR },
	.create = cl_create,
	.destroy = cl_destroy,
	.servers = cl_servers,
	.describe_selection = cl_describe_selection,
	.authenticate = cl_authenticate,
	.authorize = cl_authorize,
	.drop_session = cl_drop_session,
	.cancel = nsc_vendor_std_cancel,
	.hold_off_ms = nsc_vendor_std_hold_off_ms,
	.fetch = cl_fetch,
	.transform = cl_transform,
};
