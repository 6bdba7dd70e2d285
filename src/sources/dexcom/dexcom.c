/* SPDX-License-Identifier: MIT */
/* The Dexcom Share driver: two-step login and the glucose call, sequenced on the kit. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "sources/dexcom/dexcom.h"
#include "sources/kit/secret_slot.h"
#include "sources/kit/vendor.h"
#include "timeutil.h"

#define COMP "dexcomshare"
#define PATH_AUTHENTICATE NSC_DEXCOM_BASE_PATH "/General/AuthenticatePublisherAccount"
#define PATH_LOGIN NSC_DEXCOM_BASE_PATH "/General/LoginPublisherAccountById"
#define PATH_DATA NSC_DEXCOM_BASE_PATH "/Publisher/ReadPublisherLatestGlucoseValues"

enum step {
	STEP_NONE,
	STEP_AUTHENTICATE, /* accountName + password -> account id */
	STEP_AUTHORIZE,    /* account id + password -> session id */
	STEP_FETCH,
};

NSC_VENDOR_PROFILE(profile, COMP, &nsc_dexcom_words, "authenticate", "authorize", "fetch");

struct dx_ctx {
	struct nsc_vendor_base base; /* first: the kit's standard ops cast to it */
	char *url;                   /* "https://share2.dexcom.com" or CONNECT_SHARE_SERVER */
	const char *app_id;
	struct nsc_secret_slot account_id; /* empty until step 1 succeeded */
	struct nsc_secret_slot session_id; /* empty without a session */
};

static nsc_rc dx_create(const struct nsc_source_env *env, void **out, struct nsc_error *err)
{
	if (env == NULL || env->config == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "dexcomshare: created without configuration");
	const struct nsc_config *cfg = env->config;
	if (cfg->share_account_name == NULL || cfg->share_account_name[0] == '\0')
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_SHARE_ACCOUNT_NAME is not set; it is required when CONNECT_SOURCE=dexcomshare");
	if (cfg->share_password == NULL || cfg->share_password[0] == '\0')
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_SHARE_PASSWORD is not set; it is required when CONNECT_SOURCE=dexcomshare");
	const char *host = nsc_dexcom_region_host(cfg->share_region);
	const char *app_id = nsc_dexcom_region_app_id(cfg->share_region);
	if (host == NULL || app_id == NULL)
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_SHARE_REGION=\"%s\" is not valid; expected us, ous or jp",
				     cfg->share_region);

	struct dx_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "dexcomshare: out of memory");
	nsc_rc rc = nsc_vendor_base_init(&ctx->base, &profile, env, err);
	if (rc != NSC_OK) {
		free(ctx);
		return rc;
	}
	ctx->app_id = app_id;
	nsc_secret_slot_init(&ctx->account_id, env->log);
	nsc_secret_slot_init(&ctx->session_id, env->log);
	/* A configured server replaces the host only; the region still picks the app id. */
	if (cfg->share_server != NULL && cfg->share_server[0] != '\0')
		ctx->url = strdup(cfg->share_server);
	else
		ctx->url = nsc_vendor_printf("https://%s", host);
	if (ctx->url == NULL) {
		nsc_vendor_base_fini(&ctx->base);
		free(ctx);
		return nsc_error_set(err, NSC_ERR_NOMEM, "dexcomshare: out of memory");
	}
	*out = ctx;
	nsc_dbg(env->log, COMP, "event=create base=%s region=%s", ctx->url,
		cfg->share_region ? cfg->share_region : "us");
	return NSC_OK;
}

static size_t dx_servers(void *vctx, const char **urls, size_t max)
{
	const struct dx_ctx *c = vctx;
	if (max < 1)
		return 0;
	urls[0] = c->url;
	return 1;
}

static void dx_destroy(void *vctx)
{
	struct dx_ctx *ctx = vctx;
	if (ctx == NULL)
		return;
	nsc_vendor_base_fini(&ctx->base);
	nsc_secret_slot_forget(&ctx->session_id);
	nsc_secret_slot_forget(&ctx->account_id);
	free(ctx->url);
	free(ctx);
}

static void dx_drop_session(void *vctx)
{
	struct dx_ctx *ctx = vctx;
	if (nsc_secret_slot_held(&ctx->session_id))
		nsc_dbg(ctx->base.log, COMP, "event=session_dropped");
	nsc_secret_slot_forget(&ctx->session_id);
}

/* ---- requests ----------------------------------------------------------- */

/* POSTs body (wiped afterwards: a login body holds the password) to url; both are freed. */
static void post(struct dx_ctx *ctx, char *url, char *body, nsc_vendor_answer_fn answered)
{
	if (url == NULL || body == NULL) {
		nsc_vendor_finish(&ctx->base, NSC_ERR_NOMEM, "dexcomshare: out of memory building a request");
	} else {
		struct nsc_vendor_request rq = {
			.method = "POST",
			.url = url,
			.headers = { "Content-Type: application/json", "Accept: application/json",
				     "User-Agent: nsconnect/" PACKAGE_VERSION, NULL },
			.body = body,
			.body_len = strlen(body),
		};
		nsc_vendor_send(&ctx->base, &rq, answered);
	}
	free(url);
	nsc_secret_free(body);
}

/* ---- login ----------------------------------------------------------------- */

static void login_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct dx_ctx *ctx = (struct dx_ctx *)b;
	char id[NSC_DEXCOM_UUID_BUF];
	struct nsc_vendor_verdict v;
	bool first = b->step == STEP_AUTHENTICATE;
	nsc_dexcom_answer_verdict(NSC_DEXCOM_CALL_LOGIN, resp, id, &v);
	if (v.rc != NSC_OK) {
		/* After a credential failure redo step 1 next time: the account id may be stale. */
		if (nsc_rc_verdict(v.rc) == NSC_VERDICT_REJECTED)
			nsc_secret_slot_forget(&ctx->account_id);
		nsc_dbg(b->log, COMP, "event=login_failed step=%s status=%ld rc=%s", nsc_vendor_step_name(b),
			resp->status, nsc_rc_name(v.rc));
		nsc_vendor_finish_verdict(b, &v);
		return;
	}
	struct nsc_secret_slot *dst = first ? &ctx->account_id : &ctx->session_id;
	nsc_rc rc = nsc_secret_slot_keep(dst, id);
	nsc_secret_wipe(id, sizeof(id));
	if (rc != NSC_OK) {
		nsc_vendor_finish(b, NSC_ERR_NOMEM, "dexcomshare: out of memory keeping the session");
		return;
	}
	nsc_dbg(b->log, COMP, "event=%s", first ? "account_id_received" : "session_established");
	nsc_vendor_finish(b, NSC_OK, NULL);
}

static void dx_authenticate(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct dx_ctx *ctx = vctx;
	if (nsc_secret_slot_held(&ctx->account_id)) {
		/* The account id is stable: a new session needs only step 2. */
		nsc_dbg(ctx->base.log, COMP, "event=account_id_cached");
		done(arg, NSC_OK, NULL);
		return;
	}
	nsc_vendor_begin(&ctx->base, STEP_AUTHENTICATE, done, arg, NULL);
	post(ctx, nsc_vendor_printf("%s%s", ctx->url, PATH_AUTHENTICATE),
	     nsc_dexcom_login_body("accountName", ctx->base.cfg->share_account_name,
				   ctx->base.cfg->share_password, ctx->app_id), login_answered);
}

static void dx_authorize(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct dx_ctx *ctx = vctx;
	if (!nsc_secret_slot_held(&ctx->account_id)) {
		done(arg, NSC_ERR_RETRY, "Dexcom Share: no account id yet; logging in again");
		return;
	}
	nsc_vendor_begin(&ctx->base, STEP_AUTHORIZE, done, arg, NULL);
	post(ctx, nsc_vendor_printf("%s%s", ctx->url, PATH_LOGIN),
	     nsc_dexcom_login_body("accountId", nsc_secret_slot_get(&ctx->account_id),
				   ctx->base.cfg->share_password, ctx->app_id), login_answered);
}

/* ---- data ------------------------------------------------------------------- */

static void data_answered(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct nsc_vendor_verdict v;
	nsc_dexcom_answer_verdict(NSC_DEXCOM_CALL_DATA, resp, NULL, &v);
	if (v.rc != NSC_OK) {
		nsc_dbg(b->log, COMP, "event=fetch_failed status=%ld rc=%s", resp->status, nsc_rc_name(v.rc));
		nsc_vendor_finish_verdict(b, &v);
		return;
	}
	nsc_vendor_finish_with_body(b, resp);
}

static void dx_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		     nsc_step_done_fn done, void *arg)
{
	struct dx_ctx *ctx = vctx;
	if (!nsc_secret_slot_held(&ctx->session_id)) {
		done(arg, NSC_ERR_AUTH, "Dexcom Share: no session; logging in again");
		return;
	}
	int minutes, max_count;
	nsc_dexcom_request_size(w, &minutes, &max_count);
	nsc_vendor_begin(&ctx->base, STEP_FETCH, done, arg, out);
	nsc_dbg(ctx->base.log, COMP,
		"event=fetch from_ms=%" PRId64 " to_ms=%" PRId64 " minutes=%d maxCount=%d", w->from_ms,
		w->to_ms, minutes, max_count);
	post(ctx,
	     nsc_vendor_printf("%s%s?sessionId=%s&minutes=%d&maxCount=%d", ctx->url, PATH_DATA,
			       nsc_secret_slot_get(&ctx->session_id), minutes, max_count),
	     strdup("{}"), data_answered);
}

static nsc_rc dx_transform(void *vctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			   struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct dx_ctx *ctx = vctx;
	nsc_rc rc = nsc_dexcom_transform(in ? in->data : NULL, in ? in->len : 0, w, out, skipped, err);
	if (rc == NSC_OK)
		nsc_vendor_log_transform(&ctx->base, out, *skipped);
	return rc;
}

const struct nsc_source_driver nsc_source_dexcomshare = {
	.name = "dexcomshare",
	.display_name = "Dexcom Share",
	.timing = NSC_VENDOR_CGM_TIMING(24 * NSC_MS_PER_HOUR - 10 * NSC_MS_PER_MINUTE, 24 * NSC_MS_PER_HOUR),
	/* Share serves the last 24 hours (1440 minutes, 288 readings) and nothing older. */
	.history = { .kept_ms = 24 * NSC_MS_PER_HOUR },
	.create = dx_create,
	.destroy = dx_destroy,
	.servers = dx_servers,
	.authenticate = dx_authenticate,
	.authorize = dx_authorize,
	.drop_session = dx_drop_session,
	.cancel = nsc_vendor_std_cancel,
	.hold_off_ms = nsc_vendor_std_hold_off_ms,
	.fetch = dx_fetch,
	.transform = dx_transform,
};
