/* SPDX-License-Identifier: MIT */
/* The LibreLinkUp source driver: login, patient choice, graph fetch (see librelinkup.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "jsonutil.h"
#include "sources/librelinkup.h"
#include "sources/vendor_http.h"
#include "timeutil.h"
#include "secret.h"

#define COMP "linkup"
#define WHO "LibreLinkUp"
#define IDS_MAX 400 /* room for the patient ids in a message */

enum llu_step {
	STEP_NONE,
	STEP_LOGIN,
	STEP_CONNECTIONS,
	STEP_GRAPH,
};

struct llu_ctx {
	const struct nsc_config *cfg;
	struct nsc_log *log;
	struct nsc_loop *loop;
	struct nsc_vendor_call call;

	char base[NSC_LINKUP_URL_MAX];        /* where the next login goes */
	bool region_remembered;              /* base came from a redirect */
	bool redirected;                     /* this login attempt followed one already */
	const char *product, *version;
	char user_agent[64];

	char *token;                         /* registered as a log secret while held */
	int64_t expires_s;
	char account_id[NSC_LINKUP_ACCOUNT_ID_BUF];
	char *patient_id;
	bool warned_patients;

	int64_t hold_off_ms;
	enum llu_step step;
	nsc_step_done_fn done;
	void *done_arg;
	struct nsc_payload *out;
};

/* ---- session state ------------------------------------------------------- */

static void forget_token(struct llu_ctx *c)
{
	if (c->token) {
		nsc_log_remove_secret(c->log, c->token);
		nsc_secret_free(c->token);
		c->token = NULL;
	}
	c->expires_s = 0;
}

/* Takes ownership of tok (may be NULL: keeps the current one). */
static nsc_rc roll_token(struct llu_ctx *c, char *tok, int64_t expires_s)
{
	if (tok == NULL)
		return NSC_OK;
	if (c->token && strcmp(c->token, tok) == 0) {
		nsc_secret_free(tok);
		if (expires_s > 0)
			c->expires_s = expires_s;
		return NSC_OK;
	}
	/* Register the new one first: no moment where it could print in clear. */
	if (nsc_log_add_secret(c->log, tok) != NSC_OK) {
		nsc_secret_free(tok);
		return NSC_ERR_NOMEM;
	}
	forget_token(c);
	c->token = tok;
	c->expires_s = expires_s;
	return NSC_OK;
}

static void finish(struct llu_ctx *c, nsc_rc rc, const char *message)
{
	nsc_step_done_fn done = c->done;
	void *arg = c->done_arg;
	c->step = STEP_NONE;
	c->done = NULL;
	c->done_arg = NULL;
	c->out = NULL;
	if (done)
		done(arg, rc, message);
}

/* ---- requests ------------------------------------------------------------ */

static void on_answer(void *arg, struct nsc_vendor_response *resp);

static char *str_printf(const char *fmt, const char *a, const char *b)
{
	int n = snprintf(NULL, 0, fmt, a, b);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s)
		snprintf(s, (size_t)n + 1, fmt, a, b);
	return s;
}

/* Starts `method path` on the current base; authenticated calls carry the token. */
static nsc_rc start(struct llu_ctx *c, const char *method, const char *path, const char *body,
		    struct nsc_error *err)
{
	char *url = str_printf("%s%s", c->base, path);
	char *product = str_printf("product: %s%s", c->product, "");
	char *version = str_printf("version: %s%s", c->version, "");
	char *ua = str_printf("User-Agent: %s%s", c->user_agent, "");
	char *bearer = NULL, *account = NULL;
	bool authed = c->step != STEP_LOGIN;
	if (authed) {
		bearer = str_printf("Authorization: Bearer %s%s", c->token ? c->token : "", "");
		account = str_printf("account-id: %s%s", c->account_id, "");
	}
	nsc_rc rc;
	if (!url || !product || !version || !ua || (authed && (!bearer || !account))) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "LibreLinkUp: out of memory building a request");
		goto out;
	}
	struct nsc_vendor_request rq = {
		.method = method,
		.url = url,
		.headers = { product, version, "Content-Type: application/json", "Accept: application/json",
			     "cache-control: no-cache", ua, bearer, account, NULL },
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.timeout_ms = c->cfg->http_timeout_ms > 0 ? (long)c->cfg->http_timeout_ms : 0,
	};
	nsc_trace(c->log, COMP, "event=request method=%s path=%s", method, path);
	rc = nsc_vendor_call_start(&c->call, &rq, on_answer, c, err);
out:
	free(url);
	free(product);
	free(version);
	free(ua);
	nsc_secret_free(bearer);
	free(account);
	return rc;
}

static void start_or_fail(struct llu_ctx *c, const char *method, const char *path, const char *body)
{
	struct nsc_error err;
	nsc_error_clear(&err);
	if (start(c, method, path, body, &err) != NSC_OK)
		finish(c, err.code == NSC_ERR_NOMEM ? NSC_ERR_NOMEM : NSC_ERR_RETRY, err.msg);
}

static void start_login(struct llu_ctx *c)
{
	struct json_object *o = json_object_new_object();
	const char *user = c->cfg->linkup_username ? c->cfg->linkup_username : "";
	const char *pass = c->cfg->linkup_password ? c->cfg->linkup_password : "";
	if (o == NULL || nsc_json_add_string(o, "email", user) != 0 ||
	    nsc_json_add_string(o, "password", pass) != 0) {
		json_object_put(o);
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory building the login request");
		return;
	}
	const char *text = json_object_to_json_string_ext(o, NSC_JSON_WIRE);
	char *body = text ? strdup(text) : NULL;
	json_object_put(o);
	if (body == NULL) {
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory building the login request");
		return;
	}
	start_or_fail(c, "POST", "/llu/auth/login", body);
	/* The body held the password. */
	nsc_secret_free(body);
}

/* Maps a failed answer to the step's end, noting the hold-off the vendor implies. */
static void fail_answer(struct llu_ctx *c, const struct nsc_linkup_answer *a, enum nsc_linkup_call call,
			int64_t retry_after_ms)
{
	char msg[NSC_ERROR_MSG_MAX];
	int64_t hold = 0;
	nsc_rc rc = nsc_linkup_verdict(a, call, retry_after_ms, c->version, msg, sizeof(msg), &hold);
	if (hold > c->hold_off_ms)
		c->hold_off_ms = hold;
	nsc_dbg(c->log, COMP, "event=answer step=%d http=%ld status=%" PRId64 " kind=%d hold_off_ms=%" PRId64,
		(int)c->step, a->http_status, a->body_status, (int)a->kind, hold);
	finish(c, rc, msg);
}

/* ---- login --------------------------------------------------------------- */

static void login_answer(struct llu_ctx *c, struct nsc_vendor_response *resp)
{
	struct nsc_linkup_answer a;
	if (nsc_linkup_classify_login(resp->status, resp->content_type, resp->body, resp->body_len, &a) !=
	    NSC_OK) {
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory reading the login answer");
		return;
	}
	if (a.kind == NSC_LINKUP_REDIRECT) {
		char url[NSC_LINKUP_URL_MAX];
		if (c->redirected || nsc_linkup_redirect_url(a.region, c->cfg->linkup_server, url, sizeof(url)) != NSC_OK) {
			char msg[NSC_ERROR_MSG_MAX];
			snprintf(msg, sizeof(msg), "LibreLinkUp sent the login to region \"%s\" %s", a.region,
				 c->redirected ? "after a redirect already (a loop)" : "which is not a valid region name");
			nsc_linkup_answer_free(&a);
			finish(c, NSC_ERR_RETRY, msg);
			return;
		}
		nsc_info(c->log, COMP,
			 "event=region_redirect region=%s msg=\"LibreLinkUp says the account is in region %s; "
			 "using it from now on%s\"",
			 a.region, a.region,
			 c->cfg->linkup_server ? "" : " (set CONNECT_LINK_UP_REGION to skip this step)");
		snprintf(c->base, sizeof(c->base), "%s", url);
		c->region_remembered = true;
		c->redirected = true;
		nsc_linkup_answer_free(&a);
		start_login(c);
		return;
	}
	if (a.kind != NSC_LINKUP_OK) {
		fail_answer(c, &a, NSC_LINKUP_CALL_LOGIN, resp->retry_after_ms);
		nsc_linkup_answer_free(&a);
		return;
	}
	nsc_rc rc = nsc_linkup_account_id(a.user_id, c->account_id);
	if (rc == NSC_OK) {
		rc = roll_token(c, a.token, a.expires_s);
		a.token = NULL;
	}
	nsc_linkup_answer_free(&a);
	if (rc != NSC_OK) {
		finish(c, rc, "LibreLinkUp: cannot keep the login token");
		return;
	}
	nsc_dbg(c->log, COMP, "event=login_ok expires=%" PRId64, c->expires_s);
	finish(c, NSC_OK, NULL);
}

static void llu_authenticate(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct llu_ctx *c = vctx;
	forget_token(c);
	c->step = STEP_LOGIN;
	c->done = done;
	c->done_arg = arg;
	c->redirected = false;
	start_login(c);
}

/* ---- connections and the patient ----------------------------------------- */

/* "a, b, c" of every patientId, for messages. */
static void list_ids(struct json_object *arr, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *id = nsc_json_get_string(json_object_array_get_idx(arr, i), "patientId");
		int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", id ? id : "?");
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static void connections_answer(struct llu_ctx *c, struct json_object *root)
{
	struct json_object *arr;
	char msg[NSC_ERROR_MSG_MAX], ids[IDS_MAX];
	if (!json_object_object_get_ex(root, "data", &arr) || !json_object_is_type(arr, json_type_array)) {
		finish(c, NSC_ERR_RETRY, "LibreLinkUp answered the connection list without a list");
		return;
	}
	size_t n = json_object_array_length(arr);
	if (n == 0) {
		finish(c, NSC_ERR_REJECTED,
		       "this LibreLinkUp account follows nobody yet: accept the invitation in the LibreLinkUp app");
		return;
	}
	list_ids(arr, ids, sizeof(ids));
	const char *want = c->cfg->linkup_patient_id;
	const char *chosen = NULL;
	for (size_t i = 0; i < n && chosen == NULL; i++) {
		const char *id = nsc_json_get_string(json_object_array_get_idx(arr, i), "patientId");
		if (id && *id && (want == NULL || *want == '\0' || strcasecmp(id, want) == 0))
			chosen = id;
	}
	if (chosen == NULL && want && *want) {
		snprintf(msg, sizeof(msg),
			 "CONNECT_LINK_UP_PATIENT_ID %s is not among the people this LibreLinkUp account follows: "
			 "set it to one of %s",
			 want, ids);
		finish(c, NSC_ERR_REJECTED, msg);
		return;
	}
	if (chosen == NULL) {
		finish(c, NSC_ERR_RETRY, "LibreLinkUp listed connections without a patientId");
		return;
	}
	if (n > 1 && (want == NULL || *want == '\0') && !c->warned_patients) {
		c->warned_patients = true;
		nsc_warn(c->log, COMP,
			 "event=several_patients patient_ids=\"%s\" chosen=%s msg=\"this LibreLinkUp account follows "
			 "%zu people; using the first (%s). Set CONNECT_LINK_UP_PATIENT_ID to one of: %s\"",
			 ids, chosen, n, chosen, ids);
	}
	char *copy = strdup(chosen);
	if (copy == NULL) {
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory keeping the patient id");
		return;
	}
	free(c->patient_id);
	c->patient_id = copy;
	nsc_dbg(c->log, COMP, "event=patient_selected patient_id=%s connections=%zu", copy, n);
	finish(c, NSC_OK, NULL);
}

static void llu_authorize(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct llu_ctx *c = vctx;
	c->done = done;
	c->done_arg = arg;
	c->step = STEP_CONNECTIONS;
	if (c->token == NULL) {
		finish(c, NSC_ERR_AUTH, "LibreLinkUp: no session; log in first");
		return;
	}
	start_or_fail(c, "GET", "/llu/connections", NULL);
}

/* ---- graph --------------------------------------------------------------- */

static void graph_answer(struct llu_ctx *c, struct nsc_vendor_response *resp)
{
	char *copy = malloc(resp->body_len + 1);
	if (copy == NULL) {
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory keeping the answer");
		return;
	}
	memcpy(copy, resp->body, resp->body_len);
	copy[resp->body_len] = '\0';
	c->out->data = copy;
	c->out->len = resp->body_len;
	nsc_dbg(c->log, COMP, "event=fetch_ok bytes=%zu", resp->body_len);
	finish(c, NSC_OK, NULL);
}

static void llu_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		      nsc_step_done_fn done, void *arg)
{
	struct llu_ctx *c = vctx;
	(void)w; /* the graph call has no time parameters: it always covers about 12 h */
	c->done = done;
	c->done_arg = arg;
	c->out = out;
	c->step = STEP_GRAPH;
	if (c->token == NULL || c->patient_id == NULL) {
		finish(c, NSC_ERR_AUTH, "LibreLinkUp: no session; log in first");
		return;
	}
	if (c->expires_s > 0 && nsc_loop_wall_ms(c->loop) >= c->expires_s * 1000) {
		finish(c, NSC_ERR_AUTH, "LibreLinkUp session ticket expired");
		return;
	}
	char *esc = curl_easy_escape(NULL, c->patient_id, 0);
	char *path = esc ? str_printf("/llu/connections/%s/graph%s", esc, "") : NULL;
	curl_free(esc);
	if (path == NULL) {
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory building a request");
		return;
	}
	start_or_fail(c, "GET", path, NULL);
	free(path);
}

/* ---- answers of authenticated calls -------------------------------------- */

static void data_answer(struct llu_ctx *c, struct nsc_vendor_response *resp)
{
	enum nsc_linkup_call call = c->step == STEP_GRAPH ? NSC_LINKUP_CALL_GRAPH : NSC_LINKUP_CALL_CONNECTIONS;
	struct nsc_linkup_answer a;
	if (nsc_linkup_classify_data(resp->status, resp->content_type, resp->body, resp->body_len, &a) !=
	    NSC_OK) {
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory reading the answer");
		return;
	}
	if (roll_token(c, a.token, a.expires_s) != NSC_OK) {
		a.token = NULL;
		nsc_linkup_answer_free(&a);
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory keeping the session ticket");
		return;
	}
	a.token = NULL;
	if (a.kind == NSC_LINKUP_OK) {
		if (call == NSC_LINKUP_CALL_GRAPH)
			graph_answer(c, resp);
		else
			connections_answer(c, a.root);
	} else if (a.kind == NSC_LINKUP_MALFORMED && call == NSC_LINKUP_CALL_GRAPH) {
		/* Let transform judge (and drop) it: counted and logged as a payload. */
		graph_answer(c, resp);
	} else {
		if (a.kind == NSC_LINKUP_UNAUTHORIZED)
			forget_token(c);
		fail_answer(c, &a, call, resp->retry_after_ms);
	}
	nsc_linkup_answer_free(&a);
}

static void on_answer(void *arg, struct nsc_vendor_response *resp)
{
	struct llu_ctx *c = arg;
	struct nsc_error err;
	nsc_error_clear(&err);
	if (nsc_vendor_transport_rc(resp, WHO, &err) != NSC_OK) {
		finish(c, err.code, err.msg);
		return;
	}
	nsc_trace(c->log, COMP, "event=answer http=%ld bytes=%zu elapsed_s=%.3f", resp->status, resp->body_len,
		  resp->elapsed_s);
	switch (c->step) {
	case STEP_LOGIN:
		login_answer(c, resp);
		return;
	case STEP_CONNECTIONS:
	case STEP_GRAPH:
		data_answer(c, resp);
		return;
	case STEP_NONE:
		return;
	}
}

/* ---- the rest of the contract -------------------------------------------- */

static nsc_rc llu_create(const struct nsc_source_env *env, void **out, struct nsc_error *err)
{
	struct llu_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "LibreLinkUp: out of memory");
	c->cfg = env->config;
	c->log = env->log;
	c->loop = env->loop;
	nsc_vendor_call_init(&c->call, env->loop);
	c->product = c->cfg->linkup_product && *c->cfg->linkup_product ? c->cfg->linkup_product
									: NSC_LINKUP_DEFAULT_PRODUCT;
	c->version = c->cfg->linkup_version && *c->cfg->linkup_version ? c->cfg->linkup_version
									: NSC_LINKUP_DEFAULT_VERSION;
	snprintf(c->user_agent, sizeof(c->user_agent), "nsconnect/%s", PACKAGE_VERSION);
	nsc_rc rc = nsc_linkup_base_url(c->cfg->linkup_region, c->cfg->linkup_server, c->base, sizeof(c->base));
	if (rc != NSC_OK) {
		free(c);
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_LINK_UP_REGION or CONNECT_LINK_UP_SERVER does not make a usable address");
	}
	*out = c;
	return NSC_OK;
}

static void llu_destroy(void *vctx)
{
	struct llu_ctx *c = vctx;
	if (c == NULL)
		return;
	nsc_vendor_call_fini(&c->call);
	forget_token(c);
	free(c->patient_id);
	free(c);
}

static void llu_drop_session(void *vctx)
{
	struct llu_ctx *c = vctx;
	if (c->token)
		nsc_dbg(c->log, COMP, "event=session_dropped");
	forget_token(c);
}

static void llu_cancel(void *vctx)
{
	struct llu_ctx *c = vctx;
	nsc_vendor_call_cancel(&c->call);
	c->step = STEP_NONE;
	c->done = NULL;
	c->done_arg = NULL;
	c->out = NULL;
}

static int64_t llu_hold_off_ms(void *vctx)
{
	struct llu_ctx *c = vctx;
	int64_t h = c->hold_off_ms;
	c->hold_off_ms = 0;
	return h;
}

static nsc_rc llu_transform(void *vctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			    struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct llu_ctx *c = vctx;
	/*
	 * LibreLinkUp sometimes adds history points late, behind a current
	 * reading already stored: look an hour further back than the newest
	 * stored entry. Points already held are duplicates to every output.
	 */
	int64_t from = w->from_ms - NSC_LINKUP_HISTORY_RECHECK_MS;
	int64_t floor = w->to_ms - c->cfg->lookback_ms;
	if (from < floor)
		from = floor < w->from_ms ? floor : w->from_ms;
	nsc_rc rc = nsc_linkup_transform_graph(in ? in->data : NULL, in ? in->len : 0, from, out,
					       skipped, err);
	if (rc == NSC_OK)
		nsc_dbg(c->log, COMP, "event=transform entries=%zu skipped=%zu", nsc_batch_count(out, NSC_COLL_ENTRIES),
			*skipped);
	return rc;
}

const struct nsc_source_driver nsc_source_linkup = {
	.name = "linkup",
	.display_name = "LibreLinkUp",
	.timing = {
		.expected_interval_ms = 5 * NSC_MS_PER_MINUTE,
		.align_buffer_ms = 18 * NSC_MS_PER_SECOND,
		.align_jitter_ms = 18 * NSC_MS_PER_SECOND,
		.session_refresh_ms = 0, /* tickets roll with every answer */
		.session_expire_ms = 0,
		.max_retries = 2,
		.retry_base_ms = 30 * NSC_MS_PER_SECOND,
	},
	.create = llu_create,
	.destroy = llu_destroy,
	.authenticate = llu_authenticate,
	.authorize = llu_authorize,
	.drop_session = llu_drop_session,
	.cancel = llu_cancel,
	.hold_off_ms = llu_hold_off_ms,
	.fetch = llu_fetch,
	.transform = llu_transform,
};
