/* SPDX-License-Identifier: MIT */
/*
 * Glooko records -> Nightscout documents (nsc_glooko_transform, glooko.h).
 *
 * Every document carries `identifier` derived from the record's guid
 * (uuidv5 in nsconnect's Glooko namespace of "<feed>:<guid>"), so a re-read
 * record, or one read again after the time zone was fixed, is the same
 * document; a record without a guid is named by feed, wall-clock time and
 * value. Treatments carry `created_at`, `utcOffset`, `enteredBy` "glooko".
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "jsonutil.h"
#include "sources/glooko/glooko.h"
#include "sources/kit/documents.h"
#include "timeutil.h"
#include "trend.h"

#define DEVICE "glooko"
#define COMP "glooko"

/* 16 bytes: the namespace of Glooko identifiers. */
static const unsigned char glooko_ns[16] = { 'n', 's', 'c', 'o', 'n', 'n', 'e', 'c',
					     't', '-', 'g', 'l', 'o', 'o', 'k', 'o' };

struct tx {
	const struct nsc_tz *tz;
	struct nsc_batch *out;
	size_t *skipped;
	struct nsc_error *err;
	struct nsc_glooko_fold_memo memo;
	struct json_object *food_carbs; /* food guid -> carbs, for boluses that name their food */
	struct json_object *eaten;      /* food guids a bolus took in */
	/* The newest bolus that reported insulin on board. */
	int64_t iob_ms;
	double iob;
	int iob_offset;
	char iob_guid[96];
};

/* One record's instant, from its clinical wall-clock field and its update time. */
struct when {
	int64_t utc_ms;
	int offset_min;
	char iso[NSC_ISO_BUF];
	const char *wall; /* as Glooko wrote it */
};

static bool record_when(struct tx *t, struct json_object *rec, enum nsc_glooko_kind k, struct when *w)
{
	const struct nsc_glooko_feed *f = nsc_glooko_feed(k);
	int64_t updated = 0;
	const char *up = nsc_json_get_string(rec, "updatedAt");
	if (up == NULL || nsc_time_parse_iso(up, &updated, NULL) != NSC_OK)
		updated = 0;
	w->wall = nsc_json_get_string(rec, f->time_key);
	return nsc_glooko_clinical_time(w->wall, updated, t->tz, k, &t->memo, &w->utc_ms, &w->offset_min) &&
	       nsc_time_format_iso(w->utc_ms, w->iso, sizeof(w->iso)) == NSC_OK;
}

/* The record's identifier: from its guid, else from its feed, wall-clock time and value. */
static nsc_rc identifier_of(struct json_object *rec, enum nsc_glooko_kind k, const struct when *w, double value,
			    char out[NSC_UUID_BUF])
{
	char name[256];
	const char *guid = nsc_json_get_string(rec, "guid");
	int n = guid && *guid ? snprintf(name, sizeof(name), "%s:%s", nsc_glooko_feed(k)->part, guid)
			      : snprintf(name, sizeof(name), "%s:%s:%g", nsc_glooko_feed(k)->part, w->wall, value);
	if (n < 0 || (size_t)n >= sizeof(name))
		return NSC_ERR_PARSE;
	return nsc_uuid_v5(glooko_ns, name, (size_t)n, out);
}

static bool soft_deleted(struct json_object *rec)
{
	bool gone = false;
	return nsc_json_get_bool(rec, "softDeleted", &gone) && gone;
}

/* A treatment's common fields; NULL when out of memory. */
static struct json_object *treatment(const char *event_type, const struct when *w, const char *id)
{
	struct json_object *d = json_object_new_object();
	if (d == NULL || nsc_json_add_string(d, "eventType", event_type) != 0 ||
	    nsc_json_add_string(d, "created_at", w->iso) != 0 || nsc_json_add_int64(d, "utcOffset", w->offset_min) != 0 ||
	    nsc_json_add_string(d, "enteredBy", DEVICE) != 0 || nsc_json_add_string(d, "identifier", id) != 0) {
		json_object_put(d);
		return NULL;
	}
	return d;
}

static nsc_rc add(struct tx *t, enum nsc_collection c, struct json_object *doc)
{
	if (doc == NULL)
		return nsc_error_set(t->err, NSC_ERR_NOMEM, "Glooko: out of memory building a document");
	return nsc_kit_batch_add(t->out, c, doc, t->skipped, NULL, COMP, "Glooko", t->err);
}

static nsc_rc skip(struct tx *t)
{
	(*t->skipped)++;
	return NSC_OK;
}

/* A number field, when present and a number; false otherwise. */
static bool number(struct json_object *rec, const char *key, double *out)
{
	return nsc_json_get_number(rec, key, out) && isfinite(*out);
}

/* Glooko's trend words -> Nightscout's; false when absent or unknown. */
static bool trend_of(struct json_object *rec, enum nsc_trend *out)
{
	static const struct {
		const char *word;
		enum nsc_trend trend;
	} words[] = {
		{ "DOUBLE_UP", NSC_TREND_DOUBLE_UP },       { "SINGLE_UP", NSC_TREND_SINGLE_UP },
		{ "FORTY_FIVE_UP", NSC_TREND_FORTY_FIVE_UP }, { "FLAT", NSC_TREND_FLAT },
		{ "FORTY_FIVE_DOWN", NSC_TREND_FORTY_FIVE_DOWN }, { "SINGLE_DOWN", NSC_TREND_SINGLE_DOWN },
		{ "DOUBLE_DOWN", NSC_TREND_DOUBLE_DOWN },
	};
	const char *w = nsc_json_get_string(rec, "trend");
	if (w == NULL)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(words[i].word, w) == 0) {
			*out = words[i].trend;
			return true;
		}
	}
	return nsc_trend_parse(w, out);
}

/* Glooko's v2 glucose values are mg/dL x 100. */
static bool mgdl_of(struct json_object *rec, int64_t *out)
{
	double v;
	if (!number(rec, "value", &v) || v < 1000 || v > 100000)
		return false;
	*out = (int64_t)llround(v / 100.0);
	return true;
}

static nsc_rc cgm(struct tx *t, struct json_object *rec, const struct when *w)
{
	int64_t mgdl;
	bool calculated = false;
	if (nsc_json_get_bool(rec, "calculated", &calculated) && calculated)
		return NSC_OK; /* Glooko's interpolation, not a reading */
	char id[NSC_UUID_BUF];
	if (!mgdl_of(rec, &mgdl) || identifier_of(rec, NSC_GLOOKO_CGM, w, (double)mgdl, id) != NSC_OK)
		return skip(t);
	struct nsc_sgv_reading r = { .sgv = mgdl, .date_ms = w->utc_ms, .device = DEVICE };
	r.has_trend = trend_of(rec, &r.trend);
	struct json_object *doc = NULL;
	nsc_rc rc = nsc_sgv_entry_new(&r, &doc);
	if (rc == NSC_ERR_PARSE)
		return skip(t);
	if (rc != NSC_OK || nsc_json_add_string(doc, "identifier", id) != 0 ||
	    nsc_json_add_int64(doc, "utcOffset", w->offset_min) != 0) {
		json_object_put(doc);
		return nsc_error_set(t->err, NSC_ERR_NOMEM, "Glooko: out of memory building an entry");
	}
	return add(t, NSC_COLL_ENTRIES, doc);
}

static nsc_rc meter(struct tx *t, struct json_object *rec, const struct when *w)
{
	int64_t mgdl;
	char id[NSC_UUID_BUF];
	if (!mgdl_of(rec, &mgdl) || identifier_of(rec, NSC_GLOOKO_METER, w, (double)mgdl, id) != NSC_OK)
		return skip(t);
	struct json_object *d = treatment("BG Check", w, id);
	if (d && (nsc_json_add_int64(d, "glucose", mgdl) != 0 || nsc_json_add_string(d, "glucoseType", "Finger") != 0 ||
		  nsc_json_add_string(d, "units", "mg/dl") != 0)) {
		json_object_put(d);
		d = NULL;
	}
	return add(t, NSC_COLL_TREATMENTS, d);
}

/* Carbs a bolus took in: its own input, else the food it names (that food is then not stored alone). */
static double bolus_carbs(struct tx *t, struct json_object *rec)
{
	double carbs = 0;
	if (number(rec, "carbsInput", &carbs) && carbs > 0)
		return carbs;
	const char *food = nsc_json_get_string(rec, "foodGuid");
	struct json_object *c;
	if (food && t->food_carbs && json_object_object_get_ex(t->food_carbs, food, &c)) {
		json_object_object_add(t->eaten, food, NULL);
		return json_object_get_double(c);
	}
	return 0;
}

static nsc_rc bolus(struct tx *t, struct json_object *rec, const struct when *w)
{
	double insulin = 0, iob;
	if (!number(rec, "insulinDelivered", &insulin) || insulin < 0 || insulin > 100)
		return skip(t);
	double carbs = bolus_carbs(t, rec);
	char id[NSC_UUID_BUF];
	if (identifier_of(rec, NSC_GLOOKO_BOLUS, w, insulin, id) != NSC_OK)
		return skip(t);
	const char *type = insulin > 0 && carbs > 0 ? "Meal Bolus" : insulin > 0 ? "Correction Bolus" : "Carb Correction";
	if (insulin <= 0 && carbs <= 0)
		return NSC_OK; /* nothing given, nothing eaten */
	struct json_object *d = treatment(type, w, id);
	if (d && ((insulin > 0 && nsc_json_add_double(d, "insulin", insulin) != 0) ||
		  (carbs > 0 && nsc_json_add_double(d, "carbs", carbs) != 0))) {
		json_object_put(d);
		d = NULL;
	}
	if (number(rec, "insulinOnBoard", &iob) && iob >= 0 && w->utc_ms > t->iob_ms) {
		t->iob_ms = w->utc_ms;
		t->iob = iob;
		t->iob_offset = w->offset_min;
		snprintf(t->iob_guid, sizeof(t->iob_guid), "%s", id);
	}
	return add(t, NSC_COLL_TREATMENTS, d);
}

static nsc_rc extended(struct tx *t, struct json_object *rec, const struct when *w)
{
	double now = 0, ext = 0, seconds = 0;
	(void)number(rec, "insulinDelivered", &now);
	if (!number(rec, "extendedInsulin", &ext) || !number(rec, "duration", &seconds) || ext < 0 || now < 0 ||
	    seconds <= 0 || now + ext <= 0 || now + ext > 100)
		return skip(t);
	char id[NSC_UUID_BUF];
	if (identifier_of(rec, NSC_GLOOKO_EXTENDED, w, now + ext, id) != NSC_OK)
		return skip(t);
	double total = now + ext, minutes = seconds / 60.0;
	struct json_object *d = treatment("Combo Bolus", w, id);
	if (d && (nsc_json_add_double(d, "insulin", now) != 0 || nsc_json_add_double(d, "enteredinsulin", total) != 0 ||
		  nsc_json_add_double(d, "relative", ext / (minutes / 60.0)) != 0 ||
		  nsc_json_add_double(d, "duration", minutes) != 0 ||
		  nsc_json_add_int64(d, "splitNow", (int64_t)llround(100.0 * now / total)) != 0 ||
		  nsc_json_add_int64(d, "splitExt", 100 - (int64_t)llround(100.0 * now / total)) != 0)) {
		json_object_put(d);
		d = NULL;
	}
	return add(t, NSC_COLL_TREATMENTS, d);
}

/* Scheduled, temporary and suspend basals: each a Temp Basal of its rate for its duration. */
static nsc_rc basal(struct tx *t, struct json_object *rec, const struct when *w, enum nsc_glooko_kind k)
{
	double rate = 0, seconds = 0, percent = 0;
	bool has_rate = k == NSC_GLOOKO_SUSPEND || number(rec, "rate", &rate);
	bool has_percent = !has_rate && number(rec, "percent", &percent);
	if (!number(rec, "duration", &seconds) || seconds <= 0 || (!has_rate && !has_percent) || rate < 0 || rate > 50)
		return skip(t);
	char id[NSC_UUID_BUF];
	if (identifier_of(rec, k, w, has_rate ? rate : percent, id) != NSC_OK)
		return skip(t);
	struct json_object *d = treatment("Temp Basal", w, id);
	bool ok = d != NULL && nsc_json_add_double(d, "duration", seconds / 60.0) == 0;
	if (ok && has_rate)
		ok = nsc_json_add_double(d, "rate", rate) == 0 && nsc_json_add_double(d, "absolute", rate) == 0;
	else if (ok)
		ok = nsc_json_add_double(d, "percent", percent - 100.0) == 0; /* Nightscout's is the change */
	if (ok && k == NSC_GLOOKO_SUSPEND)
		ok = nsc_json_add_string(d, "reason", "suspend") == 0;
	if (!ok) {
		json_object_put(d);
		d = NULL;
	}
	return add(t, NSC_COLL_TREATMENTS, d);
}

static nsc_rc food(struct tx *t, struct json_object *rec, const struct when *w)
{
	double carbs = 0;
	const char *guid = nsc_json_get_string(rec, "guid");
	if (guid && json_object_object_get_ex(t->eaten, guid, NULL))
		return NSC_OK; /* in its bolus already */
	if (!number(rec, "carbs", &carbs) && !number(rec, "carbohydrateGrams", &carbs))
		return skip(t);
	if (carbs <= 0 || carbs > 1000)
		return carbs == 0 ? NSC_OK : skip(t);
	char id[NSC_UUID_BUF];
	if (identifier_of(rec, NSC_GLOOKO_FOOD, w, carbs, id) != NSC_OK)
		return skip(t);
	struct json_object *d = treatment("Carb Correction", w, id);
	if (d && nsc_json_add_double(d, "carbs", carbs) != 0) {
		json_object_put(d);
		d = NULL;
	}
	return add(t, NSC_COLL_TREATMENTS, d);
}

static nsc_rc event(struct tx *t, struct json_object *rec, const struct when *w)
{
	static const struct {
		const char *glooko, *nightscout;
	} map[] = {
		{ "site_change", "Site Change" },        { "cannula_fill", "Site Change" },
		{ "reservoir_change", "Insulin Change" }, { "cartridge_change", "Insulin Change" },
		{ "cgm_sensor_start", "Sensor Start" },   { "sensor_start", "Sensor Start" },
		{ "battery_change", "Pump Battery Change" },
	};
	const char *type = nsc_json_get_string(rec, "type");
	if (type == NULL)
		return skip(t);
	const char *ns = NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && !ns; i++)
		if (strcmp(map[i].glooko, type) == 0)
			ns = map[i].nightscout;
	char id[NSC_UUID_BUF];
	if (identifier_of(rec, NSC_GLOOKO_EVENT, w, 0, id) != NSC_OK)
		return skip(t);
	struct json_object *d = treatment(ns ? ns : "Note", w, id);
	if (d && !ns) {
		char note[160];
		snprintf(note, sizeof(note), "Glooko pump event: %s", type);
		if (nsc_json_add_string(d, "notes", note) != 0) {
			json_object_put(d);
			d = NULL;
		}
	}
	return add(t, NSC_COLL_TREATMENTS, d);
}

/* An alarm is a Note, never an Announcement (that would alert every viewer of the site). */
static nsc_rc alarm(struct tx *t, struct json_object *rec, const struct when *w)
{
	const char *type = nsc_json_get_string(rec, "type"), *msg = nsc_json_get_string(rec, "message");
	char id[NSC_UUID_BUF], note[256];
	if ((type == NULL && msg == NULL) || identifier_of(rec, NSC_GLOOKO_ALARM, w, 0, id) != NSC_OK)
		return skip(t);
	snprintf(note, sizeof(note), "Glooko alarm: %s%s%s", type ? type : "", type && msg ? ": " : "", msg ? msg : "");
	struct json_object *d = treatment("Note", w, id);
	if (d && nsc_json_add_string(d, "notes", note) != 0) {
		json_object_put(d);
		d = NULL;
	}
	return add(t, NSC_COLL_TREATMENTS, d);
}

static nsc_rc record(struct tx *t, enum nsc_glooko_kind k, struct json_object *rec)
{
	struct when w;
	if (!json_object_is_type(rec, json_type_object))
		return skip(t);
	if (soft_deleted(rec))
		return NSC_OK; /* deleted at Glooko: never stored again */
	if (!record_when(t, rec, k, &w))
		return skip(t);
	switch (k) {
	case NSC_GLOOKO_CGM:
		return cgm(t, rec, &w);
	case NSC_GLOOKO_METER:
		return meter(t, rec, &w);
	case NSC_GLOOKO_BOLUS:
		return bolus(t, rec, &w);
	case NSC_GLOOKO_EXTENDED:
		return extended(t, rec, &w);
	case NSC_GLOOKO_BASAL:
	case NSC_GLOOKO_TEMP_BASAL:
	case NSC_GLOOKO_SUSPEND:
		return basal(t, rec, &w, k);
	case NSC_GLOOKO_FOOD:
		return food(t, rec, &w);
	case NSC_GLOOKO_EVENT:
		return event(t, rec, &w);
	case NSC_GLOOKO_ALARM:
		return alarm(t, rec, &w);
	case NSC_GLOOKO_KIND_COUNT:
		break;
	}
	return skip(t);
}

/* Calls fn on every record of part k's pages; a part that is not a list of lists is the payload's fault. */
static nsc_rc each_record(struct tx *t, struct json_object *root, enum nsc_glooko_kind k,
			  nsc_rc (*fn)(struct tx *, enum nsc_glooko_kind, struct json_object *))
{
	struct json_object *pages;
	if (!json_object_object_get_ex(root, nsc_glooko_feed(k)->part, &pages))
		return NSC_OK;
	if (!json_object_is_type(pages, json_type_array))
		return nsc_error_set(t->err, NSC_ERR_DROP, "Glooko: the %s part is not a list of pages",
				     nsc_glooko_feed(k)->part);
	for (size_t p = 0; p < json_object_array_length(pages); p++) {
		struct json_object *page = json_object_array_get_idx(pages, p);
		if (!json_object_is_type(page, json_type_array))
			return nsc_error_set(t->err, NSC_ERR_DROP, "Glooko: a %s page is not a list",
					     nsc_glooko_feed(k)->part);
		for (size_t i = 0; i < json_object_array_length(page); i++) {
			nsc_rc rc = fn(t, k, json_object_array_get_idx(page, i));
			if (rc != NSC_OK)
				return rc;
		}
	}
	return NSC_OK;
}

/* Notes each food's carbs by guid, for boluses that name theirs. */
static nsc_rc note_food(struct tx *t, enum nsc_glooko_kind k, struct json_object *rec)
{
	(void)k;
	double carbs;
	const char *guid = nsc_json_get_string(rec, "guid");
	if (guid && !soft_deleted(rec) && (number(rec, "carbs", &carbs) || number(rec, "carbohydrateGrams", &carbs)) &&
	    json_object_object_add(t->food_carbs, guid, json_object_new_double(carbs)) != 0)
		return nsc_error_set(t->err, NSC_ERR_NOMEM, "Glooko: out of memory");
	return NSC_OK;
}

/* The newest insulin on board a bolus reported, as the pump's status then. */
static nsc_rc add_iob(struct tx *t)
{
	if (t->iob_ms <= 0)
		return NSC_OK;
	char iso[NSC_ISO_BUF], id[NSC_UUID_BUF], name[128];
	int n = snprintf(name, sizeof(name), "iob:%s", t->iob_guid);
	if (nsc_time_format_iso(t->iob_ms, iso, sizeof(iso)) != NSC_OK || n < 0 || (size_t)n >= sizeof(name) ||
	    nsc_uuid_v5(glooko_ns, name, (size_t)n, id) != NSC_OK)
		return skip(t);
	struct json_object *d = json_object_new_object(), *pump = json_object_new_object(),
			   *iob = json_object_new_object();
	bool ok = d && pump && iob && nsc_json_add_double(iob, "iob", t->iob) == 0 &&
		  nsc_json_add_string(iob, "timestamp", iso) == 0 && nsc_json_add_child(pump, "iob", iob) == 0;
	iob = NULL;
	ok = ok && nsc_json_add_child(d, "pump", pump) == 0;
	pump = NULL;
	ok = ok && nsc_json_add_string(d, "device", DEVICE) == 0 && nsc_json_add_string(d, "created_at", iso) == 0 &&
	     nsc_json_add_int64(d, "utcOffset", t->iob_offset) == 0 && nsc_json_add_string(d, "identifier", id) == 0;
	json_object_put(iob);
	json_object_put(pump);
	if (!ok) {
		json_object_put(d);
		d = NULL;
	}
	return add(t, NSC_COLL_DEVICESTATUS, d);
}

nsc_rc nsc_glooko_transform(const char *payload, size_t len, const struct nsc_tz *tz, struct nsc_batch *out,
			    size_t *skipped, struct nsc_error *err)
{
	struct tx t;
	memset(&t, 0, sizeof(t));
	t.tz = tz;
	t.out = out;
	t.skipped = skipped;
	t.err = err;
	*skipped = 0;
	struct json_object *root = payload ? nsc_json_parse(payload, len) : NULL;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return nsc_error_set(err, NSC_ERR_DROP, "Glooko: the fetch's payload is not an object");
	}
	t.food_carbs = json_object_new_object();
	t.eaten = json_object_new_object();
	nsc_rc rc = t.food_carbs && t.eaten ? NSC_OK : nsc_error_set(err, NSC_ERR_NOMEM, "Glooko: out of memory");
	if (rc == NSC_OK)
		rc = each_record(&t, root, NSC_GLOOKO_FOOD, note_food);
	/* Boluses before foods: a food a bolus took in is stored with it, not alone. */
	static const enum nsc_glooko_kind order[] = {
		NSC_GLOOKO_CGM,   NSC_GLOOKO_METER,      NSC_GLOOKO_BOLUS,   NSC_GLOOKO_EXTENDED,
		NSC_GLOOKO_BASAL, NSC_GLOOKO_TEMP_BASAL, NSC_GLOOKO_SUSPEND, NSC_GLOOKO_FOOD,
		NSC_GLOOKO_EVENT, NSC_GLOOKO_ALARM,
	};
	for (size_t i = 0; rc == NSC_OK && i < sizeof(order) / sizeof(order[0]); i++)
		rc = each_record(&t, root, order[i], record);
	if (rc == NSC_OK)
		rc = add_iob(&t);
	json_object_put(t.food_carbs);
	json_object_put(t.eaten);
	json_object_put(root);
	return rc;
}
