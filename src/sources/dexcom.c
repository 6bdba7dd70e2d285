/* SPDX-License-Identifier: MIT */
/* The Dexcom Share driver: two-step login and the glucose call on the engine's loop. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "sources/dexcom.h"
#include "sources/vendor_http.h"
#include "timeutil.h"
#include "secret.h"

#define COMP "dexcomshare"
#define WHO "Dexcom Share"
#define PATH_AUTHENTICATE NSC_DEXCOM_BASE_PATH "/General/AuthenticatePublisherAccount"
#define PATH_LOGIN NSC_DEXCOM_BASE_PATH "/General/LoginPublisherAccountById"
#define PATH_DATA NSC_DEXCOM_BASE_PATH "/Publisher/ReadPublisherLatestGlucoseValues"
#define MSG_MAX NSC_ERROR_MSG_MAX

enum step {
	STEP_NONE,
	STEP_AUTHENTICATE, /* accountName + password -> account id */
	STEP_AUTHORIZE,    /* account id + password -> session id */
	STEP_FETCH,
};

struct dx_ctx {
	const struct nsc_config *cfg;
	struct nsc_log *log;
	struct nsc_loop *loop;
	char *base;              /* "https://share2.dexcom.com" or CONNECT_SHARE_SERVER */
	const char *app_id;
	char user_agent[64];
	char account_id[NSC_DEXCOM_UUID_BUF]; /* "" until step 1 succeeded */
	char session_id[NSC_DEXCOM_UUID_BUF]; /* "" without a session */
	int64_t hold_off_ms;

	struct nsc_vendor_call call;
	enum step step;          /* the step in flight */
	nsc_step_done_fn done;
	void *done_arg;
	struct nsc_payload *out; /* fetch's destination */
	char *url;               /* of the request in flight */
	char *body;
};

static const char *step_name(enum step s)
{
	switch (s) {
	case STEP_AUTHENTICATE:
		return "authenticate";
	case STEP_AUTHORIZE:
		return "authorize";
	case STEP_FETCH:
		return "fetch";
	case STEP_NONE:
		break;
	}
	return "none";
}

/* ---- ids and their redaction ------------------------------------------ */

/* Keeps an id received from Share, registered as a log secret first. */
static nsc_rc keep_id(struct dx_ctx *ctx, char dst[NSC_DEXCOM_UUID_BUF], const char *id)
{
	if (nsc_log_add_secret(ctx->log, id) != NSC_OK)
		return NSC_ERR_NOMEM;
	memcpy(dst, id, NSC_DEXCOM_UUID_BUF);
	return NSC_OK;
}

static void forget_id(struct dx_ctx *ctx, char id[NSC_DEXCOM_UUID_BUF])
{
	if (id[0] != '\0')
		nsc_log_remove_secret(ctx->log, id);
	nsc_secret_wipe(id, NSC_DEXCOM_UUID_BUF);
}

/* ---- lifecycle --------------------------------------------------------- */

static nsc_rc dx_create(const struct nsc_source_env *env, void **out, struct nsc_error *err)
{
	if (env == NULL || env->config == NULL || env->loop == NULL || out == NULL)
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
	ctx->cfg = cfg;
	ctx->log = env->log;
	ctx->loop = env->loop;
	ctx->app_id = app_id;
	snprintf(ctx->user_agent, sizeof(ctx->user_agent), "User-Agent: nsconnect/%s", PACKAGE_VERSION);
	/* A configured server replaces the host only; the region still picks the app id. */
	if (cfg->share_server != NULL && cfg->share_server[0] != '\0') {
		ctx->base = strdup(cfg->share_server);
	} else {
		size_t n = strlen("https://") + strlen(host) + 1;
		ctx->base = malloc(n);
		if (ctx->base)
			snprintf(ctx->base, n, "https://%s", host);
	}
	if (ctx->base == NULL) {
		free(ctx);
		return nsc_error_set(err, NSC_ERR_NOMEM, "dexcomshare: out of memory");
	}
	nsc_vendor_call_init(&ctx->call, env->loop);
	*out = ctx;
	nsc_dbg(ctx->log, COMP, "event=create base=%s region=%s", ctx->base,
		cfg->share_region ? cfg->share_region : "us");
	return NSC_OK;
}

static void clear_request(struct dx_ctx *ctx)
{
	free(ctx->url);
	ctx->url = NULL;
	/* The login body holds the password. */
	nsc_secret_free(ctx->body);
	ctx->body = NULL;
}

static void dx_cancel(void *vctx)
{
	struct dx_ctx *ctx = vctx;
	nsc_vendor_call_cancel(&ctx->call);
	clear_request(ctx);
	ctx->step = STEP_NONE;
	ctx->done = NULL;
	ctx->done_arg = NULL;
	ctx->out = NULL;
}

static void dx_destroy(void *vctx)
{
	struct dx_ctx *ctx = vctx;
	if (ctx == NULL)
		return;
	dx_cancel(ctx);
	nsc_vendor_call_fini(&ctx->call);
	forget_id(ctx, ctx->session_id);
	forget_id(ctx, ctx->account_id);
	free(ctx->base);
	free(ctx);
}

static void dx_drop_session(void *vctx)
{
	struct dx_ctx *ctx = vctx;
	if (ctx->session_id[0] != '\0')
		nsc_dbg(ctx->log, COMP, "event=session_dropped");
	forget_id(ctx, ctx->session_id);
}

static int64_t dx_hold_off_ms(void *vctx)
{
	struct dx_ctx *ctx = vctx;
	int64_t h = ctx->hold_off_ms;
	ctx->hold_off_ms = 0;
	return h;
}

/* Ends the step in flight: done runs once, with nothing of ours left pending. */
static void finish(struct dx_ctx *ctx, nsc_rc rc, const char *message)
{
	nsc_step_done_fn done = ctx->done;
	void *arg = ctx->done_arg;
	clear_request(ctx);
	ctx->step = STEP_NONE;
	ctx->done = NULL;
	ctx->done_arg = NULL;
	ctx->out = NULL;
	if (done)
		done(arg, rc, rc == NSC_OK ? NULL : message);
}

/* ---- requests ----------------------------------------------------------- */

static void on_answer(void *arg, struct nsc_vendor_response *resp);

/* Starts a POST of body (may be NULL) to ctx->url for the current step. */
static void start_post(struct dx_ctx *ctx)
{
	struct nsc_vendor_request rq = {
		.method = "POST",
		.url = ctx->url,
		.headers = { "Content-Type: application/json", "Accept: application/json",
			     ctx->user_agent, NULL },
		.body = ctx->body,
		.body_len = ctx->body ? strlen(ctx->body) : 0,
		.timeout_ms = ctx->cfg->http_timeout_ms > 0 ? (long)ctx->cfg->http_timeout_ms : 0,
	};
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_trace(ctx->log, COMP, "event=request step=%s url=%s", step_name(ctx->step), ctx->url);
	nsc_rc rc = nsc_vendor_call_start(&ctx->call, &rq, on_answer, ctx, &err);
	if (rc != NSC_OK)
		finish(ctx, rc, err.msg);
}

static char *join_url(const char *base, const char *path)
{
	size_t n = strlen(base) + strlen(path) + 1;
	char *u = malloc(n);
	if (u)
		snprintf(u, n, "%s%s", base, path);
	return u;
}

/* {"<id_key>": id, "password": …, "applicationId": …} */
static char *login_body(const struct dx_ctx *ctx, const char *id_key, const char *id)
{
	struct json_object *o = json_object_new_object();
	char *text = NULL;
	if (o && nsc_json_add_string(o, id_key, id) == 0 &&
	    nsc_json_add_string(o, "password", ctx->cfg->share_password) == 0 &&
	    nsc_json_add_string(o, "applicationId", ctx->app_id) == 0) {
		const char *s = json_object_to_json_string_ext(o, NSC_JSON_WIRE);
		text = s ? strdup(s) : NULL;
	}
	json_object_put(o);
	return text;
}

static void begin(struct dx_ctx *ctx, enum step step, nsc_step_done_fn done, void *arg)
{
	/* One step at a time (source.h): anything still pending is abandoned first. */
	dx_cancel(ctx);
	ctx->step = step;
	ctx->done = done;
	ctx->done_arg = arg;
}

static void dx_authenticate(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct dx_ctx *ctx = vctx;
	if (ctx->account_id[0] != '\0') {
		/* The account id is stable: a new session needs only step 2. */
		nsc_dbg(ctx->log, COMP, "event=account_id_cached");
		done(arg, NSC_OK, NULL);
		return;
	}
	begin(ctx, STEP_AUTHENTICATE, done, arg);
	ctx->url = join_url(ctx->base, PATH_AUTHENTICATE);
	ctx->body = login_body(ctx, "accountName", ctx->cfg->share_account_name);
	if (ctx->url == NULL || ctx->body == NULL) {
		finish(ctx, NSC_ERR_NOMEM, "dexcomshare: out of memory building the login request");
		return;
	}
	start_post(ctx);
}

static void dx_authorize(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct dx_ctx *ctx = vctx;
	if (ctx->account_id[0] == '\0') {
		done(arg, NSC_ERR_RETRY, "Dexcom Share: no account id yet; logging in again");
		return;
	}
	begin(ctx, STEP_AUTHORIZE, done, arg);
	ctx->url = join_url(ctx->base, PATH_LOGIN);
	ctx->body = login_body(ctx, "accountId", ctx->account_id);
	if (ctx->url == NULL || ctx->body == NULL) {
		finish(ctx, NSC_ERR_NOMEM, "dexcomshare: out of memory building the login request");
		return;
	}
	start_post(ctx);
}

static void dx_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		     nsc_step_done_fn done, void *arg)
{
	struct dx_ctx *ctx = vctx;
	if (ctx->session_id[0] == '\0') {
		done(arg, NSC_ERR_AUTH, "Dexcom Share: no session; logging in again");
		return;
	}
	int minutes, max_count;
	nsc_dexcom_request_size(w, &minutes, &max_count);
	begin(ctx, STEP_FETCH, done, arg);
	ctx->out = out;
	size_t n = strlen(ctx->base) + sizeof(PATH_DATA) + NSC_DEXCOM_UUID_LEN + 64;
	ctx->url = malloc(n);
	ctx->body = strdup("{}");
	if (ctx->url == NULL || ctx->body == NULL) {
		finish(ctx, NSC_ERR_NOMEM, "dexcomshare: out of memory building the data request");
		return;
	}
	snprintf(ctx->url, n, "%s%s?sessionId=%s&minutes=%d&maxCount=%d", ctx->base, PATH_DATA,
		 ctx->session_id, minutes, max_count);
	nsc_dbg(ctx->log, COMP, "event=fetch from_ms=%" PRId64 " to_ms=%" PRId64 " minutes=%d maxCount=%d",
		w->from_ms, w->to_ms, minutes, max_count);
	start_post(ctx);
}

/* ---- answers ------------------------------------------------------------- */

static void note_hold_off(struct dx_ctx *ctx, const struct nsc_vendor_response *resp)
{
	if (resp->status != 429)
		return;
	ctx->hold_off_ms = resp->retry_after_ms > 0 ? resp->retry_after_ms : NSC_DEXCOM_DEFAULT_HOLD_OFF_MS;
}

static void login_answered(struct dx_ctx *ctx, struct nsc_vendor_response *resp)
{
	char id[NSC_DEXCOM_UUID_BUF];
	char msg[MSG_MAX];
	enum step step = ctx->step;
	nsc_rc rc = nsc_dexcom_login_answer(resp->status, resp->content_type, resp->body,
					    resp->body_len, id, msg, sizeof(msg));
	if (rc != NSC_OK) {
		note_hold_off(ctx, resp);
		/* After a credential failure redo step 1 next time: the account id may be stale. */
		if (nsc_rc_verdict(rc) == NSC_VERDICT_REJECTED)
			forget_id(ctx, ctx->account_id);
		nsc_dbg(ctx->log, COMP, "event=login_failed step=%s status=%ld rc=%s", step_name(step),
			resp->status, nsc_rc_name(rc));
		finish(ctx, rc, msg);
		return;
	}
	char *dst = step == STEP_AUTHENTICATE ? ctx->account_id : ctx->session_id;
	forget_id(ctx, dst);
	if (keep_id(ctx, dst, id) != NSC_OK) {
		finish(ctx, NSC_ERR_NOMEM, "dexcomshare: out of memory keeping the session");
		return;
	}
	nsc_dbg(ctx->log, COMP, "event=%s", step == STEP_AUTHENTICATE ? "account_id_received"
								: "session_established");
	finish(ctx, NSC_OK, NULL);
}

static void data_answered(struct dx_ctx *ctx, struct nsc_vendor_response *resp)
{
	char msg[MSG_MAX];
	nsc_rc rc = nsc_dexcom_data_answer(resp->status, resp->content_type, resp->body,
					   resp->body_len, msg, sizeof(msg));
	if (rc != NSC_OK) {
		note_hold_off(ctx, resp);
		nsc_dbg(ctx->log, COMP, "event=fetch_failed status=%ld rc=%s", resp->status, nsc_rc_name(rc));
		finish(ctx, rc, msg);
		return;
	}
	char *copy = malloc(resp->body_len + 1);
	if (copy == NULL) {
		finish(ctx, NSC_ERR_NOMEM, "dexcomshare: out of memory keeping the readings");
		return;
	}
	memcpy(copy, resp->body, resp->body_len);
	copy[resp->body_len] = '\0';
	ctx->out->data = copy;
	ctx->out->len = resp->body_len;
	nsc_dbg(ctx->log, COMP, "event=fetched bytes=%zu elapsed_s=%.3f", resp->body_len, resp->elapsed_s);
	finish(ctx, NSC_OK, NULL);
}

static void on_answer(void *arg, struct nsc_vendor_response *resp)
{
	struct dx_ctx *ctx = arg;
	struct nsc_error err;
	nsc_error_clear(&err);
	nsc_trace(ctx->log, COMP, "event=answer step=%s status=%ld bytes=%zu content_type=\"%s\"",
		  step_name(ctx->step), resp->status, resp->body_len, resp->content_type);
	nsc_rc rc = nsc_vendor_transport_rc(resp, WHO, &err);
	if (rc != NSC_OK) {
		finish(ctx, rc, err.msg);
		return;
	}
	if (ctx->step == STEP_FETCH)
		data_answered(ctx, resp);
	else
		login_answered(ctx, resp);
}

/* ---- transform ------------------------------------------------------------- */

static nsc_rc dx_transform(void *vctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			   struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct dx_ctx *ctx = vctx;
	nsc_rc rc = nsc_dexcom_transform(in ? in->data : NULL, in ? in->len : 0, w, out, skipped, err);
	if (rc == NSC_OK)
		nsc_dbg(ctx->log, COMP, "event=transform entries=%zu skipped=%zu",
			nsc_batch_count(out, NSC_COLL_ENTRIES), *skipped);
	return rc;
}

const struct nsc_source_driver nsc_source_dexcomshare = {
	.name = "dexcomshare",
	.display_name = "Dexcom Share",
	.timing = {
		.expected_interval_ms = 5 * NSC_MS_PER_MINUTE,
		.align_buffer_ms = 18 * NSC_MS_PER_SECOND,
		.align_jitter_ms = 18 * NSC_MS_PER_SECOND,
		.session_refresh_ms = 24 * NSC_MS_PER_HOUR - 10 * NSC_MS_PER_MINUTE,
		.session_expire_ms = 24 * NSC_MS_PER_HOUR,
		.max_retries = 2,
		.retry_base_ms = 30 * NSC_MS_PER_SECOND,
	},
	.create = dx_create,
	.destroy = dx_destroy,
	.authenticate = dx_authenticate,
	.authorize = dx_authorize,
	.tune_timing = NULL,
	.drop_session = dx_drop_session,
	.cancel = dx_cancel,
	.hold_off_ms = dx_hold_off_ms,
	.fetch = dx_fetch,
	.transform = dx_transform,
};
