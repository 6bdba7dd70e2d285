/* SPDX-License-Identifier: MIT */
/*
 * The `simulator` source: the model of simulator_model.h (a glucose curve
 * with meals, boluses and corrections, the insulin they leave on board,
 * the pump and the phone) served like a vendor: an optional login that
 * hands out a session token, a fetch that returns a raw "vendor" JSON
 * payload, and a transform that turns that payload into Nightscout
 * documents for all four collections (simulator_docs.h).
 *
 * Vendor payload shape (records as in simulator_docs.h):
 *   {"readings":  [<reading>, ...],      every slot in (from, to]
 *    "treatments":[<treatment>, ...],    every meal and correction in (from, to]
 *    "status":    <status>,              optional: the pump and phone at the newest reading
 *    "profile":   <profile>}             optional: the therapy settings
 *
 * One status per poll, at the newest reading's time, and only when the
 * output holds no status that new; the profile carries the fixed time
 * NSC_SIM_PROFILE_START_MS and comes only while the output holds no
 * profile that new. So every document has a stable identifier and a
 * re-run stores nothing new, also through outputs that do not
 * de-duplicate (Nightscout's API v1 for devicestatus and profile).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "secret.h"
#include "sources/kit/documents.h"
#include "sources/kit/secret_slot.h"
#include "sources/kit/vendor.h"
#include "sources/simulator/simulator.h"
#include "sources/simulator/simulator_docs.h"
#include "sources/simulator/simulator_model.h"
#include "timeutil.h"

#define SIM_COMP "simulator"

#define SIM_DEFAULT_LOOKBACK_MS (48 * NSC_MS_PER_HOUR)

#define SIM_TOKEN_HEX 32
#define SIM_REJECT_MSG \
	"Simulator rejected the login: check CONNECT_SIMULATOR_USERNAME and CONNECT_SIMULATOR_PASSWORD"
#define SIM_REJECT_PASSWORD "wrong-password"

struct sim_ctx {
	const struct nsc_config *cfg;
	struct nsc_log *log;
	uint64_t seed;
	uint64_t logins;         /* per-instance counter for session tokens */
	bool login_configured;
	struct nsc_secret_slot token; /* the session, while one is held */
	int64_t slot_ms;         /* reading cadence, CONNECT_SIMULATOR_INTERVAL */
};

/* ---- lifecycle and session ------------------------------------------- */

static bool str_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static nsc_rc sim_create(const struct nsc_source_env *env, void **out, struct nsc_error *err)
{
	if (env == NULL || env->config == NULL || out == NULL)
		return nsc_error_set(err, NSC_ERR_INTERNAL, "simulator: created without configuration");

	struct sim_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "simulator: out of memory");
	ctx->cfg = env->config;
	ctx->log = env->log;
	nsc_secret_slot_init(&ctx->token, env->log);
	ctx->seed = env->config->simulator_seed;
	ctx->slot_ms = env->config->simulator_interval_ms > 0 ? env->config->simulator_interval_ms
							       : NSC_SIMULATOR_SLOT_MS;
	ctx->login_configured = str_set(env->config->simulator_username) ||
				str_set(env->config->simulator_password);
	*out = ctx;
	nsc_dbg(ctx->log, SIM_COMP, "event=create seed=%" PRIu64 " login=%s", ctx->seed,
		ctx->login_configured ? "yes" : "no");
	return NSC_OK;
}

/* A dead token can no longer appear in output: the slot unregisters it. */
static void sim_forget_token(struct sim_ctx *ctx)
{
	nsc_secret_slot_forget(&ctx->token);
}

static void sim_destroy(void *vctx)
{
	struct sim_ctx *ctx = vctx;
	if (ctx == NULL)
		return;
	sim_forget_token(ctx);
	free(ctx);
}

/* Logs `event=<event> body=<json>` at trace level; the logger redacts secrets. */
static void sim_trace_body(struct sim_ctx *ctx, const char *event, struct json_object *body)
{
	if (!nsc_log_enabled(ctx->log, NSC_LOG_TRACE) || body == NULL)
		return;
	const char *text = json_object_to_json_string_ext(
		body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL)
		nsc_trace(ctx->log, SIM_COMP, "event=%s body=\"%s\"", event, text);
}

static struct json_object *sim_login_body(const char *username, const char *password)
{
	struct json_object *body = json_object_new_object();
	if (body == NULL)
		return NULL;
	struct json_object *u = json_object_new_string(username ? username : "");
	struct json_object *p = json_object_new_string(password ? password : "");
	if (u == NULL || p == NULL || json_object_object_add(body, "username", u) != 0) {
		json_object_put(u);
		json_object_put(p);
		json_object_put(body);
		return NULL;
	}
	if (json_object_object_add(body, "password", p) != 0) {
		json_object_put(p);
		json_object_put(body);
		return NULL;
	}
	return body;
}

static struct json_object *sim_string_body(const char *key, const char *value)
{
	struct json_object *body = json_object_new_object();
	struct json_object *v = json_object_new_string(value);
	if (body == NULL || v == NULL || json_object_object_add(body, key, v) != 0) {
		json_object_put(v);
		json_object_put(body);
		return NULL;
	}
	return body;
}

static void sim_authenticate(void *vctx, nsc_step_done_fn done, void *arg)
{
	struct sim_ctx *ctx = vctx;
	const char *user = ctx->cfg->simulator_username;
	const char *pass = ctx->cfg->simulator_password;

	if (!ctx->login_configured) {
		done(arg, NSC_OK, NULL);
		return;
	}

	struct json_object *req = sim_login_body(user, pass);
	if (req == NULL) {
		done(arg, NSC_ERR_NOMEM, "simulator: out of memory building the login request");
		return;
	}
	sim_trace_body(ctx, "login_request", req);
	json_object_put(req);

	if (!str_set(user) || !str_set(pass) || strcmp(pass, SIM_REJECT_PASSWORD) == 0) {
		struct json_object *resp = sim_string_body("error", "invalid credentials");
		sim_trace_body(ctx, "login_response", resp);
		json_object_put(resp);
		sim_forget_token(ctx);
		done(arg, NSC_ERR_REJECTED, SIM_REJECT_MSG);
		return;
	}

	ctx->logins++;
	uint64_t hi = nsc_sim_mix(ctx->seed ^ (uint64_t)NSC_SIM_TAG_TOKEN ^ (ctx->logins << 8));
	uint64_t lo = nsc_sim_mix(hi ^ ctx->logins);
	char token[SIM_TOKEN_HEX + 1];
	snprintf(token, sizeof(token), "%016" PRIx64 "%016" PRIx64, hi, lo);
	nsc_rc rc = nsc_secret_slot_keep(&ctx->token, token);
	nsc_secret_wipe(token, sizeof(token));
	if (rc != NSC_OK) {
		sim_forget_token(ctx);
		done(arg, NSC_ERR_NOMEM, "simulator: out of memory registering the session token");
		return;
	}

	struct json_object *resp = sim_string_body("sessionId", nsc_secret_slot_get(&ctx->token));
	sim_trace_body(ctx, "login_response", resp);
	json_object_put(resp);
	nsc_dbg(ctx->log, SIM_COMP, "event=login_ok");
	done(arg, NSC_OK, NULL);
}

static void sim_drop_session(void *vctx)
{
	struct sim_ctx *ctx = vctx;
	if (nsc_secret_slot_held(&ctx->token))
		nsc_dbg(ctx->log, SIM_COMP, "event=session_dropped");
	sim_forget_token(ctx);
}

/* ---- fetch: the "vendor" payload ------------------------------------- */

static struct json_object *sim_reading_record(uint64_t seed, int64_t slot, int64_t slot_ms)
{
	struct json_object *r = json_object_new_object();
	if (r == NULL)
		return NULL;
	int v = nsc_sim_glucose(seed, slot * slot_ms);
	int prev = nsc_sim_glucose(seed, slot * slot_ms - nsc_sim_delta_span_ms(slot_ms));
	if (nsc_json_add_int64(r, "t", slot * slot_ms) != 0 ||
	    nsc_json_add_int64(r, "mgdl", v) != 0 || nsc_json_add_int64(r, "delta", v - prev) != 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static struct json_object *sim_event_record(const struct nsc_sim_event *ev)
{
	struct json_object *r = json_object_new_object();
	if (r == NULL)
		return NULL;
	bool meal = ev->kind == NSC_SIM_MEAL;
	if (nsc_json_add_int64(r, "t", ev->t_ms) != 0 ||
	    nsc_json_add_string(r, "kind", meal ? "meal" : "correction") != 0 ||
	    (meal && nsc_json_add_int64(r, "carbs", ev->carbs) != 0) ||
	    nsc_json_add_double(r, "insulin", ev->insulin) != 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static struct json_object *sim_status_record(uint64_t seed, int64_t t)
{
	struct nsc_sim_pump p;
	struct json_object *r = json_object_new_object();
	if (r == NULL)
		return NULL;
	nsc_sim_pump_at(seed, t, &p);
	if (nsc_json_add_int64(r, "t", t) != 0 ||
	    nsc_json_add_int64(r, "uploaderBattery", p.uploader_percent) != 0 ||
	    nsc_json_add_int64(r, "pumpBattery", p.battery_percent) != 0 ||
	    nsc_json_add_double(r, "reservoir", p.reservoir) != 0 ||
	    nsc_json_add_double(r, "iob", p.iob) != 0 || nsc_json_add_bool(r, "bolusing", p.bolusing) != 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static struct json_object *sim_basal_record(const struct nsc_sim_therapy *th)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < th->n_basal; i++) {
		struct json_object *seg = json_object_new_object();
		if (seg == NULL || nsc_json_add_int64(seg, "minute", th->basal[i].minute) != 0 ||
		    nsc_json_add_double(seg, "rate", th->basal[i].value) != 0 ||
		    nsc_json_push(arr, seg) != 0) {
			json_object_put(seg);
			json_object_put(arr);
			arr = NULL;
		}
	}
	return arr;
}

static struct json_object *sim_profile_record(uint64_t seed)
{
	struct nsc_sim_therapy th;
	struct json_object *r = json_object_new_object();
	if (r == NULL)
		return NULL;
	nsc_sim_therapy(seed, &th);
	if (nsc_json_add_int64(r, "t", NSC_SIM_PROFILE_START_MS) != 0 ||
	    nsc_json_add_int64(r, "dia", NSC_SIM_DIA_HOURS) != 0 ||
	    nsc_json_add_int64(r, "carbRatio", th.carb_ratio) != 0 ||
	    nsc_json_add_int64(r, "sensitivity", th.sensitivity) != 0 ||
	    nsc_json_add_int64(r, "targetLow", NSC_SIM_TARGET_LOW) != 0 ||
	    nsc_json_add_int64(r, "targetHigh", NSC_SIM_TARGET_HIGH) != 0 ||
	    nsc_json_add_int64(r, "carbsPerHour", NSC_SIM_CARBS_PER_HOUR) != 0 ||
	    nsc_json_add_int64(r, "carbDelay", NSC_SIM_CARB_DELAY_MIN) != 0 ||
	    nsc_json_add_child(r, "basal", sim_basal_record(&th)) != 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

/* What a payload holds, for the fetch's log line. */
struct sim_counts {
	size_t readings, treatments;
	bool status, profile;
};

/* Readings and treatments of (from, to] into the payload's arrays; -1 when memory ran out. */
static int sim_add_history(uint64_t seed, int64_t slot_ms, int64_t from, int64_t to,
			   struct json_object *readings, struct json_object *treatments,
			   struct sim_counts *n)
{
	if (to <= from)
		return 0;
	int64_t first = nsc_sim_floor_div(from, slot_ms) + 1;
	int64_t last = nsc_sim_floor_div(to, slot_ms);
	for (int64_t s = first; s <= last; s++) {
		if (nsc_json_push(readings, sim_reading_record(seed, s, slot_ms)) != 0)
			return -1;
		n->readings++;
	}

	for (int64_t d = nsc_sim_floor_div(from, NSC_MS_PER_DAY); d <= nsc_sim_floor_div(to, NSC_MS_PER_DAY); d++) {
		struct nsc_sim_event ev[NSC_SIM_MAX_EVENTS_PER_DAY];
		size_t k = nsc_sim_day_events(seed, d, ev);
		for (size_t i = 0; i < k; i++) {
			if (ev[i].t_ms <= from || ev[i].t_ms > to)
				continue;
			if (nsc_json_push(treatments, sim_event_record(&ev[i])) != 0)
				return -1;
			n->treatments++;
		}
	}
	return 0;
}

/*
 * Builds the payload for (from, to] (from already capped by the lookback);
 * `w` says which status and profile the output still needs. NULL on
 * allocation failure.
 */
static struct json_object *sim_build_payload(uint64_t seed, int64_t slot_ms, int64_t from, int64_t to,
					     const struct nsc_fetch_window *w, struct sim_counts *n)
{
	struct json_object *root = json_object_new_object();
	struct json_object *readings = json_object_new_array();
	struct json_object *treatments = json_object_new_array();

	memset(n, 0, sizeof(*n));
	if (root == NULL || readings == NULL || treatments == NULL ||
	    sim_add_history(seed, slot_ms, from, to, readings, treatments, n) != 0) {
		json_object_put(readings);
		json_object_put(treatments);
		json_object_put(root);
		return NULL;
	}
	if (nsc_json_add_child(root, "readings", readings) != 0) {
		json_object_put(treatments);
		json_object_put(root);
		return NULL;
	}
	if (nsc_json_add_child(root, "treatments", treatments) != 0)
		goto fail;

	/* The newest reading: the last slot of (from, to]. */
	int64_t newest = nsc_sim_floor_div(to, slot_ms) * slot_ms;
	if (n->readings > 0 && nsc_sim_status_wanted(w, newest)) {
		if (nsc_json_add_child(root, "status", sim_status_record(seed, newest)) != 0)
			goto fail;
		n->status = true;
	}
	if (nsc_sim_profile_wanted(w, NSC_SIM_PROFILE_START_MS)) {
		if (nsc_json_add_child(root, "profile", sim_profile_record(seed)) != 0)
			goto fail;
		n->profile = true;
	}
	return root;

fail:
	json_object_put(root);
	return NULL;
}

static void sim_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		      nsc_step_done_fn done, void *arg)
{
	struct sim_ctx *ctx = vctx;

	if (ctx->login_configured && !nsc_secret_slot_held(&ctx->token)) {
		done(arg, NSC_ERR_AUTH, "simulator: no session; log in first");
		return;
	}

	int64_t lookback = ctx->cfg->lookback_ms > 0 ? ctx->cfg->lookback_ms : SIM_DEFAULT_LOOKBACK_MS;
	int64_t per_hour = NSC_MS_PER_HOUR / ctx->slot_ms;
	int64_t cap = per_hour * ((lookback + NSC_MS_PER_HOUR - 1) / NSC_MS_PER_HOUR);
	int64_t from = w->from_ms;
	int64_t to = w->to_ms;
	/* Never more readings than the lookback holds at this cadence, newest kept (a backfill page is sized already). */
	int64_t floor_from = (nsc_sim_floor_div(to, ctx->slot_ms) - cap) * ctx->slot_ms;
	if (from < floor_from && !w->history)
		from = floor_from;

	struct sim_counts n;
	struct json_object *root = sim_build_payload(ctx->seed, ctx->slot_ms, from, to, w, &n);
	if (root == NULL) {
		done(arg, NSC_ERR_NOMEM, "simulator: out of memory building the payload");
		return;
	}
	size_t len = 0;
	const char *text = json_object_to_json_string_length(root, NSC_JSON_WIRE, &len);
	char *copy = text ? malloc(len + 1) : NULL;
	if (copy == NULL) {
		json_object_put(root);
		done(arg, NSC_ERR_NOMEM, "simulator: out of memory building the payload");
		return;
	}
	memcpy(copy, text, len + 1);
	json_object_put(root);

	out->data = copy;
	out->len = len;
	nsc_dbg(ctx->log, SIM_COMP,
		"event=fetch from=%" PRId64 " to=%" PRId64 " readings=%zu treatments=%zu status=%d "
		"profile=%d bytes=%zu",
		from, to, n.readings, n.treatments, n.status ? 1 : 0, n.profile ? 1 : 0, len);
	done(arg, NSC_OK, NULL);
}

/* ---- transform: payload -> Nightscout documents ---------------------- */

/* One kind of record: its payload member, its converter and its collection. */
struct sim_kind {
	const char *member; /* "readings", "treatments", "status", "profile" */
	const char *what;   /* for messages */
	json_type shape;    /* array of records, or one record */
	nsc_sim_doc_fn fn;
	enum nsc_collection c;
};

static const struct sim_kind sim_kinds[] = {
	{ "readings", "reading", json_type_array, nsc_sim_entry_doc, NSC_COLL_ENTRIES },
	{ "treatments", "treatment", json_type_array, nsc_sim_treatment_doc, NSC_COLL_TREATMENTS },
	{ "status", "status", json_type_object, nsc_sim_status_doc, NSC_COLL_DEVICESTATUS },
	{ "profile", "profile", json_type_object, nsc_sim_profile_doc, NSC_COLL_PROFILE },
};
#define SIM_KINDS (sizeof(sim_kinds) / sizeof(sim_kinds[0]))

static nsc_rc sim_transform_record(struct sim_ctx *ctx, const struct sim_kind *k,
				   const struct nsc_sim_doc_ctx *dc, struct json_object *rec,
				   size_t index, struct nsc_batch *out, size_t *skipped,
				   struct nsc_error *err)
{
	struct json_object *doc = NULL;
	nsc_rc rc = k->fn(dc, rec, &doc);
	if (rc == NSC_ERR_NOMEM)
		return nsc_error_set(err, rc, "simulator: out of memory transforming %s", k->what);
	if (rc != NSC_OK) {
		(*skipped)++;
		nsc_warn(ctx->log, SIM_COMP,
			 "event=record_skipped kind=%s index=%zu msg=\"malformed %s record\"",
			 k->what, index, k->what);
		return NSC_OK;
	}
	if (doc == NULL)
		return NSC_OK; /* not asked for by the window */
	return nsc_kit_batch_add(out, k->c, doc, skipped, ctx->log, SIM_COMP, "simulator", err);
}

/* The payload's members, each of its kind's shape; NSC_ERR_DROP otherwise. */
static nsc_rc sim_members(struct json_object *root, struct json_object *member[SIM_KINDS],
			  struct nsc_error *err)
{
	struct json_object *v;

	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "readings", &v) || !json_object_is_type(v, json_type_array))
		return nsc_error_set(err, NSC_ERR_DROP,
				     "simulator payload has the wrong shape: expected an object with a \"readings\" array");
	for (size_t i = 0; i < SIM_KINDS; i++) {
		member[i] = NULL;
		if (!json_object_object_get_ex(root, sim_kinds[i].member, &member[i]))
			continue;
		if (!json_object_is_type(member[i], sim_kinds[i].shape))
			return nsc_error_set(err, NSC_ERR_DROP,
					     "simulator payload has the wrong shape: \"%s\" is not an %s",
					     sim_kinds[i].member,
					     sim_kinds[i].shape == json_type_array ? "array" : "object");
	}
	return NSC_OK;
}

static nsc_rc sim_transform(void *vctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			    struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct sim_ctx *ctx = vctx;
	struct json_object *root = NULL, *member[SIM_KINDS];
	const struct nsc_sim_doc_ctx dc = { .w = w, .slot_ms = ctx->slot_ms };
	nsc_rc rc;

	*skipped = 0;
	if (in == NULL || in->data == NULL || in->len == 0)
		return nsc_error_set(err, NSC_ERR_DROP, "simulator payload is empty");
	if (in->len > (size_t)INT32_MAX)
		return nsc_error_set(err, NSC_ERR_DROP, "simulator payload is too large (%zu bytes)",
				     in->len);

	char why[96];
	root = nsc_json_parse_why(in->data, in->len, why, sizeof(why));
	if (root == NULL) {
		if (strcmp(why, "out of memory") == 0)
			return nsc_error_set(err, NSC_ERR_NOMEM, "simulator: out of memory parsing the payload");
		return nsc_error_set(err, NSC_ERR_DROP, "simulator payload is not valid JSON: %s", why);
	}

	rc = sim_members(root, member, err);
	for (size_t i = 0; rc == NSC_OK && i < SIM_KINDS; i++) {
		const struct sim_kind *k = &sim_kinds[i];
		if (member[i] == NULL)
			continue;
		if (k->shape == json_type_object) {
			rc = sim_transform_record(ctx, k, &dc, member[i], 0, out, skipped, err);
			continue;
		}
		size_t n = json_object_array_length(member[i]);
		for (size_t j = 0; rc == NSC_OK && j < n; j++)
			rc = sim_transform_record(ctx, k, &dc, json_object_array_get_idx(member[i], j), j,
						  out, skipped, err);
	}
	json_object_put(root);
	if (rc == NSC_OK)
		nsc_dbg(ctx->log, SIM_COMP,
			"event=transform entries=%zu treatments=%zu devicestatus=%zu profile=%zu skipped=%zu",
			nsc_batch_count(out, NSC_COLL_ENTRIES), nsc_batch_count(out, NSC_COLL_TREATMENTS),
			nsc_batch_count(out, NSC_COLL_DEVICESTATUS), nsc_batch_count(out, NSC_COLL_PROFILE),
			*skipped);
	return rc;
}

/* The engine's timing follows the configured cadence. */
static void sim_tune_timing(void *vctx, struct nsc_source_timing *t)
{
	const struct sim_ctx *ctx = vctx;
	if (ctx->slot_ms != NSC_SIMULATOR_SLOT_MS)
		nsc_timing_set_interval(t, ctx->slot_ms);
}

const struct nsc_source_driver nsc_source_simulator = {
	.name = "simulator",
	.display_name = "Simulator",
	.timing = NSC_VENDOR_CGM_TIMING(50 * NSC_MS_PER_MINUTE, 60 * NSC_MS_PER_MINUTE),
	/* The model has every instant; a day a page (288 readings at 5 minutes). */
	.history = { .page_ms = 24 * NSC_MS_PER_HOUR },
	.create = sim_create,
	.destroy = sim_destroy,
	.tune_timing = sim_tune_timing,
	.authenticate = sim_authenticate,
	.authorize = NULL,
	.drop_session = sim_drop_session,
	.fetch = sim_fetch,
	.transform = sim_transform,
};
