/* SPDX-License-Identifier: MIT */
/* Vendor records -> Nightscout documents (see simulator_docs.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jsonutil.h"
#include "sources/kit/documents.h"
#include "sources/simulator/simulator.h"
#include "sources/simulator/simulator_docs.h"
#include "sources/simulator/simulator_model.h"
#include "timeutil.h"
#include "trend.h"

#define SIM_MAX_BASAL_SEGMENTS 48

bool nsc_sim_status_wanted(const struct nsc_fetch_window *w, int64_t t)
{
	return t > w->from_ms && t <= w->to_ms && (w->history || t > w->last_known.ms[NSC_COLL_DEVICESTATUS]);
}

bool nsc_sim_profile_wanted(const struct nsc_fetch_window *w, int64_t t)
{
	return t > w->last_known.ms[NSC_COLL_PROFILE];
}

/* rec["t"] as a positive time, formatted; false when missing or out of range. */
static bool record_time(struct json_object *rec, int64_t *t, char iso[NSC_ISO_BUF])
{
	return json_object_is_type(rec, json_type_object) && nsc_json_get_int64(rec, "t", t) &&
	       *t > 0 && nsc_time_format_iso(*t, iso, NSC_ISO_BUF) == NSC_OK;
}

/* rec[key] as a number in [lo, hi]. */
static bool number_in(struct json_object *rec, const char *key, double lo, double hi, double *out)
{
	return nsc_json_get_number(rec, key, out) && *out >= lo && *out <= hi;
}

static bool int_in(struct json_object *rec, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	return nsc_json_get_int64(rec, key, out) && *out >= lo && *out <= hi;
}

nsc_rc nsc_sim_entry_doc(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
			 struct json_object **doc_out)
{
	int64_t t, mgdl, delta = 0;
	struct json_object *dv;
	char iso[NSC_ISO_BUF];

	*doc_out = NULL;
	if (!record_time(rec, &t, iso) || !int_in(rec, "mgdl", NSC_SIMULATOR_MIN_MGDL,
						  NSC_SIMULATOR_MAX_MGDL, &mgdl))
		return NSC_ERR_PARSE;
	bool has_delta = json_object_object_get_ex(rec, "delta", &dv);
	if (has_delta && !nsc_json_get_int64(rec, "delta", &delta))
		return NSC_ERR_PARSE;
	if (t <= c->w->from_ms || t > c->w->to_ms)
		return NSC_OK; /* outside the window: not ours to store */

	double minutes = (double)nsc_sim_delta_span_ms(c->slot_ms) / (double)NSC_MS_PER_MINUTE;
	struct nsc_sgv_reading r = {
		.sgv = mgdl, .date_ms = t, .has_trend = true, .device = NSC_SIMULATOR_DEVICE,
		.trend = has_delta ? nsc_trend_from_rate((double)delta / minutes) : NSC_TREND_NOT_COMPUTABLE,
	};
	return nsc_sgv_entry_new(&r, doc_out);
}

nsc_rc nsc_sim_treatment_doc(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
			     struct json_object **doc_out)
{
	int64_t t, carbs = 0;
	double insulin;
	const char *event_type;
	char iso[NSC_ISO_BUF];

	*doc_out = NULL;
	const char *kind = nsc_json_get_string(rec, "kind");
	if (!record_time(rec, &t, iso) || kind == NULL ||
	    !nsc_json_get_number(rec, "insulin", &insulin) || insulin <= 0.0 || insulin > 100.0)
		return NSC_ERR_PARSE;
	if (strcmp(kind, "meal") == 0) {
		if (!int_in(rec, "carbs", 1, 1000, &carbs))
			return NSC_ERR_PARSE;
		event_type = "Meal Bolus";
	} else if (strcmp(kind, "correction") == 0) {
		event_type = "Correction Bolus";
	} else {
		return NSC_ERR_PARSE;
	}
	if (t <= c->w->from_ms || t > c->w->to_ms)
		return NSC_OK;

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

/* A new object {key: v}; v is freed when that fails (NULL for a NULL v). */
static struct json_object *object_with(const char *key, struct json_object *v)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		json_object_put(v);
		return NULL;
	}
	if (nsc_json_add_child(o, key, v) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* pump.iob, the iob plugin's fields: all of it is bolus insulin. */
static struct json_object *pump_iob(double iob, const char *iso)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL || nsc_json_add_double(o, "iob", iob) != 0 ||
	    nsc_json_add_double(o, "bolusiob", iob) != 0 || nsc_json_add_string(o, "timestamp", iso) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* pump.status, as the pump plugin reads it. */
static struct json_object *pump_status(bool bolusing, const char *iso)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL || nsc_json_add_string(o, "status", bolusing ? "bolusing" : "normal") != 0 ||
	    nsc_json_add_bool(o, "bolusing", bolusing) != 0 ||
	    nsc_json_add_bool(o, "suspended", false) != 0 ||
	    nsc_json_add_string(o, "timestamp", iso) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

nsc_rc nsc_sim_status_doc(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
			  struct json_object **doc_out)
{
	int64_t t, uploader, battery;
	double reservoir, iob;
	bool bolusing;
	char iso[NSC_ISO_BUF];

	*doc_out = NULL;
	if (!record_time(rec, &t, iso) || !int_in(rec, "uploaderBattery", 0, 100, &uploader) ||
	    !int_in(rec, "pumpBattery", 0, 100, &battery) ||
	    !number_in(rec, "reservoir", 0.0, 1000.0, &reservoir) ||
	    !number_in(rec, "iob", 0.0, 100.0, &iob) || !nsc_json_get_bool(rec, "bolusing", &bolusing))
		return NSC_ERR_PARSE;
	if (!nsc_sim_status_wanted(c->w, t))
		return NSC_OK;

	struct json_object *doc = json_object_new_object();
	struct json_object *pump = json_object_new_object();
	if (doc == NULL || pump == NULL || nsc_json_add_string(pump, "clock", iso) != 0 ||
	    nsc_json_add_child(pump, "battery", object_with("percent", json_object_new_int64(battery))) != 0 ||
	    nsc_json_add_double(pump, "reservoir", reservoir) != 0 ||
	    nsc_json_add_child(pump, "iob", pump_iob(iob, iso)) != 0 ||
	    nsc_json_add_child(pump, "status", pump_status(bolusing, iso)) != 0 ||
	    nsc_json_add_string(doc, "device", NSC_SIMULATOR_DEVICE) != 0 ||
	    nsc_json_add_string(doc, "created_at", iso) != 0 ||
	    nsc_json_add_child(doc, "uploader", object_with("battery", json_object_new_int64(uploader))) != 0) {
		json_object_put(pump);
		json_object_put(doc);
		return NSC_ERR_NOMEM;
	}
	if (nsc_json_add_child(doc, "pump", pump) != 0) {
		json_object_put(doc);
		return NSC_ERR_NOMEM;
	}
	*doc_out = doc;
	return NSC_OK;
}

/* A number as JavaScript writes it: an integer when it has no fraction. */
static struct json_object *js_number(double v)
{
	if (v >= -1e15 && v <= 1e15 && v == (double)(int64_t)v)
		return json_object_new_int64((int64_t)v);
	return nsc_json_new_double(v);
}

/* One entry of a profile schedule: {time: "HH:MM", timeAsSeconds, value}. */
static struct json_object *schedule_item(int minute, double value)
{
	char hhmm[24];
	struct json_object *o = json_object_new_object();

	snprintf(hhmm, sizeof(hhmm), "%02d:%02d", minute / 60, minute % 60);
	if (o == NULL || nsc_json_add_string(o, "time", hhmm) != 0 ||
	    nsc_json_add_int64(o, "timeAsSeconds", (int64_t)minute * 60) != 0 ||
	    nsc_json_add_child(o, "value", js_number(value)) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* A schedule with one value all day. */
static struct json_object *flat_schedule(double value)
{
	struct json_object *arr = json_object_new_array();
	if (arr != NULL && nsc_json_push(arr, schedule_item(0, value)) != 0) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

/*
 * The record's basal schedule as profile entries: 1..48 segments, the
 * first at minute 0, minutes ascending, rates in 0..35 U/h. NSC_ERR_PARSE
 * for a malformed schedule.
 */
static nsc_rc basal_schedule(struct json_object *rec, struct json_object **out)
{
	struct json_object *in;
	size_t n;
	int64_t prev = -1;

	*out = NULL;
	if (!json_object_object_get_ex(rec, "basal", &in) || !json_object_is_type(in, json_type_array) ||
	    (n = json_object_array_length(in)) == 0 || n > SIM_MAX_BASAL_SEGMENTS)
		return NSC_ERR_PARSE;
	struct json_object *arr = json_object_new_array();
	if (arr == NULL)
		return NSC_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *seg = json_object_array_get_idx(in, i);
		int64_t minute;
		double rate;
		if (!json_object_is_type(seg, json_type_object) ||
		    !int_in(seg, "minute", i == 0 ? 0 : prev + 1, i == 0 ? 0 : 1439, &minute) ||
		    !number_in(seg, "rate", 0.0, 35.0, &rate)) {
			json_object_put(arr);
			return NSC_ERR_PARSE;
		}
		if (nsc_json_push(arr, schedule_item((int)minute, rate)) != 0) {
			json_object_put(arr);
			return NSC_ERR_NOMEM;
		}
		prev = minute;
	}
	*out = arr;
	return NSC_OK;
}

struct sim_therapy_rec {
	double dia, carb_ratio, sensitivity, low, high, carbs_hr, delay;
};

static bool therapy_record(struct json_object *rec, struct sim_therapy_rec *r)
{
	return number_in(rec, "dia", 1.0, 24.0, &r->dia) &&
	       number_in(rec, "carbRatio", 1.0, 200.0, &r->carb_ratio) &&
	       number_in(rec, "sensitivity", 1.0, 1000.0, &r->sensitivity) &&
	       number_in(rec, "targetLow", NSC_SIMULATOR_MIN_MGDL, NSC_SIMULATOR_MAX_MGDL, &r->low) &&
	       number_in(rec, "targetHigh", r->low, NSC_SIMULATOR_MAX_MGDL, &r->high) &&
	       number_in(rec, "carbsPerHour", 1.0, 200.0, &r->carbs_hr) &&
	       number_in(rec, "carbDelay", 0.0, 240.0, &r->delay);
}

/* store.<name>: the settings, in the profile editor's field names; basal is consumed. */
static struct json_object *profile_settings(const struct sim_therapy_rec *r, struct json_object *basal)
{
	struct json_object *s = json_object_new_object();
	if (s == NULL) {
		json_object_put(basal);
		return NULL;
	}
	if (nsc_json_add_child(s, "dia", js_number(r->dia)) != 0 ||
	    nsc_json_add_child(s, "carbs_hr", js_number(r->carbs_hr)) != 0 ||
	    nsc_json_add_child(s, "delay", js_number(r->delay)) != 0 ||
	    nsc_json_add_string(s, "timezone", "UTC") != 0 ||
	    nsc_json_add_string(s, "units", "mg/dl") != 0 ||
	    nsc_json_add_child(s, "carbratio", flat_schedule(r->carb_ratio)) != 0 ||
	    nsc_json_add_child(s, "sens", flat_schedule(r->sensitivity)) != 0) {
		json_object_put(basal);
		json_object_put(s);
		return NULL;
	}
	if (nsc_json_add_child(s, "basal", basal) != 0 ||
	    nsc_json_add_child(s, "target_low", flat_schedule(r->low)) != 0 ||
	    nsc_json_add_child(s, "target_high", flat_schedule(r->high)) != 0) {
		json_object_put(s);
		return NULL;
	}
	return s;
}

nsc_rc nsc_sim_profile_doc(const struct nsc_sim_doc_ctx *c, struct json_object *rec,
			   struct json_object **doc_out)
{
	struct sim_therapy_rec r;
	struct json_object *basal;
	int64_t t;
	char iso[NSC_ISO_BUF];

	*doc_out = NULL;
	if (!record_time(rec, &t, iso) || !therapy_record(rec, &r))
		return NSC_ERR_PARSE;
	nsc_rc rc = basal_schedule(rec, &basal);
	if (rc != NSC_OK)
		return rc;
	if (!nsc_sim_profile_wanted(c->w, t)) {
		json_object_put(basal);
		return NSC_OK;
	}

	struct json_object *doc = json_object_new_object();
	struct json_object *store = object_with(NSC_SIM_PROFILE_NAME, profile_settings(&r, basal));
	if (doc == NULL || store == NULL ||
	    nsc_json_add_string(doc, "defaultProfile", NSC_SIM_PROFILE_NAME) != 0) {
		json_object_put(store); /* not yet part of doc */
		json_object_put(doc);
		return NSC_ERR_NOMEM;
	}
	if (nsc_json_add_child(doc, "store", store) != 0 ||
	    nsc_json_add_string(doc, "startDate", iso) != 0 || nsc_json_add_int64(doc, "mills", t) != 0 ||
	    nsc_json_add_string(doc, "units", "mg/dl") != 0 ||
	    nsc_json_add_string(doc, "created_at", iso) != 0) {
		json_object_put(doc);
		return NSC_ERR_NOMEM;
	}
	*doc_out = doc;
	return NSC_OK;
}
