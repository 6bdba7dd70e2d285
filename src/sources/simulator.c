/* SPDX-License-Identifier: MIT */
/*
 * The `simulator` source: a deterministic glucose curve (base, daily rhythm,
 * three meals a day with their boluses, occasional corrections, small
 * noise), all derived from the seed and the 5-minute slot through
 * splitmix64, so the same time always gives the same reading. It behaves
 * like a vendor: an optional login that hands out a session token, a fetch
 * that returns a raw "vendor" JSON payload, and a transform that turns that
 * payload into Nightscout documents.
 *
 * Vendor payload shape:
 *   {"readings":  [{"t": <ms>, "mgdl": <int>, "delta": <change over 5 min or one cadence>}, ...],
 *    "treatments":[{"t": <ms>, "kind": "meal", "carbs": <int>, "insulin": <num>},
 *                  {"t": <ms>, "kind": "correction", "insulin": <num>}, ...]}
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "sources/simulator.h"
#include "timeutil.h"
#include "trend.h"

#define SIM_COMP "simulator"

#define SIM_DEFAULT_LOOKBACK_MS (48 * NSC_MS_PER_HOUR)

#define SIM_TOKEN_HEX 32
#define SIM_REJECT_MSG \
	"Simulator rejected the login: check CONNECT_SIMULATOR_USERNAME and CONNECT_SIMULATOR_PASSWORD"
#define SIM_REJECT_PASSWORD "wrong-password"

/* Hash domains, so each random choice draws from its own stream. */
enum sim_tag {
	SIM_TAG_MEAL_SHIFT = 1,
	SIM_TAG_CARBS,
	SIM_TAG_BASE,
	SIM_TAG_CORRECTION_DAY,
	SIM_TAG_ICR,
	SIM_TAG_CORRECTION_UNITS,
	SIM_TAG_CORRECTION_DELAY,
	SIM_TAG_RHYTHM,
	SIM_TAG_NOISE,
	SIM_TAG_TOKEN,
};

/* The model's constants (mg/dL, grams, units, minutes). */
#define SIM_BASE_MIN 110
#define SIM_BASE_SPREAD 21          /* base in 110..130 */
#define SIM_RHYTHM_AMPLITUDE 12.0   /* slow daily swing, peak near dawn */
#define SIM_RHYTHM_PEAK_MIN 300     /* 05:00 UTC ... */
#define SIM_RHYTHM_PEAK_SPREAD 120  /* ... to 07:00 UTC */
#define SIM_CARB_EFFECT 1.6         /* peak rise per gram */
#define SIM_CARB_TAU 55.0           /* minutes to the carb peak */
#define SIM_INSULIN_TAU 120.0       /* minutes to the insulin peak */
#define SIM_ICR_MIN 10              /* grams per unit, 10..14 by seed */
#define SIM_ICR_SPREAD 5
#define SIM_MEAL_SHIFT_MIN 30       /* meals move up to ±30 min */
#define SIM_NOISE_SPREAD 5          /* noise in -2..+2 */
#define SIM_MEALS_PER_DAY 3
#define SIM_MAX_EVENTS_PER_DAY (SIM_MEALS_PER_DAY + 1)
#define SIM_PI 3.14159265358979323846
/* Instants beyond ±2^60 ms (±36 million years) are clamped: no overflow anywhere. */
#define SIM_MAX_ABS_SLOT ((INT64_C(1) << 60) / NSC_SIMULATOR_SLOT_MS)

struct sim_meal_plan {
	int minute;   /* nominal UTC minute of the day */
	int carbs_lo; /* grams, multiples of 5 */
	int carbs_hi;
};

static const struct sim_meal_plan sim_meals[SIM_MEALS_PER_DAY] = {
	{ 7 * 60 + 30, 30, 60 },  /* breakfast */
	{ 12 * 60 + 30, 40, 75 }, /* lunch */
	{ 18 * 60 + 30, 45, 80 }, /* dinner */
};

enum sim_event_kind {
	SIM_EVENT_MEAL,
	SIM_EVENT_CORRECTION,
};

struct sim_event {
	enum sim_event_kind kind;
	int64_t t_ms;
	int carbs;
	double insulin;
};

struct sim_ctx {
	const struct nsc_config *cfg;
	struct nsc_log *log;
	uint64_t seed;
	uint64_t logins;         /* per-instance counter for session tokens */
	bool login_configured;
	bool has_session;
	char token[SIM_TOKEN_HEX + 1];
	int64_t slot_ms;         /* reading cadence, CONNECT_SIMULATOR_INTERVAL */
};

/* ---- the model ------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static uint64_t sim_hash(uint64_t seed, enum sim_tag tag, int64_t n)
{
	return splitmix64(splitmix64(seed ^ (uint64_t)tag) ^ (uint64_t)n);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int sim_icr(uint64_t seed)
{
	return SIM_ICR_MIN + (int)(sim_hash(seed, SIM_TAG_ICR, 0) % SIM_ICR_SPREAD);
}

/* Peak drop (mg/dL) per unit, chosen so a well-dosed meal nets out to zero. */
static double sim_insulin_effect(uint64_t seed)
{
	return sim_icr(seed) * SIM_CARB_EFFECT * SIM_CARB_TAU / SIM_INSULIN_TAU;
}

static double round_half_units(double u)
{
	double r = round(u * 2.0) / 2.0;
	return r < 0.5 ? 0.5 : r;
}

/*
 * The meals and corrections of UTC day `day`, in time order. On a
 * correction day the dinner is under-dosed and a correction follows.
 */
static size_t sim_day_events(uint64_t seed, int64_t day, struct sim_event ev[SIM_MAX_EVENTS_PER_DAY])
{
	int icr = sim_icr(seed);
	bool correction = sim_hash(seed, SIM_TAG_CORRECTION_DAY, day) % 3 == 0;
	size_t n = 0;

	for (int i = 0; i < SIM_MEALS_PER_DAY; i++) {
		const struct sim_meal_plan *p = &sim_meals[i];
		int64_t k = day * 4 + i;
		int shift = (int)(sim_hash(seed, SIM_TAG_MEAL_SHIFT, k) % (2 * SIM_MEAL_SHIFT_MIN + 1)) -
			    SIM_MEAL_SHIFT_MIN;
		int steps = (p->carbs_hi - p->carbs_lo) / 5 + 1;
		int carbs = p->carbs_lo + 5 * (int)(sim_hash(seed, SIM_TAG_CARBS, k) % (uint64_t)steps);

		ev[n].kind = SIM_EVENT_MEAL;
		ev[n].t_ms = day * NSC_MS_PER_DAY + (int64_t)(p->minute + shift) * NSC_MS_PER_MINUTE;
		ev[n].carbs = carbs;
		ev[n].insulin = round_half_units((double)carbs / icr);
		n++;
	}
	if (correction) {
		struct sim_event *dinner = &ev[n - 1];
		double units = 1.0 + 0.5 * (double)(sim_hash(seed, SIM_TAG_CORRECTION_UNITS, day) % 4);
		int delay = 150 + (int)(sim_hash(seed, SIM_TAG_CORRECTION_DELAY, day) % 31);

		dinner->insulin = round_half_units(dinner->insulin - units);
		ev[n].kind = SIM_EVENT_CORRECTION;
		ev[n].t_ms = dinner->t_ms + (int64_t)delay * NSC_MS_PER_MINUTE;
		ev[n].carbs = 0;
		ev[n].insulin = units;
		n++;
	}
	return n;
}

/* Gamma-shaped response (shape 2): 0 at x = 0, peak 1 at x = tau, then decays. */
static double sim_response(double x_min, double tau)
{
	if (x_min <= 0.0)
		return 0.0;
	double u = x_min / tau;
	return u * u * exp(2.0 * (1.0 - u));
}

/* Noise of 5-minute slot `slot`, in -2..+2 mg/dL. */
static double sim_noise(uint64_t seed, int64_t slot)
{
	return (double)(int)(sim_hash(seed, SIM_TAG_NOISE, slot) % SIM_NOISE_SPREAD) - (SIM_NOISE_SPREAD / 2);
}

/*
 * Glucose at instant ts. The noise is drawn per 5-minute slot and blended
 * linearly in between, so a faster cadence (CONNECT_SIMULATOR_INTERVAL)
 * sees a smooth curve, and the 5-minute grid sees exactly the drawn values.
 */
static int sim_glucose_ms(uint64_t seed, int64_t ts)
{
	const int64_t max_ts = SIM_MAX_ABS_SLOT * NSC_SIMULATOR_SLOT_MS;
	if (ts > max_ts)
		ts = max_ts;
	if (ts < -max_ts)
		ts = -max_ts;
	int64_t day = floor_div(ts, NSC_MS_PER_DAY);
	double minute_of_day = (double)(ts - day * NSC_MS_PER_DAY) / (double)NSC_MS_PER_MINUTE;
	double peak = SIM_RHYTHM_PEAK_MIN + (double)(sim_hash(seed, SIM_TAG_RHYTHM, 0) % SIM_RHYTHM_PEAK_SPREAD);
	double isf = sim_insulin_effect(seed);
	double v = SIM_BASE_MIN + (double)(sim_hash(seed, SIM_TAG_BASE, 0) % SIM_BASE_SPREAD);

	v += SIM_RHYTHM_AMPLITUDE * cos(2.0 * SIM_PI * (minute_of_day - peak) / 1440.0);

	/* Effects last a few hours: yesterday's evening still counts. */
	for (int64_t d = day - 1; d <= day; d++) {
		struct sim_event ev[SIM_MAX_EVENTS_PER_DAY];
		size_t n = sim_day_events(seed, d, ev);
		for (size_t i = 0; i < n; i++) {
			double x = (double)(ts - ev[i].t_ms) / (double)NSC_MS_PER_MINUTE;
			if (x <= 0.0)
				continue;
			v += ev[i].carbs * SIM_CARB_EFFECT * sim_response(x, SIM_CARB_TAU);
			v -= ev[i].insulin * isf * sim_response(x, SIM_INSULIN_TAU);
		}
	}

	int64_t slot = floor_div(ts, NSC_SIMULATOR_SLOT_MS);
	double frac = (double)(ts - slot * NSC_SIMULATOR_SLOT_MS) / (double)NSC_SIMULATOR_SLOT_MS;
	v += sim_noise(seed, slot) * (1.0 - frac) + (frac > 0.0 ? sim_noise(seed, slot + 1) * frac : 0.0);

	long r = lround(v);
	if (r < NSC_SIMULATOR_MIN_MGDL)
		r = NSC_SIMULATOR_MIN_MGDL;
	if (r > NSC_SIMULATOR_MAX_MGDL)
		r = NSC_SIMULATOR_MAX_MGDL;
	return (int)r;
}

int nsc_simulator_glucose_at(uint64_t seed, int64_t t_ms)
{
	int64_t slot = floor_div(t_ms, NSC_SIMULATOR_SLOT_MS);
	/* Clamp before multiplying: the slot of INT64_MIN times 5 minutes overflows. */
	if (slot > SIM_MAX_ABS_SLOT)
		slot = SIM_MAX_ABS_SLOT;
	if (slot < -SIM_MAX_ABS_SLOT)
		slot = -SIM_MAX_ABS_SLOT;
	return sim_glucose_ms(seed, slot * NSC_SIMULATOR_SLOT_MS);
}

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

static void sim_forget_token(struct sim_ctx *ctx)
{
	/* A dead token can no longer appear in output; keep the secret list short. */
	if (ctx->token[0] != '\0')
		nsc_log_remove_secret(ctx->log, ctx->token);
	memset(ctx->token, 0, sizeof(ctx->token));
	ctx->has_session = false;
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
		nsc_trace(ctx->log, SIM_COMP, "event=%s body=%s", event, text);
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
	uint64_t hi = splitmix64(ctx->seed ^ (uint64_t)SIM_TAG_TOKEN ^ (ctx->logins << 8));
	uint64_t lo = splitmix64(hi ^ ctx->logins);
	snprintf(ctx->token, sizeof(ctx->token), "%016" PRIx64 "%016" PRIx64, hi, lo);

	if (ctx->log != NULL && nsc_log_add_secret(ctx->log, ctx->token) != NSC_OK) {
		sim_forget_token(ctx);
		done(arg, NSC_ERR_NOMEM, "simulator: out of memory registering the session token");
		return;
	}
	ctx->has_session = true;

	struct json_object *resp = sim_string_body("sessionId", ctx->token);
	sim_trace_body(ctx, "login_response", resp);
	json_object_put(resp);
	nsc_dbg(ctx->log, SIM_COMP, "event=login_ok");
	done(arg, NSC_OK, NULL);
}

static void sim_drop_session(void *vctx)
{
	struct sim_ctx *ctx = vctx;
	if (ctx->has_session)
		nsc_dbg(ctx->log, SIM_COMP, "event=session_dropped");
	sim_forget_token(ctx);
}

/* ---- fetch: the "vendor" payload ------------------------------------- */





/*
 * `delta` spans one cadence, but never less than 5 minutes: at a fast test
 * cadence a one-step difference of 1 mg/dL would read as a steep arrow.
 */
static int64_t sim_delta_span_ms(int64_t slot_ms)
{
	return slot_ms > NSC_SIMULATOR_SLOT_MS ? slot_ms : NSC_SIMULATOR_SLOT_MS;
}

static struct json_object *sim_reading_record(uint64_t seed, int64_t slot, int64_t slot_ms)
{
	struct json_object *r = json_object_new_object();
	if (r == NULL)
		return NULL;
	int v = sim_glucose_ms(seed, slot * slot_ms);
	int prev = sim_glucose_ms(seed, slot * slot_ms - sim_delta_span_ms(slot_ms));
	if (nsc_json_add_int64(r, "t", slot * slot_ms) != 0 ||
	    nsc_json_add_int64(r, "mgdl", v) != 0 || nsc_json_add_int64(r, "delta", v - prev) != 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static struct json_object *sim_event_record(const struct sim_event *ev)
{
	struct json_object *r = json_object_new_object();
	if (r == NULL)
		return NULL;
	bool meal = ev->kind == SIM_EVENT_MEAL;
	if (nsc_json_add_int64(r, "t", ev->t_ms) != 0 ||
	    nsc_json_add_string(r, "kind", meal ? "meal" : "correction") != 0 ||
	    (meal && nsc_json_add_int64(r, "carbs", ev->carbs) != 0) ||
	    nsc_json_add_double(r, "insulin", ev->insulin) != 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

/* Builds the payload object for (from, to]; NULL on allocation failure. */
static struct json_object *sim_build_payload(uint64_t seed, int64_t slot_ms, int64_t from, int64_t to,
					     size_t *n_readings, size_t *n_treatments)
{
	struct json_object *root = json_object_new_object();
	struct json_object *readings = json_object_new_array();
	struct json_object *treatments = json_object_new_array();
	struct json_object *r_arr = readings, *t_arr = treatments;

	*n_readings = 0;
	*n_treatments = 0;
	if (root == NULL || readings == NULL || treatments == NULL)
		goto fail;
	if (json_object_object_add(root, "readings", readings) != 0)
		goto fail;
	readings = NULL; /* owned by root now */
	if (json_object_object_add(root, "treatments", treatments) != 0)
		goto fail;
	treatments = NULL;

	if (to <= from)
		return root;

	int64_t first = floor_div(from, slot_ms) + 1;
	int64_t last = floor_div(to, slot_ms);
	for (int64_t s = first; s <= last; s++) {
		if (nsc_json_push(r_arr, sim_reading_record(seed, s, slot_ms)) != 0)
			goto fail;
		(*n_readings)++;
	}

	for (int64_t d = floor_div(from, NSC_MS_PER_DAY); d <= floor_div(to, NSC_MS_PER_DAY); d++) {
		struct sim_event ev[SIM_MAX_EVENTS_PER_DAY];
		size_t n = sim_day_events(seed, d, ev);
		for (size_t i = 0; i < n; i++) {
			if (ev[i].t_ms <= from || ev[i].t_ms > to)
				continue;
			if (nsc_json_push(t_arr, sim_event_record(&ev[i])) != 0)
				goto fail;
			(*n_treatments)++;
		}
	}
	return root;

fail:
	json_object_put(readings);
	json_object_put(treatments);
	json_object_put(root);
	return NULL;
}

static void sim_fetch(void *vctx, const struct nsc_fetch_window *w, struct nsc_payload *out,
		      nsc_step_done_fn done, void *arg)
{
	struct sim_ctx *ctx = vctx;

	if (ctx->login_configured && !ctx->has_session) {
		done(arg, NSC_ERR_AUTH, "simulator: no session; log in first");
		return;
	}

	int64_t lookback = ctx->cfg->lookback_ms > 0 ? ctx->cfg->lookback_ms : SIM_DEFAULT_LOOKBACK_MS;
	int64_t per_hour = NSC_MS_PER_HOUR / ctx->slot_ms;
	int64_t cap = per_hour * ((lookback + NSC_MS_PER_HOUR - 1) / NSC_MS_PER_HOUR);
	int64_t from = w->from_ms;
	int64_t to = w->to_ms;
	/* Never more readings than the lookback holds at this cadence, newest kept. */
	int64_t floor_from = (floor_div(to, ctx->slot_ms) - cap) * ctx->slot_ms;
	if (from < floor_from)
		from = floor_from;

	size_t n_readings, n_treatments;
	struct json_object *root = sim_build_payload(ctx->seed, ctx->slot_ms, from, to, &n_readings, &n_treatments);
	if (root == NULL) {
		done(arg, NSC_ERR_NOMEM, "simulator: out of memory building the payload");
		return;
	}
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
		root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
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
		"event=fetch from=%" PRId64 " to=%" PRId64 " readings=%zu treatments=%zu bytes=%zu",
		from, to, n_readings, n_treatments, len);
	done(arg, NSC_OK, NULL);
}

/* ---- transform: payload -> Nightscout documents ---------------------- */



/* Adds `doc` (ownership moves); PARSE-class rejections count as skipped. */
static nsc_rc sim_add(struct sim_ctx *ctx, struct nsc_batch *out, enum nsc_collection c,
		      struct json_object *doc, size_t *skipped, struct nsc_error *err)
{
	struct nsc_error add_err = { 0 };
	nsc_rc rc = nsc_batch_add(out, c, doc, &add_err);
	if (rc == NSC_OK)
		return NSC_OK;
	if (nsc_rc_verdict(rc) == NSC_VERDICT_DROP) {
		(*skipped)++;
		nsc_warn(ctx->log, SIM_COMP, "event=record_skipped msg=\"%s\"", add_err.msg);
		return NSC_OK;
	}
	return nsc_error_set(err, rc, "simulator: %s", add_err.msg);
}

/* One reading -> entry. Returns NSC_ERR_PARSE for a malformed record. */
static nsc_rc sim_entry(const struct sim_ctx *ctx, struct json_object *rec,
			const struct nsc_fetch_window *w, struct json_object **doc_out)
{
	int64_t t, mgdl, delta = 0;
	struct json_object *dv;

	*doc_out = NULL;
	if (!json_object_is_type(rec, json_type_object) || !nsc_json_get_int64(rec, "t", &t) ||
	    !nsc_json_get_int64(rec, "mgdl", &mgdl) || t <= 0 || mgdl < NSC_SIMULATOR_MIN_MGDL ||
	    mgdl > NSC_SIMULATOR_MAX_MGDL)
		return NSC_ERR_PARSE;
	bool has_delta = json_object_object_get_ex(rec, "delta", &dv);
	if (has_delta && !nsc_json_get_int64(rec, "delta", &delta))
		return NSC_ERR_PARSE;
	if (t <= w->from_ms || t > w->to_ms)
		return NSC_OK; /* outside the window: not ours to store */

	char iso[NSC_ISO_BUF];
	if (nsc_time_format_iso(t, iso, sizeof(iso)) != NSC_OK)
		return NSC_ERR_PARSE;

	double minutes = (double)sim_delta_span_ms(ctx->slot_ms) / (double)NSC_MS_PER_MINUTE;
	enum nsc_trend trend = has_delta ? nsc_trend_from_rate((double)delta / minutes)
					 : NSC_TREND_NOT_COMPUTABLE;
	struct json_object *doc = json_object_new_object();
	if (doc == NULL)
		return NSC_ERR_NOMEM;
	if (nsc_json_add_string(doc, "type", "sgv") != 0 || nsc_json_add_int64(doc, "sgv", mgdl) != 0 ||
	    nsc_json_add_int64(doc, "date", t) != 0 || nsc_json_add_string(doc, "dateString", iso) != 0 ||
	    nsc_json_add_string(doc, "direction", nsc_trend_direction(trend)) != 0 ||
	    nsc_json_add_int64(doc, "trend", (int64_t)trend) != 0 ||
	    nsc_json_add_string(doc, "device", NSC_SIMULATOR_DEVICE) != 0) {
		json_object_put(doc);
		return NSC_ERR_NOMEM;
	}
	*doc_out = doc;
	return NSC_OK;
}

/* One treatment record -> treatment. Returns NSC_ERR_PARSE for a malformed record. */
static nsc_rc sim_treatment(const struct sim_ctx *ctx, struct json_object *rec,
			    const struct nsc_fetch_window *w, struct json_object **doc_out)
{
	int64_t t, carbs = 0;
	double insulin;
	struct json_object *kv;
	const char *event_type;

	*doc_out = NULL;
	if (!json_object_is_type(rec, json_type_object) || !nsc_json_get_int64(rec, "t", &t) || t <= 0 ||
	    !json_object_object_get_ex(rec, "kind", &kv) || !json_object_is_type(kv, json_type_string) ||
	    !nsc_json_get_number(rec, "insulin", &insulin) || insulin <= 0.0 || insulin > 100.0)
		return NSC_ERR_PARSE;
	const char *kind = json_object_get_string(kv);
	if (strcmp(kind, "meal") == 0) {
		if (!nsc_json_get_int64(rec, "carbs", &carbs) || carbs <= 0 || carbs > 1000)
			return NSC_ERR_PARSE;
		event_type = "Meal Bolus";
	} else if (strcmp(kind, "correction") == 0) {
		event_type = "Correction Bolus";
	} else {
		return NSC_ERR_PARSE;
	}
	if (t <= w->from_ms || t > w->to_ms)
		return NSC_OK;

	char iso[NSC_ISO_BUF];
	if (nsc_time_format_iso(t, iso, sizeof(iso)) != NSC_OK)
		return NSC_ERR_PARSE;

	struct json_object *doc = json_object_new_object();
	if (doc == NULL)
		return NSC_ERR_NOMEM;
	if (nsc_json_add_string(doc, "eventType", event_type) != 0 ||
	    nsc_json_add_string(doc, "created_at", iso) != 0 ||
	    (carbs > 0 && nsc_json_add_int64(doc, "carbs", carbs) != 0) ||
	    nsc_json_add_double(doc, "insulin", insulin) != 0 ||
	    nsc_json_add_string(doc, "enteredBy", NSC_SIMULATOR_DEVICE) != 0 ||
	    nsc_json_add_string(doc, "device", NSC_SIMULATOR_DEVICE) != 0) {
		json_object_put(doc);
		return NSC_ERR_NOMEM;
	}
	*doc_out = doc;
	return NSC_OK;
}

typedef nsc_rc (*sim_record_fn)(const struct sim_ctx *ctx, struct json_object *rec,
				const struct nsc_fetch_window *w, struct json_object **doc_out);

static nsc_rc sim_transform_array(struct sim_ctx *ctx, struct json_object *arr, const char *what,
				  sim_record_fn fn, enum nsc_collection c,
				  const struct nsc_fetch_window *w, struct nsc_batch *out,
				  size_t *skipped, struct nsc_error *err)
{
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *doc = NULL;
		nsc_rc rc = fn(ctx, json_object_array_get_idx(arr, i), w, &doc);
		if (rc == NSC_ERR_NOMEM)
			return nsc_error_set(err, rc, "simulator: out of memory transforming %s", what);
		if (rc != NSC_OK) {
			(*skipped)++;
			nsc_warn(ctx->log, SIM_COMP,
				 "event=record_skipped kind=%s index=%zu msg=\"malformed %s record\"",
				 what, i, what);
			continue;
		}
		if (doc == NULL)
			continue; /* outside the window */
		rc = sim_add(ctx, out, c, doc, skipped, err);
		if (rc != NSC_OK)
			return rc;
	}
	return NSC_OK;
}

static nsc_rc sim_transform(void *vctx, const struct nsc_payload *in, const struct nsc_fetch_window *w,
			    struct nsc_batch *out, size_t *skipped, struct nsc_error *err)
{
	struct sim_ctx *ctx = vctx;
	struct json_object *root = NULL, *readings, *treatments = NULL;
	nsc_rc rc;

	*skipped = 0;
	if (in == NULL || in->data == NULL || in->len == 0)
		return nsc_error_set(err, NSC_ERR_DROP, "simulator payload is empty");
	if (in->len > (size_t)INT32_MAX)
		return nsc_error_set(err, NSC_ERR_DROP, "simulator payload is too large (%zu bytes)",
				     in->len);

	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		return nsc_error_set(err, NSC_ERR_NOMEM, "simulator: out of memory parsing the payload");
	root = json_tokener_parse_ex(tok, in->data, (int)in->len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL || jerr != json_tokener_success) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP, "simulator payload is not valid JSON: %s",
				     jerr == json_tokener_continue ? "unexpected end of input"
								   : json_tokener_error_desc(jerr));
	}
	while (end < in->len && strchr(" \t\r\n", in->data[end]) != NULL)
		end++;
	if (end < in->len) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP,
				     "simulator payload is not valid JSON: trailing data at byte %zu", end);
	}

	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "readings", &readings) ||
	    !json_object_is_type(readings, json_type_array)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP,
				     "simulator payload has the wrong shape: expected an object with a \"readings\" array");
	}
	if (json_object_object_get_ex(root, "treatments", &treatments) &&
	    !json_object_is_type(treatments, json_type_array)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP,
				     "simulator payload has the wrong shape: \"treatments\" is not an array");
	}

	rc = sim_transform_array(ctx, readings, "reading", sim_entry, NSC_COLL_ENTRIES, w, out,
				 skipped, err);
	if (rc == NSC_OK && treatments != NULL)
		rc = sim_transform_array(ctx, treatments, "treatment", sim_treatment,
					 NSC_COLL_TREATMENTS, w, out, skipped, err);
	json_object_put(root);
	if (rc == NSC_OK)
		nsc_dbg(ctx->log, SIM_COMP, "event=transform entries=%zu treatments=%zu skipped=%zu",
			nsc_batch_count(out, NSC_COLL_ENTRIES),
			nsc_batch_count(out, NSC_COLL_TREATMENTS), *skipped);
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
	.timing = {
		.expected_interval_ms = 5 * NSC_MS_PER_MINUTE,
		.align_buffer_ms = 18 * NSC_MS_PER_SECOND,
		.align_jitter_ms = 18 * NSC_MS_PER_SECOND,
		.session_refresh_ms = 50 * NSC_MS_PER_MINUTE,
		.session_expire_ms = 60 * NSC_MS_PER_MINUTE,
		.max_retries = 2,
		.retry_base_ms = 30 * NSC_MS_PER_SECOND,
	},
	.create = sim_create,
	.destroy = sim_destroy,
	.tune_timing = sim_tune_timing,
	.authenticate = sim_authenticate,
	.authorize = NULL,
	.drop_session = sim_drop_session,
	.fetch = sim_fetch,
	.transform = sim_transform,
};
