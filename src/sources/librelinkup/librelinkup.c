/* SPDX-License-Identifier: MIT */
/* The LibreLinkUp source driver: login, patient choice, graph fetch (see librelinkup.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonutil.h"
#include "secret.h"
#include "sources/kit/secret_slot.h"
#include "sources/kit/vendor.h"
#include "sources/librelinkup/librelinkup.h"
#include "timeutil.h"

#define COMP "linkup"
#define IDS_MAX 400 /* room for the patient ids in a message */

enum llu_step {
	STEP_NONE,
	STEP_LOGIN,
	STEP_CONNECTIONS,
	STEP_GRAPH,
};

/* LibreLinkUp classifies every answer itself (nsc_linkup_verdict); the words name it in transport failures. */
static const struct nsc_vendor_words words = {
	.who = "LibreLinkUp",
	.server_setting = "CONNECT_LINK_UP_SERVER",
	.rate_hold_off_ms = NSC_LINKUP_RATE_HOLD_MS,
};

NSC_VENDOR_PROFILE(profile, COMP, &words, "login", "connections", "graph");

struct llu_ctx {
	struct nsc_vendor_base base; /* first: the kit's standard ops cast to it */

	char base_url[NSC_LINKUP_URL_MAX];    /* where the next login goes */
	bool region_remembered;              /* base came from a redirect */
	bool redirected;                     /* this login attempt followed one already */
	const char *product, *version;

	struct nsc_secret_slot token;        /* the session ticket */
	int64_t expires_s;
	char account_id[NSC_LINKUP_ACCOUNT_ID_BUF];
	char *patient_id;
	bool warned_patients;
	char listed_ids[IDS_MAX]; /* every patientId of the last connection list, for doctor */
	size_t listed;
};

/* ---- session state ------------------------------------------------------- */

static void forget_token(struct llu_ctx *c)
{
	nsc_secret_slot_forget(&c->token);
	c->expires_s = 0;
}

/* Takes ownership of tok (may be NULL: keeps the current one). */
static nsc_rc roll_token(struct llu_ctx *c, char *tok, int64_t expires_s)
{
	if (tok == NULL)
		return NSC_OK;
	const char *held = nsc_secret_slot_get(&c->token);
	bool same = held != NULL && strcmp(held, tok) == 0;
	nsc_rc rc = nsc_secret_slot_roll(&c->token, tok);
	if (rc == NSC_OK && (!same || expires_s > 0))
		c->expires_s = expires_s;
	return rc;
}

static void finish(struct llu_ctx *c, nsc_rc rc, const char *message)
{
	nsc_vendor_finish(&c->base, rc, message);
}

/* ---- requests ------------------------------------------------------------ */

static void on_answer(struct nsc_vendor_base *b, struct nsc_http_response *resp);

/* Starts `method path` on the current base; authenticated calls carry the token. */
static nsc_rc start(struct llu_ctx *c, const char *method, const char *path, const char *body,
		    struct nsc_error *err)
{
	char *url = nsc_vendor_printf("%s%s", c->base_url, path);
	char *product = nsc_vendor_printf("product: %s", c->product);
	char *version = nsc_vendor_printf("version: %s", c->version);
	char *bearer = NULL, *account = NULL;
	bool authed = c->base.step != STEP_LOGIN;
	if (authed) {
		const char *tok = nsc_secret_slot_get(&c->token);
		bearer = nsc_vendor_printf("Authorization: Bearer %s", tok ? tok : "");
		account = nsc_vendor_printf("account-id: %s", c->account_id);
	}
	nsc_rc rc = NSC_OK;
	if (!url || !product || !version || (authed && (!bearer || !account))) {
		rc = nsc_error_set(err, NSC_ERR_NOMEM, "LibreLinkUp: out of memory building a request");
	} else {
		struct nsc_vendor_request rq = {
			.method = method,
			.url = url,
			.headers = { product, version, "Content-Type: application/json", "Accept: application/json",
				     "cache-control: no-cache", "User-Agent: nsconnect/" PACKAGE_VERSION, bearer,
				     account, NULL },
			.body = body,
			.body_len = body ? strlen(body) : 0,
		};
		nsc_vendor_send(&c->base, &rq, on_answer);
	}
	free(url);
	free(product);
	free(version);
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
	const char *user = c->base.cfg->linkup_username ? c->base.cfg->linkup_username : "";
	const char *pass = c->base.cfg->linkup_password ? c->base.cfg->linkup_password : "";
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
	struct nsc_vendor_verdict v;
	nsc_linkup_verdict(a, call, retry_after_ms, c->version, &v);
	nsc_dbg(c->base.log, COMP, "event=answer step=%s http=%ld status=%" PRId64 " kind=%d hold_off_ms=%" PRId64,
		nsc_vendor_step_name(&c->base), a->http_status, a->body_status, (int)a->kind, v.hold_off_ms);
	nsc_vendor_finish_verdict(&c->base, &v);
}

/* ---- login --------------------------------------------------------------- */

static void login_answer(struct llu_ctx *c, struct nsc_http_response *resp)
{
	struct nsc_linkup_answer a;
	if (nsc_linkup_classify_login(resp->status, resp->content_type, resp->body, resp->body_len, &a) !=
	    NSC_OK) {
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory reading the login answer");
		return;
	}
	if (a.kind == NSC_LINKUP_REDIRECT) {
		char url[NSC_LINKUP_URL_MAX];
		if (c->redirected || nsc_linkup_redirect_url(a.region, c->base.cfg->linkup_server, url, sizeof(url)) != NSC_OK) {
			char msg[NSC_ERROR_MSG_MAX];
			snprintf(msg, sizeof(msg), "LibreLinkUp sent the login to region \"%s\" %s", a.region,
				 c->redirected ? "after a redirect already (a loop)" : "which is not a valid region name");
			nsc_linkup_answer_free(&a);
			finish(c, NSC_ERR_RETRY, msg);
			return;
		}
		nsc_info(c->base.log, COMP,
			 "event=region_redirect region=%s msg=\"LibreLinkUp says the account is in region %s; "
			 "using it from now on%s\"",
			 a.region, a.region,
			 c->base.cfg->linkup_server ? "" : " (set CONNECT_LINK_UP_REGION to skip this step)");
		snprintf(c->base_url, sizeof(c->base_url), "%s", url);
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
	nsc_dbg(c->base.log, COMP, "event=login_ok expires=%" PRId64, c->expires_s);
	finish(c, NSC_OK, NULL);
}

static void llu_authenticate(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct llu_ctx *c = vctx;
	forget_token(c);
	nsc_vendor_begin(&c->base, STEP_LOGIN, done, arg, NULL);
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
	memcpy(c->listed_ids, ids, sizeof(ids));
	c->listed = n;
	const char *want = c->base.cfg->linkup_patient_id;
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
		nsc_warn(c->base.log, COMP,
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
	nsc_dbg(c->base.log, COMP, "event=patient_selected patient_id=%s connections=%zu", copy, n);
	finish(c, NSC_OK, NULL);
}

static void llu_authorize(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct llu_ctx *c = vctx;
	nsc_vendor_begin(&c->base, STEP_CONNECTIONS, done, arg, NULL);
	if (!nsc_secret_slot_held(&c->token)) {
		finish(c, NSC_ERR_AUTH, "LibreLinkUp: no session; log in first");
		return;
	}
	start_or_fail(c, "GET", "/llu/connections", NULL);
}

/* ---- graph --------------------------------------------------------------- */

static void graph_answer(struct llu_ctx *c, struct nsc_http_response *resp)
{
	nsc_vendor_finish_with_body(&c->base, resp);
}

static void llu_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		      nsc_step_done_fn done, void *arg)
{
	struct llu_ctx *c = vctx;
	(void)w; /* the graph call has no time parameters: it always covers about 12 h */
	nsc_vendor_begin(&c->base, STEP_GRAPH, done, arg, out);
	if (!nsc_secret_slot_held(&c->token) || c->patient_id == NULL) {
		finish(c, NSC_ERR_AUTH, "LibreLinkUp: no session; log in first");
		return;
	}
	if (c->expires_s > 0 && nsc_vendor_wall_ms(&c->base) >= c->expires_s * 1000) {
		finish(c, NSC_ERR_AUTH, "LibreLinkUp session ticket expired");
		return;
	}
	char *esc = nsc_vendor_escape(c->patient_id);
	char *path = esc ? nsc_vendor_printf("/llu/connections/%s/graph", esc) : NULL;
	free(esc);
	if (path == NULL) {
		finish(c, NSC_ERR_NOMEM, "LibreLinkUp: out of memory building a request");
		return;
	}
	start_or_fail(c, "GET", path, NULL);
	free(path);
}

/* ---- answers of authenticated calls -------------------------------------- */

static void data_answer(struct llu_ctx *c, struct nsc_http_response *resp)
{
	enum nsc_linkup_call call = c->base.step == STEP_GRAPH ? NSC_LINKUP_CALL_GRAPH : NSC_LINKUP_CALL_CONNECTIONS;
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

static void on_answer(struct nsc_vendor_base *b, struct nsc_http_response *resp)
{
	struct llu_ctx *c = (struct llu_ctx *)b;
	if (b->step == STEP_LOGIN)
		login_answer(c, resp);
	else
		data_answer(c, resp);
}

/* ---- the rest of the contract -------------------------------------------- */

static nsc_rc llu_create(const struct nsc_source_env *env, void **out, struct nsc_error *err)
{
	struct llu_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "LibreLinkUp: out of memory");
	nsc_rc rc = nsc_vendor_base_init(&c->base, &profile, env, err);
	if (rc != NSC_OK) {
		free(c);
		return rc;
	}
	nsc_secret_slot_init(&c->token, env->log);
	c->product = c->base.cfg->linkup_product && *c->base.cfg->linkup_product ? c->base.cfg->linkup_product
									: NSC_LINKUP_DEFAULT_PRODUCT;
	c->version = c->base.cfg->linkup_version && *c->base.cfg->linkup_version ? c->base.cfg->linkup_version
									: NSC_LINKUP_DEFAULT_VERSION;
	rc = nsc_linkup_base_url(c->base.cfg->linkup_region, c->base.cfg->linkup_server, c->base_url, sizeof(c->base_url));
	if (rc != NSC_OK) {
		nsc_vendor_base_fini(&c->base);
		free(c);
		return nsc_error_set(err, NSC_ERR_CONFIG,
				     "CONNECT_LINK_UP_REGION or CONNECT_LINK_UP_SERVER does not make a usable address");
	}
	*out = c;
	return NSC_OK;
}

static void llu_describe_selection(void *vctx, char *buf, size_t size)
{
	const struct llu_ctx *c = vctx;
	if (c->patient_id == NULL)
		snprintf(buf, size, "no patient chosen yet");
	else
		snprintf(buf, size, "the account follows %zu %s (%s); reading patient %s%s", c->listed,
			 c->listed == 1 ? "person" : "people", c->listed_ids, c->patient_id,
			 c->listed > 1 && (c->base.cfg->linkup_patient_id == NULL || !*c->base.cfg->linkup_patient_id)
				 ? " (the first: set CONNECT_LINK_UP_PATIENT_ID to choose)"
				 : "");
}

static size_t llu_servers(void *vctx, const char **urls, size_t max)
{
	const struct llu_ctx *c = vctx;
	if (max < 1)
		return 0;
	urls[0] = c->base_url;
	return 1;
}

static void llu_destroy(void *vctx)
{
	struct llu_ctx *c = vctx;
	if (c == NULL)
		return;
	nsc_vendor_base_fini(&c->base);
	forget_token(c);
	free(c->patient_id);
	free(c);
}

static void llu_drop_session(void *vctx)
{
	struct llu_ctx *c = vctx;
	if (nsc_secret_slot_held(&c->token))
		nsc_dbg(c->base.log, COMP, "event=session_dropped");
	forget_token(c);
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
	int64_t floor = w->history ? w->from_ms : w->to_ms - c->base.cfg->lookback_ms;
	if (from < floor)
		from = floor < w->from_ms ? floor : w->from_ms;
	nsc_rc rc = nsc_linkup_transform_graph(in ? in->data : NULL, in ? in->len : 0, from, out,
					       skipped, err);
	if (rc == NSC_OK)
		nsc_vendor_log_transform(&c->base, out, *skipped);
	return rc;
}

const struct nsc_source_driver nsc_source_linkup = {
	.name = "linkup",
	.display_name = "LibreLinkUp",
	.timing = NSC_VENDOR_CGM_TIMING(0, 0), /* tickets roll with every answer */
	/* The graph holds about the last 12 hours; LibreLinkUp serves nothing older. */
	.history = { .kept_ms = 12 * NSC_MS_PER_HOUR },
	.create = llu_create,
	.destroy = llu_destroy,
	.servers = llu_servers,
	.describe_selection = llu_describe_selection,
	.authenticate = llu_authenticate,
	.authorize = llu_authorize,
	.drop_session = llu_drop_session,
	.cancel = nsc_vendor_std_cancel,
	.hold_off_ms = nsc_vendor_std_hold_off_ms,
	.fetch = llu_fetch,
	.transform = llu_transform,
};
